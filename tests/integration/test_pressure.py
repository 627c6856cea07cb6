"""A fixed pool under pressure (DESIGN 2): idle keep-alive connections and
slow clients must not make a small pool stall. Figures are printed; the
assertions are generous bounds, not benchmarks."""
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
from test_reload import Client, run_load, totals

pytestmark = pytest.mark.host_only

ASSETS = ["/style.css", "/app.js", "/data.json", "/hello.txt", "/1k.bin",
          "/sub/page.html", "/index.html", "/empty.txt"]


def page_load(p, conns=6, per_conn=4, think=0.0):
    """A browser: the page, then `conns` keep-alive connections opened at
    once, each fetching per_conn assets in turn (retrying once on a fresh
    connection when a reused one is found closed). Returns (seconds,
    clients)."""
    docroot = p.docroot
    want = {a: open(os.path.join(docroot, a.lstrip("/")), "rb").read()
            for a in ASSETS}
    clients = [Client(p.host, p.port) for _ in range(conns)]
    barrier = threading.Barrier(conns)
    t0 = time.time()

    def work(i, c):
        barrier.wait()
        for k in range(per_conn):
            a = ASSETS[(i * per_conn + k) % len(ASSETS)]
            c.get(a, want[a])
            if think:
                time.sleep(think)
        c.close()
    ts = [threading.Thread(target=work, args=(i, c), daemon=True)
          for i, c in enumerate(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30 * SLOW)
        assert not t.is_alive(), "page load hung"
    return time.time() - t0, clients


@pytest.mark.parametrize("think", [0.0, 0.05], ids=["back-to-back", "50ms-think"])
def test_browser_page_load_on_two_workers(porch, think):
    p = porch(conf_lines=["keepalive_timeout 5"], workers=2)
    p.wait_workers(2)
    times = []
    for _ in range(3):
        took, clients = page_load(p, think=think)
        t = totals(clients)
        times.append(took)
        print("\npage load (6 connections x 4 assets, think %d ms, 2 workers): "
              "%.3f s, %d retries, %d connections, failures %r"
              % (think * 1000, took, t["retries"], t["connects"], t["failures"]))
        assert t["failures"] == []
        assert t["requests"] == 24
        time.sleep(0.2)
    assert max(times) < 1.0 * SLOW, times


def test_idle_keepalive_connections_do_not_hold_the_pool(porch):
    """Two browsers' idle keep-alive connections occupy both workers; a third
    client must still be served at once, not after keepalive_timeout."""
    p = porch(conf_lines=["keepalive_timeout 5"], workers=2)
    p.wait_workers(2)
    idle = [Client(p.host, p.port) for _ in range(2)]
    for c in idle:
        assert c.get("/hello.txt")
    time.sleep(0.1)
    t0 = time.time()
    c = Client(p.host, p.port)
    assert c.get("/1k.bin"), c.failures
    took = time.time() - t0
    c.close()
    print("\nthird client behind 2 idle keep-alive connections: %.1f ms" % (took * 1000))
    assert took < 0.5 * SLOW
    # the idle ones may have been closed: they retry once, like a browser
    for c in idle:
        assert c.get("/hello.txt"), c.failures
        c.close()


def test_tricklers_that_came_first_do_not_hold_the_pool(porch):
    """Two clients connect to an idle 2-worker pool and trickle their heads;
    pressure arises only afterwards, when a good client queues. The workers
    must notice it while waiting for the heads (pressure_grace), not keep
    the tricklers for the whole header_timeout (10 s)."""
    p = porch(workers=2)
    p.wait_workers(2)
    slow = []
    try:
        for _ in range(2):
            s = p.connect()
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
            slow.append(s)
            time.sleep(0.1)
        t0 = time.time()
        c = Client(p.host, p.port, timeout=4)
        ok = c.get("/1k.bin")
        took = time.time() - t0
        c.close()
    finally:
        for s in slow:
            s.close()
    print("\ngood client behind 2 tricklers that came first: %.1f ms, %r"
          % (took * 1000, c.failures))
    assert ok, c.failures
    assert took < 1.0 * SLOW


def test_slowloris_does_not_starve_a_good_client(porch, tmp_path):
    tool = shutil.which("slowhttptest")
    if not tool:
        pytest.skip("slowhttptest not installed (apt-get install slowhttptest)")
    p = porch(workers=2)
    p.wait_workers(2)
    out = open(tmp_path / "slowhttptest.out", "w")
    slow = subprocess.Popen(
        [tool, "-H", "-c", "300", "-r", "100", "-i", "10", "-l", "20",
         "-u", p.url("/"), "-g", "-o", str(tmp_path / "slow")],
        stdout=out, stderr=subprocess.STDOUT)
    lat, fails = [], []
    try:
        time.sleep(3)                    # let it open its 300 connections
        assert slow.poll() is None, open(tmp_path / "slowhttptest.out").read()
        end = time.time() + 13
        while time.time() < end:
            t0 = time.time()
            try:
                with socket.create_connection((p.host, p.port), 5) as s:
                    s.settimeout(5)
                    s.sendall(get(path="/1k.bin", extra="Connection: close\r\n"))
                    data = b""
                    while True:
                        b = s.recv(65536)
                        if not b:
                            break
                        data += b
                ok = data.startswith(b"HTTP/1.1 200 ") and \
                    data.endswith(bytes(range(256)) * 4)
                if not ok:
                    fails.append(data[:80])
            except OSError as e:
                fails.append(repr(e))
            lat.append(time.time() - t0)
            time.sleep(max(0, 0.1 - (time.time() - t0)))
        st = p.status()
    finally:
        if slow.poll() is None:
            slow.send_signal(signal.SIGINT)
            try:
                slow.wait(5)
            except subprocess.TimeoutExpired:
                slow.kill()
                slow.wait(5)
        out.close()
    report = re.sub(r"\x1b\[[0-9;]*m", "", open(tmp_path / "slowhttptest.out",
                                                errors="replace").read())
    lat.sort()
    p99 = lat[int(len(lat) * 0.99)]
    closed = re.findall(r"closed:\s+(\d+)", report)
    avail = re.findall(r"service available:\s+(\w+)", report)
    print("\nslowloris (300 conns) vs 2 workers: %d fetches, %d failed, "
          "max %.1f ms, p99 %.1f ms, median %.1f ms; porch connections %d; "
          "slowhttptest: last 'closed' %s, its probe saw service available %s"
          % (len(lat), len(fails), lat[-1] * 1000, p99 * 1000,
             lat[len(lat) // 2] * 1000, st["connections"],
             closed[-1] if closed else "?", "/".join(sorted(set(avail)))))
    assert fails == [], fails[:5]
    assert len(lat) >= 80
    assert lat[-1] < 2.0 * SLOW, "a fetch took %.2f s" % lat[-1]


def test_64_connections_on_4_workers_all_served(porch):
    """Python clients: 64 keep-alive connections at once on 4 workers for
    4 s; every connection gets served, no failures."""
    p = porch(workers=4)
    p.wait_workers(4)
    clients = run_load(p, 64, 4.0, paths=("/1k.bin",))
    t = totals(clients)
    served = sum(1 for c in clients if c.requests >= 1)
    print("\n64 python connections on 4 workers: %d requests (%.0f req/s), %d "
          "retries, p99 %.1f ms, max %.1f ms, %d/64 connections served, "
          "least served %d"
          % (t["requests"], t["requests"] / 4.0, t["retries"], t["p99_ms"],
             t["max_ms"], served, min(c.requests for c in clients)))
    assert t["failures"] == [], t["failures"][:5]
    assert served == 64
    assert t["max_ms"] < 2000 * SLOW


def test_64_connections_with_wrk(porch):
    if not shutil.which("wrk"):
        pytest.skip("wrk not installed")
    p = porch(workers=4)
    p.wait_workers(4)
    r = subprocess.run(["wrk", "-t1", "-c64", "-d5s", "--latency", "--timeout",
                        "2s", p.url("/1k.bin")], capture_output=True, text=True,
                       timeout=30)
    print("\nwrk -t1 -c64 -d5s --latency, 4 workers:\n" + r.stdout + r.stderr)
    assert r.returncode == 0
    out = r.stdout
    assert "Non-2xx or 3xx" not in out
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        assert (int(m.group(1)), int(m.group(4))) == (0, 0), m.group(0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert rps > 1000 / SLOW
    if p99:
        v = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
        assert v < 1000 * SLOW, "p99 %.1f ms" % v
