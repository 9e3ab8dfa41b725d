"""One `shiplog produce --flush-messages 1 --print-offsets` run fed with
unique records and SIGKILLed by a plan, and the loop of such runs over one
store that checks the log after every kill (test_produce.py,
test_roll_retention.py; test_capi.py uses the checks).

A printed offset is acknowledged as durable: produce prints an offset only
once the log's committed offset (its recovery point, advanced after an
fdatasync) has passed it.
"""

import re
import subprocess
import time
from dataclasses import dataclass, field

from crash_util import (TIMEOUT_S, Child, DeletionWatch, Deadline, LogModel,
                        recovery_notes, select_once)


@dataclass
class KillPlan:
    """When to SIGKILL produce. Exactly one trigger applies; `delay_s`
    runs from it: `after_acks` offsets printed; `after_fed` lines written
    to stdin; `after_deletion`; `eof_after` (then, with `kill_after_eof`,
    the kill lands in the store's clean close; without, no kill at all);
    none of them: `delay_s` from the spawn."""
    after_acks: int = None
    delay_s: float = 0.0
    # Lines, then stdin is closed: produce appends the rest, closes the
    # store cleanly and exits, unless `kill_after_eof` (the delay_s after
    # the close of stdin) kills it during that close.
    eof_after: int = None
    kill_after_eof: bool = False
    # Lines fully written to stdin, then `delay_s`: produce appends what it
    # read as soon as stdin has nothing more, so a short delay lands in
    # that append's write (a torn batch) or its fdatasync.
    after_fed: int = None
    # The first .log deleted from the log directory (retention at work),
    # then `delay_s`; or, if none is by then, `fallback_s` after the spawn.
    after_deletion: bool = False
    fallback_s: float = 0.0

    def describe(self):
        if self.after_deletion:
            return (f"kill {self.delay_s * 1000:.2f} ms after the first "
                    f"segment deletion")
        if self.eof_after is not None and self.kill_after_eof:
            return (f"kill {self.delay_s * 1000:.1f} ms after the end of "
                    f"stdin ({self.eof_after} lines)")
        if self.eof_after is not None:
            return f"clean exit after {self.eof_after} lines"
        if self.after_fed is not None:
            return (f"kill {self.delay_s * 1000:.2f} ms after feeding "
                    f"{self.after_fed} lines")
        if self.after_acks is None:
            return f"kill {self.delay_s * 1000:.1f} ms after the spawn"
        return (f"kill {self.delay_s * 1000:.1f} ms after {self.after_acks} "
                f"offsets")


@dataclass
class Feed:
    """How lines reach stdin: bursts of `burst` lines (a random size up to
    it); `lockstep` waits until every line fed is acknowledged before the
    next burst, so each burst is a batch (and an fdatasync) of its own.
    `value_bytes` bounds each value's size."""
    burst: int = 200
    lockstep: bool = False
    value_bytes: tuple = (24, 160)
    max_lines: int = 4000
    # Kill plans wait for at most this many offsets: the moments that
    # matter are around the kill, not the run-up to it.
    max_kill_acks: int = 600


@dataclass
class RunResult:
    offsets: list = field(default_factory=list)
    fed: list = field(default_factory=list)
    killed: bool = False
    returncode: int = None
    stderr: str = ""
    seconds: float = 0.0
    saw_deletion: bool = False


OFFSET_LINE = re.compile(rb"^(\d+)$")


def produce_and_kill(tool, store, log, flags, plan, feed, values, run, rng,
                     stderr_path):
    """Runs produce on `store`/`log` with `flags`, feeding values made by
    `values` (a Values) for run number `run`, until `plan` says kill (or,
    for a clean plan, until it exits). Returns what was fed and printed."""
    result = RunResult()
    watch = None
    if plan.after_deletion and (store / log).is_dir():
        watch = DeletionWatch(store / log)
    try:
        return _produce_and_kill(tool, store, log, flags, plan, feed, values,
                                 run, rng, stderr_path, result, watch)
    finally:
        if watch is not None:
            watch.close()


