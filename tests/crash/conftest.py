"""Fixtures of the crash suites: the tool (SHIPLOG_BIN, as CTest passes it),
a seeded random source per test, and a summary of iterations per scenario.
"""

import os
import random
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

import pytest

import crash_util
from crash_util import SEED, Stats, Tool

# kafka_server_util lives with the Kafka interop suites and takes TIMEOUT_S
# from `conftest`, which is this module when these suites run.
sys.path.append(str(Path(__file__).resolve().parents[1] / "python"))
TIMEOUT_S = crash_util.TIMEOUT_S

_STATS = []


@pytest.fixture(scope="session")
def tool():
    binary = os.environ.get("SHIPLOG_BIN")
    if not binary:
        pytest.skip("SHIPLOG_BIN is not set (CTest sets it)")
    return Tool(binary)


@pytest.fixture
def work_dir():
    """A temporary directory of the test's own, removed when it ends, pass
    or fail (SHIPLOG_CRASH_KEEP=1 keeps it, to look at a failure)."""
    path = Path(tempfile.mkdtemp(prefix="shiplog-crash-"))
    yield path
    if os.environ.get("SHIPLOG_CRASH_KEEP") == "1":
        print(f"kept {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def rng(request):
    """A random source seeded by SHIPLOG_CRASH_SEED and the test's name."""
    return random.Random(SEED ^ zlib.crc32(request.node.name.encode()))


@pytest.fixture
def stats(request):
    """The test's Stats; printed in the summary, pass or fail."""
    entry = Stats(request.node.name)
    _STATS.append(entry)
    return entry


def pytest_report_header(config):
    return (f"crash suites: SHIPLOG_CRASH_SEED={SEED} "
            f"SHIPLOG_CRASH_SCALE={crash_util.SCALE:g}")


def pytest_terminal_summary(terminalreporter):
    if not _STATS:
        return
    terminalreporter.write_sep("-", f"crash iterations (seed {SEED})")
    for entry in _STATS:
        terminalreporter.write_line(entry.line())
