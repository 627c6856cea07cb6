"""The firmware image on a QEMU board, tested as a router is: from a cold
first boot through HTTP, HTTPS, CGI and load, a reboot, refused and
accepted upgrades, a power cut in the middle of one, to a clean poweroff.

The tests run in file order on one board (conftest.board) and rely on it.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import boot_figures, figure
from vm import Vm, http_get

PASSWORD_RX = re.compile(r"admin password: ([a-z2-9]{4}(?:-[a-z2-9]{4}){3})")

# What a Debian kernel prints on these boards even with "quiet" (warnings
# about the emulated firmware, nothing of ours). Any other kernel line on
# the console is a finding.
KERNEL_COMMON = [
    # The emulated CPU was descheduled on a busy host (TCG), not a fault.
    r"hrtimer: interrupt took \d+ ns",
]
KERNEL_ALLOWED = {
    "armhf": [
        r"CPU0: Spectre v2: firmware did not set auxiliary control register "
        r"IBE bit, system vulnerable",
        r"/cpus/cpu@0 missing clock-frequency property",
    ],
    "aarch64": [
        r"pci-host-generic [0-9a-f]+\.pcie: Memory resource size exceeds "
        r"max for 32 bits",
    ],
    "mipsel": [
        # Malta's early console prints the first lines before "quiet"
        # is parsed.
        r"\[ +0\.0+\] (Linux version |earlycon: |printk: bootconsole |"
        r"CPU0 revision is|FPU revision is|MIPS: machine is|"
        r"Software DMA cache coherency)",
        r"Problem parsing in-kernel X\.509 certificate list",
        r"CPU frequency [0-9.]+ MHz",
        r"This architecture does not have kernel memory protection\.",
    ],
}

state = {}


# --- helpers ------------------------------------------------------------

def auth_header(password, user="admin"):
    return "Authorization: Basic %s\r\n" % base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()


def read_response(f):
    """One response from a file-like socket reader: (status, headers, body).
    Headers are lower-cased; bodies by Content-Length, chunked, or to EOF."""
    line = f.readline()
    if not line:
        return None
    m = re.match(rb"HTTP/1\.[01] (\d{3})", line)
    assert m, line
    status = int(m.group(1))
    headers = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    if status == 100 or status == 304:
        return status, headers, b""
    if "content-length" in headers:
        body = f.read(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while True:
            n = int(f.readline().split(b";")[0], 16)
            if n == 0:
                while f.readline() not in (b"\r\n", b""):
                    pass
                break
            body += f.read(n)
            f.readline()
    else:
        body = f.read()
    return status, headers, body


def request(port, path, extra="", method="GET", body=b"", tls_ctx=None,
            timeout=20):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls_ctx is not None:
        s = tls_ctx.wrap_socket(s, server_hostname="porch")
    with s:
        head = "%s %s HTTP/1.1\r\nHost: router\r\nConnection: close\r\n%s" % (
            method, path, extra)
        if body:
            head += "Content-Length: %d\r\n" % len(body)
        s.sendall(head.encode() + b"\r\n" + body)
        return read_response(s.makefile("rb"))


def css_path(vm):
    """The admin UI's stylesheet, by its versioned name (found in /)."""
    if "css" not in state:
        r = http_get(vm.http_port, "/", timeout=20)
        m = re.search(rb'href="(/a/app\.[0-9a-f]+\.css)"', r[2])
        assert m, r[2]
        state["css"] = m.group(1).decode()
    return state["css"]


def kv(body):
    return dict(line.split("=", 1) for line in body.decode().splitlines()
                if "=" in line)


def porch_pss(vm):
    """PSS of every porch process, in KiB, summed, and the process count."""
    rc, out = vm.sh("for p in $(pidof porch); do "
                    "awk '/^Pss:/ { print $2 }' /proc/$p/smaps_rollup; done")
    values = [int(v) for v in out.split()]
    return sum(values), len(values)


def mem_available(vm):
    rc, out = vm.sh("awk '/^MemAvailable:/ { print $2 }' /proc/meminfo")
    return int(out.strip())


def inactive_slot_sha(vm):
    """sha256 of the root slot not running (the one an upgrade writes)."""
    rc, dev = vm.sh("awk '$2 == \"/rom\" { print $1 }' /proc/mounts")
    dev = dev.strip()
    other = dev[:-1] + ("3" if dev.endswith("2") else "2")
    rc, out = vm.sh("sha256sum %s" % other)
    assert rc == 0, out
    return out.split()[0]


def fw_status(vm):
    rc, out = vm.sh("fw-upgrade status")
    assert rc == 0, out
    return json.loads(out)


