#!/usr/bin/env python3
"""Consumer throughput and server CPU of `shiplog serve`: Fetch record sets
shipped by sendfile against the same server forced to the traditional copy
path (--send-policy copy), same data, same run, alternating.

A store is filled with `shiplog produce` (values of --value-bytes, batches
of about 1 MiB), then for each repetition and policy a fresh server serves
it and kcat (librdkafka) consumes the whole topic from the beginning. The
server's CPU time comes from /proc/PID/stat (user + system) before and
after the consume; throughput is the log's size over kcat's wall time.

Usage: /usr/bin/python3 tests/bench/kafka_fetch_bench.py SHIPLOG_BIN
           [--size BYTES] [--value-bytes N] [--repetitions N]
"""

import argparse
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 600
POLICIES = ("sendfile", "copy")


def cpu_seconds(pid):
    """user + system CPU seconds of process `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def start_server(shiplog, store, policy):
    server = subprocess.Popen(
        [shiplog, "serve", store, "--listen", "127.0.0.1:0", "--send-policy", policy],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([server.stdout], [], [], 30)
    line = server.stdout.readline() if ready else ""
    if "listening on" not in line:
        server.kill()
        sys.exit(f"the server did not start: {server.stderr.read()}")
    return server, line.rsplit(":", 1)[1].strip()


def consume(port, records):
    """kcat reads the whole topic; returns its wall time in seconds."""
    started = time.monotonic()
    result = subprocess.run(
        ["kcat", "-C", "-b", f"127.0.0.1:{port}", "-t", "bench", "-o", "beginning",
         "-e", "-q", "-f", "%o\n",
         # The end of the topic is seen by a fetch that waits; don't let
         # that wait (500 ms by default) count as transfer time.
         "-X", "fetch.wait.max.ms=10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT_S)
    elapsed = time.monotonic() - started
    lines = result.stdout.count(b"\n")
    if result.returncode != 0 or lines != records:
        sys.exit(f"kcat read {lines} of {records} records: {result.stderr.decode()}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shiplog")
    parser.add_argument("--size", type=int, default=512 << 20)
    parser.add_argument("--value-bytes", type=int, default=16384)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()

    store = tempfile.mkdtemp(prefix="shiplog-kafka-bench-")
    try:
        records = args.size // args.value_bytes
        line = b"x" * (args.value_bytes - 1) + b"\n"
        producer = subprocess.Popen(
            [args.shiplog, "produce", store, "bench-0", "--batch-records",
             str(max(1, (1 << 20) // args.value_bytes))], stdin=subprocess.PIPE)
        for _ in range(records):
            producer.stdin.write(line)
        producer.stdin.close()
        if producer.wait(TIMEOUT_S) != 0:
            sys.exit("shiplog produce failed")
        log_bytes = sum(os.path.getsize(os.path.join(store, "bench-0", name))
                        for name in os.listdir(os.path.join(store, "bench-0"))
                        if name.endswith(".log"))

        results = {policy: [] for policy in POLICIES}
        for repetition in range(args.repetitions):
            order = POLICIES if repetition % 2 == 0 else POLICIES[::-1]
            for policy in order:
                server, port = start_server(args.shiplog, store, policy)
                try:
                    consume(port, records)  # warms the page cache and the client
                    before = cpu_seconds(server.pid)
                    elapsed = consume(port, records)
                    cpu = cpu_seconds(server.pid) - before
                finally:
                    server.terminate()
                    server.wait(30)
                results[policy].append((log_bytes / elapsed / 1e6, cpu / (log_bytes / 2**30)))

        print(f"kafka fetch bench: {records} records of {args.value_bytes} B, "
              f"{log_bytes} log bytes, kcat consuming over loopback TCP, "
              f"median of {args.repetitions}")
        print(f"{'path':10} {'MB/s':>8} {'(min..max)':>16} {'server CPU s/GiB':>18} {'(min..max)':>16}")
        for policy in POLICIES:
            rates = [r for r, _ in results[policy]]
            cpus = [c for _, c in results[policy]]
            print(f"{policy:10} {statistics.median(rates):8.0f} "
                  f"{f'({min(rates):.0f}..{max(rates):.0f})':>16} "
                  f"{statistics.median(cpus):18.3f} "
                  f"{f'({min(cpus):.3f}..{max(cpus):.3f})':>16}")
        ratio = (statistics.median(c for _, c in results["sendfile"]) /
                 statistics.median(c for _, c in results["copy"]))
        print(f"server CPU per GiB, sendfile / copy: {ratio:.0%}")
    finally:
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
