"""Logs (DESIGN 5): the access log in Combined Log Format with the request
id, the error log, USR1 reopening, syslog datagrams, and logging that never
blocks a request (full disk, stalled syslogd)."""
import calendar
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import SLOW, Porch, exchange, get, read_response, wait_for

# host ident user [time] "request" status bytes "referer" "agent" "id"
QS = r'"((?:[^"\\]|\\.)*)"'
ACCESS_RE = re.compile(
    r'^(\S+) (\S+) (\S+) \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] '
    + QS + r' (\d{3}) (\d+|-) ' + QS + ' ' + QS + r' "([0-9a-f]+-[0-9a-f]+-[0-9a-f]+)"$')


class Line:
    def __init__(self, m):
        (self.host, self.ident, self.user, self.time, self.request, status,
         size, self.referer, self.agent, self.id) = m.groups()
        self.status = int(status)
        self.size = 0 if size == "-" else int(size)

    @property
    def epoch(self):
        return calendar.timegm(time.strptime(self.time, "%d/%b/%Y:%H:%M:%S %z"))


def parse_access(text):
    out = []
    for ln in text.splitlines():
        m = ACCESS_RE.match(ln)
        assert m, "not a Combined Log Format line: %r" % ln
        out.append(Line(m))
    return out



def access_lines(p, n):
    """The access log once it has at least n lines (workers log after the
    response is sent, so the last line may land a moment later)."""
    return wait_for(lambda: (lambda ls: ls if len(ls) >= n else None)(
        parse_access(p.access())), what="%d access log lines" % n)


def request(p, path, extra=""):
    return exchange(p, get(path=path, extra=extra + "Connection: close\r\n"))[0]


# ---- access log --------------------------------------------------------------

def test_access_log_is_combined_format_with_request_id(server):
    t0 = int(time.time())
    r1 = request(server, "/1k.bin", 'Referer: http://ex.com/a?b=1\r\n'
                 'User-Agent: Mozilla/5.0 (X11) "quoted"\r\n')
    r2 = request(server, "/missing.txt")
    with server.connect() as s:
        s.sendall(get(method="HEAD", path="/hello.txt",
                      extra="Connection: close\r\n"))
        r3 = read_response(s, head_request=True)
    lines = access_lines(server, 3)
    assert len(lines) == 3
    a, b, c = lines
    assert (a.host, a.ident, a.user) == ("127.0.0.1", "-", "-")
    assert a.request == "GET /1k.bin HTTP/1.1"
    assert (a.status, a.size) == (200, 1024)
    assert a.referer == "http://ex.com/a?b=1"
    assert a.agent == r'Mozilla/5.0 (X11) \"quoted\"'
    assert a.id == r1.header("X-Request-Id")
    assert t0 - 1 <= a.epoch <= time.time() + 1
    assert a.time.endswith(" +0000")
    assert (b.request, b.status, b.referer, b.agent) == (
        "GET /missing.txt HTTP/1.1", 404, "-", "-")
    assert b.id == r2.header("X-Request-Id") and b.size == len(r2.body)
    assert (c.request, c.status, c.size) == ("HEAD /hello.txt HTTP/1.1", 200, 0)
    assert c.id == r3.header("X-Request-Id")
    assert len({a.id, b.id, c.id}) == 3


def test_access_log_ids_on_one_keepalive_connection(server):
    ids = []
    with server.connect() as s:
        for _ in range(3):
            s.sendall(get(path="/hello.txt"))
            ids.append(read_response(s).header("X-Request-Id"))
    lines = access_lines(server, 3)
    assert [l.id for l in lines] == ids and len(set(ids)) == 3
    assert all(l.size == 13 for l in lines)


def test_access_log_escapes_quotes_and_control_bytes(server):
    r = exchange(server, b'GET /hello.txt HTTP/1.1\r\nHost: a\r\n'
                 b'User-Agent: a\xe9b\\c"d\r\nConnection: close\r\n\r\n')[0]
    assert r.status == 200
    lines = access_lines(server, 1)
    assert "\xe9" not in server.access() and "\ufffd" not in server.access()
    assert lines[0].agent == r'a\xe9b\\c\"d'
    assert lines[0].id == r.header("X-Request-Id")


