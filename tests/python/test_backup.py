"""`shiplog backup` and `shiplog verify`, and Store.backup / shiplog.verify:
a backup taken while a producer appends holds every offset committed
before it started, opens as a store (restore = open it), verifies, and
verify names and counts what is damaged."""

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import TIMEOUT_S

FIRST_LOG = "00000000000000000000.log"


def lines(count, first=0):
    return [f"line {i}" for i in range(first, first + count)]


def all_files(directory):
    return sorted(path for path in Path(directory).rglob("*") if path.is_file())


@pytest.fixture
def filled(shiplog, store):
    """A store with two logs, one of several segments."""
    shiplog.produce(store, "orders-0", lines(2000), "--segment-bytes", "8192")
    shiplog.produce(store, "audit", lines(10))
    return store


def test_backup_opens_as_a_store_and_verifies(shiplog, filled, tmp_path):
    dest = tmp_path / "backup"
    out = shiplog.ok("backup", filled, dest).decode().splitlines()
    assert out[0] == "audit: offsets 0 to 9"
    assert out[1] == "orders-0: offsets 0 to 1999"
    assert out[2].startswith(f"backed up 2 logs to {dest}: ")
    assert not list(tmp_path.glob("backup.partial-*"))

    verified = shiplog.run("verify", dest)
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == b""  # no terminal, no progress bar
    summary = verified.stdout.decode().splitlines()[-1]
    assert summary.startswith(f"verified {dest}: 2 logs, ")
    assert "2010 records" in summary and summary.endswith("no problems")
    assert "PROBLEM" not in verified.stdout.decode()

    # Restoring is opening the backup: everything is there, appends go on.
    assert shiplog.consume(dest, "orders-0").splitlines() == lines(2000)
    assert shiplog.produce(dest, "orders-0", ["after"], "--print-offsets") \
        == b"2000\n"
    assert shiplog.consume(dest, "orders-0").splitlines() == lines(2000) + ["after"]
    # ... and never reach the source through the hard links.
    assert shiplog.consume(filled, "orders-0").splitlines() == lines(2000)
    assert shiplog.ok("verify", filled)


def test_closed_segments_are_hard_links(shiplog, filled, tmp_path):
    dest = tmp_path / "backup"
    shiplog.ok("backup", filled, dest)
    segments = sorted((filled / "orders-0").glob("*.log"))
    assert len(segments) >= 3
    for segment in segments[:-1]:
        copy = dest / "orders-0" / segment.name
        assert copy.stat().st_ino == segment.stat().st_ino
    last = dest / "orders-0" / segments[-1].name
    assert last.stat().st_ino != segments[-1].stat().st_ino
    assert last.read_bytes() == segments[-1].read_bytes()


def test_backup_while_a_producer_appends(shiplog, store, tmp_path):
    producer = shiplog.popen("produce", store, "busy", "--print-offsets",
                             "--flush-messages", "1", "--batch-records", "20",
                             "--segment-bytes", "16384")
    committed = []  # offsets the producer reported durable, in order
    stop = threading.Event()

    def feed():
        i = 0
        try:
            while not stop.is_set():
                producer.stdin.write("".join(
                    f"line {n}\n" for n in range(i, i + 20)).encode())
                producer.stdin.flush()
                i += 20
        except BrokenPipeError:
            pass
        finally:
            producer.stdin.close()

    def drain():
        for line in producer.stdout:
            committed.append(int(line))

    def wait_for(count):
        deadline = time.monotonic() + TIMEOUT_S
        while len(committed) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(committed) >= count, "the producer is not producing"

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for thread in threads:
        thread.start()
    try:
        backups = []
        for n in range(3):
            wait_for(len(committed) + 1000)
            committed_before = committed[-1] + 1
            dest = tmp_path / f"backup-{n}"
            shiplog.ok("backup", store, dest)
            backups.append((dest, committed_before))
        # Well past what the last backup can hold.
        wait_for(len(committed) + 500)
    finally:
        stop.set()
        for thread in threads:
            thread.join(TIMEOUT_S)
        assert producer.wait(TIMEOUT_S) == 0, producer.stderr.read()

    source = shiplog.consume(store, "busy").splitlines()
    ends = []
    for dest, committed_before in backups:
        assert shiplog.run("verify", dest).returncode == 0
        restored = shiplog.consume(dest, "busy").splitlines()
        # Every offset committed before the backup started, and a prefix
        # of the source.
        assert len(restored) >= committed_before
        assert restored == source[:len(restored)]
        ends.append(len(restored))
    assert ends == sorted(ends)
    assert len(source) > ends[-1], "the producer ran on after the backups"


