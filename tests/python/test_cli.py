"""Behaviour of the `shiplog` command-line tool: produce, consume, dump."""

import ctypes
import re
import signal
import struct
import time
from pathlib import Path

import pytest

from conftest import TIMEOUT_S

REPO = Path(__file__).resolve().parents[2]

FIRST_LOG = "00000000000000000000.log"
FIRST_INDEX = "00000000000000000000.index"
FIRST_TIMEINDEX = "00000000000000000000.timeindex"

LOG_LINE = re.compile(
    r"baseOffset: (\d+) lastOffset: (\d+) position: (\d+) size: (\d+) "
    r"count: (\d+) crc: 0x[0-9a-f]{8} compression: (none|zstd) "
    r"baseTimestamp: (\d+) maxTimestamp: (\d+)$")

FLAGS = {
    "produce": ["--key-separator", "--batch-records", "--compression",
                "--segment-bytes", "--index-interval-bytes", "--retention-ms",
                "--retention-bytes", "--flush-messages", "--write-mode",
                "--min-free-bytes", "--max-open-segment-files",
                "--max-segment-mappings",
                "--print-offsets", "--verbose"],
    "consume": ["--offset", "--time", "--count", "--format"],
    "dump": ["--verify"],
    "backup": ["--progress", "--json"],
    "verify": ["--progress", "--json"],
}


def now_ms():
    return int(time.time() * 1000)


def segment_files(store, log, suffix):
    return sorted((store / log).glob("*" + suffix))


def batches(dump_output):
    """The per-batch lines of a dump, as tuples of ints (compression: str)."""
    rows = []
    for line in dump_output.decode().splitlines():
        match = LOG_LINE.match(line)
        if match:
            rows.append(tuple(v if v in ("none", "zstd") else int(v)
                              for v in match.groups()))
    return rows


def flip_byte(path, position):
    data = bytearray(path.read_bytes())
    data[position] ^= 0xFF
    path.write_bytes(bytes(data))


def crc32c(data):
    """CRC-32C (Castagnoli), bit by bit: RecordBatch v2's CRC."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def skip_varint(data, position):
    """The position after the varint at `position`."""
    while data[position] & 0x80:
        position += 1
    return position + 1


SHIPLOG_EINVAL = -2


class Library:
    """The libshiplog.so the tool runs with, called through ctypes: what
    the tool must pass on from the library, asked of the library itself."""

    def __init__(self, shiplog):
        self.lib = shiplog.library()
        self.lib.shiplog_log_name_check.argtypes = [ctypes.c_char_p]
        self.lib.shiplog_last_error.restype = ctypes.c_char_p

    def log_name_error(self, name):
        """The library's message refusing log name `name`."""
        status = self.lib.shiplog_log_name_check(name.encode())
        assert status == SHIPLOG_EINVAL, f"the library accepts {name!r}"
        return self.lib.shiplog_last_error().decode()


@pytest.fixture(scope="module")
def library(shiplog):
    return Library(shiplog)


# ---- produce and consume ----

def test_keys_split_at_the_first_separator(shiplog, store):
    shiplog.produce(store, "t", ["k1 => v1", "k2 => v => 2", "no separator",
                                 "", " => empty key", "k3 => "],
                    "--key-separator", " => ")
    assert shiplog.consume(store, "t", "--format", "[%k][%v]\\n").splitlines() == [
        "[k1][v1]", "[k2][v => 2]", "[][no separator]", "[][]",
        "[][empty key]", "[k3][]"]


def test_line_endings_and_binary_bytes_survive(shiplog, store):
    shiplog.ok("produce", store, "t",
               input=b"crlf\r\nlf\n\n\r\nnul\x00byte\xff\nlast without newline")
    assert shiplog.ok("consume", store, "t", "--format", "<%v>") == (
        b"<crlf><lf><><><nul\x00byte\xff><last without newline>")


