#!/usr/bin/python3
"""porch's loopback benchmark (issue 7): porch against the servers firmware
teams use, client and server on the same two cores over 127.0.0.1.

Run through bench/run.sh loopback (make bench-loopback), which installs the
packages and builds porch first. The router's view (LAN-like link, server on
one core, page loads) is bench/lan.py (make bench). Environment:

  PORCH_BIN         porch to measure (required; glibc -O2 build)
  PORCH_STATIC_BIN  static musl build (memory, and two workloads), optional
  BENCH_OUT         output dir (default build/bench/loopback)
  BENCH_DURATION    seconds per load run (default 3)
  BENCH_REPS        repetitions, servers interleaved (default 3)
  BENCH_SERVERS     comma list to restrict (porch is always included)
  BENCH_WORKLOADS   comma list of workload ids to restrict
  BENCH_SIZES       JSON file of binary sizes written by run.sh
  BENCH_PROFILE     0 to skip the strace/perf profile of porch

Every load is bounded in time; all servers bind 127.0.0.1 only.
Exit status: 0 when the harness ran (whoever won), 1 on harness failure.
"""
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers as S  # noqa: E402
import report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D = float(os.environ.get("BENCH_DURATION", "3"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
OUT = os.path.abspath(os.environ.get("BENCH_OUT", os.path.join(ROOT, "build/bench/loopback")))

# display name -> kind; porch-musl is porch's static musl build
ORDER = ["porch", "porch-musl", "nginx", "lighttpd", "apache", "busybox", "mini_httpd"]

# id, tool, path, concurrency, workers of the pool servers, extra
WORKLOADS = [
    dict(id="ka-1k-c2", tool="wrk", path="/1k.txt", c=2, w=2, musl=True,
         title="1 KB keep-alive c=2"),
    dict(id="ka-1k-c8", tool="wrk", path="/1k.txt", c=8, w=2,
         title="1 KB keep-alive c=8"),
    dict(id="ka-1k-c64", tool="wrk", path="/1k.txt", c=64, w=4, musl=True, memsample=True,
         title="1 KB keep-alive c=64 (W=4)"),
    dict(id="ka-100k-c2", tool="wrk", path="/100k.txt", c=2, w=2,
         title="100 KB keep-alive c=2"),
    dict(id="ka-100k-c8", tool="wrk", path="/100k.txt", c=8, w=2,
         title="100 KB keep-alive c=8"),
    dict(id="ka-100k-c64", tool="wrk", path="/100k.txt", c=64, w=4,
         title="100 KB keep-alive c=64 (W=4)"),
    dict(id="close-1k-c8", tool="wrk", path="/1k.txt", c=8, w=2, close=True,
         title="1 KB new connection per request c=8"),
    dict(id="ab-k-1k-c8", tool="ab", path="/1k.txt", c=8, w=2,
         title="1 KB HTTP/1.0 keep-alive (ab -k) c=8"),
    dict(id="cgi-c8", tool="wrk", path="/cgi-bin/ok", c=8, w=2, cgi=True,
         title="trivial CGI c=8"),
    dict(id="tls-full", tool="tls", path="/1k.txt", c=1, w=2, tls=True,
         title="TLS full handshakes (1 conn, sequential)"),
    dict(id="tls-resumed", tool="tls", path="/1k.txt", c=1, w=2, tls=True, resume=True,
         title="TLS resumed handshakes (1 conn, sequential)"),
]


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# ---------------------------------------------------------------- parsing

_UNITS_T = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_UNITS_B = {"B": 1 / 1048576, "KB": 1 / 1024, "MB": 1.0, "GB": 1024.0, "TB": 1048576.0}


def _ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m|h)$", s)
    return float(m.group(1)) * _UNITS_T[m.group(2)] if m else None


def parse_wrk(out):
    r = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Transfer/sec:\s+([\d.]+)([KMGT]?B)", out)
    r["mbps"] = float(m.group(1)) * _UNITS_B[m.group(2)] if m else 0.0
    for p in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % p, out, re.M)
        r["p" + p] = _ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["err_connect"], r["err_read"], r["err_write"], r["timeouts"] = (
        [int(x) for x in m.groups()] if m else [0, 0, 0, 0])
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    r["errors"] = r["err_connect"] + r["err_read"] + r["err_write"] + r["non2xx"]
    return r


