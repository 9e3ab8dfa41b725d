"""The Python binding (bindings/python): stores, logs, records, errors and
metrics, through `import shiplog` as a user has it.

CTest puts the built package (build/python) on PYTHONPATH. Zero-copy views
and sends are in test_binding_zero_copy.py, the type stub in
test_binding_stub.py.
"""

import array
import os
import pathlib
import pickle
import re
import subprocess
import sys
import time

import pytest

import shiplog
from conftest import python_child_env

LOG = "events-0"
TIMEOUT_S = 30


@pytest.fixture
def store_dir(tmp_path):
    return tmp_path / "store"


@pytest.fixture
def opened(store_dir):
    """A writable store without the background thread."""
    with shiplog.Store(store_dir, maintenance_interval_ms=0) as store:
        yield store


@pytest.fixture
def log(opened):
    return opened.log(LOG)


def read_all(log, offset=None):
    return list(log.read(offset, max_bytes=None))


def now_ms():
    return int(time.time() * 1000)


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Records ------------------------------------------------------------------


def test_append_assigns_dense_offsets(log):
    assert [log.append(b"v") for _ in range(3)] == [0, 1, 2]
    assert (log.start_offset, log.end_offset) == (0, 3)


def test_null_and_empty_keys_and_values_stay_distinct(log):
    log.append(None)
    log.append(b"", key=b"")
    log.append(b"v", key=None)
    records = read_all(log)
    assert [(r.key, r.value) for r in records] == [
        (None, None), (b"", b""), (None, b"v")]


def test_str_is_stored_as_utf8(log):
    log.append("héllo", key="ключ", headers={"h": "ü"})
    (record,) = read_all(log)
    assert record.value == "héllo".encode()
    assert record.key == "ключ".encode()
    assert record.headers == ((b"h", "ü".encode()),)


def test_any_bytes_like_object_is_a_value(log):
    log.append(bytearray(b"array"))
    log.append(memoryview(b"xviewx")[1:5])
    log.append(array.array("B", b"abc"))
    assert [r.value for r in read_all(log)] == [b"array", b"view", b"abc"]


def test_headers_from_a_dict_or_pairs_keep_order_and_null_values(log):
    log.append(b"v", headers={"a": b"1", b"b": None})
    log.append(b"v", headers=[("x", b"1"), ("x", "2"), (b"y", None)])
    log.append(b"v", headers=None)
    assert [r.headers for r in read_all(log)] == [
        ((b"a", b"1"), (b"b", None)),
        ((b"x", b"1"), (b"x", b"2"), (b"y", None)),
        (),
    ]


def test_a_given_timestamp_is_kept_and_none_means_now(log):
    log.append(b"then", timestamp=1_234)
    before = now_ms()
    log.append(b"now")
    after = now_ms()
    then, current = read_all(log)
    assert then.timestamp == 1_234
    assert before <= current.timestamp <= after


def test_zstd_batches_read_back_as_written(log):
    values = [b"z" * 1000, b"", None, "text"]
    first, last = log.append_many(values, compression="zstd")
    log.append(b"y" * 1000, compression="zstd")
    assert (first, last) == (0, 3)
    assert [r.value for r in read_all(log)] == [
        b"z" * 1000, b"", None, b"text", b"y" * 1000]
    # Compressed on disk: far smaller than the 2,000 bytes of values.
    assert log.size_bytes < 500


def test_only_zstd_compression_is_known(log):
    with pytest.raises(shiplog.InvalidArgument, match="gzip"):
        log.append(b"v", compression="gzip")


def test_append_many_takes_every_record_form(log):
    template = shiplog.Record(7, 1_000, b"rk", b"rv", ((b"h", b"1"),))
    first, last = log.append_many([
        template,
        b"bare",
        "text",
        None,
        (b"one",),
        (b"k", b"pair"),
        {"value": b"d", "key": "dk", "headers": {"h": None},
         "timestamp": 2_000},
        {"key": b"tombstone"},
    ])
    assert (first, last) == (0, 7)
    records = read_all(log)
    assert [(r.key, r.value) for r in records] == [
        (b"rk", b"rv"), (None, b"bare"), (None, b"text"), (None, None),
        (None, b"one"), (b"k", b"pair"), (b"dk", b"d"), (b"tombstone", None)]
    assert records[0].headers == ((b"h", b"1"),)
    assert records[0].timestamp == 1_000
    assert records[6].headers == ((b"h", None),)
    assert records[6].timestamp == 2_000


