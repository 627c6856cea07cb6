"""The status endpoint (DESIGN 1, 8): the scoreboard as JSON on
status_path, loopback clients only, with counters that match what was done."""
import json
import os
import signal
import time

from conftest import (SLOW, exchange, get, parse_responses, read_response,
                      recv_until_close, wait_for)

TOP_FIELDS = {
    "server": str, "uptime": int, "generation": int, "reloads": int,
    "restarts": int, "workers_configured": int, "idle_workers": int,
    "requests": int, "connections": int, "bytes": int, "status_4xx": int,
    "status_5xx": int, "log_dropped": int, "workers": list,
}
WORKER_FIELDS = {
    "slot": int, "pid": int, "generation": int, "state": str, "requests": int,
    "connections": int, "bytes": int, "uptime": int, "client": str,
}
STATES = {"free", "starting", "accepting", "reading_head", "reading_body",
          "writing", "keepalive", "cgi", "closing"}



def raw_get(p, path, extra=""):
    """One request on a fresh connection: (response, bytes on the wire)."""
    with p.connect() as s:
        s.sendall(get(path=path, extra=extra + "Connection: close\r\n"))
        raw = recv_until_close(s)
    return parse_responses(raw)[0], len(raw)


def status(p, path="/server-status"):
    r, n = raw_get(p, path)
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/json"
    assert r.header("Cache-Control") == "no-store"
    return json.loads(r.body), n


def test_status_fields_and_types(porch):
    p = porch(workers=3)            # ready: all 3 wait in accept
    st, _ = status(p)
    for k, t in TOP_FIELDS.items():
        assert isinstance(st.get(k), t), (k, st.get(k))
    assert st["server"].startswith("porch/")
    assert st["workers_configured"] == 3
    assert (st["generation"], st["reloads"], st["restarts"]) == (1, 0, 0)
    assert len(st["workers"]) == 3
    for w in st["workers"]:
        for k, t in WORKER_FIELDS.items():
            assert isinstance(w.get(k), t), (k, w)
        assert w["state"] in STATES and w["generation"] == 1
        assert 0 <= w["uptime"] <= 5 * SLOW
    # the worker answering is busy writing, the others wait in accept
    states = sorted(w["state"] for w in st["workers"])
    assert states == ["accepting", "accepting", "writing"], states
    assert st["idle_workers"] == 2
    me = [w for w in st["workers"] if w["state"] == "writing"][0]
    assert me["client"] == "127.0.0.1"
    assert len({w["slot"] for w in st["workers"]}) == 3


def test_status_pids_are_the_masters_children(porch):
    p = porch(workers=4)
    kids = set(p.wait_workers(4))
    st, _ = status(p)
    assert {w["pid"] for w in st["workers"]} == kids == set(p.workers())


def test_status_counts_match_the_requests_made(porch):
    p = porch()
    st0, n0 = status(p)
    assert (st0["requests"], st0["status_4xx"], st0["status_5xx"]) == (0, 0, 0)
    assert st0["bytes"] == 0       # (the fixture's readiness probe is a connection)
    sizes = []
    plan = ["/hello.txt", "/missing", "/1k.bin", "/nope/x", "/sub/",
            "/.hidden", "/100k.bin", "/index.html"]
    statuses = []
    for path in plan:
        r, n = raw_get(p, path)
        statuses.append(r.status)
        sizes.append(n)
    # and 4 more on one keep-alive connection
    with p.connect() as s:
        for _ in range(3):
            s.sendall(get(path="/hello.txt"))
            r = read_response(s)
            statuses.append(r.status)
            sizes.append(len(r.raw_head) + 4 + len(r.body))
        s.sendall(get(path="/missing2", extra="Connection: close\r\n"))
        raw = recv_until_close(s)
        statuses.append(parse_responses(raw)[0].status)
        sizes.append(len(raw))
    k404 = statuses.count(404)
    assert k404 == 4, statuses
    st1, _ = status(p)
    n_req = len(statuses)
    assert st1["requests"] == 1 + n_req            # + the first status
    assert st1["status_4xx"] == k404
    assert st1["status_5xx"] == 0
    assert st1["connections"] - st0["connections"] == len(plan) + 1 + 1
    # bytes: everything sent before this status request, heads included
    assert st1["bytes"] - st0["bytes"] == n0 + sum(sizes)
    assert sum(w["requests"] for w in st1["workers"]) == st1["requests"]
    assert sum(w["connections"] for w in st1["workers"]) == st1["connections"]
    assert sum(w["bytes"] for w in st1["workers"]) == st1["bytes"]


