"""Regression tests for the security audit (issue 12). Each test's
docstring names the finding it guards; each failed on the main branch the
audit read, and passes now. The setup the audit used: porch started as
root, workers as nobody, CGIs by prefix and by extension, Basic auth, logs
in a directory the workers' user owns."""
import base64
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import (PORCH_BIN, PORCH_QEMU, SLOW, Porch, exchange, free_port,
                      get, make_docroot, parse_responses, recv_until_close,
                      wait_for)

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

NOBODY = pwd.getpwnam("nobody")
# strerror(ELOOP) in glibc and in musl
ELOOP = "(Too many levels of symbolic links|Symbolic link loop)"


@pytest.fixture
def world_tmp():
    """A tree nobody can reach (pytest's tmp_path sits under a 0700
    directory): www/ with the standard docroot, logs/ owned by nobody."""
    d = tempfile.mkdtemp(prefix="porch-audit-", dir="/tmp")
    os.chmod(d, 0o755)
    make_docroot(os.path.join(d, "www"))
    logs = os.path.join(d, "logs")
    os.mkdir(logs)
    os.chown(logs, NOBODY.pw_uid, NOBODY.pw_gid)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def audited(world_tmp):
    """porch as the audit ran it, with extra directives."""
    started = []

    def start(conf_lines=(), workers=2, args=()):
        logs = os.path.join(world_tmp, "logs")
        p = Porch(world_tmp, os.path.join(world_tmp, "www"),
                  ["user nobody", "cgi /cgi-bin/", "cgi_ext .cgi",
                   "error_log %s/error.log" % logs,
                   "access_log %s/access.log" % logs] + list(conf_lines),
                  args, workers)
        p.error_log = logs + "/error.log"
        p.access_log = logs + "/access.log"
        started.append(p)
        return p
    yield start
    for p in started:
        p.stop()


