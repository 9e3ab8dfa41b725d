"""`shiplog serve` speaks Kafka to real Kafka clients.

kcat (librdkafka), kafka-python and confluent-kafka produce to and consume
from a server over a shiplog store, on loopback; raw sockets send it what no
client would. Topic T partition P is the store's log `T-P`, so the store is
checked with `shiplog consume` and `shiplog dump` too. Consumers are
assigned their partitions by hand: consumer groups are not this suite's
subject.
"""

import json
import random
import re
import signal
import struct
import subprocess
import threading
import time

import pytest
from kafka import TopicPartition

from conftest import TIMEOUT_S
from kafka_server_util import (
    connect, consumer, exchange, fetch_body, kcat, nothing_to_read_within,
    now_ms, produce_body, producer, raw_frame, read_back,
    read_produce_response, record_batch, response_or_close, send_all)
from kafka_server_util import (
    PRODUCE, FETCH, API_VERSIONS, MiB, start_server, records_of,
    batch_compressions, round_trip_works, api_versions_error)
from kafka_server_util import serve  # noqa: F401 (a fixture)


# --- kcat -------------------------------------------------------------------

def test_kcat_round_trips_10000_keyed_messages_with_headers(
        serve, store, shiplog):
    server = serve(store)
    lines = [f"key-{i:05d}:value {i} " + "x" * (i % 97) for i in range(10000)]
    before_ms = now_ms()
    kcat(server, "-P", "-t", "events", "-p", "0", "-K", ":",
         "-H", "app=shiplog", "-H", "run=interop",
         input="".join(f"{line}\n" for line in lines).encode())
    after_ms = now_ms()

    out = kcat(server, "-C", "-t", "events", "-p", "0", "-o", "beginning",
               "-e", "-q", "-f", r"%o\t%k\t%s\t%h\t%T\n")
    got = [line.split("\t") for line in out.decode().splitlines()]
    expected = [[str(i), *line.split(":", 1), "app=shiplog,run=interop"]
                for i, line in enumerate(lines)]
    assert [row[:4] for row in got] == expected
    assert all(before_ms <= int(row[4]) <= after_ms for row in got)

    # The topic's partition 0 is the store's log events-0.
    stored = shiplog.consume(store, "events-0", "--format",
                             r"%o\t%k\t%v\t%h\n")
    assert [line.split("\t") for line in stored.splitlines()] == expected
    assert server.stop() == 0
    shiplog.ok("dump", store / "events-0", "--verify")


@pytest.fixture(scope="module")
def timestamped(shiplog, tmp_path_factory):
    """A server whose topic `stamped` holds 100 records, record i with
    value b'v<i>' and timestamp base_ms + 1000 * i, all in one batch."""
    work_dir = tmp_path_factory.mktemp("timestamped")
    server = start_server(shiplog.binary, work_dir / "store", work_dir)
    base_ms = now_ms() - 1000 * 1000
    try:
        with producer(server, acks=1, linger_ms=1000,
                      batch_size=MiB) as client:
            send_all(client, "stamped",
                     [(None, b"v%d" % i, [], base_ms + 1000 * i)
                      for i in range(100)])
        assert batch_compressions(shiplog, work_dir / "store" / "stamped-0") \
            == ["none"], "the records must share one batch"
        yield server, base_ms
    finally:
        server.kill()


@pytest.mark.parametrize("offset_flag, first_offset", [
    ("42", 42),          # absolute
    ("-10", 90),         # relative to the end
    ("s@+57000", 57),    # by time: a record's own timestamp
    ("s@+57500", 58),    # by time: between two records
    ("s@-5", 0),         # by time: before the first record
])
def test_kcat_starts_at_the_offset_asked(timestamped, offset_flag,
                                         first_offset):
    server, base_ms = timestamped
    if offset_flag.startswith("s@"):
        offset_flag = f"s@{base_ms + int(offset_flag[2:])}"
    out = kcat(server, "-C", "-t", "stamped", "-p", "0", "-o", offset_flag,
               "-e", "-q", "-f", r"%o\t%s\t%T\n")
    assert [line.split("\t") for line in out.decode().splitlines()] == [
        [str(i), f"v{i}", str(base_ms + 1000 * i)]
        for i in range(first_offset, 100)]


