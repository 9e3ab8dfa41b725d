"""What the crash suites share: child processes that are always reaped, the
`shiplog` tool's read-side commands, and a model of what a log must hold
after a SIGKILL.

The contract under test (DESIGN.md, Durability): an offset the writer
acknowledged (printed by `produce --print-offsets` under flush.messages=1,
or answered to an acks=-1 Produce) survives any kill of the writer,
byte for byte, at that offset. Records appended but not acknowledged may
survive or not; a record nobody sent never appears.

Every wait is bounded; reaching a bound is a failure, never a way to
synchronise. Kill delays are random on purpose: they are what is tested.
"""

import ctypes
import fcntl
import hashlib
import os
import re
import select
import signal
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field

# The bound on any one wait. kafka_server_util (tests/python) imports
# TIMEOUT_S from `conftest`: tests/crash/conftest.py passes this one on.
TIMEOUT_S = 30


def env_int(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_float(name, default):
    value = os.environ.get(name)
    return default if value in (None, "") else float(value)


# SHIPLOG_CRASH_SCALE multiplies every scenario's iteration count and time
# bound (a soak run: SHIPLOG_CRASH_SCALE=20); SHIPLOG_CRASH_SEED replays a
# run's random choices (kill timing itself cannot be replayed exactly).
SCALE = env_float("SHIPLOG_CRASH_SCALE", 1.0)
SEED = env_int("SHIPLOG_CRASH_SEED", int.from_bytes(os.urandom(4), "big"))


def iterations(default):
    return max(1, round(default * SCALE))


def budget_s(default):
    """A test's time bound: past its minimum iterations it stops at its
    iteration count or here, whichever comes first (Deadline.keep_going)."""
    return default * max(1.0, SCALE)


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def remaining(self):
        return self.end - time.monotonic()

    def keep_going(self, done, target, minimum):
        """Whether a loop that has run `done` iterations runs another:
        always up to `minimum` (a loaded machine takes longer; it does not
        test less), then on to `target` while time remains."""
        return done < min(target, minimum) or (
            done < target and self.remaining() > 0)

    def check(self, what):
        assert self.remaining() > 0, f"deadline passed: {what}"


class Child:
    """A child process in a session of its own, with non-blocking pipes to
    its stdin and from its stdout, and stderr kept in a file. kill() and
    close() always reap it."""

    def __init__(self, argv, stderr_path, stdin=True):
        self.argv = [str(arg) for arg in argv]
        self.stderr_path = stderr_path
        self.started = time.monotonic()
        with open(stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=stderr,
                start_new_session=True)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                flags = fcntl.fcntl(pipe.fileno(), fcntl.F_GETFL)
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self.returncode = None

    @property
    def pid(self):
        return self.process.pid

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def write_some(self, data):
        """Writes what the pipe takes now; returns the count, or None once
        the child is gone (EPIPE)."""
        try:
            return os.write(self.process.stdin.fileno(), data)
        except BlockingIOError:
            return 0
        except BrokenPipeError:
            return None

    def read_some(self):
        """What stdout holds now (b"" at its end, None if nothing yet)."""
        try:
            return os.read(self.process.stdout.fileno(), 1 << 16)
        except BlockingIOError:
            return None

    def close_stdin(self):
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass

    def kill(self):
        """SIGKILL to the whole session, then reap. Returns the status."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.wait(TIMEOUT_S)

    def wait(self, timeout_s):
        self.returncode = self.process.wait(timeout_s)
        self.close_stdin()
        return self.returncode

    def close(self):
        """Makes sure the child is dead and reaped (a finalizer)."""
        if self.process.poll() is None:
            self.kill()
        self.close_stdin()
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Tool:
    """The `shiplog` binary's one-shot commands."""
    binary: str

    def run(self, *args, input=b""):
        return subprocess.run([self.binary, *map(str, args)], input=input,
                              capture_output=True, timeout=TIMEOUT_S)

    def ok(self, *args, input=b""):
        result = self.run(*args, input=input)
        assert result.returncode == 0, (
            f"shiplog {' '.join(map(str, args))} exited "
            f"{result.returncode}: {result.stderr.decode(errors='replace')}")
        return result

    def records(self, store, log):
        """The log's records as (offset, value) from a read-only open, which
        ignores (and never repairs) a torn tail."""
        out = self.ok("consume", store, log, "--format", r"%o %v\n").stdout
        records = []
        for line in out.decode().splitlines():
            offset, _, value = line.partition(" ")
            records.append((int(offset), value))
        return records

    def gauges(self, store, log):
        """{start, end, committed, segments} of the log, read-only."""
        out = self.ok("stats", store).stdout.decode()
        values = {}
        for name in ("start_offset", "end_offset", "committed_offset",
                     "segments"):
            match = re.search(
                rf"^log_{name}\{{log={re.escape(log)}\}}\s+(\d+)", out, re.M)
            assert match, f"no log_{name} for {log} in:\n{out}"
            values[name.replace("_offset", "")] = int(match[1])
        return values

    def verify(self, log_dir):
        """`dump --verify` of the whole log directory must find nothing
        wrong: every batch whole and CRC-valid, offsets continuous across
        segments, every index entry right."""
        result = self.run("dump", "--verify", log_dir)
        out = result.stdout.decode(errors="replace")
        problems = [line for line in out.splitlines()
                    if line.startswith("PROBLEM")]
        assert result.returncode == 0 and not problems, (
            f"dump --verify {log_dir} exited {result.returncode}:\n"
            + "\n".join(problems[:20]) + result.stderr.decode(errors="replace"))
        match = re.search(r"^verified: (\d+) batches, (\d+) records, "
                          r"(\d+) segments, no problems$", out, re.M)
        assert match, out[-2000:]
        return tuple(int(value) for value in match.groups())


SEGMENT_FILE = re.compile(r"^(\d{20})\.(log|index|timeindex)$")


def cut_short_deletions(log_dir):
    """Index files without their .log: a segment deletion that a kill cut
    short (the next writable open removes them)."""
    kinds = {}
    for path in log_dir.iterdir():
        match = SEGMENT_FILE.match(path.name)
        if match:
            kinds.setdefault(match[1], set()).add(match[2])
    return sum(1 for found in kinds.values() if "log" not in found)


def recovery_notes(stderr_text, command="produce"):
    return re.findall(rf"^shiplog {command}: recovery: (.*)$", stderr_text,
                      re.M)


class Values:
    """Record values that are unique across a test and say where they came
    from: "<tag>.<run>.<sequence>." then a digest of that head, repeated to
    a random length, so a record that comes back changed in any byte, or
    from another run, does not match."""

    def __init__(self, rng, tag, min_bytes=24, max_bytes=160):
        self.rng = rng
        self.tag = tag
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes

    def make(self, run, sequence, size=None):
        head = f"{self.tag}.{run}.{sequence}."
        if size is None:
            size = self.rng.randint(self.min_bytes, self.max_bytes)
        body = hashlib.blake2b(head.encode(), digest_size=32).hexdigest()
        # Long values repeat the derived body: cheap to make, still exact.
        return head + (body * (size // len(body) + 1))[:size]


@dataclass
class LogModel:
    """What a log must hold. `known` are the records at offsets
    [known_start, end) that an earlier check saw after a kill: the engine
    recovered (or will recover) exactly those bytes, so they must never
    change or vanish. `acked_end` is one past the highest acknowledged
    offset; `start` the log start offset, which only moves forward."""
    known_start: int = 0
    known: list = field(default_factory=list)
    acked_end: int = 0
    start: int = 0

    @property
    def end(self):
        return self.known_start + len(self.known)

    def check(self, records, attempted, start=None, end=None, what=""):
        """`records`: (offset, value) from the log's start to its end.
        `attempted`: the values sent since the last check, in order; the
        log may hold any prefix of them (those never acknowledged may be
        lost), after what it held before. `start` and `end` (the log's
        offsets, from `shiplog stats`) default to what the records say, for
        a log that retention never touches.

        Checks that the records are dense from `start` to `end`, that the
        start only moved forward, that every record seen before at or past
        the start is still there unchanged, that no acknowledged offset is
        missing, and that what follows is a prefix of `attempted`. Returns
        how many attempted records the log took."""
        where = f" ({what})" if what else ""
        offsets = [offset for offset, _ in records]
        if start is None:
            start = offsets[0] if records else self.start
        if end is None:
            end = offsets[-1] + 1 if records else start
        assert offsets == list(range(start, end)), (
            f"records at {_ranges(offsets)}, log offsets {start}..{end - 1}"
            f"{where}")
        assert start >= self.start, (
            f"log start moved back from {self.start} to {start}{where}")
        assert end >= self.end, (
            f"records {max(end, start)}..{self.end - 1} seen before are "
            f"gone: the log ends at {end}{where}")
        assert end >= self.acked_end, (
            f"acknowledged offsets {max(end, start)}..{self.acked_end - 1} "
            f"lost: the log ends at {end}{where}")
        records = [(offset, compact(value)) for offset, value in records]
        attempted = [compact(value) for value in attempted]
        for offset, value in records:
            if offset >= self.end:
                break
            if offset < self.known_start:
                continue
            want = self.known[offset - self.known_start]
            assert value == want, (
                f"offset {offset}: {_short(value)} where {_short(want)} was"
                f"{where}")
        tail = [value for offset, value in records if offset >= self.end]
        if start > self.end:
            # Retention removed the head of what was sent: the survivors
            # still follow it in order.
            skipped = start - self.end
        else:
            skipped = 0
        taken = skipped + len(tail)
        assert taken <= len(attempted), (
            f"{taken} new offsets but only {len(attempted)} records were "
            f"sent{where}")
        for index, value in enumerate(tail):
            sent = attempted[skipped + index]
            assert value == sent, (
                f"offset {self.end + skipped + index}: {_short(value)} where "
                f"the producer sent {_short(sent)}{where}")
        self.known.extend(attempted[:taken])
        self.start = start
        drop = max(0, start - self.known_start)
        if drop:  # what retention removed can no longer be checked
            del self.known[:drop]
            self.known_start += drop
        return taken

    def acknowledge(self, offsets, what=""):
        """Offsets the writer acknowledged since the last check, in order:
        they must run on densely from the log's end as last checked (the
        next append after a recovery goes exactly there)."""
        where = f" ({what})" if what else ""
        expected = max(self.end, self.acked_end)
        for offset in offsets:
            assert offset == expected, (
                f"acknowledged offset {offset} where {expected} was next"
                f"{where}")
            expected += 1
        self.acked_end = expected


def compact(value):
    """A value as the model keeps it: itself if short, else its head, length
    and digest (large values would cost the model hundreds of MB)."""
    if value is None or len(value) <= 256:
        return value
    digest = hashlib.blake2b(value.encode(), digest_size=16).hexdigest()
    return f"{value[:48]}...[{len(value)} bytes, {digest}]"


def _short(value):
    if value is None:
        return "nothing"
    return repr(value if len(value) < 60 else value[:57] + "...")


def _ranges(offsets):
    """'3..7, 9..9' for [3, 4, 5, 6, 7, 9] (the first few runs)."""
    runs = []
    for offset in offsets:
        if runs and offset == runs[-1][1] + 1:
            runs[-1][1] = offset
        else:
            runs.append([offset, offset])
    text = ", ".join(f"{a}..{b}" for a, b in runs[:5])
    return (text + ", ...") if len(runs) > 5 else (text or "none")


@dataclass
class Stats:
    """One scenario's numbers, for the suite's summary."""
    name: str
    iterations: int = 0
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)
    lock: object = field(default_factory=threading.Lock, repr=False)

    def add(self, key, amount=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + amount

    def line(self):
        rate = self.iterations / self.seconds if self.seconds else 0.0
        extra = ", ".join(
            f"{key} {value:.1f}" if isinstance(value, float)
            else f"{key} {value}"
            for key, value in sorted(self.counts.items()))
        return (f"{self.name}: {self.iterations} iterations in "
                f"{self.seconds:.1f} s ({rate:.1f}/s); {extra}")


def select_once(child, want_write, timeout_s, watch=None):
    """(stdout readable, stdin writable, watch readable) within timeout_s."""
    rlist = [child.process.stdout] + ([watch] if watch is not None else [])
    wlist = [child.process.stdin] if want_write else []
    readable, writable, _ = select.select(rlist, wlist, [],
                                          max(0.0, timeout_s))
    return (child.process.stdout in readable, bool(writable),
            watch is not None and watch in readable)


class DeletionWatch:
    """inotify on one directory: which files were deleted from it. Lets a
    test kill a writer right as it starts deleting segments (retention),
    instead of guessing when that happens."""

    IN_NONBLOCK = 0o4000
    IN_CLOEXEC = 0o2000000
    IN_DELETE = 0x200
    EVENT = struct.Struct("iIII")

    def __init__(self, directory):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(self.IN_NONBLOCK | self.IN_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        watch = self.libc.inotify_add_watch(
            self.fd, os.fsencode(directory), self.IN_DELETE)
        if watch < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory}")

    def fileno(self):
        return self.fd

    def deleted(self):
        """The names deleted since the last call (none if none)."""
        names = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return names
            position = 0
            while position < len(data):
                _, _, _, length = self.EVENT.unpack_from(data, position)
                position += self.EVENT.size
                name = data[position:position + length].rstrip(b"\0")
                position += length
                names.append(name.decode())

    def close(self):
        os.close(self.fd)
