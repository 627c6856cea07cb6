#!/usr/bin/python3
"""Tables, charts and target verdicts of the LAN benchmark (bench/lan.py).

    python3 bench/lanreport.py [build/bench/lan.json]

rewrites build/bench/lan.md (every cell), build/bench/lan-cpu.png,
lan-tls.png, lan-page.png and bench/RESULTS.md (the summary, with the
hand-written reading in bench/analysis.md) from a stored run.
"""
import json
import math
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report as R  # noqa: E402
from report import fmt, fmt_ms, fmt_ratio, med, ratio, table  # noqa: E402,F401
ORDER = ["porch", "nginx", "lighttpd", "apache", "busybox"]


def pct(xs, q):
    """Nearest-rank percentile."""
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    return xs[max(0, min(len(xs) - 1, math.ceil(q * len(xs)) - 1))]


# ---------------------------------------------------------------- aggregation

def agg_cpu(res):
    groups = {}
    for r in res.get("cpu_runs", []):
        groups.setdefault(r["workload"], {}).setdefault(r["server"], []).append(r)
    out = {}
    for wl, per in groups.items():
        out[wl] = {}
        for srv, runs in per.items():
            a = {k: med([r.get(k) for r in runs]) for k in (
                "rps", "mbps", "p50", "p99", "cpu_us_per_req", "sleeps_per_req",
                "relay_us_per_req", "client_us_per_req", "cli_core_busy_pct", "cli_ours_pct",
                "srv_core_other_pct", "cli_core_other_pct")}
            a["n"] = len(runs)
            a["cpu_all"] = [r.get("cpu_us_per_req") for r in runs]
            for k in ("errors", "timeouts", "requests", "eof_reads"):
                a[k] = sum(r.get(k) or 0 for r in runs)
            a["died"] = any(not r.get("alive", True) for r in runs)
            out[wl][srv] = a
    return out


def agg_tls(res):
    groups = {}
    for r in res.get("tls_runs", []):
        key = "%s %s" % (r["version"], "resumed" if r["resume"] else "full")
        groups.setdefault(key, {}).setdefault(r["server"], []).append(r)
    out = {}
    for key, per in groups.items():
        out[key] = {}
        for srv, runs in per.items():
            conns = sum(r.get("connections", 0) for r in runs)
            out[key][srv] = {
                "rate": med([r.get("rate") for r in runs]),
                "cpu_us": med([r.get("cpu_us_per_req") for r in runs]),
                "p50": med([r.get("p50_ms") for r in runs]),
                "p99": med([r.get("p99_ms") for r in runs]),
                "reused": sum(r.get("reused", 0) for r in runs), "connections": conns,
                "errors": sum(r.get("errors", 0) for r in runs),
                "tls": next((r.get("tls") for r in runs if r.get("tls")), ""),
                "cli_core_busy_pct": med([r.get("cli_core_busy_pct") for r in runs]),
                "srv_core_other_pct": med([r.get("srv_core_other_pct") for r in runs])}
    return out


def agg_page(res):
    groups = {}
    for run in res.get("page_runs", []):
        for x in run["loads"]:
            key = (run["server"], run["proto"], run["cond"], x["kind"])
            groups.setdefault(key, []).append(x)
    out = {}
    for key, loads in groups.items():
        ok = [x for x in loads if not x.get("timeout")]
        ms = [x["ms"] for x in ok]
        out[key] = {"n": len(loads), "p50": pct(ms, 0.5), "p95": pct(ms, 0.95),
                    "max": max(ms) if ms else None,
                    "errors": sum(x.get("errors", 0) for x in loads),
                    "timeouts": sum(1 for x in loads if x.get("timeout")),
                    "opened": med([x.get("opened") for x in loads]),
                    "kept": med([x.get("kept_conns") for x in loads]),
                    "full": med([x.get("full") for x in loads]),
                    "resumed": med([x.get("resumed") for x in loads]),
                    "retries": sum(x.get("retries", 0) for x in loads),
                    "bytes": med([x.get("bytes") for x in loads])}
    # load achieved and server CPU per pair of loads
    extra = {}
    for run in res.get("page_runs", []):
        key = (run["server"], run["proto"], run["cond"])
        e = extra.setdefault(key, {"load_rps": [], "load_errors": 0, "load_p99": [],
                                   "cpu_ms_per_pair": []})
        if run.get("load"):
            e["load_rps"].append(run["load"].get("rps"))
            e["load_p99"].append(run["load"].get("p99_ms"))
            e["load_errors"] += run["load"].get("errors", 0) + run["load"].get("non200", 0)
        pairs = sum(1 for x in run["loads"] if x["kind"] == "cold")
        if pairs and run["cond"] == "alone":
            e["cpu_ms_per_pair"].append(1e3 * run["server_cpu_s"] / pairs)
    return out, {k: {"load_rps": med(v["load_rps"]), "load_p99": med(v["load_p99"]),
                     "load_errors": v["load_errors"],
                     "cpu_ms_per_pair": med(v["cpu_ms_per_pair"])} for k, v in extra.items()}


