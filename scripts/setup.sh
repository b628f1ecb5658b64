#!/usr/bin/env bash
# Installs whatever is missing on Debian 12 (apt-get) and builds depthscale into build/.
# Used by scripts/quickstart.sh and scripts/test.sh; safe to run again (it only does what's missing).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake git pkg-config clang-format
  libtorch-dev libopenblas0-openmp          # LibTorch 1.13 (CPU) + a fast BLAS with OpenMP threads
  libopenmpi-dev openmpi-bin                # MPI
  libhdf5-dev hdf5-tools                    # sweep files
  libyaml-cpp-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  libceres-dev                              # least squares with covariance (fits)
  libpcre2-dev libutf8proc-dev              # tokenizer: Unicode regexes, NFC
  gnuplot-nox                               # figures
  libgtest-dev                              # tests
  python3-torch python3-h5py python3-numpy  # independent reference for the tests
  slurmctld slurmd munge                    # the local SLURM cluster of the tests
)
# The tokenizer test cross-checks against Hugging Face's JavaScript tokenizer (npm, at test time);
# a node that already brings its own npm (e.g. NodeSource's) is left alone.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's LibTorch calls whatever libblas.so.3 the system selects: make it OpenBLAS (OpenMP build),
# not the reference BLAS (about 17x slower on the toy model's shapes).
arch_dir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  target="$arch_dir/openblas-openmp/$lib"
  name="$lib-$(basename "$arch_dir")"
  if [ -e "$target" ] && update-alternatives --query "$name" >/dev/null 2>&1; then
    current=$(update-alternatives --query "$name" | awk '/^Value:/{print $2}')
    if [ "$current" != "$target" ]; then
      [ "$(id -u)" -eq 0 ] && update-alternatives --set "$name" "$target" ||
        echo "setup: warning: $name is $current; select $target for speed"
    fi
  fi
done

jobs=${DEPTHSCALE_BUILD_JOBS:-$(nproc)}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${DEPTHSCALE_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "$jobs"

# Which kernels OpenBLAS runs here: on a CPU model it does not know (some virtual machines) it
# falls back to generic ones; this prints the fix when it does.
scripts/blas_core.sh --check | sed 's/^/setup: /' || true
