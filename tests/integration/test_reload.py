"""Graceful reload and worker loss under load (DESIGN 2, 7 "Resilience"):
HUP every 500 ms while keep-alive clients fetch files, a SIGKILLed worker
mid-load. Nothing may be lost but what a browser would retry on its own.

The load client behaves like browsers and urllib3 (RFC 9112 9.3.1): a
request on a REUSED keep-alive connection that finds the connection closed
before any byte of the response arrived is retried once on a fresh
connection. Anything else is a failure: an error on a fresh connection, a
reset mid-response, a wrong status or body."""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import SLOW, get

FILES = {"/hello.txt": b"hello, world\n", "/1k.bin": bytes(range(256)) * 4}


class Closed(Exception):
    """The connection ended before any byte of the response."""


class Broken(Exception):
    """The connection failed after part of the response."""


def read_one(sock, timeout):
    """One response: (status, headers dict, body)."""
    sock.settimeout(timeout)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            b = sock.recv(65536)
            if not b:
                raise (Broken if buf else Closed)("EOF after %d bytes" % len(buf))
            buf += b
    except (ConnectionResetError, BrokenPipeError) as e:
        raise (Broken if buf else Closed)(repr(e))
    except socket.timeout:
        raise Broken("timeout after %d bytes of the head" % len(buf))
    end = buf.index(b"\r\n\r\n")
    lines = buf[:end].decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
    if not m:
        raise Broken("bad status line %r" % lines[0])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = buf[end + 4:]
    need = int(headers.get("content-length", "0"))
    try:
        while len(body) < need:
            b = sock.recv(65536)
            if not b:
                raise Broken("EOF mid-body at %d/%d" % (len(body), need))
            body += b
    except (ConnectionResetError, socket.timeout) as e:
        raise Broken("%r mid-body at %d/%d" % (e, len(body), need))
    if len(body) != need:
        raise Broken("%d bytes after the body" % (len(body) - need))
    return int(m.group(1)), headers, body


class Client:
    """One browser-like keep-alive connection with retry-once semantics."""

    def __init__(self, host, port, timeout=5 * SLOW):
        self.addr = (host, port)
        self.timeout = timeout
        self.sock = None
        self.requests = self.retries = self.connects = 0
        self.failures = []
        self.latencies = []

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _attempt(self, path):
        fresh = self.sock is None
        if fresh:
            self.sock = socket.create_connection(self.addr, self.timeout)
            self.connects += 1
        try:
            self.sock.sendall(get(path=path))
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed(repr(e))
        st, h, body = read_one(self.sock, self.timeout)
        if h.get("connection", "").lower() == "close":
            self.close()
        return fresh, st, h, body

    def get(self, path, want=None):
        """True when the request succeeded (after at most one retry)."""
        t0 = time.time()
        want = FILES.get(path) if want is None else want
        for attempt in (0, 1):
            reused = self.sock is not None
            try:
                _, st, h, body = self._attempt(path)
            except Closed as e:
                self.close()
                if reused and attempt == 0:
                    self.retries += 1
                    continue
                self.failures.append("%s on a fresh connection: %s" % (path, e))
                return False
            except (Broken, OSError) as e:
                self.close()
                self.failures.append("%s: %s" % (path, e))
                return False
            self.requests += 1
            if st != 200 or (want is not None and body != want):
                self.failures.append("%s: status %d, %d bytes" % (path, st, len(body)))
                self.close()
                return False
            self.latencies.append(time.time() - t0)
            return True
        return False


def run_load(p, threads, seconds, paths=("/hello.txt", "/1k.bin"), during=None):
    """threads keep-alive clients for seconds; during(stop_time) runs in the
    calling thread meanwhile. Returns the list of clients."""
    stop = time.time() + seconds
    clients = [Client(p.host, p.port) for _ in range(threads)]

    def work(c):
        i = 0
        while time.time() < stop and len(c.failures) < 20:
            c.get(paths[i % len(paths)])
            i += 1
        c.close()
    ts = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for t in ts:
        t.start()
    if during:
        during(stop)
    for t in ts:
        t.join(seconds + 30 * SLOW)
        assert not t.is_alive(), "a load thread hung"
    return clients


def totals(clients):
    lat = sorted(l for c in clients for l in c.latencies)
    return {
        "requests": sum(c.requests for c in clients),
        "retries": sum(c.retries for c in clients),
        "connects": sum(c.connects for c in clients),
        "failures": [f for c in clients for f in c.failures],
        "p99_ms": 1000 * lat[int(len(lat) * 0.99)] if lat else None,
        "max_ms": 1000 * lat[-1] if lat else None,
    }