def write_exec(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def request(p, path, extra="", source="127.0.0.1"):
    s = socket.socket()
    s.settimeout(5 * SLOW)
    s.bind((source, 0))
    s.connect((p.host, p.port))
    with s:
        s.sendall(get(path=path, extra=extra + "Connection: close\r\n"))
        return parse_responses(recv_until_close(s))[0]


def basic(user, password):
    raw = ("%s:%s" % (user, password)).encode("utf-8")
    return "Authorization: Basic %s\r\n" % base64.b64encode(raw).decode()


def sha512(password, rounds=None):
    flag = ["-6"] if rounds is None else ["-6", "-salt",
                                            "rounds=%d$abcdefgh" % rounds]
    return subprocess.run(["openssl", "passwd"] + flag + [password],
                          check=True, capture_output=True,
                          text=True).stdout.strip()


# ---- 1. log reopen follows a symlink (high) ---------------------------------

@root_only
def test_log_reopen_never_follows_a_symlink_planted_by_the_worker_user(
        audited, world_tmp):
    """Finding 1 (CVE-2016-1247 pattern): the root master reopened logs by
    name on USR1, following a symlink the workers' user planted, and gave
    what it opened to that user. A root-only file stays root's, unread and
    unchanged; the old log keeps the lines; the error log says why."""
    victim = os.path.join(world_tmp, "root-only")
    with open(victim, "w") as f:
        f.write("secret\n")
    os.chmod(victim, 0o600)
    before = os.stat(victim)
    p = audited()
    assert request(p, "/hello.txt").status == 200
    logs = os.path.join(world_tmp, "logs")
    # what the workers' user can do in its own directory
    os.rename(p.access_log, p.access_log + ".1")
    os.symlink(victim, p.access_log)
    os.lchown(p.access_log, NOBODY.pw_uid, NOBODY.pw_gid)
    p.send_signal(signal.SIGUSR1)
    wait_for(lambda: "logs reopened" in p.log(), what="logs reopened")
    assert request(p, "/hello.txt?after").status == 200
    after = os.stat(victim)
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == \
        (before.st_uid, before.st_gid, 0o600)
    assert open(victim).read() == "secret\n"
    assert os.path.islink(p.access_log)
    wait_for(lambda: "?after" in Porch.read(p.access_log + ".1"),
             what="the line in the log still open")
    assert re.search(r"reopening log .*access\.log: " + ELOOP, p.log()), \
        p.log()
    # no log file was ever given to the workers' user
    for name in os.listdir(logs):
        st = os.lstat(os.path.join(logs, name))
        if not stat.S_ISLNK(st.st_mode):
            assert st.st_uid == 0, name


@root_only
def test_a_symlinked_log_is_refused_at_start(world_tmp):
    """Finding 1, at start: the master opens no log through a symlink."""
    victim = os.path.join(world_tmp, "root-only")
    with open(victim, "w") as f:
        f.write("secret\n")
    os.chmod(victim, 0o600)
    link = os.path.join(world_tmp, "logs", "access.log")
    os.symlink(victim, link)
    conf = os.path.join(world_tmp, "porch.conf")
    with open(conf, "w") as f:
        f.write("listen 127.0.0.1:1\nroot %s/www\nuser nobody\n"
                "access_log %s\n" % (world_tmp, link))
    cmd = [PORCH_BIN, "-c", conf]
    r = subprocess.run(([PORCH_QEMU] + cmd) if PORCH_QEMU else cmd,
                       capture_output=True, text=True, timeout=10 * SLOW)
    assert r.returncode != 0
    assert re.search("opening log %s: %s" % (re.escape(link), ELOOP),
                     r.stderr), r.stderr
    assert open(victim).read() == "secret\n"
    assert stat.S_IMODE(os.stat(victim).st_mode) == 0o600


@root_only
def test_the_pid_file_never_follows_a_symlink(audited, world_tmp):
    """Finding 1's class: root wrote the pid file by name, truncating
    whatever a symlink there pointed at."""
    victim = os.path.join(world_tmp, "root-only")
    with open(victim, "w") as f:
        f.write("secret\n")
    pid_file = os.path.join(world_tmp, "logs", "porch.pid")
    os.symlink(victim, pid_file)
    p = audited(["pid_file %s" % pid_file])
    assert open(victim).read() == "secret\n"
    assert not os.path.islink(pid_file)
    assert open(pid_file).read().strip() == str(p.pid)


# ---- 2. cgi_ext runs any executable (medium) -----------------------------------

@root_only
def test_cgi_ext_runs_only_files_named_so(audited, world_tmp):
    """Finding 2: with cgi_ext .cgi, GET /pub/tool.sh/x.cgi ran /pub/tool.sh
    (mode 0755) with PATH_INFO=/x.cgi: the extension was tested on the
    request path, not on the script that runs."""
    www = os.path.join(world_tmp, "www")
    marker = os.path.join(world_tmp, "logs", "ran")
    write_exec(os.path.join(www, "pub", "tool.sh"),
               "#!/bin/sh\ntouch %s\nprintf 'Content-Type: text/plain"
               "\\r\\n\\r\\nran\\n'\n" % marker)
    write_exec(os.path.join(www, "pub", "real.cgi"),
               "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n"
               "%s\\n' \"$PATH_INFO\"\n")
    p = audited()
    for path in ("/pub/tool.sh/x.cgi", "/pub/tool.sh/a/b.cgi"):
        r = request(p, path)
        assert r.status == 404, (path, r)
    assert not os.path.exists(marker)
    r = request(p, "/pub/real.cgi/x.sh")
    assert (r.status, r.body) == (200, b"/x.sh\n")


# ---- 3. open redirect (medium) ---------------------------------------------------

@pytest.mark.parametrize("target, location", [
    ("//evil.example/../sub", "/sub/"),
    ("/\\evil.example/../sub", "/sub/"),
    ("//evil.example/%2e%2e/sub", "/sub/"),
    ("/sub//", None),
    ("/sub?x=1", "/sub/?x=1"),
    ("/with%20space.txt/..//sub", "/sub/"),
])
def test_directory_redirect_stays_on_this_host(server, target, location):
    """Finding 3: GET //evil.example/../dir answered 301 Location:
    //evil.example/../dir/, which a browser follows to another host. The
    Location is built from the decoded, normalised path: exactly one '/'
    first."""
    r = exchange(server, ("GET %s HTTP/1.1\r\nHost: a\r\n"
                          "Connection: close\r\n\r\n" % target).encode())[0]
    if location is None:
        assert r.status == 200
        return
    assert r.status == 301
    assert r.header("Location") == location
    assert not r.header("Location").startswith("//")


def test_directory_redirect_encodes_the_path(server):
    os.makedirs(os.path.join(server.docroot, "a b", "c\\d"), exist_ok=True)
    r = exchange(server, b"GET /a%20b/c%5Cd HTTP/1.1\r\nHost: a\r\n"
                 b"Connection: close\r\n\r\n")[0]
    assert r.status == 301
    assert r.header("Location") == "/a%20b/c%5Cd/"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8443",
                                  "[::1]"])
