"""`shiplog send`, `shiplog stats` and `shiplog bench`.

send: a receiver thread on a loopback address reads the connection to its
end, and what it got is compared byte for byte with the segment files,
whose batch boundaries are found here with struct (Kafka RecordBatch v2:
baseOffset int64, batchLength int32, ..., lastOffsetDelta int32 at byte
23), independently of shiplog.
"""

import csv
import ctypes
import io
import json
import re
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import TIMEOUT_S, direct_io_works

LOG = "events-0"
RECORDS = 3000
POLICIES = ["auto", "sendfile", "mmap_write", "copy"]
# The path each policy takes for the (small) ranges sent here to loopback
# TCP, where auto sends by the mapping (shiplog_send_auto_threshold).
PATH_OF_POLICY = {"auto": "mmap_write", "sendfile": "sendfile",
                  "mmap_write": "mmap_write", "copy": "copy"}
PATHS = ["copy", "mmap_write", "sendfile"]
PLOT_SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "plot_bench.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
UINT64_MAX = 2**64 - 1
BYTE_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
              "TiB": 1 << 40}

SENT_LINE = re.compile(
    r"sent (\d+) bytes \(offsets (\d+)\.\.(\d+)\) to (\S+): (\w+) (\d+)$")


class Batch:
    def __init__(self, stream_position, base_offset, last_offset, size):
        self.stream_position = stream_position  # in the segments, joined
        self.base_offset = base_offset
        self.last_offset = last_offset
        self.size = size


def log_contents(store, log):
    """(every segment's bytes joined in offset order, the batches)."""
    data = b"".join(path.read_bytes()
                    for path in sorted((store / log).glob("*.log")))
    batches = []
    position = 0
    while position < len(data):
        base_offset, length = struct.unpack_from(">qi", data, position)
        (last_delta,) = struct.unpack_from(">i", data, position + 23)
        batches.append(Batch(position, base_offset, base_offset + last_delta,
                             12 + length))
        position += 12 + length
    return data, batches


class Receiver:
    """Accepts one connection and reads it to its end, in a thread."""

    def __init__(self, family=socket.AF_INET, host="127.0.0.1"):
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(1)
        self.listener.settimeout(TIMEOUT_S)
        host, port = self.listener.getsockname()[:2]
        self.address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.data = bytearray()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            connection, _ = self.listener.accept()
            with connection:
                connection.settimeout(TIMEOUT_S)
                while chunk := connection.recv(1 << 16):
                    self.data += chunk
        except OSError as error:
            self.error = error
        finally:
            self.listener.close()

    def received(self):
        self.thread.join(TIMEOUT_S)
        assert not self.thread.is_alive(), "the receiver never saw the end"
        assert self.error is None, self.error
        return bytes(self.data)


