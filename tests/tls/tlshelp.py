"""What the TLS tests share, whichever binary they drive (tls_echo in
test_tls_binding.py, porch through tlsporch.py)."""

import os
import re
import signal
import socket
import subprocess
from datetime import datetime


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def trickle(s, data):
    """Sends data a byte at a time, each after 100 ms without an answer,
    until the peer closes or data ends: a slow-handshake attacker."""
    s.settimeout(0.1)
    for b in data:
        try:
            if s.recv(1) == b"":
                break
        except socket.timeout:
            pass
        except OSError:
            break
        try:
            s.sendall(bytes([b]))
        except OSError:
            break


def stop_group(proc, timeout):
    """TERM to a server started in its own session, then KILL to what is
    left of its group; the master's exit status (None: it had to be
    killed)."""
    rc = None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    else:
        rc = proc.returncode
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    return rc


def cert_dates(cert):
    """(notBefore, notAfter) of a PEM certificate, as naive UTC datetimes."""
    dates = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                            "-startdate", "-enddate"], capture_output=True,
                           text=True, check=True).stdout
    fmt = "%b %d %H:%M:%S %Y %Z"
    return tuple(datetime.strptime(re.search(r"%s=(.*)" % k, dates).group(1)
                                   .replace("  ", " "), fmt)
                 for k in ("notBefore", "notAfter"))