def hup_every_500ms(p, hups):
    """A run_load companion: reloads p every 500 ms, counting in hups[0]."""
    def hup(stop):
        while time.time() < stop - 0.25:
            time.sleep(0.5)
            p.reload()
            hups[0] += 1
    return hup


def test_reload_every_500ms_under_keepalive_load(porch):
    p = porch(workers=4)
    p.wait_workers(4)
    hups = [0]
    clients = run_load(p, 8, 5.0, during=hup_every_500ms(p, hups))
    t = totals(clients)
    # the last HUP may have been sent just before the load ended
    st = p.wait_reloads(hups[0])
    print("\nreload under load: %d HUPs, %d requests, %d retries, %d connections, "
          "%d failures, generation %d, reloads %d, p99 %.1f ms, max %.1f ms"
          % (hups[0], t["requests"], t["retries"], t["connects"],
             len(t["failures"]), st["generation"], st["reloads"], t["p99_ms"],
             t["max_ms"]))
    assert t["failures"] == [], t["failures"][:10]
    assert t["requests"] > 1000 / SLOW
    assert st["generation"] == 1 + hups[0] and st["reloads"] == hups[0]
    assert hups[0] >= 8
    assert st["restarts"] == 0
    assert len(p.workers()) == 4
    assert {w["generation"] for w in st["workers"]} == {st["generation"]}


def test_reload_under_load_with_2_workers(porch):
    """The same with more clients than workers: pool pressure and reloads."""
    p = porch(workers=2)
    hups = [0]
    clients = run_load(p, 6, 4.0, during=hup_every_500ms(p, hups))
    t = totals(clients)
    st = p.wait_reloads(hups[0])
    print("\nreload under load, 2 workers: %d HUPs, %d requests, %d retries, "
          "%d failures, generation %d, p99 %.1f ms"
          % (hups[0], t["requests"], t["retries"], len(t["failures"]),
             st["generation"], t["p99_ms"]))
    assert t["failures"] == [], t["failures"][:10]
    assert t["requests"] > 500 / SLOW
    assert st["generation"] == 1 + hups[0]


def test_reload_under_wrk_load(porch):
    if not shutil.which("wrk"):
        pytest.skip("wrk not installed")
    p = porch(workers=4)
    p.wait_workers(4)
    proc = subprocess.Popen(["wrk", "-t2", "-c8", "-d5s", "--timeout", "2s",
                             p.url("/1k.bin")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    hups = 0
    t0 = time.time()
    while time.time() - t0 < 4.6 and proc.poll() is None:
        time.sleep(0.5)
        p.reload()
        hups += 1
    out, _ = proc.communicate(timeout=30 * SLOW)
    print("\nwrk with %d HUPs:\n%s" % (hups, out))
    assert proc.returncode == 0
    assert "Non-2xx or 3xx" not in out
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        # wrk counts a keep-alive connection closed between requests as a
        # read error; connect errors and timeouts are real failures.
        assert (int(m.group(1)), int(m.group(4))) == (0, 0), m.group(0)
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    assert reqs > 1000 / SLOW
    # The last HUP may have been sent just before wrk ended.
    assert p.wait_reloads(hups)["reloads"] == hups


def test_killed_worker_mid_load_affects_only_its_request(porch):
    p = porch(workers=4)
    p.wait_workers(4)
    killed = []

    def kill(stop):
        time.sleep(1.2)
        while time.time() < stop - 0.5 and len(killed) < 3:
            ws = [w for w in p.status()["workers"]
                  if w["uptime"] >= 2 and w["pid"] not in killed]
            if ws:
                victim = ws[0]["pid"]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
            time.sleep(1.3)
    clients = run_load(p, 6, 6.0, during=kill)
    t = totals(clients)
    p.wait_settled(what="the replacements in accept")
    st = p.status()
    print("\nworker kill under load: %d killed, %d requests, %d retries, "
          "%d failures %r, restarts %d"
          % (len(killed), t["requests"], t["retries"], len(t["failures"]),
             t["failures"], st["restarts"]))
    assert killed, "no worker old enough to kill"
    assert len(t["failures"]) <= len(killed), t["failures"]
    assert st["restarts"] == len(killed)
    assert len(p.workers()) == 4 and not set(killed) & set(p.workers())
    assert t["requests"] > 1000 / SLOW
