#!/usr/bin/python3
"""Tables, chart and target verdicts from build/bench/loopback/results.json.

    python3 bench/report.py [build/bench/loopback/results.json]

rewrites build/bench/loopback/results.md, results.png and
bench/RESULTS-loopback.md from a stored run (bench.py calls write_all at the
end of every run).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

ORDER = ["porch", "porch-musl", "nginx", "lighttpd", "apache", "busybox", "mini_httpd"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def aggregate(res):
    """agg[workload][server] = medians of rps/mbps/p50/p99, sums of errors."""
    agg = {}
    for r in res["runs"]:
        agg.setdefault(r["workload"], {}).setdefault(r["server"], []).append(r)
    out = {}
    for wl, per in agg.items():
        out[wl] = {}
        for srv, runs in per.items():
            a = {k: med([r.get(k) for r in runs])
                 for k in ("rps", "mbps", "p50", "p99", "cpu_us_per_req",
                           "sleeps_per_req")}
            a["n"] = len(runs)
            a["rps_all"] = [round(r["rps"]) for r in runs]
            for k in ("errors", "timeouts", "requests", "keepalive", "failed", "non2xx",
                      "reused", "eof_reads"):
                vals = [r.get(k) for r in runs if r.get(k) is not None]
                a[k] = sum(vals) if vals else None
            a["version"] = runs[-1].get("version")
            a["died"] = any(not r.get("alive", True) for r in runs)
            out[wl][srv] = a
    return out


def servers_in(res, agg):
    present = set(s for per in agg.values() for s in per)
    return [s for s in ORDER if s in present]


def fmt(x, nd=0):
    if x is None:
        return "–"
    return "{:,.{}f}".format(x, nd)


def fmt_ms(x):
    if x is None:
        return "–"
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def ratio(a, b):
    if a is None or not b:
        return None
    return a / b


def fmt_ratio(r):
    return "–" if r is None else "%.2f×" % r


# ---------------------------------------------------------------- targets

def targets(res, agg):
    """[(target, measured, verdict)] for issue 7's targets."""
    t = []

    def g(wl, srv, k="rps"):
        return agg.get(wl, {}).get(srv, {}).get(k)

    # 1. keep-alive 1 KB at c <= W
    p = g("ka-1k-c2", "porch")
    best = max([x for x in (g("ka-1k-c2", "nginx"), g("ka-1k-c2", "lighttpd")) if x] or [0])
    r = ratio(p, best)
    t.append(("Keep-alive 1 KB, c=2 on 2 workers: ≥ 1.2× best of nginx, lighttpd",
              "porch %s req/s, best %s → %s" % (fmt(p), fmt(best), fmt_ratio(r)),
              verdict(r is not None and r >= 1.2, r, 1.2)))
    # 2. c=64 on 4 workers
    a = agg.get("ka-1k-c64", {}).get("porch")
    if a:
        bad = (a["errors"] or 0) + (a["timeouts"] or 0)
        r = ratio(a["rps"], g("ka-1k-c64", "nginx"))
        ok = bad == 0 and a["p99"] is not None and a["p99"] <= 50 and r is not None and r >= 0.8
        t.append(("Keep-alive 1 KB, c=64 on 4 workers: 0 errors/timeouts, p99 ≤ 50 ms, "
                  "≥ 0.8× nginx",
                  "errors+timeouts %d, p99 %s ms, %s req/s = %s nginx" % (
                      bad, fmt_ms(a["p99"]), fmt(a["rps"]), fmt_ratio(r)),
                  "met" if ok else "NOT MET (%s)" % ", ".join(
                      x for x, c in (("errors", bad), ("p99", a["p99"] is None or a["p99"] > 50),
                                     ("req/s", r is None or r < 0.8)) if c)))
    # 3. new connection per request
    r = ratio(g("close-1k-c8", "porch"), g("close-1k-c8", "nginx"))
    t.append(("New connection per request, c=8: ≥ 1.1× nginx",
              "porch %s, nginx %s req/s → %s" % (fmt(g("close-1k-c8", "porch")),
                                                 fmt(g("close-1k-c8", "nginx")), fmt_ratio(r)),
              verdict(r is not None and r >= 1.1, r, 1.1)))
    # 4. HTTP/1.0 keep-alive
    a = agg.get("ab-k-1k-c8", {}).get("porch")
    if a:
        r = ratio(a["rps"], g("ab-k-1k-c8", "lighttpd"))
        frac = (a["keepalive"] or 0) / a["requests"] if a["requests"] else 0
        # every keepalive_requests-th answer closes the connection (as in
        # nginx, Apache and lighttpd with the same limit)
        want = 1 - 1.0 / res.get("ka_requests", 100) - 0.001
        ok = r is not None and r >= 1.0 and frac >= want and not a["failed"]
        t.append(("HTTP/1.0 keep-alive (ab -k), c=8: ≥ 1.0× lighttpd, all kept alive",
                  "%s = %s lighttpd; kept alive %.2f%% (limit %d/conn), failed %d" % (
                      fmt(a["rps"]), fmt_ratio(r), 100 * frac, res.get("ka_requests", 100),
                      a["failed"] or 0),
                  "met" if ok else "NOT MET (%s)" % ", ".join(
                      x for x, c in (("req/s", r is None or r < 1.0), ("keep-alive", frac < want),
                                     ("failures", a["failed"])) if c)))
    # 5. 100 KB MB/s
    parts, oks, rs = [], [], []
    for wl in ("ka-100k-c2", "ka-100k-c8", "ka-100k-c64"):
        r = ratio(g(wl, "porch", "mbps"), g(wl, "lighttpd", "mbps"))
        if r is not None:
            parts.append("c=%s %s" % (wl.rsplit("c", 1)[1], fmt_ratio(r)))
            oks.append(r >= 1.0)
            rs.append(r)
    t.append(("100 KB keep-alive: ≥ 1.0× lighttpd's MB/s",
              "porch/lighttpd MB/s: " + ", ".join(parts),
              "met" if oks and all(oks) else
              "NOT MET (worst %s)" % fmt_ratio(min(rs)) if rs else "not measured"))
    # 6. memory
    mem = res.get("memory", {})
    m = mem.get("porch-musl-w4") or {}
    idle = (m.get("idle") or {}).get("pss_kib")
    if idle is not None:
        t.append(("Memory: master + 4 idle workers ≤ 1 MiB PSS (static musl)",
                  "%d KiB PSS in %d processes (%d KiB private)" % (
                      idle, m["idle"]["procs"], m["idle"]["private_kib"]),
                  "met" if idle <= 1024 else "NOT MET (+%d KiB)" % (idle - 1024)))
    else:
        t.append(("Memory: master + 4 idle workers ≤ 1 MiB PSS (static musl)",
                  "no static build measured", "not measured"))
    g2 = mem.get("porch-w2") or {}
    reps = g2.get("after_rep") or []
    if len(reps) >= 2:
        grow = reps[-1]["private_kib"] - reps[0]["private_kib"]
        nreq = reps[-1]["requests_served"] - reps[0]["requests_served"]
        t.append(("Memory: no growth after a million requests",
                  "porch (2 workers) private memory %+d KiB over %s requests "
                  "(after rep 1 → after rep %d; %s requests in all)" % (
                      grow, fmt(nreq), len(reps), fmt(reps[-1]["requests_served"])),
                  ("met" if grow <= 16 else "NOT MET (+%d KiB)" % grow)
                  + ("" if nreq >= 1e6 else " (fewer than 1M requests)")))
    # 7. CGI
    r = ratio(g("cgi-c8", "porch"), g("cgi-c8", "lighttpd"))
    t.append(("Trivial CGI, c=8: ≥ 1.0× lighttpd mod_cgi",
              "porch %s, lighttpd %s req/s → %s" % (fmt(g("cgi-c8", "porch")),
                                                    fmt(g("cgi-c8", "lighttpd")), fmt_ratio(r)),
              verdict(r is not None and r >= 1.0, r, 1.0)))
    return t


