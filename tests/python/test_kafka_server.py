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
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.record import MemoryRecords

from conftest import TIMEOUT_S
from kafka_server_util import (
    Server, api_versions_body, connect, consumer, create_topics_body,
    delete_topics_body, exchange, fetch_body, kcat, list_offsets_body,
    metadata_body, nothing_to_read_within, now_ms, poll_records,
    produce_body, producer, raw_frame, read_api_versions_response, read_back,
    read_create_topics_response, read_delete_topics_response,
    read_fetch_response, read_list_offsets_response, read_metadata_response,
    read_produce_response, read_response, record_batch, response_or_close,
    send_all)

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


@pytest.mark.parametrize("policy", ["sendfile", "auto", "mmap_write", "copy"])
def test_kcat_reads_back_under_each_send_policy(serve, store, policy):
    server = serve(store, "--send-policy", policy)
    lines = [f"{policy} {i} " + "y" * (i % 300) for i in range(3000)]
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


# --- Fetch: long polling and errors -----------------------------------------

def batches_of(record_set):
    """The complete batches of a record set: [(base offset, [values])]."""
    batches, records = [], MemoryRecords(record_set or b"")
    while records.has_next():
        batch = records.next_batch()
        batches.append((batch.base_offset, [r.value for r in batch]))
    return batches


def fetch(sock, correlation_id, partitions, max_wait_ms=0,
          max_bytes=50 * MiB, version=11):
    """Sends a Fetch of `partitions` [(topic, partition, offset,
    partition_max_bytes)]; returns [(topic, partition dict)]."""
    return read_fetch_response(version, exchange(
        sock, FETCH, version, correlation_id,
        fetch_body(version, partitions, max_wait_ms, max_bytes=max_bytes)))


def fetch_once(server, partitions, max_bytes=50 * MiB):
    with connect(server) as sock:
        return fetch(sock, 1, partitions, max_bytes=max_bytes)


def test_long_polling_consumer_wakes_when_a_message_is_produced(serve, store):
    server = serve(store)
    max_wait_ms = 20000
    tp = TopicPartition("poll", 0)
    with producer(server, acks=1) as writer, \
            consumer(server, fetch_max_wait_ms=max_wait_ms,
                     request_timeout_ms=2 * max_wait_ms) as reader:
        send_all(writer, "poll", [(None, b"first", [])])
        reader.assign([tp])
        reader.seek(tp, 0)
        assert [r.value for r in poll_records(reader, tp, 1)] == [b"first"]
        # The consumer now has a fetch for offset 1 in flight, which the
        # server can only answer by waiting for max_wait_ms or for data.
        polling, received = threading.Event(), {}

        def wait_for_next():
            polling.set()
            received["records"] = poll_records(reader, tp, 1)
            received["at"] = time.monotonic()

        thread = threading.Thread(target=wait_for_next)
        thread.start()
        assert polling.wait(TIMEOUT_S)
        sent_at = time.monotonic()
        send_all(writer, "poll", [(None, b"second", [])])
        thread.join(TIMEOUT_S + 1)
        assert not thread.is_alive()
    assert [r.value for r in received["records"]] == [b"second"]
    latency_s = received["at"] - sent_at
    assert latency_s < max_wait_ms / 1000 / 2, latency_s


def test_fetch_without_data_waits_max_wait_then_wakes_on_produce(
        serve, store):
    server = serve(store)
    held = [("held", 0, 1, MiB)]
    with producer(server, acks=1) as writer, connect(server) as sock:
        send_all(writer, "held", [(None, b"first", [])])
        started = time.monotonic()
        [(_, empty)] = fetch(sock, 1, held, max_wait_ms=400)
        assert time.monotonic() - started >= 0.35
        assert (empty["error_code"], empty["high_watermark"],
                empty["records"] or b"") == (0, 1, b"")

        sock.sendall(raw_frame(FETCH, 11, 2, fetch_body(11, held, 20000)))
        assert nothing_to_read_within(sock, 0.2), "answered with no data"
        sent_at = time.monotonic()
        send_all(writer, "held", [(None, b"second", [])])
        [(_, woken)] = read_fetch_response(11, read_response(sock, 2))
        latency_s = time.monotonic() - sent_at
    assert (woken["error_code"], woken["high_watermark"]) == (0, 2)
    assert batches_of(woken["records"]) == [(1, [b"second"])]
    assert latency_s < 10, latency_s


