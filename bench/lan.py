#!/usr/bin/python3
"""porch's benchmark as a router sees it (issue 18): the client a LAN away,
the server on one core, CPU per request as the headline, admin page loads.

Run through bench/run.sh (make bench, make bench-quick), which installs the
packages and builds porch and bench/tools first. Environment:

  PORCH_BIN        porch to measure (required)
  BENCH_TOOLS      dir holding the built relay and lanclient (required)
  BENCH_OUT        output dir (default build/bench)
  BENCH_QUICK      1: the developer's loop (fewer servers, cells, runs)
  BENCH_DURATION   seconds per load run, whole (3; quick 2)
  BENCH_REPS       passes over every cell, servers interleaved (3; quick 1)
  BENCH_PAIRS      page-load pairs (cold + warm) per cell and pass (8; quick 3)
  BENCH_SERVERS    comma list to restrict (porch is always in)
  BENCH_SECTIONS   comma list of link,cpu,tls,page,profile (all)
  BENCH_RTT_US     round trip added by the relay (1000)
  BENCH_LOAD_THINK_MS  think time of the 50 background connections (10)
  BENCH_RESULTS_MD where the summary goes (bench/RESULTS.md)
  BENCH_PORCH_OPTS porch directives to add, ';'-separated, e.g.
                   'pressure_idle 5;workers 4' (an experiment: noted in the
                   results)

Layout (bench/link.py): servers in namespace porchbench-srv on CPU 0, bound
to 10.213.18.1 only; relay and clients in porchbench-cli on CPU 1; tbf at
100 Mbit/s (1 Gbit/s for the rows that say so) on both ends of the veth.
The namespaces are removed on exit, on SIGINT/SIGTERM/SIGHUP, and at the
start of the next run. Exit status: 0 when the harness ran (whoever won),
1 on harness failure.
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import link as L  # noqa: E402
import page as P  # noqa: E402
import servers as S  # noqa: E402
import bench as B  # noqa: E402  (parse_wrk, make_cert, machine_info, porch_has_tls, strace_per_request)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.environ.get("BENCH_QUICK") == "1"
# wrk takes whole seconds
D = max(1, round(float(os.environ.get("BENCH_DURATION", "2" if QUICK else "3"))))
REPS = int(os.environ.get("BENCH_REPS", "1" if QUICK else "3"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "3" if QUICK else "8"))
RTT_US = int(os.environ.get("BENCH_RTT_US", "1000"))
THINK_MS = int(os.environ.get("BENCH_LOAD_THINK_MS", "10"))
LOAD_CONNS = 50
PAGE_CONNS = 6
PAGE_GAP_MS = 200
HS_CONNS = 8
OUT = os.path.abspath(os.environ.get("BENCH_OUT", os.path.join(ROOT, "build/bench")))
SECTIONS = [s for s in os.environ.get("BENCH_SECTIONS", "link,cpu,tls,page,profile").split(",")
            if s]
if QUICK and "BENCH_SECTIONS" not in os.environ:
    SECTIONS = ["link", "cpu", "tls", "page"]

ORDER = ["porch", "nginx", "lighttpd", "apache", "busybox"]
QUICK_SERVERS = ["porch", "nginx", "lighttpd"]
PAGE_SERVERS = ["porch", "lighttpd", "nginx"]
TLS_SERVERS = ["porch", "nginx", "lighttpd"]

# the CPU-per-request workloads; rate in Mbit/s; relay False: no added delay
WORKLOADS = [
    dict(id="ka-1k-c2", path="/1k.txt", c=2, rate=100, title="1 KB keep-alive c=2"),
    dict(id="ka-1k-c8", path="/1k.txt", c=8, rate=100, title="1 KB keep-alive c=8"),
    dict(id="ka-100k-c2", path="/100k.txt", c=2, rate=100, title="100 KB keep-alive c=2"),
    dict(id="close-1k-c8", path="/1k.txt", c=8, rate=100, close=True,
         title="1 KB new connection per request c=8"),
    dict(id="cgi-c8", path=P.API, c=8, rate=100, cgi=True,
         title="status CGI (JSON) keep-alive c=8"),
    dict(id="ka-100k-c2-1g", path="/100k.txt", c=2, rate=1000,
         title="100 KB keep-alive c=2, 1 Gbit/s"),
    dict(id="ka-100k-c8-1g", path="/100k.txt", c=8, rate=1000,
         title="100 KB keep-alive c=8, 1 Gbit/s"),
    dict(id="ka-1k-c8-0rtt", path="/1k.txt", c=8, rate=100, relay=False,
         title="1 KB keep-alive c=8, no added delay (veth only)"),
]
QUICK_WORKLOADS = ["ka-1k-c2", "ka-1k-c8"]

TLS_CASES = [dict(v="1.3", resume=False), dict(v="1.3", resume=True),
             dict(v="1.2", resume=False), dict(v="1.2", resume=True)]


def log(msg):
    print("[lan %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


class Lan:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="porch-lan.")
        os.chmod(self.tmp, 0o755)
        self.instances = []
        self.relays = []
        self.bg = []            # client processes to stop on exit
        self.notes = []
        self.tools = os.path.abspath(os.environ.get("BENCH_TOOLS", "/nonexistent"))
        self.lanclient = os.path.join(self.tools, "lanclient")
        self.relay_bin = os.path.join(self.tools, "relay")
        self.next_port = 18000
        self.rate = None
        self.cg_relay = self.cg_client = None

    # ------------------------------------------------------------ plumbing

    def cleanup(self):
        for p in self.bg:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.bg = []
        for inst in self.instances:
            try:
                inst.stop()
            except Exception as e:  # keep stopping the others
                log("stop %s: %s" % (inst.name, e))
        self.instances = []
        for r in self.relays:
            try:
                r.stop()
            except Exception:
                pass
        self.relays = []
        L.cleanup()
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def set_rate(self, mbit):
        if self.rate != mbit:
            L.set_rate(mbit)
            self.rate = mbit

    def client(self, argv, timeout, env=None):
        """A client on the client CPU, in the clients' cgroup; its output."""
        p = subprocess.Popen(L.wrap(argv, None, L.CLI_CPU, self.cg_client),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True,
                             env=dict(os.environ, **env) if env else None)
        self.bg.append(p)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            out += "\n[harness: killed after %ds]" % timeout
        self.bg.remove(p)
        return out

    def client_bg(self, argv):
        p = subprocess.Popen(L.wrap(argv, None, L.CLI_CPU, self.cg_client),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        self.bg.append(p)
        return p

    def client_stop(self, p, timeout=10):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
        if p in self.bg:
            self.bg.remove(p)
        return out

    def snapshot(self, inst):
        return {"t": time.monotonic(), "server": inst.cpu_seconds(), "sleeps": inst.sleeps(),
                "drops": L.drops(),
                "relay": L.cg_usage_s(self.cg_relay) if self.cg_relay else None,
                "client": L.cg_usage_s(self.cg_client) if self.cg_client else None,
                "stat": L.cpu_times()}

    @staticmethod
    def delta(a, b, n):
        """Per-request figures between snapshots a and b for n requests."""
        dt = b["t"] - a["t"]
        srv = b["server"] - a["server"]
        out = {"server_cpu_s": srv, "wall_s": dt, "drops": b["drops"] - a["drops"],
               "cpu_us_per_req": 1e6 * srv / n if n else None,
               "sleeps_per_req": (b["sleeps"] - a["sleeps"]) / n if n else None}
        if a["relay"] is not None:
            out["relay_us_per_req"] = 1e6 * (b["relay"] - a["relay"]) / n if n else None
            out["client_us_per_req"] = 1e6 * (b["client"] - a["client"]) / n if n else None
            ours_cli = (b["relay"] - a["relay"]) + (b["client"] - a["client"])
            out["cli_ours_pct"] = 100 * ours_cli / dt if dt else None
        else:
            ours_cli = 0.0
        c0 = b["stat"][L.SRV_CPU][0] - a["stat"][L.SRV_CPU][0]
        c1 = b["stat"][L.CLI_CPU][0] - a["stat"][L.CLI_CPU][0]
        # time on each core not charged to our processes: other work on the
        # machine, and the link's softirqs run while the core was idle
        out["srv_core_other_pct"] = max(0.0, 100 * (c0 - srv) / dt) if dt else None
        out["cli_core_busy_pct"] = 100 * c1 / dt if dt else None
        out["cli_core_other_pct"] = max(0.0, 100 * (c1 - ours_cli) / dt) if dt else None
        return out

    def launch(self, display, kind, w, want_tls=False, **kw):
        cls = S.KINDS[kind]
        name = display + ("-tls" if want_tls else "")
        ports = (self.next_port, self.next_port + 1)
        self.next_port += 2
        cg = L.cg_make("srv-" + name)
        inst = cls(name, self.tmp, self.www, workers=w, tls_files=self.tls_files,
                   want_tls=want_tls, bind=L.SRV_ADDR, ports=ports,
                   wrapper=lambda argv: L.wrap(argv, L.NS_SRV, L.SRV_CPU, cg), cgroup=cg, **kw)
        inst.display = display
        try:
            inst.start()
        except Exception as e:
            log("could not start %s: %s" % (name, e))
            try:
                log(open(os.path.join(inst.dir, "stdout.log")).read()[-600:])
            except OSError:
                pass
            self.notes.append("%s did not start: %s" % (name, e))
            return None
        self.instances.append(inst)
        log("started %s on %s:%d%s (pids %s)" % (
            name, L.SRV_ADDR, inst.port, " tls %d" % inst.tls_port if inst.tls_port else "",
            " ".join(map(str, inst.pids()))))
        return inst

    # ------------------------------------------------------------ sections

    def calibrate(self):
        """What the link and the relay do by themselves."""
        out = {"rtt_target_us": RTT_US}
        cg = L.cg_make("cal")
        srv = subprocess.Popen(L.wrap([self.lanclient, "serve", "-l", "%s:%d" % (L.SRV_ADDR, 17999)],
                                      L.NS_SRV, L.SRV_CPU, cg),
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
        self.bg.append(srv)
        srv.stdout.readline()
        zero = L.Relay(self.relay_bin, [17999], 0, listen="127.0.0.2", log=self.relay_log)
        zero.argv = ["chrt", "-f", "10"] + zero.argv
        zero.start()
        self.relays.append(zero)
        n = "300" if QUICK else "1000"

        def ping(h):
            o = self.client([self.lanclient, "ping", "-H", h, "-p", "17999", "-n", n], 60)
            try:
                return json.loads(o.strip().splitlines()[-1])
            except (ValueError, IndexError):
                return {"error": o[-300:]}
        try:
            o = subprocess.run([self.lanclient, "sys", "-n", "400" if QUICK else "2000"],
                               capture_output=True, text=True, timeout=120).stdout
            out["sys"] = json.loads(o.strip().splitlines()[-1])
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as e:
            out["sys"] = {"error": str(e)}
        out["ping_veth"] = ping(L.SRV_ADDR)
        out["ping_relay0"] = ping("127.0.0.2")
        out["ping_link"] = ping("127.0.0.1")
        bulk = {}
        for rate in (100, 1000):
            self.set_rate(rate)
            for label, h in (("link", "127.0.0.1"), ("veth", L.SRV_ADDR)):
                r0 = L.cg_usage_s(self.cg_relay) if self.cg_relay else None
                o = self.client([self.lanclient, "bulk", "-H", h, "-p", "17999", "-d",
                                 "1" if QUICK else "2"], 60)
                try:
                    b = json.loads(o.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    b = {"error": o[-300:]}
                if label == "link" and r0 is not None and b.get("bytes"):
                    b["relay_ns_per_byte"] = 1e9 * (L.cg_usage_s(self.cg_relay) - r0) / b["bytes"]
                bulk["%s-%d" % (label, rate)] = b
        self.set_rate(100)
        out["bulk"] = bulk
        out["relay0_stats"] = zero.stop()
        self.relays.remove(zero)
        self.client_stop(srv)
        log("link: RTT through relay p50 %.0f us (veth alone %.0f us, relay at 0 delay %.0f us); "
            "100 Mbit/s -> %s, 1 Gbit/s -> %s" % (
                out["ping_link"].get("p50_us", -1), out["ping_veth"].get("p50_us", -1),
                out["ping_relay0"].get("p50_us", -1), bulk.get("link-100", {}).get("mbit_s"),
                bulk.get("link-1000", {}).get("mbit_s")))
        return out

    def run_wrk(self, inst, wl):
        host = "127.0.0.1" if wl.get("relay", True) else L.SRV_ADDR
        argv = ["wrk", "-t1", "-c%d" % wl["c"], "-d%ds" % D, "--latency", "--timeout", "2s"]
        if wl.get("close"):
            argv += ["-H", "Connection: close"]
        argv.append("http://%s:%d%s" % (host, inst.port, wl["path"]))
        a = self.snapshot(inst)
        out = self.client(argv, D + 30)
        b = self.snapshot(inst)
        r = B.parse_wrk(out)
        r.update(self.delta(a, b, r["requests"]))
        if inst.closes and r.get("err_read"):
            # BusyBox: close-delimited CGI answers end at EOF, which wrk
            # counts as a read error although the answer is whole
            r["eof_reads"] = r["err_read"]
            r["errors"] -= r["err_read"]
        if not r["requests"]:
            r["raw"] = out[-1500:]
        return r

    def cpu_section(self, result):
        wls = [w for w in WORKLOADS if not QUICK or w["id"] in QUICK_WORKLOADS]
        only = [w for w in os.environ.get("BENCH_WORKLOADS", "").split(",") if w]
        if only:
            wls = [w for w in wls if w["id"] in only]
        result["workloads"] = wls
        displays = list(self.plain)
        cells = [(wl, d) for wl in wls for d in displays
                 if not (wl.get("cgi") and not self.plain[d].cgi)]
        total = len(cells) * REPS
        done = 0
        for rep in range(REPS):
            # the 100 Mbit/s rows, then the 1 Gbit/s ones: one rate change each
            for wl in sorted(wls, key=lambda w: w["rate"]):
                self.set_rate(wl["rate"])
                k = rep % len(displays)
                for d in displays[k:] + displays[:k]:
                    inst = self.plain[d]
                    if wl.get("cgi") and not inst.cgi:
                        continue
                    done += 1
                    r = self.run_wrk(inst, wl)
                    alive = inst.proc is not None and inst.proc.poll() is None
                    r.update(rep=rep, workload=wl["id"], server=d, alive=alive)
                    result["cpu_runs"].append(r)
                    log("%3d/%d %-14s %-9s %8.0f req/s  cpu %6s us/req  p99 %s ms  relay %s us  "
                        "cli core %s%%  other on srv core %s%%%s" % (
                            done, total, wl["id"], d, r["rps"],
                            "%.1f" % r["cpu_us_per_req"] if r.get("cpu_us_per_req") else "-",
                            "%.2f" % r["p99"] if r.get("p99") is not None else "-",
                            "%.1f" % r["relay_us_per_req"] if r.get("relay_us_per_req") else "-",
                            "%.0f" % r["cli_core_busy_pct"] if r.get("cli_core_busy_pct") else "-",
                            "%.0f" % r["srv_core_other_pct"] if r.get("srv_core_other_pct")
                            is not None else "-",
                            "" if alive else "  SERVER DIED"))
                    if not alive:
                        self.notes.append("%s died during %s" % (d, wl["id"]))
        self.set_rate(100)

    def tls_section(self, result):
        cases = [c for c in TLS_CASES if not QUICK or c["v"] == "1.3"]
        displays = [d for d in TLS_SERVERS if d in self.tls]
        for rep in range(REPS):
            for case in cases:
                k = rep % len(displays)
                for d in displays[k:] + displays[:k]:
                    inst = self.tls[d]
                    argv = [self.lanclient, "hs", "-p", str(inst.tls_port), "-T", case["v"],
                            "-c", str(HS_CONNS), "-d", str(D), "-u", "/1k.txt"]
                    if case["resume"]:
                        argv.append("-r")
                    a = self.snapshot(inst)
                    out = self.client(argv, D + 30)
                    b = self.snapshot(inst)
                    try:
                        r = json.loads(out.strip().splitlines()[-1])
                    except (ValueError, IndexError):
                        r = {"connections": 0, "error": out[-500:]}
                    r.update(self.delta(a, b, r.get("connections", 0)))
                    r.update(rep=rep, server=d, version=case["v"], resume=case["resume"])
                    result["tls_runs"].append(r)
                    log("tls %s %-7s %-9s %6.0f conn/s  cpu %6s us/conn  reused %s/%s  %s" % (
                        case["v"], "resumed" if case["resume"] else "full", d, r.get("rate", 0),
                        "%.0f" % r["cpu_us_per_req"] if r.get("cpu_us_per_req") else "-",
                        r.get("reused"), r.get("connections"), r.get("tls", "")))
        # memory of 2 idle keep-alive connections, TLS and plain (issue 14)
        mem = {}
        for d in displays:
            inst = self.tls[d]
            row = {"idle": inst.memory()}
            for label, port, tls in (("plain", inst.port, None), ("tls", inst.tls_port, "1.3")):
                argv = [self.lanclient, "hold", "-p", str(port), "-c", "2", "-d", "30",
                        "-u", "/1k.txt"] + (["-T", tls] if tls else [])
                p = self.client_bg(argv)
                line = p.stdout.readline()
                time.sleep(0.3)
                row[label] = inst.memory()
                try:
                    row[label]["hold"] = json.loads(line)
                except ValueError:
                    row[label]["hold"] = {"error": line[-200:]}
                self.client_stop(p)
                time.sleep(0.3)
            mem[d] = row
            log("memory %s: idle PSS %d KiB, 2 idle plain conns %d KiB, 2 idle TLS conns %d KiB" % (
                d, row["idle"]["pss_kib"], row["plain"]["pss_kib"], row["tls"]["pss_kib"]))
        result["tls_memory"] = mem

    def page_section(self, result):
        displays = [d for d in PAGE_SERVERS if d in self.tls]
        protos = ["http", "https"]
        conds = ["alone", "loaded"]
        for rep in range(REPS):
            for cond in conds:
                for proto in protos:
                    k = rep % len(displays)
                    for d in displays[k:] + displays[:k]:
                        inst = self.tls[d]
                        load = None
                        if cond == "loaded":
                            load = self.client_bg([self.lanclient, "load", "-p", str(inst.port),
                                                   "-c", str(LOAD_CONNS), "-k", str(THINK_MS),
                                                   "-u", P.POLL, "-d", "600"])
                            time.sleep(0.5)
                        argv = [self.lanclient, "page", "-p",
                                str(inst.tls_port if proto == "https" else inst.port),
                                "-c", str(PAGE_CONNS), "-n", str(PAIRS), "-g", str(PAGE_GAP_MS),
                                "-u", P.PAGE] + (["-T", "1.3"] if proto == "https" else [])
                        a = self.snapshot(inst)
                        out = self.client(argv, 60 + PAIRS * 70)
                        b = self.snapshot(inst)
                        loads = []
                        for line in out.splitlines():
                            if line.startswith("{"):
                                try:
                                    loads.append(json.loads(line))
                                except ValueError:
                                    pass
                        run = {"rep": rep, "server": d, "proto": proto, "cond": cond,
                               "loads": loads, "server_cpu_s": b["server"] - a["server"],
                               "drops": b["drops"] - a["drops"],
                               "wall_s": b["t"] - a["t"],
                               "srv_core_other_pct": self.delta(a, b, 1)["srv_core_other_pct"]}
                        if not loads:
                            run["raw"] = out[-800:]
                        if load is not None:
                            lo = self.client_stop(load)
                            try:
                                run["load"] = json.loads(lo.strip().splitlines()[-1])
                            except (ValueError, IndexError):
                                run["load"] = {"error": lo[-300:]}
                        result["page_runs"].append(run)
                        cold = [x["ms"] for x in loads if x["kind"] == "cold"]
                        warm = [x["ms"] for x in loads if x["kind"] == "warm"]
                        log("page %-6s %-5s %-9s cold %s ms  warm %s ms%s%s" % (
                            cond, proto, d, "%.1f" % med(cold) if cold else "-",
                            "%.1f" % med(warm) if warm else "-",
                            "  errors %d" % sum(x["errors"] for x in loads)
                            if any(x["errors"] for x in loads) else "",
                            "  (load %.0f req/s)" % run["load"].get("rps", 0)
                            if load is not None else ""))
                        time.sleep(0.2)
        self.page_traces(result, displays)

    def page_traces(self, result, displays):
        """One traced cold + warm load per server and protocol, alone: when
        each connection opened and each response ended (build/bench/
        trace-page-SERVER-PROTO.txt)."""
        result["page_traces"] = {}
        for d in displays:
            inst = self.tls[d]
            for proto in ("http", "https"):
                argv = [self.lanclient, "page", "-p",
                        str(inst.tls_port if proto == "https" else inst.port), "-c",
                        str(PAGE_CONNS), "-n", "1", "-g", str(PAGE_GAP_MS), "-u", P.PAGE]
                if proto == "https":
                    argv += ["-T", "1.3"]
                out = self.client(argv, 120, env={"LANCLIENT_TRACE": "1"})
                key = "%s-%s" % (d, proto)
                result["page_traces"][key] = out
                os.makedirs(OUT, exist_ok=True)
                with open(os.path.join(OUT, "trace-page-%s.txt" % key), "w") as f:
                    f.write(out)
                time.sleep(0.2)

    def profile_section(self, result):
        """Syscalls per request (strace -c) and where porch's CPU goes
        (perf), on the link, for the cells the targets name."""
        prof = {"syscalls": {}, "perf": {}}
        import shutil
        for d in ("porch", "lighttpd", "nginx"):
            inst = self.plain.get(d)
            if inst is None or not shutil.which("strace"):
                continue
            for c in (2, 8):
                r = self.strace(inst, dict(path="/1k.txt", c=c), 2.0)
                if r:
                    prof["syscalls"]["%s 1k c=%d" % (d, c)] = r
                    log("syscalls/request %s c=%d: %.2f" % (d, c, r["total_per_request"]))
        # the 1 Gbit/s 100 KB row at c=8, where porch's CPU per request
        # was above nginx's
        if shutil.which("strace"):
            self.set_rate(1000)
            for d in ("porch", "nginx"):
                inst = self.plain.get(d)
                if inst is None:
                    continue
                r = self.strace(inst, dict(path="/100k.txt", c=8), 2.0)
                if r:
                    prof["syscalls"]["%s 100k c=8 1G" % d] = r
                    log("syscalls/request %s 100k c=8 1G: %.2f" % (d, r["total_per_request"]))
            self.set_rate(100)
        if shutil.which("perf") and "porch" in self.plain:
            inst = self.plain["porch"]
            prof["perf"]["ka-1k-c8"] = self.perf(inst, lambda: self.run_wrk(
                inst, dict(path="/1k.txt", c=8)), "requests")
            if "porch" in self.tls:
                t = self.tls["porch"]
                prof["perf"]["tls13-full"] = self.perf(t, lambda: self.tls_once(t), "connections")
        result["profile"] = prof

    def tls_once(self, inst):
        out = self.client([self.lanclient, "hs", "-p", str(inst.tls_port), "-T", "1.3", "-c",
                           str(HS_CONNS), "-d", "3", "-u", "/1k.txt"], 40)
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {}

    def strace(self, inst, wl, seconds):
        outf = os.path.join(self.tmp, "strace-%s-%d-%s.txt" % (inst.name, wl["c"],
                                                               wl["path"].strip("/")))
        argv = ["strace", "-c", "-f", "-o", outf]
        for p in inst.pids():
            argv += ["-p", str(p)]
        st = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
        time.sleep(0.5)
        global D
        saved, D = D, seconds
        try:
            r = self.run_wrk(inst, wl)
        finally:
            D = saved
        time.sleep(0.2)
        st.send_signal(signal.SIGINT)
        try:
            st.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(st.pid, signal.SIGKILL)
            st.wait()
        res = B.strace_per_request(outf, r["requests"])
        if res is not None:
            res["rps_under_strace"] = r["rps"]
        return res

    def perf(self, inst, load, unit):
        data = os.path.join(self.tmp, "perf-%s.data" % inst.name)
        pr = subprocess.Popen(["perf", "record", "-q", "-F", "2999", "-g", "-o", data, "-p",
                               ",".join(map(str, inst.pids()))],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
        time.sleep(0.5)
        r = load()
        pr.send_signal(signal.SIGINT)
        try:
            pr.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(pr.pid, signal.SIGKILL)
            pr.wait()

        def rep(*extra):
            try:
                return subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none",
                                       "--percent-limit", "0.5"] + list(extra),
                                      capture_output=True, text=True, timeout=120).stdout
            except (OSError, subprocess.TimeoutExpired):
                return ""
        import re
        top, dsos, incl = [], [], []
        for line in rep("--no-children", "--sort", "dso,sym").splitlines():
            m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
            if m:
                top.append({"pct": float(m.group(1)), "dso": m.group(2),
                            "sym": m.group(4).strip()})
        for line in rep("--no-children", "--sort", "dso").splitlines():
            m = re.match(r"\s+([\d.]+)%\s+(\S+)", line)
            if m:
                dsos.append({"pct": float(m.group(1)), "dso": m.group(2)})
        for line in rep("--children", "--sort", "sym").splitlines():
            m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.*)", line)
            if m and float(m.group(1)) >= 3:
                incl.append({"pct": float(m.group(1)), "sym": m.group(4).strip()})
        return {"top": top[:25], "dsos": dsos[:8], "inclusive": incl[:40],
                "count": r.get(unit), "rate": r.get("rps") or r.get("rate")}

    # ------------------------------------------------------------ main

    def run(self):
        t0 = time.monotonic()
        porch_bin = os.path.abspath(os.environ.get("PORCH_BIN") or "/nonexistent")
        if not os.access(porch_bin, os.X_OK):
            raise SystemExit("lan: PORCH_BIN not set or not executable")
        for b in (self.lanclient, self.relay_bin):
            if not os.access(b, os.X_OK):
                raise SystemExit("lan: %s missing (BENCH_TOOLS)" % b)
        only = [s for s in os.environ.get("BENCH_SERVERS", "").split(",") if s]
        wanted = [d for d in (QUICK_SERVERS if QUICK else ORDER)
                  if not only or d in only or d == "porch"]
        extra = [x.strip() for x in os.environ.get("BENCH_PORCH_OPTS", "").split(";")
                 if x.strip()]
        if extra:
            self.notes.append("porch ran with extra directives: %s" % "; ".join(extra))
        self.www = os.path.join(self.tmp, "www")
        page = P.build(self.www)
        self.tls_files = B.make_cert(os.path.join(self.tmp, "tls"))
        tls_porch = B.porch_has_tls(porch_bin)
        result = {"machine": B.machine_info(), "quick": QUICK, "duration_s": D, "reps": REPS,
                  "pairs": PAIRS, "rtt_us": RTT_US, "think_ms": THINK_MS,
                  "load_conns": LOAD_CONNS, "page_conns": PAGE_CONNS, "hs_conns": HS_CONNS,
                  "page_gap_ms": PAGE_GAP_MS, "page": page, "porch_bin": porch_bin,
                  "sections": SECTIONS, "cpu_runs": [], "tls_runs": [], "page_runs": [],
                  "servers": {}, "notes": self.notes}

        # temp dirs of runs that were killed (older than any run lasts)
        import glob
        import shutil
        for d in glob.glob(os.path.join(tempfile.gettempdir(), "porch-lan.*")):
            try:
                if d != self.tmp and time.time() - os.stat(d).st_mtime > 3600:
                    shutil.rmtree(d, ignore_errors=True)
            except OSError:
                pass
        log("link: namespaces %s / %s, veth %s <-> %s" % (L.NS_SRV, L.NS_CLI, L.SRV_ADDR,
                                                            L.CLI_ADDR))
        L.setup(100)
        self.rate = 100
        L.enter_client_ns()
        self.cg_relay = L.cg_make("relay")
        self.cg_client = L.cg_make("client")
        if not self.cg_relay:
            self.notes.append("no cpuacct cgroup: server CPU from /proc (10 ms ticks), "
                              "relay and client CPU not measured")
        self.relay_log = open(os.path.join(self.tmp, "relay.log"), "w")

        # ---- servers: plain instances for the CPU rows, TLS ones for the rest
        self.plain, self.tls = {}, {}
        for d in wanted:
            kind = d
            kw = {"bin": porch_bin, "has_tls": tls_porch, "extra": extra} if d == "porch" else {}
            w = {"porch": 2, "apache": 2, "nginx": 1}.get(d)
            inst = self.launch(d, kind, w, **kw)
            if inst is None:
                if d == "porch":
                    raise RuntimeError("porch did not start")
                continue
            self.plain[d] = inst
            has_tls = tls_porch if d == "porch" else S.KINDS[kind].tls
            if has_tls and d in TLS_SERVERS:
                t = self.launch(d, kind, w, want_tls=True, **kw)
                if t is not None:
                    self.tls[d] = t
            result["servers"][d] = {"kind": kind, "workers": w, "note": S.KINDS[kind].note,
                                    "cgi": S.KINDS[kind].cgi, "tls": d in self.tls}
        if not tls_porch:
            self.notes.append("porch has no TLS: TLS rows and HTTPS page loads without porch")
        ports = sorted({p for i in self.instances for p in (i.port, i.tls_port) if p} | {17999})
        relay = L.Relay(self.relay_bin, ports, RTT_US // 2, cgroup=self.cg_relay,
                        log=self.relay_log)
        # the relay is the wire: at real-time priority it is not delayed by
        # whatever else runs on the client's core (it only ever moves the
        # clients' and servers' bytes)
        relay.argv = ["chrt", "-f", "10"] + relay.argv
        relay.start()
        self.relays.append(relay)
        time.sleep(0.3)
        for inst in self.instances:
            if not S.http_ok(inst.port, host="127.0.0.1", timeout=3):
                raise RuntimeError("%s does not answer through the relay" % inst.name)

        if "link" in SECTIONS:
            result["link"] = self.calibrate()
        if "cpu" in SECTIONS:
            self.cpu_section(result)
        if "tls" in SECTIONS and self.tls:
            self.tls_section(result)
        if "page" in SECTIONS and self.tls:
            self.page_section(result)
        if "profile" in SECTIONS:
            self.profile_section(result)
        result["relay_stats"] = relay.stop()
        self.relays.remove(relay)
        result["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        result["elapsed_s"] = time.monotonic() - t0
        return result


def main():
    lan = Lan()

    def on_signal(signum, _frame):
        log("signal %d: stopping servers, removing the namespaces; no results" % signum)
        lan.cleanup()
        sys.exit(1)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        result = lan.run()
    except SystemExit:
        lan.cleanup()
        raise
    except BaseException as e:
        import traceback
        traceback.print_exc()
        log("harness failure: %s" % e)
        lan.cleanup()
        return 1
    lan.cleanup()
    import lanreport
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "lan.json"), "w") as f:
        json.dump(result, f, indent=1)
    md = os.environ.get("BENCH_RESULTS_MD") or os.path.join(ROOT, "bench", "RESULTS.md")
    lanreport.write_all(result, OUT, md)
    log("wrote %s/lan.json, lan.md, lan-*.png and %s" % (OUT, os.path.relpath(md, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