def test_status_bytes_are_exact_on_fresh_connections(porch):
    p = porch()
    st0, n0 = status(p)
    sizes = [raw_get(p, path)[1] for path in ("/hello.txt", "/1k.bin", "/missing")]
    st1, _ = status(p)
    assert st1["bytes"] - st0["bytes"] == n0 + sum(sizes)


def test_status_counts_5xx(porch, tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("u:$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0\n")
    p = porch(conf_lines=["auth /adm R %s" % pw])
    os.unlink(pw)              # unreadable password file: 500
    r, _ = raw_get(p, "/adm/", "Authorization: Basic dTpzZWNyZXQ=\r\n")
    assert r.status == 500
    st, _ = status(p)
    assert st["status_5xx"] == 1 and st["status_4xx"] == 0


def test_status_restarts_after_a_killed_worker_and_keeps_counts(porch):
    p = porch()
    for _ in range(5):
        raw_get(p, "/hello.txt")
    st0, _ = status(p)
    victim = st0["workers"][0]["pid"]
    os.kill(victim, signal.SIGKILL)
    new = p.wait_settled(what="the replacement in accept")
    assert victim not in new
    st1, _ = status(p)
    assert st1["restarts"] == st0["restarts"] + 1
    assert st1["requests"] == st0["requests"] + 1     # nothing lost
    assert {w["pid"] for w in st1["workers"]} == set(new) == set(p.workers())
    assert st1["generation"] == 1 and st1["reloads"] == 0


def test_status_reloads_and_generation_after_hup(porch):
    p = porch()
    old = set(p.workers())
    p.reload()
    wait_for(lambda: p.pool_settled() and not set(p.workers()) & old,
             what="new generation")
    st, _ = status(p)
    assert (st["generation"], st["reloads"], st["restarts"]) == (2, 1, 0)
    assert {w["generation"] for w in st["workers"]} == {2}
    assert {w["pid"] for w in st["workers"]} == set(p.workers())
    p.reload()
    wait_for(lambda: status(p)[0]["generation"] == 3, what="generation 3")
    st, _ = status(p)
    assert st["reloads"] == 2 and st["restarts"] == 0


def test_status_shows_keepalive_and_reading_head_states(porch):
    p = porch(workers=3)
    with p.connect() as ka, p.connect() as partial:
        ka.sendall(get(path="/hello.txt"))
        read_response(ka)
        partial.sendall(b"GET /hello.txt HTTP/1.1\r\nHo")
        # the partial head's worker is reading it once accepted
        wait_for(lambda: sorted(w["state"] for w in status(p)[0]["workers"])
                 == ["keepalive", "reading_head", "writing"],
                 what="keepalive, reading_head and writing")
        st, _ = status(p)
        assert st["idle_workers"] == 0
        assert all(w["client"] == "127.0.0.1" for w in st["workers"])


def test_status_uptime_grows(porch):
    p = porch()
    st0, _ = status(p)
    time.sleep(1.1)
    st1, _ = status(p)
    assert st1["uptime"] >= st0["uptime"] + 1


def test_status_path_off_is_404(porch):
    p = porch(conf_lines=["status_path off"])
    r, _ = raw_get(p, "/server-status")
    assert r.status == 404


def test_custom_status_path(porch):
    p = porch(conf_lines=["status_path /_porch/status"])
    r, _ = raw_get(p, "/server-status")
    assert r.status == 404
    st, _ = status(p, "/_porch/status")
    assert st["workers_configured"] == 2


def test_status_only_get_and_head(server):
    r = exchange(server, b"POST /server-status HTTP/1.1\r\nHost: a\r\n"
                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")[0]
    assert r.status == 405 and r.header("Allow") == "GET, HEAD"
    with server.connect() as s:
        s.sendall(get(method="HEAD", path="/server-status",
                      extra="Connection: close\r\n"))
        r = read_response(s, head_request=True)
    assert r.status == 200 and int(r.header("Content-Length")) > 100

