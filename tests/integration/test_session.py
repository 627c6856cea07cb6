"""Cookie sessions with CSRF protection (issue 16, DESIGN 5): the login
endpoint, the check of every request under a `session` prefix made from
the head before any script or body byte, idle and absolute expiry, the
background marker, logout, a reload keeping sessions, and what CGIs see."""
import json
import os
import re
import socket
import ssl
import time

import pytest

from conftest import (SLOW, crypt_hash, free_port, install_cgi,
                      parse_responses, recv_until_close, refused_before_body,
                      wait_for)

PASSWORDS = {"admin": "correct horse", "guest": "guest pw"}
COOKIE_RE = re.compile(r"^porch_session=([0-9a-f]{32}); Path=/; HttpOnly; "
                       r"SameSite=Strict(; Secure)?$")

ENV_CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
env
"""

UPLOAD_CGI = """#!/bin/sh
n=$(wc -c)
printf 'Content-Type: text/plain\\r\\n\\r\\nread %s\\n' "$n"
"""


def write_pwfile(path, users):
    path.write_text("".join("%s:%s\n" % (u, crypt_hash(p))
                            for u, p in users.items()))


@pytest.fixture
def pwfile(tmp_path):
    path = tmp_path / "ui.passwd"
    write_pwfile(path, PASSWORDS)
    return path


def session_conf(pwfile, *extra):
    return ["cgi /cgi-bin/", "session /cgi-bin/ %s" % pwfile,
            "session /admin %s" % pwfile] + list(extra)


@pytest.fixture
def guarded(porch, pwfile, docroot):
    """porch with /cgi-bin/ and /admin under a session."""
    install_cgi(docroot, "env.cgi", ENV_CGI)
    install_cgi(docroot, "upload.cgi", UPLOAD_CGI)
    os.makedirs(os.path.join(docroot, "admin"), exist_ok=True)
    with open(os.path.join(docroot, "admin", "page.html"), "w") as f:
        f.write("<h1>admin page</h1>\n")

    def start(*extra, **kw):
        return porch(conf_lines=session_conf(pwfile, *extra), **kw)
    return start


def request(p, method, path, headers=(), body=b"", source="127.0.0.1",
            tls=False, port=None):
    """One request on a fresh connection; the parsed response."""
    s = socket.socket()
    s.settimeout(5 * SLOW)
    s.bind((source, 0))
    s.connect((p.host, port or p.port))
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n" % (
        method, path, p.host, port or p.port)
    for h in headers:
        head += h + "\r\n"
    if body or method in ("POST", "PUT", "DELETE"):
        head += "Content-Length: %d\r\n" % len(body)
    with s:
        s.sendall(head.encode() + b"\r\n" + body)
        return parse_responses(recv_until_close(s))[0]


def login(p, user="admin", password=None, form=False, headers=(), **kw):
    password = PASSWORDS[user] if password is None else password
    if form:
        from urllib.parse import urlencode
        body = urlencode({"user": user, "password": password}).encode()
        ctype = "application/x-www-form-urlencoded"
    else:
        body = json.dumps({"user": user, "password": password}).encode()
        ctype = "application/json"
    return request(p, "POST", "/api/session",
                   ["Content-Type: " + ctype] + list(headers), body, **kw)


class Session:
    """A logged-in browser: its cookie and CSRF token."""

    def __init__(self, p, user="admin", **kw):
        self.p = p
        r = login(p, user, **kw)
        assert r.status == 200, (r.status, r.body)
        m = COOKIE_RE.match(r.header("Set-Cookie"))
        assert m, r.header("Set-Cookie")
        self.id = m.group(1)
        self.csrf = json.loads(r.body)["csrf"]
        self.login_response = r

    def cookie(self):
        return "Cookie: porch_session=" + self.id

    def get(self, path, *headers, **kw):
        return request(self.p, "GET", path, [self.cookie()] + list(headers),
                       **kw)

    def post(self, path, body=b"x", *headers, token=True, **kw):
        h = [self.cookie()] + list(headers)
        if token:
            h.append("X-CSRF-Token: " + self.csrf)
        return request(self.p, "POST", path, h, body, **kw)


def body_json(r):
    assert r.header("Content-Type") == "application/json", r.headers
    return json.loads(r.body)


# ---- login --------------------------------------------------------------------

@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_login_right_password_opens_a_session(guarded, form):
    p = guarded()
    r = login(p, form=form)
    assert r.status == 200
    m = COOKIE_RE.match(r.header("Set-Cookie"))
    assert m and m.group(2) is None         # no Secure on plain HTTP
    j = body_json(r)
    assert j["user"] == "admin"
    assert re.fullmatch("[0-9a-f]{32}", j["csrf"])
    assert j["csrf"] != m.group(1)
    assert (j["idle"], j["lifetime"]) == (900, 28800)
    assert r.header("Cache-Control") == "no-store"
    s = Session(p)
    r = s.get("/admin/page.html")
    assert r.status == 200 and b"admin page" in r.body
    r = request(p, "GET", "/api/session", [s.cookie()])
    assert body_json(r) == {"user": "admin", "csrf": s.csrf, "idle": 900,
                            "lifetime": 28800}
    assert r.header("Set-Cookie") is None


@pytest.mark.parametrize("user,password", [("admin", "wrong"),
                                           ("nobody", "correct horse"),
                                           ("admin", "")])
def test_login_wrong_password_or_user_is_401(guarded, user, password):
    p = guarded()
    r = login(p, user, password)
    assert r.status == 401
    assert body_json(r) == {"error": "login failed"}
    assert r.header("Set-Cookie") is None


@pytest.mark.parametrize("ctype,body,status", [
    ("text/plain", b"user=admin&password=x", 415),
    (None, b"user=admin&password=x", 415),
    ("application/json", b'{"user":"admin"}', 400),
    ("application/json", b'{"user":"admin","password":1}', 400),
    ("application/json", b'{"user":"admin","password":"x"', 400),
    ("application/x-www-form-urlencoded", b"user=admin&password=%zz", 400),
    ("application/x-www-form-urlencoded", b"user=&password=x", 400),
])
def test_malformed_login_bodies_are_refused(guarded, ctype, body, status):
    p = guarded()
    headers = ["Content-Type: " + ctype] if ctype else []
    r = request(p, "POST", "/api/session", headers, body)
    assert r.status == status
    assert r.header("Set-Cookie") is None


def test_an_oversized_login_body_is_413_from_the_head(guarded):
    p = guarded()
    r = refused_before_body(p, b"POST /api/session HTTP/1.1\r\nHost: a\r\n"
                            b"Content-Type: application/json\r\n"
                            b"Content-Length: 100000\r\n"
                            b"Expect: 100-continue\r\n\r\n")
    assert r.status == 413


def test_login_back_off_is_shared_with_basic_auth(guarded, pwfile):
    p = guarded("auth /basic Realm %s" % pwfile)
    src = "127.0.6.1"
    import base64
    wrong = "Authorization: Basic " + base64.b64encode(b"admin:no").decode()
    for _ in range(3):
        assert login(p, password="no", source=src).status == 401
    for _ in range(2):
        assert request(p, "GET", "/basic/x", [wrong],
                       source=src).status == 401
    r = login(p, source=src)                # the right password, too soon
    assert r.status == 429
    assert body_json(r) == {"error": "too many failed logins",
                            "retry_after": 1}
    assert r.header("Retry-After") == "1"
    assert r.header("Set-Cookie") is None
    assert login(p, source="127.0.6.2").status == 200   # another client
    time.sleep(1.1)
    assert login(p, source=src).status == 200


def test_every_login_gets_a_new_id_and_drops_the_one_it_had(guarded):
    """Session fixation: an id the browser already holds (planted, or
    its own) is never carried on; a login always draws a new one."""
    p = guarded()
    a = Session(p)
    planted = "0123456789abcdef0123456789abcdef"
    r = login(p, headers=["Cookie: porch_session=" + planted])
    new = COOKIE_RE.match(r.header("Set-Cookie")).group(1)
    assert new != planted
    r = login(p, headers=[a.cookie()])
    b = COOKIE_RE.match(r.header("Set-Cookie")).group(1)
    assert b not in (a.id, new)
    assert json.loads(r.body)["csrf"] != a.csrf
    assert a.get("/admin/page.html").status == 401      # replaced
    assert request(p, "GET", "/admin/page.html",
                   ["Cookie: porch_session=" + b]).status == 200
    ids = {Session(p).id for _ in range(20)}
    assert len(ids) == 20


def test_cookie_is_secure_on_tls(guarded, tmp_path):
    port = free_port()
    p = guarded("tls_listen 127.0.0.1:%d" % port,
                "tls_cert %s" % (tmp_path / "cert.pem"),
                "tls_key %s" % (tmp_path / "key.pem"), "tls_autogen on")
    body = json.dumps({"user": "admin",
                       "password": PASSWORDS["admin"]}).encode()
    r = request(p, "POST", "/api/session", ["Content-Type: application/json"],
                body, tls=True, port=port)
    assert r.status == 200
    m = COOKIE_RE.match(r.header("Set-Cookie"))
    assert m and m.group(2) == "; Secure"
    r = request(p, "GET", "/admin/page.html",
                ["Cookie: porch_session=" + m.group(1)], tls=True, port=port)
    assert r.status == 200
    # the same login over plain HTTP carries no Secure
    assert COOKIE_RE.match(login(p).header("Set-Cookie")).group(2) is None


def test_the_session_table_evicts_the_least_recently_used(guarded):
    p = guarded()
    first = Session(p)
    kept = Session(p)
    for _ in range(62):                     # fills the 64 entries
        Session(p)
    assert kept.get("/admin/page.html").status == 200   # now most recent
    Session(p)                              # the 65th evicts `first`
    assert first.get("/admin/page.html").status == 401
    assert kept.get("/admin/page.html").status == 200


# ---- refusals -------------------------------------------------------------------

def test_no_session_is_401_json_for_scripts_and_303_for_pages(guarded):
    p = guarded()
    r = request(p, "GET", "/admin/page.html")
    assert r.status == 401
    assert body_json(r) == {"error": "login required"}
    assert b"admin page" not in r.body
    for nav in (["Sec-Fetch-Mode: navigate", "Accept: */*"],
                ["Accept: text/html,application/xhtml+xml,*/*;q=0.8"]):
        r = request(p, "GET", "/admin/page.html?tab=1&x=%2F", nav)
        assert r.status == 303, nav
        assert r.header("Location") == \
            "/?next=%2Fadmin%2Fpage.html%3Ftab%3D1%26x%3D%252F"
    # a fetch() from a page asks for HTML yet is no navigation
    r = request(p, "GET", "/admin/page.html",
                ["Sec-Fetch-Mode: cors", "Accept: text/html"])
    assert r.status == 401
    # a POST is never redirected
    r = request(p, "POST", "/cgi-bin/env.cgi", ["Accept: text/html"], b"x")
    assert r.status == 401


def test_session_login_page_is_configurable(guarded):
    p = guarded("session_login /login.html")
    r = request(p, "GET", "/admin/", ["Sec-Fetch-Mode: navigate"])
    assert r.status == 303 and r.header("Location") == \
        "/login.html?next=%2Fadmin%2F"


@pytest.mark.parametrize("cookie", [
    "porch_session=0123456789abcdef0123456789abcdef",   # unknown
    "porch_session=zz23456789abcdef0123456789abcdef",   # not hex
    "porch_session=0123",                               # short
    "porch_session=" + "a" * 4000,                      # over-long
])
def test_unknown_or_malformed_cookies_are_refused(guarded, cookie):
    p = guarded()
    r = request(p, "GET", "/admin/page.html", ["Cookie: " + cookie])
    assert r.status == 401
    assert body_json(r) == {"error": "session expired"}


def test_a_duplicated_session_cookie_is_refused(guarded):
    """Two porch_session values (one planted by a sibling subdomain, say)
    are never resolved by picking one: the request is refused."""
    p = guarded()
    s = Session(p)
    for cookie in ("porch_session=%s; porch_session=%s" % (s.id, s.id),
                   "porch_session=%s; porch_session=%s" % ("0" * 32, s.id),
                   "porch_session=%s; porch_session=%s" % (s.id, "0" * 32)):
        r = request(p, "GET", "/admin/page.html", ["Cookie: " + cookie])
        assert r.status == 401, cookie
    # a cookie of another name beside it is fine
    r = request(p, "GET", "/admin/page.html",
                ["Cookie: theme=dark; porch_session=%s; lang=en" % s.id])
    assert r.status == 200


def test_a_nul_in_a_cookie_never_matches(guarded):
    """CVE-2021-32030: a NUL byte in a cookie compared as a C string
    matched. It is refused on the wire."""
    p = guarded()
    s = Session(p)
    with p.connect() as sock:
        sock.sendall(b"GET /admin/page.html HTTP/1.1\r\nHost: a\r\n"
                     b"Cookie: porch_session=" + s.id.encode() +
                     b"\x00junk\r\nConnection: close\r\n\r\n")
        r = parse_responses(recv_until_close(sock))[0]
    assert r.status == 400


def test_401_goes_out_before_the_body_of_a_protected_upload(guarded):
    p = guarded()
    smuggled = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
    body = smuggled + b"x" * (4096 - len(smuggled))
    with p.connect() as s:
        s.sendall(b"POST /cgi-bin/upload.cgi HTTP/1.1\r\nHost: a\r\n"
                  b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                  % len(body))
        s.settimeout(3 * SLOW)
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 401"), first
        try:
            s.sendall(body)
        except OSError:
            pass
        raw = first + recv_until_close(s)
    assert b"100 Continue" not in raw
    rs = parse_responses(raw)
    assert len(rs) == 1, rs
    assert rs[0].header("Connection") == "close"
    assert body_json(rs[0]) == {"error": "login required"}


def test_a_logged_in_upload_gets_its_100_and_runs(guarded):
    p = guarded()
    s = Session(p)
    body = b"y" * 5000
    with p.connect() as sock:
        sock.sendall(("POST /cgi-bin/upload.cgi HTTP/1.1\r\nHost: a\r\n"
                      "%s\r\nX-CSRF-Token: %s\r\nContent-Length: %d\r\n"
                      "Expect: 100-continue\r\nConnection: close\r\n\r\n" %
                      (s.cookie(), s.csrf, len(body))).encode())
        sock.settimeout(5 * SLOW)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 100"), first
        sock.sendall(body)
        raw = first + recv_until_close(sock)
    r = parse_responses(raw)[-1]
    assert r.status == 200 and r.body.strip() == b"read 5000"


# ---- CSRF ---------------------------------------------------------------------

def test_csrf_token_is_required_on_state_changing_methods(guarded):
    p = guarded()
    s = Session(p)
    r = s.post("/cgi-bin/env.cgi", token=False)
    assert r.status == 403 and body_json(r) == {"error": "csrf"}
    for wrong in ("0" * 32, s.csrf[:-1], s.csrf + "0", s.id, "", "g" * 32):
        r = s.post("/cgi-bin/env.cgi", b"x", "X-CSRF-Token: " + wrong,
                   token=False)
        assert r.status == 403, wrong
    r = s.post("/cgi-bin/env.cgi")
    assert r.status == 200 and b"REMOTE_USER=admin" in r.body
    # another session's token is no token of this one
    other = Session(p, "guest")
    r = s.post("/cgi-bin/env.cgi", b"x", "X-CSRF-Token: " + other.csrf,
               token=False)
    assert r.status == 403
    # safe methods need none
    assert s.get("/cgi-bin/env.cgi").status == 200
    assert request(p, "HEAD", "/admin/page.html", [s.cookie()]).status == 200
    for method in ("PUT", "DELETE", "PATCH"):
        r = request(p, method, "/cgi-bin/env.cgi", [s.cookie()], b"x")
        assert r.status == 403, method


def test_a_cross_origin_request_is_refused_even_with_the_token(guarded):
    p = guarded()
    s = Session(p)
    own = "http://%s:%d" % (p.host, p.port)
    for origin in ("http://evil.example", "null", own + ".evil.example",
                   "https://%s:%d" % (p.host, p.port), own + "/",
                   "http://%s:%d" % (p.host, p.port + 1)):
        r = s.post("/cgi-bin/env.cgi", b"x", "Origin: " + origin)
        assert r.status == 403, origin
        assert body_json(r) == {"error": "csrf"}
    assert s.post("/cgi-bin/env.cgi", b"x", "Origin: " + own).status == 200
    # nor may another origin log in
    r = login(p, headers=["Origin: http://evil.example"])
    assert r.status == 403 and r.header("Set-Cookie") is None


# ---- expiry -------------------------------------------------------------------

def test_idle_expiry_and_the_background_marker(guarded):
    p = guarded("session_idle 2", "session_lifetime 60")
    active, polled = Session(p), Session(p)
    start = time.time()
    while time.time() - start < 3.0:
        assert active.get("/admin/page.html").status == 200
        r = polled.get("/admin/page.html", "X-Background: 1")
        if time.time() - start < 1.5:
            assert r.status == 200
        time.sleep(0.25)
    # 3 s of requests kept `active` alive; polls never touched `polled`
    assert active.get("/admin/page.html").status == 200
    r = polled.get("/admin/page.html", "X-Background: 1")
    assert r.status == 401 and body_json(r) == {"error": "session expired"}
    # a GET of the session API with the marker does not extend it either
    s = Session(p)
    time.sleep(1.2)
    assert request(p, "GET", "/api/session",
                   [s.cookie(), "X-Background: 1"]).status == 200
    time.sleep(1.2)
    r = request(p, "GET", "/api/session", [s.cookie()])
    assert r.status == 401 and body_json(r) == {"error": "session expired"}


def test_absolute_lifetime_ends_an_active_session(guarded):
    p = guarded("session_idle 2", "session_lifetime 3")
    s = Session(p)
    start = time.time()
    while time.time() - start < 2.5:
        assert s.get("/admin/page.html").status == 200
        time.sleep(0.25)
    wait_for(lambda: s.get("/admin/page.html").status == 401,
             timeout=2 + SLOW, what="the lifetime to end the session")
    assert time.time() - start >= 3.0


def test_lifetime_shorter_than_idle_is_a_config_error(porch, pwfile, tmp_path):
    p = porch(conf_lines=session_conf(pwfile, "session_idle 600",
                                      "session_lifetime 60"), wait=False)
    assert p.proc.wait(10 * SLOW) != 0
    err = open(p.stderr_path).read()
    assert "session_lifetime" in err and "shorter than" in err


def test_a_password_change_ends_the_users_sessions(guarded, pwfile):
    p = guarded()
    admin, guest = Session(p), Session(p, "guest")
    guest_line = [l for l in pwfile.read_text().splitlines()
                  if l.startswith("guest:")][0]
    pwfile.write_text("admin:%s\n%s\n" % (crypt_hash("new password"),
                                          guest_line))
    wait_for(lambda: admin.get("/admin/page.html").status == 401,
             what="the changed password to end the session")
    assert guest.get("/admin/page.html").status == 200
    pwfile.write_text("admin:%s\n" % crypt_hash("new password"))
    wait_for(lambda: guest.get("/admin/page.html").status == 401,
             what="the removed user's session to end")


# ---- logout, reload -----------------------------------------------------------

def test_logout_needs_the_token_and_ends_the_session(guarded):
    p = guarded()
    s = Session(p)
    r = request(p, "DELETE", "/api/session", [s.cookie()])
    assert r.status == 403 and body_json(r) == {"error": "csrf"}
    assert s.get("/admin/page.html").status == 200
    r = request(p, "DELETE", "/api/session",
                [s.cookie(), "X-CSRF-Token: " + s.csrf])
    assert r.status == 200 and body_json(r) == {"ok": True}
    assert r.header("Set-Cookie") == \
        "porch_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
    r = s.get("/admin/page.html")
    assert r.status == 401
    r = request(p, "GET", "/api/session", [s.cookie()])
    assert r.status == 401 and body_json(r) == {"error": "session expired"}
    r = request(p, "GET", "/api/session")
    assert r.status == 401 and body_json(r) == {"error": "login required"}
    r = request(p, "PUT", "/api/session", [s.cookie()], b"")
    assert r.status == 405


def test_a_reload_keeps_sessions(guarded):
    p = guarded()
    s = Session(p)
    old = set(p.workers())
    p.reload()
    p.wait_reloads(1)
    p.wait_workers(p.nworkers, exclude=old)
    r = s.get("/admin/page.html")
    assert r.status == 200
    r = request(p, "GET", "/api/session", [s.cookie()])
    assert body_json(r)["csrf"] == s.csrf


def test_a_restart_forgets_sessions(guarded):
    p = guarded()
    s = Session(p)
    p.stop()
    p.start()
    assert s.get("/admin/page.html").status == 401


# ---- what scripts see -----------------------------------------------------------

def test_cgis_keep_other_cookies(guarded):
    p = guarded()
    s = Session(p)
    r = request(p, "POST", "/cgi-bin/env.cgi",
                ["Cookie: theme=dark; porch_session=%s; lang=en" % s.id,
                 "X-CSRF-Token: " + s.csrf], b"x")
    assert r.status == 200
    env = dict(l.split("=", 1) for l in r.body.decode().splitlines()
               if "=" in l)
    assert env["HTTP_COOKIE"] == "theme=dark; lang=en"
    assert env["AUTH_TYPE"] == "Cookie" and env["REMOTE_USER"] == "admin"
    assert s.id not in r.body.decode() and s.csrf not in r.body.decode()
    assert "HTTP_X_CSRF_TOKEN" not in env


def test_paths_outside_the_prefixes_need_no_session(guarded):
    p = guarded()
    assert request(p, "GET", "/hello.txt").status == 200
    assert request(p, "GET", "/administrator.txt").status == 404
    r = request(p, "GET", "/adminx")
    assert r.status == 404
