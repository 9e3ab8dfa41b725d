"""`shiplog produce --flush-messages 1 --print-offsets` killed with SIGKILL
at random moments, hundreds of times, in buffered and in direct mode
(`--write-mode direct`): every printed offset stays readable
with its exact record, the log ends on a batch boundary, nothing that was
not sent appears, and appends go on at exactly the next offset.

SHIPLOG_CRASH_SCALE multiplies the iteration count and the time bound
(soak runs).
"""

import shutil
import time

from crash_util import Deadline, Values, budget_s, iterations
from produce_run import CrashLoop, Feed, KillPlan, random_plan

# A fresh store every so many runs keeps each check's full read short.
RUNS_PER_STORE = 40


def random_feed(rng):
    kind = rng.random()
    if kind < 0.15:
        # Values up to 300 KiB: batches near produce's 1 MiB cut, so a
        # kill often lands inside a long write.
        return "large", Feed(burst=6, value_bytes=(20_000, 300_000),
                             max_lines=60, max_kill_acks=8)
    if kind < 0.45:
        # A batch and an fdatasync per burst of a few lines.
        return "lockstep", Feed(burst=5, lockstep=True, max_lines=200,
                                max_kill_acks=30)
    return "bulk", Feed(burst=400, max_kill_acks=1500)


def random_flags(rng, feed):
    flags = []
    if rng.random() < 0.3:
        # Every batch costs an fdatasync: tiny batches only for short runs.
        small = feed.max_kill_acks <= 30
        flags += ["--batch-records",
                  rng.choice([1, 3, 50] if small else [50, 300])]
    if rng.random() < 0.2:
        flags += ["--compression", "zstd"]
    if rng.random() < 0.25:
        # Stored with the log: later runs without the flag stay direct
        # until one switches back.
        flags += ["--write-mode", rng.choice(["direct", "buffered"])]
    return flags


def test_sigkill_keeps_every_printed_offset(tool, rng, stats, work_dir):
    target = iterations(300)
    deadline = Deadline(budget_s(45))
    values = Values(rng, "p")
    started = time.monotonic()
    loop = None
    try:
        while deadline.keep_going(stats.iterations, target, 50):
            if loop is None or loop.run >= RUNS_PER_STORE:
                if loop is not None:
                    finish_store(loop)
                    shutil.rmtree(loop.store)
                store = work_dir / f"store-{stats.iterations}"
                loop = CrashLoop(tool, store, "crash-0", values, rng, stats,
                                 work_dir)
            feed_name, feed = random_feed(rng)
            plan = random_plan(rng, feed)
            loop.one_run(random_flags(rng, feed), plan, feed)
            stats.add(f"feed {feed_name}")
            # Half the kills are repaired by a writable open of their own
            # and verified; the rest are repaired by the next run's open.
            if rng.random() < 0.5:
                loop.repair_and_verify(f"run {loop.run}, repaired")
            stats.iterations += 1
        finish_store(loop)
    finally:
        stats.seconds = time.monotonic() - started
    assert stats.iterations >= min(target, 50), (
        f"only {stats.iterations} of {target} iterations within the budget")


def finish_store(loop):
    """After the last kill: repair, verify, and append once more cleanly;
    the appended offsets must follow the last record exactly."""
    loop.repair_and_verify(f"run {loop.run}, final repair")
    loop.one_run([], KillPlan(eof_after=3), Feed(burst=3))
    loop.tool.verify(loop.store / loop.log)