def parse_ab(out):
    def num(pat, conv=float, default=0):
        m = re.search(pat, out, re.M)
        return conv(m.group(1)) if m else default
    r = {"rps": num(r"Requests per second:\s+([\d.]+)"),
         "requests": num(r"Complete requests:\s+(\d+)", int),
         "failed": num(r"Failed requests:\s+(\d+)", int),
         "keepalive": num(r"Keep-Alive requests:\s+(\d+)", int),
         "non2xx": num(r"Non-2xx responses:\s+(\d+)", int),
         "p50": num(r"^\s+50%\s+(\d+)", float, None),
         "p99": num(r"^\s+99%\s+(\d+)", float, None)}
    kb = num(r"Transfer rate:\s+([\d.]+)")
    r["mbps"] = kb / 1024
    r["timeouts"] = 0
    r["errors"] = r["failed"] + r["non2xx"]
    return r


# ---------------------------------------------------------------- loads

def run_wrk(port, wl, sample=None):
    argv = ["wrk", "-t1", "-c%d" % wl["c"], "-d%gs" % D, "--latency", "--timeout", "2s"]
    if wl.get("close"):
        argv += ["-H", "Connection: close"]
    argv.append("http://127.0.0.1:%d%s" % (port, wl["path"]))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    mem = None
    if sample:
        time.sleep(D / 2)
        mem = sample()
    try:
        out, _ = p.communicate(timeout=D + 20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        out += "\n[harness: wrk killed after timeout]"
    r = parse_wrk(out)
    r["raw"] = out
    if mem:
        r["mem_load"] = mem
    return r


def run_ab(port, wl):
    n = int(200000 * D)
    argv = ["ab", "-k", "-q", "-c", str(wl["c"]), "-t", "%d" % max(1, round(D)), "-n", str(n),
            "-s", "5", "http://127.0.0.1:%d%s" % (port, wl["path"])]
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=D + 30)
        out = p.stdout
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        out += "\n[harness: ab killed after timeout]"
    r = parse_ab(out)
    r["raw"] = out[-3000:]
    return r


