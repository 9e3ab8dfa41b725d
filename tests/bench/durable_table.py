#!/usr/bin/python3
"""Prints durable_append_bench's JSON output as a Markdown table.

    build/bin/durable_append_bench --benchmark_min_time=2 \\
        --benchmark_out=run1.json --benchmark_out_format=json
    tests/bench/durable_table.py run1.json [run2.json ...]

One row per (record bytes, appenders): records/s, p50 and p99 latency of an
acknowledged append, and fdatasyncs (or durable direct writes) per append,
for raw pwrite+fdatasync, buffered write+fdatasync (flush.messages=1) and
direct mode, then direct's throughput over buffered's. Given several runs,
each cell is the median over the runs, and the last column the median of
the ratios measured within each run (a shared machine's noise moves both
modes of one run together).
"""
import json
import re
import statistics
import sys

MODES = [("raw", "BM_RawPwriteFdatasync"), ("buffered", "BM_BufferedAppend"),
         ("direct", "BM_DirectAppend")]
NAME = re.compile(r"^(\w+)/threads:(\d+)/record_bytes:(\d+)")


def load(path):
    with open(path) as f:
        runs = json.load(f)["benchmarks"]
    table = {}
    for run in runs:
        match = NAME.match(run["name"])
        if not match or run.get("error_occurred"):
            continue
        name, threads, record_bytes = match.group(1), int(match.group(2)), int(match.group(3))
        table.setdefault((record_bytes, threads), {})[name] = run
    return table


def median(values):
    return statistics.median(values) if values else None


def main(paths):
    tables = [load(path) for path in paths]
    keys = sorted(set().union(*tables))
    print("| record | appenders | raw rec/s | buffered rec/s | p50/p99 ms | syncs/append "
          "| direct rec/s | p50/p99 ms | syncs/append | direct/buffered |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in keys:
        rows = [table.get(key, {}) for table in tables]

        def metric(mode, name):
            return median([row[mode][name] for row in rows if mode in row])

        record_bytes, threads = key
        cells = [f"{record_bytes} B", str(threads)]
        raw = metric("BM_RawPwriteFdatasync", "items_per_second")
        cells.append(f"{raw:.0f}" if raw is not None else "-")
        for mode in ("BM_BufferedAppend", "BM_DirectAppend"):
            rate = metric(mode, "items_per_second")
            if rate is None:
                cells += ["-", "-", "-"]
                continue
            cells.append(f"{rate:.0f}")
            cells.append(f"{metric(mode, 'p50_us') / 1000:.1f} / "
                         f"{metric(mode, 'p99_us') / 1000:.1f}")
            cells.append(f"{metric(mode, 'syncs_per_append'):.2f}")
        ratio = median([row["BM_DirectAppend"]["items_per_second"] /
                        row["BM_BufferedAppend"]["items_per_second"]
                        for row in rows
                        if "BM_DirectAppend" in row and "BM_BufferedAppend" in row])
        cells.append(f"{ratio:.2f}x" if ratio is not None else "-")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
