"""Hostile clients (DESIGN 2, 4 and 7 "Resilience"): slowhttptest's
slowloris, slow body and slow read with hundreds of connections against a
small pool, connection floods that send nothing, half-open and reset
connections, request heads at every size limit and one byte over, random
and NUL bytes, long pipelines, absurd lengths.

Through all of it a well-behaved client keeps being served, each request
within GOOD_BOUND, and no worker dies (status "restarts" stays 0, the
worker pids do not change). Every load here is bounded in count and time.
"""
import csv
import os
import random
import re
import resource
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import (SLOW, exchange, get, install_cgi, parse_responses,
                      read_response, recv_until_close)

GOOD_BOUND = 2.0 * SLOW         # s: the well-behaved client's bound
SLOW_SECONDS = 15               # s: each slowhttptest run
SLOW_CONNECTIONS = 300

SINK_SH = """#!/bin/sh
# Reads its whole body, then answers.
cat >/dev/null
printf 'Content-Type: text/plain\\r\\n\\r\\nread\\n'
"""


# ---- helpers -----------------------------------------------------------------

def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < n:
        pytest.skip("needs %d descriptors" % n)


def worker_pids(p):
    """The pool's pids, once every configured worker has taken its slot."""
    deadline = time.monotonic() + 10 * SLOW
    while True:
        st = p.status()
        ws = [w for w in st["workers"] if w["state"] not in ("free", "starting")]
        if len(ws) >= st["workers_configured"] or time.monotonic() > deadline:
            return sorted(w["pid"] for w in ws)
        time.sleep(0.05)


def fetch(p, path="/hello.txt", timeout=GOOD_BOUND + 3):
    """One GET on a fresh connection: (latency s, response)."""
    t = time.monotonic()
    with socket.create_connection((p.host, p.port), timeout) as s:
        s.settimeout(timeout)
        s.sendall(get(path=path, extra="Connection: close\r\n"))
        r = read_response(s, timeout=timeout)
    return time.monotonic() - t, r


class GoodClient(threading.Thread):
    """Fetches /hello.txt on a fresh connection every 100-200 ms."""

    def __init__(self, p):
        super().__init__(daemon=True)
        self.p = p
        self.stop = threading.Event()
        self.latencies = []
        self.failures = []

    def run(self):
        rnd = random.Random(1)
        while not self.stop.is_set():
            try:
                lat, r = fetch(self.p)
                if (r.status, r.body) != (200, b"hello, world\n"):
                    self.failures.append("got %d %r" % (r.status, r.body[:40]))
                self.latencies.append(lat)
            except Exception as e:          # noqa: BLE001 -- any is a failure
                self.failures.append(repr(e))
            self.stop.wait(rnd.uniform(0.1, 0.2))

    def summary(self):
        lat = sorted(self.latencies)
        if not lat:
            return 0, float("nan"), float("nan")
        return len(lat), 1000 * lat[-1], 1000 * lat[min(len(lat) - 1,
                                                         int(len(lat) * 0.99))]

    def report(self, what):
        n, mx, p99 = self.summary()
        print("\n%s: good client %d requests, %d failed, max %.1f ms, p99 %.1f ms"
              % (what, n, len(self.failures), mx, p99))

    def check(self):
        n, mx, p99 = self.summary()
        assert self.failures == [], self.failures[:5]
        assert n >= 10
        assert mx <= GOOD_BOUND * 1000, "slowest good request %.0f ms" % mx


def run_slowhttptest(p, tmp_path, mode, url_path, extra, rate=150):
    """Runs slowhttptest with a GoodClient alongside; returns both."""
    if shutil.which("slowhttptest") is None:
        pytest.skip("slowhttptest not installed (apt-get install slowhttptest)")
    raise_nofile(2 * SLOW_CONNECTIONS + 256)
    prefix = str(tmp_path / ("slow" + mode.strip("-")))
    cmd = ["slowhttptest", mode, "-c", str(SLOW_CONNECTIONS), "-r", str(rate),
           "-l", str(SLOW_SECONDS), "-p", "2", "-g", "-o", prefix,
           "-u", p.url(url_path)] + extra
    good = GoodClient(p)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    try:
        time.sleep(1.0)
        good.start()
        out, _ = proc.communicate(timeout=SLOW_SECONDS + 45)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        good.stop.set()
        good.join(GOOD_BOUND + 10)
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    return good, out, read_slow_csv(prefix + ".csv")


