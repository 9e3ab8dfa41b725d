#!/bin/sh
# test_install.sh BUILD_DIR VERSION: installs the build tree into a staging
# directory the way a distribution would (DESTDIR, prefix /usr/local) and
# checks what a user gets: the library with its SONAME links and no
# RUNPATH, the header, nothing of the engine, and then a C program outside
# the tree (consumer/) built and run twice, once through the CMake package
# (find_package(shiplog) and shiplog::shiplog) and once through pkg-config.
# CC, CFLAGS, LDFLAGS and CMAKE_GENERATOR come from CTest.
set -eu

build=$(cd "$1" && pwd)
version=$2
here=$(cd "$(dirname "$0")" && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/shiplog-install.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
fail() {
  echo "test_install: FAILED: $*" >&2
  exit 1
}

# DESTDIR keeps even a rule with an absolute destination out of the system.
prefix=/usr/local
stage=$scratch/root$prefix
DESTDIR=$scratch/root cmake --install "$build" --prefix "$prefix" \
  >"$scratch/install.log"
echo "test_install: installed into $stage:"
(cd "$scratch/root" && find . ! -type d | sort | sed 's/^\./  /')

# --- the installed files --------------------------------------------------
pcfile=$(find "$stage" -name shiplog.pc)
[ -n "$pcfile" ] || fail "no shiplog.pc installed"
libdir=$(dirname "$(dirname "$pcfile")")
real=$libdir/libshiplog.so.$version
[ -f "$real" ] && [ ! -L "$real" ] || fail "no $real"
[ "$(readlink "$libdir/libshiplog.so.1")" = "libshiplog.so.$version" ] ||
  fail "libshiplog.so.1 is not a link to libshiplog.so.$version"
[ "$(readlink "$libdir/libshiplog.so")" = "libshiplog.so.1" ] ||
  fail "libshiplog.so is not a link to libshiplog.so.1"
readelf -d "$real" | grep -q 'Library soname: \[libshiplog.so.1\]' ||
  fail "SONAME of $real is not libshiplog.so.1"
for binary in "$real" "$stage/bin/shiplog"; do
  [ -f "$binary" ] || fail "no $binary"
  if readelf -d "$binary" | grep -Eq 'RPATH|RUNPATH'; then
    fail "$binary keeps a build-tree RPATH"
  fi
done
[ "$(ls "$stage/include")" = "shiplog.h" ] ||
  fail "include/ holds more than shiplog.h: $(ls "$stage/include")"
[ -z "$(find "$scratch/root" -name '*.a')" ] ||
  fail "static libraries installed: $(find "$scratch/root" -name '*.a')"
if grep -rlE 'shiplog_engine|absl|'"$build" "$libdir/cmake/shiplog"; then
  fail "the CMake package names the engine, Abseil or the build tree"
fi
[ -f "$stage/share/man/man1/shiplog.1" ] || fail "no man page"

# --- a consumer through the CMake package ---------------------------------
cmake -S "$here/consumer" -B "$scratch/cmake-consumer" \
  -DCMAKE_PREFIX_PATH="$stage" >"$scratch/configure.log" ||
  { cat "$scratch/configure.log"; fail "configuring the CMake consumer"; }
grep -F "shiplog $version from $libdir/cmake/shiplog" \
  "$scratch/configure.log" ||
  { cat "$scratch/configure.log"; fail "find_package(shiplog) missed $stage"; }
cmake --build "$scratch/cmake-consumer" >"$scratch/build.log" ||
  { cat "$scratch/build.log"; fail "building the CMake consumer"; }

run_consumer() { # run_consumer BINARY NAME
  LD_LIBRARY_PATH="$libdir" ldd "$1" | grep -F "$libdir/libshiplog.so.1" ||
    fail "$2 consumer does not load $libdir/libshiplog.so.1"
  LD_LIBRARY_PATH="$libdir" "$1" "$scratch/store-$2" ||
    fail "$2 consumer failed"
}
run_consumer "$scratch/cmake-consumer/consumer" cmake

# --- a consumer through pkg-config ----------------------------------------
# Only the staged .pc is visible, with its prefix moved to the stage.
pkg_config() {
  PKG_CONFIG_LIBDIR="$libdir/pkgconfig" \
    pkg-config --define-variable=prefix="$stage" "$@" shiplog
}
pkg_config --validate || fail "pkg-config --validate shiplog"
[ "$(pkg_config --modversion)" = "$version" ] ||
  fail "pkg-config --modversion is $(pkg_config --modversion)"
cflags=$(pkg_config --cflags)
libs=$(pkg_config --libs)
echo "test_install: pkg-config: $cflags $libs"
# shellcheck disable=SC2086 # the flags are words
${CC:-cc} -std=c99 -Wall -Wextra -Werror -pedantic ${CFLAGS:-} $cflags \
  "$here/consumer/main.c" -o "$scratch/pkg-config-consumer" \
  ${LDFLAGS:-} $libs || fail "building the pkg-config consumer"
run_consumer "$scratch/pkg-config-consumer" pkg-config

echo "test_install: passed"