def test_kcat_zstd_batches_are_stored_compressed_and_read_back(
        serve, store, shiplog):
    server = serve(store)
    # librdkafka sends a batch uncompressed when zstd would not shrink it:
    # every value compresses, even alone in a batch.
    lines = [f"{i}:zstd record {i} " + "abc" * (40 + i % 40)
             for i in range(5000)]
    kcat(server, "-P", "-t", "packed", "-p", "0", "-z", "zstd", "-K", ":",
         input="".join(f"{line}\n" for line in lines).encode())

    compressions = batch_compressions(shiplog, store / "packed-0")
    assert compressions and set(compressions) == {"zstd"}
    got = records_of(server, "packed")
    assert [row[:6] for row in got] == [
        (str(i), str(len(key)), key, str(len(value)), value, "")
        for i, (key, value) in enumerate(l.split(":", 1) for l in lines)]
    assert server.stop() == 0
    shiplog.ok("dump", store / "packed-0", "--verify")


# --cold-read-lag 1: every fetch lies behind the end, so every record set
# goes by O_DIRECT reads, resumed by the event loop on EAGAIN (or, where
# the file system has no O_DIRECT, through the page cache as before).
@pytest.mark.parametrize(
    "flags",
    [["--send-policy", policy]
     for policy in ["sendfile", "auto", "mmap_write", "copy"]] +
    [["--cold-read-lag", "1"]],
    ids=["sendfile", "auto", "mmap_write", "copy", "cold-reads"])
def test_kcat_reads_back_under_each_send_policy(serve, store, flags):
    server = serve(store, *flags)
    lines = [f"{flags[-1]} {i} " + "y" * (i % 300) for i in range(3000)]
    kcat(server, "-P", "-t", "policy", "-p", "0",
         input="".join(f"{line}\n" for line in lines).encode())
    got = records_of(server, "policy")
    assert [(row[0], row[1], row[4]) for row in got] == [
        (str(i), "-1", line) for i, line in enumerate(lines)]


def test_kcat_metadata_lists_the_default_partitions_led_by_the_server(
        serve, store, shiplog):
    server = serve(store, "--default-partitions", "3")
    with producer(server, acks=1) as client:
        futures = [client.send("spread", value=b"p%d-%d" % (partition, i),
                               partition=partition)
                   for i in range(5) for partition in range(3)]
        client.flush(timeout=TIMEOUT_S)  # one Produce for all three
        assert all(f.get(timeout=TIMEOUT_S).offset >= 0 for f in futures)
    metadata = json.loads(kcat(server, "-L", "-J", "-t", "spread"))
    [broker] = metadata["brokers"]
    assert broker["name"] == server.bootstrap
    [topic] = metadata["topics"]
    assert topic["topic"] == "spread"
    assert sorted((p["partition"], p["leader"])
                  for p in topic["partitions"]) == [
        (p, broker["id"]) for p in range(3)]
    for partition in range(3):
        assert shiplog.consume(store, f"spread-{partition}").splitlines() == [
            f"p{partition}-{i}" for i in range(5)]

    # One consumer fetches all three partitions at once.
    partitions = [TopicPartition("spread", p) for p in range(3)]
    got = {tp: [] for tp in partitions}
    with consumer(server) as reader:
        reader.assign(partitions)
        for tp in partitions:
            reader.seek(tp, 0)
        deadline = time.monotonic() + TIMEOUT_S
        while sum(map(len, got.values())) < 15:
            assert time.monotonic() < deadline, got
            for tp, records in reader.poll(timeout_ms=1000).items():
                got[tp].extend((r.offset, r.value) for r in records)
    assert got == {tp: [(i, b"p%d-%d" % (tp.partition, i)) for i in range(5)]
                   for tp in partitions}


# --- kafka-python and confluent-kafka producers -----------------------------

def keyed_records(count, tag):
    return [(b"k%d" % i, (b"%s value %d " % (tag, i)) + b"z" * (i % 500),
             [("seq", b"%d" % i), ("tag", tag)]) for i in range(count)]


@pytest.mark.parametrize("acks, compression", [
    (0, None), (1, None), ("all", None), ("all", "zstd"), (1, "zstd")])
