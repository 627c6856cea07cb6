"""The TLS binding (tls/) through tests/tls/tls_echo, a tiny pre-fork HTTPS
server built from tls.h and os.h only, driven by openssl and curl.

TLS_ECHO       the binary under test (default build/tls/tls_echo; built by
               make -f tests/tls/tls.mk tls-echo, never by these tests)
TLS_ECHO_QEMU  an emulator to run it with (qemu-arm-static ...), or empty

Every server runs in its own session and is stopped by its process group.
"""
import hashlib
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import threading
import time
from datetime import datetime, timedelta

import pytest

from tlshelp import cert_dates, free_port, stop_group, trickle

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TLS_ECHO = os.environ.get("TLS_ECHO") or os.path.join(ROOT, "build/tls/tls_echo")
QEMU = os.environ.get("TLS_ECHO_QEMU", "").strip()
SLOW = 4.0 if QEMU else 1.0
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class Echo:
    """One running tls_echo: master pid, port, and its stderr."""

    def __init__(self, tmp, args=(), wrapper=(), ready_timeout=10.0):
        self.tmp = str(tmp)
        self.port = free_port()
        cmd = list(wrapper) + ([QEMU] if QEMU else []) + [
            TLS_ECHO, "-p", str(self.port), "-r", self.tmp] + list(args)
        self.err_path = os.path.join(self.tmp, "tls_echo.%d.err" % self.port)
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self.err, start_new_session=True)
        line = b""
        deadline = time.monotonic() + ready_timeout * SLOW
        while time.monotonic() < deadline and self.proc.poll() is None:
            line = self.proc.stdout.readline()
            if b"listening" in line:
                break
        if b"listening" not in line:
            self.stop()
            raise RuntimeError("tls_echo did not start: " + self.stderr())

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=10.0):
        """TERM to the master, which stops its workers; then the group."""
        rc = stop_group(self.proc, timeout * SLOW)
        self.err.close()
        return rc


def start_fail(tmp, args):
    """Runs tls_echo expecting it to refuse to start: (status, stderr)."""
    cmd = ([QEMU] if QEMU else []) + [TLS_ECHO, "-p", str(free_port()),
                                      "-r", str(tmp)] + list(args)
    p = subprocess.run(cmd, capture_output=True, timeout=20 * SLOW)
    return p.returncode, p.stderr.decode(errors="replace")


def s_client(port, *args, request=REQUEST, timeout=20):
    """openssl s_client with request on stdin, reading to the end."""
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
           "-ign_eof"] + list(args)
    p = subprocess.run(cmd, input=request, capture_output=True,
                       timeout=timeout * SLOW)
    return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")


def curl(port, path="/", *args, timeout=60):
    cmd = ["curl", "-sSk", "-v", "--max-time", str(int(timeout * SLOW)),
           "https://127.0.0.1:%d%s" % (port, path)] + list(args)
    return subprocess.run(cmd, capture_output=True, timeout=timeout * SLOW + 5)


def worker_of(text):
    m = re.search(r"worker (\d+)", text)
    return int(m.group(1)) if m else None


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Hold:
    """A TLS connection parked on /hold: keeps its worker busy until closed."""

    def __init__(self, port):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
        self.sock = client_context().wrap_socket(raw)
        self.sock.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while not re.search(rb"worker \d+\n", data):
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed before the /hold reply"
            data += chunk
        self.worker = worker_of(data.decode())

    def close(self):
        self.sock.close()


