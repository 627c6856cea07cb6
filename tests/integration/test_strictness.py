"""Parsing strictness over the wire (DESIGN 4): each malformed request gets
one error response with Connection: close and the connection ends; a valid
request pipelined behind it is never answered."""
import pytest

from conftest import exchange, get, parse_responses, recv_until_close
from test_http_core import Conn

FOLLOW = get(path="/data.json")     # must never be answered after an error


def assert_rejected(server, raw, status, follow=True):
    """Exactly one response, with status and Connection: close, then EOF
    (recv_until_close raises if the server keeps the connection open)."""
    rs = exchange(server, raw + (FOLLOW if follow else b""))
    assert [r.status for r in rs] == [status], rs
    assert rs[0].header("Connection") == "close"
    return rs[0]


def H(head):
    return head.encode("latin-1") if isinstance(head, str) else head


# ---- request line -----------------------------------------------------------

def test_bare_cr_in_a_field_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n"), 400)


def test_bare_cr_ending_the_request_line_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400)


def test_bare_lf_line_ending_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400)


def test_lowercase_http_version_is_400(server):
    assert_rejected(server, H("GET / http/1.1\r\nHost: a\r\n\r\n"), 400)


def test_double_space_in_request_line_is_400(server):
    assert_rejected(server, H("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400)


def test_trailing_space_in_request_line_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400)


def test_http2_version_is_505(server):
    assert_rejected(server, H("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505)


def test_unknown_method_is_501(server):
    assert_rejected(server, H("FOO / HTTP/1.1\r\nHost: a\r\n\r\n"), 501)


def test_lowercase_method_is_501(server):
    assert_rejected(server, H("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501)


# ---- fields -------------------------------------------------------------------

def test_whitespace_before_colon_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400)


def test_obs_fold_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"), 400)


def test_control_char_in_value_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01c\r\n\r\n"), 400)


def test_nul_in_value_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n"), 400)


def test_control_char_in_name_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nX\x01A: b\r\n\r\n"), 400)


def test_missing_host_on_http11_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nX-A: b\r\n\r\n"), 400)


def test_missing_host_on_http10_is_served(server):
    rs = exchange(server, H("GET /hello.txt HTTP/1.0\r\n\r\n"))
    assert [r.status for r in rs] == [200]
    assert rs[0].body == b"hello, world\n"


def test_duplicate_host_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400)


def test_invalid_host_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400)


# ---- framing ------------------------------------------------------------------

def test_content_length_not_digits_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"), 400)


def test_content_length_with_sign_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n"), 400)


def test_content_length_overflow_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\n"
                              "Content-Length: 184467440737095516160\r\n\r\n"), 400)


def test_content_length_twice_different_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                              "Content-Length: 2\r\n\r\nab"), 400)


def test_content_length_twice_same_is_400(server):
    """RFC 9112 6.3 lets a server accept identical duplicates; porch
    rejects them (README: strictness choices)."""
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                              "Content-Length: 3\r\n\r\nabc"), 400)


def test_content_length_with_leading_zeros_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 03\r\n"
                              "\r\nabc"), 400)


def test_empty_host_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400)


def test_leading_empty_line_before_a_request_is_400(server):
    assert_rejected(server, H("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400)


def test_empty_line_between_pipelined_requests_is_400(server):
    """The stray CRLF after a body that old clients sent: the first request
    is answered, the second is never taken."""
    with server.connect() as s:
        s.sendall(get(path="/hello.txt") + b"\r\n" + FOLLOW)
        rs = parse_responses(recv_until_close(s))
    assert [r.status for r in rs] == [200, 400], rs
    assert rs[1].header("Connection") == "close"


def test_duplicate_singleton_field_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic YTpi\r\n"
                              "Authorization: Basic YTpj\r\n\r\n"), 400)


def test_transfer_encoding_with_content_length_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400)