def verdict(ok, r, want):
    if r is None:
        return "not measured"
    if ok:
        return "met"
    return "NOT MET (gap %.0f%%)" % (100 * (want - r) / want)


# ---------------------------------------------------------------- tables

def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def summary_tables(res, agg):
    srvs = servers_in(res, agg)
    wls = [w for w in res["workloads"] if w["id"] in agg]
    parts = []
    rows = []
    for w in wls:
        row = [w["title"]]
        for s in srvs:
            a = agg[w["id"]].get(s)
            if not a:
                row.append("–")
                continue
            cell = fmt(a["rps"])
            if w["id"].startswith("ka-100k"):
                cell += " (%s MB/s)" % fmt(a["mbps"])
            bad = (a["errors"] or 0) + (a["timeouts"] or 0)
            if bad:
                cell += " ⚠%d" % bad
            if a.get("died"):
                cell += " ✝"
            row.append(cell)
        rows.append(row)
    parts.append("### Requests/s (median of %d runs)\n\n" % res["reps"]
                 + table(["workload"] + srvs, rows)
                 + "\n\n⚠N: errors + timeouts + non-2xx summed over the runs; "
                   "✝: the server died during the runs.")
    rows = []
    for w in wls:
        row = [w["title"]]
        for s in srvs:
            a = agg[w["id"]].get(s)
            row.append("%s / %s" % (fmt_ms(a["p50"]), fmt_ms(a["p99"])) if a else "–")
        rows.append(row)
    parts.append("### Latency p50 / p99, ms (median of runs)\n\n" + table(["workload"] + srvs,
                                                                          rows))
    def metric_rows(key, digits):
        return [[w["title"]] + [fmt((agg[w["id"]].get(s) or {}).get(key), digits)
                                for s in srvs] for w in wls]

    parts.append("### Server CPU per request, µs (user+system of all its processes and "
                 "reaped children / requests; median)\n\n"
                 + table(["workload"] + srvs, metric_rows("cpu_us_per_req", 1))
                 + "\n\nFrom /proc/PID/stat before and after each run (10 ms ticks); the "
                   "client shares the 2 cores. Children the server does not reap itself "
                   "(BusyBox's CGIs, which its per-connection child waits for after "
                   "exiting) are missed.")
    parts.append("### Server sleeps per request (voluntary context switches of all its "
                 "processes / requests; median)\n\n"
                 + table(["workload"] + srvs, metric_rows("sleeps_per_req", 2))
                 + "\n\nFrom /proc/PID/status before and after each run. Each sleep is a "
                   "process blocking until the client's next bytes (or room to write) and "
                   "being woken: a blocking worker sleeps about once per request when the "
                   "client waits for each answer; an event loop serving several "
                   "connections can answer all that are ready per wakeup.")
    others = [s for s in srvs if not s.startswith("porch")]
    rows = []
    for w in wls:
        p = agg[w["id"]].get("porch")
        row = [w["title"]]
        key = "mbps" if w["id"].startswith("ka-100k") else "rps"
        for s in others:
            a = agg[w["id"]].get(s)
            row.append(fmt_ratio(ratio(p and p[key], a and a[key])))
        rows.append(row)
    parts.append("### porch's ratio to each server (req/s; MB/s for 100 KB)\n\n"
                 + table(["workload"] + others, rows))
    return "\n\n".join(parts)