def read_slow_csv(path):
    """slowhttptest's per-second rows: Seconds, Closed, Pending, Connected,
    Service Available (the connection count when available, else 0)."""
    try:
        with open(path) as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        return []
    return [[int(x) for x in row] for row in rows[1:] if row and row[0].isdigit()]


def check_slow_report(what, good, out, rows):
    """Prints what slowhttptest and the good client saw, then checks both."""
    said = re.findall(r"service available:\s*(YES|NO)", out)
    held = max((r[3] for r in rows), default=0)
    opened = max((r[1] + r[3] for r in rows), default=0)
    down = [r[0] for r in rows if r[4] == 0]
    good.report(what)
    print("%s: slowhttptest opened %d connections, held up to %d at once, "
          "%d s reported, unavailable at seconds %r; exit: %s" % (
              what, opened, held, len(rows), down,
              (re.findall(r"Exit status:\s*(.*)", out) or ["?"])[-1].strip()))
    good.check()
    assert rows or said, "no slowhttptest report:\n" + out[-2000:]
    assert down == [], "slowhttptest found the service unavailable"
    assert "NO" not in said


# ---- slowhttptest -----------------------------------------------------------------

@pytest.mark.host_only
def test_slowloris_headers(porch, tmp_path):
    """slowhttptest -H: heads trickled a field every 2 s, 300 connections
    opened over 10 s (porch drops each as soon as it holds a worker another
    client needs, so slowhttptest must keep opening to keep attacking)."""
    p = porch(workers=2)
    pids = worker_pids(p)
    good, out, rows = run_slowhttptest(p, tmp_path, "-H", "/",
                                       ["-i", "2", "-x", "24"], rate=30)
    check_slow_report("slowloris", good, out, rows)
    assert p.status()["restarts"] == 0 and worker_pids(p) == pids