def test_fetch_past_the_end_is_offset_out_of_range(serve, store):
    server = serve(store)
    with producer(server, acks=1) as writer, connect(server) as sock:
        send_all(writer, "short", [(None, b"only", [])])
        [(_, at_end)] = fetch(sock, 1, [("short", 0, 1, MiB)])
        [(_, past_end)] = fetch(sock, 2, [("short", 0, 5, MiB)])
    assert (at_end["error_code"], at_end["records"] or b"") == (0, b"")
    assert past_end["error_code"] == OFFSET_OUT_OF_RANGE


def test_fetch_of_an_unknown_topic_is_unknown_topic_or_partition(
        serve, store):
    server = serve(store)
    with connect(server) as sock:
        [(_, answer)] = fetch(sock, 1, [("nowhere", 0, 0, MiB)])
    assert answer["error_code"] == UNKNOWN_TOPIC_OR_PARTITION


# --- error answers ----------------------------------------------------------

def test_produce_to_a_missing_partition_is_unknown_topic_or_partition(
        serve, store):
    server = serve(store)
    with connect(server) as sock:
        [(_, [to_zero])] = read_produce_response(7, exchange(
            sock, PRODUCE, 7, 1, produce_body("one", 0, record_batch([b"a"]))))
        [(_, [to_five])] = read_produce_response(7, exchange(
            sock, PRODUCE, 7, 2, produce_body("one", 5, record_batch([b"b"]))))
    assert (to_zero["error_code"], to_five["error_code"]) == (
        0, UNKNOWN_TOPIC_OR_PARTITION)


def test_list_offsets_of_an_unknown_topic_is_unknown_topic_or_partition(
        serve, store):
    server = serve(store)
    with connect(server) as sock:
        error_code, _, _ = read_list_offsets_response(2, exchange(
            sock, LIST_OFFSETS, 2, 1, list_offsets_body(2, "nowhere", 0, -1)))
    assert error_code == UNKNOWN_TOPIC_OR_PARTITION


def test_metadata_for_an_illegal_topic_name_is_invalid_topic(serve, store):
    server = serve(store)
    with connect(server) as sock:
        _, _, topics = read_metadata_response(4, exchange(
            sock, METADATA, 4, 1, metadata_body(4, ["bad/name", "x" * 250])))
    assert [(error, name, parts) for error, name, parts in topics] == [
        (INVALID_TOPIC_EXCEPTION, "bad/name", []),
        (INVALID_TOPIC_EXCEPTION, "x" * 250, [])]


# --- Fetch limits -----------------------------------------------------------

def produce_batches(server, topic, batches, partition=0):
    """Appends each batch with its own Produce (v7, acks=1)."""
    with connect(server) as sock:
        for index, batch in enumerate(batches):
            [(_, [answer])] = read_produce_response(7, exchange(
                sock, PRODUCE, 7, index,
                produce_body(topic, partition, batch)))
            assert answer["error_code"] == 0, answer


TEN_BATCHES = [record_batch([b"%d-%d " % (b, r) + b"p" * 1000
                             for r in range(10)]) for b in range(10)]
BATCH_BYTES = len(TEN_BATCHES[0])


def test_fetch_returns_a_whole_first_batch_larger_than_max_bytes(
        serve, store):
    server = serve(store)
    produce_batches(server, "wide", TEN_BATCHES)
    [(_, answer)] = fetch_once(server, [("wide", 0, 0, 100)])
    assert answer["error_code"] == 0
    assert len(answer["records"]) == BATCH_BYTES
    assert batches_of(answer["records"]) == [
        (0, [b"0-%d " % r + b"p" * 1000 for r in range(10)])]


def test_fetch_stays_within_partition_max_bytes(serve, store):
    server = serve(store)
    produce_batches(server, "wide", TEN_BATCHES)
    limit = BATCH_BYTES * 5 // 2
    [(_, answer)] = fetch_once(server, [("wide", 0, 10, limit)])
    assert len(answer["records"]) <= limit
    assert [base for base, _ in batches_of(answer["records"])] == [10, 20]


def test_fetch_stays_within_response_max_bytes(serve, store):
    server = serve(store, "--default-partitions", 2)
    for partition in (0, 1):
        produce_batches(server, "pair", TEN_BATCHES, partition)
    both = [("pair", 0, 0, MiB), ("pair", 1, 0, MiB)]

    limit = BATCH_BYTES * 5 // 2
    answers = fetch_once(server, both, max_bytes=limit)
    assert sum(len(a["records"] or b"") for _, a in answers) <= limit
    assert [base for base, _ in batches_of(answers[0][1]["records"])] == [
        0, 10]

    # The first partition gets one whole batch even past the limit.
    answers = fetch_once(server, both, max_bytes=1)
    assert [len(a["records"] or b"") for _, a in answers] == [BATCH_BYTES, 0]


