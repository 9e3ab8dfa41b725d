"""`shiplog replicate` keeps a store a byte-for-byte copy of a leader.

A leader is `shiplog serve` over one store, a follower `shiplog replicate`
into another, both on loopback; kafka-python produces to the leader. The
follower's logs must hold the leader's bytes exactly (the .log files of a
log, concatenated, are compared), through a kill -9, a leader restart and a
leader whose log got shorter. A scripted fake leader sends what a shiplog
server never does: a partial trailing batch, batches at other offsets, a
bad CRC. Every wait polls for a condition within TIMEOUT_S.
"""

import subprocess
import threading
from pathlib import Path

import pytest

from conftest import TIMEOUT_S, python_child_env
from kafka_server_util import kcat, producer, send_all
from replication_util import (FakeLeader, Follower, Leader, batch, log_bytes,
                              same_bytes, wait_for)


@pytest.fixture
def cluster(shiplog, tmp_path):
    """Starts leaders and followers; kills whatever is left at the end."""
    processes = []

    class Cluster:
        def leader(self, store, port=0, flags=()):
            leader = Leader(shiplog.binary, store,
                            tmp_path / "leader.stderr", port, flags)
            processes.append(leader)
            return leader

        def fake_leader(self, answer_fetch):
            fake = FakeLeader(answer_fetch)
            processes.append(fake)
            return fake

        def follower(self, store, leader, flags=()):
            follower = Follower(shiplog.binary, store, leader.port,
                                tmp_path / "follower.stderr", flags)
            processes.append(follower)
            return follower

    yield Cluster()
    for process in processes:
        if isinstance(process, (Leader, FakeLeader)):
            process.kill()
        elif process.process.poll() is None:
            process.kill9()


def python_env(shiplog):
    """PYTHONPATH for the Python binding the build lays out beside the tool
    (build/python)."""
    package = Path(shiplog.binary).resolve().parent.parent / "python"
    if not (package / "shiplog" / "__init__.py").exists():
        pytest.skip(f"no Python binding built in {package}")
    return python_child_env(PYTHONPATH=str(package))


def truncate_offline(shiplog, store, log, offset):
    """Truncates a log of a store no process has open (the tool has no
    truncate command; the Python binding does)."""
    subprocess.run(
        ["/usr/bin/python3", "-c",
         "import sys, shiplog\n"
         "with shiplog.Store(sys.argv[1]) as store:\n"
         "    store.log(sys.argv[2], create=False).truncate(int(sys.argv[3]))",
         str(store), log, str(offset)],
        env=python_env(shiplog), check=True, timeout=TIMEOUT_S)


def produce_batches(leader, topic, batches, size, prefix, partition=0,
                    **config):
    """`batches` produce requests of `size` records each, one after the
    other, so each is a batch of its own; returns each batch's base
    offset."""
    bases = []
    with producer(leader, **config) as client:
        for b in range(batches):
            records = [(f"k{b}".encode(), f"{prefix}-{b}-{i}".encode(),
                        [("h", b"x")]) for i in range(size)]
            metadata = send_all(client, topic, records, partition=partition)
            bases.append(metadata[0].offset)
    return bases


def values_of(server, topic, partition=0):
    """(offset, value) of every record of the partition, by kcat."""
    out = kcat(server, "-C", "-t", topic, "-p", partition, "-o", "beginning",
               "-e", "-q", "-f", r"%o %s\n")
    return [tuple(line.split(" ", 1)) for line in out.decode().splitlines()]


def test_follower_holds_the_leaders_bytes(cluster, tmp_path):
    leader = cluster.leader(tmp_path / "leader", flags=["--default-partitions",
                                                         3])
    for partition in range(3):
        produce_batches(leader, "orders", 5, 20, f"p{partition}",
                        partition=partition)
    produce_batches(leader, "packed", 4, 50, "gz", compression_type="gzip")
    follower = cluster.follower(tmp_path / "follower", leader)
    logs = ["orders-0", "orders-1", "orders-2", "packed-0"]
    wait_for(lambda: all(same_bytes(leader.store, follower.store, log)
                         for log in logs), "the follower to match")
    # Appends keep coming through the same connection (long polling).
    produce_batches(leader, "orders", 3, 10, "late", partition=1)
    wait_for(lambda: same_bytes(leader.store, follower.store, "orders-1"),
             "the late batches")
    assert follower.stop() == 0
    assert "stopped; replicated" in follower.stderr()


