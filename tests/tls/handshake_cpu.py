#!/usr/bin/python3
"""Server CPU per TLS handshake: porch beside nginx and lighttpd (figures,
never a test). Each server is started from bench/servers.py's own
configuration (the same one `make bench` uses: ECDSA P-256 certificate,
session tickets, 2 workers for the pools), then a single client makes
sequential connections for SECONDS each: handshake, `GET /1k.txt`
(HTTP/1.0), read to the end, close. CPU is utime+stime of every process of
the server, read from /proc before and after; servers are interleaved and
each figure is the median of REPS runs.

    tests/tls/handshake_cpu.py [--porch BIN] [--also NAME=BIN]...
        [--servers porch,nginx,lighttpd] [--seconds 3] [--reps 3]
        [--versions 1.2,1.3] [--group prime256v1] [--memory] [--json FILE]

--also adds another porch binary as a column (e.g. a build from before a
change), measured in the same run.

--group offers that one group only (OpenSSL name: X25519, prime256v1; TLS
1.2 with an ECDSA P-256 certificate needs prime256v1 offered); the default
is the client's own list with an X25519 key share, as browsers and the
bench's client send. --memory also prints the PSS of porch
(master + 2 workers) with each worker holding an idle keep-alive
connection, over TLS and over plain HTTP.

Servers bind 127.0.0.1 only and are stopped by the process group we started.
"""
import argparse
import json
import os
import socket
import ssl
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import servers  # noqa: E402  (bench/servers.py: configs, start, stop, CPU)
from bench import make_cert  # noqa: E402  (bench/bench.py)


def make_www(d):
    os.makedirs(d)
    os.chmod(d, 0o755)
    with open(os.path.join(d, "1k.txt"), "wb") as f:
        f.write(b"x" * 1023 + b"\n")
    os.chmod(os.path.join(d, "1k.txt"), 0o644)


def client_context(version, groups):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    ctx.minimum_version = ctx.maximum_version = v
    if groups:
        # OpenSSL 3 makes the one ECDH curve the client's only group too.
        ctx.set_ecdh_curve(groups)
    return ctx


def handshakes(port, ctx, resume, seconds):
    """Sequential connections for seconds: (count, reused, errors)."""
    req = b"GET /1k.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    sess = None
    n = reused = errors = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1",
                                     session=sess if resume else None) as s:
                    s.sendall(req)
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    if not data.startswith(b"HTTP/1.1 200") and \
                            not data.startswith(b"HTTP/1.0 200"):
                        errors += 1
                    reused += s.session_reused
                    sess = s.session
        except (OSError, ssl.SSLError):
            errors += 1
            sess = None
            continue
        n += 1
    return n, reused, errors


def measure(inst, version, resume, seconds, groups):
    ctx = client_context(version, groups)
    handshakes(inst.tls_port, ctx, resume, 0.3)         # warm up, first ticket
    pids = inst.pids()
    c0 = servers.cpu_ticks(pids)
    t0 = time.monotonic()
    n, reused, errors = handshakes(inst.tls_port, ctx, resume, seconds)
    took = time.monotonic() - t0
    c1 = servers.cpu_ticks(pids)
    return {"us": (c1 - c0) * 1e6 / servers.TICK / max(n, 1), "rate": n / took,
            "n": n, "reused": reused, "errors": errors}


def launch(name, kind, base, www, tls_files, porch_bin):
    cls = servers.KINDS[kind]
    kw = {"bin": porch_bin, "has_tls": True} if kind == "porch" else {}
    inst = cls(name + "-tls", base, www, workers=2 if cls.pool else None,
               tls_files=tls_files, want_tls=True, **kw)
    inst.start()
    return inst