def check_boot_log(vm, arch, log):
    """Console lines and syslog of one boot: no errors, no warnings we do
    not know, porch started once."""
    allowed = [re.compile(a) for a in KERNEL_COMMON + KERNEL_ALLOWED[arch]]
    bad = []
    for line in log.splitlines():
        line = line.strip()
        if re.match(r"\[\s*\d+\.\d+\]", line):
            if "reboot: " in line:
                continue
            if not any(a.search(line) for a in allowed):
                bad.append(line)
        elif re.search(r"(?i)\b(error|fail\w*|warning|fatal|oops|panic|"
                       r"segfault|cannot|can't|not found|denied|invalid|"
                       r"unrecognized)\b", line):
            bad.append(line)
    assert not bad, "unexpected console lines:\n" + "\n".join(bad)
    rc, out = vm.sh("logread")
    bad = []
    for line in out.splitlines():
        m = re.search(r" (\w+)\.(emerg|alert|crit|err|warn|warning) ", line)
        if m and not any(a.search(line) for a in allowed):
            bad.append(line)
    assert not bad, "warnings or errors in the system log:\n" + "\n".join(bad)
    starts = out.count("porch-run: starting porch")
    assert starts == 1, "porch started %d times:\n%s" % (starts, out)


def wait_rebooted(vm, since_marker, timeout=180):
    """After an in-guest reboot: the console saw the restart, and porch
    answers again. Seconds from the restart to the first answer."""
    m = vm.wait_console(rb"reboot: Restarting system", timeout,
                        since_marker)
    assert m, "no reboot seen:\n" + vm.console_tail()
    t = time.monotonic()
    deadline = t + timeout
    while time.monotonic() < deadline:
        r = http_get(vm.http_port, "/", timeout=1.0)
        if r is not None and r[0] == 200:
            return time.monotonic() - t
        time.sleep(0.05)
    raise AssertionError("porch did not come back:\n" + vm.console_tail())


# --- first boot ---------------------------------------------------------

@pytest.mark.smoke
def test_cold_first_boot_answers(board, env):
    r = http_get(board.http_port, "/")
    assert r is not None and r[0] == 200
    assert b"Router administration" in r[2]
    assert board.cold < 180


@pytest.mark.smoke
def test_initial_password_printed_once_and_only_hashed(board):
    log = board.boot_log()
    found = PASSWORD_RX.findall(log)
    assert len(found) == 1, log
    password = found[0]
    state["password"] = password
    rc, out = board.sh("cat /etc/porch/passwd")
    assert rc == 0 and re.fullmatch(r"admin:\$6\$[^:\s]+\n", out), out
    rc, out = board.sh("ls -ln /etc/porch /etc/ssl/porch")
    assert "password-must-change" in out
    # Only the hash is kept: not in the settings disk, not in the log.
    rc, out = board.sh("find /overlay /etc /run /tmp -type f -exec "
                       "grep -l '%s' {} +; logread | grep -c '%s'"
                       % (password, password))
    assert out.split() == ["0"], out
    state["hash"] = board.sh("cat /etc/porch/passwd")[1]


@pytest.mark.smoke
def test_https_with_the_certificate_the_guest_generated(board, env):
    rc, pem = board.sh("cat /etc/ssl/porch/cert.pem")
    assert rc == 0 and "BEGIN CERTIFICATE" in pem
    pem = pem[pem.index("-----BEGIN"):]
    path = os.path.join(env.work, "guest-cert.pem")
    with open(path, "w") as f:
        f.write(pem)
    text = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "id-ecPublicKey" in text and "prime256v1" in text, text
    ctx = ssl.create_default_context(cafile=path)
    ctx.check_hostname = False
    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", board.https_port),
                                  timeout=30) as s:
        with ctx.wrap_socket(s, server_hostname="porch") as ts:
            figure("TLS handshake from the host (s)",
                   "%.3f (%s)" % (time.monotonic() - t, ts.version()))
            der = ts.getpeercert(binary_form=True)
            ts.sendall(b"GET / HTTP/1.1\r\nHost: router\r\n\r\n"
                       b"GET / HTTP/1.1\r\nHost: router\r\n"
                       b"Connection: close\r\n\r\n")
            f = ts.makefile("rb")
            assert read_response(f)[0] == 200
            assert read_response(f)[0] == 200
    state["cert_sha256"] = hashlib.sha256(der).hexdigest()
    state["cert_path"] = path


@pytest.mark.smoke
def test_boot_log_clean(board, env):
    check_boot_log(board, env.arch, board.boot_log())


def server_start(vm, command, port):
    """Seconds from starting a server in the guest to its first answer on
    loopback, by the guest's clock."""
    rc, out = vm.sh(
        "s=$(cut -d' ' -f1 /proc/uptime); %s & "
        "until wget -q -O /dev/null http://127.0.0.1:%d/ 2>/dev/null; do :; "
        "done; e=$(cut -d' ' -f1 /proc/uptime); kill $!; wait; echo T $s $e"
        % (command, port), timeout=120)
    m = re.search(r"T ([0-9.]+) ([0-9.]+)", out)
    assert m, out
    return float(m.group(2)) - float(m.group(1))