def test_produce_verbose_prints_the_repair_of_a_torn_tail(shiplog, store):
    shiplog.produce(store, "t", [f"v{i}" for i in range(30)],
                    "--batch-records", "10")
    log = store / "t" / FIRST_LOG
    intact = log.read_bytes()
    first_batch_size = batches(shiplog.ok("dump", log))[0][3]
    torn = intact[:first_batch_size - 7]  # a batch whose write was cut short
    log.write_bytes(intact + torn)
    result = shiplog.run("produce", store, "t", "--verbose", input=b"after\n")
    assert result.returncode == 0
    repair, summary = result.stderr.decode().splitlines()
    assert repair.startswith("shiplog produce: recovery: log t: ")
    assert (f"truncated {len(torn)} invalid bytes at position {len(intact)}"
            in repair)
    assert summary == "produced 1 records to t, offsets 30..30"
    assert shiplog.consume(store, "t").splitlines() == (
        [f"v{i}" for i in range(30)] + ["after"])
    # The open after the repair's clean shutdown has nothing to report.
    result = shiplog.run("produce", store, "t", "--verbose", input=b"more\n")
    assert result.stderr == b"produced 1 records to t, offsets 31..31\n"


def test_produce_verbose_prints_an_ignored_checkpoint(shiplog, store):
    shiplog.produce(store, "t", ["a"])
    checkpoint = store / "recovery-point-offset-checkpoint"
    checkpoint.write_text("not a checkpoint\n")
    result = shiplog.run("produce", store, "t", "--verbose", input=b"b\n")
    assert result.returncode == 0
    repair, summary = result.stderr.decode().splitlines()
    assert repair.startswith(f"shiplog produce: recovery: {checkpoint}: ")
    assert summary == "produced 1 records to t, offsets 1..1"


def test_empty_input_produces_no_records(shiplog, store):
    result = shiplog.run("produce", store, "t", "--verbose")
    assert result.returncode == 0
    assert result.stderr == b"produced 0 records to t\n"
    assert shiplog.consume(store, "t") == ""


def test_ten_thousand_lines_round_trip_with_zstd(shiplog, store):
    lines = [f"key{i}\tvalue {i} " + "x" * (i % 50) for i in range(10000)]
    result = shiplog.run("produce", store, "z", "--key-separator", "\t",
                         "--compression", "zstd", "--verbose",
                         input="".join(line + "\n" for line in lines).encode())
    assert result.returncode == 0
    assert result.stderr == b"produced 10000 records to z, offsets 0..9999\n"
    assert shiplog.consume(store, "z", "--format", "%k\\t%v\\n").splitlines() == lines
    rows = batches(shiplog.ok("dump", store / "z"))
    assert rows and all(row[5] == "zstd" for row in rows)
    assert sum(row[4] for row in rows) == 10000


def test_lines_longer_than_a_batch_round_trip(shiplog, store):
    big = b"b" * (3 << 20)
    data = b"small\n" + big + b"\nafter\n"
    shiplog.ok("produce", store, "t", input=data)
    assert shiplog.ok("consume", store, "t") == data


def test_a_line_over_64_mib_is_an_error(shiplog, store):
    result = shiplog.run("produce", store, "t",
                         input=b"ok\n" + b"x" * ((64 << 20) + 1))
    assert result.returncode == 1
    assert b"line 2 is longer than 64 MiB" in result.stderr
    assert shiplog.consume(store, "t") == "ok\n"  # the lines before it stay


def test_format_tokens(shiplog, store):
    start = now_ms()
    shiplog.produce(store, "t", ["a=1", "b=2"], "--key-separator", "=")
    end = now_ms()
    out = shiplog.consume(store, "t", "--format",
                          "%o|%k|%v|%h|%%|\\t|\\\\|%t\\n")
    lines = out.split("\n")
    assert lines[-1] == ""
    for offset, (line, key, value) in enumerate(zip(lines[:-1], "ab", "12")):
        fields = line.split("|")
        assert fields[:7] == [str(offset), key, value, "", "%", "\t", "\\"]
        assert start <= int(fields[7]) <= end
    assert len(lines) == 3
    assert shiplog.consume(store, "t") == "1\n2\n"


@pytest.mark.parametrize("fmt", ["%x", "\\q", "50%", "tail\\"])
def test_bad_format_is_a_usage_error(shiplog, store, fmt):
    shiplog.produce(store, "t", ["v"])
    result = shiplog.run("consume", store, "t", "--format", fmt)
    assert result.returncode == 2
    assert result.stderr.startswith(b"shiplog consume: --format: ")


def test_offset_and_count_select_records(shiplog, store):
    values = [f"v{i}" for i in range(100)]
    shiplog.produce(store, "t", values, "--batch-records=7")
    assert shiplog.consume(store, "t", "--offset", "50").splitlines() == values[50:]
    # Offset 3 lies inside the first batch: the records before it are skipped.
    assert shiplog.consume(store, "t", "--offset=3", "--count", "5").splitlines() == values[3:8]
    assert shiplog.consume(store, "t", "--count", "0") == ""
    assert shiplog.consume(store, "t", "--offset", "100") == ""


