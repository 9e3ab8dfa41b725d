"""`shiplog produce` SIGKILLed while segments roll on almost every append
(a segment.bytes of a few hundred bytes) and while retention deletes
segments (retention.bytes or retention.ms small; the store's maintenance
thread applies retention once a second from the open): after every kill the
store opens, the log start offset has only moved forward, and every
acknowledged offset at or past it holds its exact record.
"""

import concurrent.futures
import random
import threading
import time

from crash_util import (Deadline, Values, budget_s, cut_short_deletions,
                        iterations)
from produce_run import CrashLoop, Feed, KillPlan, random_plan

# The maintenance thread's first pass runs this long after the store opens
# (shiplog_store_options.maintenance_interval_ms, the CLI's default).
MAINTENANCE_INTERVAL_S = 1.0
LANES = 2


def segment_flags(rng, keep_little=False):
    """Tiny segments, and retention by size or by time; `keep_little` makes
    the maintenance pass certain to delete most segments."""
    flags = ["--segment-bytes", rng.choice([256, 600, 2048])]
    if rng.random() < 0.5:
        keep = rng.randint(300, 2000) if keep_little else rng.randint(
            1500, 12000)
        flags += ["--retention-bytes", keep, "--retention-ms", -1]
    else:
        keep = rng.randint(20, 400) if keep_little else rng.randint(50, 1500)
        flags += ["--retention-bytes", -1, "--retention-ms", keep]
    return flags


def test_sigkill_during_roll_and_retention(tool, rng, stats, work_dir):
    """Two lanes, each a store of its own, run side by side: most of a
    lane's time goes to waiting on fsyncs and on the maintenance pass."""
    target = iterations(200)
    deadline = Deadline(budget_s(45))
    lock = threading.Lock()
    failed = threading.Event()
    seeds = [rng.getrandbits(64) for _ in range(LANES)]

    def next_iteration():
        with lock:
            if failed.is_set() or not deadline.keep_going(
                    stats.iterations, target, 30):
                return False
            stats.iterations += 1
            return True

    def lane(index):
        try:
            run_lane(tool, random.Random(seeds[index]), stats,
                     work_dir / f"lane-{index}", next_iteration)
        except BaseException:
            failed.set()
            raise

    started = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(LANES) as pool:
            for future in [pool.submit(lane, i) for i in range(LANES)]:
                future.result()
    finally:
        stats.seconds = time.monotonic() - started
    assert stats.iterations >= min(target, 30), (
        f"only {stats.iterations} of {target} iterations within the budget")


def run_lane(tool, rng, stats, lane_dir, next_iteration):
    lane_dir.mkdir()
    loop = CrashLoop(tool, lane_dir / "store", "roll-0",
                     Values(rng, f"r{lane_dir.name}", 24, 120), rng, stats,
                     lane_dir, with_gauges=True)
    log_dir = lane_dir / "store" / "roll-0"
    while next_iteration():
        if rng.random() < 0.3:
            # Killed right as the maintenance pass deletes segments
            # (retention) while appends roll at the tail.
            # Some kills cut the deletion short, others land once it is
            # done (so retention keeps the log short for the other runs).
            # The feed is slow: this run waits a second for the pass.
            flags = segment_flags(rng, keep_little=True)
            plan = KillPlan(after_deletion=True,
                            delay_s=rng.choice([0.0, rng.uniform(0.0, 0.002),
                                                rng.uniform(0.02, 0.2)]),
                            fallback_s=1.5 * MAINTENANCE_INTERVAL_S)
            feed = Feed(burst=3, lockstep=True, max_lines=60)
        else:
            flags = segment_flags(rng)
            # Every append rolls, and a roll costs a few fsyncs (the sealed
            # indexes, the new files, the directory): short runs.
            feed = Feed(burst=rng.choice([3, 20]),
                        lockstep=rng.random() < 0.3, max_kill_acks=15)
            plan = random_plan(rng, feed)
        start_before = loop.model.start
        result = loop.one_run(flags, plan, feed)
        if result.saw_deletion:
            stats.add("kills as retention deletes")
        if loop.model.start > start_before:
            stats.add("start moved by retention")
        if log_dir.exists():
            stats.add("deletions cut short", cut_short_deletions(log_dir))
        if rng.random() < 0.4:
            segments = loop.repair_and_verify(f"run {loop.run}, repaired")
            stats.add("segments verified", segments)
    loop.repair_and_verify(f"run {loop.run}, final repair")
    loop.one_run(["--retention-bytes", -1, "--retention-ms", -1],
                 KillPlan(eof_after=3), Feed(burst=3))
    tool.verify(log_dir)
