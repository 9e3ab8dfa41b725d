#!/bin/sh
# abidump.sh LIBRARY SOURCE_ROOT OUTDIR: writes the ABI of LIBRARY (a
# libshiplog.so.1 built with debug info) as libabigail XML into OUTDIR:
#
#   libshiplog.so.1.abi  the exported functions and every type they reach
#                        that SOURCE_ROOT/capi/include declares; the opaque
#                        handles stay declaration-only
#   shiplog-enums.abi    the enums of shiplog.h with their values: the API
#                        passes them as int, so no function reaches them,
#                        yet a changed value breaks every caller. A probe
#                        library holding one variable of each enum type
#                        carries them (compiled with $CC, default cc).
#
# Neither holds a location or an absolute path, so the same library gives
# the same files from any checkout. `./dev abi-baseline` writes
# packaging/abi/ with it; tests/packaging/check_abi.sh compares fresh
# dumps with that.
set -eu

library=$1
root=$(cd "$2" && pwd)
outdir=$3
headers=$root/capi/include

scratch=$(mktemp -d "${TMPDIR:-/tmp}/shiplog-abidump.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

dump() { # dump ELF OUT
  abidw --no-show-locs --no-corpus-path --no-comp-dir-path --no-elf-needed \
    --type-id-style hash --drop-private-types --exported-interfaces-only \
    --headers-dir "$headers" --out-file "$scratch/dump.abi" "$1"
  # Translation units are named by path: keep them relative to the tree.
  sed "s|path='$root/|path='|; s|path='$scratch/|path='|; s|path='\./|path='|" \
    "$scratch/dump.abi" >"$2"
}

dump "$library" "$outdir/libshiplog.so.1.abi"

{
  echo '#include <shiplog.h>'
  sed -n 's/^typedef enum \(shiplog_[a-z0-9_]*\) {.*/\1/p' \
    "$headers/shiplog.h" | while read -r name; do
    echo "enum $name shiplog_abi_probe_$name;"
  done
} >"$scratch/shiplog-enums.c"
${CC:-cc} -std=c99 -g -shared -fPIC -I"$headers" \
  -o "$scratch/shiplog-enums.so" "$scratch/shiplog-enums.c"
dump "$scratch/shiplog-enums.so" "$outdir/shiplog-enums.abi"