def _produce_and_kill(tool, store, log, flags, plan, feed, values, run, rng,
                      stderr_path, result, watch):
    child = Child([tool.binary, "produce", store, log, "--flush-messages", 1,
                   "--print-offsets", "--verbose", *flags], stderr_path)
    deadline = Deadline(TIMEOUT_S)
    if plan.after_deletion:
        kill_at = child.started + plan.fallback_s
    elif (plan.eof_after is None and plan.after_fed is None
          and (plan.after_acks or 0) <= 0):
        kill_at = child.started + plan.delay_s
    else:
        kill_at = None
    burst = b""        # the burst being written
    burst_values = []  # its values
    written = 0        # bytes of `burst` written
    pending = b""      # stdout bytes after the last newline
    sequence = 0
    stdout_open = True
    try:
        while True:
            now = time.monotonic()
            if kill_at is not None and now >= kill_at:
                if child.process.poll() is None:
                    child.kill()
                    result.killed = True
                    break
                # It exited on its own (the end of stdin): read the rest.
                kill_at = None
            deadline.check(f"produce run {run} ({plan.describe()}); "
                           f"{len(result.offsets)} offsets printed; "
                           f"stderr: {child.stderr()}")
            if not burst and not child.process.stdin.closed:
                limit = (plan.eof_after if plan.eof_after is not None
                         else feed.max_lines)
                caught_up = len(result.offsets) >= len(result.fed)
                if sequence >= limit:
                    if plan.eof_after is not None or caught_up:
                        # Everything is fed: a clean plan ends here, a kill
                        # plan that waits on more offsets kills now.
                        if plan.eof_after is not None:
                            child.close_stdin()
                            if plan.kill_after_eof:
                                kill_at = now + plan.delay_s
                        elif kill_at is None:
                            kill_at = now
                elif not feed.lockstep or caught_up:
                    count = min(rng.randint(1, feed.burst), limit - sequence)
                    burst_values = [values.make(run, sequence + i,
                                                rng.randint(*feed.value_bytes))
                                    for i in range(count)]
                    sequence += count
                    burst = b"".join(value.encode() + b"\n"
                                     for value in burst_values)
                    written = 0
            timeout = min(deadline.remaining(), 0.5)
            if kill_at is not None:
                timeout = min(timeout, kill_at - now)
            if not stdout_open:
                # Only the exit is left to wait for (or the kill).
                try:
                    result.returncode = child.wait(
                        max(0.0, min(timeout, deadline.remaining())))
                    break
                except subprocess.TimeoutExpired:
                    continue
            readable, writable, watched = select_once(
                child, bool(burst) and not child.process.stdin.closed,
                timeout, watch)
            if watched and any(name.endswith(".log")
                               for name in watch.deleted()):
                result.saw_deletion = True
                kill_at = min(kill_at, time.monotonic() + plan.delay_s)
                watch = None  # closed by the caller
            if writable:
                count = child.write_some(burst[written:])
                if count is None:  # the child is gone
                    burst = b""
                else:
                    before = burst.count(b"\n", 0, written)
                    written += count
                    lines = burst.count(b"\n", 0, written)
                    result.fed.extend(burst_values[before:lines])
                    if written == len(burst):
                        burst = b""
                    if (plan.after_fed is not None and kill_at is None
                            and len(result.fed) >= plan.after_fed):
                        kill_at = time.monotonic() + plan.delay_s
            if readable:
                chunk = child.read_some()
                if chunk == b"":
                    stdout_open = False
                    continue
                if chunk:
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        match = OFFSET_LINE.match(line)
                        assert match, (f"unexpected output {line!r}; "
                                       f"stderr: {child.stderr()}")
                        result.offsets.append(int(match[1]))
                    if (plan.after_acks is not None and kill_at is None
                            and len(result.offsets) >= plan.after_acks):
                        kill_at = time.monotonic() + plan.delay_s
    finally:
        child.close()
        result.seconds = time.monotonic() - child.started
    if result.returncode is None:
        result.returncode = child.returncode
    result.stderr = child.stderr()
    if not result.killed:
        assert result.returncode == 0, (
            f"produce run {run} exited {result.returncode}: {result.stderr}")
        assert pending == b"", f"a partial offset line {pending!r}"
    return result


