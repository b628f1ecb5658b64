#!/usr/bin/env bash
# The OpenBLAS core type for this CPU and the one OpenBLAS picks by itself.
#   scripts/blas_core.sh          prints "wanted=<core> detected=<core>" (detected empty when the
#                                 system BLAS is not OpenBLAS); exit 0
#   scripts/blas_core.sh --check  the same, and a warning with the fix when they disagree
# Debian's OpenBLAS (DYNAMIC_ARCH) picks its kernels from the CPU model when it loads; on virtual
# machines with a CPU model it does not know it falls back to generic SSE3 kernels ("Prescott"),
# several times slower on a CPU with AVX2 or AVX-512. OPENBLAS_CORETYPE overrides the choice.
set -euo pipefail
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
vendor=$(grep -m1 '^vendor_id' /proc/cpuinfo 2>/dev/null | awk '{print $3}' || true)
wanted=""
if [[ " $flags " == *" avx512f "* ]]; then
  wanted=SkylakeX
elif [[ " $flags " == *" avx2 "* && " $flags " == *" fma "* ]]; then
  [ "$vendor" = AuthenticAMD ] && wanted=Zen || wanted=Haswell
fi
# Load the system libblas.so.3 alone, without any override, and read which core it reports.
detected=$(env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2 /usr/bin/python3 -c \
  'import ctypes; ctypes.CDLL("libblas.so.3")' 2>&1 | awk '/^Core:/{print $2}' || true)
echo "wanted=$wanted detected=$detected"
if [ "${1:-}" = --check ] && [ -n "$wanted" ] && [ -n "$detected" ]; then
  case "$detected" in
    SkylakeX | CooperLake | SapphireRapids) ok=1 ;;
    Haswell | Zen | Excavator) [ "$wanted" = SkylakeX ] && ok=0 || ok=1 ;;
    *) ok=0 ;;
  esac
  if [ "$ok" = 0 ]; then
    echo "warning: OpenBLAS runs its $detected kernels on this CPU, which has $([ "$wanted" = SkylakeX ] && echo AVX-512 || echo AVX2):"
    echo "  BLAS matmuls (probes, LibTorch) run several times slower. Fix: add"
    echo "    export OPENBLAS_CORETYPE=$wanted"
    echo "  to your shell profile (and to sbatch scripts); depthscale warns at startup until then."
  fi
fi
