"""`shiplog serve` SIGKILLed while a producer pipelines Produce requests
(acks=-1, and some acks=1: a killed process loses nothing the kernel was
given, so an appended batch survives a SIGKILL either way). After every
kill: every acknowledged record is in the log exactly once, at the offset
its response gave; the log holds whole batches only, each one a request
that was sent, in order; and after a restart on the same store the next
Produce gets exactly the next offset.
"""

import select
import socket
import struct
import time

from crash_util import (TIMEOUT_S, Deadline, LogModel, Values, budget_s,
                        iterations)
from kafka_server_util import (PRODUCE, Server, TopicPartition, consumer,
                               produce_body, raw_frame, read_produce_response,
                               record_batch)

TOPIC = "crash"
LOG = "crash-0"


class PipelinedProducer:
    """Produce requests of one batch each on one connection, up to `depth`
    in flight; responses come back in request order."""

    def __init__(self, server, version, acks, depth):
        self.sock = socket.create_connection(("127.0.0.1", server.port),
                                             timeout=TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.version, self.acks, self.depth = version, acks, depth
        self.outgoing = b""
        self.incoming = b""
        self.in_flight = []   # (correlation id, values), oldest first
        self.sent = []        # values of every request sent, in order
        self.acked = []       # (base offset, values), in order
        self.next_id = 1
        self.closed = False

    def send(self, values):
        batch = record_batch([value.encode() for value in values])
        body = produce_body(TOPIC, 0, batch, acks=self.acks)
        self.outgoing += raw_frame(PRODUCE, self.version, self.next_id, body)
        self.in_flight.append((self.next_id, values))
        self.sent.append(values)
        self.next_id += 1

    def pump(self, timeout_s):
        """Moves bytes both ways for at most timeout_s; returns the
        acknowledgements that arrived."""
        if self.closed:
            return []
        readable, writable, _ = select.select(
            [self.sock], [self.sock] if self.outgoing else [], [],
            max(0.0, timeout_s))
        try:
            if writable:
                count = self.sock.send(self.outgoing)
                self.outgoing = self.outgoing[count:]
            if readable:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    self.closed = True
                self.incoming += chunk
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # reset by the kill
            self.closed = True
        return self._parse()

    def _parse(self):
        acks = []
        while len(self.incoming) >= 4:
            (size,) = struct.unpack_from(">i", self.incoming)
            if len(self.incoming) < 4 + size:
                break
            payload = self.incoming[4:4 + size]
            self.incoming = self.incoming[4 + size:]
            (correlation_id,) = struct.unpack_from(">i", payload)
            expected_id, values = self.in_flight.pop(0)
            assert correlation_id == expected_id, (
                f"response {correlation_id} where {expected_id} was next")
            [(topic, [partition])] = read_produce_response(self.version,
                                                           payload[4:])
            assert topic == TOPIC and partition["partition"] == 0
            assert partition["error_code"] == 0, partition
            self.acked.append((partition["base_offset"], values))
            acks.append((partition["base_offset"], values))
        return acks

    def close(self):
        self.sock.close()


def start(tool, store, work_dir):
    index = len(list(work_dir.glob("serve-*.stderr")))
    return Server(tool.binary, store, [], work_dir / f"serve-{index}.stderr")


def whole_requests(taken, sent, what):
    """The log took `taken` records of the requests `sent`: a whole number
    of them (a batch is appended whole or not at all)."""
    total = 0
    for values in sent:
        if total == taken:
            return
        total += len(values)
    assert total == taken, f"{taken} records are not whole batches ({what})"


def test_sigkill_serve_mid_produce(tool, rng, stats, work_dir):
    target = iterations(80)
    deadline = Deadline(budget_s(35))
    store = work_dir / "store"
    # The log exists before the first start, with settings that make it
    # roll every few requests and delete old segments while serving.
    tool.ok("produce", store, LOG, "--segment-bytes", 16384,
            "--retention-bytes", 200_000, input=b"")
    values = Values(rng, "s", 16, 200)
    model = LogModel()
    started = time.monotonic()
    try:
        while deadline.keep_going(stats.iterations, target, 20):
            run = stats.iterations
            what = f"server run {run}"
            server = start(tool, store, work_dir)
            try:
                sent, acked_now = produce_until_killed(
                    server, model, values, run, rng, stats, what)
            finally:
                server.kill()
            records, start_offset, end = read(tool, store)
            attempted = [value for request in sent for value in request]
            taken = model.check(records, attempted, start_offset, end, what)
            whole_requests(taken, sent, what)
            stats.add("unacked records kept",
                      taken - sum(len(v) for v in acked_now))
            stats.iterations += 1
        resume_and_read_back(tool, store, work_dir, model, values)
    finally:
        stats.seconds = time.monotonic() - started
    assert stats.iterations >= min(target, 20), (
        f"only {stats.iterations} of {target} iterations within the budget")


def produce_until_killed(server, model, values, run, rng, stats, what):
    """Pipelines requests until the kill plan fires, then SIGKILLs the
    server; returns the values of every request sent."""
    acks = -1 if rng.random() < 0.75 else 1
    producer = PipelinedProducer(server, rng.randint(3, 8), acks,
                                 depth=rng.choice([1, 2, 8]))
    kill_after_acks = rng.randint(0, 40)
    delay_s = rng.choice([0.0, rng.uniform(0.0, 0.003),
                          rng.uniform(0.0, 0.03)])
    deadline = Deadline(TIMEOUT_S)
    kill_at = None
    sequence = 0
    acked_count = 0
    try:
        while True:
            now = time.monotonic()
            if kill_at is None and acked_count >= kill_after_acks:
                kill_at = now + delay_s
            if kill_at is not None and now >= kill_at:
                break
            deadline.check(f"{what}: {acked_count} acknowledged; "
                           f"{server.stderr()}")
            while len(producer.in_flight) < producer.depth:
                count = rng.choice([1, 1, 5, 40])
                producer.send([values.make(run, sequence + i)
                               for i in range(count)])
                sequence += count
            timeout = 0.2 if kill_at is None else kill_at - now
            for base, batch in producer.pump(timeout):
                model.acknowledge(range(base, base + len(batch)), what)
                acked_count += 1
                stats.add("acked records", len(batch))
            assert not producer.closed, (
                f"{what}: the server closed the connection; "
                f"{server.stderr()}")
        server.kill()
        if producer.in_flight:
            stats.add("kills with requests in flight")
        return producer.sent, [values for _, values in producer.acked]
    finally:
        producer.close()


def read(tool, store):
    gauges = tool.gauges(store, LOG)
    return tool.records(store, LOG), gauges["start"], gauges["end"]


def resume_and_read_back(tool, store, work_dir, model, values):
    """A restarted server takes the next request at exactly the log's end,
    and serves every record the offline read saw."""
    server = start(tool, store, work_dir)
    try:
        producer = PipelinedProducer(server, 8, -1, depth=1)
        last = [values.make("final", 0)]
        producer.send(last)
        deadline = Deadline(TIMEOUT_S)
        while not producer.acked:
            deadline.check("the final produce")
            for base, batch in producer.pump(deadline.remaining()):
                model.acknowledge(range(base, base + len(batch)), "final")
            assert not producer.closed
        producer.close()
        offline, start_offset, end = read(tool, store)
        model.check(offline, last, start_offset, end, "final")
        partition = TopicPartition(TOPIC, 0)
        with consumer(server) as client:
            client.assign([partition])
            client.seek(partition, start_offset)
            served = []
            while len(served) < end - start_offset:
                deadline.check(f"served {len(served)} of "
                               f"{end - start_offset} records")
                for records in client.poll(timeout_ms=500).values():
                    served.extend((r.offset, r.value.decode())
                                  for r in records)
        assert served == offline
    finally:
        server.kill()
    tool.verify(store / LOG)
