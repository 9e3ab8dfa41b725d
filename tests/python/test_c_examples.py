"""The plain-C examples of bindings/c, run as their users would run them.

shiplog-producer and shiplog-consumer round-trip lines through a log.
shiplog-server ships log ranges to several clients at once; what each client
receives is compared byte for byte with the segment files, whose batch
boundaries are found with struct, independently of shiplog (log_contents,
shared with the tests of `shiplog send`). CTest passes the programs' directory in
SHIPLOG_BIN_DIR (tests/python/CMakeLists.txt).
"""

import os
import signal
import socket
import struct
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import TIMEOUT_S, LineReader
# The segments' batches, found with struct, as the send tests find them.
from test_send_stats_bench import log_contents

LOG = "events-0"
RECORDS = 16000
BATCH_LINES = 100
SEGMENT_BYTES = 1 << 20
PORT_ATTEMPTS = 5


@pytest.fixture(scope="session")
def bin_dir():
    """Where the examples are built: beside the `shiplog` tool."""
    if "SHIPLOG_BIN_DIR" not in os.environ:
        pytest.fail("SHIPLOG_BIN_DIR is not set: run the tests through ctest")
    return Path(os.environ["SHIPLOG_BIN_DIR"])


def run(program, *args, input=b""):
    return subprocess.run([str(program), *map(str, args)], input=input,
                          capture_output=True, timeout=TIMEOUT_S)


def lines_input(lines):
    return "".join(line + "\n" for line in lines).encode()


# ---- producer and consumer ----

def test_producer_and_consumer_round_trip(bin_dir, tmp_path):
    store = tmp_path / "store"
    lines = [f"key{i}:value {i}" if i % 3 else f"no key {i}"
             for i in range(250)]
    produced = run(bin_dir / "shiplog-producer", store, "t", "--batch", 100,
                   "--keys", "--flush-every", 150, input=lines_input(lines))
    assert produced.returncode == 0, produced.stderr.decode()
    assert produced.stdout.decode().splitlines() == [
        "0..99", "100..199", "200..249"]

    def as_consumed(offset, line):
        key, separator, value = line.partition(":")
        return f"{offset}\t{key}\t{value}" if separator else f"{offset}\t\t{line}"

    consumed = run(bin_dir / "shiplog-consumer", store, "t")
    assert consumed.returncode == 0, consumed.stderr.decode()
    assert consumed.stdout.decode().splitlines() == [
        as_consumed(i, line) for i, line in enumerate(lines)]
    # From inside a batch: the records before the offset are skipped.
    consumed = run(bin_dir / "shiplog-consumer", store, "t", 150)
    assert consumed.stdout.decode().splitlines() == [
        as_consumed(i, line) for i, line in enumerate(lines)][150:]


def test_producer_keeps_empty_keys_values_and_line_ends(bin_dir, tmp_path):
    store = tmp_path / "store"
    produced = run(bin_dir / "shiplog-producer", store, "t", "--keys",
                   input=b"k:\r\n:v\n\nlast without newline")
    assert produced.returncode == 0, produced.stderr.decode()
    assert produced.stdout == b"0..3\n"
    consumed = run(bin_dir / "shiplog-consumer", store, "t")
    assert consumed.stdout == (b"0\tk\t\n1\t\tv\n2\t\t\n"
                               b"3\t\tlast without newline\n")


def test_consumer_errors(bin_dir, tmp_path):
    store = tmp_path / "store"
    run(bin_dir / "shiplog-producer", store, "t", input=b"a\nb\n")
    at_end = run(bin_dir / "shiplog-consumer", store, "t", 2)
    assert (at_end.returncode, at_end.stdout) == (0, b"")
    past_end = run(bin_dir / "shiplog-consumer", store, "t", 3)
    assert past_end.returncode == 1
    assert b"SHIPLOG_ERANGE" in past_end.stderr
    missing = run(bin_dir / "shiplog-consumer", store, "nope")
    assert missing.returncode == 1
    assert b"SHIPLOG_ENOTFOUND" in missing.stderr
    assert not (store / "nope").exists()
    for args in ([], [store], [store, "t", "-1"], [store, "t", "x"]):
        assert run(bin_dir / "shiplog-consumer", *args).returncode == 2
    for args in ([store], [store, "t", "--batch", "0"], [store, "t", "--x"]):
        assert run(bin_dir / "shiplog-producer", *args).returncode == 2


