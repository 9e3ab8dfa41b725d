"""What test_replication.py needs to drive `shiplog replicate`: a leader
(`shiplog serve`) that can come back on its port, a follower process, a
scripted fake leader for what a shiplog server never sends, record
batches, and the bytes of a log.

Every wait here is bounded by TIMEOUT_S; reaching a bound is a failure.
"""

import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from kafka.protocol.admin import ApiVersionResponse
from kafka.protocol.fetch import FetchRequest, FetchResponse
from kafka.protocol.metadata import MetadataResponse
from kafka.record.default_records import DefaultRecordBatchBuilder

from conftest import TIMEOUT_S, LineReader
from kafka_server_util import LISTENING


class Leader:
    """`shiplog serve STORE`. The first start picks a free port; a restart
    passes it again, so the follower's --from still names the leader.
    (kafka_server_util.Server always asks for a free port.)"""

    def __init__(self, binary, store, stderr_path, port=0, flags=()):
        self.store = store
        self.stderr_path = stderr_path
        with open(stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(
                [binary, "serve", str(store), "--listen", f"127.0.0.1:{port}",
                 *map(str, flags)],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=stderr)
        line = LineReader(self.process.stdout).readline()
        match = LISTENING.match(line)
        assert match, f"unexpected first line {line!r}"
        self.port = int(match[1])
        self.bootstrap = f"127.0.0.1:{self.port}"

    def stop(self):
        """SIGTERM; asserts a clean exit."""
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(TIMEOUT_S) == 0, self.stderr_path.read_text()
        self.process.stdout.close()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT_S)
        self.process.stdout.close()


class Follower:
    """`shiplog replicate STORE --from LEADER FLAGS...`, its stderr kept in
    a file (appended to across restarts)."""

    def __init__(self, binary, store, leader_port, stderr_path, flags=()):
        self.store = store
        self.stderr_path = stderr_path
        with open(stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(
                [binary, "replicate", str(store),
                 "--from", f"127.0.0.1:{leader_port}", *map(str, flags)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr)

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def stop(self):
        """SIGTERM; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(TIMEOUT_S)

    def kill9(self):
        self.process.kill()
        self.process.wait(TIMEOUT_S)


class FakeLeader:
    """A leader that is a test's script: it answers ApiVersions, Metadata
    (topic "t", one partition) and Fetch, the last with whatever
    `answer_fetch(offset)` returns as (high_watermark, record bytes): what
    a shiplog server never sends. Fetches with nothing to answer wait as a
    leader's long poll does. Records the offsets it was asked for."""

    def __init__(self, answer_fetch):
        self.answer_fetch = answer_fetch
        self.fetch_offsets = []
        self.closed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def kill(self):
        self.closed.set()
        self.thread.join(TIMEOUT_S)
        self.listener.close()

    def _serve(self):
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except socket.timeout:
                continue
            with connection:
                connection.settimeout(0.1)
                try:
                    while not self.closed.is_set():
                        self._answer(connection)
                except (ConnectionError, EOFError):
                    pass

    def _receive(self, connection, size):
        data = b""
        while len(data) < size:
            try:
                chunk = connection.recv(size - len(data))
            except socket.timeout:
                if self.closed.is_set():
                    raise EOFError() from None
                continue
            if not chunk:
                raise EOFError()
            data += chunk
        return data

    def _answer(self, connection):
        (size,) = struct.unpack(">i", self._receive(connection, 4))
        request = self._receive(connection, size)
        api_key, version, correlation_id, client_length = struct.unpack_from(
            ">hhih", request)
        body = request[10 + max(client_length, 0):]
        if api_key == 18:
            response = ApiVersionResponse[0](
                error_code=0,
                api_versions=[(1, 4, 11), (3, 0, 5), (18, 0, 0)])
        elif api_key == 3:
            assert version == 5, f"Metadata v{version}"
            response = MetadataResponse[5](
                throttle_time_ms=0,
                brokers=[(0, "127.0.0.1", self.port, None)],
                cluster_id="fake", controller_id=0,
                topics=[(0, "t", False, [(0, 0, 0, [0], [0], [])])])
        else:
            assert (api_key, version) == (1, 11), f"API {api_key} v{version}"
            fetch = FetchRequest[11].decode(body)
            offset = fetch.topics[0][1][0][2]
            self.fetch_offsets.append(offset)
            high_watermark, records = self.answer_fetch(offset)
            if not records:
                self.closed.wait(fetch.max_wait_time / 1000)
            response = FetchResponse[11](
                throttle_time_ms=0, error_code=0, session_id=0,
                topics=[("t", [(0, 0, high_watermark, high_watermark, 0,
                                None, -1, records)])])
        payload = struct.pack(">i", correlation_id) + response.encode()
        connection.sendall(struct.pack(">i", len(payload)) + payload)


def batch(base_offset, count):
    """A RecordBatch v2 of `count` records at `base_offset`."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=0, is_transactional=0, producer_id=-1,
        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for delta in range(count):
        builder.append(delta, timestamp=1700000000000 + delta, key=None,
                       value=f"r{base_offset + delta}".encode(), headers=[])
    data = builder.build()
    struct.pack_into(">q", data, 0, base_offset)  # outside the CRC
    return bytes(data)


def wait_for(condition, what):
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def log_bytes(store, log):
    """The log's batches: its .log files, in offset order, concatenated."""
    directory = Path(store) / log
    if not directory.is_dir():
        return None
    return b"".join(path.read_bytes()
                    for path in sorted(directory.glob("*.log")))


def same_bytes(leader_store, follower_store, log):
    leader = log_bytes(leader_store, log)
    return bool(leader) and leader == log_bytes(follower_store, log)
