"""The files `shiplog produce` writes, read by an independent parser.

kafka-python's own RecordBatch v2 reader (not shiplog's) parses every .log
file, and the .index and .timeindex entries are decoded with struct: if
shiplog's bytes were not Kafka's, this is where it would show.
"""

import struct
import time

import pytest
from kafka.record.default_records import DefaultRecordBatch
from kafka.record.memory_records import MemoryRecords

try:
    import zstandard  # noqa: F401  (kafka-python decodes zstd with it)
    HAVE_ZSTD = True
except ImportError:
    HAVE_ZSTD = False

SEPARATOR = "|"
BATCH_HEADER_SIZE = 61


def make_lines(count):
    """Lines with null keys, empty keys and values, and extra separators."""
    lines = []
    for i in range(count):
        if i % 5 == 0:
            lines.append(f"no separator {i}")
        elif i % 5 == 1:
            lines.append(f"key{i}{SEPARATOR}")
        elif i % 5 == 2:
            lines.append(f"{SEPARATOR}value {i}")
        elif i % 5 == 3:
            lines.append(f"key{i}{SEPARATOR}value{SEPARATOR}{i}")
        else:
            lines.append(f"key{i}{SEPARATOR}" + "value " * (i % 13))
    return lines


def expected_record(line):
    """(key, value) as the log must hold them: split at the first SEPARATOR."""
    key, separator, value = line.partition(SEPARATOR)
    if not separator:
        return None, line.encode()
    return key.encode(), value.encode()


class Batch:
    """One batch of a segment: where it is and what kafka-python saw."""

    def __init__(self, position, base_offset, last_offset, max_timestamp):
        self.position = position
        self.base_offset = base_offset
        self.last_offset = last_offset
        self.max_timestamp = max_timestamp


def parse_segment(path, base_offset, compression, time_range):
    """Parses a .log with kafka-python; returns its batches and records."""
    data = path.read_bytes()
    records = MemoryRecords(data)
    assert records.valid_bytes() == len(data), f"{path}: trailing bytes"
    batches, decoded = [], []
    position, next_offset = 0, base_offset
    while records.has_next():
        batch = records.next_batch()
        assert isinstance(batch, DefaultRecordBatch)
        assert batch.magic == 2
        assert batch.validate_crc(), f"{path}: CRC of batch at {position}"
        assert batch.base_offset == next_offset
        assert batch.compression_type == compression
        assert not batch.is_transactional and not batch.is_control_batch
        stamps = []
        for record in batch:
            assert record.offset == next_offset
            assert record.timestamp_type == 0  # CreateTime
            assert record.headers == []
            assert time_range[0] <= record.timestamp <= time_range[1]
            stamps.append(record.timestamp)
            decoded.append((record.key, record.value))
            next_offset += 1
        assert stamps, f"{path}: empty batch at {position}"
        assert batch.last_offset_delta == len(stamps) - 1
        assert batch.first_timestamp == stamps[0]
        assert batch.max_timestamp == max(stamps)
        batches.append(Batch(position, batch.base_offset, next_offset - 1,
                             batch.max_timestamp))
        (length,) = struct.unpack_from(">i", data, position + 8)
        position += 12 + length
    assert position == len(data)
    return batches, decoded


def check_offset_index(path, base_offset, batches):
    """Each entry maps a batch's last offset to the batch's start."""
    data = path.read_bytes()
    assert len(data) % 8 == 0
    starts = {batch.position: batch for batch in batches}
    previous = None
    for i in range(0, len(data), 8):
        relative, position = struct.unpack_from(">II", data, i)
        entry = (base_offset + relative, position)
        assert position in starts, f"{path}: entry {entry} not at a batch"
        assert starts[position].last_offset == entry[0]
        if previous is not None:
            assert entry[0] > previous[0] and entry[1] > previous[1]
        previous = entry
    return len(data) // 8


def check_time_index(path, base_offset, batches):
    """Each entry holds the running max timestamp at its offset."""
    data = path.read_bytes()
    assert len(data) % 12 == 0
    previous = None
    for i in range(0, len(data), 12):
        timestamp, relative = struct.unpack_from(">qI", data, i)
        offset = base_offset + relative
        holding = [b for b in batches if b.base_offset <= offset <= b.last_offset]
        assert holding, f"{path}: offset {offset} in no batch"
        running_max = max(b.max_timestamp for b in batches
                          if b.base_offset <= holding[0].base_offset)
        assert timestamp == running_max
        if previous is not None:
            assert timestamp > previous[0] and offset >= previous[1]
        previous = (timestamp, offset)
    return len(data) // 12


def produce_and_check(shiplog, store, flags, compression):
    lines = make_lines(600)
    start = int(time.time() * 1000)
    # Two runs: the second continues the offsets and the stored settings.
    shiplog.produce(store, "t", lines[:400], "--key-separator", SEPARATOR,
                    "--batch-records", "9", "--segment-bytes", "4096",
                    "--index-interval-bytes", "256", *flags)
    shiplog.produce(store, "t", lines[400:], "--key-separator", SEPARATOR,
                    "--batch-records", "9", *flags)
    end = int(time.time() * 1000)

    logs = sorted((store / "t").glob("*.log"))
    assert len(logs) >= 3, "expected several segments"
    decoded, next_offset = [], 0
    index_entries = time_entries = 0
    for log in logs:
        base_offset = int(log.stem)
        assert len(log.stem) == 20
        assert base_offset == next_offset, f"{log}: offsets do not continue"
        batches, records = parse_segment(log, base_offset, compression,
                                         (start, end))
        decoded += records
        next_offset = batches[-1].last_offset + 1
        index_entries += check_offset_index(log.with_suffix(".index"),
                                            base_offset, batches)
        time_entries += check_time_index(log.with_suffix(".timeindex"),
                                         base_offset, batches)
    assert decoded == [expected_record(line) for line in lines]
    assert index_entries > len(logs) and time_entries >= len(logs)


def test_uncompressed_segments_parse_as_kafka_batches(shiplog, store):
    produce_and_check(shiplog, store, [], DefaultRecordBatch.CODEC_NONE)


@pytest.mark.skipif(not HAVE_ZSTD,
                    reason="python3-zstandard is not installed: kafka-python "
                           "cannot decode zstd batches")
def test_zstd_segments_parse_as_kafka_batches(shiplog, store):
    produce_and_check(shiplog, store, ["--compression", "zstd"],
                      DefaultRecordBatch.CODEC_ZSTD)
