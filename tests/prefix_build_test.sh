#!/usr/bin/env bash
# depthscale configures, builds and runs as a user without root, against dependencies found ONLY
# through CMAKE_PREFIX_PATH, as on a cluster with a conda env or a Spack view (docs/building.md).
#
# The prefix stands in for the conda/Spack one: per-file symlinks of Debian's own -dev packages
# (/usr/X -> PREFIX/X), the packages' *.cmake/*.pc files and the h5cc wrapper rewritten to point
# into PREFIX (as a conda prefix's own are), mpicc/mpiexec/pkg-config/gnuplot/python3 in PREFIX/bin.
# CMake is then told to search nothing else (no system paths, no PATH, /usr, /usr/local and /
# ignored), so a hard-coded /usr path in our CMake files fails: either a find fails, or the check
# below finds the /usr path in the cache, the compile flags or the link line.
#
# Cheap on purpose (CI runs it on 2 cores): configures the whole project (tests on, so GTest is
# found too) and checks every target's compile and link lines, then builds at -O0 one executable
# per dependency and runs them (about 3.5 CPU-minutes). PREFIX_BUILD_FULL=1 builds and runs the
# `depthscale` binary instead (every dependency in one link, about 9 CPU-minutes).
#
#   tests/prefix_build_test.sh SOURCE_DIR
#
# Root (CI): the build runs as nobody (setpriv), on a copy of the tracked files in a fresh /tmp
# folder, since the checkout may live where nobody cannot read (/root). Not root: as yourself.
# Exit 77 (skip) without dpkg, setpriv (as root), CMake >= 3.21 or one of the Debian packages.
# PREFIX_BUILD_KEEP=1 keeps the work folder (printed) for a look after a failure.
set -euo pipefail

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)

# The Debian packages the prefix is made of: what setup.sh installs for the build, and the -dev
# packages their CMake configs, pkg-config files and h5cc link line pull in.
packages=(
  libtorch-dev libgflags-dev libgoogle-glog-dev libunwind-dev libprotobuf-dev
  libopenmpi-dev openmpi-bin openmpi-common
  libhdf5-dev hdf5-helpers libaec-dev zlib1g-dev libssl-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libceres-dev libeigen3-dev libsuitesparse-dev libatlas-base-dev
  libgtest-dev libpcre2-dev libutf8proc-dev
)

