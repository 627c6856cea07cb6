"""porch's HTTPS as a router needs it: session tickets that survive a
reload, certificates that renew (and bad ones that do not replace good
ones), porch --gen-cert, porch -t, HSTS, handshakes under pool pressure, and
the TLS=0 build. Helpers in tlsporch.py; the real binary on 127.0.0.1.
"""
import os
import re
import socket
import ssl
import stat
import subprocess
import threading
import time
from datetime import timedelta

import pytest

from tlshelp import cert_dates, trickle
from tlsporch import (PORCH_TLS0, QEMU, SLOW, Burst, DelayRelay, KeepAlive,
                      Porch, Stallers, client_context, file_cert_sha256,
                      gen_ec, gen_expired, partial_hello,
                      https_get, install_pair, read_response, run_porch,
                      s_client, served_cert_sha256, worker_serial)


@pytest.fixture
def pair(tmp_path):
    """The pair a porch is configured with (its files get replaced)."""
    return gen_ec(str(tmp_path), "server")


@pytest.fixture
def porch(tmp_path, pair):
    started = []

    def start(lines=(), workers=2, **kw):
        p = Porch(tmp_path / ("p%d" % len(started)), pair[0], pair[1],
                  lines, workers, **kw)
        started.append(p)
        return p
    yield start
    for p in started:
        p.stop()


# ---- session tickets across reloads

def new_session(port, version, path):
    out = s_client(port, version, "-sess_out", path)
    assert re.search(r"^New, ", out, re.M), out
    return out


def resumed(port, version, path):
    out = s_client(port, version, "-sess_in", path)
    return bool(re.search(r"^Reused, ", out, re.M)), out


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_ticket_from_before_reload_resumes_on_every_worker(tmp_path, porch,
                                                           version):
    """A ticket issued before HUP resumes after it in each new worker:
    both workers are held, one is let go, the resumption lands there; then
    the same for the other."""
    p = porch()
    sess = str(tmp_path / "sess.pem")
    new_session(p.tls_port, version, sess)
    p.reload()
    served = set()
    holds = [KeepAlive(p.tls_port), KeepAlive(p.tls_port)]
    try:
        for i in range(2):
            holds[i].close()
            time.sleep(0.2 * SLOW)
            ok, out = resumed(p.tls_port, version, sess)
            assert ok, out
            served.add(worker_serial(out))
            holds[i] = KeepAlive(p.tls_port)
    finally:
        for h in holds:
            h.close()
    assert len(served) == 2, served
    assert "reload failed" not in p.log()


def test_restart_forgets_tickets(tmp_path, porch):
    p = porch()
    sess = str(tmp_path / "sess.pem")
    new_session(p.tls_port, "-tls1_3", sess)
    assert resumed(p.tls_port, "-tls1_3", sess)[0]
    p.stop()
    p.start()
    assert not resumed(p.tls_port, "-tls1_3", sess)[0]


def test_ticket_keys_still_rotate_across_reloads(tmp_path, porch):
    """The secret survives HUP, but its keys still change with the epoch:
    a ticket stops resuming after its lifetime (two epochs at most)."""
    life = 3 if not QEMU else 8
    p = porch(["tls_ticket_lifetime %d" % life])
    sess = str(tmp_path / "sess.pem")
    new_session(p.tls_port, "-tls1_2", sess)
    p.reload()
    assert resumed(p.tls_port, "-tls1_2", sess)[0]
    time.sleep(2 * life + 0.5)
    p.reload()
    assert not resumed(p.tls_port, "-tls1_2", sess)[0]


# ---- certificates that renew

