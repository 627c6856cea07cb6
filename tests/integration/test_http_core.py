"""HTTP core over real sockets: Expect: 100-continue (DESIGN 3), lingering
close (DESIGN 2), methods, Date and HEAD.

Conn, defined here, reads responses one at a time from a connection that may
hold pipelined bytes; the other test files of the core issue import it.
"""
import email.utils
import re
import socket
import threading
import time

from conftest import SLOW, exchange, get, parse_responses, recv_until_close


class Conn:
    """A client connection with its own input buffer: response() takes
    exactly one response and leaves whatever follows for the next one."""

    def __init__(self, server, timeout=5 * SLOW, sock=None):
        self.s = sock or server.connect(timeout)
        self.s.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        b = self.s.recv(65536)
        if not b:
            raise ConnectionError("closed by the server; buffered %r" % self.buf[:200])
        self.buf += b

    def response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n\r\n") + 4
        head_bytes = self.buf[:end]
        status = int(head_bytes[9:12])
        if head or status in (204, 304) or status < 200:
            need = 0
        else:
            m = re.search(rb"(?im)^content-length:[ \t]*(\d+)", head_bytes)
            assert m, "response without Content-Length: %r" % head_bytes
            need = int(m.group(1))
        while len(self.buf) < end + need:
            self._fill()
        raw, self.buf = self.buf[:end + need], self.buf[end + need:]
        return parse_responses(raw, head_only=(0,) if head else ())[0]

    def request(self, data, head=False):
        self.send(data)
        return self.response(head)

    def wait_closed(self, timeout=5 * SLOW):
        """Seconds until the server closed (EOF or reset); fails on any
        further byte or when still open after timeout."""
        t0 = time.monotonic()
        self.s.settimeout(timeout)
        try:
            b = self.s.recv(65536)
        except ConnectionResetError:
            b = b""
        except socket.timeout:
            raise AssertionError("connection still open after %.1fs" % timeout)
        assert self.buf + b == b"", "unexpected bytes: %r" % (self.buf + b)[:200]
        return time.monotonic() - t0

    def close(self):
        self.s.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def no_request_logged(server, path, settle=0.3):
    time.sleep(settle)
    return path not in server.access()


# ---- Expect: 100-continue (DESIGN 3) ---------------------------------------

def expect_head(method, path, length, expect="100-continue", version="1.1"):
    return ("%s %s HTTP/%s\r\nHost: 127.0.0.1\r\nExpect: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (method, path, version, expect,
                                             length)).encode()


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_expect_post_to_static_path_is_405_with_close_and_no_100(server):
    with Conn(server) as c:
        c.send(expect_head("POST", "/hello.txt", len(SMUGGLED)))
        r = c.response()
        assert r.status == 405
        assert r.raw_head.startswith("HTTP/1.1 405 ")
        allow = [m.strip() for m in r.header("Allow", "").split(",")]
        assert "GET" in allow and "HEAD" in allow and "POST" not in allow
        assert r.header("Connection") == "close"


def test_expect_put_to_static_path_is_405_with_close(server):
    with Conn(server) as c:
        c.send(expect_head("PUT", "/hello.txt", 100))
        r = c.response()
        assert r.raw_head.startswith("HTTP/1.1 405 ")
        assert r.header("Allow")
        assert r.header("Connection") == "close"


def test_expect_rejected_body_is_never_answered_as_a_request(server):
    with Conn(server) as c:
        c.send(expect_head("POST", "/hello.txt", len(SMUGGLED)))
        r = c.response()
        assert r.status == 405
        try:
            c.send(SMUGGLED)    # the client sends the body anyway
        except (BrokenPipeError, ConnectionResetError):
            pass
        rest = c.buf + recv_until_close(c.s)
    assert b"100 Continue" not in r.raw_head.encode() + rest
    assert rest == b"", "answered the body as a request: %r" % rest[:200]
    assert no_request_logged(server, "/smuggled")


def test_expect_over_max_body_size_is_413_with_close(porch):
    p = porch(conf_lines=["max_body_size 1k"])
    with Conn(p) as c:
        c.send(expect_head("POST", "/hello.txt", 2048))
        r = c.response()
        assert r.raw_head.startswith("HTTP/1.1 413 ")
        assert r.header("Connection") == "close"
        assert c.wait_closed() < 4 * SLOW


def test_unknown_expectation_is_417(server):
    rs = exchange(server, expect_head("POST", "/hello.txt", 0, expect="tea"))
    assert [r.status for r in rs] == [417]
    assert rs[0].header("Connection") == "close"


def test_expect_on_http10_is_ignored_and_served(server):
    rs = exchange(server, expect_head("GET", "/hello.txt", 0, version="1.0"))
    assert [r.status for r in rs] == [200]
    assert rs[0].body == b"hello, world\n"


