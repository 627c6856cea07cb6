"""Connection management (DESIGN 2): persistence, Keep-Alive, the
per-connection request limit, pipelining and the idle timeout."""
import re
import time

from conftest import SLOW, get
from test_http_core import Conn


def keepalive_params(r):
    v = r.header("Keep-Alive")
    assert v is not None, "no Keep-Alive header: %r" % r.headers
    m = re.fullmatch(r"timeout=(\d+), *max=(\d+)", v)
    assert m, v
    return int(m.group(1)), int(m.group(2))


def test_http11_is_persistent_by_default(server):
    with Conn(server) as c:
        for _ in range(3):
            r = c.request(get(path="/hello.txt"))
            assert r.status == 200 and r.body == b"hello, world\n"
            assert (r.header("Connection") or "").lower() != "close"


def test_http11_connection_close_is_honoured(server):
    with Conn(server) as c:
        r = c.request(get(path="/hello.txt", extra="Connection: close\r\n"))
        assert r.status == 200
        assert r.header("Connection") == "close"
        assert c.wait_closed() < 2 * SLOW


def test_http11_close_token_in_a_list_is_honoured(server):
    with Conn(server) as c:
        r = c.request(get(path="/hello.txt", extra="Connection: TE, Close\r\n"))
        assert r.header("Connection") == "close"
        assert c.wait_closed() < 2 * SLOW


def test_http10_keepalive_request_is_persistent_and_says_so(server):
    with Conn(server) as c:
        for _ in range(2):
            r = c.request(get(path="/hello.txt", version="1.0",
                              extra="Connection: Keep-Alive\r\n"))
            assert r.status == 200 and r.body == b"hello, world\n"
            assert r.header("Connection", "").lower() == "keep-alive"
            assert r.header("Content-Length") == "13"


def test_http10_without_keepalive_closes(server):
    with Conn(server) as c:
        r = c.request(get(path="/hello.txt", version="1.0"))
        assert r.status == 200
        assert r.header("Connection", "").lower() != "keep-alive"
        assert r.header("Keep-Alive") is None
        assert c.wait_closed() < 2 * SLOW


def test_keepalive_header_max_counts_down(porch):
    p = porch(conf_lines=["keepalive_requests 5", "keepalive_timeout 7"])
    with Conn(p) as c:
        seen = [keepalive_params(c.request(get(path="/hello.txt")))
                for _ in range(4)]
    assert seen == [(7, 4), (7, 3), (7, 2), (7, 1)]


def test_last_allowed_request_gets_close(porch):
    p = porch(conf_lines=["keepalive_requests 3"])
    with Conn(p) as c:
        rs = [c.request(get(path="/hello.txt")) for _ in range(3)]
        assert [r.status for r in rs] == [200, 200, 200]
        assert [r.header("Connection") for r in rs] == ["keep-alive", "keep-alive", "close"]
        assert rs[2].header("Keep-Alive") is None
        assert c.wait_closed() < 2 * SLOW


def test_pipelined_requests_in_one_write_are_answered_in_order(server):
    with Conn(server) as c:
        c.send(get(path="/hello.txt") + get(path="/data.json", method="HEAD")
               + get(path="/app.js"))
        a = c.response()
        b = c.response(head=True)
        d = c.response()
        assert (a.status, a.body) == (200, b"hello, world\n")
        assert b.status == 200 and b.header("Content-Type") == "application/json"
        assert b.header("Content-Length") == "13" and b.body == b""
        assert d.status == 200 and d.body == b"console.log('porch');\n" * 20
        # the connection is still usable: nothing extra was sent
        r = c.request(get(path="/data.json"))
        assert r.body == b'{"ok": true}\n' and c.buf == b""


def test_pipelined_request_with_close_ends_the_connection_after_it(server):
    with Conn(server) as c:
        c.send(get(path="/hello.txt") +
               get(path="/data.json", extra="Connection: close\r\n") +
               get(path="/app.js"))
        assert c.response().body == b"hello, world\n"
        r = c.response()
        assert r.body == b'{"ok": true}\n' and r.header("Connection") == "close"
        assert c.wait_closed() < 3 * SLOW


def test_keepalive_timeout_closes_idle_connection(porch):
    p = porch(conf_lines=["keepalive_timeout 1"])
    with Conn(p) as c:
        r = c.request(get(path="/hello.txt"))
        assert keepalive_params(r)[0] == 1
        t0 = time.monotonic()
        c.wait_closed(timeout=6 * SLOW)
        elapsed = time.monotonic() - t0
    assert 0.7 <= elapsed <= 3 * SLOW, elapsed
