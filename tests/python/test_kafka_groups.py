"""Consumer groups and the metrics endpoint of `shiplog serve`, driven by
real clients: confluent-kafka (librdkafka 2.0) and kafka-python 2.0.

Every wait is bounded (TIMEOUT_S or an explicit deadline); reaching a bound
is a failure, never a way to synchronise.
"""

import re
import select
import subprocess
import time
import urllib.error
import urllib.request

import confluent_kafka
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from conftest import TIMEOUT_S
from kafka_server_util import Server

PARTITIONS = 4


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


@pytest.fixture
def server(shiplog, store, tmp_path):
    started = Server(shiplog.binary, store,
                     ["--default-partitions", PARTITIONS],
                     tmp_path / "server.stderr")
    yield started
    started.kill()


def produce(bootstrap, topic, count, first=0):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(first, first + count):
        producer.send(topic, key=b"k%d" % i, value=b"v%d" % i)
    producer.flush(TIMEOUT_S)
    producer.close(TIMEOUT_S)


def group_consumer(bootstrap, group, topic):
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 300,
    })
    consumer.subscribe([topic])
    return consumer


def poll_until(consumers, want, deadline_s):
    """Polls every consumer in turn until `want` distinct values arrived
    or the deadline passed; returns {value: [names of consumers]} and
    {name: set of partitions it received from}."""
    seen = {}
    partitions = {name: set() for name in consumers}
    deadline = time.monotonic() + deadline_s
    while len(seen) < want and time.monotonic() < deadline:
        for name, consumer in consumers.items():
            message = consumer.poll(0.1)
            if message is None or message.error():
                continue
            seen.setdefault(message.value(), []).append(name)
            partitions[name].add(message.partition())
    return seen, partitions


def wait_for_assignments(consumers, deadline_s):
    """Polls until every consumer has partitions (the group settled)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        for consumer in consumers:
            consumer.poll(0.1)
        if all(consumer.assignment() for consumer in consumers):
            return
    pytest.fail("the group never gave every member partitions")


def test_two_members_split_the_partitions_and_the_survivor_takes_over(server):
    admin = KafkaAdminClient(bootstrap_servers=server.bootstrap)
    admin.create_topics([NewTopic("clicks", PARTITIONS, 1)])
    admin.close()
    a = group_consumer(server.bootstrap, "readers", "clicks")
    b = group_consumer(server.bootstrap, "readers", "clicks")
    try:
        # Messages produced once the group settled go to exactly one member
        # (before that, a rebalance without commits may deliver twice, as
        # Kafka's at-least-once semantics allow).
        wait_for_assignments([a, b], 60)
        produce(server.bootstrap, "clicks", 200)
        seen, partitions = poll_until({"a": a, "b": b}, 200, 60)
        assert len(seen) == 200, f"only {len(seen)} of 200 arrived"
        assert all(len(names) == 1 for names in seen.values()), \
            "a message was delivered to both members"
        assignment_a = {tp.partition for tp in a.assignment()}
        assignment_b = {tp.partition for tp in b.assignment()}
        assert assignment_a | assignment_b == set(range(PARTITIONS))
        assert not assignment_a & assignment_b
        assert assignment_a and assignment_b, "one member got everything"
        assert partitions["a"] <= assignment_a
        assert partitions["b"] <= assignment_b

        # Both commit what they read; then a leaves (LeaveGroup) and b takes
        # over a's partitions from a's committed offsets.
        a.commit(asynchronous=False)
        b.commit(asynchronous=False)
        a.close()
        a = None
        produce(server.bootstrap, "clicks", 100, first=200)
        later, later_partitions = poll_until({"b": b}, 100, 60)
        assert set(later) == {b"v%d" % i for i in range(200, 300)}
        assert later_partitions["b"] == set(range(PARTITIONS))
        assert {tp.partition for tp in b.assignment()} == set(range(PARTITIONS))
    finally:
        if a is not None:
            a.close()
        b.close()


def test_committed_offsets_survive_a_restart(shiplog, store, tmp_path):
    first = Server(shiplog.binary, store, ["--default-partitions", 1],
                   tmp_path / "first.stderr")
    try:
        produce(first.bootstrap, "orders", 100)
        consumer = KafkaConsumer(
            "orders", bootstrap_servers=first.bootstrap, group_id="billing",
            auto_offset_reset="earliest", enable_auto_commit=False,
            consumer_timeout_ms=5000)
        values = [m.value for m in consumer]
        assert values == [b"v%d" % i for i in range(100)]
        consumer.commit()
        consumer.close()
    finally:
        assert first.stop() == 0

    second = Server(shiplog.binary, store, ["--default-partitions", 1],
                    tmp_path / "second.stderr")
    try:
        produce(second.bootstrap, "orders", 10, first=100)
        consumer = KafkaConsumer(
            "orders", bootstrap_servers=second.bootstrap, group_id="billing",
            auto_offset_reset="earliest", enable_auto_commit=False,
            consumer_timeout_ms=5000)
        # Resumes at the committed offset: only what came after it.
        assert [m.value for m in consumer] == [b"v%d" % i
                                               for i in range(100, 110)]
        assert consumer.committed(TopicPartition("orders", 0)) == 100
        consumer.close()
    finally:
        second.kill()


def test_the_metrics_endpoint_serves_prometheus_text(shiplog, store, tmp_path):
    process = subprocess.Popen(
        [shiplog.binary, "serve", str(store), "--listen", "127.0.0.1:0",
         "--metrics-listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = b""
        deadline = time.monotonic() + TIMEOUT_S
        while lines.count(b"\n") < 2 and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                chunk = process.stdout.read1(4096)
                assert chunk, process.stderr.read().decode()
                lines += chunk
        kafka_line, metrics_line = lines.decode().splitlines()[:2]
        port = re.match(r"shiplog serve: listening on 127\.0\.0\.1:(\d+)$",
                        kafka_line)[1]
        url = re.match(r"shiplog serve: metrics on (http://\S+/metrics)$",
                       metrics_line)[1]
        produce(f"127.0.0.1:{port}", "metered", 25)

        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith(
                "text/plain; version=0.0.4")
            text = response.read().decode()
        appended = re.search(r"^shiplog_appended_records_total (\d+)$", text,
                             re.M)
        assert appended and int(appended[1]) >= 25, text
        assert re.search(
            r'^shiplog_log_end_offset\{log="metered-0"\} 25$', text, re.M), text
        assert re.search(r"^shiplog_process_open_fds \d+$", text, re.M)

        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url.replace("/metrics", "/nothing"),
                                   timeout=TIMEOUT_S)
        assert missing.value.code == 404
    finally:
        process.terminate()
        assert process.wait(TIMEOUT_S) == 0
        process.stdout.close()
        process.stderr.close()
