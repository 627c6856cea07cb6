"""CGI/1.1 (RFC 3875, DESIGN 3 and 5): the environment, request ids, body
streaming both ways, 100-continue, the response header forms and their
framing, timeouts, disconnects and process-group kills.

The test CGIs live in tests/cgi/: testcgi.c (built by tests/cgi/cgi.mk into
build/cgi/testcgi; built here when missing) and a few BusyBox-sh scripts.
Each test gets fresh copies in its own docroot's cgi-bin/, mode 0755.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import ROOT, SLOW, exchange, get, parse_responses

TESTCGI = os.environ.get("PORCH_TESTCGI") or os.path.join(
    ROOT, "build/cgi/testcgi")
SCRIPTS = os.path.join(ROOT, "tests/cgi")
CGI_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


# ---- fixtures --------------------------------------------------------------

@pytest.fixture(scope="session")
def testcgi_bin():
    src = os.path.join(SCRIPTS, "testcgi.c")
    if (not os.path.exists(TESTCGI) or
            os.path.getmtime(TESTCGI) < os.path.getmtime(src)):
        subprocess.run(["make", "-s", "-C", ROOT, "-f", "tests/cgi/cgi.mk",
                        "cgi-test-progs"], check=True)
    return TESTCGI


@pytest.fixture
def cgibin(docroot, testcgi_bin):
    """docroot/cgi-bin/ with testcgi and every tests/cgi/*.sh, mode 0755."""
    d = os.path.join(docroot, "cgi-bin")
    os.makedirs(d, exist_ok=True)
    shutil.copy(testcgi_bin, os.path.join(d, "testcgi"))
    for name in os.listdir(SCRIPTS):
        if name.endswith(".sh") and name != "bench_cgi.sh":
            shutil.copy(os.path.join(SCRIPTS, name), os.path.join(d, name))
    for name in os.listdir(d):
        os.chmod(os.path.join(d, name), 0o755)
    return d


@pytest.fixture
def cgi(porch, cgibin):
    """A factory: cgi(conf_lines=[...], workers=N) -> porch with /cgi-bin/."""
    def start(conf_lines=(), **kw):
        return porch(conf_lines=["cgi /cgi-bin/"] + list(conf_lines), **kw)
    return start


@pytest.fixture
def srv(cgi):
    return cgi()


# ---- helpers ---------------------------------------------------------------

class Reader:
    """Responses, one at a time, from a keep-alive socket."""

    def __init__(self, sock, timeout=5 * SLOW):
        self.s = sock
        self.s.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def fill(self):
        try:
            b = self.s.recv(65536)
        except ConnectionResetError:
            b = b""
        if not b:
            self.eof = True
            raise EOFError("connection closed; have %r" % self.buf[:200])
        self.buf += b

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\r\n")
        out, self.buf = self.buf[:i], self.buf[i + 2:]
        return out

    def response(self, head=False):
        """One response; .complete is False when the connection closed
        inside its body."""
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        end = self.buf.index(b"\r\n\r\n") + 4
        r = parse_responses(self.buf[:end], head_only=(0,))[0]
        self.buf = self.buf[end:]
        r.complete = True
        if head or r.status < 200 or r.status in (204, 304):
            return r
        body = b""
        try:
            cl = r.header("Content-Length")
            if cl is not None:
                body = self.take(int(cl))
            elif (r.header("Transfer-Encoding") or "").lower() == "chunked":
                while True:
                    size = int(self.line().split(b";")[0], 16)
                    if size == 0:
                        while self.line() != b"":
                            pass
                        break
                    body += self.take(size)
                    if self.take(2) != b"\r\n":
                        raise AssertionError("bad chunk end")
            else:
                while True:
                    body += self.buf
                    self.buf = b""
                    self.fill()
        except EOFError:
            body += self.buf
            self.buf = b""
            r.complete = cl is None and (r.header("Transfer-Encoding") or
                                         "").lower() != "chunked"
        r.body = body
        return r

    def closed_within(self, timeout):
        """True when the peer closes within timeout; what came before the
        close is left in self.buf."""
        self.s.settimeout(timeout)
        try:
            while True:
                b = self.s.recv(65536)
                if not b:
                    return True
                self.buf += b
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def request_bytes(path, extra="", version="1.1", method="GET", body=b"",
                  close=True):
    if body and "Transfer-Encoding" not in extra:
        extra += "Content-Length: %d\r\n" % len(body)
    if close and version == "1.1":
        extra += "Connection: close\r\n"
    return get(path=path, extra=extra, version=version, method=method) + body


def one(p, path, extra="", version="1.1", method="GET", body=b""):
    """One request on its own connection (closed after); the response."""
    rs = exchange(p, request_bytes(path, extra, version, method, body),
                  head_only=(0,) if method == "HEAD" else ())
    assert rs, "no response to %s %s" % (method, path)
    return rs[0]


def env_of(r):
    assert r.status == 200, (r, r.body[:300])
    return json.loads(r.body)


def cgi_env(p, path="/cgi-bin/testcgi/env", **kw):
    return env_of(one(p, path, **kw))


def raw_path(text):
    """The testcgi URL that makes the script write exactly text."""
    return "/cgi-bin/testcgi/raw?" + urllib.parse.quote(text, safe="")


def chunked(data, size=65536):
    out = [b"%x\r\n%s\r\n" % (len(data[i:i + size]), data[i:i + size])
           for i in range(0, len(data), size)]
    return b"".join(out) + b"0\r\n\r\n"


def wait_for(pred, timeout=5 * SLOW, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def proc_stat(pid):
    """(state, ppid) of a process, or None when it is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    fields = st.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def procs_running(needle):
    """Pids of live (non-zombie) processes whose command line has needle."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        st = proc_stat(d)
        if needle.encode() in cmd and st and st[0] != "Z":
            out.append(int(d))
    return out


def zombies_of(parents):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(d)
            if st and st[0] == "Z" and st[1] in parents:
                out.append(int(d))
    return out


def porch_pids(p):
    return [p.pid] + p.workers()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def sender(sock, data):
    """Sends data from a thread; errors (the server stopped reading) are
    the point of some tests, so they are only recorded."""
    res = {}

    def run():
        try:
            sock.sendall(data)
        except OSError as e:
            res["error"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res


# ---- the environment (RFC 3875 4.1) ----------------------------------------

def test_env_meta_variables(srv, docroot):
    root = os.path.realpath(docroot)
    with srv.connect() as s:
        s.sendall(get(host_header="router.test:8080",
                      path="/cgi-bin/testcgi/env/a/b?x=1&y=%20z",
                      extra="Connection: close\r\n"))
        r = Reader(s).response()
        local_port = s.getsockname()[1]
    e = env_of(r)
    assert e["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert e["SERVER_SOFTWARE"].startswith("porch")
    assert e["SERVER_NAME"] == "router.test"
    assert e["SERVER_ADDR"] == "127.0.0.1"
    assert e["SERVER_PORT"] == str(srv.port)
    assert e["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert e["REQUEST_METHOD"] == "GET"
    assert e["REQUEST_URI"] == "/cgi-bin/testcgi/env/a/b?x=1&y=%20z"
    assert e["SCRIPT_NAME"] == "/cgi-bin/testcgi"
    assert e["PATH_INFO"] == "/env/a/b"
    assert e["PATH_TRANSLATED"] == root + "/env/a/b"
    assert e["QUERY_STRING"] == "x=1&y=%20z"
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert e["REMOTE_PORT"] == str(local_port)
    assert e["DOCUMENT_ROOT"] == root and os.path.isabs(root)
    assert e["SCRIPT_FILENAME"] == root + "/cgi-bin/testcgi"
    assert e["PATH"] == CGI_PATH
    assert e["HTTP_HOST"] == "router.test:8080"
    assert re.fullmatch(r"[0-9A-Za-z._:-]+", e["REQUEST_ID"])
    for absent in ("CONTENT_LENGTH", "CONTENT_TYPE", "AUTH_TYPE",
                   "REMOTE_USER", "HTTPS", "HTTP_CONNECTION"):
        assert absent not in e, absent


def test_env_remote_host_is_set(srv):
    # RFC 3875 4.1.9: SHOULD be set; without a lookup, the address.
    e = cgi_env(srv)
    assert e.get("REMOTE_HOST") == "127.0.0.1"


def test_env_sh_script_name_and_path_info_split(srv, docroot):
    r = one(srv, "/cgi-bin/env.sh/a/b")
    assert r.status == 200
    env = dict(ln.split("=", 1) for ln in r.body.decode().splitlines()
               if "=" in ln)
    assert env["SCRIPT_NAME"] == "/cgi-bin/env.sh"
    assert env["PATH_INFO"] == "/a/b"
    assert env["SCRIPT_FILENAME"] == os.path.realpath(docroot) + \
        "/cgi-bin/env.sh"
    assert env["PATH_TRANSLATED"] == os.path.realpath(docroot) + "/a/b"


def test_env_without_path_info_has_no_path_info(srv):
    r = one(srv, "/cgi-bin/env.sh")
    names = [ln.split("=", 1)[0] for ln in r.body.decode().splitlines()]
    assert "SCRIPT_NAME=/cgi-bin/env.sh" in r.body.decode().splitlines()
    assert "PATH_INFO" not in names and "PATH_TRANSLATED" not in names
    assert "QUERY_STRING" in names      # RFC 3875 4.1.7: always set


def test_env_inner_dot_segments_are_resolved_in_path_info(srv):
    e = cgi_env(srv, "/cgi-bin/testcgi/env/a/../b/./c")
    assert e["PATH_INFO"] == "/env/b/c"


def test_env_server_protocol_http10(srv):
    e = cgi_env(srv, version="1.0")
    assert e["SERVER_PROTOCOL"] == "HTTP/1.0"


def test_env_post_content_length_and_type(srv):
    r = one(srv, "/cgi-bin/testcgi/env", method="POST", body=b"a=1&b=2",
            extra="Content-Type: application/x-www-form-urlencoded\r\n")
    e = env_of(r)
    assert e["REQUEST_METHOD"] == "POST"
    assert e["CONTENT_LENGTH"] == "7"
    assert e["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert "HTTP_CONTENT_LENGTH" not in e and "HTTP_CONTENT_TYPE" not in e


def test_env_chunked_body_content_length_is_not_wrong(srv):
    # RFC 3875 4.1.2: CONTENT_LENGTH is the body's length. With a chunked
    # body that is unknown when the script starts: absent, never a lie.
    body = b"x" * 1000
    r = one(srv, "/cgi-bin/testcgi/env", method="POST", body=chunked(body),
            extra="Transfer-Encoding: chunked\r\n")
    e = env_of(r)
    assert e.get("CONTENT_LENGTH", "1000") == "1000", e.get("CONTENT_LENGTH")


def test_env_https_on_under_tls(cgi, tmp_path):
    tport = socket.socket()
    tport.bind(("127.0.0.1", 0))
    port = tport.getsockname()[1]
    tport.close()
    try:
        p = cgi(["tls_listen 127.0.0.1:%d" % port,
                 "tls_cert %s" % (tmp_path / "cert.pem"),
                 "tls_key %s" % (tmp_path / "key.pem"), "tls_autogen on"])
    except RuntimeError as e:
        pytest.skip("porch without TLS here: %s" % str(e)[:200])
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), 5 * SLOW) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(request_bytes("/cgi-bin/testcgi/env"))
            e = env_of(Reader(s).response())
    assert e["HTTPS"] == "on"
    assert e["SERVER_PORT"] == str(port)
    assert "HTTPS" not in cgi_env(p)


def test_env_auth_type_and_remote_user(cgi, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("u:$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0\n")
    p = cgi(["auth /cgi-bin/ Realm %s" % pw])
    assert one(p, "/cgi-bin/testcgi/env").status == 401
    e = cgi_env(p, extra="Authorization: Basic dTpzZWNyZXQ=\r\n")
    assert e["AUTH_TYPE"] == "Basic"
    assert e["REMOTE_USER"] == "u"
    assert "HTTP_AUTHORIZATION" not in e


def test_env_authorization_is_never_passed(srv):
    e = cgi_env(srv, extra="Authorization: Basic dTpzZWNyZXQ=\r\n"
                "Proxy-Authorization: Basic dTpzZWNyZXQ=\r\n")
    assert not [k for k in e if "AUTHORIZATION" in k]


def test_env_proxy_header_never_becomes_http_proxy(srv):
    e = cgi_env(srv, extra="Proxy: http://evil.test:3128/\r\n")
    assert "HTTP_PROXY" not in e
    assert not [v for v in e.values() if "evil.test" in v]


def test_env_connection_close_is_not_passed(srv):
    e = cgi_env(srv)                    # one() sends Connection: close
    assert "HTTP_CONNECTION" not in e


def test_env_hop_by_hop_fields_are_removed(srv):
    e = cgi_env(srv, extra="Connection: X-Hop, TE\r\nX-Hop: 1\r\n"
                "TE: trailers\r\nKeep-Alive: timeout=9\r\n"
                "Trailer: X-T\r\nProxy-Connection: keep-alive\r\n"
                "X-End: 2\r\n")
    for name in ("HTTP_X_HOP", "HTTP_TE", "HTTP_KEEP_ALIVE", "HTTP_TRAILER",
                 "HTTP_PROXY_CONNECTION", "HTTP_CONNECTION",
                 "HTTP_TRANSFER_ENCODING", "HTTP_UPGRADE"):
        assert name not in e, name
    assert e["HTTP_X_END"] == "2"


def test_env_repeated_field_is_joined(srv):
    e = cgi_env(srv, extra="X-Multi: a\r\nX-Multi: b\r\n")
    assert e["HTTP_X_MULTI"] == "a, b"


def test_env_colliding_field_names_are_rejected_with_400(srv):
    r = one(srv, "/cgi-bin/testcgi/env", extra="X-Foo: a\r\nX_Foo: b\r\n")
    assert r.status == 400


def test_env_field_names_with_other_characters_are_not_passed(srv):
    e = cgi_env(srv, extra="X.Dot: 1\r\nX~Tilde: 2\r\nX-Ok_9: 3\r\n")
    assert e["HTTP_X_OK_9"] == "3"
    assert not [k for k in e if "DOT" in k or "TILDE" in k or "." in k
                or "~" in k]


def test_env_porch_environment_does_not_leak(cgi):
    saved = os.environ.get("PORCH_SECRET")
    os.environ["PORCH_SECRET"] = "1"
    try:
        p = cgi()
    finally:
        if saved is None:
            del os.environ["PORCH_SECRET"]
        else:
            os.environ["PORCH_SECRET"] = saved
    e = cgi_env(p)
    assert "PORCH_SECRET" not in e
    assert e["PATH"] == CGI_PATH
    for leak in ("HOME", "USER", "PWD", "SHELL", "LANG", "TERM",
                 "PYTEST_CURRENT_TEST", "PORCH_BIN"):
        assert leak not in e, leak
    allowed = re.compile(r"(HTTP_[A-Z0-9_]+|PATH|GATEWAY_INTERFACE|SERVER_"
                         r"\w+|REQUEST_\w+|SCRIPT_\w+|DOCUMENT_ROOT|PATH_\w+|"
                         r"QUERY_STRING|REMOTE_\w+|CONTENT_\w+|AUTH_TYPE|"
                         r"HTTPS)")
    assert [k for k in e if not allowed.fullmatch(k)] == []


def test_script_runs_in_its_directory(srv, cgibin):
    r = one(srv, "/cgi-bin/testcgi/cwd")
    assert r.status == 200
    assert r.body.decode().strip() == os.path.realpath(cgibin)


# ---- request ids -----------------------------------------------------------

def id_check(p, responses):
    """Each response's X-Request-Id equals the CGI's REQUEST_ID; returns
    the ids, after checking each ends an access log line."""
    ids = []
    for r in responses:
        e = env_of(r)
        assert r.header_all("X-Request-Id") == [e["REQUEST_ID"]]
        ids.append(e["REQUEST_ID"])

    def logged():
        last = [ln.rsplit(" ", 1)[-1].strip('"')
                for ln in p.access().splitlines() if ln]
        return all(i in last for i in ids)
    assert wait_for(logged, 3 * SLOW), (ids, p.access()[-500:])
    return ids


def test_request_id_unique_over_pipelined_requests(srv):
    req = get(path="/cgi-bin/testcgi/env")
    rs = exchange(srv, req + req + request_bytes("/cgi-bin/testcgi/env"))
    assert len(rs) == 3
    ids = id_check(srv, rs)
    assert len(set(ids)) == 3


def batch_over_workers(p, nconn, rounds):
    """rounds x nconn requests, nconn connections open at once (so each
    round is served by nconn different workers). (responses, ppids)"""
    rs = []
    for _ in range(rounds):
        socks = [p.connect() for _ in range(nconn)]
        try:
            for s in socks:
                s.sendall(get(path="/cgi-bin/testcgi/env"))
            rs += [Reader(s).response() for s in socks]
        finally:
            for s in socks:
                s.close()
    return rs


def test_request_id_unique_across_workers(cgi):
    p = cgi(workers=4)
    p.wait_workers(4)
    rs = batch_over_workers(p, 4, 5)
    ids = id_check(p, rs)
    assert len(set(ids)) == len(ids) == 20


def test_request_id_unique_across_reload(cgi):
    p = cgi(workers=2)
    old = p.wait_workers(2)
    before = id_check(p, batch_over_workers(p, 2, 3))
    p.reload()
    p.wait_workers(2, exclude=old)
    wait_for(lambda: not set(old) & set(p.workers()))
    after = id_check(p, batch_over_workers(p, 2, 3))
    ids = before + after
    assert len(set(ids)) == len(ids) == 12


# ---- request bodies --------------------------------------------------------

def test_post_large_content_length_body_sha256(cgi):
    p = cgi(["max_body_size 64M"])
    body = os.urandom(8 * 1024 * 1024)
    r = one(p, "/cgi-bin/testcgi/sha256", method="POST", body=body)
    assert r.status == 200
    assert json.loads(r.body) == {"length": len(body), "sha256": sha(body)}


def test_post_large_chunked_body_sha256(cgi):
    p = cgi(["max_body_size 64M"])
    body = os.urandom(8 * 1024 * 1024 + 123)
    r = one(p, "/cgi-bin/testcgi/sha256", method="POST",
            body=chunked(body, 50000), extra="Transfer-Encoding: chunked\r\n")
    assert r.status == 200
    assert json.loads(r.body) == {"length": len(body), "sha256": sha(body)}


def test_post_large_body_echoed_back_byte_exact(cgi):
    # The script writes while porch still sends it input: no deadlock.
    p = cgi(["max_body_size 64M"])
    body = os.urandom(5 * 1024 * 1024)
    with p.connect(timeout=20 * SLOW) as s:
        t, res = sender(s, request_bytes("/cgi-bin/testcgi/echo",
                                         method="POST", body=body))
        r = Reader(s, 20 * SLOW).response()
        t.join(10)
    assert "error" not in res, res
    assert r.status == 200 and r.complete
    assert (r.header("Transfer-Encoding") or "").lower() == "chunked"
    assert len(r.body) == len(body) and sha(r.body) == sha(body)


def test_body_arriving_with_the_head_reaches_the_script(srv):
    # Head and a 20000-byte body in one segment: all of it is already in
    # porch's input buffer when the script starts.
    body = os.urandom(20000)
    r = one(srv, "/cgi-bin/testcgi/sha256", method="POST", body=body)
    assert r.status == 200
    assert json.loads(r.body) == {"length": len(body), "sha256": sha(body)}


def test_small_chunked_body_reaches_a_reading_script(srv):
    r = one(srv, "/cgi-bin/testcgi/sha256", method="POST",
            body=chunked(b"hello"), extra="Transfer-Encoding: chunked\r\n")
    assert r.status == 200
    assert json.loads(r.body) == {"length": 5, "sha256": sha(b"hello")}


@pytest.mark.parametrize("line", [
    b"5;", b"5 ", b"5;a ", b"5;a=", b"5;a=\"b", b"5;\x80", b"5;a b", b"5;;a",
    b"5;a=\"\x01\"",
], ids=["semicolon-only", "trailing-bws", "bws-after-name", "no-value",
        "open-quote", "obs-text-name", "two-names", "empty-extension",
        "ctl-in-quoted"])
def test_chunk_line_outside_the_grammar_is_400_to_a_reading_script(srv, line):
    """RFC 9112 7.1: the body a script consumes is de-chunked by the same
    strict parser: a size line outside the grammar is a 400 and a close."""
    r = one(srv, "/cgi-bin/testcgi/sha256", method="POST",
            body=line + b"\r\nhello\r\n0\r\n\r\n",
            extra="Transfer-Encoding: chunked\r\n")
    assert r.status == 400, r
    assert r.header("Connection") == "close"


def test_chunk_extensions_in_the_grammar_reach_a_reading_script(srv):
    r = one(srv, "/cgi-bin/testcgi/sha256", method="POST",
            body=b'5 ; a = b ;c="d\\"e"\r\nhello\r\n0;x\r\n\r\n',
            extra="Transfer-Encoding: chunked\r\n")
    assert r.status == 200
    assert json.loads(r.body) == {"length": 5, "sha256": sha(b"hello")}


def test_slow_client_body_is_not_cgi_silence(cgi):
    # DESIGN 2: cgi_timeout counts only while porch waits for the script;
    # while it waits for the client's body, io_timeout applies.
    p = cgi(["cgi_timeout 1"])
    with p.connect(timeout=10 * SLOW) as s:
        s.sendall(get(path="/cgi-bin/testcgi/sha256", method="POST",
                      extra="Content-Length: 4\r\nConnection: close\r\n"))

        def trickle():
            try:
                for b in b"abcd":
                    time.sleep(0.6)
                    s.sendall(bytes([b]))
            except OSError:
                pass
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        r = Reader(s).response()
        t.join(5)
    assert r.status == 200, r
    assert json.loads(r.body)["sha256"] == sha(b"abcd")


def test_slow_reading_script_gets_the_whole_body(srv):
    body = os.urandom(200 * 1024)
    r = one(srv, "/cgi-bin/testcgi/slowread/1", method="POST", body=body)
    assert json.loads(r.body) == {"length": len(body), "sha256": sha(body)}


def test_sh_script_reads_a_large_body(cgi):
    p = cgi(["max_body_size 16M"])
    body = os.urandom(3 * 1024 * 1024)
    r = one(p, "/cgi-bin/upload.sh", method="POST", body=body)
    assert r.status == 200
    assert r.body.decode().split() == [str(len(body)), sha(body)]


def test_curl_upload_20mb(cgi, tmp_path):
    p = cgi(["max_body_size 64M"])
    f = tmp_path / "upload.bin"
    data = os.urandom(20 * 1024 * 1024)
    f.write_bytes(data)
    out = subprocess.run(["curl", "-sS", "--fail", "-T", str(f),
                          p.url("/cgi-bin/testcgi/sha256")],
                         capture_output=True, timeout=60 * SLOW)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"length": len(data), "sha256": sha(data)}


def test_content_length_over_max_body_size_is_413_without_running(cgi):
    p = cgi(["max_body_size 1k"])
    r = one(p, "/cgi-bin/testcgi/stderr", method="POST", body=b"x" * 2000)
    assert r.status == 413
    assert "testcgi stderr" not in p.log()


def test_chunked_body_over_max_body_size_is_413(cgi):
    p = cgi(["max_body_size 1M"])
    data = chunked(os.urandom(2 * 1024 * 1024))
    with p.connect(timeout=10 * SLOW) as s:
        head = request_bytes("/cgi-bin/testcgi/sha256", method="POST",
                             extra="Transfer-Encoding: chunked\r\n")
        t, _ = sender(s, head + data)
        rd = Reader(s, 10 * SLOW)
        r = rd.response()
        assert r.status == 413
        assert rd.closed_within(5 * SLOW) and rd.buf == b""
        t.join(10)


def test_chunked_body_over_max_body_size_after_answer_closes(cgi):
    # echo answers at once, so the 413 can no longer be sent: porch must
    # end the connection without finishing the chunked response.
    p = cgi(["max_body_size 1M"])
    data = chunked(os.urandom(2 * 1024 * 1024))
    with p.connect(timeout=10 * SLOW) as s:
        head = request_bytes("/cgi-bin/testcgi/echo", method="POST",
                             extra="Transfer-Encoding: chunked\r\n")
        t, _ = sender(s, head + data)
        r = Reader(s, 10 * SLOW).response()
        t.join(10)
    assert r.status == 200
    assert not r.complete, "over-limit body echoed in full"
    assert len(r.body) <= 1024 * 1024 + 65536


# ---- Expect: 100-continue (DESIGN 3) ---------------------------------------

def recv_exactly_or_more(sock, n, timeout):
    sock.settimeout(timeout)
    data = b""
    try:
        while len(data) < n:
            b = sock.recv(n - len(data))
            if not b:
                break
            data += b
    except socket.timeout:
        pass
    return data


def test_expect_continue_sent_when_script_reads(srv):
    body = os.urandom(100000)
    head = get(path="/cgi-bin/testcgi/sha256", method="POST",
               extra="Content-Length: %d\r\nExpect: 100-continue\r\n"
               "Connection: close\r\n" % len(body))
    with srv.connect() as s:
        s.sendall(head)
        got = recv_exactly_or_more(s, len(CONTINUE), 3 * SLOW)
        assert got == CONTINUE
        s.settimeout(0.2)
        try:
            assert s.recv(100) == b"", "more than the 100 before the body"
        except socket.timeout:
            pass
        s.sendall(body)
        r = Reader(s).response()
    assert r.status == 200
    assert json.loads(r.body) == {"length": len(body), "sha256": sha(body)}


def test_expect_continue_not_sent_when_script_answers_401(cgi):
    p = cgi(["cgi_continue_wait 1000"])
    smuggled = b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
    body = smuggled + b"x" * (200 - len(smuggled))
    head = get(path="/cgi-bin/testcgi/401", method="POST",
               extra="Content-Length: 200\r\nExpect: 100-continue\r\n")
    with p.connect() as s:
        s.sendall(head)
        rd = Reader(s)
        r = rd.response()
        assert r.status == 401
        assert r.header("Connection", "").lower() == "close"
        assert r.body == b"unauthorized\n"
        try:
            s.sendall(body)     # the client sends it anyway
        except OSError:
            pass
        assert rd.closed_within(5 * SLOW)
        assert rd.buf == b"", "more after the 401: %r" % rd.buf
    assert "hello, world" not in p.access() and \
        "/hello.txt" not in p.access()
    assert one(p, "/cgi-bin/ok.sh").body == b"ok\n"


def test_expect_body_sent_without_waiting_is_served(srv):
    body = os.urandom(50000)
    req = get(path="/cgi-bin/testcgi/sha256", method="POST",
              extra="Content-Length: %d\r\nExpect: 100-continue\r\n"
              "Connection: close\r\n" % len(body)) + body
    with srv.connect() as s:
        s.sendall(req)
        rd = Reader(s)
        r = rd.response()
        if r.status == 100:             # allowed, though not needed
            r = rd.response()
    assert r.status == 200
    assert json.loads(r.body) == {"length": len(body), "sha256": sha(body)}


# ---- the script's header block (RFC 3875 6) --------------------------------

def test_status_field_sets_the_status(srv):
    r = one(srv, raw_path("Status: 404 Not Found\r\nContent-Type: text/plain"
                          "\r\n\r\nnope\n"))
    assert r.status == 404 and r.body == b"nope\n"


def test_location_absolute_is_302(srv):
    r = one(srv, "/cgi-bin/redirect.sh?abs")
    assert r.status == 302
    assert r.header("Location") == "http://example.com/elsewhere"


def test_location_absolute_with_status_keeps_the_status(srv):
    r = one(srv, "/cgi-bin/redirect.sh?abs301")
    assert r.status == 301
    assert r.header("Location") == "http://example.com/moved"


def test_location_local_serves_a_static_file(srv):
    r = one(srv, "/cgi-bin/redirect.sh/hello.txt")
    assert r.status == 200 and r.body == b"hello, world\n"
    assert r.header("Location") is None


def test_location_local_runs_another_cgi_as_get(srv):
    loc = "Location: /cgi-bin/testcgi/env?from=redirect\r\n\r\n"
    r = one(srv, raw_path(loc), method="POST", body=b"payload=1",
            extra="Content-Type: application/x-www-form-urlencoded\r\n")
    e = env_of(r)
    assert e["REQUEST_METHOD"] == "GET"
    assert e["SCRIPT_NAME"] == "/cgi-bin/testcgi"
    assert e["PATH_INFO"] == "/env"
    assert e["QUERY_STRING"] == "from=redirect"
    assert "CONTENT_LENGTH" not in e


def test_location_local_to_a_reading_cgi_gets_no_body(srv):
    # The redirected request is a GET: no body, so a script reading its
    # stdin sees EOF at once (the POST's body is not replayed or awaited).
    loc = "Location: /cgi-bin/testcgi/sha256\r\n\r\n"
    t0 = time.time()
    r = one(srv, raw_path(loc), method="POST", body=b"payload=1")
    assert r.status == 200, r
    assert json.loads(r.body)["length"] == 0
    assert time.time() - t0 < 3 * SLOW


def test_location_local_after_an_unread_body_closes_the_connection(srv):
    # The first script exits without reading a 512 KiB body made of
    # requests; after the redirected GET the rest must never be parsed.
    unit = b"GET /hello.txt?smuggled HTTP/1.1\r\nHost: x\r\nX-Pad: "
    unit += b"p" * (64 - len(unit) - 4) + b"\r\n\r\n"
    body = unit * 8192
    loc = raw_path("Location: /hello.txt\r\n\r\n")
    with srv.connect() as s:
        t, _ = sender(s, get(path=loc, method="POST", extra="Content-Length:"
                             " %d\r\n" % len(body)) + body)
        rd = Reader(s)
        r = rd.response()
        assert r.status == 200 and r.body == b"hello, world\n"
        assert rd.closed_within(5 * SLOW)
        assert rd.buf == b"", "body parsed as requests: %r" % rd.buf[:200]
        t.join(5)
    assert "smuggled" not in srv.access()


def test_location_local_with_body_is_a_client_redirect(srv):
    r = one(srv, "/cgi-bin/redirect.sh/hello.txt?local+body")
    assert r.status == 302
    assert r.header("Location") == "/hello.txt"


def test_content_type_alone_is_200(srv):
    r = one(srv, raw_path("Content-Type: text/x-test\r\n\r\nbody"))
    assert r.status == 200
    assert r.header("Content-Type") == "text/x-test"
    assert r.body == b"body"


def test_extra_fields_are_passed_through(srv):
    r = one(srv, raw_path("Content-Type: text/plain\r\nX-Custom: one two\r\n"
                          "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
                          "Cache-Control: no-store\r\n\r\nx"))
    assert r.header("X-Custom") == "one two"
    assert r.header_all("Set-Cookie") == ["a=1", "b=2"]
    assert r.header("Cache-Control") == "no-store"


def test_hop_and_server_fields_from_the_script_are_dropped(srv):
    out = ("Content-Type: text/plain\r\nConnection: close\r\n"
           "Keep-Alive: timeout=99\r\nTransfer-Encoding: chunked\r\n"
           "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\nServer: evil/6.6\r\n"
           "X-Request-Id: forged\r\nContent-Length: 2\r\n\r\nhi")
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(get(path=raw_path(out)))
        r = rd.response()
        assert r.status == 200 and r.body == b"hi"
        assert r.header("Transfer-Encoding") is None
        assert "1970" not in r.header("Date", "1970")
        assert "evil" not in r.header("Server", "")
        assert r.header_all("X-Request-Id") not in ([], ["forged"])
        assert len(r.header_all("X-Request-Id")) == 1
        assert "timeout=99" not in (r.header("Keep-Alive") or "")
        assert r.header("Connection", "").lower() != "close"
        s.sendall(get(path="/cgi-bin/ok.sh"))
        assert rd.response().body == b"ok\n"


@pytest.mark.parametrize("out", [
    "Content-Type text/plain\r\n\r\nx",             # no colon
    "Bad Name: x\r\nContent-Type: text/plain\r\n\r\nx",
    " X-Folded: x\r\nContent-Type: text/plain\r\n\r\nx",
    ": empty\r\nContent-Type: text/plain\r\n\r\nx",
    "Status: abc\r\nContent-Type: text/plain\r\n\r\nx",
    "Status: 99 Low\r\nContent-Type: text/plain\r\n\r\nx",
    "Content-Length: 1x\r\nContent-Type: text/plain\r\n\r\nx",
    "X-Nul: a\x00b\r\nContent-Type: text/plain\r\n\r\nx",
    "X-Cr: a\rb\r\nContent-Type: text/plain\r\n\r\nx",
])
def test_bad_header_is_502(srv, out):
    r = one(srv, raw_path(out))
    assert r.status == 502


@pytest.mark.parametrize("out", [
    "",                                  # nothing at all
    "just a body, no header\n",          # no header block end
    "\r\nbody after an empty block\n",   # no type, location or status
    "X-Only: x\r\n\r\nbody\n",
])
def test_no_header_is_502(srv, out):
    r = one(srv, raw_path(out))
    assert r.status == 502


def test_script_content_length_is_honoured(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(get(path=raw_path("Content-Type: text/plain\r\n"
                                    "Content-Length: 5\r\n\r\nhello")))
        r = rd.response()
        assert r.header("Content-Length") == "5"
        assert r.header("Transfer-Encoding") is None
        assert r.body == b"hello"
        s.sendall(get(path="/cgi-bin/ok.sh"))
        assert rd.response().body == b"ok\n"


def test_script_body_shorter_than_its_length_closes(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(get(path=raw_path("Content-Type: text/plain\r\n"
                                    "Content-Length: 10\r\n\r\nabc")))
        r = rd.response()
        assert r.header("Content-Length") == "10"
        assert r.body == b"abc" and not r.complete


def test_script_body_longer_than_its_length_is_cut_and_closes(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(get(path=raw_path("Content-Type: text/plain\r\n"
                                    "Content-Length: 3\r\n\r\nabcdefgh")))
        r = rd.response()
        assert r.body == b"abc"
        assert rd.closed_within(3 * SLOW), "connection kept open"
        assert rd.buf == b"", "extra bytes: %r" % rd.buf


# ---- output framing --------------------------------------------------------

def test_output_without_length_is_chunked_on_http11(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(get(path="/cgi-bin/ok.sh"))
        r = rd.response()
        assert r.header("Transfer-Encoding", "").lower() == "chunked"
        assert r.header("Content-Length") is None
        assert r.body == b"ok\n" and r.complete


def test_output_without_length_is_close_delimited_on_http10(srv):
    with srv.connect() as s:
        s.sendall(get(path="/cgi-bin/ok.sh", version="1.0",
                      extra="Connection: keep-alive\r\n"))
        rd = Reader(s)
        r = rd.response()
        assert r.header("Transfer-Encoding") is None
        assert r.header("Content-Length") is None
        assert r.header("Connection", "").lower() != "keep-alive"
        assert r.body == b"ok\n"
        assert rd.eof, "HTTP/1.0 connection left open"


def test_head_gets_headers_only(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(get(path="/cgi-bin/ok.sh", method="HEAD"))
        r = rd.response(head=True)
        assert r.status == 200 and r.header("Content-Type") == "text/plain"
        assert r.header("Transfer-Encoding") is None
        s.sendall(get(path="/hello.txt"))
        r = rd.response()               # no stray body bytes before it
        assert r.status == 200 and r.body == b"hello, world\n"


def test_head_with_the_script_content_length_keeps_the_connection(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(get(path="/cgi-bin/testcgi/env", method="HEAD"))
        r = rd.response(head=True)
        assert r.status == 200
        assert r.header("Content-Type") == "application/json"
        assert int(r.header("Content-Length")) > 0
        assert r.header("Connection", "").lower() != "close"
        s.sendall(get(path="/hello.txt"))
        r = rd.response()
        assert r.status == 200 and r.body == b"hello, world\n"


def test_keepalive_continues_after_a_framed_cgi_response(srv):
    with srv.connect() as s:
        rd = Reader(s)
        s.sendall(get(path="/cgi-bin/ok.sh"))
        assert rd.response().body == b"ok\n"
        body = b"z" * 5000
        s.sendall(get(path="/cgi-bin/testcgi/sha256", method="POST",
                      extra="Content-Length: 5000\r\n") + body)
        assert json.loads(rd.response().body)["sha256"] == sha(body)
        s.sendall(get(path="/cgi-bin/testcgi/env"))
        assert env_of(rd.response())["REQUEST_METHOD"] == "GET"


def test_nph_output_is_passed_through_raw_and_closes(srv, cgibin):
    expect = subprocess.run(["sh", os.path.join(cgibin, "nph-raw.sh")],
                            capture_output=True).stdout
    with srv.connect() as s:
        s.sendall(get(path="/cgi-bin/nph-raw.sh"))   # keep-alive asked
        rd = Reader(s)
        closed = rd.closed_within(5 * SLOW)
    assert rd.buf == expect
    assert closed


# ---- what cannot run -------------------------------------------------------

def test_missing_script_is_404(srv):
    assert one(srv, "/cgi-bin/no-such-script").status == 404


def test_non_executable_file_is_403(srv, cgibin):
    path = os.path.join(cgibin, "plain.sh")
    shutil.copy(os.path.join(cgibin, "ok.sh"), path)
    os.chmod(path, 0o644)
    r = one(srv, "/cgi-bin/plain.sh")
    assert r.status == 403
    assert b"Content-Type" not in r.body


@pytest.mark.parametrize("path", ["/cgi-bin/subdir", "/cgi-bin/subdir/",
                                  "/cgi-bin/"])
def test_directory_is_403(srv, cgibin, path):
    os.makedirs(os.path.join(cgibin, "subdir"), exist_ok=True)
    assert one(srv, path).status == 403


def test_cgi_ext_runs_outside_cgi_bin(porch, docroot, testcgi_bin):
    os.makedirs(os.path.join(docroot, "app"))
    shutil.copy(testcgi_bin, os.path.join(docroot, "app/t.cgi"))
    os.chmod(os.path.join(docroot, "app/t.cgi"), 0o755)
    p = porch(conf_lines=["cgi_ext .cgi"])
    e = cgi_env(p, "/app/t.cgi/env?q=1")
    assert e["SCRIPT_NAME"] == "/app/t.cgi"
    assert e["PATH_INFO"] == "/env"
    assert e["QUERY_STRING"] == "q=1"


@pytest.mark.parametrize("path", [
    "/cgi-bin/testcgi/env/../../../../etc/passwd",
    "/cgi-bin/testcgi/env/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/cgi-bin/testcgi/env/..%2f..%2f..%2f..%2fetc/passwd",
])
def test_dot_dot_in_path_info_cannot_escape(srv, path):
    assert one(srv, path).status == 400


# ---- stderr, timeouts, disconnects, process groups -------------------------

def test_stderr_lines_reach_the_error_log(srv):
    assert one(srv, "/cgi-bin/testcgi/stderr").body == b"ok\n"
    assert one(srv, "/cgi-bin/stderr.sh").body == b"ok\n"

    def logged():
        log = srv.log()
        return all(re.search(r"cgi /cgi-bin/%s: %s(,|$)" % (path, line),
                             log, re.M)
                   for path, line in (
                       (r"testcgi/stderr", "testcgi stderr line one"),
                       (r"testcgi/stderr", "testcgi stderr line two"),
                       (r"stderr\.sh", "sh stderr first"),
                       (r"stderr\.sh", "sh stderr second")))
    assert wait_for(logged, 3 * SLOW), srv.log()[-1500:]


def assert_all_gone(p, needle, timeout=5 * SLOW):
    left = wait_for(lambda: not procs_running(needle), timeout)
    assert left, "left running: %r" % procs_running(needle)
    assert wait_for(lambda: not zombies_of(porch_pids(p)), 3 * SLOW), \
        "zombies: %r" % zombies_of(porch_pids(p))


def test_timeout_silent_script_is_504_and_killed(cgi, cgibin):
    p = cgi(["cgi_timeout 1"])
    t0 = time.time()
    r = one(p, "/cgi-bin/testcgi/sleep/30")
    took = time.time() - t0
    assert r.status == 504
    assert 0.9 <= took <= 4 * SLOW, took
    assert_all_gone(p, os.path.join(cgibin, "testcgi"))


def test_timeout_kills_the_sh_script_and_its_sleep(cgi, cgibin):
    p = cgi(["cgi_timeout 1"])
    r = one(p, "/cgi-bin/sleep.sh?47")
    assert r.status == 504
    assert_all_gone(p, os.path.join(cgibin, "sleep.sh"))
    assert wait_for(lambda: not procs_running("sleep\x0047"), 3 * SLOW)


def test_timeout_kills_the_grandchild_too(cgi, cgibin):
    p = cgi(["cgi_timeout 1"])
    needle = os.path.join(cgibin, "testcgi")
    seen = {}

    def watch():    # both processes must have existed
        while "done" not in seen:
            n = len(procs_running(needle))
            seen["max"] = max(seen.get("max", 0), n)
            time.sleep(0.05)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    t0 = time.time()
    r = one(p, "/cgi-bin/testcgi/fork/30")
    seen["done"] = True
    t.join()
    assert r.status == 504
    assert time.time() - t0 <= 4 * SLOW
    assert seen["max"] >= 2
    assert_all_gone(p, needle)


def test_timeout_after_output_closes_the_connection(cgi, cgibin):
    p = cgi(["cgi_timeout 1"])
    t0 = time.time()
    with p.connect() as s:
        s.sendall(get(path="/cgi-bin/testcgi/partial/30"))
        r = Reader(s).response()
    assert r.status == 200
    assert r.body == b"partial\n" and not r.complete
    assert time.time() - t0 <= 4 * SLOW
    assert_all_gone(p, os.path.join(cgibin, "testcgi"))


def test_client_disconnect_mid_output_kills_the_script(srv, cgibin):
    needle = os.path.join(cgibin, "testcgi")
    with srv.connect() as s:
        s.sendall(get(path="/cgi-bin/testcgi/flood"))
        got = 0
        while got < 256 * 1024:
            got += len(s.recv(65536))
        assert procs_running(needle)
    assert_all_gone(srv, needle)
    assert one(srv, "/cgi-bin/ok.sh").body == b"ok\n"


def test_finished_scripts_leave_no_zombies(srv, cgibin):
    for _ in range(5):
        assert one(srv, "/cgi-bin/ok.sh").body == b"ok\n"
    with srv.connect() as s:        # the worker stays in this connection
        rd = Reader(s)
        for _ in range(5):
            s.sendall(get(path="/cgi-bin/ok.sh"))
            assert rd.response().body == b"ok\n"
        time.sleep(0.3)
        assert zombies_of(porch_pids(srv)) == []


def test_sh_scripts_work_under_busybox_sh(srv, cgibin):
    # The firmware's /bin/sh is BusyBox: the same scripts, run by it.
    if not os.path.exists("/bin/busybox"):
        pytest.skip("no /bin/busybox")
    for name in ("ok.sh", "upload.sh", "redirect.sh", "env.sh"):
        with open(os.path.join(cgibin, name)) as f:
            text = f.read()
        assert text.startswith("#!/bin/sh\n")
        path = os.path.join(cgibin, "bb-" + name)
        with open(path, "w") as f:
            f.write("#!/bin/busybox sh\n" + text.split("\n", 1)[1])
        os.chmod(path, 0o755)
    assert one(srv, "/cgi-bin/bb-ok.sh").body == b"ok\n"
    body = os.urandom(300000)
    r = one(srv, "/cgi-bin/bb-upload.sh", method="POST", body=body)
    assert r.body.decode().split() == [str(len(body)), sha(body)]
    assert one(srv, "/cgi-bin/bb-redirect.sh/hello.txt").body == \
        b"hello, world\n"
    r = one(srv, "/cgi-bin/bb-env.sh/x/y")
    assert "PATH_INFO=/x/y" in r.body.decode().splitlines()