def test_a_topic_created_later_is_picked_up(cluster, tmp_path):
    leader = cluster.leader(tmp_path / "leader")
    produce_batches(leader, "first", 2, 10, "a")
    follower = cluster.follower(tmp_path / "follower", leader)
    wait_for(lambda: same_bytes(leader.store, follower.store, "first-0"),
             "the first topic")
    produce_batches(leader, "second", 2, 10, "b")
    wait_for(lambda: same_bytes(leader.store, follower.store, "second-0"),
             "the topic created later")
    assert follower.stop() == 0


def test_only_the_topics_asked_for_are_replicated(cluster, tmp_path):
    leader = cluster.leader(tmp_path / "leader")
    for topic in ("wanted", "other", "also"):
        produce_batches(leader, topic, 1, 5, topic)
    follower = cluster.follower(tmp_path / "follower", leader,
                                flags=["--topic", "wanted", "--topic", "also"])
    wait_for(lambda: same_bytes(leader.store, follower.store, "wanted-0") and
             same_bytes(leader.store, follower.store, "also-0"),
             "the topics asked for")
    assert follower.stop() == 0
    assert not (tmp_path / "follower" / "other-0").exists()


def test_kill9_and_restart_catch_up_with_nothing_lost_or_doubled(
        shiplog, cluster, tmp_path):
    leader = cluster.leader(tmp_path / "leader")
    follower_store = tmp_path / "follower"
    sent = []
    stop_producing = threading.Event()
    failures = []

    def produce():
        try:
            with producer(leader, acks="all") as client:
                batch = 0
                while not stop_producing.is_set() and batch < 20000:
                    records = [(None, f"v{batch}-{i}".encode(), [])
                               for i in range(20)]
                    send_all(client, "stream", records)
                    sent.extend(value for _, value, _ in records)
                    batch += 1
        except Exception as error:  # reported by the main thread
            failures.append(error)

    # The topic exists before the follower starts (its first metadata).
    produce_batches(leader, "stream", 1, 1, "first")
    sent.append(b"first-0-0")
    thread = threading.Thread(target=produce)
    thread.start()
    try:
        follower = cluster.follower(follower_store, leader)
        wait_for(lambda: len(log_bytes(follower_store, "stream-0") or b"")
                 > 20000, "the follower to be under way")
        follower.kill9()
        killed_at = len(sent)
        wait_for(lambda: len(sent) > killed_at + 400 or failures,
                 "more records while the follower is down")
        follower = cluster.follower(follower_store, leader)
        wait_for(lambda: len(sent) > killed_at + 800 or failures,
                 "more records after the restart")
    finally:
        stop_producing.set()
        thread.join(TIMEOUT_S)
    assert not failures, failures
    wait_for(lambda: same_bytes(leader.store, follower_store, "stream-0"),
             "the restarted follower to catch up")
    assert follower.stop() == 0

    # The follower's store, served on a port of its own, reads back every
    # value once, at contiguous offsets.
    copy = cluster.leader(follower_store)
    records = values_of(copy, "stream")
    assert [int(offset) for offset, _ in records] == list(range(len(sent)))
    assert [value.encode() for _, value in records] == sent
    assert values_of(copy, "stream") == values_of(leader, "stream")


def test_follower_truncates_to_a_shorter_leader(shiplog, cluster, tmp_path):
    leader = cluster.leader(tmp_path / "leader")
    bases = produce_batches(leader, "t", 10, 10, "old")
    follower = cluster.follower(tmp_path / "follower", leader)
    wait_for(lambda: same_bytes(leader.store, follower.store, "t-0"),
             "the follower to match")

    leader.stop()
    truncate_offline(shiplog, leader.store, "t-0", bases[6])
    leader = cluster.leader(leader.store, port=leader.port)
    wait_for(lambda: same_bytes(leader.store, follower.store, "t-0"),
             "the follower to truncate")
    assert f"t-0: truncated from offset 100 to {bases[6]}" in follower.stderr()
    assert "reconnecting in" in follower.stderr()

    produce_batches(leader, "t", 6, 10, "new")
    wait_for(lambda: same_bytes(leader.store, follower.store, "t-0"),
             "the follower to carry on")
    assert follower.stop() == 0


def test_a_rewritten_leader_tail_is_replaced(shiplog, cluster, tmp_path):
    """The leader lost its tail and took new records at the same offsets,
    past the follower's end, while the follower was away: the follower
    finds the batches that differ and takes the leader's instead."""
    leader = cluster.leader(tmp_path / "leader")
    bases = produce_batches(leader, "t", 10, 10, "old")
    follower = cluster.follower(tmp_path / "follower", leader)
    wait_for(lambda: same_bytes(leader.store, follower.store, "t-0"),
             "the follower to match")
    assert follower.stop() == 0

    leader.stop()
    truncate_offline(shiplog, leader.store, "t-0", bases[5])
    leader = cluster.leader(leader.store)
    produce_batches(leader, "t", 8, 10, "new")
    follower = cluster.follower(tmp_path / "follower", leader)
    wait_for(lambda: same_bytes(leader.store, follower.store, "t-0"),
             "the follower to take the leader's tail")
    assert "differs from the leader's" in follower.stderr()
    assert follower.stop() == 0