def test_verify_names_and_counts_the_problems(shiplog, filled, tmp_path):
    dest = tmp_path / "backup"
    shiplog.ok("backup", filled, dest)
    # The first segment is a hard link: change a copy, not the source's.
    damaged = dest / "orders-0" / FIRST_LOG
    data = bytearray(damaged.read_bytes())
    damaged.unlink()
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))

    result = shiplog.run("verify", dest)
    assert result.returncode == 1
    error = result.stderr.decode()
    assert error.startswith(f"shiplog verify: {dest}: 1 problem: ")
    assert "CRC mismatch" in error
    out = result.stdout.decode().splitlines()
    assert out[0].startswith("PROBLEM: log orders-0: segment 0: ")
    assert out[-1].startswith(f"found 1 problem in {dest}: ")

    # A segment gone from the middle: a gap, and the damage, two problems.
    segments = sorted((dest / "orders-0").glob("*.log"))
    assert len(segments) >= 4
    for path in (dest / "orders-0").glob(segments[2].stem + ".*"):
        path.unlink()
    result = shiplog.run("verify", dest)
    assert result.returncode == 1
    assert b": 2 problems; the first: " in result.stderr
    assert b"are missing" in result.stdout


def test_verify_json_and_forced_progress(shiplog, filled):
    result = shiplog.run("verify", filled, "--json", "--progress")
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["logs"] == 2 and report["records"] == 2010
    assert report["problems"] == []
    assert report["bytes"] == sum(p.stat().st_size
                                  for p in filled.rglob("*.log"))
    assert b"%" in result.stderr and b"of" in result.stderr


def test_backup_json(shiplog, filled, tmp_path):
    report = json.loads(shiplog.ok("backup", filled, tmp_path / "b", "--json"))
    assert [log["name"] for log in report["logs"]] == ["audit", "orders-0"]
    assert report["logs"][1]["end_offset"] == 2000
    assert report["segments_linked"] >= 2 and report["segments_copied"] == 2
    assert report["notes"] == []


def test_backup_refuses_what_it_must_not_overwrite(shiplog, filled, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep").write_text("mine")
    result = shiplog.run("backup", filled, taken)
    assert result.returncode == 1
    assert b"exists and is not empty" in result.stderr
    assert (taken / "keep").read_text() == "mine"

    result = shiplog.run("backup", filled, filled / "nested")
    assert result.returncode == 1
    assert b"inside it" in result.stderr
    assert not (filled / "nested").exists()

    result = shiplog.run("backup", tmp_path / "nothing", tmp_path / "b")
    assert result.returncode == 1
    assert b"does not exist" in result.stderr

    assert shiplog.run("backup", filled).returncode == 2
    assert shiplog.run("verify").returncode == 2
    result = shiplog.run("verify", tmp_path / "nothing")
    assert result.returncode == 1 and b"does not exist" in result.stderr


def test_backup_to_another_file_system_copies(shiplog, filled):
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK) or \
            shm.stat().st_dev == filled.stat().st_dev:
        pytest.skip("no second file system to back up to")
    with tempfile.TemporaryDirectory(dir=shm) as scratch:
        dest = Path(scratch) / "backup"
        shiplog.ok("backup", filled, dest)
        assert all(path.stat().st_nlink == 1 for path in all_files(dest))
        assert shiplog.run("verify", dest).returncode == 0
        assert shiplog.consume(dest, "orders-0").splitlines() == lines(2000)


def test_the_python_binding_backs_up_and_verifies(shiplog, filled, tmp_path):
    shiplog_module = pytest.importorskip("shiplog")
    with shiplog_module.Store(filled, read_only=True) as source:
        report = source.backup(tmp_path / "backup")
    assert report["logs"] == 2 and report["notes"] == []
    assert report["segments_copied"] == 2
    verified = shiplog_module.verify(tmp_path / "backup")
    assert verified["problems"] == [] and verified["records"] == 2010
    with shiplog_module.Store(tmp_path / "backup") as restored:
        log = restored.log("orders-0", create=False)
        assert log.end_offset == 2000
        assert log.append(b"more") == 2000
    with pytest.raises(shiplog_module.AlreadyExists):
        with shiplog_module.Store(filled, read_only=True) as source:
            source.backup(tmp_path / "backup")
    with pytest.raises(shiplog_module.NotFound):
        shiplog_module.verify(tmp_path / "nothing")
