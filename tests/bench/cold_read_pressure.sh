#!/usr/bin/env bash
# Runs cold_read_bench's BM_HotTailAfterColdScan inside a memory limit, so
# the page cache cannot hold both the hot tail and a full scan of the cold
# log: what each way of scanning does to the tail then shows as the tail's
# residency and a caught-up consumer's throughput after the scan. Not a
# test: it needs root and a memory cgroup controller (v2 memory.max, or v1
# memory.limit_in_bytes), and it creates and removes its own cgroup.
#
# usage: tests/bench/cold_read_pressure.sh BENCH [LIMIT_MIB] [COLD_MIB]
#   BENCH      build/bin/cold_read_bench
#   LIMIT_MIB  the cgroup's memory limit (default 512)
#   COLD_MIB   the cold log's size (default 1024; the hot tail is a quarter)
set -euo pipefail

bench=$(realpath "$1")
limit_mib=${2:-512}
cold_mib=${3:-1024}
name="shiplog-cold-read-$$"

if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
  dir="/sys/fs/cgroup/$name"
  limit_file=memory.max
elif [[ -d /sys/fs/cgroup/memory ]]; then
  dir="/sys/fs/cgroup/memory/$name"
  limit_file=memory.limit_in_bytes
else
  echo "cold_read_pressure: no memory cgroup controller here" >&2
  exit 2
fi
mkdir "$dir"
trap 'rmdir "$dir"' EXIT
echo $((limit_mib << 20)) >"$dir/$limit_file"
echo "cold_read_pressure: $dir, $limit_file = $limit_mib MiB," \
  "cold log $cold_mib MiB, hot tail $((cold_mib / 4)) MiB" >&2
# The benchmark writes its logs from inside the cgroup, so their page
# cache is charged to it.
(
  echo "$BASHPID" >"$dir/cgroup.procs"
  exec env SHIPLOG_COLD_SCAN_MIB="$cold_mib" "$bench" \
    --benchmark_filter='BM_HotTailAfterColdScan' \
    --benchmark_counters_tabular=true "${@:4}"
)