def servers_in(groups):
    present = set(s for per in groups.values() for s in per)
    return [s for s in ORDER if s in present]


# ---------------------------------------------------------------- busy machine

def busy(res):
    """How much else ran on the two cores during the runs."""
    runs = res.get("cpu_runs", []) + res.get("tls_runs", [])
    srv = [r.get("srv_core_other_pct") for r in runs if r.get("srv_core_other_pct") is not None]
    cli = [r.get("cli_core_other_pct") for r in runs if r.get("cli_core_other_pct") is not None]
    m = res["machine"]
    la = float(m.get("loadavg_start", ["0"])[0])
    out = {"srv_other_med": med(srv), "srv_other_max": max(srv) if srv else None,
           "cli_other_med": med(cli), "load_start": la,
           "load_end": float(m.get("loadavg_end", ["0"])[0])}
    out["busy"] = ((out["srv_other_med"] or 0) > 5 or (out["cli_other_med"] or 0) > 10
                   or la > 1.0)
    return out


# ---------------------------------------------------------------- targets

def targets(res, cpu, page):
    t = []

    def g(wl, s):
        return (cpu.get(wl, {}).get(s) or {}).get("cpu_us_per_req")
    for wl, c in (("ka-1k-c2", 2), ("ka-1k-c8", 8)):
        p, lt = g(wl, "porch"), g(wl, "lighttpd")
        r = ratio(p, lt)
        t.append(("Server CPU per request, 1 KB keep-alive c=%d: porch ≤ lighttpd" % c,
                  "porch %s µs, lighttpd %s µs → %s" % (fmt(p, 1), fmt(lt, 1), fmt_ratio(r)),
                  "not measured" if r is None else "met" if r <= 1.0 else
                  "NOT MET (+%.0f%%)" % (100 * (r - 1))))
    worse, rows = [], []
    for w in res.get("workloads", []):
        p, n = g(w["id"], "porch"), g(w["id"], "nginx")
        if p is None or n is None:
            continue
        rows.append("%s %s" % (w["id"], fmt_ratio(ratio(p, n))))
        if p >= n:
            worse.append(w["id"])
    t.append(("Server CPU per request: porch < nginx in every workload",
              "porch/nginx: " + ", ".join(rows) if rows else "–",
              "not measured" if not rows else "met" if not worse else
              "NOT MET (%s)" % ", ".join(worse)))
    for cond in ("alone", "loaded"):
        p = (page.get(("porch", "https", cond, "cold")) or {}).get("p50")
        lt = (page.get(("lighttpd", "https", cond, "cold")) or {}).get("p50")
        r = ratio(p, lt)
        t.append(("Admin page, HTTPS, cold, 2 workers, 6 connections%s: porch ≤ 1.1× lighttpd "
                  "(p50)" % (", 50 busy connections" if cond == "loaded" else ", alone"),
                  "porch %s ms, lighttpd %s ms → %s" % (fmt_ms(p), fmt_ms(lt), fmt_ratio(r)),
                  "not measured" if r is None else "met" if r <= 1.1 else
                  "NOT MET (%s)" % fmt_ratio(r)))
    a = (page.get(("porch", "https", "alone", "cold")) or {}).get("p50")
    lo = (page.get(("porch", "https", "loaded", "cold")) or {}).get("p95")
    r = ratio(lo, a)
    t.append(("porch's admin page (HTTPS, cold): p95 under load ≤ 2× p50 alone",
              "p95 loaded %s ms, p50 alone %s ms → %s" % (fmt_ms(lo), fmt_ms(a), fmt_ratio(r)),
              "not measured" if r is None else "met" if r <= 2.0 else
              "NOT MET (%s)" % fmt_ratio(r)))
    return t


# ---------------------------------------------------------------- sections