def test_kafka_python_producer_round_trips(serve, store, shiplog, acks,
                                           compression):
    server = serve(store)
    records = keyed_records(500, b"kp")
    with producer(server, acks=acks, compression_type=compression,
                  linger_ms=5) as client:
        metadata = send_all(client, "kp", records)
    if acks != 0:
        assert [m.offset for m in metadata] == list(range(500))
    assert read_back(server, "kp", 500) == [
        (i, key, value, headers)
        for i, (key, value, headers) in enumerate(records)]
    # kafka-python sends a batch uncompressed when zstd would not shrink it.
    compressions = set(batch_compressions(shiplog, store / "kp-0"))
    if compression:
        assert compression in compressions
        assert compressions <= {compression, "none"}
    else:
        assert compressions == {"none"}


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_confluent_producer_round_trips(serve, store, acks):
    from confluent_kafka import Producer
    server = serve(store)
    records = keyed_records(500, b"ck")
    reports = []
    client = Producer({"bootstrap.servers": server.bootstrap, "acks": acks,
                       "linger.ms": 5, "message.timeout.ms": TIMEOUT_S * 1000})
    for key, value, headers in records:
        client.produce("ck", value=value, key=key, headers=headers,
                       partition=0,
                       on_delivery=lambda err, msg: reports.append(
                           (err, msg.offset())))
        client.poll(0)
    assert client.flush(TIMEOUT_S) == 0
    assert [err for err, _ in reports] == [None] * 500
    if acks != "0":
        assert sorted(offset for _, offset in reports) == list(range(500))
    assert read_back(server, "ck", 500) == [
        (i, key, value, headers)
        for i, (key, value, headers) in enumerate(records)]


def test_concurrent_producers_get_dense_offsets_and_lose_nothing(
        serve, store):
    server = serve(store)
    offsets, failures = {}, []

    def produce(writer_id):
        try:
            records = [(b"w%d" % writer_id, b"w%d-%d" % (writer_id, i), [])
                       for i in range(400)]
            with producer(server, acks=1, linger_ms=1) as client:
                offsets[writer_id] = [m.offset
                                      for m in send_all(client, "shared",
                                                        records)]
        except Exception as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert not any(t.is_alive() for t in threads) and not failures, failures
    assert sorted(o for w in offsets.values() for o in w) == list(range(1600))

    by_offset = {offset: (key, value) for offset, key, value, _
                 in read_back(server, "shared", 1600)}
    for writer_id, written in offsets.items():
        assert written == sorted(written)  # one producer's order is kept
        assert [by_offset[o] for o in written] == [
            (b"w%d" % writer_id, b"w%d-%d" % (writer_id, i))
            for i in range(400)]


def test_confluent_consumer_with_assign_reads_back(serve, store):
    """librdkafka's consumer wants a group.id; with assign() it never joins
    the group and commits nothing (it still asks FindCoordinator)."""
    from confluent_kafka import Consumer, TopicPartition as Partition
    server = serve(store)
    records = keyed_records(300, b"cc")
    with producer(server, acks=1) as client:
        send_all(client, "cc", records)
    reader = Consumer({"bootstrap.servers": server.bootstrap,
                       "group.id": "unused", "enable.auto.commit": False,
                       "enable.auto.offset.store": False})
    try:
        reader.assign([Partition("cc", 0, 0)])
        got = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(got) < 300:
            assert time.monotonic() < deadline, f"got {len(got)} of 300"
            message = reader.poll(1.0)
            if message is None:
                continue
            assert message.error() is None, message.error()
            got.append((message.offset(), message.key(), message.value(),
                        message.headers()))
    finally:
        reader.close()
    assert got == [(i, key, value, headers)
                   for i, (key, value, headers) in enumerate(records)]


def test_large_empty_and_null_records_round_trip(serve, store):
    server = serve(store, "--max-request-bytes", 16 * MiB)

    def big(size, seed):
        return bytes(random.Random(seed).choices(b"0123456789abcdef", k=size))

    records = [(b"one-mib", big(MiB, 1), []),
               (None, big(MiB + 1, 2), []),
               (b"empty-value", b"", []),
               (None, b"", []),
               (b"null-value", None, []),
               (None, big(3 * MiB + 7, 3), [("h", b"")]),
               (b"", b"empty key", [])]
    with producer(server, acks="all", max_request_size=8 * MiB) as client:
        metadata = send_all(client, "big", records)
    assert [m.offset for m in metadata] == list(range(len(records)))
    # Default fetch sizes (1 MiB per partition): the server still sends at
    # least one whole batch, however large.
    assert read_back(server, "big", len(records)) == [
        (i, key, value, headers)
        for i, (key, value, headers) in enumerate(records)]
    got = records_of(server, "big", "-X", "fetch.message.max.bytes=65536")
    assert [row[:5] for row in got] == [
        (str(i), str(-1 if key is None else len(key)),
         (key or b"").decode(), str(-1 if value is None else len(value)),
         (value or b"").decode())
        for i, (key, value, _) in enumerate(records)]