def unused_port():
    """A port nobody listens on: bound, then closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ipv6_loopback_works():
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def produced(tmp_path_factory, shiplog):
    """A store whose log spans several segments of many small batches."""
    store = tmp_path_factory.mktemp("send") / "store"
    shiplog.produce(store, LOG,
                    [f"record {i} " + "x" * (i % 150) for i in range(RECORDS)],
                    "--batch-records", "40", "--segment-bytes", "65536")
    assert len(list((store / LOG).glob("*.log"))) >= 3
    return store


def send(shiplog, store, receiver, *flags):
    """Runs `send` to `receiver`; returns (its stdout line, bytes received)."""
    out = shiplog.ok("send", store, LOG, "--to", receiver.address, *flags)
    return out.decode(), receiver.received()


# ---- send ----

@pytest.mark.parametrize("policy", POLICIES)
def test_send_ships_the_whole_log_exactly_as_stored(shiplog, produced, policy):
    data, _ = log_contents(produced, LOG)
    receiver = Receiver()
    out, received = send(shiplog, produced, receiver, "--policy", policy)
    assert received == data
    assert SENT_LINE.match(out.strip()).groups() == (
        str(len(data)), "0", str(RECORDS - 1), receiver.address,
        PATH_OF_POLICY[policy], str(len(data)))


@pytest.mark.parametrize("policy", POLICIES)
def test_send_starts_at_the_batch_holding_offset_and_cuts_at_a_batch(
        shiplog, produced, policy):
    data, batches = log_contents(produced, LOG)
    first, second, third = batches[10:13]
    offset = first.base_offset + 3  # inside the batch
    max_bytes = first.size + second.size + third.size // 2
    receiver = Receiver()
    out, received = send(shiplog, produced, receiver, "--policy", policy,
                         "--offset", offset, "--max-bytes", max_bytes)
    end = second.stream_position + second.size
    assert received == data[first.stream_position:end]
    assert SENT_LINE.match(out.strip()).groups()[:3] == (
        str(end - first.stream_position), str(first.base_offset),
        str(second.last_offset))


@pytest.mark.parametrize("policy", POLICIES)
def test_send_includes_a_first_batch_larger_than_max_bytes_whole(
        shiplog, produced, policy):
    data, batches = log_contents(produced, LOG)
    batch = batches[20]
    receiver = Receiver()
    out, received = send(shiplog, produced, receiver, "--policy", policy,
                         "--offset", batch.last_offset, "--max-bytes", "1")
    assert received == data[batch.stream_position:
                            batch.stream_position + batch.size]
    assert f"(offsets {batch.base_offset}..{batch.last_offset})" in out


def test_send_accepts_byte_size_suffixes(shiplog, produced):
    data, batches = log_contents(produced, LOG)
    fitting = [b for b in batches if b.stream_position + b.size <= 4096]
    receiver = Receiver()
    _, received = send(shiplog, produced, receiver, "--max-bytes", "4KiB")
    assert received == data[:fitting[-1].stream_position + fitting[-1].size]


def test_send_over_ipv6_loopback(shiplog, produced):
    if not ipv6_loopback_works():
        pytest.skip("no IPv6 loopback (::1 cannot be bound) on this machine")
    data, _ = log_contents(produced, LOG)
    receiver = Receiver(socket.AF_INET6, "::1")
    assert receiver.address.startswith("[::1]:")
    out, received = send(shiplog, produced, receiver, "--policy", "sendfile")
    assert received == data
    assert f"to {receiver.address}: sendfile {len(data)}" in out


def test_send_reads_segments_far_behind_the_end_directly(shiplog, produced):
    if not direct_io_works(produced):
        pytest.skip(f"no O_DIRECT under {produced}")
    data, _ = log_contents(produced, LOG)
    tail = sorted((produced / LOG).glob("*.log"))[-1].stat().st_size
    receiver = Receiver()
    out, received = send(shiplog, produced, receiver, "--policy", "sendfile",
                         "--cold-read-lag", str(tail))
    assert received == data
    assert out.rstrip().endswith(
        f": sendfile {tail}, direct_read {len(data) - tail}"), out


def test_send_at_the_end_sends_nothing(shiplog, produced):
    receiver = Receiver()
    out, received = send(shiplog, produced, receiver, "--offset", RECORDS)
    assert received == b""
    assert out.startswith("sent 0 bytes")


def test_send_past_the_end_fails_before_connecting(shiplog, produced):
    result = shiplog.run("send", produced, LOG, "--to",
                         f"127.0.0.1:{unused_port()}", "--offset", RECORDS + 1)
    assert result.returncode == 1
    assert b"past the end" in result.stderr
    assert result.stderr.count(b"\n") == 1


def test_send_to_a_refused_port_fails_with_one_clear_line(shiplog, produced):
    port = unused_port()
    result = shiplog.run("send", produced, LOG, "--to", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"shiplog send: connecting to 127.0.0.1:{port}: Connection refused "
        "(errno 111)\n")
    assert result.stdout == b""


def test_send_of_a_missing_log_fails(shiplog, produced):
    result = shiplog.run("send", produced, "missing-0", "--to",
                         f"127.0.0.1:{unused_port()}")
    assert result.returncode == 1
    assert b"log missing-0 does not exist" in result.stderr


@pytest.mark.parametrize("flags, message", [
    (["--to", "127.0.0.1:1", "--policy", "zerocopy"], "--policy: expected"),
    ([], "--to: required"),
    (["--to", "127.0.0.1"], "expected HOST:PORT"),
    (["--to", "::1:9000"], "put an IPv6 address in brackets"),
    (["--to", "127.0.0.1:70000"], "the port must be a number"),
    (["--to", "127.0.0.1:1", "--max-bytes", "12X"], "--max-bytes: expected"),
])
def test_send_usage_errors_exit_2(shiplog, produced, flags, message):
    result = shiplog.run("send", produced, LOG, *flags)
    assert result.returncode == 2
    assert message in result.stderr.decode()


# ---- stats ----

def test_stats_shows_each_logs_end_offset(shiplog, tmp_path):
    store = tmp_path / "store"
    shiplog.produce(store, "a-0", [f"a{i}" for i in range(1234)])
    shiplog.produce(store, "b-0", [f"b{i}" for i in range(7)])
    out = shiplog.ok("stats", store).decode()
    gauges = dict(re.findall(r"^(log_\w+\{log=[\w.-]+\})\s+(\S+)", out, re.M))
    assert gauges["log_end_offset{log=a-0}"] == "1234"
    assert gauges["log_end_offset{log=b-0}"] == "7"
    assert gauges["log_start_offset{log=a-0}"] == "0"
    assert gauges["log_segments{log=b-0}"] == "1"
    assert re.search(r"^process_open_fds\s+\d+$", out, re.M)


PROMETHEUS_SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_]\w*="(?:[^"\\]|\\.)*"'
    r'(?:,[a-zA-Z_]\w*="(?:[^"\\]|\\.)*")*\})? (\S+)$')


def test_stats_prometheus_output_parses(shiplog, tmp_path):
    store = tmp_path / "store"
    shiplog.produce(store, "a-0", ["x"] * 42)
    helped, typed, samples = set(), {}, {}
    for line in shiplog.ok("stats", store, "--prometheus").decode().splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in ("counter", "gauge", "histogram"), line
            typed[name] = kind
        else:
            match = PROMETHEUS_SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match.groups()
            float(value)  # every value parses
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            family = family if family in typed else name
            assert family in typed and family in helped, (
                f"{name}: no HELP/TYPE before it")
            samples[name + (labels or "")] = value
    assert samples['shiplog_log_end_offset{log="a-0"}'] == "42"
    assert "shiplog_process_open_fds" in samples


def test_stats_of_a_missing_store_fails(shiplog, tmp_path):
    result = shiplog.run("stats", tmp_path / "nothing")
    assert result.returncode == 1
    assert b"does not exist" in result.stderr


def test_stats_help_says_counters_are_this_process(shiplog):
    assert b"this process's own" in shiplog.ok("stats", "--help")


# ---- bench ----

@pytest.fixture(scope="module")
def auto_threshold(shiplog):
    """shiplog_send_auto_threshold of the libshiplog.so the tool runs with
    (through ctypes): a socket's AUTO threshold in bytes, None for never."""
    lib = shiplog.library()
    lib.shiplog_send_auto_threshold.argtypes = [
        ctypes.POINTER(ctypes.c_uint64), ctypes.c_int]

    def threshold(sock):
        value = ctypes.c_uint64()
        assert lib.shiplog_send_auto_threshold(ctypes.byref(value),
                                               sock.fileno()) == 0
        return None if value.value == UINT64_MAX else value.value
    return threshold


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory, shiplog):
    """One small run with both --json (stdout) and --csv."""
    csv_path = tmp_path_factory.mktemp("bench") / "results.csv"
    out = shiplog.ok("bench", "--size", "64KiB", "--repetitions", "1",
                     "--json", "--csv", csv_path)
    return json.loads(out), csv_path


