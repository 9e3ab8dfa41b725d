"""What test_kafka_server.py needs to drive `shiplog serve`: the server as a
child process (optionally under strace), raw Kafka frames over a socket,
kcat runs, and kafka-python clients that fail within a bound instead of
hanging.

Every wait here is bounded by TIMEOUT_S; reaching a bound is a failure.
"""

import os
import re
import select
import signal
import socket
import struct
import subprocess
import time
from contextlib import contextmanager

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.record.default_records import DefaultRecordBatchBuilder

from conftest import TIMEOUT_S

LISTENING = re.compile(r"^shiplog serve: listening on 127\.0\.0\.1:(\d+)$")


def now_ms():
    return int(time.time() * 1000)


class Server:
    """One `shiplog serve` process; `argv_prefix` runs it under a wrapper
    (strace), in which case signals go to the wrapper's child, the server.
    The process gets a session of its own, so kill() reaches its child too.
    """

    def __init__(self, binary, store, flags, stderr_path, argv_prefix=()):
        self.stderr_path = stderr_path
        argv = [*argv_prefix, binary, "serve", str(store),
                "--listen", "127.0.0.1:0", *map(str, flags)]
        # LeakSanitizer cannot run under ptrace: an ASan build's server
        # leaves leak checking to the runs no wrapper traces.
        env = {**os.environ, "LSAN_OPTIONS": "detect_leaks=0"}
        with open(stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=stderr, start_new_session=True,
                env=env if argv_prefix else None)
        try:
            line = self._read_first_line()
            match = LISTENING.match(line)
            assert match, f"unexpected first line {line!r}; {self.stderr()}"
            self.port = int(match[1])
            self.bootstrap = f"127.0.0.1:{self.port}"
            self.server_pid = (self._child_pid() if argv_prefix
                               else self.process.pid)
        except BaseException:
            self.kill()
            raise

    def stderr(self):
        return "stderr: " + self.stderr_path.read_text(errors="replace")

    def _read_first_line(self):
        fd = self.process.stdout.fileno()
        pending = b""
        deadline = time.monotonic() + TIMEOUT_S
        while b"\n" not in pending:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no listening line in time; {self.stderr()}"
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            assert chunk, (f"server exited ({self.process.wait(TIMEOUT_S)}) "
                           f"before listening; {self.stderr()}")
            pending += chunk
        return pending.split(b"\n", 1)[0].decode(errors="replace")

    def _child_pid(self):
        """The wrapper's one child: the server. /proc/*/stat field 4 is the
        parent's pid."""
        children = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(entry))
        assert len(children) == 1, f"wrapper children: {children}"
        return children[0]

    def alive(self):
        return self.process.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig`; returns the exit status (the server's, through
        strace) once it has exited, having printed nothing more."""
        if self.alive():
            os.kill(self.server_pid, sig)
        try:
            status = self.process.wait(TIMEOUT_S)
            assert self.process.stdout.read() == b"", "more than one line"
            return status
        finally:
            self.kill()

    def kill(self):
        """Makes sure nothing of this server survives (fixture finalizer):
        SIGKILL to its session's process group, whatever is left of it."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(TIMEOUT_S)
        self.process.stdout.close()


# --- raw Kafka frames -------------------------------------------------------

def connect(server):
    sock = socket.create_connection(("127.0.0.1", server.port),
                                    timeout=TIMEOUT_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def raw_frame(api_key, api_version, correlation_id, body=b"",
              client_id=b"shiplog-test"):
    """A request header v1 with any key and version, then `body` (which
    starts with the header's tag buffer for a flexible version)."""
    payload = (struct.pack(">hhih", api_key, api_version, correlation_id,
                           len(client_id)) + client_id + body)
    return struct.pack(">i", len(payload)) + payload


def recv_exact(sock, size, deadline):
    data = b""
    while len(data) < size:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def read_response(sock, correlation_id, timeout_s=TIMEOUT_S):
    """The body of the next response (after its correlation id), which must
    carry `correlation_id`."""
    deadline = time.monotonic() + timeout_s
    (size,) = struct.unpack(">i", recv_exact(sock, 4, deadline))
    payload = recv_exact(sock, size, deadline)
    (got,) = struct.unpack_from(">i", payload)
    assert got == correlation_id, f"correlation id {got}, not {correlation_id}"
    return payload[4:]


def response_or_close(sock, timeout_s=TIMEOUT_S):
    """Waits for the server to answer or to close the connection: the raw
    frame it sent (size prefix included), or None if it closed."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "the server neither answered nor closed"
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return None
        except socket.timeout:
            continue
        if not chunk:
            return data or None
        data += chunk
        if len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[:4], "big"):
            return data


def nothing_to_read_within(sock, timeout_s):
    """True if no byte arrives and the peer does not close for timeout_s."""
    ready, _, _ = select.select([sock], [], [], timeout_s)
    return not ready


# --- requests and responses, every version, encoded by hand ---
# (kafka-python's own structs misdescribe some: its ListOffsets v4 leader
# epoch is an int64, its Produce v8 response lacks record_errors.)

def i8(value):
    return struct.pack(">b", value)


def i16(value):
    return struct.pack(">h", value)


def i32(value):
    return struct.pack(">i", value)


def i64(value):
    return struct.pack(">q", value)


def string(value):
    if value is None:
        return i16(-1)
    data = value.encode()
    return i16(len(data)) + data


def array(items, encode):
    """An ARRAY; None is the null array."""
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(encode(item) for item in items)


def uvarint(value):
    data = b""
    while value >= 0x80:
        data += bytes([value & 0x7F | 0x80])
        value >>= 7
    return data + bytes([value])


def compact_string(value):
    data = value.encode()
    return uvarint(len(data) + 1) + data


def nullable_bytes(value):
    return i32(-1) if value is None else i32(len(value)) + value


class Reader:
    """Reads a response body field by field; done() checks it all was read."""

    def __init__(self, data):
        self.data, self.position = data, 0

    def _take(self, fmt):
        (value,) = struct.unpack_from(fmt, self.data, self.position)
        self.position += struct.calcsize(fmt)
        return value

    def i8(self):
        return self._take(">b")

    def i16(self):
        return self._take(">h")

    def i32(self):
        return self._take(">i")

    def i64(self):
        return self._take(">q")

    def string(self):
        size = self.i16()
        if size < 0:
            return None
        self.position += size
        return self.data[self.position - size:self.position].decode()

    def bytes(self):
        size = self.i32()
        if size < 0:
            return None
        self.position += size
        assert self.position <= len(self.data), "bytes past the body's end"
        return self.data[self.position - size:self.position]

    def array(self, read_item):
        count = self.i32()
        return None if count < 0 else [read_item() for _ in range(count)]

    def uvarint(self):
        value = shift = 0
        while True:
            byte = self.data[self.position]
            self.position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def compact_array(self, read_item):
        count = self.uvarint() - 1
        return None if count < 0 else [read_item() for _ in range(count)]

    def skip_tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self.position += self.uvarint()

    def done(self):
        assert self.position == len(self.data), (
            f"{len(self.data) - self.position} bytes left in the body")


def record_batch(values, key=None, timestamp_ms=None):
    """One uncompressed RecordBatch v2 of `values`, offsets from 0."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=0, is_transactional=0, producer_id=-1,
        producer_epoch=-1, base_sequence=-1, batch_size=1 << 30)
    for delta, value in enumerate(values):
        builder.append(delta, timestamp=timestamp_ms, key=key, value=value,
                       headers=[])
    return bytes(builder.build())


def produce_body(topic, partition, records, acks=1,
                 timeout_ms=TIMEOUT_S * 1000):
    """Produce v3-v8 share one request layout."""
    return (string(None) + i16(acks) + i32(timeout_ms)
            + array([topic], lambda name: string(name) + array(
                [partition], lambda p: i32(p) + nullable_bytes(records))))


def read_produce_response(version, data):
    """[(topic, [partition dict])]."""
    reader = Reader(data)

    def partition():
        fields = {"partition": reader.i32(), "error_code": reader.i16(),
                  "base_offset": reader.i64(),
                  "log_append_time_ms": reader.i64()}
        if version >= 5:
            fields["log_start_offset"] = reader.i64()
        if version >= 8:
            fields["record_errors"] = reader.array(
                lambda: (reader.i32(), reader.string()))
            fields["error_message"] = reader.string()
        return fields

    topics = reader.array(lambda: (reader.string(), reader.array(partition)))
    reader.i32()  # throttle_time_ms
    reader.done()
    return topics


def fetch_body(version, partitions, max_wait_ms, min_bytes=1,
               max_bytes=50 << 20):
    """`partitions`: [(topic, partition, offset, partition_max_bytes)], one
    topic entry each, in order."""
    body = i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(max_bytes) + i8(0)
    if version >= 7:
        body += i32(0) + i32(-1)  # no fetch session: a full fetch

    def partition_entry(entry):
        _, partition, offset, partition_max_bytes = entry
        data = i32(partition)
        if version >= 9:
            data += i32(-1)  # current leader epoch: unknown
        data += i64(offset)
        if version >= 5:
            data += i64(-1)  # log start offset: followers only
        return data + i32(partition_max_bytes)

    body += array(partitions, lambda entry: string(entry[0]) + array(
        [entry], partition_entry))
    if version >= 7:
        body += array([], None)  # forgotten topics
    if version >= 11:
        body += string("")  # rack id
    return body


def read_fetch_response(version, data):
    """[(topic, partition dict)] in response order."""
    reader = Reader(data)
    reader.i32()  # throttle_time_ms
    if version >= 7:
        assert reader.i16() == 0, "top-level error"
        reader.i32()  # session id

    def partition():
        fields = {"partition": reader.i32(), "error_code": reader.i16(),
                  "high_watermark": reader.i64(),
                  "last_stable_offset": reader.i64()}
        if version >= 5:
            fields["log_start_offset"] = reader.i64()
        fields["aborted"] = reader.array(lambda: (reader.i64(), reader.i64()))
        if version >= 11:
            fields["preferred_read_replica"] = reader.i32()
        fields["records"] = reader.bytes()
        return fields

    topics = reader.array(lambda: (reader.string(), reader.array(partition)))
    reader.done()
    return [(topic, fields) for topic, parts in topics for fields in parts]


def list_offsets_body(version, topic, partition, timestamp_ms):
    body = i32(-1)
    if version >= 2:
        body += i8(0)  # isolation level
    entry = i32(partition)
    if version >= 4:
        entry += i32(-1)  # current leader epoch
    entry += i64(timestamp_ms)
    return body + array([topic], lambda name: string(name) + array(
        [entry], lambda e: e))


def read_list_offsets_response(version, data):
    """The one partition's (error_code, timestamp, offset)."""
    reader = Reader(data)
    if version >= 2:
        reader.i32()  # throttle_time_ms

    def partition():
        fields = (reader.i32(), reader.i16(), reader.i64(), reader.i64())
        if version >= 4:
            reader.i32()  # leader epoch
        return fields[1:]

    [(_, [answer])] = reader.array(
        lambda: (reader.string(), reader.array(partition)))
    reader.done()
    return answer


def metadata_body(version, topics):
    """`topics` None asks for every topic (v1 on; v0 asks so with [])."""
    body = array(topics, string)
    if version >= 4:
        body += i8(1)  # allow auto topic creation
    if version >= 8:
        body += i8(0) + i8(0)  # no authorized operations
    return body


def read_metadata_response(version, data):
    """(brokers [(node_id, host, port)], controller_id or None,
    topics [(error_code, name, [(error_code, partition, leader, replicas,
    isr)])])."""
    reader = Reader(data)
    if version >= 3:
        reader.i32()  # throttle_time_ms

    def broker():
        fields = (reader.i32(), reader.string(), reader.i32())
        if version >= 1:
            reader.string()  # rack
        return fields

    def partition():
        error_code, index, leader = reader.i16(), reader.i32(), reader.i32()
        if version >= 7:
            reader.i32()  # leader epoch
        replicas, isr = reader.array(reader.i32), reader.array(reader.i32)
        if version >= 5:
            reader.array(reader.i32)  # offline replicas
        return (error_code, index, leader, replicas, isr)

    def topic():
        error_code, name = reader.i16(), reader.string()
        if version >= 1:
            reader.i8()  # is_internal
        partitions = reader.array(partition)
        if version >= 8:
            reader.i32()  # topic authorized operations
        return (error_code, name, partitions)

    brokers = reader.array(broker)
    if version >= 2:
        reader.string()  # cluster id
    controller_id = reader.i32() if version >= 1 else None
    topics = reader.array(topic)
    if version >= 8:
        reader.i32()  # cluster authorized operations
    reader.done()
    return brokers, controller_id, topics


def api_versions_body(version):
    """v3 is flexible: the header's tag buffer, then compact strings."""
    if version < 3:
        return b""
    return (b"\x00" + compact_string("shiplog-test") + compact_string("1.0")
            + b"\x00")


def read_api_versions_response(version, data):
    """(error_code, {api_key: (min_version, max_version)}). The response
    header is v0 for every version."""
    reader = Reader(data)
    error_code = reader.i16()
    if version >= 3:
        def entry():
            fields = (reader.i16(), reader.i16(), reader.i16())
            reader.skip_tagged_fields()
            return fields
        entries = reader.compact_array(entry)
    else:
        entries = reader.array(
            lambda: (reader.i16(), reader.i16(), reader.i16()))
    if version >= 1:
        reader.i32()  # throttle_time_ms
    if version >= 3:
        reader.skip_tagged_fields()
    reader.done()
    return error_code, {key: (low, high) for key, low, high in entries}


def create_topics_body(version, names, partitions):
    def topic(name):
        return (string(name) + i32(partitions) + i16(1)
                + array([], None) + array([], None))
    body = array(names, topic) + i32(TIMEOUT_S * 1000)
    if version >= 1:
        body += i8(0)  # validate only: no
    return body


def read_create_topics_response(version, data):
    """{name: error_code}."""
    reader = Reader(data)
    if version >= 2:
        reader.i32()  # throttle_time_ms

    def topic():
        fields = (reader.string(), reader.i16())
        if version >= 1:
            reader.string()  # error message
        return fields

    topics = reader.array(topic)
    reader.done()
    return dict(topics)


def delete_topics_body(names):
    return array(names, string) + i32(TIMEOUT_S * 1000)


def read_delete_topics_response(version, data):
    """{name: error_code}."""
    reader = Reader(data)
    if version >= 1:
        reader.i32()  # throttle_time_ms
    topics = reader.array(lambda: (reader.string(), reader.i16()))
    reader.done()
    return dict(topics)


def exchange(sock, api_key, version, correlation_id, body=b"",
             timeout_s=TIMEOUT_S):
    """Sends a request with header v1 and returns its response body."""
    sock.sendall(raw_frame(api_key, version, correlation_id, body))
    return read_response(sock, correlation_id, timeout_s)


# --- kcat -------------------------------------------------------------------

def kcat(server, *args, input=None, timeout_s=TIMEOUT_S):
    """Runs kcat against the server; asserts exit 0; returns stdout bytes."""
    argv = ["kcat", "-b", server.bootstrap, *map(str, args)]
    result = subprocess.run(argv, input=input, capture_output=True,
                            timeout=timeout_s)
    assert result.returncode == 0, (
        f"{argv} exited {result.returncode}: "
        f"{result.stderr.decode(errors='replace')}")
    return result.stdout


# --- kafka-python -----------------------------------------------------------

@contextmanager
def producer(server, **config):
    client = KafkaProducer(bootstrap_servers=server.bootstrap,
                           request_timeout_ms=TIMEOUT_S * 1000,
                           max_block_ms=TIMEOUT_S * 1000, **config)
    try:
        yield client
    finally:
        client.close(timeout=TIMEOUT_S)


@contextmanager
def consumer(server, **config):
    """A consumer without a group: partitions are assigned by the test. An
    OFFSET_OUT_OF_RANGE answer raises instead of silently moving on."""
    config.setdefault("request_timeout_ms", TIMEOUT_S * 1000)
    config.setdefault("auto_offset_reset", "none")
    client = KafkaConsumer(bootstrap_servers=server.bootstrap, group_id=None,
                           enable_auto_commit=False, **config)
    try:
        yield client
    finally:
        client.close(autocommit=False)


def send_all(client, topic, records, partition=0):
    """Sends (key, value, headers[, timestamp_ms]) tuples in order; returns
    the RecordMetadata of each once the producer's acks said so."""
    futures = []
    for record in records:
        key, value, headers = record[:3]
        timestamp_ms = record[3] if len(record) > 3 else None
        futures.append(client.send(topic, key=key, value=value,
                                   headers=headers, partition=partition,
                                   timestamp_ms=timestamp_ms))
    client.flush(timeout=TIMEOUT_S)
    return [future.get(timeout=TIMEOUT_S) for future in futures]


def poll_records(client, partition, count):
    """Polls an assigned consumer until it has `count` records of
    `partition` (a TopicPartition)."""
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(records) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"got {len(records)} of {count} records in time"
        polled = client.poll(timeout_ms=int(min(remaining, 1) * 1000))
        records.extend(polled.get(partition, []))
    return records


def read_back(server, topic, count, partition=0, start=0, **config):
    """The `count` records of topic-partition from `start`, as
    (offset, key, value, headers) tuples, by a manually assigned consumer.
    Asserts they are all the partition holds (its end offset)."""
    tp = TopicPartition(topic, partition)
    with consumer(server, **config) as client:
        client.assign([tp])
        client.seek(tp, start)
        records = poll_records(client, tp, count)
        assert client.end_offsets([tp])[tp] == start + count
    return [(r.offset, r.key, r.value, [(k, v) for k, v in r.headers])
            for r in records]


# --- shared by the suites: codes, the served versions, the server fixture ---

OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
UNSUPPORTED_VERSION = 35

PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3
API_VERSIONS, CREATE_TOPICS, DELETE_TOPICS = 18, 19, 20

# The APIs and versions the server serves (its contract), by API key.
SERVED_VERSIONS = {
    PRODUCE: (3, 8),
    FETCH: (4, 11),
    LIST_OFFSETS: (1, 5),
    METADATA: (0, 8),
    API_VERSIONS: (0, 3),
    CREATE_TOPICS: (0, 4),
    DELETE_TOPICS: (0, 3),
}

MiB = 1 << 20


def start_server(binary, store, work_dir, flags=(), argv_prefix=()):
    index = len(list(work_dir.glob("serve-*.stderr")))
    return Server(binary, store, flags, work_dir / f"serve-{index}.stderr",
                  argv_prefix)


@pytest.fixture
def serve(shiplog, tmp_path):
    """Starts `shiplog serve STORE FLAGS...`; every server is stopped (and
    killed if it will not stop) when the test ends."""
    servers = []

    def start(store, *flags, argv_prefix=()):
        server = start_server(shiplog.binary, store, tmp_path, flags,
                              argv_prefix)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()


def records_of(server, topic, *kcat_flags):
    """kcat's view of a whole partition 0: one tuple per record of the
    fields of '%o\\t%K\\t%k\\t%S\\t%s\\t%h\\t%T'."""
    out = kcat(server, "-C", "-t", topic, "-p", 0, "-o", "beginning", "-e",
               "-q", "-f", r"%o\t%K\t%k\t%S\t%s\t%h\t%T\n", *kcat_flags)
    return [tuple(line.split("\t")) for line in out.decode().splitlines()]


def batch_compressions(shiplog, log_dir):
    dump = shiplog.ok("dump", log_dir).decode()
    return re.findall(r"^baseOffset: .* compression: (\w+) ", dump, re.M)

def round_trip_works(server, topic):
    """A well-behaved client can still produce and consume."""
    records = [(b"k%d" % i, b"after bad input %d" % i, []) for i in range(3)]
    with producer(server, acks=1) as client:
        metadata = send_all(client, topic, records)
    assert [m.offset for m in metadata] == [0, 1, 2]
    assert read_back(server, topic, 3) == [
        (i, key, value, headers)
        for i, (key, value, headers) in enumerate(records)]


def api_versions_error(sock, correlation_id):
    return read_api_versions_response(0, exchange(
        sock, API_VERSIONS, 0, correlation_id))[0]
