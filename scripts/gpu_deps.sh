#!/usr/bin/env bash
# Builds a relocatable prefix of depthscale's non-torch dependencies (Open MPI, HDF5, yaml-cpp,
# spdlog/fmt, CLI11, nlohmann_json, Ceres + glog/gflags/Eigen/SuiteSparse/OpenBLAS/ATLAS, GoogleTest)
# from Debian 12 packages, for a machine with no package manager (the GPU device image, Ubuntu
# 24.04-like). Packages are fetched with `apt-get download` and unpacked with `dpkg -x`; libraries a
# base Ubuntu 24.04 certainly has (libc, libstdc++, zlib, OpenSSL, GnuTLS, ...) are left out so that
# LD_LIBRARY_PATH=prefix does not shadow the newer system copies.
# Usage: scripts/gpu_deps.sh [OUT_TARBALL]   (default .gpu/deps.tar.xz; unpacks to ./deps/usr/...)
# On the target: tar xJf deps.tar.xz; P=$PWD/deps/usr; source $P/env.sh  (sets OPAL_PREFIX etc.)
set -euo pipefail
out=$(realpath -m "${1:-.gpu/deps.tar.xz}")
work=${GPU_DEPS_WORK:-/tmp/gpu-deps}
pkgs=(
  # development packages: headers, CMake configs, .so links
  libopenmpi-dev libhdf5-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  nlohmann-json3-dev libceres-dev libgoogle-glog-dev libgflags-dev libeigen3-dev
  libsuitesparse-dev libgtest-dev libgmock-dev libunwind-dev
  # Open MPI's launcher, help texts and its plugins' libraries
  openmpi-bin openmpi-common libopenmpi3 libpmix2 libhwloc15 libevent-core-2.1-7
  libevent-pthreads-2.1-7 libfabric1 libucx0 libibverbs1 ibverbs-providers librdmacm1
  libnl-3-200 libnl-route-3-200 libnuma1 libmunge2 libpsm-infinipath1 libpsm2-2
  # HDF5 (serial) and what it links: libaec/szip, libcurl and its closure
  libhdf5-103-1 libhdf5-hl-100 libsz2 libaec0 libcurl4 libnghttp2-14 libpsl5 librtmp1
  libssh2-1 libldap-2.5-0 libsasl2-2 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libunistring2
  libkrb5support0 libkeyutils1 libbrotli1
  # the rest of the runtime closure
  libyaml-cpp0.7 libspdlog1.10 libfmt9 libceres3 libgoogle-glog0v6 libgflags2.2 libunwind8
  libamd2 libcamd2 libccolamd2 libcolamd2 libcholmod3 libcxsparse3 libspqr2 libmetis5
  libsuitesparseconfig5 libopenblas0-openmp libatlas3-base libgfortran5 libquadmath0
  # the tokenizer (lib/probe): PCRE2 and utf8proc through pkg-config
  libpcre2-dev libpcre2-8-0 libutf8proc-dev libutf8proc2 pkgconf pkgconf-bin libpkgconf3
)
mkdir -p "$work/debs"
(cd "$work/debs" && apt-get download "${pkgs[@]}" >/dev/null)
rm -rf "$work/deps"; mkdir -p "$work/deps"
for d in "$work"/debs/*.deb; do dpkg -x "$d" "$work/deps"; done
P=$work/deps/usr
L=$P/lib/x86_64-linux-gnu
# Prune: docs, manuals, Fortran modules, static libraries except those an exported CMake target
# names (GoogleTest ships only those; gflags' config checks that libgflags.a exists).
rm -rf "$P"/share/{doc,man,lintian,bug,doc-base} "$work"/deps/etc/{ld.so.conf.d,alternatives}
keep=$(grep -rhoE 'lib[A-Za-z0-9_+-]+\.a' "$P"/lib/x86_64-linux-gnu/cmake | sort -u)
find "$P" -name '*.a' | while read -r a; do
  grep -qxF "$(basename "$a")" <<<"$keep" || rm -f "$a"; done
rm -rf "$L"/openmpi/lib/*.mod "$L"/openmpi/lib/libmpi_mpifh* "$L"/openmpi/lib/libmpi_usempi* \
       "$L"/openmpi/lib/libmpi_java* "$L"/libf77blas.so.3.10.3.mod "$P"/share/java 2>/dev/null || true
# Debian's update-alternatives links, recreated inside the prefix (relative links).
ln -sf openblas-openmp/libblas.so.3 "$L/libblas.so.3"
ln -sf openblas-openmp/liblapack.so.3 "$L/liblapack.so.3"
ln -sf libblas.so.3 "$L/libblas.so"; ln -sf liblapack.so.3 "$L/liblapack.so"
for w in mpicc mpicxx mpiCC mpic++; do ln -sf opal_wrapper "$P/bin/$w"; done
for w in mpirun mpiexec; do ln -sf orterun "$P/bin/$w"; done
# HDF5: the h5cc wrapper has /usr compiled in; FindHDF5 then searches HDF5_ROOT instead.
rm -f "$P"/bin/h5*cc* "$P"/bin/h5pcc*
# Absolute symlinks into /usr (Debian uses a few): make them relative.
find "$work/deps" -type l -lname '/*' | while read -r l; do
  t=$(readlink "$l"); ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$work/deps$t")" "$l"
done
# Absolute paths in CMake files (Ceres' BLAS/LAPACK/ATLAS link line, glog's module path): relative
# to the file's own folder. The `_realOrig` blocks of exported targets only compare, so they stay.
sed -i '/INTERFACE_LINK_LIBRARIES/s#/usr/lib/x86_64-linux-gnu/#${CMAKE_CURRENT_LIST_DIR}/../../#g' "$L/cmake/Ceres/CeresTargets.cmake"
sed -i 's#"/usr/share/glog/cmake"#"${CMAKE_CURRENT_LIST_DIR}/../../../../share/glog/cmake"#' \
  "$L/cmake/glog/glog-modules.cmake"
ln -sf libf77blas.so.3 "$L/libf77blas.so"; ln -sf libatlas.so.3 "$L/libatlas.so"
left=$(grep -rnE '/usr/(lib|include|share)' "$L"/cmake "$P"/share/cmake* "$P"/lib/cmake 2>/dev/null |
       grep -vE '_realOrig|cross-prefix|set\(_IMPORT_PREFIX' || true)
if [ -n "$left" ]; then echo "absolute paths left in CMake files:"; echo "$left"; exit 1; fi
find "$P" -name '*.pc' -exec sed -i -E 's#^prefix=/usr$#prefix=${pcfiledir}/../../..#' {} +
# Environment for the target; `source deps/usr/env.sh`.
cat > "$P/env.sh" <<'SH'
P=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DEPS_PREFIX=$P OPAL_PREFIX=$P PATH=$P/bin:$PATH
export LD_LIBRARY_PATH=$P/lib/x86_64-linux-gnu:$P/lib/x86_64-linux-gnu/openmpi/lib:$P/lib/x86_64-linux-gnu/hdf5/serial${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export CMAKE_PREFIX_PATH=$P${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH} HDF5_ROOT=$P
export PKG_CONFIG_PATH=$P/lib/x86_64-linux-gnu/pkgconfig:$P/share/pkgconfig
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# FindHDF5 without the h5cc wrapper does not look in Debian's hdf5/serial folders by itself.
export DEPS_CMAKE_ARGS="-DHDF5_C_COMPILER_EXECUTABLE=/nonexistent -DHDF5_C_INCLUDE_DIR=$P/include/hdf5/serial -DHDF5_hdf5_LIBRARY_RELEASE=$P/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so -DMPI_C_COMPILER=$P/bin/mpicc -DMPIEXEC_EXECUTABLE=$P/bin/mpiexec"
export PMIX_INSTALL_PREFIX=$P/lib/x86_64-linux-gnu/pmix2 PMIX_MCA_pcompress_base_silence_warning=1
SH
mkdir -p "$(dirname "$out")"
tar -C "$work" -cf - deps | xz -T2 -6 > "$out"
du -sh "$work/deps" "$out"
