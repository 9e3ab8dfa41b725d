#!/bin/sh
# check_abi.sh SOURCE_ROOT LIBRARY: compares a freshly built libshiplog.so.1
# with the committed ABI baseline in SOURCE_ROOT/packaging/abi/ (written by
# `./dev abi-baseline`), using libabigail. Only what capi/include declares
# counts: the functions, the structs they reach, and the enums' values; the
# opaque handles' insides are private.
#
# Fails on any change to an existing interface: a removed or changed
# function, a struct whose size or layout changed, an enumerator whose value
# changed. Passes on additions (new functions, new enumerators), printing
# new functions: they are compatible, and a release records them with
# `./dev abi-baseline` (and a new symbol version node in capi/shiplog.map).
#
# Both sides are dumps made the same way (packaging/abi/abidump.sh) and
# compared as XML: abidiff's --headers-dir2 against a location-free
# baseline takes every type for private and reports nothing at all.
# Exit status 77 (CTest's skip) for a library without debug info or for
# another architecture than the baseline's.
set -u

root=$1
library=$2
baseline=$root/packaging/abi

for tool in abidw abidiff; do
  if ! command -v "$tool" >/dev/null; then
    echo "check_abi: $tool not found; install abigail-tools (./dev does)" >&2
    exit 1
  fi
done
if ! readelf -S "$library" | grep -q '\.debug_info'; then
  # Without DWARF only symbols could be compared, and a changed struct
  # would pass unseen. ./dev builds RelWithDebInfo.
  echo "check_abi: SKIPPED: $library has no debug info" >&2
  exit 77
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/shiplog-abi.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
"$root/packaging/abi/abidump.sh" "$library" "$root" "$scratch" || exit 1

architecture() { sed -n "1s/.* architecture='\([^']*\)'.*/\1/p" "$1"; }
if [ "$(architecture "$baseline/libshiplog.so.1.abi")" != \
  "$(architecture "$scratch/libshiplog.so.1.abi")" ]; then
  echo "check_abi: SKIPPED: the baseline is for" \
    "$(architecture "$baseline/libshiplog.so.1.abi"), this library for" \
    "$(architecture "$scratch/libshiplog.so.1.abi")" >&2
  exit 77
fi

# compare NAME: 0 if scratch/NAME is baseline/NAME or adds to it, 1 if not.
compare() {
  report=$(abidiff "$baseline/$1" "$scratch/$1")
  status=$?
  if [ "$status" -eq 0 ]; then
    echo "check_abi: $1: no change"
    return 0
  fi
  echo "check_abi: $1:"
  printf '%s\n' "$report"
  if [ $((status & 3)) -ne 0 ]; then
    echo "check_abi: $1: abidiff failed (exit status $status)" >&2
    return 1
  fi
  # abidiff calls only removals incompatible (bit 8); a changed struct
  # layout or enumerator is merely "an ABI change" (bit 4). So judge by
  # what remains once additions are set aside: anything left is a break.
  abidiff --no-added-syms "$baseline/$1" "$scratch/$1" >/dev/null
  status_without_additions=$?
  if [ "$status" -ge 8 ] || [ "$status_without_additions" -ne 0 ]; then
    echo "check_abi: $1: INCOMPATIBLE change (abidiff exit status" \
      "$status)" >&2
    return 1
  fi
  echo "check_abi: $1: compatible additions only"
  return 0
}

failed=0
compare libshiplog.so.1.abi || failed=1
compare shiplog-enums.abi || failed=1
if [ "$failed" -ne 0 ]; then
  echo "check_abi: the ABI of libshiplog.so.1 changed incompatibly." \
    "Restore the interface; a deliberate break needs a new SONAME, then" \
    "./dev abi-baseline." >&2
  exit 1
fi
echo "check_abi: compatible with the baseline. Additions are recorded with" \
  "./dev abi-baseline when they are released."
