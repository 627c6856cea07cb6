"""Helpers for the tests of porch's HTTPS (test_tls_*.py beside this file):
a porch with a TLS listener, openssl and Python clients, certificates, and
a relay that delays each direction of a connection.

PORCH_BIN       porch under test (default build/host/porch)
PORCH_TLS0_BIN  the same built with TLS=0 (default build/host-tls0/porch)
PORCH_QEMU      an emulator to run them with (qemu-arm-static ...), or empty

Every server runs in its own session and is stopped by its process group.
"""
import collections
import hashlib
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

from tlshelp import free_port, stop_group  # noqa: F401 (free_port: for the tests)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORCH = os.environ.get("PORCH_BIN") or os.path.join(ROOT, "build/host/porch")
PORCH_TLS0 = os.environ.get("PORCH_TLS0_BIN") or os.path.join(
    ROOT, "build/host-tls0/porch")
QEMU = os.environ.get("PORCH_QEMU", "").strip()
SLOW = 4.0 if QEMU else 1.0


def listening(port):
    want = ":%04X " % port
    with open("/proc/net/tcp") as f:
        return any(len(c) > 3 and c[3] == "0A" and (c[1] + " ").endswith(want)
                   for c in (line.split() for line in f))


def run_porch(*args, timeout=60):
    """porch ARGS... to its end: (status, stdout, stderr)."""
    p = subprocess.run(([QEMU] if QEMU else []) + [PORCH] + list(args),
                       capture_output=True, text=True, timeout=timeout * SLOW)
    return p.returncode, p.stdout, p.stderr


