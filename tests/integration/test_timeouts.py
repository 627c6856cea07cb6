"""Timeouts (DESIGN 2), each counting only while porch waits on that thing:
the request head, the idle keep-alive gap, and IO progress."""
import select
import socket
import time

from conftest import SLOW, get, parse_responses, recv_until_close, wait_for
from test_http_core import Conn


def test_trickling_head_is_cut_off_with_408_at_header_timeout(porch):
    p = porch(conf_lines=["header_timeout 1", "keepalive_timeout 10"])
    s = p.connect(10 * SLOW)
    t0 = time.monotonic()
    s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-Trickle: ")
    # one byte every 200 ms: progress must not extend the deadline
    while time.monotonic() - t0 < 6 * SLOW:
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            break
        try:
            s.sendall(b"a")
        except OSError:
            break
    elapsed = time.monotonic() - t0
    raw = recv_until_close(s)
    s.close()
    assert 0.8 <= elapsed <= 3 * SLOW, elapsed
    rs = parse_responses(raw)
    assert [r.status for r in rs] == [408]
    assert rs[0].header("Connection") == "close"


def test_idle_keepalive_connection_is_closed_quietly_at_keepalive_timeout(porch):
    p = porch(conf_lines=["keepalive_timeout 1", "header_timeout 10"])
    with Conn(p) as c:
        assert c.request(get(path="/hello.txt")).status == 200
        t0 = time.monotonic()
        c.wait_closed(6 * SLOW)         # no 408 or other byte: just EOF
        elapsed = time.monotonic() - t0
    assert 0.8 <= elapsed <= 3 * SLOW, elapsed


def test_idle_gap_does_not_count_against_the_header_timeout(porch):
    p = porch(conf_lines=["header_timeout 1", "keepalive_timeout 5"])
    with Conn(p) as c:
        assert c.request(get(path="/hello.txt")).status == 200
        time.sleep(1.5)
        r = c.request(get(path="/data.json"))
        assert (r.status, r.body) == (200, b'{"ok": true}\n')


def test_new_connection_gets_the_whole_header_timeout(porch):
    p = porch(conf_lines=["header_timeout 2"])
    with Conn(p) as c:
        c.send(b"GET /hello.txt HTTP/1.1\r\n")
        time.sleep(1.0)
        r = c.request(b"Host: a\r\n\r\n")
        assert (r.status, r.body) == (200, b"hello, world\n")


def test_slow_but_steady_reader_outlasts_io_timeout(porch):
    p = porch(conf_lines=["io_timeout 1"])
    want = open(p.docroot + "/big.bin", "rb").read()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    s.settimeout(10 * SLOW)
    s.connect((p.host, p.port))
    s.sendall(get(path="/big.bin", extra="Connection: close\r\n"))
    t0 = time.monotonic()
    data = b""
    while True:
        b = s.recv(65536)   # ~1.3 MB/s: the whole takes longer than io_timeout
        if not b:
            break
        data += b
        time.sleep(0.05)
    s.close()
    assert time.monotonic() - t0 > 1.2
    body = data[data.index(b"\r\n\r\n") + 4:]
    assert len(body) == len(want) and body == want


def stalled_reader(p):
    """A client that asks for 4 x 3 MB pipelined (far more than socket
    buffers hold) and never reads."""
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect((p.host, p.port))
    stuck.sendall(get(path="/big.bin") * 4)
    return stuck


def drain_until_closed(stuck):
    """Bytes the stalled client can still read before the server's close."""
    stuck.settimeout(5 * SLOW)
    got = 0
    try:
        while True:
            b = stuck.recv(1 << 20)
            if not b:
                break
            got += len(b)
    except ConnectionResetError:
        pass
    stuck.close()
    return got


def test_stalled_reader_frees_the_worker_after_io_timeout(porch):
    """Nobody else waiting: the worker gives the reader io_timeout."""
    p = porch(conf_lines=["io_timeout 1"], workers=1)
    t0 = time.monotonic()
    stuck = stalled_reader(p)
    while "big.bin" not in p.access() and time.monotonic() - t0 < 10 * SLOW:
        time.sleep(0.02)
    waited = time.monotonic() - t0
    assert "big.bin" in p.access()
    assert 0.9 <= waited <= 4 * SLOW, waited
    assert drain_until_closed(stuck) < 4 * 3 * 1024 * 1024


def test_stalled_reader_gives_way_to_a_queued_client(porch):
    """A reader that stalled while the worker was idle does not keep its
    io_timeout once a client queues behind it: the wait is cut to
    pressure_io (issue 6: slowhttptest -X)."""
    p = porch(conf_lines=["io_timeout 30"], workers=1)
    stuck = stalled_reader(p)
    # its worker has left accept: it is busy with the stalled reader
    wait_for(lambda: not any(p.worker_states().values()),
             what="the worker taken by the stalled reader")
    t0 = time.monotonic()
    with Conn(p, timeout=10 * SLOW) as c:
        r = c.request(get(path="/hello.txt"))
        waited = time.monotonic() - t0
    assert (r.status, r.body) == (200, b"hello, world\n")
    assert waited <= 0.5 * SLOW, waited
    assert drain_until_closed(stuck) < 4 * 3 * 1024 * 1024