@pytest.mark.smoke
def test_server_start_inside_the_guest(board):
    """What porch itself adds to a boot, free of the kernel's share: a
    second porch with the image's configuration (other ports), against
    BusyBox httpd, each started three times in the running guest."""
    board.sh("grep -v -E '^(listen|tls_listen|pid_file|access_log)' "
             "/etc/porch.conf >/tmp/bench.conf && printf '%s\\n' "
             "'listen 127.0.0.1:8081' 'tls_listen 127.0.0.1:8444' "
             "'pid_file /tmp/bench.pid' 'access_log off' >>/tmp/bench.conf && "
             "sed -e 's#^tls_cert .*#tls_cert /tmp/gen/cert.pem#' "
             "-e 's#^tls_key .*#tls_key /tmp/gen/key.pem#' /tmp/bench.conf "
             ">/tmp/bench-gen.conf", check=True)
    porch, gen, bb = [], [], []
    for _ in range(3):
        porch.append(server_start(board, "porch -c /tmp/bench.conf", 8081))
        board.sh("rm -rf /tmp/gen && mkdir -m 0700 /tmp/gen", check=True)
        gen.append(server_start(board, "porch -c /tmp/bench-gen.conf", 8081))
        bb.append(server_start(board, "httpd -f -p 127.0.0.1:8082 -h /www "
                               "-u porch:porch", 8082))
    figure("in the guest, start to first answer, best of 3 (s): porch / "
           "porch making its TLS key / busybox httpd",
           "%.2f / %.2f / %.2f" % (min(porch), min(gen), min(bb)))
    board.sh("rm -rf /tmp/gen /tmp/bench.conf /tmp/bench-gen.conf")


# --- HTTP behaviour in the image ----------------------------------------

def test_keepalive(board):
    with socket.create_connection(("127.0.0.1", board.http_port),
                                  timeout=20) as s:
        f = s.makefile("rb")
        for i in range(3):
            s.sendall(b"GET / HTTP/1.1\r\nHost: router\r\n\r\n")
            status, h, body = read_response(f)
            assert status == 200
            assert "keep-alive" in h, h
        assert h["keep-alive"].startswith("timeout=")


def test_pipelining(board):
    with socket.create_connection(("127.0.0.1", board.http_port),
                                  timeout=20) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: router\r\n\r\n"
                  b"GET %s HTTP/1.1\r\nHost: router\r\n\r\n"
                  % css_path(board).encode() +
                  b"GET /nothing-here HTTP/1.1\r\nHost: router\r\n"
                  b"Connection: close\r\n\r\n")
        f = s.makefile("rb")
        got = [read_response(f) for _ in range(3)]
    assert [g[0] for g in got] == [200, 200, 404]
    assert got[0][1]["content-type"].startswith("text/html")
    assert got[1][1]["content-type"].startswith("text/css")


def test_cgi_behind_the_admin_password(board):
    pw = state["password"]
    status, h, body = request(board.http_port, "/test-cgi/test-echo")
    assert status == 401
    status, h, body = request(board.http_port, "/test-cgi/test-echo",
                              auth_header("wrong-password"))
    assert status == 401
    status, h, body = request(board.http_port, "/test-cgi/test-echo",
                              auth_header(pw))
    assert status == 200, body
    v = kv(body)
    assert v["remote_user"] == "admin"
    assert v["uid"] == "100", "CGIs run as porch's user, not root"
    assert v["https"] == ""
    assert v["request_id"] and h["x-request-id"] == v["request_id"]
    ctx = ssl.create_default_context(cafile=state["cert_path"])
    ctx.check_hostname = False
    status, h, body = request(board.https_port, "/test-cgi/test-echo",
                              auth_header(pw), tls_ctx=ctx)
    assert status == 200 and kv(body)["https"] == "on"


def test_expect_100_continue(board):
    pw = state["password"]
    payload = os.urandom(200 * 1024)
    with socket.create_connection(("127.0.0.1", board.http_port),
                                  timeout=30) as s:
        f = s.makefile("rb")
        s.sendall(("POST /test-cgi/test-echo HTTP/1.1\r\nHost: router\r\n"
                   "Expect: 100-continue\r\nContent-Length: %d\r\n%s"
                   "Connection: close\r\n\r\n" % (len(payload), auth_header(pw))
                   ).encode())
        status, h, body = read_response(f)
        assert status == 100
        s.sendall(payload)
        status, h, body = read_response(f)
    assert status == 200, body
    assert kv(body)["body-sha256"] == hashlib.sha256(payload).hexdigest()
    # Without the password: the final 401 at once, no 100, connection
    # closed, the body never read as a request.
    with socket.create_connection(("127.0.0.1", board.http_port),
                                  timeout=30) as s:
        f = s.makefile("rb")
        s.sendall(b"POST /test-cgi/test-echo HTTP/1.1\r\nHost: router\r\n"
                  b"Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n")
        status, h, body = read_response(f)
        assert status == 401
        assert h.get("connection") == "close"