def test_offset_past_the_end_fails(shiplog, store):
    shiplog.produce(store, "t", ["a", "b"])
    result = shiplog.run("consume", store, "t", "--offset", "3")
    assert result.returncode == 1
    assert b"past the end" in result.stderr


def test_time_selects_from_the_first_record_at_or_after_it(shiplog, store):
    shiplog.produce(store, "t", ["a", "b"])
    shiplog.produce(store, "t", ["c", "d"])
    shiplog.produce(store, "t", ["e"])
    rows = [line.split(" ") for line in
            shiplog.consume(store, "t", "--format", "%t %v\\n").splitlines()]
    stamps = [int(stamp) for stamp, _ in rows]
    values = [value for _, value in rows]
    assert stamps == sorted(stamps)
    for target in sorted({0, *stamps, *(stamp + 1 for stamp in stamps)}):
        first = next((i for i, stamp in enumerate(stamps) if stamp >= target),
                     len(stamps))
        assert shiplog.consume(store, "t", "--time", target).splitlines() == values[first:]


def test_consume_of_a_missing_log_fails(shiplog, store):
    shiplog.produce(store, "t", ["a"])
    result = shiplog.run("consume", store, "other")
    assert result.returncode == 1
    assert b"does not exist" in result.stderr
    assert not (store / "other").exists()


# ---- printing offsets ----

def test_print_offsets_prints_every_offset_once(shiplog, store):
    out = shiplog.produce(store, "t", [f"v{i}" for i in range(2500)],
                          "--print-offsets", "--batch-records", "100")
    assert out.decode().splitlines() == [str(i) for i in range(2500)]
    out = shiplog.produce(store, "t", ["x", "y", "z"], "--print-offsets",
                          "--flush-messages", "1")
    assert out == b"2500\n2501\n2502\n"
    assert shiplog.produce(store, "t", ["quiet"]) == b""


@pytest.mark.parametrize("flags", [[], ["--flush-messages", "1"],
                                   ["--write-mode", "direct"]])
def test_offsets_arrive_while_the_producer_waits_for_input(
        shiplog, store, line_reader, flags):
    # The producer gets one line at a time and must append (and, with a
    # flush policy, sync) it before it can print its offset: a partial
    # batch goes to the log as soon as stdin runs dry.
    producer = shiplog.popen("produce", store, "t", "--print-offsets", *flags)
    offsets = line_reader(producer.stdout)
    try:
        for i in range(3):
            producer.stdin.write(f"line {i}\n".encode())
            producer.stdin.flush()
            assert offsets.readline() == str(i)
            assert producer.poll() is None
    finally:
        producer.stdin.close()
    assert producer.wait(TIMEOUT_S) == 0
    assert producer.stdout.read() == b""
    assert shiplog.consume(store, "t").splitlines() == ["line 0", "line 1", "line 2"]


def test_printed_offsets_survive_kill_9(shiplog, store, line_reader):
    producer = shiplog.popen("produce", store, "t", "--print-offsets")
    offsets = line_reader(producer.stdout)
    for i in range(4):
        producer.stdin.write(f"r{i}\n".encode())
        producer.stdin.flush()
        assert offsets.readline() == str(i)
    producer.send_signal(signal.SIGKILL)
    producer.wait(TIMEOUT_S)
    producer.stdin.close()
    assert shiplog.consume(store, "t").splitlines() == ["r0", "r1", "r2", "r3"]
    assert shiplog.produce(store, "t", ["r4"], "--print-offsets") == b"4\n"


# ---- settings and concurrency ----

def test_segment_settings_persist_with_the_log(shiplog, store):
    lines = [f"record {i:05d} " + "p" * 40 for i in range(300)]
    shiplog.produce(store, "t", lines, "--segment-bytes", "4096")
    first_run = segment_files(store, "t", ".log")
    assert len(first_run) >= 4
    assert all(path.stat().st_size <= 4096 for path in first_run)
    assert "segment.bytes=4096" in (store / "t" / "log.properties").read_text()

    shiplog.produce(store, "t", lines)  # no flags: the stored settings hold
    second_run = segment_files(store, "t", ".log")
    assert len(second_run) >= 2 * len(first_run) - 1
    assert all(path.stat().st_size <= 4096 for path in second_run)
    assert shiplog.consume(store, "t").splitlines() == lines + lines