def test_append_many_takes_any_iterable(log):
    assert log.append_many(b"%d" % i for i in range(5)) == (0, 4)
    assert [r.value for r in read_all(log)] == [b"0", b"1", b"2", b"3", b"4"]


@pytest.mark.parametrize("item", [
    (b"k", b"v", b"extra"),
    {"value": b"v", "partition": 3},
    42,
])
def test_append_many_rejects_what_is_no_record(log, item):
    with pytest.raises(TypeError):
        log.append_many([item])
    assert log.end_offset == 0


def test_append_many_of_nothing_is_invalid(log):
    with pytest.raises(shiplog.InvalidArgument):
        log.append_many([])


@pytest.mark.parametrize("arguments", [
    {"value": 42},
    {"value": b"v", "key": 1.5},
    {"value": b"v", "headers": "not pairs"},
    {"value": b"v", "headers": [("k",)]},
    {"value": b"v", "headers": [(None, b"v")]},
    {"value": b"v", "timestamp": "yesterday"},
])
def test_append_rejects_wrong_types(log, arguments):
    with pytest.raises(TypeError):
        log.append(**arguments)
    assert log.end_offset == 0


def test_read_defaults_to_the_start_and_one_mebibyte(log):
    log.append_many([b"a", b"b"])
    assert [r.offset for r in log.read()] == [0, 1]


def test_read_from_inside_a_batch_starts_at_that_offset(log):
    log.append_many([b"%d" % i for i in range(10)])
    assert [r.offset for r in log.read(4)] == list(range(4, 10))
    assert [r.value for r in log.read(9)] == [b"9"]


def test_read_crosses_segments(opened):
    log = opened.log(LOG, segment_bytes=1024)
    for i in range(200):
        log.append(b"record %d" % i)
    assert log.segment_count > 5
    records = read_all(log)
    assert [r.offset for r in records] == list(range(200))
    assert records[123].value == b"record 123"
    assert [r.offset for r in log.read(150)] == list(range(150, 200))


def test_read_of_a_range_larger_than_its_chunks(opened):
    log = opened.log(LOG, segment_bytes=8 << 20)
    value = os.urandom(64 << 10)
    for _ in range(48):  # 3 MiB: three 1 MiB chunks and more
        log.append(value)
    records = read_all(log)
    assert len(records) == 48
    assert all(r.value == value for r in records)


def test_read_stays_within_max_bytes_but_gives_one_batch(log):
    for _ in range(10):
        log.append(b"x" * 1000)
    assert [r.offset for r in log.read(0, max_bytes=0)] == [0]
    within = list(log.read(0, max_bytes=3500))
    assert [r.offset for r in within] == [0, 1, 2]


def test_read_stops_after_max_records(log):
    log.append_many([b"a", b"b", b"c"])
    assert [r.offset for r in log.read(0, max_records=2)] == [0, 1]
    assert list(log.read(0, max_records=0)) == []


def test_read_ends_where_the_log_ended_when_it_began(log):
    log.append(b"before")
    records = log.read()
    log.append(b"after")
    assert [r.value for r in records] == [b"before"]


def test_read_at_the_end_is_empty(log):
    log.append(b"v")
    assert list(log.read(1)) == []


def test_negative_max_bytes_is_invalid(log):
    with pytest.raises(shiplog.InvalidArgument, match="max_bytes"):
        log.read(0, max_bytes=-1)


def test_records_are_immutable_values():
    record = shiplog.Record(3, 1_000, None, b"v", [(b"h", None)])
    same = shiplog.Record(3, 1_000, None, b"v", ((b"h", None),))
    assert record == same and hash(record) == hash(same)
    assert record != shiplog.Record(4, 1_000, None, b"v")
    assert pickle.loads(pickle.dumps(record)) == record
    assert repr(record) == ("Record(offset=3, timestamp=1000, key=None, "
                            "value=b'v', headers=((b'h', None),))")
    with pytest.raises(AttributeError):
        record.value = b"w"
    match record:
        case shiplog.Record(offset, _, None, value):
            assert (offset, value) == (3, b"v")
        case _:
            pytest.fail("the record did not match")


# Logs -----------------------------------------------------------------------