def client_hello():
    """The bytes of a real ClientHello, from Python's own TLS client."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_context().wrap_bio(inc, out)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


def closed_after(sock, timeout):
    """Seconds until the server closes sock (EOF or reset)."""
    start = time.monotonic()
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def served_cert_sha256(port):
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def file_cert_sha256(path):
    with open(path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def openssl_text(*args, data=None):
    p = subprocess.run(["openssl"] + list(args), input=data,
                       capture_output=True, check=True)
    return p.stdout.decode()


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    with open(d / "big.bin", "wb") as f:
        f.write(os.urandom(5 * 1024 * 1024 + 12345))   # not a record multiple
    with open(d / "small.txt", "wb") as f:
        f.write(b"x")
    with open(d / "empty.txt", "wb") as f:
        pass
    return d


@pytest.fixture(scope="module")
def echo(tls_dir):
    e = Echo(tls_dir, ["-a", "-c", str(tls_dir / "cert.pem"),
                       "-k", str(tls_dir / "key.pem"), "-n", "router.lan",
                       "-n", "192.168.1.1", "-n", "fd00::1"])
    yield e
    e.stop()
    assert "leaked" not in e.stderr(), e.stderr()


# ---- handshakes, versions, ALPN

@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_s_client_handshake(echo, version):
    out = s_client(echo.port, version, "-alpn", "http/1.1")
    proto = "TLSv1.2" if version == "-tls1_2" else "TLSv1.3"
    assert re.search(r"^New, %s, Cipher is " % proto, out, re.M), out
    assert "ALPN protocol: http/1.1" in out
    assert "HTTP/1.1 200 OK" in out and worker_of(out)
    if proto == "TLSv1.2":
        assert re.search(r"Cipher is ECDHE-ECDSA-", out)


@pytest.mark.parametrize("args,proto", [
    (["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2"),
    (["--tlsv1.3"], "TLSv1.3")])
def test_curl_handshake(echo, args, proto):
    p = curl(echo.port, "/", *args)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 0, err
    assert re.search(r"SSL connection using %s / " % proto, err), err
    assert "ALPN: server accepted http/1.1" in err   # curl offered h2 too
    assert re.fullmatch(rb"worker \d+\n", p.stdout)


def test_tls13_cipher_suites_all_served(echo):
    for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                  "TLS_CHACHA20_POLY1305_SHA256"):
        out = s_client(echo.port, "-tls1_3", "-ciphersuites", suite)
        assert "New, TLSv1.3, Cipher is " + suite in out, out


# ---- forward secrecy only

@pytest.mark.parametrize("cipher", [
    "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES128-SHA",  # RSA kex
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-CHACHA20-POLY1305",   # finite-field DHE
])
def test_tls12_without_forward_secrecy_refused(echo, cipher):
    out = s_client(echo.port, "-tls1_2", "-cipher", cipher + ":@SECLEVEL=0")
    assert "Cipher is (NONE)" in out or "handshake failure" in out, out
    assert "HTTP/1.1 200" not in out


def test_curl_rsa_key_exchange_refused(echo):
    p = curl(echo.port, "/", "--tls-max", "1.2", "--ciphers",
             "AES128-GCM-SHA256")
    assert p.returncode != 0 and p.stdout == b""


@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
def test_old_versions_refused(echo, version):
    out = s_client(echo.port, version, "-cipher", "DEFAULT:@SECLEVEL=0")
    assert "HTTP/1.1 200" not in out
    assert not re.search(r"^New, TLSv1(\.1)?, Cipher is [A-Z]", out, re.M), out


def test_tls12_suites_offered_are_all_ecdhe(echo):
    """Each TLS 1.2 suite openssl knows, offered alone: only ECDHE ones work."""
    names = openssl_text("ciphers", "-tls1_2", "ALL:COMPLEMENTOFALL:"
                         "@SECLEVEL=0").strip().split(":")
    accepted = []
    for name in names:
        if "TLS_" in name:              # TLS 1.3 suites: not for -cipher
            continue
        out = s_client(echo.port, "-tls1_2", "-cipher", name + ":@SECLEVEL=0",
                       timeout=10)
        if re.search(r"^New, TLSv1\.2, Cipher is " + re.escape(name), out,
                     re.M):
            accepted.append(name)
    assert accepted, "no TLS 1.2 suite accepted"
    assert all(n.startswith("ECDHE-ECDSA-") for n in accepted), accepted


# ---- the generated certificate

def test_autogen_cert_is_ecdsa_p256(echo, tls_dir):
    cert, key = str(tls_dir / "cert.pem"), str(tls_dir / "key.pem")
    text = openssl_text("x509", "-in", cert, "-noout", "-text")
    assert "Public Key Algorithm: id-ecPublicKey" in text
    assert "NIST CURVE: P-256" in text
    assert "Signature Algorithm: ecdsa-with-SHA256" in text
    assert "Subject: CN = router.lan" in text
    assert ("DNS:router.lan, IP Address:192.168.1.1, "
            "IP Address:FD00:0:0:0:0:0:0:1") in text
    assert "CA:FALSE" in text and "TLS Web Server Authentication" in text
    start, end = cert_dates(cert)
    # Apple's TLS stack refuses any certificate valid for more than 825
    # days, even one a user trusts; start a day back for slow clocks.
    assert end - start == timedelta(days=825)
    assert start <= datetime.utcnow() - timedelta(hours=23)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "ASN1 OID: prime256v1" in openssl_text("pkey", "-in", key,
                                                  "-noout", "-text")
    assert served_cert_sha256(echo.port) == file_cert_sha256(cert)
    leftovers = [n for n in os.listdir(tls_dir) if ".pem." in n]
    assert leftovers == []


def local_addresses():
    """This host's addresses a generated certificate should name."""
    out = subprocess.run(["ip", "-o", "addr", "show", "up"],
                         capture_output=True, text=True).stdout
    addrs = []
    for m in re.finditer(r"\binet6? ([0-9a-f.:]+)/\d+ .*?scope (\w+)", out):
        if m.group(2) != "host" and m.group(2) != "link" and \
                m.group(1) not in addrs:
            addrs.append(m.group(1))
    return addrs


