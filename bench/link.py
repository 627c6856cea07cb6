"""The LAN-like link of the benchmark: two network namespaces joined by a
veth pair, a rate set with tbf on both ends, about 1 ms of round trip added
by bench/tools/relay.c, the server's CPU and the client's CPU kept apart.

    srv namespace (CPU 0)                 cli namespace (CPU 1)
    server on 10.213.18.1:PORT  <-veth->  relay on 127.0.0.1:PORT
      (tbf RATE on egress)                  (tbf RATE on egress)
                                            client -> 127.0.0.1:PORT

The relay holds each direction's bytes for half the round trip and makes a
new connection's first bytes wait for the handshake's round trip; the
client connects to it, it connects to the server. Receive packet steering
puts each side's receive processing on its own CPU: the server's core does
the server's receive work, as a router's core does its NIC's.

CPU time is measured per cgroup (cgroup v1 cpuacct, ns resolution): one for
each server instance (all its processes, CGIs included, even those it does
not reap), one for the relay, one for the clients. Without cpuacct the
caller falls back to /proc (10 ms ticks).

Everything is named porchbench-* / pb-* and removed by cleanup(), which
also runs at the start (leftovers of an interrupted run) and from run.sh's
trap:  python3 bench/link.py cleanup
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

NS_SRV = "porchbench-srv"
NS_CLI = "porchbench-cli"
DEV_SRV = "pb-srv"
DEV_CLI = "pb-cli"
SRV_ADDR = "10.213.18.1"
CLI_ADDR = "10.213.18.2"
SRV_CPU = 0
CLI_CPU = 1
CG_BASE = "/sys/fs/cgroup/cpuacct"
CG_ROOT = os.path.join(CG_BASE, "porch-bench")
CLONE_NEWNET = 0x40000000


def sh(*argv, check=True, quiet=False):
    p = subprocess.run(list(argv), capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), (p.stderr or p.stdout).strip()))
    return p


# ---------------------------------------------------------------- cleanup

def _kill(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _ns_pids(ns):
    """Processes in ns but this one (the harness lives in the client's)."""
    p = sh("ip", "netns", "pids", ns, check=False)
    return [int(x) for x in p.stdout.split() if x.isdigit() and int(x) != os.getpid()]


def cleanup(verbose=False):
    """Remove our namespaces (killing what still runs in them: only this
    harness starts processes there), our cgroups, and stray veths."""
    existing = sh("ip", "netns", "list", check=False).stdout
    for ns in (NS_SRV, NS_CLI):
        if ns in existing.split():
            pids = _ns_pids(ns)
            if pids and verbose:
                print("[link] leftover processes in %s: %s" % (ns, pids))
            _kill(pids)
            for _ in range(50):
                if not _ns_pids(ns):
                    break
                time.sleep(0.05)
            sh("ip", "netns", "del", ns, check=False)
            if verbose:
                print("[link] removed namespace %s" % ns)
    # a veth left in the root namespace by a setup cut short
    for dev in (DEV_SRV, DEV_CLI):
        if os.path.exists("/sys/class/net/%s" % dev):
            sh("ip", "link", "del", dev, check=False)
    if os.path.isdir(CG_ROOT):
        for name in os.listdir(CG_ROOT):
            d = os.path.join(CG_ROOT, name)
            if not os.path.isdir(d):
                continue
            _kill(cg_pids(d))
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.05)
        try:
            os.rmdir(CG_ROOT)
        except OSError:
            pass


# ---------------------------------------------------------------- setup

def setup(rate_mbit):
    """Create the two namespaces and the link; cleanup() first."""
    cleanup(verbose=True)
    sh("ip", "netns", "add", NS_SRV)
    sh("ip", "netns", "add", NS_CLI)
    sh("ip", "link", "add", DEV_SRV, "type", "veth", "peer", "name", DEV_CLI)
    sh("ip", "link", "set", DEV_SRV, "netns", NS_SRV)
    sh("ip", "link", "set", DEV_CLI, "netns", NS_CLI)
    for ns, dev, addr in ((NS_SRV, DEV_SRV, SRV_ADDR), (NS_CLI, DEV_CLI, CLI_ADDR)):
        sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    # receive processing on each side's own CPU (a veth delivers on the
    # sender's CPU otherwise, charging the client's receive work to the
    # server and the other way round)
    for ns, dev, cpu in ((NS_SRV, DEV_SRV, SRV_CPU), (NS_CLI, DEV_CLI, CLI_CPU)):
        sh("ip", "netns", "exec", ns, "sh", "-c",
           "echo %x > /sys/class/net/%s/queues/rx-0/rps_cpus" % (1 << cpu, dev))
    set_rate(rate_mbit)
    if os.path.isdir(CG_BASE):
        os.makedirs(CG_ROOT, exist_ok=True)


