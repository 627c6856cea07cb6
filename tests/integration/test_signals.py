"""Signals to the master (DESIGN 2, 8): HUP graceful reload, TERM graceful
stop with a deadline, INT immediate stop, -d daemon mode."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (PORCH_BIN, PORCH_QEMU, SLOW, free_port,
                      get, parse_responses, read_response, recv_until_close,
                      wait_for)

# Loopback's 64 KiB MSS lets the kernel buffer ~4 MB of a response, so an
# "in flight" download must be much bigger than that to keep a worker busy.
BIG = 32 * 1024 * 1024
PATTERN = bytes(range(256)) * 4096          # 1 MiB


def make_huge(p):
    path = os.path.join(p.docroot, "huge.bin")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            for _ in range(BIG // len(PATTERN)):
                f.write(PATTERN)
    return path


def is_pattern(body):
    return len(body) == BIG and bytes(body[:len(PATTERN)]) == PATTERN and \
        bytes(body) == PATTERN * (BIG // len(PATTERN))



def fetch(port, path="/hello.txt", timeout=5 * SLOW):
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(get(path=path, extra="Connection: close\r\n"))
        return parse_responses(recv_until_close(s, timeout))[0]


class SlowDownload:
    """GET /huge.bin over a small receive window, read at ~rate bytes/s in a
    thread, so the worker stays busy writing it for a while."""

    def __init__(self, p, rate=24 * 1024 * 1024, extra=""):
        make_huge(p)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        self.sock.settimeout(10 * SLOW)
        self.sock.connect((p.host, p.port))
        self.sock.sendall(get(path="/huge.bin", extra=extra))
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = self.sock.recv(4096)
            assert b, "closed before the head"
            buf += b
        end = buf.index(b"\r\n\r\n") + 4
        self.head = buf[:end].decode("latin-1")
        self.body = bytearray(buf[end:])
        self.rate = rate
        self.after = b""          # bytes after the body (a next response)
        self.eof = False
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        t0 = time.time()
        try:
            while len(self.body) < BIG:
                b = self.sock.recv(min(65536, BIG - len(self.body)))
                if not b:
                    self.eof = True
                    return
                self.body += b
                ahead = len(self.body) / self.rate - (time.time() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        except OSError as e:
            self.error = e

    def finish(self, timeout=20 * SLOW):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "download stalled at %d" % len(self.body)

    def rest(self, timeout=3 * SLOW):
        """Whatever the server sends after the body, until it closes."""
        self.after = recv_until_close(self.sock, timeout)
        self.sock.close()
        return self.after


def state_of(p, pid):
    for w in p.status()["workers"]:
        if w["pid"] == pid:
            return w["state"]
    return None


# ---- HUP ---------------------------------------------------------------------

def test_hup_new_workers_run_the_new_configuration(porch):
    p = porch(conf_lines=["keepalive_requests 50"])
    old = set(p.wait_workers(2))
    st = p.status()
    assert (st["generation"], st["reloads"]) == (1, 0)
    with p.connect() as s:
        s.sendall(get(path="/hello.txt"))
        assert read_response(s).header("Keep-Alive") == "timeout=5, max=49"
    lines = open(p.conf_path).read().splitlines()
    lines = [l for l in lines if not l.startswith("keepalive_requests")]
    p.write_conf(lines + ["keepalive_requests 7", "index hello.txt"])
    p.reload()
    wait_for(lambda: p.pool_settled() and not set(p.workers()) & old,
             what="the new workers in accept, the old ones gone")
    new = set(p.workers())
    with p.connect() as s:
        s.sendall(get(path="/"))
        r = read_response(s)
    assert (r.status, r.body) == (200, b"hello, world\n")
    assert r.header("Keep-Alive") == "timeout=5, max=6"
    st = p.status()
    assert (st["generation"], st["reloads"]) == (2, 1)
    assert {w["pid"] for w in st["workers"]} == new
    assert all(w["generation"] == 2 for w in st["workers"])
    assert "reloading configuration" in p.log()


def test_hup_bad_configuration_keeps_the_old_one(porch):
    p = porch(conf_lines=["index hello.txt"])
    old = set(p.wait_workers(2))
    good = open(p.conf_path).read().splitlines()
    p.write_conf(good + ["workers 0", "bogus_directive 1"])
    n = len(good)
    p.reload()
    wait_for(lambda: "still serving the old configuration" in p.log(),
             what="reload failure in the error log")
    log = p.log()
    # The reason, with its FILE:LINE, must reach the error log (with -d,
    # stderr is /dev/null and the error log is all an operator has).
    assert '%s:%d: workers: expected 1 to 64, got "0"' % (p.conf_path, n + 1) in log, log
    assert '%s:%d: unknown directive "bogus_directive"' % (p.conf_path, n + 2) in log, log
    # logged after the master decided: nothing changed, nothing will
    assert set(p.workers()) == old
    r = fetch(p.port, "/")
    assert (r.status, r.body) == (200, b"hello, world\n")
    st = p.status()
    assert (st["generation"], st["reloads"]) == (1, 0)


def test_hup_closes_idle_keepalive_connections(porch):
    p = porch()
    with p.connect() as s:
        s.sendall(get(path="/hello.txt"))
        r = read_response(s)
        assert r.header("Connection") == "keep-alive"
        t0 = time.time()
        p.reload()
        s.settimeout(3 * SLOW)
        try:
            rest = s.recv(100)
        except ConnectionResetError:
            rest = b""
        took = time.time() - t0
    assert rest == b"" and took < 1.5 * SLOW, (rest, took)


def test_hup_in_flight_request_finishes_then_connection_closes(porch):
    p = porch()
    old = set(p.wait_workers(2))
    d = SlowDownload(p)
    assert "Connection: keep-alive" in d.head
    # it is really in flight: its worker is writing
    busy = [w for w in p.status()["workers"] if w["state"] == "writing"]
    assert busy, p.status()
    p.reload()
    wait_for(lambda: len(set(p.workers()) - old) >= 2, what="new workers")
    # A request sent behind the download is on its way: it is still served,
    # by the old worker, with Connection: close, and then the connection ends.
    d.sock.sendall(get(path="/hello.txt"))
    d.finish()
    assert d.error is None and not d.eof
    assert is_pattern(d.body)
    after = parse_responses(d.rest())
    assert len(after) == 1
    assert (after[0].status, after[0].body) == (200, b"hello, world\n")
    assert after[0].header("Connection") == "close"
    wait_for(lambda: not (set(p.workers()) & old), what="old worker exit")


def test_hup_request_half_received_is_answered_with_close(porch):
    p = porch()
    old = set(p.wait_workers(2))
    with p.connect() as s:
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHo")
        wait_for(lambda: "reading_head" in [w["state"] for w in
                                            p.status()["workers"]],
                 what="a worker reading the half head")
        p.reload()
        wait_for(lambda: len(set(p.workers()) - old) >= 2, what="new workers")
        s.sendall(b"st: a\r\n\r\n")
        r = read_response(s)
        assert (r.status, r.body) == (200, b"hello, world\n")
        assert r.header("Connection") == "close"
        assert recv_until_close(s, 3 * SLOW) == b""


def test_hup_adds_a_listener_and_keeps_the_old(porch):
    p = porch()
    extra = free_port()
    assert fetch(p.port).status == 200
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", extra), 1).close()
    lines = open(p.conf_path).read().splitlines()
    p.write_conf(lines + ["listen 127.0.0.1:%d" % extra])
    p.reload()
    wait_for(lambda: p.status()["generation"] == 2, what="generation 2")
    assert fetch(extra).status == 200
    assert fetch(p.port).status == 200


def test_hup_drops_a_removed_listener(porch):
    extra = free_port()
    p = porch(conf_lines=["listen 127.0.0.1:%d" % extra])
    assert fetch(extra).status == 200
    lines = open(p.conf_path).read().splitlines()
    p.write_conf([l for l in lines if str(extra) not in l])
    p.reload()
    wait_for(lambda: p.status()["generation"] == 2, what="generation 2")

    def refused():
        try:
            socket.create_connection(("127.0.0.1", extra), 1).close()
            return False
        except ConnectionRefusedError:
            return True
    wait_for(refused, what="removed listener closed")
    assert fetch(p.port).status == 200


def test_hup_never_refuses_a_connection(porch):
    p = porch()
    stop = time.time() + 2 * SLOW
    errors, done = [], [0]

    def hammer():
        while time.time() < stop:
            try:
                r = fetch(p.port, timeout=3 * SLOW)
                if r.status != 200:
                    errors.append(r.status)
                done[0] += 1
            except OSError as e:
                errors.append(repr(e))
    t = threading.Thread(target=hammer)
    t.start()
    hups = 0
    while time.time() < stop:
        p.reload()
        hups += 1
        time.sleep(0.1)
    t.join(10 * SLOW)
    assert not errors, errors[:5]
    assert done[0] > 20
    wait_for(lambda: p.status()["reloads"] >= 1)


# ---- TERM / INT --------------------------------------------------------------

def test_term_finishes_the_in_flight_download(porch):
    p = porch(conf_lines=["stop_timeout 20"])
    d = SlowDownload(p)
    busy = [w for w in p.status()["workers"] if w["state"] == "writing"]
    assert busy
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    # the listener is closed to newcomers only when the master exits; the
    # download goes on meanwhile
    d.finish()
    assert d.error is None and is_pattern(d.body)
    assert d.rest() == b""
    rc = p.proc.wait(10 * SLOW)
    print("TERM: download finished, master exited after %.2f s" % (time.time() - t0))
    assert rc == 0
    assert not os.path.exists(p.pid_file)
    assert "stopped" in p.log()


def test_term_is_bounded_by_stop_timeout(porch):
    p = porch(conf_lines=["stop_timeout 1"])
    d = SlowDownload(p, rate=2 * 1024 * 1024)    # would take ~16 s
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    rc = p.proc.wait(10 * SLOW)
    took = time.time() - t0
    print("TERM with stop_timeout 1 and a stuck download: exit after %.2f s" % took)
    assert rc == 0
    assert 0.8 <= took < 3 * SLOW
    d.finish()
    assert len(d.body) < BIG
    assert not os.path.exists(p.pid_file)
    assert p.workers() == []


def test_term_when_idle_exits_at_once(porch):
    p = porch()
    workers = p.wait_workers(2)
    t0 = time.time()
    assert p.stop(signal.SIGTERM) == 0
    assert time.time() - t0 < 1.5 * SLOW
    assert not os.path.exists(p.pid_file)
    for w in workers:
        assert not os.path.exists("/proc/%d" % w) or \
            open("/proc/%d/stat" % w).read().split()[2] == "Z"


def test_int_stops_immediately(porch):
    p = porch(conf_lines=["stop_timeout 30"])
    workers = p.wait_workers(2)
    d = SlowDownload(p, rate=2 * 1024 * 1024)    # would take ~16 s
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    rc = p.proc.wait(5 * SLOW)
    took = time.time() - t0
    assert rc == 0 and took < 1.0 * SLOW, (rc, took)
    d.finish()
    assert len(d.body) < BIG          # cut, not finished
    assert not os.path.exists(p.pid_file)
    wait_for(lambda: not any(os.path.exists("/proc/%d" % w) for w in workers),
             what="every worker gone")


# ---- -d ----------------------------------------------------------------------

def children_of(pid):
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open("/proc/%s/stat" % d).read()
            except OSError:
                continue
            if int(st.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d))
    return kids


def test_daemonize(tmp_path, docroot):
    port = free_port()
    pid_file = str(tmp_path / "porch.pid")
    conf = tmp_path / "porch.conf"
    conf.write_text("\n".join([
        "listen 127.0.0.1:%d" % port, "root %s" % docroot, "workers 2",
        "allow_root on", "error_log %s" % (tmp_path / "error.log"),
        "pid_file %s" % pid_file]) + "\n")
    cmd = [PORCH_BIN, "-d", "-c", str(conf)]
    if PORCH_QEMU:
        cmd = [PORCH_QEMU] + cmd
    daemon = None
    try:
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, timeout=5 * SLOW)
        assert r.returncode == 0, r
        assert time.time() - t0 < 2 * SLOW
        daemon = int(wait_for(lambda: os.path.exists(pid_file) and
                              open(pid_file).read().strip(), what="pid file"))
        assert os.path.exists("/proc/%d" % daemon)
        assert os.getsid(daemon) == daemon          # its own session
        assert fetch(port).status == 200
        wait_for(lambda: len(children_of(daemon)) == 2, what="2 workers")
        os.kill(daemon, signal.SIGHUP)              # reload works from "/"
        wait_for(lambda: "reloading" in open(tmp_path / "error.log").read())
        assert fetch(port).status == 200
        os.kill(daemon, signal.SIGTERM)
        wait_for(lambda: not os.path.exists("/proc/%d" % daemon) or
                 open("/proc/%d/stat" % daemon).read().split()[2] == "Z",
                 what="daemon exit")
        assert not os.path.exists(pid_file)
        daemon = None
    finally:
        if daemon:
            for k in children_of(daemon):
                os.kill(k, signal.SIGKILL)
            os.kill(daemon, signal.SIGKILL)


def find_by_cmdline(needle):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                cmd = open("/proc/%s/cmdline" % d, "rb").read()
            except OSError:
                continue
            if needle.encode() in cmd:
                out.append(int(d))
    return out


def test_daemonize_with_relative_paths(tmp_path, docroot):
    """-d changes directory to /: a relative -c, root or pid_file must still
    mean what they meant where porch was started (and on reload)."""
    port = free_port()
    name = "rel-%d" % port
    os.symlink(docroot, tmp_path / "www-rel")
    (tmp_path / (name + ".conf")).write_text("\n".join([
        "listen 127.0.0.1:%d" % port, "root www-rel", "allow_root on",
        "error_log error-rel.log", "pid_file %s.pid" % name]) + "\n")
    cmd = [PORCH_BIN, "-d", "-c", name + ".conf"]
    if PORCH_QEMU:
        cmd = [PORCH_QEMU] + cmd
    pid_path = tmp_path / (name + ".pid")
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=5 * SLOW,
                           cwd=str(tmp_path))
        assert r.returncode == 0, r
        daemon = int(wait_for(lambda: pid_path.exists() and
                              pid_path.read_text().strip(), what="pid file"))
        assert not os.path.exists("/" + name + ".pid"), \
            "pid file written relative to / instead of the start directory"
        assert fetch(port).status == 200, "root resolved against /"
        os.kill(daemon, signal.SIGHUP)

        def generation():
            with socket.create_connection(("127.0.0.1", port), 5 * SLOW) as s:
                s.sendall(get(path="/server-status",
                              extra="Connection: close\r\n"))
                return json.loads(parse_responses(
                    recv_until_close(s))[0].body)["generation"]
        wait_for(lambda: generation() == 2 or "reload failed" in
                 (tmp_path / "error-rel.log").read_text(), what="the reload")
        assert generation() == 2, "reload from / failed: relative -c path"
        assert fetch(port).status == 200
        os.kill(daemon, signal.SIGTERM)
        wait_for(lambda: not pid_path.exists(), what="pid file removed")
    finally:
        for pid in find_by_cmdline(name + ".conf"):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if os.path.exists("/" + name + ".pid"):
            os.unlink("/" + name + ".pid")