def test_offset_for_time_finds_the_first_record_at_or_after(log):
    for timestamp in (1_000, 2_000, 3_000):
        log.append(b"v", timestamp=timestamp)
    assert log.offset_for_time(0) == 0
    assert log.offset_for_time(1_500) == 1
    assert log.offset_for_time(3_000) == 2
    assert log.offset_for_time(3_001) is None


def test_truncate_removes_from_a_batch_boundary_on(log):
    for value in (b"a", b"b", b"c"):
        log.append(value)
    log.truncate(1)
    assert log.end_offset == 1
    assert [r.value for r in read_all(log)] == [b"a"]
    assert log.append(b"again") == 1


def test_reset_empties_the_log_and_starts_it_at_the_offset_given(log):
    log.append_many([b"a", b"b", b"c"])
    log.reset(1000)
    assert (log.start_offset, log.end_offset) == (1000, 1000)
    assert log.append(b"after") == 1000
    assert [r.value for r in log.read()] == [b"after"]
    with pytest.raises(shiplog.InvalidArgument, match="negative offset"):
        log.reset(-1)


def test_truncate_inside_a_batch_is_invalid(log):
    log.append_many([b"a", b"b", b"c"])
    with pytest.raises(shiplog.InvalidArgument) as raised:
        log.truncate(1)
    assert isinstance(raised.value, ValueError)
    assert log.end_offset == 3


def test_flush_makes_appends_committed(log):
    log.append(b"v")
    log.flush()
    assert log.committed_offset == 1


def test_roll_starts_a_new_segment(log):
    log.append(b"v")
    log.roll()
    log.append(b"w")
    assert log.segment_count == 2
    assert [r.value for r in read_all(log)] == [b"v", b"w"]


def test_log_properties(opened, log):
    log.append(b"v")
    assert log.name == LOG
    assert log.store is opened
    assert log.size_bytes > 0
    assert log.segment_count == 1
    assert repr(log) == "<shiplog.Log 'events-0' offsets 0..1>"


def test_settings_are_stored_with_the_log(store_dir):
    with shiplog.Store(store_dir, retention_ms=5_000) as store:
        log = store.log(LOG, segment_bytes=4096, flush_messages=None)
        assert log.options["segment_bytes"] == 4096
        assert log.options["retention_ms"] == 5_000
        assert log.options["flush_messages"] == -1
        assert set(log.options) == {
            "segment_bytes", "segment_index_bytes", "index_interval_bytes",
            "segment_ms", "retention_ms", "retention_bytes",
            "flush_messages", "flush_ms", "write_mode"}
    with shiplog.Store(store_dir) as store:
        assert store.log(LOG).options["segment_bytes"] == 4096


def test_direct_write_mode_is_a_setting_and_appends_are_durable(store_dir):
    with shiplog.Store(store_dir) as store:
        log = store.log(LOG, write_mode="direct")
        assert log.options["write_mode"] == "direct"
        assert log.append(b"durable", key=b"k") == 0
        assert log.committed_offset == log.end_offset == 1
    with shiplog.Store(store_dir) as store:
        log = store.log(LOG)
        assert log.options["write_mode"] == "direct"
        assert log.committed_offset == 1
        log = store.log(LOG, write_mode="buffered")
        assert log.options["write_mode"] == "buffered"
        with pytest.raises(ValueError, match="write_mode"):
            store.log(LOG, write_mode="sometimes")


def test_an_unknown_setting_is_a_type_error(opened):
    with pytest.raises(TypeError, match="segment_size"):
        opened.log(LOG, segment_size=4096)


def test_a_setting_out_of_range_is_invalid(opened):
    with pytest.raises(shiplog.InvalidArgument, match="segment.bytes"):
        opened.log(LOG, segment_bytes=1)


# Stores ---------------------------------------------------------------------


def test_store_lists_and_deletes_logs(opened):
    opened.log("b-0")
    opened.log("a-0")
    assert opened.logs() == ["a-0", "b-0"]
    opened.delete_log("a-0")
    assert opened.logs() == ["b-0"]


def test_checkpoint_writes_the_checkpoint_files(opened, store_dir, log):
    log.append(b"v")
    opened.checkpoint()
    opened.run_maintenance()
    assert (store_dir / "recovery-point-offset-checkpoint").exists()


