"""What a router's UI needs of its server besides sessions (issue 16):
body limits per path, response headers per prefix, the Host allow-list
against DNS rebinding, configured error pages and opt-in directory
listings with hostile names."""
import html
import os
import re
import socket
import time

import pytest

from conftest import (SLOW, exchange, free_port, install_cgi,
                      parse_responses, recv_until_close, refused_before_body)

UPLOAD_CGI = """#!/bin/sh
n=$(wc -c)
printf 'Content-Type: text/plain\\r\\n\\r\\nread %s\\n' "$n"
"""


def request(p, method, path, headers=(), body=b"", host=None, version="1.1"):
    head = "%s %s HTTP/%s\r\n" % (method, path, version)
    if host is not False:
        head += "Host: %s\r\n" % (host or "%s:%d" % (p.host, p.port))
    head += "Connection: close\r\n"
    for h in headers:
        head += h + "\r\n"
    if body or method in ("POST", "PUT"):
        head += "Content-Length: %d\r\n" % len(body)
    return exchange(p, head.encode() + b"\r\n" + body)[0]


# ---- body_limit ------------------------------------------------------------------

@pytest.fixture
def limited(porch, docroot):
    install_cgi(docroot, "upload.cgi", UPLOAD_CGI)
    install_cgi(docroot, "small.cgi", UPLOAD_CGI)
    return porch(conf_lines=["cgi /cgi-bin/", "max_body_size 1k",
                             "body_limit /cgi-bin/upload.cgi 4M",
                             "body_limit /cgi-bin/up 2k"])


def test_body_limit_per_prefix(limited):
    p = limited
    big = b"u" * (3 * 1024 * 1024)
    r = request(p, "POST", "/cgi-bin/upload.cgi", body=big)
    assert r.status == 200 and r.body.strip() == b"read %d" % len(big)
    # elsewhere max_body_size holds
    r = request(p, "POST", "/cgi-bin/small.cgi", body=b"s" * 2048)
    assert r.status == 413
    assert request(p, "POST", "/cgi-bin/small.cgi",
                   body=b"s" * 1024).status == 200
    # the longest prefix wins: /cgi-bin/upload.cgi is under /cgi-bin/up
    # only as a string, not as a path, so /cgi-bin/up's 2k is not its limit
    r = request(p, "POST", "/cgi-bin/upload.cgi", body=b"u" * 5000)
    assert r.status == 200


def test_body_limit_is_413_from_the_head_before_any_body(limited):
    r = refused_before_body(limited, b"POST /cgi-bin/upload.cgi HTTP/1.1\r\n"
                            b"Host: a\r\nContent-Length: %d\r\n"
                            b"Expect: 100-continue\r\n\r\n"
                            % (5 * 1024 * 1024))
    assert r.status == 413


def test_body_limit_holds_for_chunked_bodies(limited):
    chunk = b"c" * 1000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3))
    r = exchange(limited, b"POST /cgi-bin/small.cgi HTTP/1.1\r\nHost: a\r\n"
                 b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                 body + b"0\r\n\r\n")[0]
    assert r.status == 413
    r = exchange(limited, b"POST /cgi-bin/upload.cgi HTTP/1.1\r\nHost: a\r\n"
                 b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                 body + b"0\r\n\r\n")[0]
    assert r.status == 200 and r.body.strip() == b"read 3000"


def test_authentication_comes_before_the_body_limit(porch, docroot, tmp_path):
    from conftest import crypt_hash
    pw = tmp_path / "pw"
    pw.write_text("admin:%s\n" % crypt_hash("x"))
    install_cgi(docroot, "upload.cgi", UPLOAD_CGI)
    p = porch(conf_lines=["cgi /cgi-bin/", "session /cgi-bin/ %s" % pw,
                          "body_limit /cgi-bin/ 1k"])
    r = request(p, "POST", "/cgi-bin/upload.cgi", body=b"x" * 4096)
    assert r.status == 401          # not 413: no hint to a stranger


@pytest.mark.parametrize("line,message", [
    ("body_limit /up", "expected"),
    ("body_limit up 1M", "must start with /"),
    ("body_limit /up lots", "lots"),
    ("body_limit /up 2T", "2T"),
])
def test_body_limit_errors(porch, line, message):
    p = porch(conf_lines=[line], wait=False)
    assert p.proc.wait(10 * SLOW) != 0
    err = open(p.stderr_path).read()
    assert "body_limit" in err and message in err, err


# ---- header ------------------------------------------------------------------------