def test_direct_write_mode_persists_and_leaves_whole_segments(shiplog, store):
    lines = [f"record {i:05d} " + "d" * 40 for i in range(300)]
    shiplog.produce(store, "t", lines, "--write-mode", "direct",
                    "--segment-bytes", "4096")
    assert "write.mode=direct" in (store / "t" / "log.properties").read_text()
    shiplog.produce(store, "t", lines)  # no flags: still direct
    assert "write.mode=direct" in (store / "t" / "log.properties").read_text()
    assert shiplog.consume(store, "t").splitlines() == lines + lines
    # A clean close trims the padding direct writes leave: every batch
    # verifies and no file holds a byte past its last batch.
    verify = shiplog.run("dump", store / "t", "--verify")
    assert verify.returncode == 0, verify.stdout.decode()
    assert b"no problems" in verify.stdout
    shiplog.produce(store, "t", ["buffered"], "--write-mode", "buffered")
    assert "write.mode" not in (store / "t" / "log.properties").read_text()
    assert shiplog.consume(store, "t").splitlines()[-1] == "buffered"
    bad = shiplog.run("produce", store, "t", "--write-mode", "sometimes",
                      input=b"x\n")
    assert bad.returncode != 0
    assert b"--write-mode" in bad.stderr


def test_consume_and_dump_while_a_producer_holds_the_store(
        shiplog, store, line_reader):
    producer = shiplog.popen("produce", store, "t", "--print-offsets")
    offsets = line_reader(producer.stdout)
    try:
        producer.stdin.write(b"".join(b"line %d\n" % i for i in range(5)))
        producer.stdin.flush()
        assert [offsets.readline() for _ in range(5)] == [str(i) for i in range(5)]

        assert shiplog.consume(store, "t").splitlines() == [f"line {i}" for i in range(5)]
        second = shiplog.run("produce", store, "t", input=b"x\n")
        assert second.returncode == 1
        assert b"locked by another writer" in second.stderr

        # The active segment's indexes are preallocated: empty slots, not
        # problems.
        index_dump = shiplog.ok("dump", store / "t" / FIRST_INDEX).decode()
        assert re.search(r"^\d+ preallocated empty slots$", index_dump, re.M)
        verify = shiplog.run("dump", store / "t", "--verify")
        assert verify.returncode == 0, verify.stdout.decode()
        assert verify.stdout.decode().endswith(
            "verified: 1 batches, 5 records, 1 segments, no problems\n")
        assert producer.poll() is None
    finally:
        producer.stdin.close()
    assert producer.wait(TIMEOUT_S) == 0


# ---- command-line errors ----

@pytest.mark.parametrize("name", ["../x", "a/b", "", ".", ".."])
@pytest.mark.parametrize("command", ["produce", "consume"])
def test_bad_log_names_are_refused(shiplog, tmp_path, command, name):
    store = tmp_path / "store"
    result = shiplog.run(command, store, name, input=b"value\n")
    assert result.returncode in (1, 2)
    assert result.stderr.startswith(f"shiplog {command}: log name".encode())
    outside = [path for path in tmp_path.rglob("*")
               if path != store and store not in path.parents]
    assert outside == []
    assert not (tmp_path / "x").exists() and not (store / "a").exists()


@pytest.mark.parametrize("command", ["produce", "consume", "send"])
def test_bad_log_names_get_the_librarys_message(
        shiplog, library, tmp_path, command):
    # The library's rule, which also reserves the names of the store's own
    # files (here, those of a real store).
    existing = tmp_path / "existing"
    shiplog.produce(existing, "t", ["v"])
    store_files = sorted(path.name for path in existing.iterdir()
                         if path.is_file())
    assert store_files
    store = tmp_path / "store"
    required = ["--to", "127.0.0.1:1"] if command == "send" else []
    for name in ["", "a/b", "..", "tab\there", "x" * 250, *store_files]:
        result = shiplog.run(command, store, name, *required, input=b"value\n")
        assert result.returncode == 2, name
        assert result.stderr.decode() == (
            f"shiplog {command}: {library.log_name_error(name)}\n")
        assert not store.exists()


