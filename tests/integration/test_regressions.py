"""Regression tests for the known failures of peer servers (issue 6). Each
test's docstring names the failure it guards against; none of them is a
porch bug that was found, they are bugs porch must never have.
"""
import base64
import os
import random
import re
import subprocess
import threading
import time

import pytest

from conftest import (SLOW, exchange, get, install_cgi, parse_responses,
                      recv_until_close)

ECHO_SH = """#!/bin/sh
# Reads its whole body, then copies it back with its length: the response
# starts only after porch has read the whole request, so the connection
# stays open for the next one.
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
cat >"$tmp"
printf 'Content-Type: application/octet-stream\\r\\nContent-Length: %d\\r\\n\\r\\n' \\
    "$(($(wc -c <"$tmp")))"
cat "$tmp"
"""
IDLE_SH = """#!/bin/sh
# Never reads its input and says nothing for a long time.
exec sleep 30
"""
ENV_SH = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
exec env
"""


def chunked(data, sizes):
    """data as a chunked body, chunk sizes cycling through sizes."""
    out, i, k = [], 0, 0
    while i < len(data):
        n = min(sizes[k % len(sizes)], len(data) - i)
        out.append(b"%x\r\n%s\r\n" % (n, data[i:i + n]))
        i += n
        k += 1
    out.append(b"0\r\n\r\n")
    return b"".join(out), k


def test_more_than_255_chunks_then_a_pipelined_request(porch, docroot):
    """A chunked body of more than 255 chunks followed by a pipelined
    request: a peer server counted chunks in a byte, the count wrapped at
    256, and body bytes were parsed as the next request. Both requests must
    be answered, the echoed body byte-exact."""
    install_cgi(docroot, "echo.sh", ECHO_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"])
    rnd = random.Random(255)
    body = bytes(rnd.randrange(256) for _ in range(40000))
    # a chunk that looks like a request, in case it is ever taken for one
    body = body[:5000] + b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n" + body[5000:]
    wire, nchunks = chunked(body, [1, 7, 30, 64, 2, 100, 13])
    assert nchunks > 600
    raw = (b"POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" + wire +
           get(path="/hello.txt", extra="Connection: close\r\n"))
    rs = exchange(p, raw, timeout=10 * SLOW)
    assert [r.status for r in rs] == [200, 200]
    assert rs[0].header("Connection") != "close"
    assert rs[0].body == body
    assert rs[1].body == b"hello, world\n"
    assert "/smuggled" not in p.access()


@pytest.mark.parametrize("body", [
    b"zz\r\nhello\r\n0\r\n\r\n",                  # malformed chunk size
    b"5\r\nhelloXX0\r\n\r\n",                      # missing chunk CRLF
    b"5;\x01\r\nhello\r\n0\r\n\r\n",              # control byte in an extension
], ids=["bad-size", "no-crlf", "bad-extension"])
def test_error_while_discarding_a_body_closes(server, body):
    """Apache CVE-2022-22720: an error while discarding an unread request
    body left the connection open, and the rest of the body was read as the
    next request (smuggling). A GET with a malformed chunked body to a
    static file: its response says Connection: close, the connection
    closes, and the bytes behind the body are never answered."""
    raw = (b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
           b"\r\n" + body + b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
    with server.connect() as s:
        s.sendall(raw)
        t = time.monotonic()
        data = recv_until_close(s, timeout=5 * SLOW)
        took = time.monotonic() - t
    rs = parse_responses(data)
    assert len(rs) == 1, rs
    assert rs[0].header("Connection") == "close"
    assert took < 4 * SLOW          # closed by porch, not by our timeout
    assert "/smuggled" not in server.access()


def test_error_while_discarding_a_long_body_closes(server):
    """CVE-2022-22720, the Content-Length form: a body larger than what is
    buffered cannot be skipped safely; the connection must close after the
    response instead of reading the body's tail as a request."""
    tail = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
    raw = (b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n"
           b"\r\n" + b"x" * 30000)
    with server.connect() as s:
        s.sendall(raw)
        time.sleep(0.2)
        try:
            s.sendall(b"y" * (70000 - len(tail)) + tail)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = recv_until_close(s, timeout=5 * SLOW)
    rs = parse_responses(data)
    assert len(rs) == 1 and rs[0].header("Connection") == "close", rs
    assert "/smuggled" not in server.access()