# --- ListOffsets ------------------------------------------------------------

def test_offsets_for_times_and_beginning_and_end_offsets(timestamped):
    server, base_ms = timestamped
    tp = TopicPartition("stamped", 0)
    with consumer(server) as client:
        client.assign([tp])
        assert client.beginning_offsets([tp]) == {tp: 0}
        assert client.end_offsets([tp]) == {tp: 100}
        found = {}
        for delta_ms in (-5000, 0, 57000, 57500, 99000, 99001):
            answer = client.offsets_for_times({tp: base_ms + delta_ms})[tp]
            found[delta_ms] = None if answer is None else (
                answer.offset, answer.timestamp - base_ms)
    assert found == {-5000: (0, 0), 0: (0, 0), 57000: (57, 57000),
                     57500: (58, 58000), 99000: (99, 99000), 99001: None}


# --- restart, signals, limits on connections --------------------------------

def test_restart_keeps_data_and_continues_offsets(serve, store, shiplog):
    first = serve(store)
    old = keyed_records(100, b"before")
    with producer(first, acks="all") as client:
        send_all(client, "durable", old)
    assert first.stop() == 0

    second = serve(store)
    expected = [(i, key, value, headers)
                for i, (key, value, headers) in enumerate(old)]
    assert read_back(second, "durable", 100) == expected
    new = keyed_records(50, b"after")
    with producer(second, acks="all") as client:
        metadata = send_all(client, "durable", new)
    assert [m.offset for m in metadata] == list(range(100, 150))
    expected += [(100 + i, key, value, headers)
                 for i, (key, value, headers) in enumerate(new)]
    assert read_back(second, "durable", 150) == expected
    assert second.stop() == 0
    shiplog.ok("dump", store / "durable-0", "--verify")


def test_sigint_stops_the_server_with_status_0(serve, store):
    server = serve(store)
    round_trip_works(server, "before")
    assert server.stop(signal.SIGINT) == 0


def test_second_server_on_the_same_store_fails_with_a_message(
        serve, store, shiplog):
    serve(store)
    second = shiplog.run("serve", store, "--listen", "127.0.0.1:0")
    assert second.returncode != 0
    assert second.stdout == b"" and second.stderr.strip()


def test_listening_on_a_taken_port_fails_with_a_message(
        serve, store, shiplog, tmp_path):
    server = serve(store)
    second = shiplog.run("serve", tmp_path / "other",
                         "--listen", server.bootstrap)
    assert second.returncode != 0
    assert second.stdout == b"" and second.stderr.strip()


def test_sigterm_with_a_fetch_parked_stops_without_waiting_for_it(
        serve, store):
    server = serve(store)
    round_trip_works(server, "parked")
    with connect(server) as sock:
        sock.sendall(raw_frame(FETCH, 11, 1, fetch_body(
            11, [("parked", 0, 3, MiB)], max_wait_ms=25000)))
        assert nothing_to_read_within(sock, 0.2), "answered with no data"
        started = time.monotonic()
        assert server.stop() == 0
    assert time.monotonic() - started < 10


def test_connections_past_max_connections_are_closed(serve, store):
    server = serve(store, "--max-connections", 2)
    first, second = connect(server), connect(server)
    try:
        for correlation_id, sock in enumerate((first, second)):
            assert api_versions_error(sock, correlation_id) == 0
        with connect(server) as third:
            third.sendall(raw_frame(API_VERSIONS, 0, 3))
            assert response_or_close(third) is None
        first.close()
        # A freed slot is served again (the server notices the close
        # asynchronously: retry until it has, within the bound).
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            with connect(server) as fourth:
                fourth.sendall(raw_frame(API_VERSIONS, 0, 4))
                frame = response_or_close(fourth)
            if frame is not None:
                break
            assert time.monotonic() < deadline, "the freed slot stays taken"
        assert struct.unpack_from(">ih", frame, 4) == (4, 0)
    finally:
        first.close()
        second.close()