def detail_table(res, agg):
    rows = []
    for w in res["workloads"]:
        for s in servers_in(res, agg):
            a = agg.get(w["id"], {}).get(s)
            if not a:
                continue
            extra = ""
            if w["tool"] == "ab":
                extra = "kept alive %s/%s, failed %s" % (fmt(a["keepalive"]), fmt(a["requests"]),
                                                        fmt(a["failed"]))
            elif a.get("eof_reads"):
                extra = "%s close-delimited answers (wrk: read errors)" % fmt(a["eof_reads"])
            elif w["tool"] == "tls":
                extra = "%s, reused %s/%s" % (a["version"], fmt(a["reused"]), fmt(a["requests"]))
            rows.append([w["id"], s, fmt(a["rps"]), " ".join(map(str, a["rps_all"])),
                         fmt(a["mbps"], 1), fmt_ms(a["p50"]), fmt_ms(a["p99"]),
                         fmt(a["cpu_us_per_req"], 1), fmt(a["errors"]), fmt(a["timeouts"]),
                         extra])
    return table(["workload", "server", "req/s", "runs", "MB/s", "p50 ms", "p99 ms",
                  "CPU µs/req", "errors", "timeouts", "notes"], rows)


def memory_table(res):
    rows = []
    for name, m in res.get("memory", {}).items():
        idle, load, after = m.get("idle"), m.get("load"), m.get("after")
        reps = m.get("after_rep") or []
        grow = (reps[-1]["private_kib"] - reps[0]["private_kib"]) if len(reps) >= 2 else None
        rows.append([name, m.get("workers") or "1",
                     "%d" % idle["procs"] if idle else "–",
                     fmt(idle and idle["pss_kib"]), fmt(idle and idle["private_kib"]),
                     fmt(load and load["pss_kib"]),
                     fmt(after and after["pss_kib"]), fmt(after and after["private_kib"]),
                     fmt(after and after.get("requests_served")),
                     "–" if grow is None else "%+d" % grow])
    return table(["instance", "W", "procs", "idle PSS KiB", "idle private KiB",
                  "PSS under c=64 load", "PSS after", "private after", "requests served",
                  "private growth rep1→last"], rows)