# --- every advertised version, encoded by hand ------------------------------

def test_every_produce_version_is_read_back_by_every_fetch_version(
        serve, store):
    server = serve(store)
    low, high = SERVED_VERSIONS[PRODUCE]
    with connect(server) as sock:
        for version in range(low, high + 1):
            [(topic, [answer])] = read_produce_response(version, exchange(
                sock, PRODUCE, version, version, produce_body(
                    "versions", 0, record_batch([b"by v%d" % version]))))
            assert (topic, answer["error_code"], answer["base_offset"]) == (
                "versions", 0, version - low), answer
    produced = [(offset, [b"by v%d" % (offset + low)])
                for offset in range(high - low + 1)]

    low, high = SERVED_VERSIONS[FETCH]
    with connect(server) as sock:
        for version in range(low, high + 1):
            [(topic, answer)] = fetch(sock, version, [("versions", 0, 0, MiB)],
                                      version=version)
            assert (topic, answer["error_code"], answer["high_watermark"]) \
                == ("versions", 0, len(produced)), version
            assert batches_of(answer["records"]) == produced, version


def test_every_list_offsets_version_finds_earliest_latest_and_by_time(
        serve, store):
    server = serve(store)
    base_ms = now_ms() - 100000
    with producer(server, acks=1) as client:
        send_all(client, "when", [(None, b"%d" % i, [], base_ms + 1000 * i)
                                  for i in range(10)])
    low, high = SERVED_VERSIONS[LIST_OFFSETS]
    with connect(server) as sock:
        for version in range(low, high + 1):
            def ask(timestamp_ms, correlation_id):
                return read_list_offsets_response(version, exchange(
                    sock, LIST_OFFSETS, version, correlation_id,
                    list_offsets_body(version, "when", 0, timestamp_ms)))
            assert ask(-2, 1)[::2] == (0, 0), version   # earliest
            assert ask(-1, 2)[::2] == (0, 10), version  # latest
            assert ask(base_ms + 3500, 3) == (0, base_ms + 4000, 4), version


def test_every_metadata_version_describes_the_server_and_topic(
        serve, store):
    server = serve(store, "--default-partitions", 2)
    low, high = SERVED_VERSIONS[METADATA]
    with connect(server) as sock:
        for version in range(low, high + 1):
            brokers, controller_id, topics = read_metadata_response(
                version, exchange(sock, METADATA, version, version,
                                  metadata_body(version, ["described"])))
            [(node_id, host, port)] = brokers
            assert (host, port) == ("127.0.0.1", server.port), version
            assert controller_id in (None, node_id), version
            assert topics == [(0, "described", [
                (0, p, node_id, [node_id], [node_id]) for p in (0, 1)])], \
                version


# --- ApiVersions, CreateTopics, DeleteTopics --------------------------------

@pytest.mark.parametrize("version", range(4))
def test_api_versions_advertises_the_served_versions(serve, store, version):
    """v3 (librdkafka's first request) is flexible: header v2, compact
    fields, tag buffers; its response header stays v0."""
    server = serve(store)
    with connect(server) as sock:
        error_code, advertised = read_api_versions_response(
            version, exchange(sock, API_VERSIONS, version, 1,
                              api_versions_body(version)))
    assert error_code == 0
    for key, (low, high) in SERVED_VERSIONS.items():
        assert key in advertised, f"API key {key} not advertised"
        assert advertised[key][0] <= low and advertised[key][1] >= high, key


def topic_names(sock, correlation_id):
    """Every topic but the internal ones (`__consumer_offsets`) with its
    number of partitions, by Metadata v1 (which creates none)."""
    _, _, topics = read_metadata_response(1, exchange(
        sock, METADATA, 1, correlation_id, metadata_body(1, None)))
    return {name: len(partitions) for _, name, partitions in topics
            if not name.startswith("__")}