def test_cgis_that_never_read_cannot_exhaust_the_pool(porch, docroot):
    """Apache CVE-2014-0231 (mod_cgid): a CGI that never reads its input,
    sent a large body, held its worker forever; a few such requests took
    the whole pool. With 2 workers and cgi_timeout 2, six such POSTs are
    all answered (504) within a bound, and the pool then serves at once."""
    install_cgi(docroot, "idle.sh", IDLE_SH)
    # Six clients on two workers are pool pressure, under which a body
    # read that stalls for pressure_io is cut (408): a client thread
    # descheduled for 20 ms would meet that rule, not the one under test.
    p = porch(conf_lines=["cgi /cgi-bin/", "cgi_timeout 2",
                          "pressure_io %d" % (2000 * SLOW)], workers=2)
    results = [None] * 6

    def post(i):
        t = time.monotonic()
        try:
            with p.connect(timeout=30 * SLOW) as s:
                s.sendall(b"POST /cgi-bin/idle.sh HTTP/1.1\r\nHost: a\r\n"
                          b"Content-Length: 900000\r\n\r\n")
                try:
                    s.sendall(b"x" * 900000)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                data = recv_until_close(s, timeout=30 * SLOW)
            results[i] = (time.monotonic() - t, parse_responses(data))
        except Exception as e:          # noqa: BLE001 -- reported below
            results[i] = (time.monotonic() - t, e)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(6)]
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(60 * SLOW)
    total = time.monotonic() - t0
    t = time.monotonic()
    r = exchange(p, get(path="/hello.txt", extra="Connection: close\r\n"))
    static = time.monotonic() - t
    print("\nCGIs that never read: 6 POSTs answered in %.1f s (each %s), "
          "then a static GET in %.1f ms" % (
              total, ["%.1f" % x[0] for x in results if x], static * 1000))
    for took, rs in results:
        assert not isinstance(rs, Exception), rs
        assert [x.status for x in rs] == [504], rs
    # three rounds of cgi_timeout on two workers, with room for the kills
    assert total < 15 * SLOW
    assert [x.status for x in r] == [200] and static < 1.0 * SLOW
    assert "no output for 2 s" in p.log()