# ---------------------------------------------------------------------------------------------
# Stage 2, as the unprivileged user, in WORK: make the prefix, configure, check, build, run.
if [ "${1:-}" = --as-user ]; then
  work=$2
  src=$work/src P=$work/prefix build=$work/src/build-prefix
  cd "$work"
  echo "prefix_build: as $(id -un 2>/dev/null || id -u) (uid $(id -u)), prefix $P"

  # -- the prefix: per-file symlinks (directories are real, so CMake sees PREFIX paths, not /usr)
  mkdir -p root
  curl_dev=$(dpkg-query -S "/usr/lib/$arch/libcurl.so" | cut -d: -f1)  # openssl or gnutls flavour
  # ... and the libraries they are for (the configs name libfoo.so.1.2.3, not only libfoo.so), as a
  # conda prefix holds them too: their direct lib* dependencies, bar libc and the JavaScript ones.
  runtime=()
  while IFS= read -r d; do
    dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" && runtime+=("$d")
  done < <(dpkg-query -W -f='${Depends}\n' "${packages[@]}" "$curl_dev" | tr ',' '\n' |
             sed -E 's/\|.*//; s/\(.*\)//; s/:any//; s/ //g' | grep -E '^lib' |
             grep -vE -- '-dev$|^libc6$|^libjs-' | sort -u)
  dpkg -L "${packages[@]}" "$curl_dev" "${runtime[@]}" | grep -E '^/usr/' |
    grep -vE '^/usr/(share/(doc|doc-base|man|info|lintian|bug|locale)|src)(/|$)' | sort -u |
    while IFS= read -r f; do [ -d "$f" ] || [ ! -e "$f" ] || printf '%s\n' "$f"; done |
    (cd root && xargs -r -d '\n' cp -s --parents -t . --)
  mv root/usr "$P" && rmdir root
  # What Debian selects with update-alternatives (no package lists it): the BLAS/LAPACK links (conda's
  # libblas/liblapack packages have the same), and the generic names of the MPI wrappers.
  for lib in libblas.so libblas.so.3 liblapack.so liblapack.so.3; do
    [ -e "/usr/lib/$arch/$lib" ] && ln -sf "/usr/lib/$arch/$lib" "$P/lib/$arch/$lib"
  done
  for tool in mpicc mpicxx mpiexec mpirun gnuplot pkg-config; do
    t=$(PATH=/usr/bin:/bin command -v "$tool" || true)
    [ -n "$t" ] && ln -sf "$(readlink -f "$t")" "$P/bin/$tool"
  done
  # The test-time reference python (conda: the env's python with pytorch, h5py, numpy).
  if /usr/bin/python3 -c 'import torch, h5py, numpy' 2>/dev/null; then
    ln -sf /usr/bin/python3 "$P/bin/python3"
  fi
  # Config files with /usr in them become copies that say PREFIX instead (`prefix=/usr`, absolute
  # library paths in CeresTargets.cmake, ATEN_INCLUDE_DIR, h5cc's prefix=...).
  find "$P" -type l \( -name '*.cmake' -o -name '*.pc' -o -path "$P/bin/h5cc" \) -print0 |
    while IFS= read -r -d '' f; do
      if grep -q '/usr' "$f"; then
        sed -E "s#/usr/#$P/#g; s#\"/usr\"#\"$P\"#g; s#=/usr\$#=$P#" "$f" >"$f.new"
        chmod --reference="$f" "$f.new" && mv -f "$f.new" "$f"
      fi
    done
  echo "prefix_build: prefix of $(find "$P" -type l | wc -l) links from $((${#packages[@]} + 1 + ${#runtime[@]})) packages"

  # -- the environment an activated conda env gives: its bin first, its pkg-config files only.
  export PATH=$P/bin:/usr/bin:/bin HOME=$work/home
  export PKG_CONFIG_LIBDIR=$P/lib/$arch/pkgconfig:$P/share/pkgconfig
  export OPAL_PREFIX=$P  # Open MPI's wrappers report paths under their (relocated) prefix
  mkdir -p "$HOME"

  # -- configure with the `prefix` preset; nothing but CMAKE_PREFIX_PATH is searched.
  cd "$src"
  sys_off=(
    -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF -DCMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH=OFF
    "-DCMAKE_SYSTEM_IGNORE_PREFIX_PATH=/usr;/usr/local;/" "-DCMAKE_IGNORE_PREFIX_PATH=/usr;/usr/local;/"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  )
  # The compilers come from outside the prefix, as a cluster's compiler module does. -O0: the
  # test proves finding and linking, not speed.
  t0=$SECONDS
  DEPTHSCALE_PREFIX=$P cmake --preset prefix -G "Unix Makefiles" "${sys_off[@]}" \
    -DCMAKE_C_COMPILER=/usr/bin/gcc -DCMAKE_CXX_COMPILER=/usr/bin/g++ -DCMAKE_MAKE_PROGRAM=/usr/bin/make \
    -DCMAKE_C_FLAGS_RELEASE=-O0 -DCMAKE_CXX_FLAGS_RELEASE=-O0 \
    -DDEPTHSCALE_TESTS=ON -DDEPTHSCALE_BENCH=OFF >"$work/configure.log" 2>&1 ||
    { tail -40 "$work/configure.log"; fail "configure against the prefix only"; }
  echo "prefix_build: configured in $((SECONDS - t0)) s"
  cache=$build/CMakeCache.txt

  # -- every package config came from the prefix
  bad=()
  for pkg in Torch Caffe2 yaml-cpp spdlog fmt CLI11 nlohmann_json Ceres glog gflags Eigen3 GTest; do
    dir=$(sed -n "s/^${pkg}_DIR:[A-Z]*=//p" "$cache")
    case $dir in "$P"/*) echo "ok: ${pkg}_DIR=$dir" ;; *) bad+=("${pkg}_DIR=${dir:-<unset>}") ;; esac
  done
  # ... and so did everything else found: any cache path outside PREFIX, bar the toolchain (CMAKE_*,
  # the compiler's OpenMP runtime), is a system path that crept in. DEPTHSCALE_PYTHON and the
  # DEPTHSCALE_SYSTEM_BLAS linked first must be the prefix's too.
  while IFS= read -r line; do
    name=${line%%:*} value=${line#*=}
    IFS=';' read -r -a items <<<"$value"
    for item in "${items[@]}"; do
      item=${item#-I} item=${item#-L} item=${item#-isystem }
      case $item in "$P"/* | "$P") ;; /*) bad+=("$name=$item") ;; esac
    done
  done < <(grep -E '^[A-Za-z][^:]*:(FILEPATH|PATH|STRING|INTERNAL)=.*/' "$cache" |
             grep -vE '^(CMAKE_|OpenMP_)' || true)
  checked=(DEPTHSCALE_SYSTEM_BLAS MPI_C_HEADER_DIR MPIEXEC_EXECUTABLE PKG_CONFIG_EXECUTABLE
           TORCH_LIBRARY)
  [ -e "$P/bin/python3" ] && checked+=(DEPTHSCALE_PYTHON)  # none without python3-torch here
  for var in "${checked[@]}"; do
    v=$(sed -n "s/^${var}:[A-Z]*=//p" "$cache")
    case $v in "$P"/*) echo "ok: $var=$v" ;; *) bad+=("$var=${v:-<unset>}") ;; esac
  done
  # ... and no compile or link line of the project names /usr/{include,lib,share,local}, bar the
  # compiler's own OpenMP runtime that FindOpenMP found (libgomp, libpthread).
  mapfile -t toolchain < <(sed -n 's/^OpenMP_[A-Za-z0-9_]*_LIBRARY:FILEPATH=//p' "$cache")
  while IFS= read -r line; do
    path=/usr/${line#*/usr/}
    [[ " ${toolchain[*]} " == *" $path "* ]] || bad+=("${line#"$build"/}")
  done < <(find "$build" \( -name flags.make -o -name link.txt \) -print0 |
             xargs -0 grep -HoE '(^|[ ;"=])(-I|-isystem |-L|-Wl,-rpath,)?/usr/(include|lib|share|local)[^ ;"]*' |
             sort -u || true)
  if ((${#bad[@]})); then
    printf '  outside the prefix: %s\n' "${bad[@]}" | sort -u
    fail "configured against paths outside CMAKE_PREFIX_PATH ($P)"
  fi
  echo "ok: no cache entry, compile flag or link line outside the prefix"

  # -- build, then run what was built. Every binary must find its libraries.
  runs_clean() {  # runs_clean NAME LOG CMD...: run CMD, show LOG's tail and fail if it fails
    local name=$1 log=$2; shift 2
    "$@" >"$log" 2>&1 || { tail -20 "$log"; fail "$name"; }
    echo "ok: $name"
  }
  libs_found() {
    local missing
    missing=$(ldd "$1" | grep 'not found' || true)
    [ -z "$missing" ] || fail "$(basename "$1")'s libraries not found at run time: $missing"
  }
  t0=$SECONDS
  jobs=${PREFIX_BUILD_JOBS:-2}
  if [ -n "${PREFIX_BUILD_FULL:-}" ]; then
    # The shipped binary: every dependency linked into one executable (about 9 CPU-minutes).
    cmake --build "$build" --target depthscale log_tests -j "$jobs" >"$work/build.log" 2>&1 ||
      { tail -40 "$work/build.log"; fail "build against the prefix"; }
    echo "prefix_build: built depthscale and log_tests in $((SECONDS - t0)) s"
    ds=$build/apps/depthscale
    libs_found "$ds"
    runs_clean "depthscale --version" "$work/version.log" "$ds" --version
    runs_clean "log_tests (GoogleTest)" "$work/log_tests.log" "$build/lib/log/log_tests" --gtest_brief=1
    # MPI as a user without root: a singleton MPI_Init, no OMPI_ALLOW_RUN_AS_ROOT set anywhere.
    runs_clean "depthscale run --dry-run (MPI_Init) as uid $(id -u)" "$work/dry-run.log" \
      env -u OPAL_PREFIX OMP_NUM_THREADS=1 "$ds" run "$src/jobs/quickstart.yaml" --dry-run \
      --out "$work/dry-run.h5"
  else
    # The default, about a third of that: one linked executable per dependency, through our own
    # library targets: train_one_unit (ds_toy, ds_store, ds_config: Torch, OpenMP, the BLAS linked
    # first, HDF5, yaml-cpp, spdlog/fmt), fit_power_law (ds_fit: Ceres, glog, gflags, SuiteSparse,
    # LAPACK, Eigen), tokenizer_tests (ds_tokenizer: PCRE2, utf8proc, nlohmann_json; GoogleTest).
    # MPI and CLI11 only reach executables through the whole of ds_farm and ds_commands, so
    # depthscale's main.cpp and commands/run.cpp (both include mpi.h and CLI11) are compiled, not
    # linked; MPI's library is checked above to be the prefix's.
    cmake --build "$build" --target train_one_unit read_sweep fit_power_law tokenizer_tests \
      -j "$jobs" >"$work/build.log" 2>&1 &&
      make -C "$build/apps" -j "$jobs" main.cpp.o commands/run.cpp.o >>"$work/build.log" 2>&1 ||
      { tail -40 "$work/build.log"; fail "build against the prefix"; }
    echo "prefix_build: built in $((SECONDS - t0)) s"
    for exe in examples/train_one_unit examples/read_sweep examples/fit_power_law \
               lib/probe/tokenizer_tests; do
      libs_found "$build/$exe"
    done
    runs_clean "fit_power_law (Ceres)" "$work/fit.log" "$build/examples/fit_power_law"
    runs_clean "train_one_unit (LibTorch, HDF5)" "$work/train.log" \
      env OMP_NUM_THREADS=1 "$build/examples/train_one_unit" "$work/unit.h5"
    runs_clean "read_sweep (HDF5)" "$work/read.log" "$build/examples/read_sweep" "$work/unit.h5"
    # Not the Hugging Face cross-checks: those fetch a tokenizer with npm.
    runs_clean "tokenizer_tests (PCRE2, utf8proc, nlohmann_json, GoogleTest)" "$work/tok.log" \
      "$build/lib/probe/tokenizer_tests" --gtest_brief=1 '--gtest_filter=Tokenizer*:Shard*:Llmc*'
  fi
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Stage 1: check what the test needs, copy the sources, drop root, run stage 2.
[ $# -eq 1 ] || { echo "usage: $0 SOURCE_DIR" >&2; exit 2; }
src=$(cd "$1" && pwd)
command -v dpkg-query >/dev/null && command -v dpkg >/dev/null ||
  skip "needs dpkg: the stand-in prefix is made of Debian packages"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) || skip "Debian packages not installed: ${missing[*]} (scripts/setup.sh)"
cmake_version=$(cmake --version | sed -n '1s/.* //p')
printf '3.21\n%s\n' "$cmake_version" | sort -V -C ||
  skip "needs CMake >= 3.21 (presets), have $cmake_version"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null || skip "running as root needs setpriv (util-linux) to drop to nobody"
  run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi

work=$(mktemp -d /tmp/ds-prefix-build.XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ -n "${PREFIX_BUILD_KEEP:-}" ]; then echo "prefix_build: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# The tracked files (and new ones not ignored), as in a fresh clone; without git (or a checkout
# git will not read for this user), the tree minus what .gitignore and build*/ name.
mkdir "$work/src"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$src" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$src/$f" ] && printf '%s\0' "$f"; done |
    tar -C "$src" --null -T - -cf - | tar -C "$work/src" -xf -
else
  tar -C "$src" --exclude-vcs --exclude-vcs-ignores --exclude='./build*' -cf - . |
    tar -C "$work/src" -xf -
fi
[ ${#run_as[@]} -eq 0 ] || chown -R 65534:65534 "$work"
# A clean environment: nothing of the caller's (CMAKE_PREFIX_PATH, PKG_CONFIG_PATH, a pyenv PATH,
# OMPI_ALLOW_RUN_AS_ROOT) reaches the build.
set +e
"${run_as[@]}" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
  ${PREFIX_BUILD_JOBS:+PREFIX_BUILD_JOBS=$PREFIX_BUILD_JOBS} \
  ${PREFIX_BUILD_FULL:+PREFIX_BUILD_FULL=$PREFIX_BUILD_FULL} \
  bash "$work/src/tests/prefix_build_test.sh" --as-user "$work"
rc=$?
set -e
exit $rc