def idle_keepalive_pss(porch_bin, base, www, tls_files, mode):
    """PSS and private (KiB) of porch's master + 2 workers, each worker
    holding one idle keep-alive connection after one request. mode:
    "none" (no TLS listener, plain connections), "plain" (a TLS listener
    too, plain connections), "tls" (TLS connections)."""
    inst = servers.Porch("porch-mem-%s" % mode, base, www, workers=2,
                         tls_files=tls_files, want_tls=mode != "none",
                         bin=porch_bin, has_tls=True)
    inst.start()
    conns = []
    try:
        for _ in range(2):
            raw = socket.create_connection(("127.0.0.1", inst.tls_port if
                                            mode == "tls" else inst.port),
                                           timeout=5)
            s = client_context("1.3", None).wrap_socket(raw) \
                if mode == "tls" else raw
            s.sendall(b"GET /1k.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while len(data) < 1024 or b"\r\n\r\n" not in data:
                data += s.recv(65536)
            conns.append(s)
        time.sleep(0.5)
        return inst.memory()
    finally:
        for s in conns:
            s.close()
        inst.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--porch", default=os.path.join(ROOT, "build/host/porch"))
    ap.add_argument("--also", action="append", default=[])
    ap.add_argument("--servers", default="porch,nginx,lighttpd")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--versions", default="1.2,1.3")
    ap.add_argument("--group", default="")
    ap.add_argument("--memory", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.porch = os.path.abspath(a.porch)
    kinds = []          # column names
    how = {}            # name -> (kind, porch binary)
    for k in a.servers.split(","):
        exe = {"nginx": "/usr/sbin/nginx", "lighttpd": "/usr/sbin/lighttpd"}.get(k)
        if exe and not os.path.exists(exe):
            print("%s: not installed (make bench installs it); skipped" % k)
            continue
        kinds.append(k)
        how[k] = (k, a.porch)
    for spec in a.also:
        name, _, exe = spec.partition("=")
        kinds.insert(1, name)
        how[name] = ("porch", os.path.abspath(exe))
    with tempfile.TemporaryDirectory(prefix="porch-hs-") as base:
        os.chmod(base, 0o755)
        www = os.path.join(base, "www")
        make_www(www)
        tls_files = make_cert(os.path.join(base, "tls"))
        insts = {}
        try:
            for k in kinds:
                insts[k] = launch(k, how[k][0], base, www, tls_files,
                                  how[k][1])
            rows = {}
            for rep in range(a.reps):
                for v in a.versions.split(","):
                    for resume in (False, True):
                        for k in kinds:
                            r = measure(insts[k], v, resume, a.seconds, a.group)
                            key = "%s %s" % (v, "resumed" if resume else "full")
                            rows.setdefault(key, {}).setdefault(k, []).append(r)
        finally:
            for i in insts.values():
                i.stop()
        out = {"rows": {}, "memory": {}}
        print("server CPU per handshake, µs (median of %d runs of %.0f s; "
              "client groups: %s)" % (a.reps, a.seconds, a.group or "default"))
        print("%-12s " % "" + " ".join("%16s" % k for k in kinds) +
              "".join("%12s" % ("porch/" + k) for k in kinds
                      if how[k][0] != "porch"))
        for key, by in rows.items():
            med = {k: statistics.median(r["us"] for r in by[k]) for k in kinds}
            rate = {k: statistics.median(r["rate"] for r in by[k]) for k in kinds}
            bad = {k: sum(r["errors"] for r in by[k]) for k in kinds}
            reused = {k: sum(r["reused"] for r in by[k]) for k in kinds}
            total = {k: sum(r["n"] for r in by[k]) for k in kinds}
            cells = []
            for k in kinds:
                flag = ""
                if bad[k]:
                    flag = " E%d" % bad[k]
                elif "resumed" in key and reused[k] < total[k] * 0.9:
                    flag = " !r"
                cells.append("%16s" % ("%.0f (%.0f/s)%s" % (med[k], rate[k], flag)))
            ratios = ["%12s" % ("%.2fx" % (med["porch"] / med[k]))
                      for k in kinds if how[k][0] != "porch" and "porch" in med
                      and med[k]]
            print("%-12s " % key + " ".join(cells) + "".join(ratios))
            out["rows"][key] = {k: {"us": med[k], "rate": rate[k], "errors": bad[k],
                                    "reused": reused[k], "n": total[k]} for k in kinds}
        if a.memory:
            print("porch master + 2 workers, each holding an idle keep-alive "
                  "connection (KiB):")
            for mode, what in (("none", "no TLS listener, plain connections"),
                               ("plain", "TLS listener, plain connections"),
                               ("tls", "TLS listener, TLS 1.3 connections")):
                m = idle_keepalive_pss(a.porch, base, www, tls_files, mode)
                out["memory"][mode] = m
                print("  %-36s PSS %5d  private %5d" % (what, m["pss_kib"],
                                                        m["private_kib"]))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
