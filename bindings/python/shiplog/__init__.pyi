"""Type stubs for shiplog, a binding of libshiplog.so.1's C ABI.

Each exception class names the C status it is raised for; the package's
docstring has the whole table. SHIPLOG_ENOMEM raises the built-in MemoryError.
"""

import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Final, Literal, Protocol, TypedDict, Union, final

from _typeshed import ReadableBuffer

__version__: str

# A value or key: bytes-like, str (stored as UTF-8), or None (Kafka's null).
_BytesLike = Union[ReadableBuffer, str]
_HeaderKey = Union[bytes, str]
# (Mapping's key type is invariant: one per kind of key.)
_Headers = Union[
    Mapping[str, _BytesLike | None],
    Mapping[bytes, _BytesLike | None],
    Mapping[_HeaderKey, _BytesLike | None],
    Iterable[tuple[_HeaderKey, _BytesLike | None]],
]
_Compression = Literal["zstd"] | None
_SendPolicy = Literal["auto", "sendfile", "mmap_write", "copy"]
_WriteMode = Literal["buffered", "direct"]
_SendPath = Literal["sendfile", "splice", "mmap_write", "copy", "direct_read"]

class _HasFileno(Protocol):
    def fileno(self) -> int: ...

# A socket (or anything with fileno()) or a descriptor number.
_Destination = Union[socket.socket, _HasFileno, int]

class _RecordDict(TypedDict, total=False):
    value: _BytesLike | None
    key: _BytesLike | None
    headers: _Headers | None
    timestamp: int | None

# One record of Log.append_many.
_RecordInput = Union[
    "Record",
    _BytesLike,
    None,
    tuple[_BytesLike | None],
    tuple[_BytesLike | None, _BytesLike | None],
    _RecordDict,
]

class _LogSettings(TypedDict):
    segment_bytes: int
    segment_index_bytes: int
    index_interval_bytes: int
    segment_ms: int
    retention_ms: int
    retention_bytes: int
    flush_messages: int
    flush_ms: int
    write_mode: _WriteMode

# A path: str, bytes or os.PathLike.
_Path = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]

class _BackupReport(TypedDict):
    logs: int
    segments_linked: int
    segments_copied: int
    bytes_linked: int
    bytes_copied: int
    notes: list[str]

class _VerifyReport(TypedDict):
    logs: int
    segments: int
    batches: int
    records: int
    bytes: int
    problems: list[str]
    notes: list[str]

class Error(Exception):
    """The base of shiplog's exceptions; raised itself for SHIPLOG_ERROR and
    codes this binding does not know."""

    status: int

class InvalidArgument(Error, ValueError):
    """SHIPLOG_EINVAL"""

class NotFound(Error, LookupError):
    """SHIPLOG_ENOTFOUND"""

class AlreadyExists(Error):
    """SHIPLOG_EEXISTS"""

class OutOfRange(Error, IndexError):
    """SHIPLOG_ERANGE"""

class CorruptData(Error):
    """SHIPLOG_ECORRUPT"""

class ReadOnly(Error):
    """SHIPLOG_EREADONLY"""

class Locked(Error):
    """SHIPLOG_ELOCKED; the message names the writer's pid."""

class DiskFull(Error, OSError):
    """SHIPLOG_ENOSPC"""

class LowDiskSpace(Error, OSError):
    """SHIPLOG_ELOWSPACE"""

class StorageIOError(Error, OSError):
    """SHIPLOG_EIO"""

class PeerClosed(Error, ConnectionError):
    """SHIPLOG_EPEERCLOSED"""

class Closed(Error):
    """SHIPLOG_ECLOSED"""

class Unsupported(Error):
    """SHIPLOG_EUNSUPPORTED and SHIPLOG_EVERSION"""

class Timeout(Error, TimeoutError):
    """SHIPLOG_ETIMEDOUT"""

class Store:
    """A directory of logs; one writer process at a time."""

    def __init__(
        self,
        path: str | bytes | os.PathLike[str] | os.PathLike[bytes],
        *,
        read_only: bool = False,
        create: bool = True,
        maintenance_interval_ms: int = 1000,
        checkpoint_interval_ms: int = 60000,
        min_free_bytes: int = 0,
        max_open_segment_files: int = 0,
        max_segment_mappings: int = 0,
        file_mode: int = 0o640,
        directory_mode: int = 0o750,
        segment_bytes: int | None = None,
        segment_index_bytes: int | None = None,
        index_interval_bytes: int | None = None,
        segment_ms: int | None = None,
        retention_ms: int | None = None,
        retention_bytes: int | None = None,
        flush_messages: int | None = None,
        flush_ms: int | None = None,
        write_mode: _WriteMode | None = None,
    ) -> None: ...
    path: Final[str]
    read_only: Final[bool]
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Store: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...
    def log(
        self,
        name: str,
        *,
        create: bool = True,
        segment_bytes: int | None = None,
        segment_index_bytes: int | None = None,
        index_interval_bytes: int | None = None,
        segment_ms: int | None = None,
        retention_ms: int | None = None,
        retention_bytes: int | None = None,
        flush_messages: int | None = None,
        flush_ms: int | None = None,
        write_mode: _WriteMode | None = None,
    ) -> Log: ...
    def logs(self) -> list[str]: ...
    def delete_log(self, name: str) -> None: ...
    def checkpoint(self) -> None: ...
    def run_maintenance(self) -> None: ...
    def backup(self, destination: _Path) -> _BackupReport: ...
    def metrics(self) -> Metrics: ...

