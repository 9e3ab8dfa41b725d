"""`shiplog serve` at the protocol level: Fetch waiting and limits, error
answers, every advertised version encoded by hand, topic administration and
malformed input, over raw sockets (and kafka-python where a client helps).
"""

import random
import struct
import threading
import time

import pytest
from kafka import TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.record import MemoryRecords

from conftest import TIMEOUT_S
from kafka_server_util import (
    api_versions_body, connect, consumer, create_topics_body,
    delete_topics_body, exchange, fetch_body, kcat, list_offsets_body,
    metadata_body, nothing_to_read_within, now_ms, poll_records,
    produce_body, producer, raw_frame, read_api_versions_response,
    read_back, read_create_topics_response, read_delete_topics_response,
    read_fetch_response, read_list_offsets_response,
    read_metadata_response, read_produce_response, read_response,
    record_batch, response_or_close, send_all)
from kafka_server_util import (
    OFFSET_OUT_OF_RANGE, CORRUPT_MESSAGE, UNKNOWN_TOPIC_OR_PARTITION,
    INVALID_TOPIC_EXCEPTION, UNSUPPORTED_VERSION, PRODUCE, FETCH,
    LIST_OFFSETS, METADATA, API_VERSIONS, CREATE_TOPICS, DELETE_TOPICS,
    SERVED_VERSIONS, MiB, records_of, round_trip_works, api_versions_error)
from kafka_server_util import serve  # noqa: F401 (a fixture)


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