def test_bench_json_has_every_size_and_path(bench_run):
    results, _ = bench_run
    assert results["machine"]["nproc"] >= 1
    assert results["machine"]["kernel"] and results["machine"]["cpu_model"]
    cells = {(t["size_bytes"], t["path"]) for t in results["transfers"]}
    assert cells == {(size, path) for size in (4096, 16384, 65536)
                     for path in PATHS}
    for transfer in results["transfers"]:
        assert transfer["throughput_mb_per_s"] > 0
        assert transfer["transfers"] >= 1
        assert transfer["syscalls"] >= transfer["transfers"]
        assert transfer["other_path_bytes"] == 0
    assert len(results["summary"]) == 9
    assert results["append"]["append_mb_per_s"] > 0
    assert results["append"]["write_mb_per_s"] > 0
    assert set(results["crossover"]) == {"throughput_size_bytes",
                                         "cpu_size_bytes"}


def test_bench_csv_has_a_row_per_size_path_and_repetition(bench_run):
    results, csv_path = bench_run
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("# machine: ")
    assert results["machine"]["cpu_model"] in lines[0]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert len(rows) == 9
    assert {row["path"] for row in rows} == set(PATHS)
    assert all(float(row["cpu_seconds_per_gib"]) >= 0 for row in rows)


