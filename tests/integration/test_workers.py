"""The pre-forked pool (DESIGN 1): size, respawn after a crash, recycling
after max_requests_per_worker."""
import os
import signal

from conftest import exchange, get, wait_for
from test_http_core import Conn


def worker_of(r):
    """The worker serial inside X-Request-Id (boot-serial-count)."""
    rid = r.header("X-Request-Id")
    assert rid and rid.count("-") == 2, rid
    return rid.split("-")[1]


def test_w_flag_sets_the_number_of_workers(porch):
    p = porch(args=["-w", "3"])
    assert p.nworkers == 3          # ready: exactly 3 workers in accept
    assert len(p.workers()) == 3


def test_killed_worker_is_replaced(server):
    before = server.wait_workers(2)
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    after = server.wait_settled(what="a replacement worker in accept")
    assert victim not in after and len(after) == 2
    for _ in range(4):
        r = exchange(server, get(path="/hello.txt", extra="Connection: close\r\n"))[0]
        assert (r.status, r.body) == (200, b"hello, world\n")
    wait_for(lambda: str(victim) in server.log(), what="the crash logged")
    line = [l for l in server.log().splitlines() if str(victim) in l]
    assert line and "signal 9" in line[0], server.log()


def test_recycled_workers_serve_every_request(porch):
    p = porch(conf_lines=["max_requests_per_worker 5"], workers=1)
    statuses, serials, pids = [], set(), set()
    # 15 requests on fresh connections
    for _ in range(15):
        with Conn(p) as c:
            r = c.request(get(path="/hello.txt"))
        statuses.append(r.status)
        serials.add(worker_of(r))
        pids.update(p.workers())
    # 15 more on keep-alive connections, reconnecting when porch closes
    c = None
    for _ in range(15):
        if c is None:
            c = Conn(p)
        r = c.request(get(path="/hello.txt"))
        statuses.append(r.status)
        serials.add(worker_of(r))
        pids.update(p.workers())
        if r.header("Connection") == "close":
            c.close()
            c = None
    if c:
        c.close()
    assert statuses == [200] * 30
    assert len(serials) == 6, serials   # 30 requests / 5 per worker
    assert len(pids) >= 2


def test_recycled_worker_last_response_says_close(porch):
    p = porch(conf_lines=["max_requests_per_worker 5"], workers=1)
    with Conn(p) as c:
        rs = [c.request(get(path="/hello.txt")) for _ in range(5)]
        assert [r.header("Connection") for r in rs] == ["keep-alive"] * 4 + ["close"]
        assert len({worker_of(r) for r in rs}) == 1
        c.wait_closed()
    # the next worker serves the next connection
    with Conn(p) as c:
        r = c.request(get(path="/hello.txt"))
        assert r.status == 200 and worker_of(r) != worker_of(rs[0])