def sizes_table(res):
    sz = res.get("sizes")
    if not sz:
        return "(no sizes recorded)"
    rows = []
    for k, v in sz.get("porch", {}).items():
        rows.append(["porch " + k, fmt(v) if isinstance(v, int) else v])
    for k, v in sz.get("others", {}).items():
        rows.append([k, fmt(v) if isinstance(v, int) else v])
    out = table(["binary", "bytes"], rows)
    if sz.get("note"):
        out += "\n\n" + sz["note"]
    return out


def syscall_table(sc):
    """{server: strace_per_request()} as a table of calls per request."""
    names = []
    for p in sc.values():
        for k, v in p["per_request"].items():
            if v >= 0.01 and k not in names:
                names.append(k)
    first = list(sc.values())[0]["per_request"]
    names.sort(key=lambda k: -first.get(k, 0))
    rows = [[k] + ["%.3f" % sc[s]["per_request"].get(k, 0) for s in sc] for k in names]
    rows.append(["**total**"] + ["**%.2f**" % sc[s]["total_per_request"] for s in sc])
    rows.append(["requests traced"] + [fmt(sc[s]["requests"]) for s in sc])
    return table(["syscall"] + list(sc), rows)


def profile_section(res):
    prof = res.get("profile")
    if not prof:
        return "(profile skipped)"
    parts = []
    sc = prof.get("syscalls") or {}
    if sc:
        parts.append("Syscalls per request (`strace -c -f` on every process of the "
                     "server, 2 workers, wrk -c2 keep-alive, 2 s):\n\n" + syscall_table(sc))
    pf = prof.get("perf")
    if pf and pf.get("top"):
        split = ", ".join("%s %.1f%%" % (d["dso"], d["pct"]) for d in pf.get("dsos", [])[:6])
        rows = [["%.1f%%" % t["pct"], t["dso"], "`%s`" % t["sym"]] for t in pf["top"][:15]]
        parts.append("perf record of porch's workers (2 workers, 1 KB keep-alive c=2, "
                     "%s req/s under perf), self time by object: %s\n\n" % (fmt(pf["rps"]), split)
                     + table(["self", "dso", "symbol"], rows))
        if pf.get("syscalls"):
            parts.append("Kernel time, inclusive, at syscall entries and key functions "
                         "(% of the workers' samples; `schedule` = sleeping, waking, "
                         "preemption; cpu-clock sampling in a VM attributes irq-off time to "
                         "where irqs are re-enabled): "
                         + ", ".join("%s %.1f%%" % (t["sym"], t["pct"]) for t in pf["syscalls"]))
        if pf.get("user"):
            rows = [["%.2f%%" % t["pct"], t["dso"], "`%s`" % t["sym"]] for t in pf["user"][:12]]
            parts.append("User-space symbols only:\n\n" + table(["self", "dso", "symbol"], rows))
    return "\n\n".join(parts) or "(no profile)"