def san_of(cert):
    text = openssl_text("x509", "-in", cert, "-noout", "-ext",
                        "subjectAltName")
    return [v.strip() for v in text.splitlines()[1].split(",")]


def openssl_ip(addr):
    """An address as openssl prints an IP SAN (IPv6 uncompressed)."""
    if ":" not in addr:
        return addr
    import ipaddress
    return ":".join("%X" % int(g, 16) for g in
                    ipaddress.ip_address(addr).exploded.split(":"))


def test_autogen_names_host_and_its_addresses(tmp_path):
    """Without -n the certificate names this host and its addresses, so a
    browser reaching the router by name or by address can pin it."""
    cert = str(tmp_path / "c.pem")
    Echo(tmp_path, ["-a", "-c", cert, "-k", str(tmp_path / "k.pem")]).stop()
    san = san_of(cert)
    host = socket.gethostname()
    assert san[0] == "DNS:" + host
    want = ["IP Address:" + openssl_ip(a) for a in local_addresses()]
    assert sorted(san[1:]) == sorted(want), (san, want)
    assert "IP Address:127.0.0.1" not in san


def test_autogen_cert_reused_on_next_start(tmp_path):
    args = ["-a", "-c", str(tmp_path / "c.pem"), "-k", str(tmp_path / "k.pem")]
    e = Echo(tmp_path, args)
    first = served_cert_sha256(e.port)
    key = open(tmp_path / "k.pem").read()
    assert e.stop() == 0
    e = Echo(tmp_path, args)
    try:
        assert served_cert_sha256(e.port) == first
        assert file_cert_sha256(tmp_path / "c.pem") == first
        assert open(tmp_path / "k.pem").read() == key
    finally:
        e.stop()


def test_autogen_heals_a_missing_certificate(tmp_path):
    """Key written, certificate not (power cut): the next start makes both."""
    args = ["-a", "-c", str(tmp_path / "c.pem"), "-k", str(tmp_path / "k.pem")]
    Echo(tmp_path, args).stop()
    old_key = open(tmp_path / "k.pem").read()
    os.unlink(tmp_path / "c.pem")
    e = Echo(tmp_path, args)
    try:
        assert open(tmp_path / "k.pem").read() != old_key
        assert served_cert_sha256(e.port) == file_cert_sha256(tmp_path / "c.pem")
    finally:
        e.stop()


def test_autogen_without_files_serves_a_memory_cert(tmp_path):
    e = Echo(tmp_path, ["-a"])
    try:
        assert "New, TLSv1.3" in s_client(e.port, "-tls1_3")
        assert not [n for n in os.listdir(tmp_path) if n.endswith(".pem")]
    finally:
        e.stop()


def test_rsa_certificate_works(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-subj", "/CN=rsa", "-days", "2",
                    "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem")],
                   check=True, capture_output=True)
    e = Echo(tmp_path, ["-c", str(tmp_path / "c.pem"),
                        "-k", str(tmp_path / "k.pem")])
    try:
        out = s_client(e.port, "-tls1_2")
        assert re.search(r"New, TLSv1\.2, Cipher is ECDHE-RSA-", out), out
        out = s_client(e.port, "-tls1_3")
        assert "New, TLSv1.3" in out and "HTTP/1.1 200 OK" in out, out
    finally:
        e.stop()