@pytest.mark.parametrize("args, message", [
    (["produce", "S", "t", "--bogus"], "shiplog produce: unknown flag '--bogus'"),
    (["produce", "S", "t", "-x"], "shiplog produce: unknown flag '-x'"),
    (["produce", "S", "t", "--batch-records", "x"],
     "shiplog produce: --batch-records: expected a positive integer, got 'x'"),
    (["produce", "S", "t", "--batch-records", "0"],
     "shiplog produce: --batch-records: expected a positive integer, got '0'"),
    (["produce", "S", "t", "--segment-bytes", "12k"],
     "shiplog produce: --segment-bytes: expected a positive integer, got '12k'"),
    (["produce", "S", "t", "--retention-ms", "-2"],
     "shiplog produce: --retention-ms: expected a non-negative integer or -1, got '-2'"),
    (["produce", "S", "t", "--compression", "gzip"],
     "shiplog produce: --compression: expected one of none, zstd; got 'gzip'"),
    (["produce", "S", "t", "--key-separator", ""],
     "shiplog produce: --key-separator: must not be empty"),
    (["produce", "S", "t", "--print-offsets=yes"],
     "shiplog produce: --print-offsets: takes no value"),
    (["consume", "S", "t", "--count", "-1"],
     "shiplog consume: --count: expected a non-negative integer, got '-1'"),
    (["consume", "S", "t", "--offset"], "shiplog consume: --offset: missing value"),
    (["consume", "S", "t", "--offset", "1", "--time", "2"],
     "shiplog consume: --offset and --time"),
    (["consume", "S", "t", "--count", "1", "--count", "2"],
     "shiplog consume: --count: given more than once"),
    (["consume", "S"], "shiplog consume: missing LOG"),
    (["consume", "S", "t", "extra"], "shiplog consume: unexpected argument 'extra'"),
    (["dump"], "shiplog dump: missing PATH"),
    (["frobnicate"], "shiplog: unknown command 'frobnicate'"),
    (["--frobnicate"], "shiplog: unknown flag '--frobnicate'"),
])
def test_usage_errors_exit_2_with_one_line(shiplog, tmp_path, args, message):
    store = tmp_path / "s"
    result = shiplog.run(*[store if arg == "S" else arg for arg in args])
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert stderr.startswith(message)
    assert stderr.count("\n") == 1
    assert result.stdout == b""
    assert not store.exists()


def test_min_free_bytes_refuses_the_append(shiplog, tmp_path):
    result = shiplog.run("produce", tmp_path / "s", "t", "--min-free-bytes",
                         str(1 << 62), input=b"v\n")
    assert result.returncode == 1
    assert b"min_free_bytes" in result.stderr
    assert shiplog.ok("consume", tmp_path / "s", "t") == b""


def test_segment_caps_keep_every_record_readable(shiplog, tmp_path):
    lines = b"".join(b"line %d\n" % i for i in range(200))
    shiplog.ok("produce", tmp_path / "s", "t", "--segment-bytes", "200",
               "--batch-records", "1", "--max-open-segment-files", "4",
               "--max-segment-mappings", "4", input=lines)
    assert len(list((tmp_path / "s" / "t").glob("*.log"))) > 50
    assert shiplog.ok("consume", tmp_path / "s", "t") == lines


def test_engine_errors_exit_1(shiplog, tmp_path):
    result = shiplog.run("consume", tmp_path / "missing", "t")
    assert result.returncode == 1
    assert result.stderr.startswith(b"shiplog consume: ")
    # A setting the engine refuses (segment.bytes below a batch header).
    result = shiplog.run("produce", tmp_path / "s", "t", "--segment-bytes", "10",
                         input=b"v\n")
    assert result.returncode == 1
    assert b"segment.bytes" in result.stderr


@pytest.mark.parametrize("command", sorted(FLAGS))
def test_help_describes_every_flag(shiplog, command):
    for help_flag in ("--help", "-h"):
        out = shiplog.ok(command, help_flag).decode()
        assert out.startswith(f"Usage: shiplog {command} ")
        for flag in FLAGS[command] + ["--help"]:
            assert re.search(rf"^  (-h, )?{flag}\b.*\S", out, re.M), flag