class Porch:
    """porch with a plain and a TLS listener on 127.0.0.1."""

    def __init__(self, tmp, cert, key, lines=(), workers=2, binary=None):
        self.tmp = str(tmp)
        self.www = os.path.join(self.tmp, "www")
        os.makedirs(self.www, exist_ok=True)
        with open(os.path.join(self.www, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><title>porch</title>\n")
        big = os.path.join(self.www, "big.bin")
        if not os.path.exists(big):
            with open(big, "wb") as f:
                f.write(os.urandom(4 * 1024 * 1024))
        self.port, self.tls_port = free_port(), free_port()
        self.conf = os.path.join(self.tmp, "porch.conf")
        self.error_log = os.path.join(self.tmp, "error.log")
        self.binary = binary or PORCH
        self.nworkers = workers
        self.lines = ["listen 127.0.0.1:%d" % self.port,
                      "tls_listen 127.0.0.1:%d" % self.tls_port,
                      "tls_cert %s" % cert, "tls_key %s" % key,
                      "root %s" % self.www, "workers %d" % workers,
                      "allow_root on", "keepalive_timeout 30",
                      "error_log %s" % self.error_log] + list(lines)
        self.write_conf()
        self.proc = None
        self.start()

    def write_conf(self, extra=()):
        with open(self.conf, "w") as f:
            f.write("\n".join(self.lines + list(extra)) + "\n")

    def start(self):
        self.out = open(os.path.join(self.tmp, "stderr.log"), "ab")
        self.proc = subprocess.Popen(([QEMU] if QEMU else []) + [
            self.binary, "-c", self.conf], stdout=self.out, stderr=self.out,
            start_new_session=True)
        deadline = time.monotonic() + 15 * SLOW
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("porch exited %d: %s" % (
                    self.proc.returncode, self.stderr()))
            # Every worker forked, then a moment to reach accept() (a
            # worker still starting would look like pool pressure).
            if listening(self.tls_port) and \
                    len(self.workers()) >= self.nworkers:
                time.sleep(0.1 * SLOW)
                return
            time.sleep(0.02)
        raise RuntimeError("porch did not start: " + self.stderr())

    def stderr(self):
        with open(os.path.join(self.tmp, "stderr.log"), errors="replace") as f:
            return f.read()

    def log(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def workers(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid,
                                                     self.proc.pid)) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def wait_workers(self, n, exclude=(), timeout=15):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            ws = [w for w in self.workers() if w not in exclude]
            if len(ws) >= n:
                return ws
            time.sleep(0.02)
        raise AssertionError("expected %d new workers, have %r" % (
            n, self.workers()))

    def reload(self, expect_ok=True, wait_old=True):
        """HUP; waits for the new generation to replace the old one (or,
        wait_old False, only to exist), or for the failure line."""
        before = set(self.workers())
        marks = self.log().count("reload failed")
        os.kill(self.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 15 * SLOW
        while time.monotonic() < deadline:
            if self.log().count("reload failed") > marks:
                assert not expect_ok, self.log()
                return
            now = set(self.workers())
            if expect_ok and len(now - before) >= 2 and \
                    (not wait_old or not now & before):
                return
            time.sleep(0.02)
        raise AssertionError("reload did not finish: " + self.log())

    def stop(self):
        if self.proc is None:
            return None
        rc = stop_group(self.proc, 15 * SLOW)
        self.out.close()
        self.proc = None
        return rc


# ---- clients

def client_context(version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version:
        v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
        ctx.minimum_version = ctx.maximum_version = v
    return ctx


def read_response(s):
    """One response (Content-Length framed) from a socket: (head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response: %r" % data)
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    need = int(m.group(1)) if m else 0
    while len(body) < need:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed mid-body")
        body += chunk
    return head.decode("latin-1"), body


def https_get(port, path="/", version=None, timeout=10, sock=None):
    """A GET over a new TLS connection: (head, body)."""
    raw = sock or socket.create_connection(("127.0.0.1", port),
                                           timeout=timeout * SLOW)
    raw.settimeout(timeout * SLOW)
    with client_context(version).wrap_socket(raw) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                   % path).encode())
        return read_response(s)


def s_client(port, *args, request=b"GET / HTTP/1.1\r\nHost: x\r\n"
             b"Connection: close\r\n\r\n", timeout=20):
    p = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port, "-ign_eof"] + list(args),
                       input=request, capture_output=True,
                       timeout=timeout * SLOW)
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def served_cert_sha256(port):
    pem = ssl.get_server_certificate(("127.0.0.1", port),
                                     timeout=10 * SLOW)
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def file_cert_sha256(path):
    with open(path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def worker_serial(head):
    """The fork serial in X-Request-Id ("boot-serial-n"): who served."""
    m = re.search(r"(?im)^x-request-id: *[0-9a-f]+-([0-9a-f]+)-[0-9a-f]+",
                  head)
    return m.group(1) if m else None


class KeepAlive:
    """A TLS keep-alive connection parked after one request: it holds a
    worker until closed."""

    def __init__(self, port):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
        self.s = client_context().wrap_socket(raw)
        self.s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.head, _ = read_response(self.s)
        assert "keep-alive" in self.head.lower(), self.head

    def close(self):
        self.s.close()


# ---- certificates

def gen_ec(d, name, curve="prime256v1", days=30):
    key, cert = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:" + curve, "-nodes", "-subj",
                    "/CN=" + name, "-days", str(days), "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    return cert, key


def gen_expired(d, name):
    """A self-signed pair whose certificate expired yesterday."""
    key, cert = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    csr = os.path.join(d, name + ".csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                    "/CN=" + name, "-keyout", key, "-out", csr],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-signkey", key,
                    "-days", "-1", "-out", cert], check=True,
                   capture_output=True)
    return cert, key


def install_pair(src, dst):
    """Copies a (cert, key) pair over dst's files, each by rename, the way
    a renewal script replaces them."""
    for a, b in zip(src, dst):
        with open(a, "rb") as f:
            data = f.read()
        with open(b + ".new", "wb") as f:
            f.write(data)
        os.rename(b + ".new", b)


# ---- a network with latency

class DelayRelay:
    """127.0.0.1:port relays to target_port, every byte delayed by delay
    seconds in each direction (order kept): a client on a slow network,
    since this kernel has no netem."""

    def __init__(self, target_port, delay):
        self.target, self.delay = target_port, delay
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            try:
                t = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            for a, b in ((c, t), (t, c)):
                q = collections.deque()
                cv = threading.Condition()
                threading.Thread(target=self._read, args=(a, q, cv),
                                 daemon=True).start()
                threading.Thread(target=self._write, args=(b, q, cv),
                                 daemon=True).start()

    def _read(self, src, q, cv):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            with cv:
                q.append((time.monotonic() + self.delay, data))
                cv.notify()
            if not data:
                return

    def _write(self, dst, q, cv):
        while True:
            with cv:
                while not q:
                    cv.wait()
                due, data = q.popleft()
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
            except OSError:
                return

    def close(self):
        self.closed = True
        self.ls.close()


class Burst:
    """threads clients, in a process of their own, making TLS handshakes
    + a GET back to back for seconds: the pool stays busy. A separate
    process, so the test's own client and relay (Python threads) do not
    wait for a busy interpreter."""

    def __init__(self, port, threads=8, seconds=8):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.abspath(__file__), "burst", str(port),
             str(threads), str(seconds * SLOW)], stdout=subprocess.PIPE,
            text=True)
        self.done = self.failed = 0

    def stop(self):
        try:
            out, _ = self.proc.communicate(timeout=120 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        m = re.search(r"done (\d+) failed (\d+)", out)
        if m:
            self.done, self.failed = int(m.group(1)), int(m.group(2))


def burst_main(port, threads, seconds):
    end = time.monotonic() + seconds
    counts = [0, 0]
    lock = threading.Lock()

    def run():
        while time.monotonic() < end:
            try:
                https_get(port, "/index.html", timeout=10)
                i = 0
            except (OSError, ssl.SSLError, ConnectionError):
                i = 1
            with lock:
                counts[i] += 1
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("done %d failed %d" % tuple(counts))


def partial_hello():
    """The first half of a real ClientHello (and the rest)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).wrap_bio(inc, out)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    return hello[:len(hello) // 2], hello[len(hello) // 2:]


class Stallers:
    """n clients that send half a ClientHello and wait, reconnecting as
    soon as the server gives up on them: connections queue for the pool
    all the time, which a burst of real clients alone does not ensure on
    a shared machine."""

    def __init__(self, port, n=6):
        self.port, self.running, self.cycles = port, True, 0
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(n)]
        for t in self.threads:
            t.start()

    def _run(self):
        half, _ = partial_hello()
        while self.running:
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=30) as s:
                    s.sendall(half)
                    while self.running and s.recv(4096):
                        pass
            except OSError:
                time.sleep(0.01)
            self.cycles += 1

    def stop(self):
        self.running = False
        for t in self.threads:
            t.join(35)


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 5 and sys.argv[1] == "burst":
        burst_main(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
