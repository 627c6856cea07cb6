"""Privileges (DESIGN 5 "Runs its workers and CGIs unprivileged after
binding"): user/group, refusing to run workers as root by accident, and what
unprivileged workers must still be able to do (logs, password files)."""
import base64
import os
import pwd
import grp
import shutil
import signal
import subprocess
import tempfile

import pytest

from conftest import (PORCH_BIN, PORCH_QEMU, SLOW, Porch, exchange, free_port,
                      get, make_docroot, wait_for)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def proc_ids(pid):
    """{'Uid': [real, eff, saved, fs], 'Gid': [...], 'Groups': [...], 'CapEff': int}"""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                out[k] = [int(x) for x in v.split()]
            elif k == "CapEff":
                out[k] = int(v, 16)
    return out


@pytest.fixture
def world_tmp():
    """A directory an unprivileged worker can reach (pytest's tmp_path sits
    under a 0700 directory), with the standard docroot inside."""
    d = tempfile.mkdtemp(prefix="porch-priv-", dir="/tmp")
    os.chmod(d, 0o755)
    make_docroot(os.path.join(d, "www"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def priv_porch(world_tmp):
    started = []

    def start(conf_lines=(), workers=2):
        p = Porch(world_tmp, os.path.join(world_tmp, "www"), conf_lines, (), workers)
        started.append(p)
        return p
    yield start
    for p in started:
        p.stop()


def request(p, path, extra=""):
    return exchange(p, get(path=path, extra=extra + "Connection: close\r\n"))[0]



def dropped(p, n, uid=65534):
    """The n workers once each has dropped privileges (a fresh child is
    root for the moment between fork and setresuid)."""
    def check():
        ws = p.workers()
        return ws if len(ws) == n and all(
            proc_ids(w)["Uid"][0] == uid for w in ws) else None
    try:
        return wait_for(check, what="workers with uid %d" % uid)
    except AssertionError:
        raise AssertionError("workers not running as uid %d: %r" % (
            uid, {w: proc_ids(w) for w in p.workers()}))


def test_workers_run_as_user_master_stays_root(priv_porch):
    nobody = pwd.getpwnam("nobody")
    p = priv_porch(["user nobody"], workers=3)
    workers = dropped(p, 3)
    assert request(p, "/hello.txt").body == b"hello, world\n"
    for w in workers:
        ids = proc_ids(w)
        assert ids["Uid"] == [nobody.pw_uid] * 4, (w, ids)
        assert ids["Gid"] == [nobody.pw_gid] * 4, (w, ids)
        assert ids["Groups"] == [nobody.pw_gid], (w, ids)
        assert ids["CapEff"] == 0
    m = proc_ids(p.pid)
    assert m["Uid"] == [0, 0, 0, 0]


def test_group_overrides_the_users_group(priv_porch):
    daemon_gid = grp.getgrnam("daemon").gr_gid
    p = priv_porch(["user nobody", "group daemon"])
    for w in dropped(p, 2):
        ids = proc_ids(w)
        assert ids["Gid"] == [daemon_gid] * 4 and ids["Groups"] == [daemon_gid]
        assert ids["Uid"][0] == pwd.getpwnam("nobody").pw_uid


def test_respawned_worker_is_unprivileged_too(priv_porch):
    p = priv_porch(["user nobody"])
    victim = dropped(p, 2)[0]
    os.kill(victim, signal.SIGKILL)
    p.wait_workers(2, exclude=(victim,))
    ws = dropped(p, 2)
    assert victim not in ws and all(proc_ids(w)["CapEff"] == 0 for w in ws)


def test_refuses_to_run_workers_as_root_without_user(tmp_path, docroot):
    conf = tmp_path / "porch.conf"
    conf.write_text("listen 127.0.0.1:%d\nroot %s\n" % (free_port(), docroot))
    cmd = [PORCH_BIN, "-c", str(conf)]
    if PORCH_QEMU:
        cmd = [PORCH_QEMU] + cmd
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=5 * SLOW)
    except subprocess.TimeoutExpired:
        pytest.fail("porch started workers as root without user or allow_root")
    assert r.returncode != 0
    lines = r.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "root" in lines[0] and "user" in lines[0], lines[0]


def test_allow_root_keeps_workers_root(porch):
    p = porch()
    for w in p.wait_workers(2):
        assert proc_ids(w)["Uid"][0] == 0


def test_usr1_reopen_with_unprivileged_workers(priv_porch):
    """logrotate moves the log away and sends USR1; workers that dropped to
    nobody must still get the new file (the master can open or hand it)."""
    p = priv_porch(["user nobody"])
    p.wait_workers(2)
    assert request(p, "/hello.txt").status == 200
    wait_for(lambda: p.access().count("\n") == 1)
    os.rename(p.access_log, p.access_log + ".1")
    p.send_signal(signal.SIGUSR1)
    wait_for(lambda: "logs reopened" in p.log(), what="logs reopened")
    ids = [request(p, "/hello.txt?after").header("X-Request-Id") for _ in range(4)]
    # a line is written once its response has gone: wait for the fourth
    wait_for(lambda: p.access().count("\n") + Porch.read(
        p.access_log + ".1").count("\n") >= 5, what="five access lines")
    new = p.access()
    old = Porch.read(p.access_log + ".1")
    assert all(i in new for i in ids), (
        "lines after USR1 went to the rotated file: new=%r old=%r; error log: %s"
        % (new, old[-300:], p.log()[-500:]))


def test_root_only_password_file_with_unprivileged_workers(priv_porch, world_tmp):
    """A router keeps its admin password file 0600 root. The configuration
    accepts it (checked as root), so the workers must be able to use it."""
    os.makedirs(os.path.join(world_tmp, "www/admin"))
    with open(os.path.join(world_tmp, "www/admin/x.txt"), "w") as f:
        f.write("x\n")
    h = subprocess.run(["openssl", "passwd", "-5", "pw"], capture_output=True,
                       text=True, check=True).stdout.strip()
    pw = os.path.join(world_tmp, "htpasswd")
    with open(pw, "w") as f:
        f.write("admin:%s\n" % h)
    os.chmod(pw, 0o600)
    p = priv_porch(["user nobody", "auth /admin R %s" % pw])
    cred = "Authorization: Basic %s\r\n" % base64.b64encode(b"admin:pw").decode()
    r = request(p, "/admin/x.txt", cred)
    assert r.status == 200, (r.status, p.log()[-300:])
