"""HTTP Basic auth (DESIGN 3, 5): per-prefix protection with crypt(3)
hashes, the failed-login back-off shared by all workers, and auth decided
before any body byte (Expect: 100-continue)."""
import base64
import os
import re
import socket
import time
import warnings

import pytest

from conftest import SLOW, crypt_hash, get, refused_before_body, parse_responses, read_response, recv_until_close

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt as _crypt
    except ImportError:          # Python 3.13 dropped the module
        _crypt = None


def openssl_hash(flag, password):
    return crypt_hash(password, flag)


def bcrypt_hash(password):
    if _crypt is None:
        return None
    h = _crypt.crypt(password, _crypt.mksalt(_crypt.METHOD_BLOWFISH, rounds=32))
    return h if h and h.startswith("$2b$05$") else None


USERS = {"alice": "wonder land", "bob": "b0b:pw"}


@pytest.fixture
def pwfile(tmp_path):
    lines = ["# users",
             "alice:" + openssl_hash("-5", USERS["alice"]),
             "bob:" + openssl_hash("-6", USERS["bob"])]
    bc = bcrypt_hash("bcrypt pw")
    if bc:
        lines.append("carol:" + bc)
    path = tmp_path / "htpasswd"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def authed(porch, pwfile, docroot):
    os.makedirs(os.path.join(docroot, "admin/sub"), exist_ok=True)
    for rel, text in (("admin/index.html", "admin home\n"),
                      ("admin/x.txt", "admin x\n"),
                      ("admin/sub/y.txt", "admin y\n"),
                      ("administrator.txt", "not protected\n")):
        with open(os.path.join(docroot, rel), "w") as f:
            f.write(text)
    return porch(conf_lines=["auth /admin Admin-Area %s" % pwfile], workers=4)


def basic(user, password):
    raw = ("%s:%s" % (user, password)).encode()
    return "Authorization: Basic %s\r\n" % base64.b64encode(raw).decode()


def req(p, path="/admin/x.txt", creds="", source="127.0.0.1", method="GET",
        extra=""):
    """One request on a fresh connection from a chosen loopback address."""
    s = socket.socket()
    s.settimeout(5 * SLOW)
    s.bind((source, 0))
    s.connect((p.host, p.port))
    with s:
        s.sendall(get(path=path, method=method,
                      extra=creds + extra + "Connection: close\r\n"))
        return parse_responses(recv_until_close(s))[0]


def spread(p, n, creds, source="127.0.0.1"):
    """n requests, each on a new keep-alive connection while up to 3 earlier
    ones stay open (occupying their workers), so that with 4 workers the
    requests reach different workers; EPOLLEXCLUSIVE would otherwise hand
    sequential connections to the same one."""
    held, out = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.settimeout(5 * SLOW)
            s.bind((source, 0))
            s.connect((p.host, p.port))
            s.sendall(get(path="/admin/x.txt", extra=creds))
            out.append(read_response(s))
            held.append(s)
            if len(held) == 3:
                held.pop(0).close()
    finally:
        for s in held:
            s.close()
    return out


def serial(r):
    return r.header("X-Request-Id").split("-")[1]


def ok(p, user, path="/admin/x.txt", source="127.0.0.1"):
    return req(p, path, basic(user, USERS.get(user, "bcrypt pw")), source)


CHALLENGE = 'Basic realm="Admin-Area", charset="UTF-8"'


def test_missing_credentials_get_a_challenge(authed):
    r = req(authed)
    assert r.status == 401
    assert r.header("WWW-Authenticate") == CHALLENGE
    assert b"admin x" not in r.body


@pytest.mark.parametrize("user,flag", [("alice", "-5 (SHA-256)"),
                                       ("bob", "-6 (SHA-512)")])
def test_right_credentials_pass(authed, user, flag):
    r = ok(authed, user)
    assert (r.status, r.body) == (200, b"admin x\n"), flag


def test_bcrypt_hash(authed):
    if bcrypt_hash("x") is None:
        pytest.skip("no bcrypt in this host's crypt(3)")
    r = req(authed, creds=basic("carol", "bcrypt pw"))
    assert (r.status, r.body) == (200, b"admin x\n")