def gen_ec(tmp_path, name, curve):
    key, cert = str(tmp_path / (name + "k.pem")), str(tmp_path / (name + "c.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:" + curve, "-nodes",
                    "-subj", "/CN=" + name, "-days", "2", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)
    return cert, key


def test_bad_certificate_reported_in_one_line(tmp_path):
    cert, key = gen_ec(tmp_path, "a", "prime256v1")
    with open(tmp_path / "garbage.pem", "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64!\n"
                "-----END CERTIFICATE-----\n")
    rc, err = start_fail(tmp_path, ["-c", str(tmp_path / "garbage.pem"),
                                    "-k", key])
    assert rc != 0
    assert re.fullmatch(r"tls_echo: .*garbage\.pem: cannot parse "
                        r"certificate: .*\n", err), err
    rc, err = start_fail(tmp_path, ["-c", str(tmp_path / "none.pem"),
                                    "-k", key])
    assert rc != 0 and "none.pem: No such file or directory" in err, err


def test_key_not_matching_certificate_refused(tmp_path):
    cert, _ = gen_ec(tmp_path, "a", "prime256v1")
    _, other_key = gen_ec(tmp_path, "b", "prime256v1")
    rc, err = start_fail(tmp_path, ["-c", cert, "-k", other_key])
    assert rc != 0 and "does not match the key" in err, err


def test_p384_certificate_refused_clearly(tmp_path):
    cert, key = gen_ec(tmp_path, "p", "secp384r1")
    rc, err = start_fail(tmp_path, ["-c", cert, "-k", key])
    assert rc != 0 and "P-256" in err, err


def test_chain_larger_than_a_record_refused(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:4096",
                    "-nodes", "-subj", "/CN=big", "-days", "2",
                    "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c1.pem")],
                   check=True, capture_output=True)
    one = open(tmp_path / "c1.pem").read()
    with open(tmp_path / "c.pem", "w") as f:
        f.write(one * 8)
    rc, err = start_fail(tmp_path, ["-c", str(tmp_path / "c.pem"),
                                    "-k", str(tmp_path / "k.pem")])
    assert rc != 0 and "certificate chain of" in err, err


# ---- session tickets across workers

def new_session(port, version, path):
    out = s_client(port, version, "-sess_out", path)
    assert re.search(r"^New, ", out, re.M), out
    assert os.path.getsize(path) > 0
    return worker_of(out)


def resume(port, version, path):
    out = s_client(port, version, "-sess_in", path)
    return bool(re.search(r"^Reused, ", out, re.M)), worker_of(out)


def occupy(port, worker):
    """Parks a /hold connection on worker (of two); returns it."""
    first = Hold(port)
    if first.worker == worker:
        return first
    second = Hold(port)     # the other worker is the only one free
    first.close()
    assert second.worker == worker
    return second


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_ticket_from_one_worker_resumes_on_the_other(echo, tls_dir, version):
    path = str(tls_dir / ("sess%s.pem" % version))
    issuer = new_session(echo.port, version, path)
    hold = occupy(echo.port, issuer)
    try:
        reused, served = resume(echo.port, version, path)
    finally:
        hold.close()
    assert served is not None and served != issuer
    assert reused, "worker %d did not resume a ticket of worker %d" % (
        served, issuer)


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_ticket_resumes_many_times(echo, tls_dir, version):
    """sess_out once, sess_in many times, some of them concurrently so both
    workers serve resumptions: every one is Reused."""
    path = str(tls_dir / ("many%s.pem" % version))
    issuer = new_session(echo.port, version, path)
    results = []

    def run():
        results.append(resume(echo.port, version, path))

    for _ in range(6):
        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert all(r for r, _ in results), results
    workers = {w for _, w in results}
    print("issuer %d; resumptions served by %s" % (issuer, sorted(workers)))