def header(res):
    m = res["machine"]
    v = m.get("versions", {})
    lines = [
        "- date: %s; elapsed %.0f s" % (m["date"], res.get("elapsed_s", 0)),
        "- machine: %s CPUs, %s, kernel %s; load average at start %s" % (
            m["nproc"], m["cpu"], m["kernel"], " ".join(m["loadavg_start"])),
        "- client: wrk -t1 (`--latency`, 2 s timeout), ab -k, Python ssl for TLS; "
        "%g s per run, %d runs per cell, servers interleaved (order rotated per pass); "
        "medians reported" % (res["duration_s"], res["reps"]),
        "- servers: " + "; ".join("%s (%s)" % (k, v[k]) for k in v if k != "wrk"),
        "- porch: git %s, `%s`%s" % (m.get("git", "?"), os.path.relpath(res["porch_bin"], ROOT),
                             ", static musl `%s`" % os.path.relpath(res["porch_static_bin"], ROOT)
                             if res.get("porch_static_bin") else ""),
    ]
    return "\n".join(lines)


FAIRNESS = """Configuration (same for all, see bench/servers.py): bound to 127.0.0.1,
one document root, access logs off (mini_httpd cannot disable its log: it
writes to /dev/null), workers as `nobody`, keep-alive 100 requests / 5 s,
sendfile where the server has it (nginx `sendfile on; tcp_nopush off`,
Apache `EnableSendfile On`, lighttpd `network-backend sendfile`; BusyBox
uses sendfile; mini_httpd mmap+write). Pools: porch `-w W`, nginx
`worker_processes W`, Apache prefork StartServers = Min/MaxSpare ≈
MaxRequestWorkers = W (W=2, and W=4 for c=64). lighttpd is single-process
(event loop) in every row; BusyBox httpd and mini_httpd fork per connection
and have no keep-alive (wrk reconnects). nginx has no CGI (skipped).
TLS: ECDSA P-256 certificate, default protocol (TLS 1.3), session tickets,
on separate instances (2 workers) so that the extra listener does not touch
the plain HTTP rows."""


def write_md(res, agg, path, summary):
    t = targets(res, agg)
    md = []
    md.append("# porch benchmark results: loopback (issue 7)\n")
    if summary:
        md.append("Written by `make bench-loopback` (bench/run.sh loopback); raw data in "
                  "build/bench/loopback/results.json, chart build/bench/loopback/results.png. "
                  "The router's view (LAN-like link, server on one core) is `make bench`, "
                  "bench/RESULTS.md. "
                  "Absolute numbers drift with the machine's load: compare the ratios "
                  "within one run.\n")
    md.append(header(res) + "\n")
    md.append("## Targets of issue 7\n")
    md.append(table(["target", "measured", "verdict"], t) + "\n")
    md.append("## Figures\n")
    md.append(summary_tables(res, agg) + "\n")
    md.append("## Memory (sum over all the server's processes, KiB)\n")
    md.append(memory_table(res) + "\n")
    md.append("PSS counts shared pages divided among their users; private = "
              "Private_Clean + Private_Dirty (the issue's \"private pages\").\n")
    md.append("## Binary sizes\n")
    md.append(sizes_table(res) + "\n")
    md.append("## Profile of porch\n")
    md.append(profile_section(res) + "\n")
    analysis = os.path.join(ROOT, "bench", "analysis-loopback.md")
    if summary and os.path.exists(analysis):
        md.append(open(analysis).read().strip() + "\n")
    if not summary:
        md.append("## All cells\n")
        md.append(detail_table(res, agg) + "\n")
    md.append("## Setup\n")
    md.append(FAIRNESS + "\n")
    if res.get("notes"):
        md.append("Notes of this run:\n\n" + "\n".join("- " + n for n in res["notes"]) + "\n")
    with open(path, "w") as f:
        f.write("\n".join(md))