def link_section(res):
    lk = res.get("link")
    if not lk:
        return "(link not calibrated in this run)"
    rows = []
    for key, label in (("ping_veth", "veth alone (no relay)"),
                       ("ping_relay0", "through the relay at 0 delay"),
                       ("ping_link", "through the relay at %d µs each way" % (
                           res["rtt_us"] // 2))):
        p = lk.get(key, {})
        rows.append([label, fmt(p.get("min_us")), fmt(p.get("p50_us")), fmt(p.get("mean_us")),
                     fmt(p.get("p99_us"))])
    out = ["Round trip of one byte, µs (client on CPU 1, echo server on CPU 0):\n",
           table(["path", "min", "p50", "mean", "p99"], rows)]
    sy = lk.get("sys") or {}
    if sy.get("wakeup_us") is not None:
        out.append("\nWhat this machine charges for a sleep and a fork (`lanclient sys`): a "
                   "wakeup across the two cores takes %s µs and costs %s µs of CPU per "
                   "sleep-and-wake on the sleeping side; fork + exit + wait (BusyBox httpd "
                   "per connection, every CGI) costs %s µs of CPU (%s µs wall). On this VM "
                   "both are large: every sleep per request and every fork weigh more than "
                   "on a router's bare core." % (
                       fmt(sy["wakeup_us"]), fmt(sy["wakeup_cpu_us"]), fmt(sy["fork_cpu_us"]),
                       fmt(sy["fork_wait_us"])))
    rows = []
    for key, b in sorted(lk.get("bulk", {}).items()):
        label, rate = key.split("-")
        rows.append(["%s Mbit/s" % rate, "relay" if label == "link" else "veth only",
                     fmt(b.get("mbit_s"), 1),
                     fmt(b.get("relay_ns_per_byte"), 2) if b.get("relay_ns_per_byte") else "–"])
    out.append("\nOne TCP download through the link (tbf on both ends):\n")
    out.append(table(["rate", "path", "achieved Mbit/s", "relay CPU ns/byte"], rows))
    dr = {sec: sum(max(0, r.get("drops") or 0) for r in res.get(key, []))
          for sec, key in (("CPU rows", "cpu_runs"), ("TLS", "tls_runs"),
                           ("page loads", "page_runs"))}
    if any(("drops" in r) for key in ("cpu_runs", "tls_runs", "page_runs")
           for r in res.get(key, [])):
        out.append("\nPackets the link (tbf, 4 MB queue) dropped during the measured runs: "
                   + ", ".join("%s %d" % (k, v) for k, v in dr.items()) + ".")
    rs = res.get("relay_stats") or {}
    if rs:
        out.append("\nRelay over the whole run: %s connections, %s MB up, %s MB down; its "
                   "writes left p50 ≤ %s µs and p99 ≤ %s µs after their due time." % (
                       fmt(rs.get("accepted")), fmt(rs.get("bytes_up", 0) / 1e6),
                       fmt(rs.get("bytes_down", 0) / 1e6), rs.get("late_p50_us_le"),
                       rs.get("late_p99_us_le")))
    return "\n".join(out)


def cpu_tables(res, cpu, full):
    srvs = servers_in(cpu)
    wls = [w for w in res.get("workloads", []) if w["id"] in cpu]
    parts = []

    def rows_of(key, digits, extra=None):
        rows = []
        for w in wls:
            row = [w["title"]]
            for s in srvs:
                a = cpu[w["id"]].get(s)
                if not a:
                    row.append("–")
                    continue
                cell = fmt(a.get(key), digits)
                if extra:
                    cell += extra(a)
                row.append(cell)
            rows.append(row)
        return rows

    def flags(a):
        bad = (a["errors"] or 0) + (a["timeouts"] or 0)
        return (" ⚠%d" % bad if bad else "") + (" ✝" if a["died"] else "")
    parts.append("### Server CPU per request, µs (headline)\n\n"
                 "All of the server's processes (CGIs included), from its cpuacct cgroup, "
                 "divided by the requests wrk completed; median of %d runs.\n\n" % res["reps"]
                 + table(["workload"] + srvs, rows_of("cpu_us_per_req", 1, flags)))
    rows = []
    for w in wls:
        p = (cpu[w["id"]].get("porch") or {}).get("cpu_us_per_req")
        rows.append([w["title"]] + [fmt_ratio(ratio(p, (cpu[w["id"]].get(s) or {}).get(
            "cpu_us_per_req"))) for s in srvs if s != "porch"])
    parts.append("### porch's CPU per request ÷ each server's (below 1 = porch cheaper)\n\n"
                 + table(["workload"] + [s for s in srvs if s != "porch"], rows))
    parts.append("### Requests/s (median)\n\n" + table(
        ["workload"] + srvs, rows_of("rps", 0, flags))
        + "\n\n⚠N: errors + timeouts summed over the runs; ✝: the server died.")
    lat = []
    for w in wls:
        lat.append([w["title"]] + ["%s / %s" % (fmt_ms((cpu[w["id"]].get(s) or {}).get("p50")),
                                                fmt_ms((cpu[w["id"]].get(s) or {}).get("p99")))
                                   if cpu[w["id"]].get(s) else "–" for s in srvs])
    parts.append("### Latency p50 / p99, ms (wrk, median of runs)\n\n"
                 + table(["workload"] + srvs, lat))
    parts.append("### Server sleeps per request (voluntary context switches)\n\n"
                 + table(["workload"] + srvs, rows_of("sleeps_per_req", 2)))
    if full:
        parts.append("### Client side per request: relay CPU µs / client CPU µs / % of "
                     "the client's core used by both\n\n" + table(["workload"] + srvs, [
                         [w["title"]] + ["%s / %s / %s" % (
                             fmt((cpu[w["id"]].get(s) or {}).get("relay_us_per_req"), 1),
                             fmt((cpu[w["id"]].get(s) or {}).get("client_us_per_req"), 1),
                             fmt((cpu[w["id"]].get(s) or {}).get("cli_ours_pct")))
                             if cpu[w["id"]].get(s) else "–" for s in srvs] for w in wls]))
        parts.append("### Other work on the server's core during the run, % of the core\n\n"
                     "CPU 0's busy time (/proc/stat) less the server's own: other programs "
                     "on the machine, and the link's receive softirqs run while the core "
                     "was otherwise idle.\n\n"
                     + table(["workload"] + srvs, rows_of("srv_core_other_pct", 0)))
    else:
        # rows without the relay (no added delay) have none to count
        rl = [a.get("relay_us_per_req") for per in cpu.values() for a in per.values()
              if a.get("relay_us_per_req")]
        cl = [(a.get("cli_ours_pct"), w, s) for w, per in cpu.items() for s, a in per.items()
              if a.get("cli_ours_pct") is not None]
        if rl and cl:
            top = max(cl)
            parts.append("The relay's own CPU, on the client's core and never counted as the "
                         "server's: median %s µs per request (%s–%s over the cells). Relay "
                         "and client together used at most %s%% of the client's core (%s, "
                         "%s)%s. Per cell in build/bench/lan.md." % (
                             fmt(med(rl), 1), fmt(min(rl), 1), fmt(max(rl), 1), fmt(top[0]),
                             top[1], top[2],
                             ": that cell may be bound by the client side" if top[0] > 85
                             else ": the client side did not set the pace"))
    return "\n\n".join(parts)


def tls_tables(res, tls):
    if not tls:
        return "(no TLS runs)"
    srvs = servers_in(tls)
    keys = [k for k in ("1.3 full", "1.3 resumed", "1.2 full", "1.2 resumed") if k in tls]
    rows = []
    for k in keys:
        row = [k]
        for s in srvs:
            a = tls[k].get(s)
            if not a:
                row.append("–")
                continue
            cell = "%s /s, %s µs" % (fmt(a["rate"]), fmt(a["cpu_us"]))
            if k.endswith("resumed") and a["connections"]:
                cell += " (%d%% resumed)" % round(100 * a["reused"] / a["connections"])
            if a["errors"]:
                cell += " ⚠%d" % a["errors"]
            row.append(cell)
        rows.append(row)
    out = ["Connections per second and server CPU per connection (TLS handshake + one "
           "1 KB GET, `Connection: close`), %d connections at a time over the link, "
           "median of %d runs:\n" % (res["hs_conns"], res["reps"]),
           table(["handshake"] + srvs, rows)]
    rows = []
    for k in keys:
        p = (tls[k].get("porch") or {}).get("cpu_us")
        rows.append([k] + [fmt_ratio(ratio(p, (tls[k].get(s) or {}).get("cpu_us")))
                           for s in srvs if s != "porch"])
    out.append("\nporch's CPU per handshake ÷ each server's:\n")
    out.append(table(["handshake"] + [s for s in srvs if s != "porch"], rows))
    rows = [[k] + [(tls[k].get(s) or {}).get("tls", "–") or "–" for s in srvs] for k in keys]
    out.append("\nNegotiated (version, cipher, group; the client offers X25519, P-256, "
               "P-384 as a browser does):\n")
    out.append(table(["handshake"] + srvs, rows))
    rows = [[k] + ["%s / %s" % (fmt_ms((tls[k].get(s) or {}).get("p50")),
                                fmt_ms((tls[k].get(s) or {}).get("p99"))) for s in srvs]
            for k in keys]
    out.append("\nTime per connection p50 / p99, ms (connect to last byte, on the link):\n")
    out.append(table(["handshake"] + srvs, rows))
    errs = []
    for k in keys:
        for s in srvs:
            runs = [r for r in res.get("tls_runs", []) if r["server"] == s and
                    "%s %s" % (r["version"], "resumed" if r["resume"] else "full") == k]
            e = {f: sum(r.get(f, 0) for r in runs) for f in
                 ("err_connect", "err_handshake", "err_answer", "non200")}
            what = {"err_connect": "could not connect",
                    "err_handshake": "failed in the handshake",
                    "err_answer": "closed after the handshake, before the answer",
                    "non200": "answered, not 200"}
            if any(e.values()):
                errs.append("%s %s: %s" % (s, k, ", ".join(
                    "%d %s" % (v, what[f]) for f, v in e.items() if v)))
    if errs:
        out.append("\n⚠ connections that failed, by where: " + "; ".join(errs) + ".")
    mem = res.get("tls_memory") or {}
    if mem:
        rows = []
        for s in [x for x in ORDER if x in mem]:
            m = mem[s]
            rows.append([s, "%d (%d procs)" % (m["idle"]["pss_kib"], m["idle"]["procs"]),
                         fmt(m["idle"]["private_kib"]), fmt(m["plain"]["private_kib"]),
                         fmt(m["tls"]["private_kib"]),
                         "%+d" % (m["tls"]["private_kib"] - m["plain"]["private_kib"])])
        out.append("\nMemory of all the server's processes, KiB: idle, then holding two idle "
                   "keep-alive connections (one GET each), plain and TLS 1.3. Private pages "
                   "(PSS would fall when the client maps the same libssl):\n")
        out.append(table(["server", "idle PSS", "idle private", "private, 2 plain conns",
                          "private, 2 TLS conns", "TLS − plain"], rows))
    return "\n".join(out)


def page_tables(res, page, extra, full):
    if not page:
        return "(no page loads)"
    srvs = [s for s in ("porch", "lighttpd", "nginx") if any(k[0] == s for k in page)]
    combos = [(p, c, k) for p in ("https", "http") for c in ("alone", "loaded")
              for k in ("cold", "warm")]
    rows = []
    for p, c, k in combos:
        row = ["%s, %s, %s" % (p.upper(), k, c if c == "alone" else "under load")]
        any_ = False
        for s in srvs:
            a = page.get((s, p, c, k))
            if not a:
                row.append("–")
                continue
            any_ = True
            cell = "%s / %s" % (fmt_ms(a["p50"]), fmt_ms(a["p95"]))
            if a["errors"] or a["timeouts"]:
                cell += " ⚠%d" % (a["errors"] + a["timeouts"])
            row.append(cell)
        lt = (page.get(("lighttpd", p, c, k)) or {}).get("p50")
        row.append(fmt_ratio(ratio((page.get(("porch", p, c, k)) or {}).get("p50"), lt)))
        if any_:
            rows.append(row)
    n = max(a["n"] for a in page.values())
    out = ["Time to the last byte of the admin page, p50 / p95 ms over %d loads per cell "
           "(%d pairs of cold + warm loads per pass, %d passes, servers interleaved):\n" % (
               n, res["pairs"], res["reps"]),
           table(["load"] + srvs + ["porch ÷ lighttpd (p50)"], rows)]
    files = res.get("page") or {}
    if files:
        out.append("\nThe page: %d requests, %s bytes of bodies (%s). Under load, %d other "
                   "keep-alive connections each ask for a %s JSON file again %d ms after "
                   "each answer." % (
                       len(files), fmt(sum(files.values())),
                       ", ".join("%s %s" % (k.rsplit("/", 1)[-1], fmt(v))
                                 for k, v in files.items()),
                       res["load_conns"], "/api/poll.json", res["think_ms"]))
    rows = []
    for s in srvs:
        for p in ("http", "https"):
            e = extra.get((s, p, "loaded")) or {}
            e0 = extra.get((s, p, "alone")) or {}
            rows.append([s, p.upper(), fmt(e.get("load_rps")), fmt_ms(e.get("load_p99")),
                         fmt(e.get("load_errors")), fmt(e0.get("cpu_ms_per_pair"), 2)])
    out.append("\nThe background load as it ran, and server CPU per pair of page loads "
               "(alone):\n")
    out.append(table(["server", "page over", "load req/s", "load p99 ms", "load errors",
                      "server CPU ms per cold+warm pair"], rows))
    if full:
        rows = []
        for p, c, k in combos:
            for s in srvs:
                a = page.get((s, p, c, k))
                if not a:
                    continue
                rows.append(["%s %s %s" % (p, c, k), s, a["n"], fmt_ms(a["p50"]),
                             fmt_ms(a["p95"]), fmt_ms(a["max"]), fmt(a["opened"], 1),
                             fmt(a["kept"], 1), fmt(a["full"], 1), fmt(a["resumed"], 1),
                             a["retries"], a["errors"], a["timeouts"]])
        tr = res.get("page_traces") or {}
        for key in ("porch-http", "porch-https"):
            if tr.get(key):
                out.append("\nOne traced load, %s, alone (ms since the load began; fd; "
                           "status; bytes; path; when it was asked):\n\n```\n%s```" % (
                               key, tr[key]))
        out.append("\nPer cell (medians per load of connections opened, connections kept "
                   "from the previous load, full and resumed handshakes):\n")
        out.append(table(["cell", "server", "loads", "p50", "p95", "max", "opened", "kept",
                          "full hs", "resumed hs", "retries", "errors", "timeouts"], rows))
    return "\n".join(out)


def profile_section(res):
    prof = res.get("profile")
    if not prof:
        return "(profile not run)"
    parts = []
    sc = prof.get("syscalls") or {}
    if sc:
        parts.append("Syscalls per request on the link (`strace -c -f` on every process of "
                     "the server, wrk 1 KB keep-alive, 2 s):\n\n" + R.syscall_table(sc))
    for key, pf in (prof.get("perf") or {}).items():
        if not pf or not pf.get("top"):
            continue
        split = ", ".join("%s %.1f%%" % (d["dso"], d["pct"]) for d in pf.get("dsos", [])[:6])
        rows = [["%.1f%%" % t["pct"], t["dso"], "`%s`" % t["sym"]] for t in pf["top"][:15]]
        parts.append("perf record of porch (all processes), %s: self time by object: %s\n\n"
                     % (key, split) + table(["self", "dso", "symbol"], rows))
        inc = [t for t in pf.get("inclusive", []) if not t["sym"].startswith("0x")][:20]
        if inc:
            parts.append("Inclusive (children) ≥ 3%%, %s: " % key + ", ".join(
                "`%s` %.0f%%" % (t["sym"], t["pct"]) for t in inc))
    return "\n\n".join(parts) or "(no profile)"


def header(res, b):
    m = res["machine"]
    v = m.get("versions", {})
    lines = [
        "- date: %s; elapsed %.0f s%s" % (m["date"], res.get("elapsed_s", 0),
                                         " (make bench-quick)" if res.get("quick") else ""),
        "- machine: %s CPUs, %s, kernel %s; load average %s at the start, %s at the end" % (
            m["nproc"], m["cpu"], m["kernel"], " ".join(m["loadavg_start"]),
            " ".join(m.get("loadavg_end", ["?"]))),
        "- porch: git %s, `%s` (glibc, -O2)" % (m.get("git", "?"),
                                               os.path.relpath(res["porch_bin"], ROOT)),
        "- servers: " + "; ".join("%s (%s)" % (k, v[k]) for k in ("nginx", "lighttpd", "apache",
                                                                 "busybox") if k in v),
        "- link: server in netns porchbench-srv pinned to CPU 0, bound to 10.213.18.1 only; "
        "relay and clients in porchbench-cli on CPU 1; %d µs round trip added by "
        "bench/tools/relay.c; tbf 100 Mbit/s (1 Gbit/s where a row says so), 4 MB queue" % res["rtt_us"],
        "- runs: %g s per load run, %d passes, servers interleaved (order rotated per pass), "
        "medians" % (res["duration_s"], res["reps"]),
    ]
    if b["busy"]:
        lines.insert(0, "- **PRELIMINARY: the machine was busy** (other programs used a median "
                     "%s%% of the server's core and %s%% of the client's during the runs; "
                     "load average %.1f at the start). Ratios within this run hold better than "
                     "absolute figures; re-run on a quiet machine." % (
                         fmt(b["srv_other_med"]), fmt(b["cli_other_med"]), b["load_start"]))
    return "\n".join(lines)


SETUP = """Servers (bench/servers.py), the same for all: bound to the server
namespace's address only, document root from bench/page.py, access logs off,
workers as `nobody`, keep-alive 100 requests / 5 s, sendfile where the
server has it. Pools as a single-core router runs them: porch `-w 2`,
Apache prefork 2 workers, nginx `worker_processes 1` (what `auto` gives on
one core), lighttpd single process, BusyBox httpd forks per connection (no
keep-alive). CGI: porch `cgi /cgi-bin/`, lighttpd mod_cgi, Apache mod_cgi,
BusyBox's cgi-bin; nginx has none and serves the same JSON as a static file.
TLS: ECDSA P-256 certificate, session tickets on (nginx also its session
cache), separate instances with both listeners (the page loads use these,
HTTP and HTTPS alike, with the background load on their HTTP port).

Clients (bench/tools/lanclient.c, wrk): `wrk -t1` for the CPU rows; a
browser-like fetcher for page loads (HTML first, then stylesheet, scripts,
JSON, images, icon in a browser's priority order over up to 6 keep-alive
connections opened as requests wait; the JSON after the scripts and
stylesheet are in; Chrome-like request heads; TLS 1.3 tickets used once,
TLS 1.2 sessions reused; a server closing a kept-alive connection gets the
request again on a new one); `lanclient hs` for handshakes (OpenSSL 3,
X25519:P-256:P-384 offered). Cold = no connection and no TLS session;
warm = the reload 200 ms later over what the cold load left.

What the relay does not model: it delays bytes, not packets. TCP between
the relay and each end sees a round trip of microseconds, so slow start
and ACK clocking run as on a LAN with no delay, while every request and
answer (and each new connection's handshake) waits its full round trip."""


def write_md(res, path, summary):
    cpu = agg_cpu(res)
    tls = agg_tls(res)
    page, extra = agg_page(res)
    b = busy(res)
    md = ["# porch benchmark results: a router's view (issue 18)\n"]
    if summary:
        md.append("Written by `make bench` (bench/run.sh → bench/lan.py); every cell in "
                  "build/bench/lan.md, raw data build/bench/lan.json, charts "
                  "build/bench/lan-cpu.png, lan-tls.png, lan-page.png. The loopback figures of "
                  "issue 7 are in bench/RESULTS-loopback.md (`make bench-loopback`).\n")
    md.append(header(res, b) + "\n")
    md.append("## Targets (issue 18)\n")
    md.append(table(["target", "measured", "verdict"], targets(res, cpu, page)) + "\n")
    md.append("## The link\n")
    md.append(link_section(res) + "\n")
    md.append("## Server CPU per request, server on one core, client a LAN away\n")
    md.append(cpu_tables(res, cpu, not summary) + "\n")
    md.append("## TLS on the link\n")
    md.append(tls_tables(res, tls) + "\n")
    md.append("## Admin page loads\n")
    md.append(page_tables(res, page, extra, not summary) + "\n")
    md.append("## Profile\n")
    md.append(profile_section(res) + "\n")
    analysis = os.path.join(ROOT, "bench", "analysis.md")
    if summary and os.path.exists(analysis):
        md.append(open(analysis).read().strip() + "\n")
    md.append("## Setup\n")
    md.append(SETUP + "\n")
    if res.get("notes"):
        md.append("Notes of this run:\n\n" + "\n".join("- " + n for n in res["notes"]) + "\n")
    with open(path, "w") as f:
        f.write("\n".join(md))


# ---------------------------------------------------------------- charts

def gnuplot(script):
    if not shutil.which("gnuplot"):
        return False
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if p.returncode != 0:
        sys.stderr.write("gnuplot: %s\n" % p.stderr[-400:])
    return p.returncode == 0


def histogram(png, title, blocks, logy=False, size="1400,900"):
    """blocks: [(subtitle, ylabel, header, rows)]; rows [label, v1, v2...]."""
    dat = png[:-4] + ".dat"
    with open(dat, "w") as f:
        for _sub, _yl, head, rows in blocks:
            f.write(" ".join(head) + "\n")
            for row in rows:
                f.write(" ".join([row[0]] + ["-" if v is None else "%.4g" % v
                                             for v in row[1:]]) + "\n")
            f.write("\n\n")
    gp = ["set terminal pngcairo size %s font \",10\" noenhanced" % size,
          "set output '%s'" % png, "set datafile missing '-'",
          "set style data histograms", "set style histogram clustered gap 1",
          "set style fill solid 0.85 border -1", "set boxwidth 0.9",
          "set key outside right top", "set grid ytics", "set xtics rotate by -25 scale 0",
          "set yrange [0:*]"]
    if logy:
        gp += ["set logscale y", "set yrange [*:*]"]
    gp.append("set multiplot layout %d,1 title \"%s\"" % (len(blocks), title))
    for i, (sub, yl, head, _rows) in enumerate(blocks):
        gp += ["set title \"%s\"" % sub, "set ylabel \"%s\"" % yl,
               "plot for [i=2:%d] '%s' index %d using i:xtic(1) title columnheader(i)" % (
                   len(head), dat, i)]
    gp.append("unset multiplot")
    return gnuplot("\n".join(gp) + "\n")


def charts(res, outdir):
    cpu = agg_cpu(res)
    date = res["machine"]["date"][:10]
    made = []
    if cpu:
        srvs = servers_in(cpu)
        wls = [w for w in res.get("workloads", []) if w["id"] in cpu]
        rows = [[w["id"]] + [(cpu[w["id"]].get(s) or {}).get("cpu_us_per_req") for s in srvs]
                for w in wls]
        rows2 = [[w["id"]] + [(cpu[w["id"]].get(s) or {}).get("rps") for s in srvs]
                 for w in wls]
        if histogram(os.path.join(outdir, "lan-cpu.png"),
                     "Server on one core, client a LAN away (%s)" % date,
                     [("server CPU per request, µs (log; lower is better)", "µs",
                       ["workload"] + srvs, rows),
                      ("requests/s (log)", "req/s", ["workload"] + srvs, rows2)], logy=True):
            made.append("lan-cpu.png")
    tls = agg_tls(res)
    if tls:
        srvs = servers_in(tls)
        keys = [k for k in ("1.3 full", "1.3 resumed", "1.2 full", "1.2 resumed") if k in tls]
        rows = [[k.replace(" ", "-")] + [(tls[k].get(s) or {}).get("cpu_us") for s in srvs]
                for k in keys]
        rows2 = [[k.replace(" ", "-")] + [(tls[k].get(s) or {}).get("rate") for s in srvs]
                 for k in keys]
        if histogram(os.path.join(outdir, "lan-tls.png"), "TLS on the link (%s)" % date,
                     [("server CPU per connection (handshake + 1 KB GET), µs", "µs",
                       ["handshake"] + srvs, rows),
                      ("connections/s", "/s", ["handshake"] + srvs, rows2)],
                     size="1100,800"):
            made.append("lan-tls.png")
    page, _extra = agg_page(res)
    if page:
        srvs = [s for s in ("porch", "lighttpd", "nginx") if any(k[0] == s for k in page)]
        combos = [(p, c, k) for p in ("https", "http") for c in ("alone", "loaded")
                  for k in ("cold", "warm")]
        combos = [x for x in combos if any(page.get((s,) + x) for s in srvs)]
        label = (lambda x: "%s-%s-%s" % x)
        rows = [[label(x)] + [(page.get((s,) + x) or {}).get("p50") for s in srvs]
                for x in combos]
        rows2 = [[label(x)] + [(page.get((s,) + x) or {}).get("p95") for s in srvs]
                 for x in combos]
        if histogram(os.path.join(outdir, "lan-page.png"),
                     "Admin page, time to last byte (%s)" % date,
                     [("p50, ms (lower is better)", "ms", ["load"] + srvs, rows),
                      ("p95, ms", "ms", ["load"] + srvs, rows2)], size="1200,900"):
            made.append("lan-page.png")
    return made


def write_all(res, outdir, results_md):
    os.makedirs(outdir, exist_ok=True)
    made = charts(res, outdir)
    if not made:
        res.setdefault("notes", []).append("no charts: gnuplot missing or failed")
    write_md(res, os.path.join(outdir, "lan.md"), summary=False)
    write_md(res, results_md, summary=True)


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/bench/lan.json")
    with open(src) as f:
        res = json.load(f)
    write_all(res, os.path.dirname(os.path.abspath(src)),
              os.environ.get("BENCH_RESULTS_MD") or os.path.join(ROOT, "bench", "RESULTS.md"))