def test_every_create_and_delete_topics_version_works(serve, store):
    server = serve(store)
    created = {}
    with connect(server) as sock:
        low, high = SERVED_VERSIONS[CREATE_TOPICS]
        for version in range(low, high + 1):
            name = f"made-v{version}"
            assert read_create_topics_response(version, exchange(
                sock, CREATE_TOPICS, version, version,
                create_topics_body(version, [name], 2))) == {name: 0}
            created[name] = 2
        assert topic_names(sock, 100) == created

        low, high = SERVED_VERSIONS[DELETE_TOPICS]
        for version in range(low, high + 1):
            name = f"made-v{version}"
            assert read_delete_topics_response(version, exchange(
                sock, DELETE_TOPICS, version, version,
                delete_topics_body([name]))) == {name: 0}
            del created[name]
        assert topic_names(sock, 101) == created


@pytest.fixture
def admin(serve, store):
    server = serve(store)
    client = KafkaAdminClient(bootstrap_servers=server.bootstrap,
                              request_timeout_ms=TIMEOUT_S * 1000)
    try:
        yield server, client
    finally:
        client.close()


def test_create_topics_makes_the_partitions_asked(admin, store, shiplog):
    server, client = admin
    client.create_topics([NewTopic("made", num_partitions=4,
                                   replication_factor=1)])
    with consumer(server) as reader:
        assert reader.partitions_for_topic("made") == {0, 1, 2, 3}
    with producer(server, acks=1) as writer:
        send_all(writer, "made", [(None, b"in three", [])], partition=3)
    assert read_back(server, "made", 1, partition=3) == [
        (0, None, b"in three", [])]
    assert shiplog.consume(store, "made-3") == "in three\n"


def test_reads_cross_segments_of_a_topic_made_with_small_segments(
        admin, store, shiplog):
    server, client = admin
    client.create_topics([NewTopic("rolled", 1, 1, topic_configs={
        "segment.bytes": str(64 * 1024)})])
    lines = [f"{i:06d} " + "s" * (i % 900) for i in range(3000)]
    # Batches must fit a segment: kept to 16 KiB.
    kcat(server, "-P", "-t", "rolled", "-p", "0", "-X", "batch.size=16384",
         input="".join(f"{line}\n" for line in lines).encode())
    assert len(list((store / "rolled-0").glob("*.log"))) > 10
    assert [row[4] for row in records_of(server, "rolled")] == lines
    assert [value for _, _, value, _ in read_back(server, "rolled", 3000)] \
        == [line.encode() for line in lines]
    assert server.stop() == 0
    shiplog.ok("dump", store / "rolled-0", "--verify")


def test_create_topics_twice_is_topic_already_exists(admin):
    _, client = admin
    client.create_topics([NewTopic("twice", 1, 1)])
    with pytest.raises(TopicAlreadyExistsError):
        client.create_topics([NewTopic("twice", 1, 1)])


def test_deleted_topic_is_gone_and_comes_back_empty(admin):
    server, client = admin
    with producer(server, acks=1) as writer:
        send_all(writer, "doomed",
                 [(None, b"old %d" % i, []) for i in range(3)])
    assert "doomed" in client.list_topics()
    client.delete_topics(["doomed"])
    assert "doomed" not in client.list_topics()
    client.create_topics([NewTopic("doomed", 1, 1)])
    with producer(server, acks=1) as writer:
        [metadata] = send_all(writer, "doomed", [(None, b"new", [])])
    assert metadata.offset == 0
    assert read_back(server, "doomed", 1) == [(0, None, b"new", [])]


def test_corrupt_batch_is_refused_and_nothing_is_written(serve, store,
                                                        shiplog):
    server = serve(store)
    good = record_batch([b"kept %d" % i for i in range(3)])
    corrupt = bytearray(record_batch([b"lost %d" % i for i in range(3)]))
    corrupt[-2] ^= 0xFF  # in the last record: the CRC no longer matches
    with connect(server) as sock:
        [(_, [refused])] = read_produce_response(7, exchange(
            sock, PRODUCE, 7, 1, produce_body("guarded", 0, bytes(corrupt))))
        [(_, [accepted])] = read_produce_response(7, exchange(
            sock, PRODUCE, 7, 2, produce_body("guarded", 0, good)))
    assert refused["error_code"] == CORRUPT_MESSAGE
    assert (accepted["error_code"], accepted["base_offset"]) == (0, 0)
    assert read_back(server, "guarded", 3) == [
        (i, None, b"kept %d" % i, []) for i in range(3)]
    assert shiplog.consume(store, "guarded-0").splitlines() == [
        "kept 0", "kept 1", "kept 2"]