def test_wrong_password_and_unknown_user_are_401(authed):
    for creds in (basic("alice", "wrong"), basic("nobody", "wonder land"),
                  basic("alice", ""), basic("", ""), basic("ALICE", "wonder land"),
                  "Authorization: Bearer abc\r\n",
                  "Authorization: Basic !!notbase64!!\r\n",
                  "Authorization: Basic %s\r\n" % base64.b64encode(b"nocolon").decode()):
        r = req(authed, creds=creds, source="127.0.0.%d" % (10 + len(creds) % 200))
        assert r.status == 401, creds
        assert r.header("WWW-Authenticate") == CHALLENGE


def test_password_with_colon(authed):
    # the first colon separates user and password (RFC 7617 2)
    assert ok(authed, "bob").status == 200


def test_the_stored_hash_is_not_a_password(authed, pwfile):
    stored = [l.split(":", 1)[1] for l in pwfile.read_text().splitlines()
              if l.startswith("alice:")][0]
    r = req(authed, creds=basic("alice", stored))
    assert r.status == 401


def test_prefix_semantics(authed):
    for path in ("/admin", "/admin/", "/admin/x.txt", "/admin/sub/y.txt",
                 "//admin/x.txt", "/./admin/x.txt", "/sub/../admin/x.txt",
                 "/%61dmin/x.txt", "/admin%2fx.txt", "/admin/x.txt?q=1"):
        r = req(authed, path)
        assert r.status == 401, path
    r = req(authed, "/administrator.txt")
    assert (r.status, r.body) == (200, b"not protected\n")
    assert req(authed, "/hello.txt").status == 200
    assert ok(authed, "alice", "/admin/").body == b"admin home\n"
    r = ok(authed, "alice", "/admin")
    assert r.status in (301, 308) and r.header("Location", "").endswith("/admin/")


def test_longest_prefix_wins(porch, pwfile, tmp_path, docroot):
    other = tmp_path / "other-pw"
    other.write_text("root:" + openssl_hash("-5", "toor") + "\n")
    os.makedirs(os.path.join(docroot, "admin/deep"), exist_ok=True)
    with open(os.path.join(docroot, "admin/deep/z.txt"), "w") as f:
        f.write("deep\n")
    p = porch(conf_lines=["auth /admin Admin-Area %s" % pwfile,
                          "auth /admin/deep Deep %s" % other])
    r = req(p, "/admin/deep/z.txt")
    assert r.header("WWW-Authenticate") == 'Basic realm="Deep", charset="UTF-8"'
    assert req(p, "/admin/deep/z.txt", basic("root", "toor")).status == 200
    assert req(p, "/admin/deep/z.txt", basic("alice", USERS["alice"]),
               source="127.0.0.3").status == 401


def test_backoff_after_five_failures_shared_by_workers(authed):
    wrong = basic("alice", "wrong")
    rs = spread(authed, 5, wrong)
    assert [r.status for r in rs] == [401] * 5
    assert len({serial(r) for r in rs}) >= 3, "failures should hit several workers"
    # the 6th attempt, even with the right password, is refused
    r = ok(authed, "alice")
    assert r.status == 429
    assert r.header("Retry-After") == "1"
    assert b"admin x" not in r.body
    # every worker applies it
    rs = spread(authed, 6, basic("alice", USERS["alice"]))
    assert [r.status for r in rs] == [429] * 6
    assert len({serial(r) for r in rs}) >= 3
    # another client address is not affected
    assert ok(authed, "alice", source="127.0.0.2").status == 200
    time.sleep(1.1)
    # back-off over: a failure now doubles it to 2 s
    assert req(authed, creds=wrong).status == 401
    r = ok(authed, "alice")
    assert r.status == 429 and r.header("Retry-After") == "2"
    time.sleep(1.0)
    r = ok(authed, "alice")
    assert r.status == 429 and r.header("Retry-After") == "1"
    time.sleep(1.1)
    # success clears the counter: the next failure is a plain 401 and the
    # right password right after it passes
    assert ok(authed, "alice").status == 200
    assert req(authed, creds=wrong).status == 401
    assert ok(authed, "alice").status == 200


def test_backoff_doubles_up_to_a_cap_in_retry_after(authed):
    """Retry-After right after the n-th consecutive failure: 1, 2, 4 s ...
    (60 s cap not waited for here)."""
    wrong = basic("alice", "wrong")
    src = "127.0.0.4"
    for _ in range(5):
        assert req(authed, creds=wrong, source=src).status == 401
    waits = []
    for _ in range(2):
        r = req(authed, creds=wrong, source=src)
        assert r.status == 429
        waits.append(int(r.header("Retry-After")))
        time.sleep(waits[-1] + 0.1)
        assert req(authed, creds=wrong, source=src).status == 401
    r = req(authed, creds=wrong, source=src)
    waits.append(int(r.header("Retry-After")))
    assert waits == [1, 2, 4]