def test_a_leader_log_starting_past_the_local_end_restarts_the_follower_there(
        shiplog, cluster, tmp_path):
    """Retention on the leader deleted offsets the follower never had: the
    follower's log is emptied and restarted at the leader's log start, and
    from there on holds the leader's bytes; the other topics carry on."""
    leader_store = tmp_path / "leader"
    subprocess.run(
        ["/usr/bin/python3", "-c",
         "import sys, shiplog\n"
         "with shiplog.Store(sys.argv[1]) as store:\n"
         "    log = store.log('aged-0')\n"
         "    for segment in range(4):\n"
         "        log.roll()\n"
         "        log.append_many([b'x'] * 10)\n"
         "    store.log('aged-0', retention_bytes=1)\n"
         "    store.run_maintenance()\n"
         "    assert log.start_offset == 30, log.start_offset",
         str(leader_store)],
        env=python_env(shiplog), check=True, timeout=TIMEOUT_S)
    leader = cluster.leader(leader_store)
    produce_batches(leader, "fresh", 2, 10, "f")
    follower = cluster.follower(tmp_path / "follower", leader)
    wait_for(lambda: same_bytes(leader.store, follower.store, "fresh-0"),
             "the other topic")
    wait_for(lambda: same_bytes(leader.store, follower.store, "aged-0"),
             "the aged partition, from offset 30")
    assert "restarted it at 30" in follower.stderr()
    produce_batches(leader, "aged", 1, 5, "later")
    wait_for(lambda: same_bytes(leader.store, follower.store, "aged-0"),
             "the aged partition to follow new appends")
    assert follower.stop() == 0
    segments = sorted(p.name for p in (tmp_path / "follower" / "aged-0").glob("*.log"))
    assert segments[0] == "00000000000000000030.log", segments


@pytest.mark.parametrize("flags, message", [
    ([], "--from HOST:PORT is required"),
    (["--from", "127.0.0.1"], "--from:"),
    (["--from", "127.0.0.1:1", "--replica-id", "-1"], "--replica-id:"),
    (["--from", "127.0.0.1:1", "--topic", "a,b/c"], "--topic:"),
])
def test_bad_command_lines_are_usage_errors(shiplog, store, flags, message):
    result = shiplog.run("replicate", store, *flags)
    assert result.returncode == 2
    assert message in result.stderr.decode()
    assert not store.exists()


def test_a_trailing_partial_batch_is_left_for_the_next_fetch(cluster,
                                                             tmp_path):
    first, second = batch(0, 5), batch(5, 5)

    def answer(offset):
        if offset == 0:  # the second batch cut short, as max_bytes may
            return 10, first + second[:len(second) // 2]
        return 10, second if offset == 5 else b""

    leader = cluster.fake_leader(answer)
    follower = cluster.follower(tmp_path / "follower", leader)
    wait_for(lambda: log_bytes(follower.store, "t-0") == first + second,
             "both batches")
    # The fetch past both follows their write: it may not have arrived yet.
    wait_for(lambda: len(leader.fetch_offsets) >= 3, "a third fetch")
    assert leader.fetch_offsets[:3] == [0, 5, 10]
    assert follower.stop() == 0


def flipped(data, position):
    return data[:position] + bytes([data[position] ^ 1]) + data[position + 1:]


@pytest.mark.parametrize("records, message", [
    (batch(3, 5), "the leader's batch at offset 3 does not start at offset "
                  "0, the local end"),
    (batch(0, 5) + batch(6, 4), "the leader's batch at offset 6 does not "
                                "start at offset 5: its offsets have a gap"),
    (flipped(batch(0, 5), 70), "CRC mismatch"),
], ids=["misplaced", "gap", "crc"])
def test_batches_that_cannot_be_copied_as_they_are_are_refused(
        cluster, tmp_path, records, message):
    leader = cluster.fake_leader(
        lambda offset: (10, records if offset == 0 else b""))
    follower = cluster.follower(tmp_path / "follower", leader)
    wait_for(lambda: message in follower.stderr(), "the refusal")
    assert "t-0: " in follower.stderr()
    assert follower.stop() == 0
    assert log_bytes(follower.store, "t-0") == b""