def test_tls_redirect_never_takes_the_clients_host(porch, tmp_path, host):
    """Finding 3: tls_redirect put the client's Host in the Location
    (Host: evil.example -> https://evil.example:PORT/). Without a Host
    allow-list it names the address the client reached."""
    port = free_port()
    p = porch(conf_lines=["tls_listen 127.0.0.1:%d" % port,
                          "tls_cert %s" % (tmp_path / "cert.pem"),
                          "tls_key %s" % (tmp_path / "key.pem"),
                          "tls_autogen on", "tls_redirect on"])
    rs = exchange(p, ("GET //x/../sub/page.html?q=1 HTTP/1.1\r\nHost: %s\r\n"
                      "Connection: close\r\n\r\n" % host).encode())
    assert rs[0].status == 301
    assert rs[0].header("Location") == \
        "https://127.0.0.1:%d/sub/page.html?q=1" % port


# ---- 4. back-off evasion (medium) ---------------------------------------------

@pytest.fixture
def authed(porch, tmp_path, docroot):
    pw = tmp_path / "htpasswd"
    pw.write_text("alice:%s\n" % sha512("right pw"))
    os.makedirs(os.path.join(docroot, "private"), exist_ok=True)
    with open(os.path.join(docroot, "private", "x.txt"), "w") as f:
        f.write("private\n")
    return porch(conf_lines=["auth /private/ Realm %s" % pw], workers=4)


def test_backoff_cannot_be_evaded_by_rotating_addresses(authed):
    """Finding 4: the table held 64 exact addresses and evicted the least
    recent, so 65 rotating loopback addresses made 520 guesses with no 429.
    All clients together now get AUTH_GLOBAL_FAILS (20) failures a minute,
    and a locked-out client stays locked however many others fail."""
    wrong = basic("alice", "guess")
    for _ in range(5):
        assert request(authed, "/private/x.txt", wrong,
                       "127.0.5.1").status == 401
    assert request(authed, "/private/x.txt", wrong,
                   "127.0.5.1").status == 429
    statuses = []
    for i in range(100):
        statuses.append(request(authed, "/private/x.txt", wrong,
                                "127.0.%d.%d" % (6 + i // 200,
                                                 1 + i % 200)).status)
    assert statuses.count(401) == 20 - 5, statuses
    assert set(statuses[15:]) == {429}
    r = request(authed, "/private/x.txt", wrong, "127.0.5.1")
    assert r.status == 429
    assert 1 <= int(r.header("Retry-After")) <= 60


def test_parallel_guesses_are_counted_before_they_are_checked(authed):
    """Finding 4: N workers let N parallel guesses through before the first
    failure was recorded. Ten at once from one client: five are checked
    (401), the rest refused (429)."""
    wrong = basic("alice", "guess")
    barrier = threading.Barrier(10)
    statuses = []

    def guess():
        s = socket.create_connection((authed.host, authed.port), 10 * SLOW)
        s.settimeout(10 * SLOW)
        barrier.wait()
        with s:
            s.sendall(get(path="/private/x.txt",
                          extra=wrong + "Connection: close\r\n"))
            statuses.append(parse_responses(recv_until_close(s))[0].status)
    ts = [threading.Thread(target=guess) for _ in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30 * SLOW)
    assert sorted(statuses) == [401] * 5 + [429] * 5, statuses


