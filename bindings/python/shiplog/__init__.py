"""shiplog: Kafka-format log storage, with zero-copy reads and sends.

A binding of libshiplog.so.1's C ABI (shiplog.h)::

    import shiplog

    with shiplog.Store("/var/lib/app/store") as store:
        log = store.log("events-0", segment_bytes=64 << 20)
        offset = log.append(b"hello", key="k1", headers={"trace": b"1"})
        for record in log.read(offset):
            print(record.offset, record.value)
        with log.view(offset) as view:          # the segment's bytes, in place
            wire_bytes = memoryview(view)
        log.send(sock, offset)                  # page cache -> socket

Every call that may block (file I/O, fsync, a full socket) releases the GIL.

Errors are exceptions made from the C status codes in one place: every one
is a shiplog.Error, with the code in ``.status``, and also the built-in
exception a caller would catch:

====================  ====================  ===========================
C status              exception             also a
====================  ====================  ===========================
SHIPLOG_EINVAL        InvalidArgument       ValueError
SHIPLOG_ENOTFOUND     NotFound              LookupError
SHIPLOG_EEXISTS       AlreadyExists
SHIPLOG_ERANGE        OutOfRange            IndexError
SHIPLOG_ECORRUPT      CorruptData
SHIPLOG_EREADONLY     ReadOnly
SHIPLOG_ELOCKED       Locked
SHIPLOG_ENOSPC        DiskFull              OSError
SHIPLOG_ELOWSPACE     LowDiskSpace          OSError
SHIPLOG_EIO           StorageIOError        OSError
SHIPLOG_EPEERCLOSED   PeerClosed            ConnectionError
SHIPLOG_ECLOSED       Closed
SHIPLOG_EUNSUPPORTED  Unsupported
SHIPLOG_EVERSION      Unsupported
SHIPLOG_ETIMEDOUT     Timeout               TimeoutError
SHIPLOG_ENOMEM        MemoryError (built-in, not an Error)
anything else         Error
====================  ====================  ===========================

Arguments of the wrong type raise TypeError, as Python's own functions do.
"""

from shiplog._shiplog import (
    AlreadyExists,
    Closed,
    CorruptData,
    DiskFull,
    Error,
    InvalidArgument,
    Locked,
    Log,
    LowDiskSpace,
    Metrics,
    NotFound,
    OutOfRange,
    PeerClosed,
    ReadOnly,
    Record,
    Records,
    SendResult,
    Sender,
    StorageIOError,
    Store,
    Timeout,
    Unsupported,
    View,
    __version__,
    verify,
)

__all__ = [
    "AlreadyExists",
    "Closed",
    "CorruptData",
    "DiskFull",
    "Error",
    "InvalidArgument",
    "Locked",
    "Log",
    "LowDiskSpace",
    "Metrics",
    "NotFound",
    "OutOfRange",
    "PeerClosed",
    "ReadOnly",
    "Record",
    "Records",
    "SendResult",
    "Sender",
    "StorageIOError",
    "Store",
    "Timeout",
    "Unsupported",
    "View",
    "verify",
]