def run_tls(port, wl):
    """Sequential handshakes + GET for D seconds; with resume, every
    connection after the first offers the previous session."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    req = ("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % wl["path"]).encode()
    sess = None
    n = reused = errors = 0
    lat = []
    version = None
    end = time.monotonic() + D
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                # no Nagle: a resumed TLS 1.3 client writes Finished and the
                # request back to back (else 40 ms delayed-ACK stalls)
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1",
                                     session=sess if wl.get("resume") else None) as s:
                    s.sendall(req)
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    if not data.startswith(b"HTTP/1.") or data.split(b" ", 2)[1] != b"200":
                        errors += 1
                    if s.session_reused:
                        reused += 1
                    version = s.version()
                    sess = s.session
        except (OSError, ssl.SSLError, IndexError):
            errors += 1
            sess = None
            continue
        lat.append((time.monotonic() - t0) * 1e3)
        n += 1
    lat.sort()
    pct = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None)
    return {"rps": n / D, "requests": n, "reused": reused, "errors": errors, "timeouts": 0,
            "p50": pct(0.50), "p99": pct(0.99), "version": version, "mbps": 0.0}


# ---------------------------------------------------------------- setup

def make_docroot(path):
    os.makedirs(os.path.join(path, "cgi-bin"))
    pattern = b"porch benchmark payload 0123456789abcdefghijklmnopqrstuvwxyz\n"

    def put(name, size):
        with open(os.path.join(path, name), "wb") as f:
            f.write((pattern * (size // len(pattern) + 1))[:size])
        os.chmod(os.path.join(path, name), 0o644)
    put("1k.txt", 1024)
    put("100k.txt", 100 * 1024)
    with open(os.path.join(path, "index.html"), "w") as f:
        f.write("<!DOCTYPE html><title>bench</title>\n")
    cgi = os.path.join(path, "cgi-bin", "ok")
    with open(cgi, "w") as f:
        f.write("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n")
    for p in (path, os.path.join(path, "cgi-bin")):
        os.chmod(p, 0o755)
    os.chmod(cgi, 0o755)
    os.chmod(os.path.join(path, "index.html"), 0o644)


def make_cert(d):
    os.makedirs(d)
    os.chmod(d, 0o755)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(cert, 0o644)
    os.chmod(key, 0o644)
    return cert, key


def porch_has_tls(binary):
    try:
        h = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "tls_listen" in (h.stdout + h.stderr)


def machine_info():
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s+(.*)", out)
        model = m.group(1).strip() if m else ""
    except OSError:
        pass
    load = open("/proc/loadavg").read().split()[:3]
    versions = {}
    for name, argv in (("nginx", ["/usr/sbin/nginx", "-v"]),
                       ("lighttpd", ["/usr/sbin/lighttpd", "-v"]),
                       ("apache", ["/usr/sbin/apache2", "-v"]),
                       ("busybox", ["/bin/busybox"]),
                       ("mini_httpd", ["/usr/sbin/mini_httpd", "-V"]),
                       ("wrk", ["wrk", "-v"])):
        try:
            o = subprocess.run(argv, capture_output=True, text=True, timeout=5)
            versions[name] = (o.stdout + o.stderr).strip().splitlines()[0][:80]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            versions[name] = "?"
    try:
        rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        rev = "?"
    return {"git": rev, "nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "loadavg_start": load,
            "python": platform.python_version(), "versions": versions}


# ---------------------------------------------------------------- profile

def strace_profile(inst, wl, seconds):
    """Syscalls per request of all inst's processes under wrk (the same
    setup as the ka-1k-c2 cell: W=2, c=2); None without strace."""
    if not shutil.which("strace"):
        return None
    pids = inst.pids()
    outf = os.path.join(inst.dir, "strace.txt")
    argv = ["strace", "-c", "-f", "-o", outf]
    for p in pids:
        argv += ["-p", str(p)]
    st = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True)
    time.sleep(0.5)
    wl2 = dict(wl)
    global D
    saved, D = D, seconds
    try:
        r = run_wrk(inst.port, wl2)
    finally:
        D = saved
    time.sleep(0.2)
    st.send_signal(signal.SIGINT)
    try:
        st.wait(timeout=10)
    except subprocess.TimeoutExpired:
        st.kill()
        st.wait()
    return strace_per_request(outf, r["requests"])


def strace_per_request(outf, requests):
    """strace -c's table in outf, as calls per request (None: no table)."""
    calls = {}
    try:
        for line in open(outf):
            parts = line.split()
            # % time, seconds, usecs/call, calls, [errors], syscall
            if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                calls[parts[-1]] = int(parts[3])
    except OSError:
        return None
    n = max(1, requests)
    per = {k: v / n for k, v in sorted(calls.items(), key=lambda kv: -kv[1])}
    return {"requests": requests, "per_request": per,
            "total_per_request": sum(calls.values()) / n}


