"""Leaks (DESIGN 1 "no heap allocation per request", 7 "nothing leaked"):
each worker's open descriptors and proportional set size after 1,000 mixed
requests and again after 100,000: the same descriptors (apart from the
files the open-file cache holds, at most its 8 slots), PSS within a few
pages.

The mix: static files (small, 100k, gzip sibling), HEAD, a range, a 304,
404s, a CGI in every batch; keep-alive batches of 50 pipelined requests
and single requests on their own connections. A raw-socket client keeps it
fast (100,000 requests in well under a minute on two cores).

PSS counts shared library pages divided by every process that maps them,
so it moves a little when other processes come and go; Pss_Anon (the
worker's own heap, stack and buffers) is what a leak would grow, and both
are checked. Under a sanitizer build (PORCH_SANITIZE=1) memory is the
sanitizer's to manage and only descriptors are compared.
"""
import os
import re
import socket
import threading
import time

import pytest

from conftest import SLOW, settled_fds

PSS_BOUND_KB = 64               # growth allowed per worker, 1k -> 100k
PSS_NOISE_KB = 192              # shared-library share of the total, on top
BATCH = 50
OK_SH = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n'
"""


FILE_CACHE_SLOTS = 8     # server/file.c: open files a worker keeps


def proc_stats(pid, docroot):
    """(descriptors once settled, files of docroot among them, Pss KiB,
    Pss_Anon KiB) of a process. Files beneath docroot are the worker's
    open-file cache: which ones it holds (a miss holds none) depends on
    the requests it served last, so they are counted apart."""
    fds, cached = 0, 0
    for fd in settled_fds(pid):
        try:
            target = os.readlink("/proc/%d/fd/%d" % (pid, fd))
        except OSError:
            continue
        if target.startswith(os.path.realpath(docroot) + "/"):
            cached += 1
        else:
            fds += 1
    pss = anon = None
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Pss_Anon:"):
                anon = int(line.split()[1])
    return fds, cached, pss, anon


class Mix:
    """The requests of one keep-alive batch and what each must answer."""

    def __init__(self, etag):
        h = "Host: 127.0.0.1\r\n"
        self.kinds = [
            ("GET /hello.txt HTTP/1.1\r\n" + h + "\r\n", 200, False),
            ("GET /1k.bin HTTP/1.1\r\n" + h + "Range: bytes=10-99\r\n\r\n", 206, False),
            ("HEAD /100k.bin HTTP/1.1\r\n" + h + "\r\n", 200, True),
            ("GET /missing-%d.html HTTP/1.1\r\n" + h + "\r\n", 404, False),
            ("GET /style.css HTTP/1.1\r\n" + h + "Accept-Encoding: gzip\r\n\r\n", 200, False),
            ("GET /hello.txt HTTP/1.1\r\n" + h + "If-None-Match: %s\r\n\r\n" % etag,
             304, False),
            ("GET /data.json?q=%d HTTP/1.1\r\n" + h + "\r\n", 200, False),
            ("GET /sub/ HTTP/1.1\r\n" + h + "\r\n", 200, False),
        ]

    def batch(self, n):
        """n requests: one 100k GET and one CGI, the rest cycling the kinds."""
        reqs, expect = [], []
        for i in range(n):
            if i == 0:
                raw, status, head = ("GET /100k.bin HTTP/1.1\r\nHost: a\r\n\r\n",
                                     200, False)
            elif i == 1:
                raw, status, head = ("GET /cgi-bin/ok.sh HTTP/1.1\r\nHost: a\r\n\r\n",
                                     200, False)
            else:
                raw, status, head = self.kinds[i % len(self.kinds)]
            if "%d" in raw:
                raw = raw % i
            reqs.append(raw.encode())
            expect.append((status, head))
        return reqs, expect


def read_all(sock, expect, timeout):
    """Reads up to len(expect) responses. Returns the statuses and whether
    the server ended the connection after the last of them with
    Connection: close (as it does under pool pressure; the rest are then
    sent again on a new connection, as a browser would)."""
    sock.settimeout(timeout)
    buf = b""
    pos = 0
    statuses = []
    closing = False
    while len(statuses) < len(expect):
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            b = sock.recv(262144)
            if not b:
                if closing and pos == len(buf):
                    break
                raise ConnectionError("closed after %d responses" % len(statuses))
            buf = buf[pos:] + b
            pos = 0
            continue
        status = int(buf[pos + 9:pos + 12])
        need = 0
        if not expect[len(statuses)][1] and status not in (204, 304):
            m = re.search(rb"\r\nContent-Length: (\d+)", buf[pos:end])
            if m is None:
                raise AssertionError("no length: %r" % buf[pos:end])
            need = int(m.group(1))
        if len(buf) < end + 4 + need:
            b = sock.recv(262144)
            if not b:
                raise ConnectionError("closed mid-body")
            buf = buf[pos:] + b
            pos = 0
            continue
        closing = b"\r\nConnection: close\r\n" in buf[pos:end + 2]
        statuses.append(status)
        pos = end + 4 + need
    if pos != len(buf):
        raise AssertionError("bytes after the last response")
    return statuses


class Client(threading.Thread):
    """Runs batches until `total` requests are done (shared counter)."""

    def __init__(self, p, mix, counter):
        super().__init__(daemon=True)
        self.p, self.mix, self.counter = p, mix, counter
        self.errors = []
        self.reconnects = 0

    def run(self):
        n = 0
        while True:
            with self.counter["lock"]:
                left = self.counter["total"] - self.counter["done"]
                take = min(BATCH, left)
                self.counter["done"] += take
            if take <= 0:
                return
            try:
                if n % 10 == 9:
                    self.singles(take)
                else:
                    self.keepalive(take)
            except Exception as e:      # noqa: BLE001 -- reported by the test
                self.errors.append(repr(e))
                if len(self.errors) > 5:
                    return
            n += 1

    def keepalive(self, take):
        reqs, expect = self.mix.batch(take)
        reqs[-1] = reqs[-1].replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
        got = []
        while len(got) < len(reqs):
            with socket.create_connection((self.p.host, self.p.port), 10 * SLOW) as s:
                s.sendall(b"".join(reqs[len(got):]))
                got += read_all(s, expect[len(got):], 10 * SLOW)
            self.reconnects += 1
        if got != [e[0] for e in expect]:
            self.errors.append("statuses %r" % got)

    def singles(self, take):
        reqs, expect = self.mix.batch(take)
        for raw, e in zip(reqs, expect):
            raw = raw.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
            with socket.create_connection((self.p.host, self.p.port), 10 * SLOW) as s:
                s.sendall(raw)
                got = read_all(s, [e], 10 * SLOW)
            self.reconnects += 1
            if got != [e[0]]:
                self.errors.append("status %r for %r" % (got, raw[:40]))


def drive(p, mix, total, nclients=3):
    counter = {"lock": threading.Lock(), "total": total, "done": 0}
    clients = [Client(p, mix, counter) for _ in range(nclients)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(600)
    errors = [e for c in clients for e in c.errors]
    assert errors == [], errors[:5]
    p.wait_settled(what="every connection closed, the workers in accept")
    return sum(c.reconnects for c in clients)


@pytest.mark.host_only
def test_workers_keep_descriptors_and_memory_over_100k_requests(porch, docroot):
    os.makedirs(os.path.join(docroot, "cgi-bin"), exist_ok=True)
    with open(os.path.join(docroot, "cgi-bin", "ok.sh"), "w") as f:
        f.write(OK_SH)
    os.chmod(os.path.join(docroot, "cgi-bin", "ok.sh"), 0o755)
    p = porch(conf_lines=["cgi /cgi-bin/", "keepalive_requests 1000"], workers=2)
    workers = p.wait_workers(2)
    with socket.create_connection((p.host, p.port), 5) as s:
        s.sendall(b"HEAD /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        etag = re.search(rb"(?i)\r\nETag: (\S+)", s.recv(4096)).group(1).decode()
    mix = Mix(etag)

    drive(p, mix, 1000)
    before = {w: proc_stats(w, docroot) for w in workers + [p.pid]}
    t = time.monotonic()
    conns = drive(p, mix, 99000)
    took = time.monotonic() - t
    after = {w: proc_stats(w, docroot) for w in workers + [p.pid]}
    st = p.status()
    per = {w["pid"]: w["requests"] for w in st["workers"]}

    print("\n99,000 requests on %d connections in %.1f s (%.0f/s); restarts %d"
          % (conns, took, 99000 / took, st["restarts"]))
    for pid in workers + [p.pid]:
        b, a = before[pid], after[pid]
        print("%s %d: fds %d -> %d (+ cached files %d -> %d), Pss %d -> %d KiB"
              " (%+d), Pss_Anon %s -> %s KiB (%s), requests %s" % (
                  "master" if pid == p.pid else "worker", pid, b[0], a[0], b[1],
                  a[1], b[2], a[2], a[2] - b[2], b[3], a[3],
                  "n/a" if a[3] is None else "%+d" % (a[3] - b[3]),
                  per.get(pid, "-")))
    assert st["restarts"] == 0 and sorted(p.workers()) == sorted(workers)
    assert st["requests"] >= 100000
    for pid in workers:
        assert per[pid] > 5000, "one worker did nearly all the work: %r" % per
    for pid in workers + [p.pid]:
        assert after[pid][0] == before[pid][0], "descriptors of %d" % pid
        assert after[pid][1] <= FILE_CACHE_SLOTS, "cached files of %d" % pid
    if os.environ.get("PORCH_SANITIZE"):
        return
    for pid in workers:
        b, a = before[pid], after[pid]
        if a[3] is not None:
            assert a[3] - b[3] < PSS_BOUND_KB, "Pss_Anon of worker %d" % pid
        assert a[2] - b[2] < PSS_BOUND_KB + PSS_NOISE_KB, "Pss of worker %d" % pid