# ---- 5. the master trusts shared memory (medium) --------------------------------

def shared_mapping(pid):
    """(start, end) of the scoreboard: the shared anonymous mapping."""
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            cols = line.split()
            if cols[1] == "rw-s" and "zero" in line:
                a, b = cols[0].split("-")
                return int(a, 16), int(b, 16)
    raise AssertionError("no shared mapping in %d" % pid)


@root_only
@pytest.mark.host_only
def test_master_survives_a_worker_rewriting_the_scoreboard(porch):
    """Finding 5 (CVE-2019-0211 class): nslots and forks lived in the
    shared mapping and the root master used them as bounds; a worker that
    wrote nslots = 0x40000000 and died made the master segfault. Here the
    whole mapping is overwritten with 0xff bytes (every count huge, every
    slot taken, the generation and the stop flag garbage), then the worker
    dies: the master replaces the pool and serves on."""
    p = porch()
    victim = p.workers()[0]
    start, end = shared_mapping(victim)
    with open("/proc/%d/mem" % victim, "r+b", buffering=0) as mem:
        mem.seek(start)
        mem.write(b"\xff" * (end - start))
    os.kill(victim, signal.SIGKILL)
    ws = p.wait_settled(what="a pool again after the corruption")
    assert victim not in ws and p.proc.poll() is None
    for _ in range(4):
        r = exchange(p, get(path="/hello.txt", extra="Connection: close\r\n"))
        assert (r[0].status, r[0].body) == (200, b"hello, world\n")
    assert p.proc.poll() is None


# ---- 6. workers outlive their master (medium) ----------------------------------

@root_only
def test_workers_stop_when_their_master_is_killed(audited):
    """Finding 6: PR_SET_PDEATHSIG was set before setresuid, which clears
    it: after kill -KILL of the master both workers went on serving with
    PPID 1 and no supervisor."""
    p = audited()
    ws = p.workers()
    assert len(ws) == 2
    os.kill(p.pid, signal.SIGKILL)

    def gone():
        for w in ws:
            try:
                with open("/proc/%d/stat" % w) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        return False
            except FileNotFoundError:
                pass
        return True
    wait_for(gone, 5 * SLOW, "the workers to exit with their master")


# ---- 7. dotfiles in CGI paths (low) ---------------------------------------------

@root_only
@pytest.mark.parametrize("path", ["/cgi-bin/.dot", "/cgi-bin/.hidden/x",
                                  "/cgi-bin/.hidden/x/info",
                                  "/pub/.tool.cgi"])
def test_cgi_dotfiles_are_never_run(audited, world_tmp, path):
    """Finding 7: CGI paths skipped the dotfile rule."""
    www = os.path.join(world_tmp, "www")
    marker = os.path.join(world_tmp, "logs", "ran")
    script = "#!/bin/sh\ntouch %s\nprintf 'Content-Type: text/plain\\r\\n" \
             "\\r\\nran\\n'\n" % marker
    for rel in ("cgi-bin/.dot", "cgi-bin/.hidden/x", "pub/.tool.cgi"):
        write_exec(os.path.join(www, rel), script)
    p = audited()
    assert request(p, path).status == 404
    assert not os.path.exists(marker)


# ---- 8. unescaped user names in the error log (low) ----------------------------

def test_failed_login_user_name_is_escaped_in_the_error_log(authed):
    """Finding 8: a failed login's user name went into the error log as
    sent: a '"' and bidi or C1 bytes could forge the "client" field that
    fail2ban-style tools read."""
    user = 'x\u202e\u0085", client 10.6.6.6'

    r = request(authed, "/private/x.txt", basic(user, "pw"))
    assert r.status == 401
    line = wait_for(lambda: [l for l in authed.log().splitlines()
                             if "failed login" in l], what="the log line")[0]
    # the quoted name ends where porch's own quote is: the client field
    # after it is the real one
    m = re.search(r'failed login for "((?:[^"\\]|\\.)*)", client '
                  r'127\.0\.0\.1:\d+, request [0-9a-f]+-', line)
    assert m, line
    assert m.group(1) == 'x\\xe2\\x80\\xae\\xc2\\x85\\", client 10.6.6.6'
    assert "\\xe2\\x80\\xae" in line and "\\xc2\\x85" in line
    assert "\u202e" not in line and "\u0085" not in line