def test_expect_without_a_body_is_served(server):
    with Conn(server) as c:
        r = c.request(get(path="/hello.txt", extra="Expect: 100-continue\r\n"))
        assert r.status == 200
        assert r.body == b"hello, world\n"


def test_expect_body_sent_without_waiting_is_not_parsed_as_request(server):
    raw = expect_head("GET", "/hello.txt", len(SMUGGLED)) + SMUGGLED
    rs = exchange(server, raw)
    assert [r.status for r in rs] == [200]
    assert rs[0].body == b"hello, world\n"
    assert no_request_logged(server, "/smuggled")


# ---- lingering close (DESIGN 2) ---------------------------------------------

def send_body_while_reading(server, head, body_len):
    """Sends head, then body_len bytes from a thread while the main thread
    (after a pause, so a reset would have destroyed unread data) reads.
    Returns the bytes read; fails on a reset, or when the server stopped
    taking the body (a close without lingering resets the sender)."""
    s = server.connect(10 * SLOW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
    s.sendall(head)
    sent = [0]
    error = []

    def pump():
        chunk = b"x" * 65536
        try:
            while sent[0] < body_len:
                sent[0] += s.send(chunk[:body_len - sent[0]])
        except OSError as e:
            error.append(e)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    time.sleep(0.5)
    data = b""
    s.settimeout(10 * SLOW)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except ConnectionResetError as e:
        raise AssertionError("reset after %d response bytes: %r" % (len(data), e))
    finally:
        t.join(10 * SLOW)
        s.close()
    assert not error, "sending the body failed after %d bytes: %r" % (sent[0], error)
    assert sent[0] == body_len
    return data


def test_lingering_close_delivers_413_while_client_keeps_sending(porch):
    p = porch(conf_lines=["max_body_size 1k"])
    head = ("POST /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Length: %d\r\n\r\n" % (4 << 20)).encode()
    data = send_body_while_reading(p, head, 4 << 20)
    rs = parse_responses(data)
    assert [r.status for r in rs] == [413]
    assert rs[0].header("Connection") == "close"
    assert len(rs[0].body) == int(rs[0].header("Content-Length"))


def test_lingering_close_delivers_405_while_client_keeps_sending(server):
    n = 900 * 1024      # under the default max_body_size (1M)
    head = ("POST /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
            "Content-Length: %d\r\n\r\n" % n).encode()
    data = send_body_while_reading(server, head, n)
    rs = parse_responses(data)
    assert [r.status for r in rs] == [405]
    assert rs[0].header("Connection") == "close"


# ---- methods, Date, HEAD ----------------------------------------------------

def allow_set(r):
    return {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}


def test_options_on_a_path_is_200_with_allow(server):
    with Conn(server) as c:
        r = c.request(get(path="/hello.txt", method="OPTIONS"))
    assert r.status == 200
    assert {"GET", "HEAD", "OPTIONS"} <= allow_set(r)
    assert r.header("Content-Length") == "0"


def test_options_asterisk_is_200_with_allow(server):
    with Conn(server) as c:
        r = c.request(get(path="*", method="OPTIONS"))
    assert r.status == 200
    assert {"GET", "HEAD", "OPTIONS"} <= allow_set(r)


def test_delete_is_405_with_allow(server):
    with Conn(server) as c:
        r = c.request(get(path="/hello.txt", method="DELETE"))
    assert r.status == 405
    assert {"GET", "HEAD"} <= allow_set(r) and "DELETE" not in allow_set(r)


def test_post_is_405_with_allow(server):
    with Conn(server) as c:
        r = c.request(get(path="/hello.txt", method="POST",
                          extra="Content-Length: 0\r\n"))
    assert r.status == 405
    assert {"GET", "HEAD"} <= allow_set(r) and "POST" not in allow_set(r)


def test_date_header_is_a_current_imf_fixdate(server):
    with Conn(server) as c:
        r = c.request(get(path="/hello.txt"))
    d = r.header("Date")
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|"
                        r"Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT", d), d
    assert abs(email.utils.parsedate_to_datetime(d).timestamp() - time.time()) < 10


def test_head_has_the_get_headers_and_no_body(server):
    def fetch(method):
        with server.connect() as s:
            s.sendall(get(path="/style.css", method=method,
                          extra="Connection: close\r\n"))
            return recv_until_close(s)
    got = parse_responses(fetch("GET"))[0]
    raw = fetch("HEAD")
    assert raw.endswith(b"\r\n\r\n") and raw.count(b"\r\n\r\n") == 1, raw[-100:]
    head = parse_responses(raw, head_only=(0,))[0]
    skip = {"date", "x-request-id"}
    assert head.status == got.status == 200
    assert [h for h in head.headers if h[0].lower() not in skip] == \
        [h for h in got.headers if h[0].lower() not in skip]
    assert head.header("Content-Length") == str(len(got.body)) != "0"