def test_renewed_pair_is_served_after_reload_without_dropping(tmp_path, porch,
                                                              pair):
    """Replaced files + HUP: new connections get the new certificate, a
    download under way finishes on the old worker, and no connection made
    during the reload fails. (The download reads steadily but slowly, so
    it spans the reload; pressure_io is long so that a queue forming
    behind it cannot cut it, which is tested elsewhere.)"""
    p = porch(["pressure_io 10000"])
    assert served_cert_sha256(p.tls_port) == file_cert_sha256(pair[0])
    raw = socket.create_connection(("127.0.0.1", p.tls_port), timeout=10 * SLOW)
    s = client_context().wrap_socket(raw)
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = {"data": b"", "end": None}

    def download():
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got["data"] += chunk
            time.sleep(0.01)
        got["end"] = time.monotonic()
    errors, stop = [], threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                head, _ = https_get(p.tls_port)
                if not head.startswith("HTTP/1.1 200"):
                    errors.append(head)
            except (OSError, ssl.SSLError) as e:
                errors.append(repr(e))
    threads = [threading.Thread(target=download), threading.Thread(target=hammer)]
    for t in threads:
        t.start()
    try:
        new = gen_ec(str(tmp_path), "renewed")
        install_pair(new, pair)
        time.sleep(0.1)
        assert got["end"] is None, "download over before the reload"
        p.reload(wait_old=False)
        reloaded = time.monotonic()
        time.sleep(0.3 * SLOW)
    finally:
        stop.set()
        for t in threads:
            t.join(60 * SLOW)
    s.close()
    head, _, body = got["data"].partition(b"\r\n\r\n")
    with open(os.path.join(p.www, "big.bin"), "rb") as f:
        assert body == f.read()
    assert got["end"] > reloaded
    assert errors == []
    assert served_cert_sha256(p.tls_port) == file_cert_sha256(new[0])


@pytest.mark.parametrize("bad", ["garbage", "mismatch", "expired"])
def test_bad_new_pair_keeps_the_old_one(tmp_path, porch, pair, bad):
    p = porch()
    old = served_cert_sha256(p.tls_port)
    if bad == "garbage":
        with open(pair[0], "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
                    "-----END CERTIFICATE-----\n")
        why = "cannot parse certificate"
    elif bad == "mismatch":
        other = gen_ec(str(tmp_path), "other")
        install_pair((other[0],), (pair[0],))       # the key stays
        why = "does not match the key"
    else:
        install_pair(gen_expired(str(tmp_path), "old"), pair)
        why = "certificate expired on"
    p.reload(expect_ok=False)
    log = p.log()
    assert re.search(r"tls: .*%s" % why, log), log
    assert "reload failed; still serving the old configuration" in log
    assert served_cert_sha256(p.tls_port) == old
    assert https_get(p.tls_port)[0].startswith("HTTP/1.1 200")
    rc, out, err = run_porch("-t", "-c", p.conf)
    assert rc == 1 and why in err and "configuration OK" not in out, err


def test_check_reports_a_good_pair_ok(porch):
    p = porch()
    rc, out, err = run_porch("-t", "-c", p.conf)
    assert rc == 0 and out == "configuration OK\n", (out, err)


def test_expired_pair_at_start_is_served_with_a_warning(tmp_path):
    """Nothing else to serve: the admin UI stays reachable (behind the
    browser's warning) and the log says why; a reload keeping the same
    expired pair still applies the rest of the configuration."""
    cert, key = gen_expired(str(tmp_path), "old")
    p = Porch(tmp_path / "p", cert, key)
    try:
        assert re.search(r"tls: .*old\.pem: certificate expired on .*"
                         r"serving it anyway", p.log()), p.log()
        assert served_cert_sha256(p.tls_port) == file_cert_sha256(cert)
        p.write_conf(["cache_max_age 77"])
        p.reload()
        head, _ = https_get(p.tls_port, "/index.html")
        assert "max-age=77" in head, head
    finally:
        p.stop()


# ---- porch --gen-cert