# ---- 9. inherited descriptors and privileges reach CGIs (low) -------------------

FDS_CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
for f in /proc/$$/fd/*; do echo "${f##*/} $(readlink "$f")"; done
grep NoNewPrivs /proc/$$/status
"""


class Inheriting(Porch):
    """porch started with one more descriptor open, as a shell might."""
    fd = None

    def start(self, wait=True):
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self.stderr,
                                     stderr=self.stderr,
                                     start_new_session=True,
                                     pass_fds=(self.fd,))
        self.pid = self.proc.pid
        if wait:
            self.wait_ready()


@root_only
def test_inherited_descriptors_never_reach_a_cgi(world_tmp):
    """Finding 9: descriptors porch inherited without close-on-exec (from
    the shell that started it) reached CGIs; and a CGI could gain
    privileges through a setuid file."""
    write_exec(os.path.join(world_tmp, "www", "cgi-bin", "fds"), FDS_CGI)
    with open(os.path.join(world_tmp, "leaked-file"), "w") as leak:
        Inheriting.fd = 47
        os.dup2(leak.fileno(), 47, inheritable=True)
        try:
            p = Inheriting(world_tmp, os.path.join(world_tmp, "www"),
                           ["user nobody", "cgi /cgi-bin/"])
        finally:
            os.close(47)
    try:
        r = exchange(p, get(path="/cgi-bin/fds",
                            extra="Connection: close\r\n"))[0]
    finally:
        p.stop()
    assert r.status == 200, r
    body = r.body.decode()
    assert "leaked-file" not in body, body
    assert not re.search(r"(?m)^47 ", body), body
    assert "NoNewPrivs:\t1" in body, body


# ---- 10. weak hashes (low) ------------------------------------------------------

def test_des_and_md5_hashes_are_refused_at_load(tmp_path, docroot):
    """Finding 10: traditional DES hashes were accepted, so only 8 password
    characters counted; MD5 crypt is cheap to brute-force. porch -t names
    each such line and the accepted schemes."""
    des = subprocess.run(["openssl", "passwd", "-crypt", "password1"],
                         capture_output=True, text=True)
    des_hash = des.stdout.strip() if des.returncode == 0 else "abJnggxhB/yWI"
    md5 = subprocess.run(["openssl", "passwd", "-1", "pw"], check=True,
                         capture_output=True, text=True).stdout.strip()
    pw = tmp_path / "htpasswd"
    pw.write_text("# users\nok:%s\nold:%s\n\nweak:%s\n" % (
        sha512("fine"), des_hash, md5))
    conf = tmp_path / "porch.conf"
    conf.write_text("listen 127.0.0.1:1\nroot %s\nauth /a/ R %s\n"
                    % (docroot, pw))
    cmd = [PORCH_BIN, "-t", "-c", str(conf)]
    r = subprocess.run(([PORCH_QEMU] + cmd) if PORCH_QEMU else cmd,
                       capture_output=True, text=True, timeout=10 * SLOW)
    assert r.returncode == 1
    err = r.stderr
    assert '%s:3: auth: %s:3: user "old": a DES crypt hash' % (conf, pw) in \
        err, err
    assert '%s:5: user "weak": an MD5 crypt hash' % pw in err, err
    assert "accepted are $6$ (SHA-512), $5$ (SHA-256) and $2b$ (bcrypt)" in err
    assert '"ok"' not in err


# ---- 11. the unknown-user path hashes with another scheme (low) --------------------

def test_unknown_user_costs_what_a_known_one_costs(porch, tmp_path, docroot):
    """Finding 11: unknown users were checked against a $5$ dummy whatever
    the file used, a timing signal for user names with $6$ or bcrypt
    files. With a costly $6$ file (rounds=300000), an unknown user takes
    about as long as a known one."""
    pw = tmp_path / "htpasswd"
    pw.write_text("alice:%s\n" % sha512("right", rounds=300000))
    os.makedirs(os.path.join(docroot, "private"), exist_ok=True)
    p = porch(conf_lines=["auth /private/ R %s" % pw])

    def took(user, source):
        t = time.monotonic()
        r = request(p, "/private/", basic(user, "wrong"), source)
        assert r.status == 401
        return time.monotonic() - t
    known = sorted(took("alice", "127.0.7.%d" % i) for i in range(1, 4))[1]
    unknown = sorted(took("mallory", "127.0.8.%d" % i) for i in range(1, 4))[1]
    print("\nwrong password: known user %.0f ms, unknown %.0f ms"
          % (known * 1000, unknown * 1000))
    assert unknown > 0.5 * known, (known, unknown)


# ---- 12. the script is run by name, not by what was checked (low) -----------------

DOLLAR0_CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "$0"
"""