def test_headers_only_under_their_prefix(porch, docroot):
    os.makedirs(os.path.join(docroot, "ui", "v1"), exist_ok=True)
    for rel in ("ui/index.html", "ui/v1/app.js", "uix.txt"):
        with open(os.path.join(docroot, rel), "w") as f:
            f.write("x\n")
    csp = "default-src 'self'; frame-ancestors 'none'"
    p = porch(conf_lines=[
        "header /ui Content-Security-Policy " + csp,
        "header /ui X-Frame-Options DENY",
        "header / X-Content-Type-Options nosniff",
        "header /ui/v1/ Cache-Control public, max-age=31536000, immutable",
    ])
    r = request(p, "GET", "/ui/index.html")
    assert r.header("Content-Security-Policy") == csp
    assert r.header("X-Frame-Options") == "DENY"
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header_all("Cache-Control") == ["no-cache"]
    # a directive takes the place of porch's default of the same field
    r = request(p, "GET", "/ui/v1/app.js")
    assert r.header_all("Cache-Control") == \
        ["public, max-age=31536000, immutable"]
    assert r.header("X-Frame-Options") == "DENY"
    # ... but an error is never cached as an immutable asset
    r = request(p, "GET", "/ui/v1/missing.js")
    assert r.status == 404
    assert r.header_all("Cache-Control") == ["no-store"]
    assert r.header("X-Frame-Options") == "DENY"
    # error statuses and redirects under the prefix carry them too
    r = request(p, "GET", "/ui/missing")
    assert r.status == 404 and r.header("X-Frame-Options") == "DENY"
    r = request(p, "GET", "/ui")
    assert r.status == 301 and r.header("X-Frame-Options") == "DENY"
    # not under it: "/uix.txt" only starts with the same letters
    for path in ("/uix.txt", "/hello.txt"):
        r = request(p, "GET", path)
        assert r.status == 200
        assert r.header("X-Frame-Options") is None
        assert r.header("Content-Security-Policy") is None
        assert r.header("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("line,message", [
    ("header /ui X-Frame-Options", "expected"),
    ("header /ui Bad:Name x", "Bad:Name"),
    ("header ui X-A b", "must start with /"),
    ("header /ui Content-Length 5", "Content-Length"),
    ("header /ui Set-Cookie a=b", "Set-Cookie"),
])
def test_header_errors(porch, line, message):
    p = porch(conf_lines=[line], wait=False)
    assert p.proc.wait(10 * SLOW) != 0
    err = open(p.stderr_path).read()
    assert "header" in err and message in err, err


# ---- server_name ----------------------------------------------------------------------

@pytest.fixture
def named(porch):
    return porch(conf_lines=["server_name router.lan porch.example"])


@pytest.mark.parametrize("host", ["router.lan", "ROUTER.LAN", "router.lan.",
                                  "router.lan:8080", "porch.example",
                                  "127.0.0.1", "127.0.0.1:%(port)d"])
def test_allowed_hosts(named, host):
    r = request(named, "GET", "/hello.txt", host=host % {"port": named.port})
    assert r.status == 200


@pytest.mark.parametrize("host", ["evil.example", "router.lan.evil.example",
                                  "evil.example:80", "127.0.0.2",
                                  "[::1]", "127.0.0.1.nip.io", "routerlan",
                                  "192.168.1.1"])
def test_a_rebinding_host_is_421(named, host):
    r = request(named, "GET", "/hello.txt", host=host)
    assert r.status == 421
    assert r.header("Connection") == "close"
    assert b"hello" not in r.body
    assert host.encode() not in r.body


def test_421_comes_before_anything_else(porch, tmp_path):
    """Before the status page, a session API, auth or a CGI: a rebound
    name reaches nothing at all."""
    from conftest import crypt_hash
    pw = tmp_path / "pw"
    pw.write_text("admin:%s\n" % crypt_hash("x"))
    p = porch(conf_lines=["server_name router.lan",
                          "session /admin %s" % pw])
    for path in ("/status", "/api/session", "/admin/x", "/missing"):
        r = request(p, "GET", path, host="evil.example")
        assert r.status == 421, path
    r = request(p, "POST", "/api/session", ["Content-Type: application/json"],
                b'{"user":"admin","password":"x"}', host="evil.example")
    assert r.status == 421 and r.header("Set-Cookie") is None


def test_no_server_name_means_any_host(server):
    assert request(server, "GET", "/hello.txt",
                   host="evil.example").status == 200