def perf_profile(inst, wl, seconds):
    if not shutil.which("perf"):
        return None
    data = os.path.join(inst.dir, "perf.data")
    workers = inst.worker_pids()
    pr = subprocess.Popen(["perf", "record", "-q", "-F", "2999", "-g", "-o", data, "-p",
                           ",".join(map(str, workers))],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          start_new_session=True)
    time.sleep(0.5)
    global D
    saved, D = D, seconds
    try:
        r = run_wrk(inst.port, wl)
    finally:
        D = saved
    pr.send_signal(signal.SIGINT)
    try:
        pr.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pr.kill()
        pr.wait()
    def report(*extra):
        try:
            return subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                   "-g", "none", "--percent-limit", "0.3"] + list(extra),
                                  capture_output=True, text=True, timeout=120).stdout
        except (OSError, subprocess.TimeoutExpired):
            return ""
    top, dsos = [], []
    for line in report("--sort", "dso,sym").splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
        if m:
            top.append({"pct": float(m.group(1)), "dso": m.group(2), "sym": m.group(4).strip()})
    for line in report("--sort", "dso").splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)", line)
        if m:
            dsos.append({"pct": float(m.group(1)), "dso": m.group(2)})
    user = [t for t in top if not t["dso"].startswith("[kernel")]
    # inclusive kernel time per syscall entry point (and the scheduler)
    sys_in = []
    out = ""
    try:
        out = subprocess.run(["perf", "report", "-i", data, "--stdio", "--children", "-g",
                              "none", "--sort", "sym"],
                             capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        pass
    for line in out.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\[k\]\s+(__x64_sys_\w+|schedule|"
                     r"vfs_writev|vfs_read|do_sys_poll|do_filp_open|tcp_sendmsg|tcp_recvmsg|"
                     r"handle_softirqs)$", line)
        if m and float(m.group(1)) >= 0.1:
            sys_in.append({"pct": float(m.group(1)), "sym": m.group(3).replace("__x64_sys_", "")})
    return {"requests": r["requests"], "rps": r["rps"], "top": top[:20], "user": user[:15],
            "dsos": dsos, "syscalls": sys_in[:15]}


# ---------------------------------------------------------------- main

class Bench:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="porch-bench.")
        os.chmod(self.tmp, 0o755)
        self.instances = []     # every started Server
        self.by = {}            # (display, W) -> Server
        self.tls_by = {}        # display -> Server with a TLS listener
        self.notes = []

    def cleanup(self):
        for inst in self.instances:
            try:
                inst.stop()
            except Exception as e:  # keep stopping the others
                log("stop %s: %s" % (inst.name, e))
        self.instances = []
        shutil.rmtree(self.tmp, ignore_errors=True)

    def launch(self, display, kind, w, want_tls=False, suffix="", **kw):
        cls = S.KINDS[kind]
        name = ("%s-w%s" % (display, w) if w else display) + suffix
        inst = cls(name, self.tmp, self.www, workers=w, tls_files=self.tls_files,
                   want_tls=want_tls, **kw)
        inst.display = display
        try:
            inst.start()
        except Exception as e:
            log("could not start %s: %s" % (name, e))
            try:
                tail = open(os.path.join(inst.dir, "stdout.log")).read()[-600:]
                log(tail)
            except OSError:
                pass
            self.notes.append("%s did not start: %s" % (name, e))
            return None
        self.instances.append(inst)
        log("started %s on 127.0.0.1:%d%s (pids %s)" % (
            name, inst.port, " tls %d" % inst.tls_port if inst.tls_port else "",
            " ".join(map(str, inst.pids()))))
        return inst

    def run(self):
        t_start = time.monotonic()
        porch_bin = os.environ.get("PORCH_BIN")
        if not porch_bin or not os.access(porch_bin, os.X_OK):
            raise SystemExit("bench: PORCH_BIN not set or not executable")
        musl_bin = os.environ.get("PORCH_STATIC_BIN") or None
        if musl_bin and not os.access(musl_bin, os.X_OK):
            musl_bin = None
        only = [s for s in os.environ.get("BENCH_SERVERS", "").split(",") if s]
        wl_only = [s for s in os.environ.get("BENCH_WORKLOADS", "").split(",") if s]
        wanted = [d for d in ORDER if not only or d in only or d == "porch"]
        if not musl_bin and "porch-musl" in wanted:
            wanted.remove("porch-musl")
            self.notes.append("porch-musl: no static build, skipped")

        self.www = os.path.join(self.tmp, "www")
        make_docroot(self.www)
        self.tls_files = make_cert(os.path.join(self.tmp, "tls"))
        tls_porch = porch_has_tls(porch_bin)
        if not tls_porch:
            self.notes.append("porch has no tls_listen directive yet: TLS rows measure "
                              "nginx and lighttpd only")

        result = {"machine": machine_info(), "duration_s": D, "reps": REPS,
                  "ka_requests": S.KA_REQUESTS, "ka_timeout_s": S.KA_TIMEOUT,
                  "porch_bin": porch_bin, "porch_static_bin": musl_bin,
                  "porch_tls": tls_porch, "workloads": [], "servers": {}, "runs": [],
                  "memory": {}, "notes": self.notes}

        # ---- start everything (idle servers cost nothing while others run)
        for display in wanted:
            kind = "porch" if display.startswith("porch") else display
            cls = S.KINDS[kind]
            kw = {}
            if kind == "porch":
                kw = {"bin": musl_bin if display == "porch-musl" else porch_bin,
                      "has_tls": tls_porch and display == "porch"}
            ws = [2, 4] if cls.pool else [None]
            for w in ws:
                inst = self.launch(display, kind, w, **kw)
                if inst is None:
                    if display == "porch":
                        raise RuntimeError("porch did not start")
                    continue
                if w is None:
                    self.by[(display, 2)] = self.by[(display, 4)] = inst
                else:
                    self.by[(display, w)] = inst
            # TLS on instances of their own: an extra listener must not
            # change the plain HTTP rows (porch checks every listener's
            # accept queue under pool pressure)
            has_tls = cls.tls if kind != "porch" else kw.get("has_tls", False)
            if has_tls and any(w.get("tls") for w in WORKLOADS):
                inst = self.launch(display, kind, 2 if cls.pool else None, want_tls=True,
                                   suffix="-tls", **kw)
                if inst is not None:
                    self.tls_by[display] = inst
            inst = self.by.get((display, 2))
            if inst is not None:
                result["servers"][display] = {
                    "kind": kind, "pool": cls.pool, "note": cls.note,
                    "cgi": cls.cgi, "tls": display in self.tls_by}
        time.sleep(0.5)
        for inst in self.instances:
            result["memory"].setdefault(inst.name, {})["idle"] = inst.memory()
            result["memory"][inst.name]["display"] = inst.display
            result["memory"][inst.name]["workers"] = inst.workers

        workloads = [w for w in WORKLOADS if not wl_only or w["id"] in wl_only]
        result["workloads"] = [{k: v for k, v in w.items()} for w in workloads]
        displays = [d for d in wanted if (d, 2) in self.by]

        def eligible(wl, d):
            inst = self.by.get((d, wl["w"]))
            if inst is None:
                return None
            if d == "porch-musl" and not wl.get("musl"):
                return None
            if wl.get("cgi") and not inst.cgi:
                return None
            if wl.get("tls"):
                return self.tls_by.get(d)
            return inst

        # ---- the runs: rep x workload x server, server order rotated per rep
        total = sum(1 for wl in workloads for d in displays if eligible(wl, d)) * REPS
        done = 0
        for rep in range(REPS):
            for wl in workloads:
                k = rep % len(displays)
                order = displays[k:] + displays[:k]
                for d in order:
                    inst = eligible(wl, d)
                    if inst is None:
                        continue
                    done += 1
                    sample = None
                    if wl.get("memsample") and rep == REPS - 1:
                        sample = inst.memory
                    cpu0 = inst.cpu_seconds()
                    sleeps0 = inst.sleeps()
                    if wl["tool"] == "wrk":
                        r = run_wrk(inst.port, wl, sample)
                    elif wl["tool"] == "ab":
                        r = run_ab(inst.port, wl)
                    else:
                        r = run_tls(inst.tls_port, wl)
                    cpu = inst.cpu_seconds() - cpu0
                    r["cpu_us_per_req"] = (1e6 * cpu / r["requests"]) if r.get("requests") else None
                    r["sleeps_per_req"] = ((inst.sleeps() - sleeps0) / r["requests"]
                                           if r.get("requests") else None)
                    if inst.closes and wl["tool"] == "wrk" and r.get("err_read"):
                        # a close-delimited answer (no Content-Length, e.g. CGI
                        # output) ends at EOF: wrk counts that EOF as a read
                        # error although the response is complete
                        r["eof_reads"] = r["err_read"]
                        r["errors"] -= r["err_read"]
                    inst.requests_served += r.get("requests", 0)
                    if "mem_load" in r:
                        result["memory"][inst.name]["load"] = r.pop("mem_load")
                    alive = inst.proc is not None and inst.proc.poll() is None
                    r.update(rep=rep, workload=wl["id"], server=d, instance=inst.name,
                             alive=alive)
                    result["runs"].append(r)
                    log("%3d/%d rep %d %-12s %-11s %9.0f req/s p99 %s ms errors %d timeouts %d%s"
                        % (done, total, rep + 1, wl["id"], d, r["rps"],
                           "%.2f" % r["p99"] if r.get("p99") is not None else "-",
                           r.get("errors", 0), r.get("timeouts", 0),
                           "" if alive else "  SERVER DIED"))
                    if not alive:
                        self.notes.append("%s died during %s rep %d" % (inst.name, wl["id"],
                                                                        rep + 1))
            for inst in self.instances:
                m = inst.memory()
                m["requests_served"] = inst.requests_served
                result["memory"][inst.name].setdefault("after_rep", []).append(m)

        time.sleep(1.0)
        for inst in self.instances:
            m = inst.memory()
            m["requests_served"] = inst.requests_served
            result["memory"][inst.name]["after"] = m

        # ---- profile: one worker each, 1 KB keep-alive c=2
        if os.environ.get("BENCH_PROFILE", "1") != "0":
            result["profile"] = self.profile(porch_bin)

        result["elapsed_s"] = time.monotonic() - t_start
        return result

    def profile(self, porch_bin):
        prof = {"syscalls": {}, "perf": None}
        for inst in self.instances:
            inst.stop()
        self.instances = []
        wl1k = dict(id="ka-1k-c2", path="/1k.txt", c=2)
        wl100k = dict(id="ka-100k-c2", path="/100k.txt", c=2)
        for display, kind in (("porch", "porch"), ("nginx", "nginx"), ("lighttpd", "lighttpd")):
            kw = {"bin": porch_bin, "has_tls": False} if kind == "porch" else {}
            inst = self.launch(display + "-prof", kind, 2 if S.KINDS[kind].pool else None, **kw)
            if inst is None:
                continue
            inst.display = display
            p = strace_profile(inst, wl1k, 2)
            if p:
                prof["syscalls"][display + " 1k"] = p
                log("syscalls/request %s 1k: %.2f" % (display, p["total_per_request"]))
            if kind == "porch":
                p = strace_profile(inst, wl100k, 2)
                if p:
                    prof["syscalls"][display + " 100k"] = p
                    log("syscalls/request %s 100k: %.2f" % (display, p["total_per_request"]))
                prof["perf"] = perf_profile(inst, wl1k, 3)
                if prof["perf"]:
                    log("perf: %d samples' top: %s" % (
                        len(prof["perf"]["top"]),
                        ", ".join(t["sym"] for t in prof["perf"]["top"][:5])))
            inst.stop()
            self.instances.remove(inst)
        return prof


def main():
    b = Bench()

    def on_signal(signum, _frame):
        log("signal %d: stopping servers" % signum)
        b.cleanup()
        sys.exit(1)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        result = b.run()
    except Exception as e:
        import traceback
        traceback.print_exc()
        log("harness failure: %s" % e)
        b.cleanup()
        return 1
    b.cleanup()
    sizes_file = os.environ.get("BENCH_SIZES")
    if sizes_file and os.path.exists(sizes_file):
        with open(sizes_file) as f:
            result["sizes"] = json.load(f)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    report.write_all(result, OUT, os.environ.get("BENCH_RESULTS_MD") or
                     os.path.join(ROOT, "bench", "RESULTS-loopback.md"))
    log("wrote %s/results.json, results.md, results.png and %s" % (
        OUT, os.environ.get("BENCH_RESULTS_MD") or "bench/RESULTS-loopback.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