def test_access_log_records_a_rejected_head_as_dash(server):
    with server.connect() as s:
        s.sendall(b"GET / http/1.1\r\nHost: a\r\n\r\n")
        r = read_response(s)
    assert r.status == 400
    lines = access_lines(server, 1)
    assert (lines[0].request, lines[0].status) == ("-", 400)
    assert lines[0].id == r.header("X-Request-Id")


def test_access_log_off_writes_nothing(porch):
    p = porch(conf_lines=["access_log off"])
    assert request(p, "/hello.txt").status == 200
    time.sleep(0.2)
    assert not os.path.exists(p.access_log)


def test_error_log_records_start_and_stop(porch):
    p = porch()
    wait_for(lambda: "started" in p.log(), what="start line")
    assert p.stop() == 0
    log = p.log()
    start = [l for l in log.splitlines() if "started" in l]
    assert start and re.match(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ porch\[%d\] master: porch \S+ started, 2 workers$"
        % p.pid, start[0]), start
    assert "stopped" in log.splitlines()[-1]


def test_error_log_stderr(porch):
    p = porch(conf_lines=["error_log stderr"])
    wait_for(lambda: "started" in p.read(p.stderr_path), what="start on stderr")
    assert not os.path.exists(p.error_log)


# ---- USR1 reopen -------------------------------------------------------------

def test_usr1_reopens_logs_after_rotation(server):
    for _ in range(3):
        assert request(server, "/hello.txt").status == 200
    access_lines(server, 3)
    os.rename(server.access_log, server.access_log + ".1")
    os.rename(server.error_log, server.error_log + ".1")
    server.send_signal(signal.SIGUSR1)
    # the master writes this to the new error log once every worker has
    # been told (before that a request could still go to the old file)
    wait_for(lambda: "logs reopened" in server.log(), what="logs reopened")
    ids = []
    # fresh connections, so every worker (woken from accept) is exercised
    for _ in range(6):
        r = request(server, "/hello.txt?after")
        assert r.status == 200
        ids.append(r.header("X-Request-Id"))
    lines = access_lines(server, 6)
    assert [l.id for l in lines] == ids
    old = parse_access(Porch.read(server.access_log + ".1"))
    assert len(old) == 3 and all("after" not in l.request for l in old)
    assert os.path.exists(server.error_log)


def test_usr1_with_idle_keepalive_connection_reopens_in_that_worker(porch):
    p = porch(workers=1)
    with p.connect() as s:
        s.sendall(get(path="/hello.txt"))
        read_response(s)
        access_lines(p, 1)
        os.rename(p.access_log, p.access_log + ".1")
        p.send_signal(signal.SIGUSR1)
        # the master says so once every worker has been told
        wait_for(lambda: "logs reopened" in p.log(), what="logs reopened")
        s.sendall(get(path="/hello.txt?after"))
        r = read_response(s)
    lines = access_lines(p, 1)
    assert [l.id for l in lines] == [r.header("X-Request-Id")]


# ---- syslog ------------------------------------------------------------------

@contextlib.contextmanager
def dev_log(read=True):
    """Binds /dev/log ourselves (this box has no syslogd); skips when the
    socket exists and is someone else's."""
    path = "/dev/log"
    if os.path.lexists(path):
        pytest.skip("/dev/log exists and belongs to a running syslog daemon")
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
    except OSError as e:
        pytest.skip("cannot bind /dev/log: %s" % e)
    try:
        os.chmod(path, 0o666)
        s.settimeout(3 * SLOW)
        yield s
    finally:
        s.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


SYSLOG_RE = re.compile(
    r"^<(\d+)>([A-Z][a-z]{2}) ([ \d]\d) (\d\d:\d\d:\d\d) porch\[(\d+)\]: (.*)$",
    re.S)


def recv_all(sock, until, timeout=3 * SLOW):
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline and not until(got):
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            break
    return got