# --- the admin UI ---------------------------------------------------------

class AdminUi:
    """The admin UI's requests over HTTPS, made as its script makes them:
    the session cookie on each, the CSRF token on every state change."""

    def __init__(self, vm):
        self.vm = vm
        self.ctx = ssl.create_default_context(cafile=state["cert_path"])
        self.ctx.check_hostname = False
        self.cookie = None
        self.csrf = None

    def call(self, method, path, obj=None, body=None,
             ctype="application/json", csrf=True, extra="", timeout=60):
        if self.cookie:
            extra += "Cookie: porch_session=%s\r\n" % self.cookie
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            extra += "X-CSRF-Token: %s\r\n" % self.csrf
        if obj is not None:
            body = json.dumps(obj).encode()
        if body is not None:
            extra += "Content-Type: %s\r\n" % ctype
        extra += "Accept: application/json\r\n"
        status, h, b = request(self.vm.https_port, path, extra, method,
                               body or b"", tls_ctx=self.ctx,
                               timeout=timeout)
        try:
            data = json.loads(b) if b else None
        except ValueError:
            data = None
        return status, h, data if data is not None else b

    def login(self, password):
        status, h, d = self.call("POST", "/api/session",
                                 {"user": "admin", "password": password})
        assert status == 200, (status, d)
        cookie = h["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie
        assert "SameSite=Strict" in cookie, cookie
        self.cookie = re.match(r"porch_session=([0-9a-f]{32});",
                               cookie).group(1)
        self.csrf = d["csrf"]
        return d


def test_admin_ui_first_login_forces_a_new_password(board):
    """The label's password logs in once, for choosing a new one; nothing
    else runs until then; the new one is what counts afterwards."""
    ui = AdminUi(board)
    status, h, d = ui.call("GET", "/cgi-bin/ui/status")
    assert status == 401 and isinstance(d, dict), (status, d)
    status, h, d = request(board.https_port, "/ui/", tls_ctx=ui.ctx,
                           extra="Accept: text/html\r\n"
                           "Sec-Fetch-Mode: navigate\r\n")
    assert status == 303 and h["location"].startswith("/?next="), h
    ui.login(state["password"])
    status, h, d = ui.call("GET", "/cgi-bin/ui/status")
    assert status == 200 and d["must_change"] is True, d
    status, h, d = ui.call("GET", "/cgi-bin/ui/upgrade")
    assert status == 403 and d["must_change"] is True, d
    new = "porch-qemu-%s" % os.urandom(4).hex()
    # A state change without the session's token: refused by porch.
    status, h, d = ui.call("POST", "/cgi-bin/ui/password",
                           {"old": state["password"], "new": new},
                           csrf=False)
    assert status == 403 and d == {"error": "csrf"}, (status, d)
    status, h, d = ui.call("POST", "/cgi-bin/ui/password",
                           {"old": state["password"], "new": new})
    assert status == 200 and d["ok"], (status, d)
    rc, out = board.sh("ls /etc/porch")
    assert "password-must-change" not in out
    # The change ended every session; the old password no longer works.
    status, h, d = ui.call("GET", "/cgi-bin/ui/status")
    assert status == 401, (status, d)
    status, h, d = AdminUi(board).call(
        "POST", "/api/session", {"user": "admin",
                                 "password": state["password"]})
    assert status == 401, (status, d)
    state["password"] = new
    state["hash"] = board.sh("cat /etc/porch/passwd")[1]


def test_admin_ui_dashboard(board, env):
    ui = AdminUi(board)
    ui.login(state["password"])
    status, h, page = ui.call("GET", "/ui/")
    assert status == 200 and b"<h1" in page
    assert "default-src 'self'" in h["content-security-policy"]
    t = time.monotonic()
    status, h, d = ui.call("GET", "/cgi-bin/ui/status",
                           extra="X-Background: 1\r\n")
    figure("dashboard JSON through the UI's CGI over HTTPS (s)",
           "%.3f" % (time.monotonic() - t))
    assert status == 200 and d["must_change"] is False, d
    assert d["version"] == env.version(env.v1)
    assert d["hostname"] == "porch"
    assert d["kernel"] and d["uptime"] > 0 and len(d["load"]) == 3
    assert 0 < d["mem"]["available"] < d["mem"]["total"] < 70000
    names = [i["name"] for i in d["ifaces"]]
    assert "eth0" in names and "lo" in names, names
    eth0 = d["ifaces"][names.index("eth0")]
    assert eth0["up"] and any(a.startswith("10.0.2.") for a in
                              eth0["addrs"]), eth0
    assert d["porch"] is not None, "porch's counters from /server-status"
    figure("dashboard JSON (bytes)", len(json.dumps(d)))
    # A cold load of the dashboard, as a browser makes it: the page, its
    # stylesheet, script and icon (gzip), then the JSON; six connections.
    t = time.monotonic()
    status, h, page = ui.call("GET", "/ui/",
                              extra="Accept-Encoding: gzip\r\n")
    assert status == 200
    if h.get("content-encoding") == "gzip":
        import gzip
        page = gzip.decompress(page)
    assets = re.findall(rb'(?:href|src)="(/a/[^"]+)"', page)
    assert assets, page
    wire = [len(page)]
    errors = []

    def get(path):
        st, hh, body = ui.call("GET", path,
                               extra="Accept-Encoding: gzip\r\n")
        if st != 200:
            errors.append((path, st))
        wire.append(len(body) if isinstance(body, bytes) else
                    len(json.dumps(body)))

    threads = [threading.Thread(target=get, args=(a.decode(),))
               for a in set(assets)]
    threads.append(threading.Thread(target=get,
                                    args=("/cgi-bin/ui/status",)))
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    figure("dashboard cold load over HTTPS, %d requests, %d body bytes "
           "(s)" % (len(wire), sum(wire)), "%.2f" % (time.monotonic() - t))
    # Logging out ends the session for every worker.
    status, h, d = ui.call("DELETE", "/api/session")
    assert status == 200, (status, d)
    status, h, d = ui.call("GET", "/cgi-bin/ui/status")
    assert status == 401


class Browser:
    """One of a browser's connections: reconnects when porch closed it
    (under pool pressure idle connections are closed, as they may be)."""

    def __init__(self, port):
        self.port = port
        self.s = None

    def get(self, path):
        for attempt in (1, 2):
            if self.s is None:
                self.s = socket.create_connection(("127.0.0.1", self.port),
                                                  timeout=10)
                self.f = self.s.makefile("rb")
            try:
                self.s.sendall(("GET %s HTTP/1.1\r\nHost: router\r\n\r\n"
                                % path).encode())
                r = read_response(self.f)
            except OSError:
                r = None
            if r is None or r[1].get("connection") == "close":
                self.close()
            if r is not None:
                return r
        raise AssertionError("no response to %s" % path)

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None


def test_pool_pressure_six_browser_connections(board):
    """A browser's six connections to the two workers: every request is
    answered long before a keep-alive timeout (5 s) could pass."""
    errors = []
    done = []
    css = css_path(board)

    def browser_connection():
        b = Browser(board.http_port)
        try:
            for path in ("/", css, "/"):
                assert b.get(path)[0] == 200
            done.append(1)
        except Exception as e:     # noqa: BLE001 (reported below)
            errors.append(repr(e))
        finally:
            b.close()

    t = time.monotonic()
    threads = [threading.Thread(target=browser_connection) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    elapsed = time.monotonic() - t
    figure("six connections x 3 requests, 2 workers (s)", "%.2f" % elapsed)
    assert not errors, errors
    assert len(done) == 6
    assert elapsed < 4.5, "requests waited for a keep-alive timeout"


def test_slowloris_burst(board):
    """Forty clients trickling request heads: a normal client is still
    served, and porch's processes are the same after it."""
    rc, before = board.sh("pidof porch")
    stop = threading.Event()
    slow = []

    def trickle():
        try:
            s = socket.create_connection(("127.0.0.1", board.http_port),
                                         timeout=5)
            slow.append(s)
            s.sendall(b"GET / HTTP/1.1\r\nHost: router\r\n")
            while not stop.wait(1.0):
                s.sendall(b"X-Slow: a\r\n")
        except OSError:
            pass

    threads = [threading.Thread(target=trickle) for _ in range(40)]
    for th in threads:
        th.start()
    worst = 0.0
    served = 0
    t_end = time.monotonic() + 8
    while time.monotonic() < t_end:
        t = time.monotonic()
        r = http_get(board.http_port, "/", timeout=10)
        assert r is not None and r[0] == 200, "normal client not served"
        worst = max(worst, time.monotonic() - t)
        served += 1
        time.sleep(0.3)
    stop.set()
    for th in threads:
        th.join(10)
    for s in slow:
        s.close()
    figure("slowloris burst (40 trickling heads): worst normal request (s)",
           "%.2f over %d requests" % (worst, served))
    assert worst < 5
    rc, after = board.sh("pidof porch")
    assert sorted(after.split()) == sorted(before.split())


@pytest.mark.smoke
def test_memory_idle_and_under_load(board):
    time.sleep(1)
    idle, n = porch_pss(board)
    avail = mem_available(board)
    figure("MemAvailable idle, -m 64 (KiB)", avail)
    figure("porch PSS idle, all %d processes (KiB)" % n, idle)
    stop = threading.Event()
    count = [0]
    css = css_path(board).encode()

    def load():
        while not stop.is_set():
            try:
                with socket.create_connection(
                        ("127.0.0.1", board.http_port), timeout=10) as s:
                    f = s.makefile("rb")
                    for _ in range(50):
                        if stop.is_set():
                            break
                        s.sendall(b"GET %s HTTP/1.1\r\n"
                                  b"Host: router\r\n\r\n" % css)
                        r = read_response(f)
                        if r is None or r[1].get("connection") == "close":
                            break
                        count[0] += 1
            except OSError:
                time.sleep(0.05)

    threads = [threading.Thread(target=load) for _ in range(4)]
    t = time.monotonic()
    for th in threads:
        th.start()
    time.sleep(2)
    busy, n_busy = porch_pss(board)
    avail_busy = mem_available(board)
    stop.set()
    for th in threads:
        th.join(15)
    rate = count[0] / (time.monotonic() - t)
    figure("porch PSS under load, %d processes (KiB)" % n_busy, busy)
    figure("MemAvailable under load (KiB)", avail_busy)
    figure("requests/s during the load (4 keep-alive clients, TCG)",
           "%.0f" % rate)
    assert count[0] > 0
    assert n_busy == 3


# --- settings survive a reboot ------------------------------------------

def test_setting_kept_across_reboot(board, env):
    """The hostname, set in the admin UI (a hostile one refused first),
    and the password chosen there, survive a reboot."""
    ui = AdminUi(board)
    ui.login(state["password"])
    for bad in ("$(reboot)", "<img src=x onerror=alert(1)>", "-router",
                "a" * 64):
        status, h, d = ui.call("POST", "/cgi-bin/ui/hostname",
                               {"hostname": bad})
        assert status == 422, (bad, status, d)
    status, h, d = ui.call("POST", "/cgi-bin/ui/hostname",
                           {"hostname": "router-test"})
    assert status == 200 and d["ok"], (status, d)
    assert board.sh("cat /etc/hostname")[1].strip() == "router-test"
    board.sh("sync", check=True)
    rc = board.poweroff(timeout=60)
    assert rc == 0
    board.start()
    warm = board.wait_http(timeout=180)
    board.warm = warm
    board.warm_root = boot_figures("porch warm", board, warm)
    board.shell()
    log = board.boot_log()
    assert "first boot" not in log and not PASSWORD_RX.search(log)
    assert board.sh("hostname")[1].strip() == "router-test"
    assert board.sh("cat /etc/porch/passwd")[1] == state["hash"]
    status, h, body = request(board.http_port, "/test-cgi/test-echo",
                              auth_header(state["password"]))
    assert status == 200 and kv(body)["hostname"] == "router-test"
    ctx = ssl.create_default_context(cafile=state["cert_path"])
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", board.https_port),
                                  timeout=30) as s:
        with ctx.wrap_socket(s, server_hostname="porch") as ts:
            der = ts.getpeercert(binary_form=True)
    assert hashlib.sha256(der).hexdigest() == state["cert_sha256"]
    check_boot_log(board, env.arch, log)


# --- upgrades -----------------------------------------------------------

REFUSALS = [
    ("garbage.bin", "not a porch firmware image"),
    ("truncated.bin", "image truncated"),
    ("badsum.bin", "payload checksum mismatch"),
    ("otherarch.bin", "this image is for"),
]


def fetch(vm, name):
    rc, out = vm.sh("wget -q -O /tmp/%s http://10.0.2.100/%s" % (name, name),
                    timeout=120)
    assert rc == 0, out


@pytest.mark.parametrize("name,message", REFUSALS)
def test_upgrade_refused(board, env, upgrade_files, name, message):
    fetch(board, name)
    before = fw_status(board)
    slot_before = inactive_slot_sha(board)
    rc, out = board.sh("fw-upgrade check /tmp/%s" % name)
    assert rc == 1, out
    r = json.loads(out)
    assert r["ok"] is False and message in r["message"], r
    rc, out = board.sh("fw-upgrade apply /tmp/%s keep" % name)
    assert rc == 1, out
    r = json.loads(out.splitlines()[0])
    assert r["ok"] is False and message in r["message"], r
    assert fw_status(board) == before, "a refused image changed the flash"
    assert inactive_slot_sha(board) == slot_before
    rc, out = board.sh("ls /overlay")
    assert "next" not in out.split()
    board.sh("rm -f /tmp/%s" % name)


def test_upgrade_refused_through_the_ui_path(board, env, upgrade_files):
    """A corrupt upload to the admin UI, checked by its CGI as porch's
    user: refused with fw-upgrade's message, no install offered, nothing
    reaches the root service or the flash."""
    with open(os.path.join(upgrade_files, "badsum.bin"), "rb") as f:
        image = f.read()
    before = fw_status(board)
    ui = AdminUi(board)
    ui.login(state["password"])
    status, h, d = ui.call("POST", "/cgi-bin/ui/upgrade", body=image,
                           ctype="application/octet-stream", timeout=120)
    assert isinstance(d, dict) and d["ok"] is False, (status, d)
    assert "checksum mismatch" in d["message"], d
    status, h, d = ui.call("POST", "/cgi-bin/ui/install",
                           {"sha256": hashlib.sha256(image).hexdigest(),
                            "keep": True})
    assert status == 409, (status, d)
    assert fw_status(board) == before
    rc, out = board.sh("ls -A /tmp/fw-upgrade.spool /overlay")
    assert "image.bin" not in out and "next" not in out.split(), out


def test_upgrade_keeps_settings(board, env, upgrade_files):
    """The admin UI's upgrade over HTTPS, as its page drives it: upload
    (one POST), the device's size, SHA-256 and check, install with
    settings kept; root's fw-upgraded flashes, the box reboots into the
    new version with every setting."""
    v2 = env.version(env.v2)
    with open(os.path.join(env.v2, "firmware.bin"), "rb") as f:
        image = f.read()
    sha = hashlib.sha256(image).hexdigest()
    ui = AdminUi(board)
    ui.login(state["password"])
    t = time.monotonic()
    status, h, d = ui.call("POST", "/cgi-bin/ui/upgrade", body=image,
                           ctype="application/octet-stream", timeout=120)
    figure("upgrade: %d-byte upload and check over HTTPS (s)" % len(image),
           "%.2f" % (time.monotonic() - t))
    assert status == 200 and d["ok"], (status, d)
    assert d["version"] == v2 and d["arch"] == env.arch, d
    assert d["sha256"] == sha and d["size"] == len(image), d
    status, h, d = ui.call("GET", "/cgi-bin/ui/upgrade")
    assert status == 200 and d["image"]["sha256"] == sha, d
    mark = board.mark()
    status, h, d = ui.call("POST", "/cgi-bin/ui/install",
                           {"sha256": sha, "keep": True})
    assert status == 202 and d["ok"] and d["keep"] is True, (status, d)
    assert d["version"] == v2, d
    back = wait_rebooted(board, mark)
    figure("upgrade: reboot to first response of the new version (s)",
           "%.2f" % back)
    board.shell()
    status, h, body = request(board.http_port, "/test-cgi/test-echo",
                              auth_header(state["password"]))
    assert status == 200, "the admin password was kept"
    v = kv(body)
    assert v["version"] == v2
    assert v["hostname"] == "router-test"
    ui = AdminUi(board)
    ui.login(state["password"])
    status, h, d = ui.call("GET", "/cgi-bin/ui/upgrade")
    assert status == 200 and d["current"] == v2, d
    ctx = ssl.create_default_context(cafile=state["cert_path"])
    ctx.check_hostname = False
    status, h, body = request(board.https_port, "/", tls_ctx=ctx)
    assert status == 200, "the TLS certificate was kept"
    # boot-confirm marks the new slot good once porch answers.
    deadline = time.monotonic() + 60
    while True:
        s = fw_status(board)
        if s["slots"][s["booted"]]["state"] == "good":
            break
        assert time.monotonic() < deadline, s
        time.sleep(1)
    assert s["booted"] == "b" and s["version"] == v2
    assert s["slots"]["a"]["state"] == "good", "the old root stays a fallback"
    log = board.since(mark)
    assert "settings carried over" in log
    check_boot_log(board, env.arch, log[log.index("reboot: Restarting"):])


def test_torn_boot_record_write_uses_the_other_copy(board, env):
    """The power goes while the record is written (here: the confirm just
    done): that copy is garbage, the older one still boots the same root,
    and the boot is confirmed again."""
    v2 = env.version(env.v2)
    s = fw_status(board)
    seq = s["slots"]["seq"]
    board.sh("d=$(awk '$2 == \"/rom\" { print $1 }' /proc/mounts); "
             "dd if=/dev/urandom of=${d%%?}1 bs=512 seek=%d count=1 "
             "conv=notrunc,fsync 2>/dev/null"
             % (0 if seq % 2 == 0 else 8), check=True)
    board.kill()
    board.start()
    board.wait_http(timeout=180)
    board.shell()
    assert "one boot-record copy was invalid" in board.boot_log()
    deadline = time.monotonic() + 60
    while True:
        s2 = fw_status(board)
        if s2["slots"]["b"]["state"] == "good":
            break
        assert time.monotonic() < deadline, s2
        time.sleep(1)
    assert s2["booted"] == "b" and s2["version"] == v2


def test_power_cut_before_the_commit_keeps_the_running_root(board, env,
                                                           upgrade_files):
    """The upgrade's payload and settings are written, the commit is not:
    a power cut there boots the same root with the same settings."""
    v2 = env.version(env.v2)
    fetch(board, "v1.bin")
    board.sh("sync")
    mark = board.mark()
    board.send_line("FW_UPGRADE_TEST_STOP=settings fw-upgrade apply "
                    "/tmp/v1.bin wipe")
    assert board.wait_console(rb"test stop after step 'settings'", 120, mark)
    board.kill()
    board.start()
    board.wait_http(timeout=180)
    board.shell()
    s = fw_status(board)
    assert s["booted"] == "b" and s["version"] == v2
    assert s["slots"]["a"]["state"] == "empty", s
    assert board.sh("hostname")[1].strip() == "router-test"
    assert board.sh("cat /etc/porch/passwd")[1] == state["hash"]
    rc, out = board.sh("ls -a /overlay")
    assert "next" not in out.split() and "next.tmp" not in out.split()


def test_upgrade_wipes_settings(board, env, upgrade_files):
    v1 = env.version(env.v1)
    fetch(board, "v1.bin")
    mark = board.mark()
    board.send_line("fw-upgrade apply /tmp/v1.bin wipe")
    wait_rebooted(board, mark)
    board.shell()
    log = board.since(mark)
    assert "settings wiped for version" in log
    found = PASSWORD_RX.findall(log)
    assert len(found) == 1, "a wiped device makes a new password"
    assert found[0] != state["password"]
    assert board.sh("hostname")[1].strip() == "porch"
    status, h, body = request(board.http_port, "/test-cgi/test-echo",
                              auth_header(found[0]))
    assert status == 200 and kv(body)["version"] == v1
    state["password"] = found[0]


@pytest.mark.smoke
def test_clean_poweroff(board):
    mark = board.mark()
    rc = board.poweroff(timeout=60)
    assert rc == 0
    log = board.since(mark)
    assert "rcK: settings disk clean" in log
    assert "reboot: Power down" in log


# --- the other form and the baseline ------------------------------------

def test_whole_root_initramfs_boots(env):
    vm = Vm(env.arch, env.v1, os.path.join(env.work, "no-disks"), env.work,
            name="whole", whole=True)
    vm.start()
    try:
        t = vm.wait_http(timeout=180)
        figure("whole root initramfs (state in RAM): first response (s)",
               "%.2f" % t)
        assert PASSWORD_RX.search(vm.boot_log())
        vm.shell()
        rc, out = vm.sh("fw-upgrade status")
        assert rc == 3
        assert vm.poweroff(timeout=60) == 0
    finally:
        vm.kill()


def boot_twice(env, name, append=""):
    """A cold first boot on fresh disks, then a warm one: seconds from
    QEMU's start to the first answer, and from the root mounted to it."""
    vm = Vm(env.arch, env.v1, os.path.join(env.work, "disks-" + name),
            env.work, name=name, append=append)
    if os.path.isdir(vm.disks):
        shutil.rmtree(vm.disks)
    got = []
    try:
        for _ in ("cold", "warm"):
            vm.start()
            t = vm.wait_http(timeout=180)
            root = vm.line_time(r"^boot: \[[0-9.]+\] root: ")
            got.append((t, t - root if root is not None else float("nan")))
            vm.shell()
            assert vm.poweroff(timeout=60) == 0
    finally:
        vm.kill()
    return got


@pytest.mark.bench
def test_boot_time_vs_busybox_httpd(env):
    """porch against BusyBox httpd in its place (porch.bench=busybox-httpd),
    same image, same disks, same QEMU, alternating, QEMU_TEST_ROUNDS times
    (default 1): the best of each, since a busy host only adds time."""
    rounds = int(os.environ.get("QEMU_TEST_ROUNDS", "1"))
    runs = {"porch": [], "busybox httpd": []}
    for r in range(rounds):
        order = ["porch", "busybox httpd"]
        if r % 2:
            order.reverse()
        for server in order:
            append = "" if server == "porch" else "porch.bench=busybox-httpd"
            runs[server].append(boot_twice(
                env, server.replace(" ", "-") + "-%d" % r, append))
    best = {}
    for server, got in runs.items():
        for i, phase in enumerate(("cold", "warm")):
            total = min(g[i][0] for g in got)
            user = min(g[i][1] for g in got)
            best[server, phase] = (total, user)
            figure("%s %s, best of %d: first response / after root "
                   "mounted (s)" % (server, phase, rounds),
                   "%.2f / %.2f" % (total, user))
    for phase in ("cold", "warm"):
        p, b = best["porch", phase], best["busybox httpd", phase]
        figure("porch - busybox httpd, %s (s): whole boot / after root "
               "mounted" % phase, "%+.2f / %+.2f" % (p[0] - b[0], p[1] - b[1]))


@pytest.mark.smoke
def test_sizes(env):
    sz = env.sizes(env.product)
    figure("squashfs root, product image (bytes)", sz["squashfs_bytes"])
    figure("porch's share of it (bytes)", sz["porch_share_bytes"])
    figure("porch binary (bytes)", sz["porch_binary_bytes"])
    figure("busybox binary (bytes)", sz["busybox_binary_bytes"])
    figure("boot initramfs incl. modules (bytes)", sz["boot_cpio_gz_bytes"])
    figure("whole-root initramfs incl. modules (bytes)",
           sz["rootfs_cpio_gz_bytes"])
    figure("kernel (bytes, %s)" % sz["kernel"], sz["kernel_bytes"])
    assert int(sz["squashfs_bytes"]) <= 2 * 1024 * 1024