@pytest.mark.host_only
def test_slow_body_to_a_cgi(porch, docroot, tmp_path):
    """slowhttptest -B: POST bodies trickled to a CGI that reads them, 300
    connections opened over 5 s. Each is dropped 20 ms (pressure_io) after
    connections start queueing behind it, so slowhttptest runs out of
    connections once it stops opening them."""
    install_cgi(docroot, "sink.sh", SINK_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"], workers=4)
    good, out, rows = run_slowhttptest(p, tmp_path, "-B", "/cgi-bin/sink.sh",
                                       ["-i", "2", "-x", "10", "-s", "65536"],
                                       rate=60)
    check_slow_report("slow body", good, out, rows)
    assert p.status()["restarts"] == 0


@pytest.mark.host_only
def test_slow_read_of_a_large_file(porch, tmp_path):
    """slowhttptest -X: a 3 MB file read 32 bytes a second through a tiny
    receive window."""
    p = porch(workers=4)
    good, out, rows = run_slowhttptest(p, tmp_path, "-X", "/big.bin",
                                       ["-k", "2", "-n", "1", "-w", "16",
                                        "-y", "64", "-z", "32"])
    check_slow_report("slow read", good, out, rows)
    assert p.status()["restarts"] == 0


@pytest.mark.host_only
def test_slow_readers_of_a_small_file_on_the_default_pool(porch, tmp_path):
    """slowhttptest -X against index.html (1 KB) on the default 2 workers,
    three pipelined requests per connection read through a 512-1024 byte
    window, 32 bytes every 5 s: every answer fits the socket buffers, so
    a worker is held only by what it does after answering (an idle wait
    for a next request that never comes, a linger) -- which must not let
    a queue of such connections make a good client wait."""
    p = porch()
    good, out, rows = run_slowhttptest(p, tmp_path, "-X", "/index.html",
                                       ["-k", "3", "-n", "5", "-w", "512",
                                        "-y", "1024", "-z", "32", "-i", "10"],
                                       rate=100)
    check_slow_report("slow read, 1 KB, 2 workers", good, out, rows)
    assert p.status()["restarts"] == 0


# ---- floods, half-open and reset connections ---------------------------------------

def test_silent_connection_flood_never_reaches_a_worker(porch):
    """500 connections that send nothing: TCP_DEFER_ACCEPT keeps them in
    the kernel, so no worker is woken and a real client is served at once."""
    raise_nofile(1024)
    p = porch(workers=2)
    before = p.status()["connections"]
    silent = []
    try:
        for _ in range(500):
            silent.append(socket.create_connection((p.host, p.port), 5))
        time.sleep(0.5)
        worst = 0.0
        for i in range(20):
            lat, r = fetch(p, "/hello.txt?%d" % i)
            assert r.status == 200
            worst = max(worst, lat)
        st = p.status()
    finally:
        for s in silent:
            s.close()
    accepted = st["connections"] - before
    print("\nsilent flood: 500 open, %d accepted by workers, worst good "
          "request %.1f ms" % (accepted, worst * 1000))
    assert accepted <= 21 + 1       # the 20 fetches and one status request
    assert worst < 0.5 * SLOW
    assert st["restarts"] == 0


@pytest.mark.parametrize("sent, answered", [
    (b"GET /hel", False),
    (b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n", False),
    (b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n", True),
    (b"POST /cgi-bin/sink.sh HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n"
     b"\r\nabc", None),
], ids=["partial-line", "partial-head", "whole-request", "partial-body"])
def test_half_open_connections_leave_workers_serving(porch, docroot, sent,
                                                      answered):
    """Clients that shut down their sending side: a whole request is still
    answered, a partial head is closed at once without an answer, a partial
    body may get a 4xx; no worker is held."""
    install_cgi(docroot, "sink.sh", SINK_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"], workers=2)
    pids = worker_pids(p)
    socks = []
    for _ in range(20):
        s = p.connect()
        s.sendall(sent)
        s.shutdown(socket.SHUT_WR)
        socks.append(s)
    t0 = time.monotonic()
    for s in socks:
        s.settimeout(GOOD_BOUND + 3)
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        if answered:
            rs = parse_responses(data)
            assert [r.status for r in rs] == [200], data[:200]
        elif answered is None and data:
            rs = parse_responses(data)
            assert len(rs) == 1 and 400 <= rs[0].status < 500, data[:200]
        else:
            assert data == b"", data[:200]
    took = time.monotonic() - t0
    lat, r = fetch(p)
    print("\nhalf-open %r: 20 closed in %.1f ms, then a GET in %.1f ms"
          % (sent[:20], took * 1000, lat * 1000))
    assert took < GOOD_BOUND and lat < 0.5 * SLOW and r.status == 200
    assert p.status()["restarts"] == 0 and worker_pids(p) == pids


def reset(s):
    """Closes with SO_LINGER 0: the peer gets a RST, not a FIN."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def cgi_processes(docroot):
    """Pids of processes whose command line names a file under docroot."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                if docroot.encode() in f.read():
                    found.append(int(d))
        except OSError:
            pass
    return found


def test_reset_connections_leave_workers_serving(porch, docroot):
    """Connections reset mid-head, mid-response, mid-body (to a CGI) and
    mid-pipeline: the workers carry on and the CGIs are gone."""
    install_cgi(docroot, "sink.sh", SINK_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"], workers=2)
    pids = worker_pids(p)
    for i in range(10):
        s = p.connect()
        s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-Part")
        reset(s)
        s = p.connect()
        s.sendall(get(path="/big.bin"))
        got = 0
        while got < 65536:
            got += len(s.recv(65536))
        reset(s)
        s = p.connect()
        s.sendall(b"POST /cgi-bin/sink.sh HTTP/1.1\r\nHost: a\r\n"
                  b"Content-Length: 1000000\r\n\r\n" + b"x" * 100000)
        time.sleep(0.02)
        reset(s)
        s = p.connect()
        s.sendall(b"".join(get(path="/1k.bin?%d" % j) for j in range(50)))
        s.recv(1024)
        reset(s)
    lat, r = fetch(p)
    assert r.status == 200 and lat < 0.5 * SLOW
    deadline = time.monotonic() + 5 * SLOW
    while cgi_processes(docroot) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cgi_processes(docroot) == [], "CGIs outlived their reset clients"
    assert p.status()["restarts"] == 0 and worker_pids(p) == pids
    for _ in range(10):
        assert fetch(p)[1].status == 200


# ---- size limits, exactly and one over --------------------------------------------

LIMITS = ["max_head_size 1024", "max_field_size 200", "max_target_size 100",
          "max_header_fields 10"]


@pytest.fixture
def limited(porch):
    return porch(conf_lines=LIMITS)


def status_of(p, raw):
    rs = exchange(p, raw)
    assert len(rs) == 1, rs
    return rs[0].status


def head(target="/hello.txt", fields=()):
    lines = ["GET %s HTTP/1.1" % target, "Host: a"] + list(fields)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def with_close(fields=()):
    return ["Connection: close"] + list(fields)


@pytest.mark.parametrize("over", [0, 1])
def test_max_target_size_exact_and_one_over(limited, over):
    target = "/hello.txt?" + "q" * (100 - len("/hello.txt?") + over)
    assert len(target) == 100 + over
    assert status_of(limited, head(target, with_close())) == (414 if over else 200)


@pytest.mark.parametrize("over", [0, 1])
def test_max_field_size_exact_and_one_over(limited, over):
    field = "X-Pad: " + "v" * (200 - len("X-Pad: ") + over)
    assert len(field) == 200 + over
    assert status_of(limited, head(fields=with_close([field]))) == (
        431 if over else 200)


@pytest.mark.parametrize("over", [0, 1])
def test_max_header_fields_exact_and_one_over(limited, over):
    # Host and Connection count: 10 fields in all, then 11
    fields = with_close(["X-F%d: v" % i for i in range(8 + over)])
    assert len(fields) + 1 == 10 + over
    assert status_of(limited, head(fields=fields)) == (431 if over else 200)


@pytest.mark.parametrize("over", [0, 1])
def test_max_head_size_exact_and_one_over(limited, over):
    fields = with_close(["X-P%d: %s" % (i, "v" * 150) for i in range(5)])
    base = len(head(fields=fields + ["X-Last: "]))
    fields.append("X-Last: " + "w" * (1024 - base + over))
    raw = head(fields=fields)
    assert len(raw) == 1024 + over and len(fields) + 1 <= 10
    assert max(len(f) for f in fields) <= 200
    assert status_of(limited, raw) == (431 if over else 200)


def test_limits_hold_for_a_pipelined_second_request(limited):
    """The limits apply to each head, wherever it starts in the buffer."""
    ok = head("/hello.txt?" + "q" * 89, [])
    bad = head("/hello.txt?" + "q" * 90, with_close())
    rs = exchange(limited, ok + bad)
    assert [r.status for r in rs] == [200, 414]


# ---- garbage -----------------------------------------------------------------

def test_random_bytes_are_rejected_and_never_crash(server):
    """200 requests of random bytes (each ended by an empty line): each is
    answered with an error status and the connection closed; no worker
    dies."""
    pids = worker_pids(server)
    rnd = random.Random(20240601)
    seen = {}
    for i in range(200):
        junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 600)))
        with server.connect() as s:
            s.sendall(junk + b"\r\n\r\n")
            data = recv_until_close(s, 5 * SLOW)
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
        assert m, "no response to %r: %r" % (junk[:40], data[:80])
        code = int(m.group(1))
        seen[code] = seen.get(code, 0) + 1
        assert code in (400, 414, 431, 501, 505), (junk[:60], data[:200])
    print("\nrandom bytes: statuses %r" % seen)
    st = server.status()
    assert st["restarts"] == 0 and worker_pids(server) == pids


@pytest.mark.parametrize("raw", [
    b"\x00" * 64 + b"\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\x00\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n",
    b"GET / HTTP/1.1\r\nX\x00: a\r\nHost: a\r\n\r\n",
    b"\x00GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n\x00\r\n\r\n",
], ids=["nuls", "in-target", "in-version", "in-value", "in-name",
        "before-method", "as-a-line"])
def test_nul_bytes_are_400(server, raw):
    pids = worker_pids(server)
    rs = exchange(server, raw)
    assert [r.status for r in rs] == [400]
    assert rs[0].header("Connection") == "close"
    st = server.status()
    assert st["restarts"] == 0 and worker_pids(server) == pids


def test_pipeline_of_200_requests_in_one_write(porch):
    """200 requests of varying kinds in one write: 200 responses, in order."""
    p = porch(conf_lines=["keepalive_requests 1000"])
    kinds = [("/hello.txt?%d", 200, b"hello, world\n"),
             ("/1k.bin?%d", 200, bytes(range(256)) * 4),
             ("/missing-%d.html", 404, None),
             ("/data.json?%d", 200, b'{"ok": true}\n')]
    reqs, expect, heads = [], [], set()
    for i in range(200):
        path, status, body = kinds[i % len(kinds)]
        path = path % i
        if i % 7 == 3:
            reqs.append(get(path=path, method="HEAD", extra="X-Pad: %s\r\n"
                            % ("p" * (i * 13 % 300))))
            heads.add(i)
            expect.append((status, b""))
        else:
            reqs.append(get(path=path, extra="X-Pad: %s\r\n" % ("p" * (i * 13 % 300))))
            expect.append((status, body))
    reqs[-1] = reqs[-1].replace(b"Host: 127.0.0.1\r\n",
                                b"Host: 127.0.0.1\r\nConnection: close\r\n")
    raw = b"".join(reqs)
    assert len(raw) > 2 * 8192
    rs = exchange(p, raw, timeout=10 * SLOW, head_only=heads)
    assert len(rs) == 200
    for i, (r, (status, body)) in enumerate(zip(rs, expect)):
        assert r.status == status, i
        if body is not None:
            assert r.body == body, i
    assert p.status()["restarts"] == 0


# ---- absurd lengths ------------------------------------------------------------

@pytest.mark.parametrize("length, status", [
    ("99999999999999999999", 400),      # overflows 64 bits
    ("18446744073709551616", 400),      # 2^64
    ("18446744073709551615", 413),      # 2^64 - 1
    ("9223372036854775808", 413),       # 2^63
    ("1048577", 413),                   # max_body_size + 1
], ids=["1e20", "2^64", "2^64-1", "2^63", "max+1"])
def test_absurd_content_length(porch, docroot, length, status):
    install_cgi(docroot, "sink.sh", SINK_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"])
    for path in ("/cgi-bin/sink.sh", "/hello.txt"):
        raw = ("POST %s HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n"
               "abc" % (path, length)).encode()
        rs = exchange(p, raw)
        assert [r.status for r in rs] == [status], path
        assert rs[0].header("Connection") == "close"
    assert p.status()["restarts"] == 0


@pytest.mark.parametrize("size, statuses", [
    ("fffffffffffffffffff", (400,)),    # 76 bits
    ("10000000000000000", (400,)),      # 2^64
    ("ffffffffffffffff", (400, 413)),   # 2^64 - 1
    ("-1", (400,)),
    ("0x10", (400,)),
    (" 5", (400,)),
], ids=["76bit", "2^64", "2^64-1", "negative", "0x", "space"])
def test_absurd_chunk_size(porch, docroot, size, statuses):
    """To a CGI that reads its body before answering: the chunk size is
    refused before anything is answered, and what follows is not a request."""
    install_cgi(docroot, "sink.sh", SINK_SH)
    p = porch(conf_lines=["cgi /cgi-bin/"])
    raw = ("POST /cgi-bin/sink.sh HTTP/1.1\r\nHost: a\r\n"
           "Transfer-Encoding: chunked\r\n\r\n%s\r\nabc\r\n0\r\n\r\n"
           "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n" % size).encode()
    rs = exchange(p, raw)
    assert len(rs) == 1 and rs[0].status in statuses, rs
    assert rs[0].header("Connection") == "close"
    assert p.status()["restarts"] == 0