# --- zero copy --------------------------------------------------------------

TRACED = "sendfile,write,writev,read,readv,recvfrom,sendto,sendmsg"
SOCKET_WRITES = {"write", "writev", "sendto", "sendmsg"}
SYSCALL = re.compile(r"^(\d+)\s+(\w+)\((\d+)<([^:>\[]*)")
RESUMED = re.compile(r"^(\d+)\s+<\.\.\. (\w+) resumed>")
RESULT = re.compile(r"\)\s+=\s+(-?\d+)")


def socket_bytes_by_call(trace_text):
    """Bytes the traced calls moved through TCP sockets, by call name, from
    `strace -f -yy` output (calls split by another thread are joined)."""
    totals, pending = {}, {}
    for line in trace_text.splitlines():
        resumed = RESUMED.match(line)
        if resumed:
            name_and_kind = pending.pop(int(resumed[1]), None)
        else:
            call_match = SYSCALL.match(line)
            if not call_match:
                continue
            name_and_kind = (call_match[2], call_match[4])
            if line.endswith("<unfinished ...>"):
                pending[int(call_match[1])] = name_and_kind
                continue
        result = RESULT.search(line)
        if name_and_kind is None or not result:
            continue
        name, fd_kind = name_and_kind
        if fd_kind.startswith("TCP") and int(result[1]) > 0:
            name = "sendfile" if name.startswith("sendfile") else name
            totals[name] = totals.get(name, 0) + int(result[1])
    return totals


def skip_without_strace():
    probe = subprocess.run(["strace", "-f", "-o", "/dev/null", "true"],
                           capture_output=True, timeout=TIMEOUT_S)
    if probe.returncode != 0:
        pytest.skip("strace cannot trace here (ptrace not permitted?): "
                    + probe.stderr.decode(errors="replace").strip())


def test_fetched_records_leave_through_sendfile(serve, store, tmp_path):
    skip_without_strace()
    trace_path = tmp_path / "serve.strace"
    server = serve(store, argv_prefix=(
        "strace", "-f", "-yy", "-s", "0", "-e", f"trace={TRACED}",
        "-o", str(trace_path)))
    lines = [b"%08d " % i + b"r" * 4087 for i in range(12800)]  # 50 MiB
    data = b"\n".join(lines) + b"\n"
    kcat(server, "-P", "-t", "bulk", "-p", "0", input=data, timeout_s=90)
    out = kcat(server, "-C", "-t", "bulk", "-p", "0", "-o", "beginning",
               "-e", "-q", "-f", r"%s\n", timeout_s=90)
    assert out == data
    assert server.stop() == 0

    log_bytes = sum(p.stat().st_size for p in (store / "bulk-0").glob("*.log"))
    assert log_bytes >= len(data)
    totals = socket_bytes_by_call(trace_path.read_text(errors="replace"))
    sent_by_sendfile = totals.get("sendfile", 0)
    written = sum(totals.get(name, 0) for name in SOCKET_WRITES)
    assert sent_by_sendfile >= 0.95 * log_bytes, (totals, log_bytes)
    assert written < 0.01 * log_bytes, (totals, log_bytes)


def test_acks_all_is_answered_after_fdatasync(serve, store, tmp_path):
    skip_without_strace()
    trace_path = tmp_path / "serve.strace"
    server = serve(store, argv_prefix=(
        "strace", "-f", "-yy", "-s", "0", "-e",
        "trace=fdatasync,fsync,write,writev,sendto,sendmsg",
        "-o", str(trace_path)))
    with connect(server) as sock:
        local_port = sock.getsockname()[1]
        [(_, [answer])] = read_produce_response(7, exchange(
            sock, PRODUCE, 7, 1, produce_body(
                "synced", 0, record_batch([b"durable"]), acks=-1)))
    assert answer["error_code"] == 0
    assert server.stop() == 0

    lines = trace_path.read_text(errors="replace").splitlines()
    to_client = f"->127.0.0.1:{local_port}]>"
    response_at = next(i for i, line in enumerate(lines) if to_client in line)
    segment_synced = re.compile(
        r"(fdatasync|fsync)\(\d+</[^>]*/synced-0/\d{20}\.log>\) += 0$")
    assert any(segment_synced.search(line) for line in lines[:response_at]), \
        "no fdatasync of synced-0's segment completed before the answer"