def test_plot_turns_the_csv_into_a_png(bench_run, tmp_path):
    pytest.importorskip("matplotlib",
                        reason="matplotlib (python3-matplotlib) is not installed")
    _, csv_path = bench_run
    png = tmp_path / "bench.png"
    subprocess.run([sys.executable, PLOT_SCRIPT, csv_path, png], check=True,
                   timeout=TIMEOUT_S)
    assert png.read_bytes()[:8] == PNG_SIGNATURE


def test_bench_json_names_the_auto_threshold_for_its_sink(
        bench_run, auto_threshold):
    results, _ = bench_run
    assert results["config"]["sink"] == "tcp"
    with socket.create_server(("127.0.0.1", 0)) as listener, \
            socket.create_connection(listener.getsockname(),
                                     timeout=TIMEOUT_S) as loopback:
        expected = auto_threshold(loopback)
    assert results["config"]["mmap_threshold_bytes"] == expected


@pytest.fixture(scope="module")
def unix_bench(tmp_path_factory, shiplog):
    """One small run to an AF_UNIX socket pair, printing the table, with
    --dir; returns (the table, the --dir directory)."""
    kept = tmp_path_factory.mktemp("bench_unix") / "kept"
    out = shiplog.ok("bench", "--size", "4K", "--repetitions", "1",
                     "--sink", "unix", "--dir", kept).decode()
    return out, kept


def test_bench_table_over_a_unix_socket_pair(unix_bench):
    out, kept = unix_bench
    assert "AF_UNIX socket pair" in out
    for path in PATHS:
        assert re.search(rf"^(4 KiB)?\s+{path}\s+\d", out, re.M), path
    assert "crossover:" in out and "append: Log::Append" in out
    assert (kept / "bench-0").is_dir()  # --dir is kept


def test_bench_table_names_the_auto_threshold_for_its_sink(
        unix_bench, auto_threshold):
    out, _ = unix_bench
    pair = socket.socketpair(socket.AF_UNIX)
    with pair[0], pair[1]:
        expected = auto_threshold(pair[0])
    line = re.search(r"^auto policy for this sink: (.*) "
                     r"\(shiplog_send_auto_threshold\)$", out, re.M)
    assert line, out
    if expected is None:
        assert line[1] == "mmap_write at every size, never sendfile"
    else:
        size = re.fullmatch(r"mmap_write below (\d+(?:\.\d)?) (\w+), "
                            r"sendfile from there up", line[1])
        assert size, line[1]
        assert float(size[1]) * BYTE_UNITS[size[2]] == expected


@pytest.mark.parametrize("flags, message", [
    (["--size", "1K"], "--size: expected a byte count of at least 4 KiB"),
    (["--size", "64XB"], "--size: expected"),
    (["--repetitions", "0"], "--repetitions: expected a positive integer"),
    (["--sink", "udp"], "--sink: expected one of tcp, unix"),
])
def test_bench_usage_errors_exit_2(shiplog, flags, message):
    result = shiplog.run("bench", *flags)
    assert result.returncode == 2
    assert message in result.stderr.decode()
