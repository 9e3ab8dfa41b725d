"""The Python binding's zero-copy paths: Log.view (the buffer protocol over
the segment's mapping) and Log.send / Log.sender (page cache to socket).

What a view shows and a send ships is compared byte for byte with the
segment files, read here independently of shiplog.
"""

import io
import pathlib
import select
import socket
import threading

import pytest

import shiplog
from conftest import direct_io_works

LOG = "events-0"
TIMEOUT_S = 30
POLICIES = ["auto", "sendfile", "mmap_write", "copy"]
SMALL_BUFFER = 4096


@pytest.fixture
def opened(tmp_path):
    """A writable store without the background thread."""
    with shiplog.Store(tmp_path / "store", maintenance_interval_ms=0) as store:
        yield store


def fill(log, records, value_bytes=1000):
    for i in range(records):
        log.append(b"%06d" % i + b"x" * (value_bytes - 6))


def segment_files(store):
    """The log's segment files in offset order (each is named by its base
    offset, 20 digits)."""
    return sorted(pathlib.Path(store.path, LOG).glob("*.log"))


def file_range(store, first_offset, position, size):
    """`size` bytes at `position` of the segment holding first_offset."""
    segment = [path for path in segment_files(store)
               if int(path.stem) <= first_offset][-1]
    return segment.read_bytes()[position:position + size]


def log_file_bytes(store):
    """Every segment's bytes, in offset order."""
    return b"".join(path.read_bytes() for path in segment_files(store))


def read_to_end(sock):
    """Everything `sock` receives until its peer closes."""
    sock.settimeout(TIMEOUT_S)
    chunks = []
    while chunk := sock.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def read_exactly(sock, size):
    sock.settimeout(TIMEOUT_S)
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the sender closed early"
        data += chunk
    return bytes(data)


def small_buffers(sender, receiver):
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)


class Reader:
    """Reads a socket to its end in a thread."""

    def __init__(self, sock):
        self.data = None
        self.thread = threading.Thread(target=self._run, args=(sock,),
                                       daemon=True)
        self.thread.start()

    def _run(self, sock):
        self.data = read_to_end(sock)

    def join(self):
        self.thread.join(TIMEOUT_S)
        assert not self.thread.is_alive(), "the reader did not finish"
        return self.data


# Views ----------------------------------------------------------------------


def test_a_view_is_the_segment_files_bytes(opened):
    log = opened.log(LOG, segment_bytes=16 << 10)
    fill(log, 100)
    with log.view(50) as view:
        assert view.first_offset <= 50 < view.next_offset
        data = memoryview(view)
        assert data.readonly and data.nbytes == len(view) > 0
        assert data == file_range(opened, view.first_offset, view.position,
                                  len(view))
        data.release()


def test_a_view_cannot_be_written(opened):
    log = opened.log(LOG)
    fill(log, 3)
    with log.view() as view:
        data = memoryview(view)
        with pytest.raises(TypeError):
            data[0] = 0
        with pytest.raises(TypeError):
            io.BytesIO(b"overwrite").readinto(view)
        data.release()


def test_a_view_is_one_segment_within_max_bytes(opened):
    log = opened.log(LOG, segment_bytes=16 << 10)
    fill(log, 100)
    with log.view(0, max_bytes=None) as view:
        assert 0 < len(view) <= 16 << 10
        assert view.next_offset < log.end_offset
    with log.view(0, max_bytes=2500) as view:
        assert len(view) <= 2500
        assert view.next_offset == 2


def test_view_records_start_at_the_offset_asked(opened):
    log = opened.log(LOG)
    log.append_many([b"%d" % i for i in range(10)])
    with log.view(6) as view:
        assert view.first_offset == 0
        assert [r.value for r in view.records()] == [b"6", b"7", b"8", b"9"]


def test_a_view_at_the_end_is_empty(opened):
    log = opened.log(LOG)
    fill(log, 2)
    with log.view(2) as view:
        assert len(view) == 0 and bytes(view) == b""
        assert view.first_offset == view.next_offset == 2


def test_a_view_outlives_retention_deleting_its_segment(opened):
    log = opened.log(LOG, segment_bytes=4096, retention_bytes=4096)
    fill(log, 40)
    view = log.view(0)
    expected = file_range(opened, 0, view.position, len(view))
    first_segment = segment_files(opened)[0]
    opened.run_maintenance()
    assert log.start_offset > 0
    assert not first_segment.exists()
    assert bytes(view) == expected
    assert [r.offset for r in view.records()][0] == 0
    view.close()


def test_a_view_closes_only_once_no_memoryview_is_alive(opened):
    log = opened.log(LOG)
    fill(log, 1)
    view = log.view()
    data = memoryview(view)
    with pytest.raises(BufferError):
        view.close()
    data.release()
    view.close()
    assert view.closed
    with pytest.raises(shiplog.Closed):
        memoryview(view)
    with pytest.raises(shiplog.Closed):
        view.records()


# Sends ----------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
def test_send_to_a_socketpair_ships_the_file_bytes(opened, policy):
    log = opened.log(LOG)
    fill(log, 50)
    source, sink = socket.socketpair()
    reader = Reader(sink)
    with source:
        sent = log.send(source, 10, max_bytes=None, policy=policy)
    received = reader.join()
    sink.close()
    assert sent.first_offset <= 10 and sent.next_offset == 50
    assert sent.bytes_sent == len(received)
    assert sum(sent.bytes_by_path.values()) == sent.bytes_sent
    if policy != "auto":
        assert sent.bytes_by_path[policy] == sent.bytes_sent
    assert received == log_file_bytes(opened)[-len(received):]