def test_http10_without_host_is_allowed(named):
    r = request(named, "GET", "/hello.txt", host=False, version="1.0")
    assert r.status == 200


def test_server_name_on_ipv6(porch):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    port = free_port()
    porch(conf_lines=["server_name router.lan", "listen [::1]:%d" % port])
    with socket.create_connection(("::1", port), 5 * SLOW) as s:
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: [::1]:%d\r\n"
                  b"Connection: close\r\n\r\n" % port)
        assert parse_responses(recv_until_close(s))[0].status == 200
    with socket.create_connection(("::1", port), 5 * SLOW) as s:
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Connection: close\r\n\r\n")
        assert parse_responses(recv_until_close(s))[0].status == 421


def test_tls_redirect_takes_an_allowed_host(porch, tmp_path):
    port = free_port()
    p = porch(conf_lines=["tls_listen 127.0.0.1:%d" % port,
                          "tls_cert %s" % (tmp_path / "cert.pem"),
                          "tls_key %s" % (tmp_path / "key.pem"),
                          "tls_autogen on", "tls_redirect on",
                          "server_name router.lan"])
    r = request(p, "GET", "/sub/page.html?q=1", host="router.lan")
    assert r.status == 301
    assert r.header("Location") == "https://router.lan:%d/sub/page.html?q=1" \
        % port
    assert request(p, "GET", "/", host="evil.example").status == 421


@pytest.mark.parametrize("name", ["evil/name", "a b", "*", ""])
def test_server_name_errors(porch, name):
    p = porch(conf_lines=['server_name "%s"' % name if " " in name or not name
                          else "server_name " + name], wait=False)
    assert p.proc.wait(10 * SLOW) != 0
    assert "server_name" in open(p.stderr_path).read()


# ---- error_page --------------------------------------------------------------------------

def test_error_pages(porch, tmp_path):
    page404 = tmp_path / "404.html"
    page404.write_text("<!DOCTYPE html><title>Not here</title><p>lost</p>\n")
    page403 = tmp_path / "403.html"
    page403.write_text("<p>forbidden page</p>\n")
    p = porch(conf_lines=["error_page 404 %s" % page404,
                          "error_page 403 %s" % page403,
                          "header / X-Frame-Options DENY"])
    r = request(p, "GET", "/missing-<script>alert(1)</script>")
    assert r.status == 404
    assert r.body == page404.read_bytes()
    assert r.header("Content-Type").startswith("text/html")
    assert r.header("X-Frame-Options") == "DENY"
    assert b"script" not in r.body
    r = request(p, "GET", "/noindex/")
    assert r.status == 403 and r.body == page403.read_bytes()
    r = request(p, "HEAD", "/missing")
    assert r.status == 404 and r.body == b""
    assert r.header("Content-Length") == str(len(page404.read_bytes()))
    # statuses without a page keep the built-in one, which echoes nothing
    r = request(p, "DELETE", "/x<b>")
    assert r.status in (405, 501)
    assert b"<b>" not in r.body and b"x&lt;b" not in r.body
    # a change of the file is seen at the next reload
    page404.write_text("<p>new 404</p>\n")
    p.reload()
    p.wait_reloads(1)
    assert request(p, "GET", "/missing").body == b"<p>new 404</p>\n"


@pytest.mark.parametrize("line,message", [
    ("error_page 404 /nonexistent/404.html", "No such file"),
    ("error_page 200 %(tmp)s/page.html", "status"),
    ("error_page 999 %(tmp)s/page.html", "status"),
    ("error_page 404 %(tmp)s/big.html", "16 KiB"),
])
def test_error_page_errors(porch, tmp_path, line, message):
    (tmp_path / "page.html").write_text("x")
    (tmp_path / "big.html").write_bytes(b"x" * 20000)
    p = porch(conf_lines=[line % {"tmp": tmp_path}], wait=False)
    assert p.proc.wait(10 * SLOW) != 0
    err = open(p.stderr_path).read()
    assert "error_page" in err and message in err, err


# ---- listing ---------------------------------------------------------------------------

HOSTILE = ["<script>alert(1)<\\script>.txt", "a&b.txt", "\"quoted'.txt",
           "javascript:alert(1)", "with space.txt", "100%.txt", "?q=1#f",
           "caf\u00e9.txt", "back\\slash", "z-last.txt", "A-upper.txt",
           "<img src=x onerror=alert(1)>"]