def set_rate(rate_mbit):
    """tbf on both ends. The bucket holds about 1.5 ms of the rate (at
    least 16 KB): larger segments from the sender's GSO are cut to the MTU
    by tbf, so the link serialises bytes as a wire would. The queue is
    deep (4 MB), as a host's own egress queue is (fq_codel holds 10,240
    packets): with a short one, six answers sent at once overflow it and
    a lost last segment costs TCP its 200 ms minimum retransmission
    timeout, a drop a server's own queue would not make. drops() counts
    what it still drops."""
    burst = max(16 * 1024, int(rate_mbit * 1e6 / 8 * 0.0015))
    for ns, dev in ((NS_SRV, DEV_SRV), (NS_CLI, DEV_CLI)):
        sh("tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "tbf", "rate",
           "%dmbit" % rate_mbit, "burst", str(burst), "limit", str(4 << 20))


def drops():
    """Packets tbf dropped so far, server side + client side (they count
    from the last set_rate)."""
    import re
    n = 0
    for ns, dev in ((NS_SRV, DEV_SRV), (NS_CLI, DEV_CLI)):
        out = sh("tc", "-s", "-n", ns, "qdisc", "show", "dev", dev, check=False).stdout
        m = re.search(r"dropped (\d+)", out)
        n += int(m.group(1)) if m else 0
    return n


def enter_client_ns():
    """Move this process (its only thread) into the client namespace, so its
    own sockets (readiness probes) and the clients it starts are there."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/var/run/netns/%s" % NS_CLI, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns %s" % NS_CLI)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- cgroups

def cg_make(name):
    """A cpuacct cgroup for one measured party; None without cpuacct."""
    if not os.path.isdir(CG_ROOT):
        return None
    d = os.path.join(CG_ROOT, name)
    os.makedirs(d, exist_ok=True)
    return d


def cg_usage_s(d):
    """CPU seconds (user + system) used so far by everything ever in d."""
    with open(os.path.join(d, "cpuacct.usage")) as f:
        return int(f.read()) / 1e9


def cg_pids(d):
    try:
        with open(os.path.join(d, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def wrap(argv, ns, cpu, cgroup):
    """argv run in namespace ns, pinned to cpu, inside cgroup. The same pid
    all along: sh writes itself into the cgroup and execs ip, which enters
    the namespace and execs taskset, which execs argv."""
    pre = []
    if cgroup:
        pre = ["sh", "-c", 'echo $$ > "$0"/cgroup.procs && exec "$@"', cgroup]
    nsp = ["ip", "netns", "exec", ns] if ns else []
    return pre + nsp + ["taskset", "-c", str(cpu)] + list(argv)


# ---------------------------------------------------------------- CPU of the machine

def cpu_times():
    """{cpu: (busy_s, total_s)} from /proc/stat, all CPUs and 'all'."""
    out = {}
    hz = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu"):
                break
            parts = line.split()
            v = [int(x) for x in parts[1:]]
            idle = v[3] + (v[4] if len(v) > 4 else 0)
            # guest time is already counted in user
            total = sum(v[:8])
            key = "all" if parts[0] == "cpu" else int(parts[0][3:])
            out[key] = ((total - idle) / hz, total / hz)
    return out


# ---------------------------------------------------------------- relay

class Relay:
    """bench/tools/relay in the client namespace, on the client's CPU."""

    def __init__(self, binary, ports, delay_us, listen="127.0.0.1", cgroup=None, log=None):
        self.argv = wrap([binary, "-d", str(delay_us), "-l", listen, "-t", SRV_ADDR]
                         + [str(p) for p in ports], None, CLI_CPU, cgroup)
        self.log = log
        self.proc = None
        self.stats = None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=self.log or subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
        time.sleep(0.2)
        if self.proc.poll() is not None:
            raise RuntimeError("relay did not start (exit %s)" % self.proc.returncode)

    def stop(self):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, _ = self.proc.communicate()
        self.proc = None
        import json
        for line in (out or "").splitlines():
            if line.startswith("{"):
                self.stats = json.loads(line)
        return self.stats


if __name__ == "__main__":
    if sys.argv[1:] == ["cleanup"]:
        cleanup(verbose=True)
    else:
        raise SystemExit("usage: python3 bench/link.py cleanup")