def test_auto_sends_by_sendfile_from_its_threshold(opened):
    log = opened.log(LOG)
    fill(log, 5)
    source, sink = socket.socketpair()
    with source, sink:
        sent = log.send(source, mmap_threshold_bytes=1)
        assert sent.bytes_by_path["sendfile"] == sent.bytes_sent > 0
        read_exactly(sink, sent.bytes_sent)


def test_cold_read_lag_reads_old_segments_directly(opened):
    if not direct_io_works(opened.path):
        pytest.skip(f"no O_DIRECT under {opened.path}")
    log = opened.log(LOG, segment_bytes=64 << 10)
    fill(log, 300)
    tail = segment_files(opened)[-1].stat().st_size
    source, sink = socket.socketpair()
    reader = Reader(sink)
    with source:
        sent = log.send(source, max_bytes=None, policy="sendfile",
                        cold_read_lag_bytes=tail)
    received = reader.join()
    sink.close()
    assert received == log_file_bytes(opened)
    assert sent.bytes_by_path["direct_read"] == len(received) - tail
    assert sent.bytes_by_path["sendfile"] == tail


def test_send_to_a_tcp_connection(opened):
    log = opened.log(LOG, segment_bytes=64 << 10)
    fill(log, 200)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(),
                                          timeout=TIMEOUT_S)
        connection, _ = listener.accept()
    reader = Reader(connection)
    offset = 0
    with client:
        while offset < log.end_offset:  # a segment at most per send
            offset = log.send(client, offset, max_bytes=None).next_offset
    assert reader.join() == log_file_bytes(opened)
    connection.close()


def test_send_takes_a_descriptor_number(opened):
    log = opened.log(LOG)
    fill(log, 3)
    source, sink = socket.socketpair()
    with source, sink:
        sent = log.send(source.fileno())
        assert read_exactly(sink, sent.bytes_sent) == log_file_bytes(opened)


def test_sends_resume_at_next_offset(opened):
    log = opened.log(LOG)
    fill(log, 30)
    source, sink = socket.socketpair()
    reader = Reader(sink)
    offset, sends = 0, 0
    with source:
        while offset < log.end_offset:
            offset = log.send(source, offset, max_bytes=3000).next_offset
            sends += 1
    assert reader.join() == log_file_bytes(opened)
    assert sends >= 10
    sink.close()


def test_send_to_a_closed_peer_raises_peer_closed(opened):
    log = opened.log(LOG)
    fill(log, 3)
    for policy in POLICIES:
        source, sink = socket.socketpair()
        sink.close()
        with source, pytest.raises(shiplog.PeerClosed) as raised:
            log.send(source, policy=policy)
        assert isinstance(raised.value, ConnectionError)
    # Still here: no SIGPIPE killed the process.


def test_send_gives_up_after_its_timeout(opened):
    log = opened.log(LOG)
    fill(log, 1000)
    source, sink = socket.socketpair()
    small_buffers(source, sink)
    source.setblocking(False)  # a blocking one would block in the kernel
    with source, sink, pytest.raises(shiplog.Timeout) as raised:
        log.send(source, max_bytes=None, timeout=0.2)
    assert isinstance(raised.value, TimeoutError)


@pytest.mark.parametrize("arguments, error", [
    ({"destination": "not a socket"}, TypeError),
    ({"destination": -1}, ValueError),
    ({"policy": "splice"}, shiplog.InvalidArgument),
    ({"timeout": -1}, shiplog.InvalidArgument),
])
def test_send_rejects_bad_arguments(opened, arguments, error):
    log = opened.log(LOG)
    fill(log, 1)
    source, sink = socket.socketpair()
    with source, sink, pytest.raises(error):
        log.send(**{"destination": source, **arguments})


def test_a_sender_resumes_on_a_nonblocking_socket(opened):
    log = opened.log(LOG)
    fill(log, 300)
    source, sink = socket.socketpair()
    small_buffers(source, sink)
    source.setblocking(False)
    sink.settimeout(TIMEOUT_S)
    sender = log.sender(source, 0, max_bytes=None)
    assert (sender.size, sender.bytes_sent) == (len(log_file_bytes(opened)), 0)
    assert sender.result is None and not sender.done
    received = bytearray()
    full = 0
    while not sender.send():
        full += 1
        assert sender.bytes_sent < sender.size
        ready, _, _ = select.select([sink], [], [], TIMEOUT_S)
        assert ready
        received += sink.recv(1 << 16)
    assert full > 0 and sender.done and sender.send()
    received += read_exactly(sink, sender.size - len(received))
    assert received == log_file_bytes(opened)
    assert sender.bytes_sent == sender.size
    assert sender.result.next_offset == 300
    source.close()
    sink.close()


def test_a_blocking_send_lets_other_threads_run(opened):
    """The send cannot finish unless this thread reads while it is blocked:
    it must have released the GIL. Without that it would hold the GIL until
    its own timeout, then fail with Timeout, and this test with it."""
    log = opened.log(LOG, segment_bytes=8 << 20)
    fill(log, 4000)
    expected = log_file_bytes(opened)
    source, sink = socket.socketpair()
    small_buffers(source, sink)
    source.setblocking(False)  # so that the send's timeout applies
    outcome = {}

    def send():
        try:
            outcome["sent"] = log.send(source, max_bytes=None,
                                       timeout=TIMEOUT_S / 3)
        except shiplog.Error as error:
            outcome["error"] = error

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = read_exactly(sink, len(expected))
    sender.join(TIMEOUT_S)
    source.close()
    sink.close()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["sent"].bytes_sent == len(expected)
    assert received == expected