class Log:
    """One log of a store: records at dense 64-bit offsets."""

    name: Final[str]
    store: Final[Store]
    @property
    def start_offset(self) -> int: ...
    @property
    def end_offset(self) -> int: ...
    @property
    def committed_offset(self) -> int: ...
    @property
    def size_bytes(self) -> int: ...
    @property
    def segment_count(self) -> int: ...
    @property
    def options(self) -> _LogSettings: ...
    def append(
        self,
        value: _BytesLike | None,
        key: _BytesLike | None = None,
        headers: _Headers | None = None,
        timestamp: int | None = None,
        *,
        compression: _Compression = None,
    ) -> int: ...
    def append_many(
        self, records: Iterable[_RecordInput], *, compression: _Compression = None
    ) -> tuple[int, int]: ...
    def append_batches(self, batches: ReadableBuffer) -> tuple[int, int]: ...
    def read(
        self,
        offset: int | None = None,
        max_bytes: int | None = 1048576,
        *,
        max_records: int | None = None,
    ) -> Records: ...
    def view(
        self, offset: int | None = None, max_bytes: int | None = 1048576
    ) -> View: ...
    def send(
        self,
        destination: _Destination,
        offset: int | None = None,
        max_bytes: int | None = 1048576,
        *,
        policy: _SendPolicy = "auto",
        timeout: float | None = None,
        mmap_threshold_bytes: int | None = None,
        cold_read_lag_bytes: int = 0,
    ) -> SendResult: ...
    def sender(
        self,
        destination: _Destination,
        offset: int | None = None,
        max_bytes: int | None = 1048576,
        *,
        policy: _SendPolicy = "auto",
        mmap_threshold_bytes: int | None = None,
        cold_read_lag_bytes: int = 0,
    ) -> Sender: ...
    def offset_for_time(self, timestamp_ms: int) -> int | None: ...
    def truncate(self, offset: int) -> None: ...
    def reset(self, start_offset: int) -> None: ...
    def flush(self) -> None: ...
    def roll(self) -> None: ...

class Record:
    """One record, immutable; compares, hashes and pickles by value."""

    __match_args__ = ("offset", "timestamp", "key", "value", "headers")
    offset: Final[int]
    timestamp: Final[int]
    key: Final[bytes | None]
    value: Final[bytes | None]
    headers: Final[tuple[tuple[bytes, bytes | None], ...]]
    def __init__(
        self,
        offset: int,
        timestamp: int,
        key: bytes | None,
        value: bytes | None,
        headers: Iterable[tuple[bytes, bytes | None]] = (),
    ) -> None: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Records(Iterator[Record]):
    """An iterator over decoded records."""

    def __iter__(self) -> Records: ...
    def __next__(self) -> Record: ...

@final
class View:
    """A slice of a log in place: read-only, zero-copy (buffer protocol)."""

    first_offset: Final[int]
    next_offset: Final[int]
    position: Final[int]
    @property
    def closed(self) -> bool: ...
    def __len__(self) -> int: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...
    def records(self) -> Records: ...
    def close(self) -> None: ...
    def __enter__(self) -> View: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

class SendResult:
    """What a send shipped, and how."""

    bytes_sent: Final[int]
    first_offset: Final[int]
    next_offset: Final[int]
    bytes_by_path: Final[dict[_SendPath, int]]

class Sender:
    """A resumable send, for non-blocking sockets and event loops."""

    size: Final[int]
    @property
    def bytes_sent(self) -> int: ...
    @property
    def done(self) -> bool: ...
    @property
    def result(self) -> SendResult | None: ...
    def send(self) -> bool: ...

class Metrics:
    """A snapshot of the engine's counters and the store's gauges."""

    appended_bytes: Final[int]
    appended_batches: Final[int]
    appended_records: Final[int]
    sent_bytes: Final[dict[_SendPath, int]]
    send_syscalls: Final[dict[_SendPath, int]]
    partial_sends: Final[int]
    send_eagain: Final[int]
    send_fallbacks: Final[int]
    send_errors: Final[int]
    fsyncs: Final[int]
    fsync_failures: Final[int]
    fsync_p50_seconds: Final[float]
    fsync_p99_seconds: Final[float]
    open_files: Final[int]
    mapped_bytes: Final[int]
    mappings: Final[int]
    segments_recovered: Final[int]
    bytes_truncated_by_recovery: Final[int]
    crc_failures: Final[int]
    index_rebuilds: Final[int]
    def as_dict(self) -> dict[str, int | float | dict[_SendPath, int]]: ...
    def prometheus(self) -> str: ...
    def text(self) -> str: ...

def verify(path: _Path) -> _VerifyReport: ...