def test_the_script_run_is_the_file_checked(porch, docroot):
    """Finding 12: the script was checked beneath the root, then executed
    by its name, so a symlink swapped in between could run. It runs from
    the descriptor that was checked: its interpreter reads it as fd 3."""
    write_exec(os.path.join(docroot, "cgi-bin", "d0"), DOLLAR0_CGI)
    p = porch(conf_lines=["cgi /cgi-bin/"])
    r = exchange(p, get(path="/cgi-bin/d0", extra="Connection: close\r\n"))[0]
    # execveat(3, "", AT_EMPTY_PATH); where it is missing (Linux before
    # 3.19, qemu-user) the same descriptor through /proc
    assert r.status == 200
    assert r.body in (b"/dev/fd/3\n", b"/proc/self/fd/3\n")


@pytest.mark.host_only
def test_a_directory_swapped_for_a_symlink_cannot_run_outside(porch, docroot,
                                                              tmp_path):
    """Finding 12, raced: a directory under cgi-bin/ is swapped, over and
    over, for a symlink to a directory outside the root holding a script of
    the same name. The outside script never runs."""
    marker = tmp_path / "escaped"
    outside = tmp_path / "outside"
    write_exec(str(outside / "run"), "#!/bin/sh\ntouch %s\nprintf "
               "'Content-Type: text/plain\\r\\n\\r\\nout\\n'\n" % marker)
    cgibin = os.path.join(docroot, "cgi-bin")
    real = os.path.join(cgibin, "real")
    write_exec(os.path.join(real, "run"), "#!/bin/sh\nprintf "
               "'Content-Type: text/plain\\r\\n\\r\\nin\\n'\n")
    p = porch(conf_lines=["cgi /cgi-bin/"], workers=2)
    stop = threading.Event()

    def swap():
        d = os.path.join(cgibin, "d")
        while not stop.is_set():
            try:
                os.symlink("real", d + ".new")
                os.replace(d + ".new", d)
                os.symlink(str(outside), d + ".new")
                os.replace(d + ".new", d)
            except OSError:
                pass
    t = threading.Thread(target=swap, daemon=True)
    t.start()
    seen = set()
    try:
        deadline = time.monotonic() + 3 * SLOW
        while time.monotonic() < deadline:
            r = exchange(p, get(path="/cgi-bin/d/run",
                                extra="Connection: close\r\n"))[0]
            seen.add((r.status, r.body))
    finally:
        stop.set()
        t.join(5)
    assert not marker.exists(), "a script outside the root ran"
    assert (200, b"out\n") not in seen
    assert (200, b"in\n") in seen


# ---- 13. CGIs run as the workers' user (low) ----------------------------------