def wait_until_mono(t):
    while time.monotonic() < t:
        time.sleep(min(0.05, t - time.monotonic()))


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_ticket_of_previous_epoch_accepted_then_expires(tmp_path, version):
    """Keys change every lifetime (epochs of CLOCK_MONOTONIC, which this
    process shares with the server): a ticket issued just before a change
    still resumes after it, on the other worker too; after its lifetime it
    does not."""
    life = 4 if not QEMU else 8
    e = Echo(tmp_path, ["-a", "-l", str(life)])
    try:
        path = str(tmp_path / "s.pem")
        boundary = (int(time.monotonic() / life) + 1) * life
        if boundary - time.monotonic() < 1.5 * SLOW:
            boundary += life
        wait_until_mono(boundary - 1.0 * SLOW)
        issuer = new_session(e.port, version, path)
        assert time.monotonic() < boundary, "ticket issued too late to test"
        wait_until_mono(boundary + 0.3)
        hold = occupy(e.port, issuer)
        try:
            reused, served = resume(e.port, version, path)
        finally:
            hold.close()
        assert reused and served != issuer
        wait_until_mono(boundary + life + 0.5)
        reused, _ = resume(e.port, version, path)
        assert not reused
    finally:
        e.stop()


# ---- deadlines

@pytest.fixture
def quick(tmp_path):
    e = Echo(tmp_path, ["-a", "-t", str(int(1500 * SLOW))])
    yield e
    e.stop()


def stalled(e, send):
    with socket.create_connection(("127.0.0.1", e.port)) as s:
        send(s)
        took = closed_after(s, 10 * SLOW)
    return took


def test_silent_client_times_out_at_the_deadline(quick):
    took = stalled(quick, lambda s: None)
    assert 1.4 * SLOW <= took <= 1.5 * SLOW + 1.0, took
    assert re.search(r"handshake failed: \w+ timed out", quick.stderr())
    assert "New, TLSv1.3" in s_client(quick.port, "-tls1_3")


