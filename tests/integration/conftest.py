"""Fixtures for porch's integration tests: the real binary on 127.0.0.1.

PORCH_BIN   the binary under test (default build/host/porch)
PORCH_QEMU  an emulator to run it with (qemu-arm-static ...), or empty

Every server runs in its own session (setsid) and is stopped by its process
group, so no worker outlives a test.
"""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORCH_BIN = os.environ.get("PORCH_BIN") or os.path.join(ROOT, "build/host/porch")
PORCH_QEMU = os.environ.get("PORCH_QEMU", "").strip()
PORCH_SANITIZE = bool(os.environ.get("PORCH_SANITIZE"))
# Time bounds in tests scale with this: under qemu-user everything is
# several times slower, under ASan+UBSan about twice.
SLOW = 4.0 if PORCH_QEMU else 2.0 if PORCH_SANITIZE else 1.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_docroot(path):
    """The standard document root every test can rely on."""
    os.makedirs(path, exist_ok=True)

    def put(rel, data):
        full = os.path.join(path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    put("index.html", "<!DOCTYPE html><title>porch</title><h1>hello</h1>\n")
    put("1k.bin", bytes(range(256)) * 4)
    put("100k.bin", os.urandom(100 * 1024))
    put("big.bin", os.urandom(3 * 1024 * 1024))
    put("empty.txt", b"")
    put("hello.txt", "hello, world\n")
    put("style.css", "body { color: #333; }\n" * 20)
    put("app.js", "console.log('porch');\n" * 20)
    put("data.json", '{"ok": true}\n')
    put("sub/index.html", "<h1>sub</h1>\n")
    put("sub/page.html", "<h1>page</h1>\n")
    put("noindex/file.txt", "x\n")
    put("with space.txt", "space\n")
    put(".hidden", "secret\n")
    put(".git/config", "secret\n")
    put("sub/.htpasswd", "secret\n")
    import gzip
    css = open(os.path.join(path, "style.css"), "rb").read()
    put("style.css.gz", gzip.compress(css, mtime=0))
    outside = os.path.join(os.path.dirname(path), "outside.txt")
    with open(outside, "w") as f:
        f.write("outside the root\n")
    for name, target in (("escape", outside), ("escape-rel", "../outside.txt"),
                         ("inside-link.txt", "hello.txt")):
        link = os.path.join(path, name)
        if not os.path.lexists(link):
            os.symlink(target, link)
    return path


class Porch:
    """One running porch: its master pid, port, files and helpers."""

    def __init__(self, tmp, docroot, conf_lines=(), args=(), workers=2,
                 listen=None, wait=True, conf_name="porch.conf"):
        self.tmp = str(tmp)
        self.docroot = docroot
        self.port = free_port()
        self.host = "127.0.0.1"
        self.error_log = os.path.join(self.tmp, "error.log")
        self.access_log = os.path.join(self.tmp, "access.log")
        self.conf_path = os.path.join(self.tmp, conf_name)
        self.pid_file = os.path.join(self.tmp, "porch.pid")
        listen = listen or ["127.0.0.1:%d" % self.port]
        lines = ["listen %s" % l for l in listen] + [
            "root %s" % docroot,
            "workers %d" % workers,
            "allow_root on",
            "error_log %s" % self.error_log,
            "access_log %s" % self.access_log,
            "pid_file %s" % self.pid_file,
        ] + list(conf_lines)
        self.write_conf(lines)
        self.args = list(args)
        self.nworkers = self.configured_workers(lines, self.args)
        # with cgi_user (and root), the master has a CGI launcher too
        self.nlaunchers = 1 if os.geteuid() == 0 and any(
            l.split()[:1] == ["cgi_user"] for l in lines) else 0
        self.proc = None
        self.start(wait)

    @staticmethod
    def configured_workers(lines, args):
        """The pool size porch will run: the last "workers" line, unless
        -w or -o 'workers N' on the command line overrides it."""
        n = 2
        for line in lines:
            words = line.split()
            if len(words) == 2 and words[0] == "workers":
                n = int(words[1])
        for i, a in enumerate(args):
            if a == "-w" and i + 1 < len(args):
                n = int(args[i + 1])
            elif a == "-o" and i + 1 < len(args) and \
                    re.match(r"workers[ =]\d+$", args[i + 1]):
                n = int(re.split("[ =]", args[i + 1])[1])
        return n

    def write_conf(self, lines):
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def command(self, *extra):
        cmd = [PORCH_BIN, "-c", self.conf_path] + self.args + list(extra)
        return ([PORCH_QEMU] + cmd) if PORCH_QEMU else cmd

    def start(self, wait=True):
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self.stderr,
                                     stderr=self.stderr, start_new_session=True)
        self.pid = self.proc.pid
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=10 * SLOW):
        """Returns once porch listens and every configured worker waits in
        accept. No probe connection: one would be counted, or linger in the
        accept queue and look like pool pressure to the test that
        follows."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("porch exited with %s: %s" % (
                    self.proc.returncode, self.read(self.stderr_path)))
            if self.listening() and self.pool_settled():
                return
            time.sleep(0.02)
        raise RuntimeError("porch did not start its %d workers: %r, %s" % (
            self.nworkers, self.worker_states(),
            self.read(self.stderr_path)))

    def worker_states(self):
        """{pid: True when it waits in accept} for the master's children."""
        return {w: accepting(w) for w in self.workers()}

    def pool_settled(self):
        """Exactly the configured workers, each waiting in accept: no old
        generation finishing, no worker still starting or serving (and
        the CGI launcher, when there is one)."""
        states = self.worker_states()
        return len(states) == self.nworkers + self.nlaunchers and \
            sum(states.values()) == self.nworkers

    def wait_settled(self, timeout=10 * SLOW, what="the pool to settle"):
        """After a reload, a killed worker or a load: waits until the pool
        is back to exactly its configured, idle workers."""
        wait_for(self.pool_settled, timeout, what)
        return sorted(self.workers())

    def listening(self):
        """True when the port is in LISTEN state (/proc/net/tcp{,6})."""
        want = ":%04X " % self.port
        for name in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(name) as f:
                    for line in f:
                        cols = line.split()
                        if len(cols) > 3 and cols[3] == "0A" and \
                                (cols[1] + " ").endswith(want):
                            return True
            except OSError:
                pass
        return False

    @staticmethod
    def read(path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log(self):
        return self.read(self.error_log)

    def access(self):
        return self.read(self.access_log)

    def workers(self):
        """Pids of the master's children."""
        try:
            with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as f:
                return [int(p) for p in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
        kids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                except OSError:
                    continue
                if int(st.rsplit(")", 1)[1].split()[1]) == self.pid:
                    kids.append(int(d))
        return kids

    def wait_workers(self, n, timeout=10 * SLOW, exclude=()):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ws = [w for w in self.workers() if w not in exclude]
            if len(ws) >= n:
                return ws
            time.sleep(0.02)
        raise AssertionError("expected %d workers, have %r" % (n, self.workers()))

    def wait_reloads(self, n, timeout=10 * SLOW):
        """After n HUPs (the last perhaps just sent): waits until the master
        has carried out all n and the pool is the new generation alone.
        Returns the status then."""
        wait_for(lambda: self.status()["reloads"] >= n and self.pool_settled(),
                 timeout, "%d reloads and a settled pool" % n)
        return self.status()

    def send_signal(self, sig):
        os.kill(self.pid, sig)

    def reload(self):
        self.send_signal(signal.SIGHUP)

    def stop(self, sig=signal.SIGTERM, timeout=15 * SLOW):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.kill(self.pid, sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill_group()

    def kill_group(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.stderr.close()

    def url(self, path="/"):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def connect(self, timeout=5 * SLOW):
        s = socket.create_connection((self.host, self.port), timeout)
        s.settimeout(timeout)
        return s

    def status(self):
        import json
        import urllib.request
        with urllib.request.urlopen(self.url("/server-status"), timeout=5 * SLOW) as r:
            return json.loads(r.read())


def accepting(pid):
    """True when pid sleeps in epoll_wait: a porch worker's only epoll
    wait is its accept loop (os_accept), every other wait is a poll. Under
    qemu-user the emulator makes the same host call."""
    try:
        with open("/proc/%d/wchan" % pid) as f:
            wchan = f.read().strip()
    except OSError:
        return False
    if wchan not in ("", "0"):
        return wchan in ("do_epoll_wait", "ep_poll")
    try:    # wchan hidden (kptr_restrict): the syscall number
        with open("/proc/%d/syscall" % pid) as f:
            nr = f.read().split()[0]
    except (OSError, IndexError):
        return False
    return nr in ("232", "281")     # x86_64 epoll_wait, epoll_pwait


@pytest.fixture
def docroot(tmp_path):
    return make_docroot(str(tmp_path / "www"))


@pytest.fixture
def porch(tmp_path, docroot):
    """A factory: porch(conf_lines=[...], args=[...], workers=N)."""
    started = []

    def start(conf_lines=(), args=(), workers=2, **kw):
        p = Porch(tmp_path / ("run%d" % len(started)) if started else tmp_path,
                  docroot, conf_lines, args, workers, **kw)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def server(porch):
    """A default porch: 2 workers, the standard docroot."""
    return porch()


# ---- raw HTTP over sockets -------------------------------------------------

def recv_until_close(sock, timeout=5 * SLOW):
    sock.settimeout(timeout)
    chunks = []
    while True:
        try:
            b = sock.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value)
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.headers)


def parse_responses(data, head_only=()):
    """Splits bytes into responses. head_only: indexes of HEAD requests."""
    out = []
    i = 0
    while i < len(data):
        end = data.find(b"\r\n\r\n", i)
        if end < 0:
            raise AssertionError("truncated response head: %r" % data[i:i + 200])
        head = data[i:end].decode("latin-1")
        lines = head.split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)$", lines[0])
        assert m, "bad status line %r" % lines[0]
        status = int(m.group(1))
        headers = []
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers.append((k.strip(), v.strip()))
        i = end + 4
        r = Response(status, m.group(2), headers, b"", head)
        if status >= 200 and len(out) not in head_only and status not in (204, 304):
            cl = r.header("Content-Length")
            if cl is not None:
                r.body = data[i:i + int(cl)]
                i += int(cl)
            elif (r.header("Transfer-Encoding") or "").lower() == "chunked":
                body = b""
                while True:
                    e = data.index(b"\r\n", i)
                    size = int(data[i:e].split(b";")[0], 16)
                    i = e + 2
                    if size == 0:
                        e = data.index(b"\r\n\r\n", i - 2)
                        i = e + 4
                        break
                    body += data[i:i + size]
                    i += size + 2
                r.body = body
            else:
                r.body = data[i:]
                i = len(data)
        out.append(r)
    return out


def exchange(server, data, timeout=5 * SLOW, head_only=()):
    """Sends raw bytes, reads until the server closes, parses responses."""
    with server.connect(timeout) as s:
        s.sendall(data)
        raw = recv_until_close(s, timeout)
    return parse_responses(raw, head_only)


def read_response(sock, head_request=False, timeout=5 * SLOW):
    """Reads exactly one response from a keep-alive connection."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = sock.recv(65536)
        if not b:
            raise ConnectionError("closed before a response head: %r" % buf)
        buf += b
    end = buf.index(b"\r\n\r\n") + 4
    head = buf[:end]
    rest = buf[end:]
    m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    status = int(head[9:12])
    if head_request or status in (204, 304) or 100 <= status < 200:
        need = 0
    else:
        need = int(m.group(1)) if m else None
    if need is None:
        while True:
            b = sock.recv(65536)
            if not b:
                break
            rest += b
        need = len(rest)
    while len(rest) < need:
        b = sock.recv(65536)
        if not b:
            raise ConnectionError("closed mid-body")
        rest += b
    assert len(rest) == need, "extra bytes after response: %r" % rest[need:need + 100]
    return parse_responses(head + rest[:need], head_only=(0,) if head_request else ())[0]


def refused_before_body(server, head, timeout=3 * SLOW):
    """Sends a head with Expect: 100-continue and no body; the responses
    up to the close, after checking that no 100 came: the refusal was
    made from the head."""
    with server.connect() as s:
        s.sendall(head)
        s.settimeout(timeout)
        raw = recv_until_close(s, timeout)
    assert b"100 Continue" not in raw
    rs = parse_responses(raw)
    assert len(rs) == 1, rs
    assert rs[0].header("Connection") == "close"
    return rs[0]


def crypt_hash(password, flag="-6"):
    """A crypt(3) hash of password, as a password file holds it."""
    r = subprocess.run(["openssl", "passwd", flag, password],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def install_cgi(docroot, name, text):
    """Writes an executable script into the docroot's cgi-bin/."""
    d = os.path.join(docroot, "cgi-bin")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def get(host_header="127.0.0.1", path="/", extra="", version="1.1", method="GET"):
    return ("%s %s HTTP/%s\r\nHost: %s\r\n%s\r\n" % (
        method, path, version, host_header, extra)).encode()


def settled_fds(pid):
    """A process's open descriptors, sorted, once the table has stopped
    changing for 3 looks 50 ms apart (a connection just answered may still
    be closing)."""
    def table():
        return sorted(int(fd) for fd in os.listdir("/proc/%d/fd" % pid))
    last, stable = table(), 0
    while stable < 3:
        time.sleep(0.05)
        now = table()
        stable = stable + 1 if now == last else 0
        last = now
    return last


def wait_for(pred, timeout=5 * SLOW, what="condition"):
    """pred()'s first true value, polled every 20 ms; fails the test when
    timeout passes without one."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)