def test_tool_help_and_version(shiplog):
    out = shiplog.ok("--help").decode()
    for command in FLAGS:
        assert re.search(rf"^  {command} ", out, re.M)
    # The tool reports the library's version, the one shiplog.h declares.
    header = (REPO / "capi" / "include" / "shiplog.h").read_text()
    version = re.search(r'#define SHIPLOG_VERSION_STRING "([0-9.]+)"', header)
    assert shiplog.ok("--version") == f"shiplog {version[1]}\n".encode()
    assert shiplog.run().returncode == 2


# ---- dump ----

def test_dump_log_prints_one_line_per_batch(shiplog, store):
    start = now_ms()
    shiplog.produce(store, "t", [f"v{i}" for i in range(50)], "--batch-records", "10")
    end = now_ms()
    log = store / "t" / FIRST_LOG
    rows = batches(shiplog.ok("dump", log))
    assert [row[:2] for row in rows] == [(i, i + 9) for i in range(0, 50, 10)]
    position = 0
    for _, _, row_position, size, count, compression, base_ts, max_ts in rows:
        assert (row_position, count, compression) == (position, 10, "none")
        assert start <= base_ts <= max_ts <= end
        position += size
    assert position == log.stat().st_size


def test_dump_index_files_print_their_entries(shiplog, store):
    shiplog.produce(store, "t", [f"value {i:04d}" for i in range(300)],
                    "--batch-records", "5", "--index-interval-bytes", "200")
    index = (store / "t" / FIRST_INDEX).read_bytes()
    entries = [struct.unpack_from(">II", index, i) for i in range(0, len(index), 8)]
    assert len(entries) > 5
    assert shiplog.ok("dump", store / "t" / FIRST_INDEX).decode().splitlines() == [
        f"offset: {relative} position: {position}" for relative, position in entries]

    timeindex = (store / "t" / FIRST_TIMEINDEX).read_bytes()
    time_entries = [struct.unpack_from(">qI", timeindex, i)
                    for i in range(0, len(timeindex), 12)]
    assert time_entries
    assert shiplog.ok("dump", store / "t" / FIRST_TIMEINDEX).decode().splitlines() == [
        f"timestamp: {stamp} offset: {relative}" for stamp, relative in time_entries]


def test_dump_directory_walks_segments_in_offset_order(shiplog, store):
    shiplog.produce(store, "t", [f"record {i:04d}" for i in range(200)],
                    "--segment-bytes", "1024", "--batch-records", "10")
    logs = segment_files(store, "t", ".log")
    assert len(logs) > 3
    out = shiplog.ok("dump", store / "t").decode().splitlines()
    headers = [line[len("Dumping "):] for line in out if line.startswith("Dumping ")]
    expected = []
    for log in logs:
        expected += [str(log), str(log.with_suffix(".index")),
                     str(log.with_suffix(".timeindex"))]
    assert headers == expected
    assert [row[0] for row in batches("\n".join(out).encode())] == list(range(0, 200, 10))


def test_dump_verify_accepts_a_produced_log(shiplog, store):
    shiplog.produce(store, "t", [f"record {i:04d}" for i in range(200)],
                    "--segment-bytes", "1024", "--batch-records", "10",
                    "--index-interval-bytes", "100")
    shiplog.produce(store, "t", [f"zstd {i:04d}" for i in range(100)],
                    "--batch-records", "10", "--compression", "zstd")
    segments = len(segment_files(store, "t", ".log"))
    out = shiplog.ok("dump", store / "t", "--verify").decode()
    assert "PROBLEM" not in out
    assert out.splitlines()[-1] == (
        f"verified: 30 batches, 300 records, {segments} segments, no problems")
    for suffix in (".log", ".index", ".timeindex"):
        path = store / "t" / ("00000000000000000000" + suffix)
        assert shiplog.run("dump", path, "--verify").returncode == 0


def test_dump_verify_reports_a_crc_mismatch(shiplog, store):
    shiplog.produce(store, "t", [f"v{i}" for i in range(30)], "--batch-records", "10")
    log = store / "t" / FIRST_LOG
    second = batches(shiplog.ok("dump", log))[1]
    flip_byte(log, second[2] + 61 + 3)  # inside the second batch's records
    for path in (log, store / "t"):
        result = shiplog.run("dump", path, "--verify")
        assert result.returncode == 1
        assert f"PROBLEM: {log}: batch at position {second[2]}: CRC mismatch" in (
            result.stdout.decode())
    assert "verified" not in result.stdout.decode()