# --- malformed input --------------------------------------------------------

def round_trip_works(server, topic):
    """A well-behaved client can still produce and consume."""
    records = [(b"k%d" % i, b"after bad input %d" % i, []) for i in range(3)]
    with producer(server, acks=1) as client:
        metadata = send_all(client, topic, records)
    assert [m.offset for m in metadata] == [0, 1, 2]
    assert read_back(server, topic, 3) == [
        (i, key, value, headers)
        for i, (key, value, headers) in enumerate(records)]


MAX_REQUEST_BYTES = MiB


def send_truncated_frame_then_close(server):
    with connect(server) as sock:
        frame = raw_frame(API_VERSIONS, 0, 1)
        sock.sendall(struct.pack(">i", 100) + frame[4:14])


def send_size_past_max_request_bytes(server):
    with connect(server) as sock:
        sock.sendall(struct.pack(">i", 2 * MAX_REQUEST_BYTES)
                     + raw_frame(API_VERSIONS, 0, 1)[4:])
        assert response_or_close(sock) is None, "answered an oversized frame"


def closed_or_unsupported_version(sock, correlation_id):
    """Closing is as good as answering UNSUPPORTED_VERSION as the body's
    first field (what bindings/kafka/PROTOCOL.md says the server does)."""
    frame = response_or_close(sock)
    if frame is not None:
        assert struct.unpack_from(">ih", frame, 4) == (
            correlation_id, UNSUPPORTED_VERSION)


def send_unknown_api_key(server):
    with connect(server) as sock:
        sock.sendall(raw_frame(1000, 0, 9))
        closed_or_unsupported_version(sock, 9)


def send_unsupported_api_versions_version(server):
    with connect(server) as sock:
        # Header v2 layout (a tag buffer after client_id): what a newer
        # client sends; a server reading header v1 sees one body byte.
        sock.sendall(raw_frame(API_VERSIONS, 99, 11, b"\x00"))
        body = read_response(sock, 11)
    (error_code,) = struct.unpack_from(">h", body)
    assert error_code == UNSUPPORTED_VERSION


def send_unsupported_metadata_version(server):
    with connect(server) as sock:
        sock.sendall(raw_frame(METADATA, 99, 12, b"\x00" + b"\xff" * 8))
        closed_or_unsupported_version(sock, 12)


def send_garbage_then_close(server):
    with connect(server) as sock:
        sock.sendall(random.Random(7).randbytes(4096))


def send_garbage_in_a_frame(server):
    with connect(server) as sock:
        garbage = random.Random(8).randbytes(64)
        sock.sendall(struct.pack(">i", len(garbage)) + garbage)
        response_or_close(sock)


def send_negative_size(server):
    with connect(server) as sock:
        sock.sendall(struct.pack(">i", -5) + b"\x00" * 16)
        assert response_or_close(sock) is None, "answered a negative size"


@pytest.mark.parametrize("misbehave", [
    send_truncated_frame_then_close,
    send_size_past_max_request_bytes,
    send_unknown_api_key,
    send_unsupported_api_versions_version,
    send_unsupported_metadata_version,
    send_garbage_then_close,
    send_garbage_in_a_frame,
    send_negative_size,
], ids=lambda f: f.__name__[len("send_"):])
def test_server_keeps_serving_after_malformed_input(serve, store, misbehave):
    server = serve(store, "--max-request-bytes", MAX_REQUEST_BYTES)
    misbehave(server)
    assert server.alive(), server.stderr()
    round_trip_works(server, "after")


def api_versions_error(sock, correlation_id):
    return read_api_versions_response(0, exchange(
        sock, API_VERSIONS, 0, correlation_id))[0]


def test_half_sent_request_does_not_stall_other_clients(serve, store):
    server = serve(store)
    with connect(server) as stalled:
        frame = raw_frame(API_VERSIONS, 0, 1)
        stalled.sendall(frame[:len(frame) - 2])
        round_trip_works(server, "meanwhile")
        stalled.sendall(frame[len(frame) - 2:])
        assert read_api_versions_response(
            0, read_response(stalled, 1))[0] == 0


def test_idle_connection_is_closed_after_idle_timeout(serve, store):
    server = serve(store, "--idle-timeout-ms", 300)
    with connect(server) as sock:
        assert api_versions_error(sock, 1) == 0
        started = time.monotonic()
        assert response_or_close(sock) is None
        assert time.monotonic() - started >= 0.25


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