def test_syslog_datagrams_are_rfc3164(porch):
    with dev_log() as sock:
        p = porch(conf_lines=["access_log syslog", "error_log syslog"])
        r = request(p, "/hello.txt", "User-Agent: t\r\n")
        rid = r.header("X-Request-Id")
        msgs = recv_all(sock, lambda g: any(rid in m for m in g))
        p.stop()
        msgs += recv_all(sock, lambda g: any("stopped" in m for m in g), 2)
    parsed = []
    for m in msgs:
        mm = SYSLOG_RE.match(m)
        assert mm, "not RFC 3164: %r" % m
        parsed.append(mm)
    access = [mm for mm in parsed if rid in mm.group(6)]
    assert len(access) == 1
    assert int(access[0].group(1)) == 3 * 8 + 6   # daemon.info
    assert ACCESS_RE.match(access[0].group(6)), access[0].group(6)
    assert "\n" not in access[0].group(6)
    assert int(access[0].group(5)) != p.pid          # written by a worker
    started = [mm for mm in parsed if "started" in mm.group(6)]
    assert started and int(started[0].group(5)) == p.pid
    assert int(started[0].group(1)) == 3 * 8 + 6
    assert any("stopped" in mm.group(6) for mm in parsed)


def test_syslog_without_a_daemon_never_blocks(porch):
    if os.path.lexists("/dev/log"):
        pytest.skip("/dev/log exists")
    p = porch(conf_lines=["access_log syslog"])
    t0 = time.time()
    for _ in range(20):
        assert request(p, "/hello.txt").status == 200
    assert time.time() - t0 < 2 * SLOW
    assert p.status()["log_dropped"] >= 20


def test_stalled_syslog_drops_instead_of_blocking(porch):
    with dev_log():                  # bound, but never read: the queue fills
        p = porch(conf_lines=["access_log syslog"], workers=1)
        worst = 0.0
        s = None
        for _ in range(1500):
            if s is None:
                s = p.connect()
            t = time.time()
            s.sendall(get(path="/hello.txt"))
            r = read_response(s)
            assert r.status == 200
            worst = max(worst, time.time() - t)
            if r.header("Connection") == "close":
                s.close()
                s = None
        if s is not None:
            s.close()
        st = p.status()
        print("stalled syslog: worst request %.1f ms, log_dropped %d"
              % (worst * 1000, st["log_dropped"]))
        assert st["log_dropped"] > 0
        assert worst < 1.0 * SLOW
        p.stop()


# ---- full disk ---------------------------------------------------------------

@contextlib.contextmanager
def tiny_tmpfs(size="64k"):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    d = tempfile.mkdtemp(prefix="porch-fulldisk-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size,
                        "tmpfs", d], capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(d)
        pytest.skip("cannot mount a tmpfs: " + r.stderr.strip())
    try:
        yield d
    finally:
        if subprocess.run(["umount", d]).returncode != 0:
            subprocess.run(["umount", "-l", d])
        shutil.rmtree(d, ignore_errors=True)


def fill(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"x" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def test_full_disk_never_blocks_a_request(porch):
    with tiny_tmpfs() as d:
        p = porch(conf_lines=["access_log %s/access.log" % d])
        try:
            full_disk_checks(p, d)
        finally:
            p.stop()        # before the unmount: porch holds the file open


def full_disk_checks(p, d):
    assert request(p, "/hello.txt").status == 200
    wait_for(lambda: os.path.getsize(os.path.join(d, "access.log")) > 0)
    fill(os.path.join(d, "filler"))
    worst = 0.0
    t0 = time.time()
    n = 0
    with contextlib.ExitStack() as stack:
        s = None
        for i in range(200):
            if s is None:
                s = stack.enter_context(p.connect())
            t = time.time()
            s.sendall(get(path="/hello.txt?%d" % i))
            r = read_response(s)
            assert (r.status, r.body) == (200, b"hello, world\n")
            worst = max(worst, time.time() - t)
            n += 1
            if r.header("Connection") == "close":
                s = None
    for _ in range(20):
        assert request(p, "/1k.bin").status == 200
        n += 1
    total = time.time() - t0
    st = p.status()
    print("full disk: %d requests in %.2f s, worst %.1f ms, log_dropped %d"
          % (n, total, worst * 1000, st["log_dropped"]))
    assert st["log_dropped"] >= 150     # the last page still took some lines
    assert worst < 0.5 * SLOW and total < 5 * SLOW
    # space again: lines are written again
    os.unlink(os.path.join(d, "filler"))
    r = request(p, "/hello.txt?space-again")
    wait_for(lambda: r.header("X-Request-Id") in
             Porch.read(os.path.join(d, "access.log")), what="line after space")