def random_plan(rng, feed):
    """Mostly kills after a random number of durable offsets (the window
    right after an fdatasync, and the next write and fdatasync), some at a
    random time from the spawn (the store's open and recovery of the
    previous kill), a few clean exits."""
    roll = rng.random()
    if roll < 0.04:
        return KillPlan(eof_after=rng.randint(0, 50))
    if roll < 0.10:
        # The store's clean close: seal, flush, checkpoints, marker.
        return KillPlan(eof_after=rng.randint(0, 50), kill_after_eof=True,
                        delay_s=rng.uniform(0.0, 0.02))
    if roll < 0.25:
        return KillPlan(delay_s=rng.uniform(0.0, 0.04))
    if roll < 0.50:
        return KillPlan(after_fed=rng.randint(1, feed.max_kill_acks),
                        delay_s=rng.uniform(0.0, 0.002))
    return KillPlan(after_acks=rng.randint(1, feed.max_kill_acks),
                    delay_s=rng.choice([0.0, rng.uniform(0.0, 0.004),
                                        rng.uniform(0.0, 0.03)]))


@dataclass
class CrashLoop:
    """Produce runs over one store, each killed, each followed by checks:
    a read-only open (before any repair) must show every acknowledged
    record; sometimes a writable open repairs the log alone, after which
    `dump --verify` must find no bad batch and the records must not have
    changed; the next run's first offset must be the log's end."""
    tool: object
    store: object
    log: str
    values: object
    rng: object
    stats: object
    work_dir: object
    with_gauges: bool = False  # retention may move the start: ask stats
    model: LogModel = field(default_factory=LogModel)
    run: int = 0

    def read(self, what):
        if not (self.store / self.log).is_dir():
            # Killed before the log was created: it holds nothing.
            return [], None, None
        records = self.tool.records(self.store, self.log)
        if not self.with_gauges:
            return records, None, None
        gauges = self.tool.gauges(self.store, self.log)
        return records, gauges["start"], gauges["end"]

    def one_run(self, flags, plan, feed):
        self.run += 1
        what = f"run {self.run}: {plan.describe()}, flags {flags}"
        result = produce_and_kill(
            self.tool, self.store, self.log, flags, plan, feed, self.values,
            self.run, self.rng, self.work_dir / "produce.stderr")
        self.note_recovery(result.stderr)
        self.model.acknowledge(result.offsets, what)
        if not result.killed:
            # A clean exit prints every offset, after the store's close.
            assert len(result.offsets) == len(result.fed), what
        self.stats.add("acked records", len(result.offsets))
        self.stats.add("produce seconds", round(result.seconds, 3))
        self.stats.add("killed" if result.killed else "clean exits")
        began = time.monotonic()
        records, start, end = self.read(what + ", read-only after the kill")
        self.stats.add("read seconds", round(time.monotonic() - began, 3))
        taken = self.model.check(records, result.fed, start, end,
                                 what + ", read-only after the kill")
        self.stats.add("unacked records kept", taken - len(result.offsets))
        return result

    def repair_and_verify(self, what="writable open"):
        """Opens the store writable with nothing to append (recovery, then a
        clean close); the log must then verify, hold exactly what the
        read-only open saw, and a kept start must not move back."""
        repaired = self.tool.ok("produce", self.store, self.log, "--verbose",
                                input=b"")
        self.note_recovery(repaired.stderr.decode(errors="replace"))
        batches, records_count, segments = self.tool.verify(
            self.store / self.log)
        assert_indexes_sealed(self.store / self.log)
        records, start, end = self.read(what)
        assert self.model.check(records, [], start, end, what) == 0
        self.stats.add("verified repairs")
        return segments

    def note_recovery(self, stderr_text):
        for note in recovery_notes(stderr_text):
            if "truncated" in note:
                self.stats.add("torn tails cut")
            elif "removing" in note:
                self.stats.add("segments removed by recovery")


def assert_indexes_sealed(log_dir):
    """After a clean close every segment's indexes are sealed: trimmed to
    their entries, none left at its preallocated size (segment.index.bytes)
    as recovery once left them (LogRecoveryTest.
    RecoveryLeavesClosedSegmentIndexesAsARollSealedThem)."""
    preallocated = 10 << 20  # the default, for a log without the file
    # (a log whose creation was killed before it wrote log.properties)
    properties = log_dir / "log.properties"
    if properties.exists():
        preallocated = int(re.search(r"^segment\.index\.bytes=(\d+)$",
                                     properties.read_text(), re.M)[1])
    for path in log_dir.iterdir():
        if path.suffix in (".index", ".timeindex"):
            size = path.stat().st_size
            assert size < preallocated - 12, (
                f"{path.name}: {size} bytes after a clean close, the "
                f"preallocated size ({preallocated}): never sealed")