def cert_text(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout


def test_gen_cert_writes_key_and_certificate(tmp_path):
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    rc, out, err = run_porch("--gen-cert", cert, key, "router.lan",
                             "192.168.1.1", "fd00::1")
    assert rc == 0, err
    assert out == "porch: wrote %s and %s for router.lan, 192.168.1.1, " \
        "fd00::1\n" % (cert, key)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cert).st_mode) == 0o644
    text = cert_text(cert)
    assert "Subject: CN = router.lan" in text
    assert ("DNS:router.lan, IP Address:192.168.1.1, "
            "IP Address:FD00:0:0:0:0:0:0:1") in text
    assert "NIST CURVE: P-256" in text and "ecdsa-with-SHA256" in text
    assert "TLS Web Server Authentication" in text and "CA:FALSE" in text
    start, end = cert_dates(cert)
    assert end - start == timedelta(days=825)
    assert sorted(os.listdir(tmp_path)) == ["c.pem", "k.pem"]
    # porch serves it, and porch -t agrees
    install_pair((cert, key), (str(tmp_path / "s.pem"), str(tmp_path / "s.key")))
    p = Porch(tmp_path / "p", str(tmp_path / "s.pem"), str(tmp_path / "s.key"))
    try:
        assert served_cert_sha256(p.tls_port) == file_cert_sha256(cert)
        assert run_porch("-t", "-c", p.conf)[0] == 0
    finally:
        p.stop()


def test_gen_cert_names_this_host_by_default(tmp_path):
    cert = str(tmp_path / "c.pem")
    rc, out, err = run_porch("--gen-cert", cert, str(tmp_path / "k.pem"))
    assert rc == 0, err
    assert "DNS:%s" % socket.gethostname() in cert_text(cert)
    assert "IP Address:127.0.0.1" not in cert_text(cert)


def test_gen_cert_replaces_files_atomically(tmp_path):
    """A second run replaces both (a renewal); a reader never sees a
    partial file, and nothing is left behind."""
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    assert run_porch("--gen-cert", cert, key, "a.lan")[0] == 0
    first = open(cert).read(), open(key).read()
    inode = os.stat(cert).st_ino
    assert run_porch("--gen-cert", cert, key, "a.lan")[0] == 0
    assert (open(cert).read(), open(key).read()) != first
    assert os.stat(cert).st_ino != inode            # renamed into place
    assert sorted(os.listdir(tmp_path)) == ["c.pem", "k.pem"]


@pytest.mark.parametrize("args,why", [
    (["bad name"], "expected a host name"),
    (["x" * 65], "expected a host name"),
    (["192.168.1.300"], "expected a host name"),
    (["n%d" % i for i in range(17)], "more than 16 names"),
])
def test_gen_cert_refuses_bad_names(tmp_path, args, why):
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    rc, out, err = run_porch("--gen-cert", cert, key, *args)
    assert rc == 1 and why in err and out == "", err
    assert os.listdir(tmp_path) == []


def test_gen_cert_usage(tmp_path):
    rc, out, err = run_porch("--gen-cert", str(tmp_path / "c.pem"))
    assert rc == 1 and "usage: porch --gen-cert CERT KEY" in err
    rc, out, err = run_porch("-h")
    assert "--gen-cert CERT KEY [NAME|ADDR]..." in err
    for d in ("tls_hsts", "pressure_handshake"):
        assert re.search(r"^  %s " % d, err, re.M), err


# ---- HSTS

def test_hsts_off_by_default(porch):
    p = porch()
    head, _ = https_get(p.tls_port)
    assert "strict-transport-security" not in head.lower()