def test_empty_or_absent_host_never_selects_another_root(porch, docroot):
    """A peer server picked the first virtual host's document root (or
    none, and served the file system) for an empty Host. Without Host on
    HTTP/1.0 the same root serves the same files, and a CGI sees the same
    DOCUMENT_ROOT; an empty Host on HTTP/1.1 is rejected (400) whatever
    the path (README: strictness choices)."""
    install_cgi(docroot, "env.sh", ENV_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"])
    forms = {
        "named": b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "http10-none": b"GET %s HTTP/1.0\r\n\r\n",
        "http11-empty": b"GET %s HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
        "http11-blank": b"GET %s HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",
    }
    seen = {}
    for name, form in forms.items():
        got = []
        for path in (b"/", b"/hello.txt", b"/sub/page.html", b"/nothere.txt",
                     b"/cgi-bin/env.sh"):
            rs = exchange(p, form % path)
            assert len(rs) == 1, (name, path)
            body = rs[0].body
            if path == b"/cgi-bin/env.sh" and rs[0].status == 200:
                body = re.search(rb"(?m)^DOCUMENT_ROOT=(.*)$", body).group(1)
            got.append((rs[0].status, body))
        seen[name] = got
    assert seen["http10-none"] == seen["named"]
    for name in ("http11-empty", "http11-blank"):
        assert [st for st, _ in seen[name]] == [400] * 5, name
    assert seen["named"][1] == (200, b"hello, world\n")
    assert seen["named"][4][1] == os.path.realpath(docroot).encode()


def test_the_stored_hash_is_not_a_password(porch, docroot, tmp_path):
    """Some embedded servers compared the submitted password with the
    stored string when it "looked hashed", so the hash itself (read from a
    backup or a leaked file) logged in. Sending the crypt(3) hash as the
    password is 401; the password is 200."""
    h = subprocess.run(["openssl", "passwd", "-5", "s3cret"], check=True,
                       capture_output=True, text=True).stdout.strip()
    pw = tmp_path / "htpasswd"
    pw.write_text("admin:%s\n" % h)
    os.makedirs(os.path.join(docroot, "admin"), exist_ok=True)
    with open(os.path.join(docroot, "admin", "index.html"), "w") as f:
        f.write("admin page\n")
    p = porch(conf_lines=["auth /admin/ Router %s" % pw])

    def status(user, password):
        cred = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        rs = exchange(p, get(path="/admin/", extra="Authorization: Basic %s\r\n"
                             "Connection: close\r\n" % cred))
        return rs[0].status

    assert status("admin", h) == 401
    assert status("admin", h.split("$")[-1]) == 401     # the hash part alone
    assert status("admin", "s3cret") == 200


@pytest.mark.parametrize("field", [
    "LD_PRELOAD: /tmp/evil.so", "Ld-Preload: /tmp/evil.so",
    "LD_LIBRARY_PATH: /tmp", "PATH: /tmp/evil", "IFS: /",
    "BASH_ENV: /tmp/evil", "ENV: /tmp/evil", "SHELLOPTS: xtrace",
])
def test_request_fields_never_set_unprefixed_variables(porch, docroot, field):
    """GoAhead CVE-2017-17562 and other embedded servers: names from the
    request became environment variables of the CGI without the HTTP_
    prefix, or replaced PATH, so a client set LD_PRELOAD (RCE), PATH or
    IFS for the script. A request field only ever becomes HTTP_<NAME>;
    PATH stays porch's fixed one."""
    install_cgi(docroot, "env.sh", ENV_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"])
    name, _, value = field.partition(": ")
    rs = exchange(p, get(path="/cgi-bin/env.sh",
                         extra="%s\r\nConnection: close\r\n" % field))
    assert [r.status for r in rs] == [200]
    env = dict(line.split("=", 1) for line in
               rs[0].body.decode("latin-1").splitlines() if "=" in line)
    var = name.upper().replace("-", "_")
    assert env.get("HTTP_" + var) == value
    assert var not in env or (var == "PATH" and env[var] != value)
    assert env["PATH"] == "/usr/sbin:/usr/bin:/sbin:/bin"
    for k in ("LD_PRELOAD", "LD_LIBRARY_PATH", "IFS", "BASH_ENV", "ENV",
              "SHELLOPTS"):
        assert k not in env, k


def test_query_parameters_never_become_variables(porch, docroot):
    """GoAhead CVE-2017-17562: query and form parameters were copied into
    the CGI's environment, LD_PRELOAD=/proc/self/fd/0 among them. They
    reach the script only in QUERY_STRING (and its body on stdin)."""
    install_cgi(docroot, "env.sh", ENV_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"])
    q = "LD_PRELOAD=/proc/self/fd/0&PATH=/tmp&IFS=x"
    raw = ("POST /cgi-bin/env.sh?%s HTTP/1.1\r\nHost: a\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: %d\r\nConnection: close\r\n\r\n%s"
           % (q, len(q), q)).encode()
    rs = exchange(p, raw)
    assert [r.status for r in rs] == [200]
    env = dict(line.split("=", 1) for line in
               rs[0].body.decode("latin-1").splitlines() if "=" in line)
    assert env["QUERY_STRING"] == q
    assert "LD_PRELOAD" not in env and "IFS" not in env
    assert env["PATH"] == "/usr/sbin:/usr/bin:/sbin:/bin"