# ---- server ----

def expected_range(data, batches, offset, max_bytes):
    """The batch holding `offset`, whole, then the next ones while they fit
    in `max_bytes`."""
    first = next(i for i, batch in enumerate(batches)
                 if batch.base_offset <= offset <= batch.last_offset)
    start = batches[first].stream_position
    end = start + batches[first].size
    for batch in batches[first + 1:]:
        if end + batch.size - start > max_bytes:
            break
        end += batch.size
    return data[start:end]


def read_line(sock):
    line = b""
    while not line.endswith(b"\n"):
        byte = sock.recv(1)
        assert byte, f"the connection ended after {line!r}"
        line += byte
    return line[:-1].decode()


def read_exactly(sock, size):
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 1 << 20))
        assert chunk, f"the connection ended after {len(data)} of {size} bytes"
        data += chunk
    return bytes(data)


def fetch(sock, offset, max_bytes):
    """One request on a connected socket; returns the range's bytes."""
    sock.sendall(f"{offset} {max_bytes}\n".encode())
    status, _, size = read_line(sock).partition(" ")
    assert status == "OK", f"{status} {size}"
    return read_exactly(sock, int(size))


def connect(port, receive_buffer=None):
    """A connection to 127.0.0.1:`port`; `receive_buffer` (SO_RCVBUF) is
    set before connecting, so the TCP window stays that small."""
    sock = socket.socket()
    try:
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                            receive_buffer)
        sock.settimeout(TIMEOUT_S)
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def unused_port():
    """A port nobody listens on right now: bound, then closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A running shiplog-server and the lines of its stderr."""

    def __init__(self, process, port):
        self.process = process
        self.port = port
        self.stderr = LineReader(process.stderr)

    @classmethod
    def start(cls, bin_dir, store):
        # The port is picked here, so it may be taken by the time the
        # server binds it: then it says so, and another is tried.
        for _ in range(PORT_ATTEMPTS):
            port = unused_port()
            process = subprocess.Popen(
                [str(bin_dir / "shiplog-server"), str(store), LOG, str(port)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
            server = cls(process, port)
            line = server.stderr.readline()
            if line.startswith("shiplog-server: listening on"):
                return server
            assert process.wait(TIMEOUT_S) == 1
            process.stderr.close()
            assert "Address already in use" in line, line
        pytest.fail(f"no free port in {PORT_ATTEMPTS} attempts")

    def wait_for_line(self, text):
        """The next stderr line holding `text`, skipping others."""
        while True:
            line = self.stderr.readline()
            if text in line:
                return line

    def stop(self, signal_number=signal.SIGTERM):
        """Signals the server; returns its exit status."""
        self.process.send_signal(signal_number)
        status = self.process.wait(TIMEOUT_S)
        self.wait_for_line("stopping")
        self.process.stderr.close()
        return status

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT_S)
        self.process.stderr.close()


@pytest.fixture(scope="module")
def served_store(tmp_path_factory, bin_dir):
    """A log of ~16 MB across many segments, written by shiplog-producer."""
    store = tmp_path_factory.mktemp("server") / "store"
    # Settings are stored with the log: the tool creates it with small
    # segments, so that ranges cross from one segment file to the next.
    created = run(bin_dir / "shiplog", "produce", store, LOG,
                  "--segment-bytes", SEGMENT_BYTES)
    assert created.returncode == 0, created.stderr.decode()
    lines = [f"key{i}:" + "v" * 1000 for i in range(RECORDS)]
    produced = run(bin_dir / "shiplog-producer", store, LOG, "--batch",
                   BATCH_LINES, "--keys", input=lines_input(lines))
    assert produced.returncode == 0, produced.stderr.decode()
    assert len(list((store / LOG).glob("*.log"))) >= 10
    return store


@pytest.fixture
def server(bin_dir, served_store):
    running = Server.start(bin_dir, served_store)
    yield running
    running.kill()


def test_three_clients_at_once_get_their_ranges_exactly(server, served_store):
    data, batches = log_contents(served_store, LOG)
    third = batches[len(batches) // 3]
    half = batches[len(batches) // 2]
    requests = [(0, 7 << 20),
                (third.base_offset + 7, 6 << 20),
                (half.last_offset, 100 << 20)]  # to the log's end
    received = [None] * len(requests)
    errors = []
    all_started = threading.Barrier(len(requests), timeout=TIMEOUT_S)

    def client(index, offset, max_bytes):
        try:
            with connect(server.port, receive_buffer=64 << 10) as sock:
                sock.sendall(f"{offset} {max_bytes}\n".encode())
                status, _, size = read_line(sock).partition(" ")
                assert status == "OK"
                first = read_exactly(sock, 1000)
                # Nobody reads on until every client has its first bytes:
                # the server, on one thread, has to leave a range part-sent
                # (its socket full: EAGAIN) to start on the next client's.
                all_started.wait()
                received[index] = first + read_exactly(sock, int(size) - 1000)
        except Exception as error:  # reported by the main thread
            errors.append(error)
            all_started.abort()

    threads = [threading.Thread(target=client, args=(i, *request))
               for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
        assert not thread.is_alive(), "a client never got its range"
    assert errors == []
    for (offset, max_bytes), got in zip(requests, received):
        assert got == expected_range(data, batches, offset, max_bytes)
    for _ in requests:
        server.wait_for_line(": sent ")
    assert server.process.poll() is None


def test_requests_follow_one_another_on_a_connection(server, served_store):
    data, batches = log_contents(served_store, LOG)
    with connect(server.port) as sock:
        assert fetch(sock, 5, 1) == expected_range(data, batches, 5, 1)
        middle = batches[len(batches) // 2]
        assert fetch(sock, middle.base_offset, 250_000) == expected_range(
            data, batches, middle.base_offset, 250_000)
        assert fetch(sock, RECORDS, 1000) == b""  # the log's end
    assert "sent 0 bytes" in server.wait_for_line(f": {RECORDS} 1000: ")


@pytest.mark.parametrize("sent, error", [
    (f"{RECORDS + 1} 100\n", "ERROR SHIPLOG_ERANGE"),
    ("five 100\n", "ERROR malformed request"),
    ("5\n", "ERROR malformed request"),
    ("-1 100\n", "ERROR malformed request"),
    # As much as the server's request buffer holds (64 bytes), no '\n'.
    ("1" * 64, "ERROR malformed request: line too long"),
])
def test_a_bad_request_gets_an_error_and_the_connection_ends(
        server, sent, error):
    with connect(server.port) as sock:
        sock.sendall(sent.encode())
        assert read_line(sock).startswith(error)
        assert sock.recv(1) == b""
    assert server.process.poll() is None


def test_a_client_leaving_mid_range_does_not_stop_the_server(
        server, served_store):
    data, batches = log_contents(served_store, LOG)
    # A small window, so the server is far from done when the client goes.
    with connect(server.port, receive_buffer=4096) as sock:
        sock.sendall(f"0 {len(data)}\n".encode())
        assert read_line(sock) == f"OK {len(data)}"
        assert read_exactly(sock, 1000) == data[:1000]
        # A reset rather than an orderly close: the server's next send
        # fails at once (EPIPE or ECONNRESET, never SIGPIPE).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    line = server.wait_for_line("stopped after")
    assert "SHIPLOG_EPEERCLOSED" in line
    assert server.process.poll() is None
    with connect(server.port) as sock:
        assert fetch(sock, 0, 1) == data[:batches[0].size]


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_server_cleanly(bin_dir, served_store,
                                               signal_number):
    server = Server.start(bin_dir, served_store)
    try:
        with connect(server.port) as idle:
            fetch(idle, 0, 1)  # served: the server holds this connection
            assert server.stop(signal_number) == 0
            assert idle.recv(1) == b""  # dropped on the way out
    finally:
        server.kill()


def test_server_usage_and_open_errors(bin_dir, served_store, tmp_path):
    program = bin_dir / "shiplog-server"
    for args in ([], [served_store, LOG], [served_store, LOG, 0],
                 [served_store, LOG, 70000], [served_store, LOG, "x"]):
        assert run(program, *args).returncode == 2
    missing = run(program, served_store, "nope", unused_port())
    assert missing.returncode == 1
    assert b"SHIPLOG_ENOTFOUND" in missing.stderr
    no_store = run(program, tmp_path / "none", LOG, unused_port())
    assert no_store.returncode == 1