def test_transfer_encoding_on_http10_is_400(server):
    assert_rejected(server, H("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "0\r\n\r\n"), 400)


def test_transfer_encoding_gzip_is_501(server):
    assert_rejected(server, H("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 501)


# ---- limits -------------------------------------------------------------------

def test_target_over_max_target_size_is_414(porch):
    p = porch(conf_lines=["max_target_size 100"])
    assert_rejected(p, get(path="/" + "a" * 150), 414)


def test_request_line_over_max_head_size_without_newline_is_414(server):
    assert_rejected(server, b"GET /" + b"a" * 17000, 414, follow=False)


def test_request_line_over_max_head_size_with_newline_is_414(server):
    """A whole request line longer than the head limit is the request
    line's fault: 414, not 431."""
    assert_rejected(server, get(path="/" + "a" * 17000), 414, follow=False)


def test_request_line_of_8000_octets_is_served(server):
    """RFC 9112 3: request lines of at least 8000 octets, by default."""
    line = get(path="/hello.txt?" + "q" * 8000)
    assert len(line.split(b"\r\n")[0]) > 8000
    with Conn(server) as c:
        r = c.request(line)
        assert (r.status, r.body) == (200, b"hello, world\n")


def test_target_over_the_default_max_target_size_is_414(server):
    assert_rejected(server, get(path="/hello.txt?" + "q" * 8200), 414)


def test_field_over_max_field_size_is_431(porch):
    p = porch(conf_lines=["max_field_size 100"])
    assert_rejected(p, get(extra="X-Long: %s\r\n" % ("b" * 150)), 431)


def test_too_many_fields_is_431(porch):
    p = porch(conf_lines=["max_header_fields 10"])
    extra = "".join("X-F%d: v\r\n" % i for i in range(20))
    assert_rejected(p, get(extra=extra), 431)


def test_head_over_max_head_size_is_431(server):
    # 60 fields of 290 bytes: each under max_field_size, fewer than
    # max_header_fields, together over the default 16k head
    extra = "".join("X-F%02d: %s\r\n" % (i, "v" * 282) for i in range(60))
    assert_rejected(server, get(extra=extra), 431, follow=False)


def test_limits_allow_a_head_just_under_them(porch):
    p = porch(conf_lines=["max_target_size 100", "max_field_size 100",
                          "max_header_fields 10"])
    extra = "".join("X-F%d: v\r\n" % i for i in range(8))
    with Conn(p) as c:
        r = c.request(get(path="/hello.txt?" + "q" * 80, extra=extra))
        assert r.status == 200


# ---- request bodies on static paths ------------------------------------------

def test_malformed_chunk_size_body_is_not_taken_for_the_next_request(server):
    raw = H("GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "zz\r\nhello\r\n0\r\n\r\n")
    with server.connect() as s:
        s.sendall(raw + FOLLOW)
        rs = parse_responses(recv_until_close(s))
    # porch does not read bodies of static requests: it may answer the
    # first request, but must then close, never answer /data.json
    assert len(rs) == 1, rs
    assert rs[0].status in (200, 400)
    assert rs[0].header("Connection") == "close"
    assert b'"ok"' not in rs[0].body


@pytest.mark.parametrize("line", [
    b"5;", b"5 ", b"5;a ", b"5;a=", b"5;a=\"b", b"5;\x80", b"5;a b", b"5;;a",
], ids=["semicolon-only", "trailing-bws", "bws-after-name", "no-value",
        "open-quote", "obs-text-name", "two-names", "empty-extension"])
def test_chunk_line_outside_the_grammar_closes_a_discarded_body(server, line):
    """RFC 9112 7.1: a chunk-size line outside the grammar, in a body porch
    skips after answering: the answer says close, nothing after it is
    taken for a request."""
    raw = (H("GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
             "\r\n\r\n") + line + b"\r\nhello\r\n0\r\n\r\n")
    with server.connect() as s:
        s.sendall(raw + FOLLOW)
        rs = parse_responses(recv_until_close(s))
    assert len(rs) == 1, rs
    assert rs[0].status in (200, 400)
    assert rs[0].header("Connection") == "close"


def test_missing_chunk_crlf_body_is_not_taken_for_the_next_request(server):
    raw = H("GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhelloXX0\r\n\r\n")
    with server.connect() as s:
        s.sendall(raw + FOLLOW)
        rs = parse_responses(recv_until_close(s))
    assert len(rs) == 1, rs
    assert rs[0].status in (200, 400)
    assert rs[0].header("Connection") == "close"


def test_buffered_chunked_body_is_skipped_and_connection_kept(server):
    body = H("GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
    raw = H("GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            "%x\r\n" % len(body)) + body + b"\r\n0\r\n\r\n"
    with Conn(server) as c:
        c.send(raw + FOLLOW)
        a = c.response()
        b = c.response()
        assert (a.status, a.body) == (200, b"hello, world\n")
        assert a.header("Connection") == "keep-alive"
        assert (b.status, b.body) == (200, b'{"ok": true}\n')
        assert c.request(get(path="/hello.txt")).status == 200
    assert "/smuggled" not in server.access()


def test_buffered_content_length_body_is_skipped_and_connection_kept(server):
    body = H("GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
    raw = H("GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body
    with Conn(server) as c:
        c.send(raw + FOLLOW)
        a = c.response()
        b = c.response()
        assert (a.status, a.body) == (200, b"hello, world\n")
        assert a.header("Connection") == "keep-alive"
        assert (b.status, b.body) == (200, b'{"ok": true}\n')


def test_body_still_on_the_wire_closes_after_the_response(server):
    with Conn(server) as c:
        c.send(H("GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")
               + b"x" * 10)
        r = c.response()
        assert (r.status, r.body) == (200, b"hello, world\n")
        assert r.header("Connection") == "close"
        c.wait_closed()