@pytest.fixture
def listed(porch, docroot):
    d = os.path.join(docroot, "files")
    os.makedirs(os.path.join(d, "sub dir"), exist_ok=True)
    os.makedirs(os.path.join(d, "<b>dir"), exist_ok=True)
    for i, name in enumerate(HOSTILE):
        with open(os.path.join(d, name), "wb") as f:
            f.write(b"x" * (i * 100))
    for name in (".secret", ".git"):
        with open(os.path.join(d, name), "w") as f:
            f.write("hidden\n")
    old = time.mktime((2020, 1, 2, 3, 4, 5, 0, 0, 0))
    os.utime(os.path.join(d, "a&b.txt"), (old, old))
    return porch(conf_lines=["listing /files"])


def links(body):
    return re.findall(r'<a href="([^"]*)">([^<]*)</a>', body)


def test_listing_escapes_sorts_and_hides_dotfiles(listed):
    r = request(listed, "GET", "/files/")
    assert r.status == 200
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    body = r.body.decode()
    assert "<script>" not in body and "<img" not in body and "<b>" not in body
    assert "secret" not in body and ".git" not in body
    found = links(body)
    assert found[0] == ("../", "../")
    names = [html.unescape(text) for _, text in found[1:]]
    dirs = sorted(["sub dir/", "<b>dir/"], key=lambda s: s.encode())
    files = sorted(HOSTILE, key=lambda s: s.encode())
    assert names == dirs + files
    # every link leads to its file
    for href, text in found[1:]:
        assert href.startswith("./")
        assert ":" not in href and "<" not in href and '"' not in href
        r = request(listed, "GET", "/files/" + href[2:])
        assert r.status == 200, (href, r.status)
        name = html.unescape(text)
        if not name.endswith("/"):
            assert r.body == b"x" * (HOSTILE.index(name) * 100)


def test_listing_shows_sizes_and_dates(listed):
    body = request(listed, "GET", "/files/").body.decode()
    row = [l for l in body.splitlines() if "a&amp;b.txt" in l][0]
    assert "<td>100</td>" in row
    assert "Thu, 02 Jan 2020" in row
    row = [l for l in body.splitlines() if "sub%20dir" in l][0]
    assert "<td>-</td>" in row


def test_listing_is_opt_in(listed):
    assert request(listed, "GET", "/noindex/").status == 403
    # an index file is served, never listed
    r = request(listed, "GET", "/sub/")
    assert r.status == 200 and r.body == b"<h1>sub</h1>\n"
    # the title and heading of a nested listing are escaped too
    r = request(listed, "GET", "/files/%3Cb%3Edir/")
    assert r.status == 200
    assert "Index of /files/&lt;b&gt;dir/" in r.body.decode()


def test_listing_head_http10_and_keepalive(listed):
    r = request(listed, "HEAD", "/files/")
    assert r.status == 200 and r.body == b""
    r = request(listed, "GET", "/files/", version="1.0")
    assert r.status == 200 and b"z-last.txt" in r.body
    with listed.connect() as s:
        s.sendall(b"GET /files/ HTTP/1.1\r\nHost: a\r\n\r\n"
                  b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n"
                  b"Connection: close\r\n\r\n")
        rs = parse_responses(recv_until_close(s))
    assert [r.status for r in rs] == [200, 200]
    assert rs[0].header("Transfer-Encoding") == "chunked"
    assert rs[1].body == b"hello, world\n"


def test_a_large_listing_is_bounded(porch, docroot):
    d = os.path.join(docroot, "many")
    os.makedirs(d, exist_ok=True)
    for i in range(1100):
        open(os.path.join(d, "f%04d" % i), "w").close()
    p = porch(conf_lines=["listing /many"])
    r = request(p, "GET", "/many/")
    assert r.status == 200
    assert len(links(r.body.decode())) == 1024 + 1
    assert b"More names than a listing shows" in r.body


def test_a_scripts_own_field_wins_over_a_directive(porch, docroot):
    install_cgi(docroot, "own.cgi", "#!/bin/sh\nprintf 'Content-Type: "
                "text/plain\\r\\nX-Frame-Options: SAMEORIGIN\\r\\n\\r\\nok'\n")
    p = porch(conf_lines=["cgi /cgi-bin/",
                          "header /cgi-bin/ X-Frame-Options DENY",
                          "header /cgi-bin/ Referrer-Policy no-referrer"])
    r = request(p, "GET", "/cgi-bin/own.cgi")
    assert r.status == 200 and r.body == b"ok"
    assert r.header_all("X-Frame-Options") == ["SAMEORIGIN"]
    assert r.header_all("Referrer-Policy") == ["no-referrer"]
