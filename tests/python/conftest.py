"""Fixtures for the tests of the `shiplog` command-line tool.

CTest passes the tool's path in SHIPLOG_BIN (tests/python/CMakeLists.txt).
"""

import ctypes
import os
import re
import select
import subprocess

import pytest

# Generous bounds for waiting on a child process; reaching one is a failure,
# never a way to synchronise.
TIMEOUT_S = 30

# Variables for Python interpreters only (tests/python/CMakeLists.txt sets
# them under ASan: the runtime preloaded, no leak detection). The programs
# the suites start inherit the environment without them; a Python child
# that imports shiplog gets them back from python_child_env().
_PYTHON_ONLY = {
    name: os.environ.pop(name)
    for name in os.environ.get("SHIPLOG_PYTHON_ONLY_ENV", "").split()
    if name in os.environ}


def direct_io_works(directory):
    """Whether files under `directory` open with O_DIRECT (tmpfs before
    Linux 6.6 does not have it): where cold reads can bypass the page
    cache."""
    probe = os.path.join(directory, "direct-probe")
    try:
        fd = os.open(probe, os.O_CREAT | os.O_RDWR | os.O_DIRECT, 0o600)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def python_child_env(**variables):
    """The environment for a child Python that imports shiplog: this one's,
    with `variables` added."""
    return {**os.environ, **_PYTHON_ONLY, **variables}


class Shiplog:
    """Runs the `shiplog` binary."""

    def __init__(self, binary):
        self.binary = binary

    def library(self):
        """The libshiplog.so the tool runs with (as ldd resolves it), loaded
        through ctypes: what the tool passes on from the library can be
        asked of the library itself."""
        ldd = subprocess.run(["ldd", self.binary], capture_output=True,
                             text=True, check=True, timeout=TIMEOUT_S).stdout
        return ctypes.CDLL(
            re.search(r"^\s*libshiplog\.so\.\d+ => (\S+)", ldd, re.M)[1])

    def run(self, *args, input=b""):
        """Runs to completion; returns the CompletedProcess (bytes output)."""
        return subprocess.run([self.binary, *map(str, args)], input=input,
                              capture_output=True, timeout=TIMEOUT_S)

    def ok(self, *args, input=b""):
        """Runs, asserts exit status 0, returns stdout."""
        result = self.run(*args, input=input)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return result.stdout

    def popen(self, *args):
        """Starts with pipes for stdin, stdout and stderr."""
        return subprocess.Popen([self.binary, *map(str, args)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def produce(self, store, log, lines, *flags):
        """Produces `lines` (str or bytes, joined with '\\n')."""
        data = b"".join(
            (line.encode() if isinstance(line, str) else line) + b"\n"
            for line in lines)
        return self.ok("produce", store, log, *flags, input=data)

    def consume(self, store, log, *flags):
        """Consumes; returns stdout decoded."""
        return self.ok("consume", store, log, *flags).decode()


class LineReader:
    """Reads lines from a child's pipe, waiting at most TIMEOUT_S each."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.pending = b""

    def readline(self):
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.fd], [], [], TIMEOUT_S)
            assert ready, "no output from the child within the timeout"
            chunk = os.read(self.fd, 4096)
            assert chunk, "the child closed its output"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()


@pytest.fixture(scope="session")
def shiplog():
    binary = os.environ.get("SHIPLOG_BIN")
    if not binary:
        pytest.fail("SHIPLOG_BIN is not set: run the tests through ctest")
    return Shiplog(binary)


@pytest.fixture
def store(tmp_path):
    """A path for a store (not created: produce creates it)."""
    return tmp_path / "store"


@pytest.fixture
def line_reader():
    return LineReader