WHO_CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
echo "uid=$(id -u)"
kill -0 $QUERY_STRING 2>/dev/null; echo "signal=$?"
echo "body=$(cat | wc -c)"
"""

DAEMON = pwd.getpwnam("daemon")


def who(p, worker, body=b""):
    r = exchange(p, get(path="/cgi-bin/who?%d" % worker, method="POST",
                        extra="Content-Length: %d\r\nConnection: close\r\n"
                        % len(body)) + body)[0]
    assert r.status == 200, r
    return dict(line.split("=", 1) for line in r.body.decode().split())


def workers_as(p, uid):
    return [w for w in p.workers() if os.stat("/proc/%d" % w).st_uid == uid]


@root_only
def test_cgi_user_keeps_cgis_away_from_the_workers(audited, world_tmp):
    """Finding 13: CGIs ran as the workers' user, so a CGI could signal the
    workers (and read what they read). With cgi_user they run as another
    user, started by a launcher of that identity: they cannot signal a
    worker, and still get their body and answer as before."""
    write_exec(os.path.join(world_tmp, "www", "cgi-bin", "who"), WHO_CGI)
    p = audited(["cgi_user daemon"])
    worker = workers_as(p, NOBODY.pw_uid)[0]
    got = who(p, worker, b"x" * 70000)
    assert got == {"uid": str(DAEMON.pw_uid), "signal": "1",
                   "body": "70000"}, got
    launcher = workers_as(p, DAEMON.pw_uid)
    assert len(launcher) == 1, "one launcher, as daemon"
    # without cgi_user, the same script could signal the worker
    q = audited()
    worker = workers_as(q, NOBODY.pw_uid)[0]
    assert who(q, worker) == {"uid": str(NOBODY.pw_uid), "signal": "0",
                              "body": "0"}


@root_only
def test_cgi_user_scripts_are_still_timed_out_and_killed(audited, world_tmp):
    write_exec(os.path.join(world_tmp, "www", "cgi-bin", "hang"),
               "#!/bin/sh\nexec sleep 47\n")
    p = audited(["cgi_user daemon", "cgi_timeout 1"])
    r = exchange(p, get(path="/cgi-bin/hang",
                        extra="Connection: close\r\n"), timeout=15 * SLOW)[0]
    assert r.status == 504

    def sleeping():
        out = []
        for d in os.listdir("/proc"):
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if f.read() == b"sleep\x0047\x00":
                        out.append(d)
            except OSError:
                pass
        return out
    wait_for(lambda: not sleeping(), 5 * SLOW, "the script killed")


@root_only
def test_a_killed_launcher_is_replaced_with_the_pool(audited, world_tmp):
    """The launcher holds each worker's way to run CGIs: when it dies, the
    master starts another and a new generation of workers with it."""
    write_exec(os.path.join(world_tmp, "www", "cgi-bin", "who"), WHO_CGI)
    p = audited(["cgi_user daemon"])
    launcher = workers_as(p, DAEMON.pw_uid)[0]
    old = set(workers_as(p, NOBODY.pw_uid))
    os.kill(launcher, signal.SIGKILL)

    def renewed():
        pool = workers_as(p, NOBODY.pw_uid)
        return workers_as(p, DAEMON.pw_uid) not in ([], [launcher]) and \
            len(pool) == 2 and not old & set(pool) and \
            all(p.worker_states().get(w) for w in pool)
    wait_for(renewed, 10 * SLOW, "a new launcher and pool")
    worker = workers_as(p, NOBODY.pw_uid)[0]
    assert who(p, worker)["uid"] == str(DAEMON.pw_uid)
    assert "cgi launcher %d ended" % launcher in p.log()


def test_cgi_user_needs_a_known_user(tmp_path, docroot):
    conf = tmp_path / "porch.conf"
    conf.write_text("listen 127.0.0.1:1\nroot %s\nuser nobody\n"
                    "cgi_user no-such-user-here\n" % docroot)
    cmd = [PORCH_BIN, "-t", "-c", str(conf)]
    r = subprocess.run(([PORCH_QEMU] + cmd) if PORCH_QEMU else cmd,
                       capture_output=True, text=True, timeout=10 * SLOW)
    assert r.returncode == 1
    assert 'cgi_user: no such user "no-such-user-here"' in r.stderr