def test_expect_continue_without_credentials_is_refused_before_the_body(authed):
    smuggled = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
    body = smuggled + b"x" * (200 - len(smuggled))
    with authed.connect() as s:
        s.sendall(b"POST /admin/x.txt HTTP/1.1\r\nHost: a\r\n"
                  b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % len(body))
        s.settimeout(3 * SLOW)
        first = s.recv(65536)
        assert not first.startswith(b"HTTP/1.1 100"), first
        try:
            s.sendall(body)          # a client that sends anyway
        except OSError:
            pass
        raw = first + recv_until_close(s)
    assert b"100 Continue" not in raw
    rs = parse_responses(raw)
    assert len(rs) == 1, rs                       # the body was never a request
    assert rs[0].status == 401
    assert rs[0].header("Connection") == "close"
    assert rs[0].header("WWW-Authenticate") == CHALLENGE


def test_oversized_body_without_credentials_is_401_not_413(authed):
    """DESIGN 3 orders the head checks method, path, auth, length: an
    anonymous POST with a body over max_body_size to a protected path
    learns nothing of the path's limit. 401, Connection: close, no 100,
    and the body is never read."""
    r = refused_before_body(authed, b"POST /admin/x.txt HTTP/1.1\r\n"
                            b"Host: a\r\nContent-Length: %d\r\n"
                            b"Expect: 100-continue\r\n\r\n"
                            % (64 * 1024 * 1024))
    assert r.status == 401
    assert r.header("WWW-Authenticate") == CHALLENGE


def test_oversized_body_with_credentials_is_413_from_the_head(authed):
    r = refused_before_body(authed, b"POST /admin/x.txt HTTP/1.1\r\n"
                            b"Host: a\r\n" +
                            basic("alice", USERS["alice"]).encode() +
                            b"Content-Length: %d\r\n"
                            b"Expect: 100-continue\r\n\r\n"
                            % (64 * 1024 * 1024))
    assert r.status == 413


def test_expect_continue_with_credentials_reaches_the_handler(authed):
    with authed.connect() as s:
        s.sendall(b"POST /admin/x.txt HTTP/1.1\r\nHost: a\r\n" +
                  basic("alice", USERS["alice"]).encode() +
                  b"Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        s.settimeout(3 * SLOW)
        first = s.recv(65536)
    # static files take no body: the final answer is 405, not 401
    assert b" 401 " not in first.split(b"\r\n")[0]


def test_password_file_edit_takes_effect_without_reload(authed, pwfile):
    assert ok(authed, "alice").status == 200
    text = pwfile.read_text()
    new_hash = openssl_hash("-5", "new secret")
    lines = [("alice:" + new_hash) if l.startswith("alice:") else l
             for l in text.splitlines()]
    # rewritten in place (same inode), as a settings CGI would
    with open(pwfile, "r+") as f:
        f.seek(0)
        f.write("\n".join(lines) + "\n")
        f.truncate()
    src = iter("127.0.1.%d" % i for i in range(1, 50))
    # every worker must see it: several fresh connections
    for _ in range(6):
        assert req(authed, creds=basic("alice", "new secret"),
                   source=next(src)).status == 200
        assert req(authed, creds=basic("alice", USERS["alice"]),
                   source=next(src)).status == 401
    # replaced by rename (new inode), user removed
    tmp = str(pwfile) + ".new"
    with open(tmp, "w") as f:
        f.write("\n".join(l for l in lines if not l.startswith("alice:")) + "\n")
    os.replace(tmp, pwfile)
    for _ in range(6):
        assert req(authed, creds=basic("alice", "new secret"),
                   source=next(src)).status == 401
        assert ok(authed, "bob", source=next(src)).status == 200


def test_access_log_names_the_authenticated_user(authed):
    r = ok(authed, "alice")
    assert r.status == 200
    rid = r.header("X-Request-Id")
    deadline = time.time() + 3 * SLOW
    line = None
    while time.time() < deadline and line is None:
        for l in authed.access().splitlines():
            if rid in l:
                line = l
        time.sleep(0.02)
    assert line, authed.access()
    # Combined Log Format: host ident authuser [date] ...
    assert re.match(r'^127\.0\.0\.1 - alice \[', line), line
