"""A C program appending through shiplog.h (crash_append.c), every append
durable before it returns, SIGKILLed: in "torn" mode as a 6 MiB batch is
being written (the kill is sent once the segment file starts to grow, so
it cuts the write), in "churn" mode while segments roll on every append
and the maintenance thread, run every millisecond, deletes segments and
writes checkpoints. Every offset printed after shiplog_log_append returned
must survive with its exact record.
"""

import os
import select
import shutil
import signal
import time

import pytest

from crash_util import (TIMEOUT_S, Child, Deadline, Values, budget_s,
                        cut_short_deletions, iterations)
from produce_run import CrashLoop

LOG = "capi-0"
BIG_RECORD_BYTES = 256 * 1024
BIG_BATCH_RECORDS = 24


def batch_sizes(mode, batch):
    """The pattern size of each record of `batch` (crash_append.c's rules)."""
    if mode == "torn":
        if batch % 3 == 2:
            return [BIG_RECORD_BYTES] * BIG_BATCH_RECORDS
        return [None]
    return [None] * (1 + batch % 3)


def run_values(run, mode, batches):
    """The values crash_append RUN BATCHES MODE appends, in order."""
    values = []
    for batch in range(batches):
        for size in batch_sizes(mode, batch):
            record = len(values)
            if size is None:
                size = 20 + record * 37 % 100
            # Byte k of the pattern is 'a' + (record * 7 + k) % 26.
            cycle = "".join(chr(ord("a") + (record * 7 + k) % 26)
                            for k in range(26))
            values.append(f"c.{run}.{record}."
                          + (cycle * (size // 26 + 1))[:size])
    return values


def newest_log_size(log_dir):
    """(name, size) of the newest .log, or (None, 0)."""
    names = sorted(name for name in os.listdir(log_dir)
                   if name.endswith(".log"))
    if not names:
        return None, 0
    try:
        return names[-1], os.stat(log_dir / names[-1]).st_size
    except FileNotFoundError:
        return names[-1], 0


def append_and_kill(binary, store, run, mode, batches, rng, stderr_path):
    """Runs crash_append; returns (acknowledged offsets, killed, how)."""
    child = Child([binary, store, LOG, run, batches, mode], stderr_path,
                  stdin=False)
    log_dir = store / LOG
    deadline = Deadline(TIMEOUT_S)
    offsets = []
    pending = b""
    printed = 0  # lines, one per batch
    watched = None  # (newest .log, size) while waiting for it to grow
    if mode == "torn":
        # Inside the write of a big batch: after the line of the batch
        # before it, once the segment file starts growing.
        kill_before = rng.randrange(2, batches, 3)
        how = f"kill inside the write of batch {kill_before}"
        kill_at = None
    elif rng.random() < 0.3:
        kill_before = None
        delay_s = rng.uniform(0.0, 0.05)
        how = f"kill {delay_s * 1000:.1f} ms after the spawn"
        kill_at = child.started + delay_s
    else:
        # Appends, rolls, deletions and checkpoints all run at once: any
        # moment is one of them.
        kill_before = None
        after_lines = rng.randint(1, 40)
        delay_s = rng.uniform(0.0, 0.005)
        how = f"kill {delay_s * 1000:.1f} ms after {after_lines} appends"
        kill_at = None
    try:
        while True:
            deadline.check(f"crash_append run {run}: {how}; {child.stderr()}")
            now = time.monotonic()
            if kill_at is not None and now >= kill_at:
                return offsets, child.kill() == -signal.SIGKILL, how
            if watched is not None:
                # Polled, not slept on: the write lasts a few milliseconds.
                name, size = newest_log_size(log_dir)
                if (name, size) != watched and size > 0:
                    kill_at = now + rng.choice([0.0, rng.uniform(0, 0.001)])
                    watched = None
                timeout = 0.0
            else:
                timeout = 0.2 if kill_at is None else kill_at - now
            ready, _, _ = select.select([child.process.stdout], [], [],
                                        max(0.0, timeout))
            chunk = child.read_some() if ready else None
            if chunk == b"":
                assert child.wait(TIMEOUT_S) == 0, child.stderr()
                return offsets, False, how + " (it ran to its end)"
            if not chunk:
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                base, last = map(int, line.split())
                offsets.extend(range(base, last + 1))
                printed += 1
                if mode == "torn" and printed == kill_before:
                    watched = newest_log_size(log_dir)
                elif (mode == "churn" and kill_at is None
                      and printed >= after_lines):
                    kill_at = time.monotonic() + delay_s
    finally:
        child.close()


@pytest.mark.parametrize("mode", ["torn", "churn"])
def test_sigkill_capi_writer(tool, rng, stats, work_dir, mode):
    binary = os.environ.get("SHIPLOG_CRASH_APPEND")
    if not binary:
        pytest.skip("SHIPLOG_CRASH_APPEND is not set (CTest sets it)")
    target = iterations(40 if mode == "torn" else 80)
    deadline = Deadline(budget_s(15))
    loop = None
    started = time.monotonic()
    try:
        while deadline.keep_going(stats.iterations, target, 10):
            run = stats.iterations
            if loop is None or (mode == "torn" and run % 4 == 0):
                # Torn runs write 18 MiB each: a fresh store now and then
                # keeps every check's full read of the log short.
                if loop is not None:
                    loop.repair_and_verify("last repair of the store")
                    shutil.rmtree(loop.store)
                loop = CrashLoop(tool, work_dir / f"store-{run}", LOG,
                                 Values(rng, "unused"), rng, stats, work_dir,
                                 with_gauges=mode == "churn")
            batches = 9 if mode == "torn" else 400
            offsets, killed, how = append_and_kill(
                binary, loop.store, run, mode, batches, rng,
                work_dir / "crash_append.stderr")
            what = f"run {run}: {how}"
            loop.model.acknowledge(offsets, what)
            stats.add("acked records", len(offsets))
            stats.add("killed" if killed else "ran to the end")
            start_before = loop.model.start
            if mode == "churn" and (loop.store / LOG).is_dir():
                stats.add("deletions cut short",
                          cut_short_deletions(loop.store / LOG))
            records, start, end = loop.read(what)
            loop.model.check(records, run_values(run, mode, batches), start,
                             end, what)
            if loop.model.start > start_before:
                stats.add("start moved by retention")
            if rng.random() < 0.5:
                loop.repair_and_verify(f"{what}, repaired")
            stats.iterations += 1
        loop.repair_and_verify("final repair")
    finally:
        stats.seconds = time.monotonic() - started
    assert stats.iterations >= min(target, 10), (
        f"only {stats.iterations} of {target} iterations within the budget")