def chart(res, agg, png):
    srvs = servers_in(res, agg)
    wls = [w for w in res["workloads"] if w["id"] in agg]
    dat = png[:-4] + ".dat"
    with open(dat, "w") as f:
        f.write("workload " + " ".join(srvs) + "\n")
        for w in wls:
            row = [w["id"]]
            for s in srvs:
                a = agg[w["id"]].get(s)
                row.append("%.1f" % a["rps"] if a and a["rps"] else "-")
            f.write(" ".join(row) + "\n")
        f.write("\n\n")
        f.write("workload " + " ".join(srvs) + "\n")
        for w in wls:
            row = [w["id"]]
            for s in srvs:
                a = agg[w["id"]].get(s)
                row.append("%.3f" % a["p99"] if a and a["p99"] else "-")
            f.write(" ".join(row) + "\n")
    if shutil.which("gnuplot"):
        n = len(srvs)
        gp = """set terminal pngcairo size 1400,1000 font ",10" noenhanced
set output '%(png)s'
set datafile missing '-'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top
set grid ytics
set logscale y
set xtics rotate by -30 scale 0
set multiplot layout 2,1 title "porch vs established servers (%(date)s, median of %(reps)d runs)"
set title "requests/s (log scale; higher is better)"
set yrange [10:*]
plot for [i=2:%(last)d] '%(dat)s' index 0 using i:xtic(1) title columnheader(i)
set title "p99 latency, ms (log scale; lower is better)"
set yrange [*:*]
plot for [i=2:%(last)d] '%(dat)s' index 1 using i:xtic(1) title columnheader(i)
unset multiplot
""" % dict(png=png, dat=dat, last=n + 1, date=res["machine"]["date"][:10], reps=res["reps"])
        p = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
        if p.returncode == 0:
            return True
        sys.stderr.write("gnuplot: %s\n" % p.stderr[-500:])
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(2, 1, figsize=(14, 10))
    width = 0.8 / max(1, len(srvs))
    for ax, key, title in ((axes[0], "rps", "requests/s"), (axes[1], "p99", "p99 ms")):
        for i, s in enumerate(srvs):
            ys = [(agg[w["id"]].get(s) or {}).get(key) or 0 for w in wls]
            ax.bar([j + i * width for j in range(len(wls))], ys, width, label=s)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xticks([j + 0.4 for j in range(len(wls))])
        ax.set_xticklabels([w["id"] for w in wls], rotation=30)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(png)
    return True


def write_all(res, outdir, results_md):
    agg = aggregate(res)
    os.makedirs(outdir, exist_ok=True)
    png = os.path.join(outdir, "results.png")
    if not chart(res, agg, png):
        res.setdefault("notes", []).append("no chart: neither gnuplot nor matplotlib")
    write_md(res, agg, os.path.join(outdir, "results.md"), summary=False)
    write_md(res, agg, results_md, summary=True)


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT,
                                                             "build/bench/loopback/results.json")
    with open(src) as f:
        res = json.load(f)
    write_all(res, os.path.dirname(os.path.abspath(src)), os.path.join(ROOT, "bench",
                                                                         "RESULTS-loopback.md"))