def test_hsts_on_tls_responses_only(porch):
    p = porch(["tls_hsts 31536000"])
    for path in ("/", "/missing"):
        head, _ = https_get(p.tls_port, path)
        assert "\r\nStrict-Transport-Security: max-age=31536000\r\n" in head
    with socket.create_connection(("127.0.0.1", p.port)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, _ = read_response(s)
    assert head.startswith("HTTP/1.1 200")
    assert "strict-transport-security" not in head.lower()


# ---- the handshake under pool pressure

class Trickler:
    """A slow-handshake attacker: half a ClientHello, then a byte every
    100 ms, for as long as the server lets it."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.head, self.rest = partial_hello()
        self.s.sendall(self.head)
        self.closed_after = None
        self.start = time.monotonic()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        trickle(self.s, self.rest[:-1])
        self.closed_after = time.monotonic() - self.start

    def close(self):
        self.s.close()


def test_slow_handshakes_cannot_hold_the_pool(porch):
    """Trickling handshakes, one per worker, are waited for while nobody
    else needs the pool (up to tls_handshake_timeout); once connections
    queue, each is cut within pressure_handshake of the queue forming, so
    four more of them and a real client behind them cost the real client
    about three cuts, not three handshake timeouts."""
    p = porch(["tls_handshake_timeout 20"])
    attackers = [Trickler(p.tls_port) for _ in range(2)]
    try:
        time.sleep(1.0)
        assert all(a.closed_after is None for a in attackers), \
            "the workers did not wait for the trickling handshakes"
        attackers += [Trickler(p.tls_port) for _ in range(4)]
        t0 = time.monotonic()
        head, _ = https_get(p.tls_port, timeout=10)
        took = time.monotonic() - t0
        assert head.startswith("HTTP/1.1 200")
        assert took < 3 * 0.2 + 0.5 * SLOW, took
        time.sleep(0.5)
        assert all(a.closed_after is not None for a in attackers)
    finally:
        for a in attackers:
            a.close()


@pytest.mark.parametrize("cut,ok", [(None, True), (20, False)])
def test_client_with_latency_completes_its_handshake_in_a_burst(porch, cut,
                                                                 ok):
    """A client 100 ms away (a relay delays each direction by 50 ms) makes
    HTTPS requests during a burst of handshakes, with stalled handshakes
    keeping connections queued all along: with the handshake's own cut
    (default 200 ms) every request succeeds; cut to 20 ms (what
    pressure_io gave a handshake before) none does."""
    p = porch(["pressure_handshake %d" % cut] if cut else [])
    relay = DelayRelay(p.tls_port, 0.05)
    burst = Burst(p.tls_port, threads=6, seconds=5)
    stallers = Stallers(p.tls_port)
    results = []
    try:
        time.sleep(0.5)
        for _ in range(5):
            try:
                head, _ = https_get(relay.port, "/index.html", version="1.3",
                                    timeout=10)
                results.append(head.startswith("HTTP/1.1 200"))
            except (OSError, ssl.SSLError):
                results.append(False)
    finally:
        stallers.stop()
        burst.stop()
        relay.close()
    assert burst.done > 20, "no burst: %d handshakes" % burst.done
    assert stallers.cycles > 10, "nothing queued: %d" % stallers.cycles
    assert results == [ok] * 5, results


# ---- a build without TLS

@pytest.mark.skipif(not os.path.exists(PORCH_TLS0),
                    reason="no TLS=0 build at " + PORCH_TLS0)
def test_tls0_build_refuses_tls_clearly(tmp_path):
    conf = tmp_path / "p.conf"
    conf.write_text("listen 127.0.0.1:%d\ntls_listen 127.0.0.1:%d\n"
                    "tls_cert c.pem\ntls_key k.pem\nroot %s\n" % (
                        8, 9, tmp_path))
    cmd = ([QEMU] if QEMU else []) + [PORCH_TLS0]
    p = subprocess.run(cmd + ["-t", "-c", str(conf)], capture_output=True,
                       text=True)
    assert p.returncode == 1
    assert "%s:2: tls_listen: porch was built without TLS (make TLS=0)" % conf \
        in p.stderr, p.stderr
    p = subprocess.run(cmd + ["--gen-cert", str(tmp_path / "c"),
                              str(tmp_path / "k")], capture_output=True,
                       text=True)
    assert p.returncode == 1 and "built without TLS" in p.stderr
    assert not os.path.exists(tmp_path / "c")
