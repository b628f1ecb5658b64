#!/usr/bin/env bash
# The architecture, checked from the source: which part may include which (issue 11's picture).
#   apps → {config, farm, store, fit, plot};  farm → {toy, probe, store, config};
#   toy and probe know neither MPI nor HDF5;  fit, plot and report read sweep files through store;
#   no HDF5 call outside lib/store;  no CLI11, getenv or process exit code in lib/.
# Prints one line per rule and "N passed, M failed"; exit 1 when a rule is broken.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
passed=0 failed=0
rule() {  # rule "what" <offending lines...>
  local what=$1; shift
  if [ -z "$*" ]; then
    echo "ok: $what"; passed=$((passed + 1))
  else
    echo "BROKEN: $what"; printf '  %s\n' "$@"; failed=$((failed + 1))
  fi
}
# Library sources without their tests (tests may use anything).
lib_sources() { find lib/"$1" -name '*.[ch]pp' -not -path '*/tests/*' 2>/dev/null | sort; }
hits() {  # hits PATTERN FILES... → "file:line: text" lines
  local pattern=$1; shift
  [ $# -eq 0 ] && return 0
  grep -nE "$pattern" "$@" 2>/dev/null | grep -vE '^[^:]+:[0-9]+:\s*//' || true
}
mapfile -t LIB < <(find lib -name '*.[ch]pp' -not -path '*/tests/*' | sort)
mapfile -t TOY_PROBE < <(lib_sources toy; lib_sources probe)
mapfile -t OUTSIDE_STORE < <(find lib apps -name '*.[ch]pp' -not -path 'lib/store/*' -not -path '*/tests/*' | sort)

mapfile -t l < <(hits '#include\s*[<"](mpi\.h|hdf5\.h|H5[A-Za-z]*\.h)|#include\s*"(farm|store)/' "${TOY_PROBE[@]}")
rule "toy and probe include neither MPI, HDF5, farm nor store headers" "${l[@]}"
# Link level: the libraries of toy and probe link neither store, MPI nor HDF5 (their tests may).
mapfile -t l < <(grep -nE 'target_link_libraries\((ds_toy|ds_probe[a-z_]*|ds_tokenizer)\b' \
                   lib/toy/CMakeLists.txt lib/probe/CMakeLists.txt |
                 grep -E 'ds_store|ds_farm|MPI|hdf5|HDF5' || true)
rule "ds_toy and the probe libraries link neither store, MPI nor HDF5" "${l[@]}"
mapfile -t l < <(hits '\bH5[A-Z][a-z]*[A-Za-z_]*\s*\(|#include\s*<hdf5' "${OUTSIDE_STORE[@]}")
rule "no HDF5 call or include outside lib/store" "${l[@]}"
mapfile -t l < <(hits 'CLI/CLI\.hpp|\bCLI::' "${LIB[@]}")
rule "no CLI11 in lib/" "${l[@]}"
mapfile -t l < <(hits '\b(std::)?(getenv|secure_getenv)\s*\(' "${LIB[@]}")
rule "no getenv in lib/ (apps reads the environment)" "${l[@]}"
mapfile -t l < <(hits '\b(std::)?exit\s*\(|\bkUsage\b|\bkSomeFailed\b|\bExitCode\b' "${LIB[@]}")
rule "no process exit codes in lib/ (apps maps outcomes and errors to them)" "${l[@]}"
for part in fit plot report; do
  mapfile -t l < <(hits '#include\s*"(farm|toy|probe)/' $(lib_sources $part))
  rule "$part reads results through store only (no farm, toy or probe include)" "${l[@]}"
done
mapfile -t l < <(hits '#include\s*"(fit|plot)/|#include\s*<CLI' $(lib_sources farm))
rule "farm depends on toy, probe, store and config only" "${l[@]}"
mapfile -t l < <(for f in "${LIB[@]}"; do
  [ "$f" = lib/error/error.hpp ] && continue  # the base itself
  grep -qE '^\s*(class|struct) +[A-Za-z]*Error\b[^;]*$' "$f" || continue
  grep -nE '^\s*(class|struct) +[A-Za-z]*Error\b' "$f" | grep -vE ':\s*public\s+(depthscale::)?(Error|InputError|[A-Za-z:]*Error)\b' \
    | sed "s|^|$f:|"
done)
rule "every library exception derives from depthscale::Error" "${l[@]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
