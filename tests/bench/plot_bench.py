#!/usr/bin/env python3
"""Plots `shiplog bench --csv` results as one PNG with two panels:
throughput (MB/s) and the sending thread's CPU seconds per GiB, against
transfer size, one line per path, each point the median of the
repetitions with min-max error bars.

Usage: /usr/bin/python3 tests/bench/plot_bench.py results.csv out.png
"""

import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")  # no display: render straight to the file
import matplotlib.pyplot as plt  # noqa: E402  (after the backend choice)

PATHS = ["copy", "mmap_write", "sendfile"]
MACHINE_PREFIX = "# machine: "


def read_results(path):
    """Returns (the machine line, the rows as dicts)."""
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    machine = next((line[len(MACHINE_PREFIX):] for line in lines
                    if line.startswith(MACHINE_PREFIX)), "unknown machine")
    rows = list(csv.DictReader(line for line in lines
                               if not line.startswith("#")))
    return machine, rows


def spread_by_size(rows, path, field):
    """[(size, median, min, max)] of `field` for `path`, sizes ascending."""
    values = {}
    for row in rows:
        if row["path"] == path:
            values.setdefault(int(row["size_bytes"]), []).append(
                float(row[field]))
    return [(size, statistics.median(v), min(v), max(v))
            for size, v in sorted(values.items())]


def size_label(size):
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def plot(machine, rows, out_path):
    figure, (throughput, cpu) = plt.subplots(2, 1, figsize=(9, 9),
                                             sharex=True)
    panels = ((throughput, "throughput_mb_per_s",
               "throughput, MB/s (10^6 bytes/s)"),
              (cpu, "cpu_seconds_per_gib", "sender CPU, s per GiB"))
    sizes = sorted({int(row["size_bytes"]) for row in rows})
    for axes, field, label in panels:
        for path in PATHS:
            points = spread_by_size(rows, path, field)
            if not points:
                continue
            x, median, low, high = zip(*points)
            axes.errorbar(x, median,
                          yerr=[[m - lo for m, lo in zip(median, low)],
                                [hi - m for m, hi in zip(median, high)]],
                          marker="o", capsize=3, label=path)
        axes.set_xscale("log", base=2)
        axes.set_ylabel(label)
        axes.grid(True, which="major", alpha=0.3)
        axes.legend()
    cpu.set_xticks(sizes)
    cpu.set_xticklabels([size_label(size) for size in sizes], rotation=45)
    cpu.set_xlabel("transfer size (median of repetitions, bars min..max)")
    figure.suptitle("shiplog bench: copy vs mmap_write vs sendfile\n" + machine)
    figure.tight_layout()
    figure.savefig(out_path, format="png", dpi=100)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    machine, rows = read_results(argv[1])
    if not rows:
        print(f"plot_bench.py: {argv[1]} holds no measurements",
              file=sys.stderr)
        return 1
    plot(machine, rows, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