def test_half_client_hello_times_out_at_the_deadline(quick):
    hello = client_hello()
    took = stalled(quick, lambda s: s.sendall(hello[:len(hello) // 2]))
    assert 1.4 * SLOW <= took <= 1.5 * SLOW + 1.0, took
    assert re.search(r"handshake failed: \w+ timed out", quick.stderr())


def test_trickled_client_hello_cannot_stretch_the_deadline(quick):
    """One byte every 100 ms: the deadline is absolute, not per read."""
    hello = client_hello()

    def trickle(s):
        for b in hello[:40]:
            try:
                s.sendall(bytes([b]))
            except OSError:
                return
            time.sleep(0.1)
    took = stalled(quick, trickle)
    assert took <= 1.0 * SLOW, took      # closed while still trickling


def test_pressure_cut_holds_for_the_rest_of_the_handshake(tmp_path):
    """tls_echo -P 300, one worker: a client trickling its ClientHello (a
    byte every 100 ms, each read well within the cut) is waited for while
    alone, and closed about 300 ms after another connection starts waiting,
    not at the 20 s handshake deadline: the first cut holds for the rest
    of the handshake instead of starting again with every read."""
    e = Echo(tmp_path, ["-a", "-w", "1", "-t", "20000", "-P", "300"])
    hello = client_hello()
    closed = []
    try:
        s = socket.create_connection(("127.0.0.1", e.port))
        s.sendall(hello[:10])

        def slow_hello():
            trickle(s, hello[10:-1])
            closed.append(time.monotonic())
        t = threading.Thread(target=slow_hello)
        t.start()
        time.sleep(1.0 * SLOW)
        assert closed == [], "the worker did not wait for the trickler"
        other = socket.create_connection(("127.0.0.1", e.port))
        other.sendall(hello)
        queued = time.monotonic()
        t.join(10 * SLOW)
        other.close()
        s.close()
        assert closed, "still trickling: the cut did not hold"
        took = closed[0] - queued
        assert 0.25 <= took <= 0.3 + 0.5 * SLOW, took
    finally:
        e.stop()


def test_client_leaving_mid_handshake_is_a_reset(quick):
    hello = client_hello()
    with socket.create_connection(("127.0.0.1", quick.port)) as s:
        s.sendall(hello[:20])
    time.sleep(0.3 * SLOW)
    assert "handshake failed: Connection reset by peer" in quick.stderr()


# ---- bodies: writev and sendfile

@pytest.mark.parametrize("args", [["--tlsv1.2", "--tls-max", "1.2"],
                                  ["--tlsv1.3"]])
@pytest.mark.parametrize("name", ["big.bin", "small.txt", "empty.txt"])
def test_sendfile_is_byte_exact(echo, tls_dir, args, name):
    p = curl(echo.port, "/f/" + name, *args)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    want = open(tls_dir / name, "rb").read()
    assert len(p.stdout) == len(want)
    assert hashlib.sha256(p.stdout).digest() == hashlib.sha256(want).digest()


def test_unknown_file_is_404(echo):
    p = curl(echo.port, "/f/none")
    assert b"HTTP/1.1 404" in p.stderr and p.stdout == b"not found\n"


# ---- figures (printed, not asserted)

def s_time(port, version, mode, seconds):
    start = time.monotonic()
    p = subprocess.run(["openssl", "s_time", "-connect",
                        "127.0.0.1:%d" % port, version, mode, "-time",
                        str(seconds), "-www", "/"],
                       capture_output=True, timeout=seconds * 4 + 30)
    took = time.monotonic() - start
    out = p.stdout.decode(errors="replace")
    total = sum(int(n) for n in re.findall(r"(\d+) connections in [\d.]+s",
                                           out))
    return total, took, out


def test_handshake_rates(echo, capsys):
    seconds = 5
    lines = []
    for version in ("-tls1_2", "-tls1_3"):
        full, took_full, _ = s_time(echo.port, version, "-new", seconds)
        res, took_res, out = s_time(echo.port, version, "-reuse", seconds)
        # s_time -reuse prints one 'r' per resumed connection
        marks = re.findall(r"^[r*]+$", out, re.M)
        reused = sum(m.count("r") for m in marks)
        lines.append("%s: full %.0f/s, resumed %.0f/s (%d of %d reused)%s" % (
            version[1:], full / took_full, res / took_res, reused, res,
            " under " + QEMU if QEMU else ""))
        assert full > 0 and res > 0
    with capsys.disabled():
        print("\nhandshake rates (one openssl s_time client, tls_echo with"
              " 2 workers):\n  " + "\n  ".join(lines))


# ---- memory

@pytest.mark.skipif(bool(QEMU), reason="valgrind runs host binaries only")
def test_valgrind_clean(tmp_path, tls_dir):
    if subprocess.run(["which", "valgrind"], capture_output=True).returncode:
        pytest.skip("valgrind not installed")
    shutil.copyfile(tls_dir / "big.bin", tmp_path / "big.bin")
    logs = str(tmp_path / "vg.%p.log")
    e = Echo(tmp_path, ["-a", "-c", str(tmp_path / "c.pem"),
                        "-k", str(tmp_path / "k.pem"), "-t", "30000"],
             wrapper=["valgrind", "--leak-check=full", "--errors-for-leak-kinds="
                      "definite,indirect,possible", "--track-fds=no",
                      "--log-file=" + logs], ready_timeout=120)
    try:
        for version in ("-tls1_2", "-tls1_3"):
            path = str(tmp_path / ("s%s.pem" % version))
            out = s_client(e.port, version, "-sess_out", path, timeout=120)
            assert "HTTP/1.1 200 OK" in out, out
            assert resume(e.port, version, path)[0]
        p = curl(e.port, "/f/big.bin", timeout=300)
        assert len(p.stdout) == os.path.getsize(tls_dir / "big.bin")
        s_client(e.port, "-tls1_2", "-cipher", "AES128-GCM-SHA256",
                 timeout=120)                         # refused suite
        with socket.create_connection(("127.0.0.1", e.port)) as s:
            s.sendall(client_hello()[:30])            # client leaves
        time.sleep(2)
    finally:
        assert e.stop(timeout=120) == 0
    reports = [open(os.path.join(tmp_path, n)).read()
               for n in sorted(os.listdir(tmp_path)) if n.startswith("vg.")]
    assert len(reports) == 3, "master and two workers"
    for r in reports:
        assert "ERROR SUMMARY: 0 errors" in r, r
        assert "All heap blocks were freed" in r or (
            "definitely lost: 0 bytes" in r and
            "indirectly lost: 0 bytes" in r and
            "possibly lost: 0 bytes" in r), r