def test_store_takes_str_and_path_like_paths(store_dir):
    with shiplog.Store(str(store_dir)) as store:
        assert store.path == str(store_dir)
    with shiplog.Store(store_dir) as store:
        assert store.path == str(store_dir)
        assert not store.closed and not store.read_only
    assert store.closed


def test_leaving_the_with_block_lets_another_writer_open(store_dir):
    with shiplog.Store(store_dir) as store:
        store.log(LOG).append(b"v")
    with shiplog.Store(store_dir) as again:
        assert [r.value for r in read_all(again.log(LOG))] == [b"v"]


def test_store_resource_settings(store_dir):
    with shiplog.Store(store_dir, file_mode=0o600, directory_mode=0o700,
                       max_open_segment_files=8, max_segment_mappings=8,
                       segment_bytes=200) as store:
        log = store.log(LOG)
        for i in range(30):
            log.append(b"value-%d" % i)
        assert [r.value for r in read_all(log)] == [
            b"value-%d" % i for i in range(30)]
        assert log.segment_count > 8
    assert store_dir.stat().st_mode & 0o777 == 0o700 & ~current_umask()
    segment = next((store_dir / LOG).glob("*.log"))
    assert segment.stat().st_mode & 0o777 == 0o600 & ~current_umask()


def test_min_free_bytes_refuses_appends_before_the_disk_is_full(store_dir):
    with shiplog.Store(store_dir, min_free_bytes=1 << 62) as store:
        log = store.log(LOG)
        with pytest.raises(shiplog.LowDiskSpace, match="min_free_bytes"):
            log.append(b"v")
        assert log.end_offset == 0


def test_a_mode_that_locks_the_owner_out_is_invalid(store_dir):
    with pytest.raises(shiplog.InvalidArgument, match="file mode 0400"):
        shiplog.Store(store_dir, file_mode=0o400)


def test_closing_twice_is_fine(store_dir):
    store = shiplog.Store(store_dir)
    store.close()
    store.close()


def test_a_log_keeps_its_store_alive(store_dir):
    log = shiplog.Store(store_dir).log(LOG)
    log.append(b"v")
    assert not log.store.closed
    assert [r.value for r in read_all(log)] == [b"v"]


# Errors ---------------------------------------------------------------------


@pytest.mark.parametrize("error, status, builtin", [
    (shiplog.InvalidArgument, -2, ValueError),
    (shiplog.NotFound, -3, LookupError),
    (shiplog.AlreadyExists, -4, None),
    (shiplog.OutOfRange, -5, IndexError),
    (shiplog.CorruptData, -6, None),
    (shiplog.ReadOnly, -7, None),
    (shiplog.Locked, -8, None),
    (shiplog.DiskFull, -9, OSError),
    (shiplog.StorageIOError, -10, OSError),
    (shiplog.PeerClosed, -12, ConnectionError),
    (shiplog.Closed, -13, None),
    (shiplog.Unsupported, -14, None),
    (shiplog.Timeout, -15, TimeoutError),
])
def test_each_error_is_a_shiplog_error_and_its_builtin(error, status, builtin):
    assert issubclass(error, shiplog.Error)
    assert error.status == status
    assert error.__module__ == "shiplog"
    if builtin is not None:
        assert issubclass(error, builtin)


def test_a_bad_log_name_is_invalid_argument(opened):
    with pytest.raises(shiplog.InvalidArgument, match="a/b") as raised:
        opened.log("a/b")
    assert isinstance(raised.value, ValueError)
    assert raised.value.status == -2


def test_a_missing_log_without_create_is_not_found(opened):
    with pytest.raises(shiplog.NotFound) as raised:
        opened.log("missing-0", create=False)
    assert isinstance(raised.value, LookupError)


def test_reading_past_the_end_is_out_of_range(log):
    log.append(b"v")
    with pytest.raises(shiplog.OutOfRange) as raised:
        log.read(2)
    assert isinstance(raised.value, IndexError)
    with pytest.raises(IndexError):
        log.view(5)


def test_a_second_writer_is_locked_out_by_pid(opened, store_dir):
    child = subprocess.run(
        [sys.executable, "-c",
         "import shiplog, sys\n"
         "try:\n"
         "    shiplog.Store(sys.argv[1])\n"
         "except shiplog.Locked as error:\n"
         "    print(error.status, error)\n",
         str(store_dir)],
        env=python_child_env(), capture_output=True, text=True,
        timeout=TIMEOUT_S)
    assert child.returncode == 0, child.stderr
    assert child.stdout.startswith("-8 ")
    assert str(os.getpid()) in child.stdout
    with pytest.raises(shiplog.Locked, match=str(os.getpid())):
        shiplog.Store(store_dir)