def test_dump_verify_reports_every_bad_batch(shiplog, store):
    shiplog.produce(store, "t", [f"v{i}" for i in range(50)], "--batch-records", "10")
    log = store / "t" / FIRST_LOG
    rows = batches(shiplog.ok("dump", log))
    bad = [rows[1][2], rows[3][2]]
    for position in bad:
        flip_byte(log, position + 61 + 3)  # inside the batch's records
    for path in (log, store / "t"):
        result = shiplog.run("dump", path, "--verify")
        assert result.returncode == 1
        out = result.stdout.decode()
        problems = [line for line in out.splitlines()
                    if line.startswith("PROBLEM: ")]
        assert len(problems) == len(bad)
        for problem, position in zip(problems, bad):
            assert problem.startswith(
                f"PROBLEM: {log}: batch at position {position}: CRC mismatch")
        # The walk went on past each bad batch, to the end of the segment.
        assert batches(result.stdout) == rows
        assert out.splitlines()[-1] == (
            f"found {len(bad)} problems in 5 batches, 50 records, 1 segments")


def test_dump_verify_checks_records_not_only_the_crc(shiplog, store):
    shiplog.produce(store, "t", [f"v{i}" for i in range(30)], "--batch-records", "10")
    log = store / "t" / FIRST_LOG
    _, _, position, size, *_ = batches(shiplog.ok("dump", log))[1]
    data = bytearray(log.read_bytes())
    # RecordBatch v2: crc (uint32) at byte 17 covers bytes 21 on; records
    # start at 61: length, attributes, timestampDelta, offsetDelta.
    assert crc32c(data[position + 21:position + size]) == (
        struct.unpack_from(">I", data, position + 17)[0])
    delta = skip_varint(data, skip_varint(data, position + 61) + 1)
    assert data[delta] == 0  # record 0's offsetDelta, zigzag encoded
    data[delta] = 2  # offsetDelta 1, which record 1 has too
    struct.pack_into(">I", data, position + 17,
                     crc32c(data[position + 21:position + size]))
    log.write_bytes(bytes(data))
    result = shiplog.run("dump", log, "--verify")
    assert result.returncode == 1
    problems = [line for line in result.stdout.decode().splitlines()
                if line.startswith("PROBLEM: ")]
    assert len(problems) == 1
    assert problems[0].startswith(f"PROBLEM: {log}: batch at position {position}: ")
    assert "CRC" not in problems[0]


def test_dump_verify_reports_a_bad_index_entry(shiplog, store):
    shiplog.produce(store, "t", [f"value {i:04d}" for i in range(300)],
                    "--batch-records", "5", "--index-interval-bytes", "200")
    index = store / "t" / FIRST_INDEX
    assert shiplog.run("dump", index, "--verify").returncode == 0
    data = bytearray(index.read_bytes())
    relative, position = struct.unpack_from(">II", data, 8 * 2)
    struct.pack_into(">II", data, 8 * 2, relative, position + 1)
    index.write_bytes(bytes(data))
    result = shiplog.run("dump", index, "--verify")
    assert result.returncode == 1
    assert re.search(rf"^PROBLEM: {re.escape(str(index))}: entry 2 .*no batch starts",
                     result.stdout.decode(), re.M)


def test_dump_verify_reports_a_bad_timeindex_entry(shiplog, store):
    shiplog.produce(store, "t", [f"value {i:04d}" for i in range(300)],
                    "--batch-records", "5", "--index-interval-bytes", "200")
    timeindex = store / "t" / FIRST_TIMEINDEX
    data = bytearray(timeindex.read_bytes())
    stamp, relative = struct.unpack_from(">qI", data, 0)
    struct.pack_into(">qI", data, 0, stamp - 1, relative)
    timeindex.write_bytes(bytes(data))
    result = shiplog.run("dump", store / "t", "--verify")
    assert result.returncode == 1
    assert f"PROBLEM: {timeindex}: entry 0" in result.stdout.decode()


def test_dump_verify_reports_a_missing_segment(shiplog, store):
    shiplog.produce(store, "t", [f"record {i:04d}" for i in range(200)],
                    "--segment-bytes", "1024", "--batch-records", "10")
    middle = segment_files(store, "t", ".log")[1]
    for suffix in (".log", ".index", ".timeindex"):
        middle.with_suffix(suffix).unlink()
    result = shiplog.run("dump", store / "t", "--verify")
    assert result.returncode == 1
    assert "previous one ends before offset" in result.stdout.decode()