def test_a_read_only_store_reads_but_refuses_appends(store_dir):
    with shiplog.Store(store_dir) as store:
        store.log(LOG).append(b"v")
    with shiplog.Store(store_dir, read_only=True) as reader:
        assert reader.read_only
        log = reader.log(LOG, create=False)
        assert [r.value for r in read_all(log)] == [b"v"]
        with pytest.raises(shiplog.ReadOnly):
            log.append(b"w")


def test_a_read_only_store_may_open_beside_the_writer(opened, log):
    log.append(b"v")
    log.flush()
    with shiplog.Store(opened.path, read_only=True) as reader:
        assert reader.logs() == [LOG]


def test_a_closed_store_raises_closed(opened, log):
    opened.close()
    with pytest.raises(shiplog.Closed):
        opened.logs()
    with pytest.raises(shiplog.Closed):
        opened.log(LOG)
    with pytest.raises(shiplog.Closed):
        log.append(b"v")


def test_a_corrupt_batch_is_refused_and_nothing_written(log):
    log.append_many([b"a", b"b"])
    with log.view(0) as view:
        batch = bytearray(view)
    batch[-1] ^= 0xFF  # inside the CRC's range
    with pytest.raises(shiplog.CorruptData):
        log.append_batches(batch)
    assert log.end_offset == 2


def test_append_batches_writes_offsets_into_a_writable_buffer(log):
    log.append_many([b"a", b"b"])
    with log.view(0) as view:
        batch = bytes(view)
    in_place = bytearray(batch)
    assert log.append_batches(in_place) == (2, 3)
    assert int.from_bytes(in_place[:8], "big") == 2
    assert log.append_batches(batch) == (4, 5)
    assert int.from_bytes(batch[:8], "big") == 0  # bytes are copied
    assert [r.value for r in read_all(log)] == [b"a", b"b"] * 3


# Metrics --------------------------------------------------------------------


def test_metrics_move_with_appends(opened, log):
    before = opened.metrics()
    log.append_many([b"x" * 100] * 5)
    after = opened.metrics()
    assert after.appended_records - before.appended_records == 5
    assert after.appended_batches - before.appended_batches == 1
    assert after.appended_bytes - before.appended_bytes > 500
    values = after.as_dict()
    assert values["appended_records"] == after.appended_records
    assert set(values["sent_bytes"]) == {
        "sendfile", "splice", "mmap_write", "copy"}
    for name, value in values.items():
        assert getattr(after, name) == value


PROMETHEUS_SAMPLE = re.compile(
    r"^[a-zA-Z_:][a-zA-Z0-9_:]*"
    r'(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})?'
    r" (-?[0-9.]+([eE][-+]?[0-9]+)?|NaN|[+-]Inf)$")


def test_prometheus_text_parses(opened, log):
    log.append(b"v")
    text = opened.metrics().prometheus()
    samples = [line for line in text.splitlines()
               if line and not line.startswith("#")]
    assert samples
    for line in samples:
        assert PROMETHEUS_SAMPLE.match(line), line
    assert any(LOG in line for line in samples)  # the per-log gauges
    assert opened.metrics().text()


def test_version_is_the_librarys():
    assert re.fullmatch(r"\d+\.\d+\.\d+", shiplog.__version__)


def test_the_readme_tour_runs(tmp_path):
    """README.md's Python tour, as printed there, against this build."""
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    match = re.search(r"<!-- example: tour\.py -->\s*```python\n(.*?)```", readme, re.S)
    assert match, "README.md has no Python tour"
    store = tmp_path / "events"
    code = match.group(1).replace('"/var/lib/events"', repr(str(store)))
    assert str(store) in code, "the tour no longer opens /var/lib/events"
    result = subprocess.run([sys.executable, "-c", code],
                            env=python_child_env(), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    # The tour appended 4 records and truncated the last batch of 3 away.
    with shiplog.Store(store, read_only=True) as reopened:
        log = reopened.log("clicks-0", create=False)
        assert (log.start_offset, log.end_offset) == (0, 1)
        assert [r.value for r in log.read()] == [b"signed up"]
    assert "shiplog_appended_records_total 4" in result.stdout
