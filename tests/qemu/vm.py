"""One QEMU board running the firmware image, for the tests.

Vm(...).start() boots rootfs/qemu.sh headless: the serial console on a
unix socket (also logged to a file), the guest's 80 and 443 forwarded to
free ports on 127.0.0.1. sh() runs a command on the console's shell and
returns its status and output; wait_http() measures boot-to-first-response;
poweroff(), kill() (a power cut) and wait_exit() end it.
"""
import atexit
import os
import re
import signal
import socket
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QEMU_SH = os.path.join(ROOT, "rootfs", "qemu.sh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path="/", timeout=2.0, host="127.0.0.1"):
    """One request on a fresh connection: (status, head, body) or None.

    A connection opened before the guest listens stalls in QEMU's user
    network, so every attempt is a new one."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: router\r\n"
                      b"Connection: close\r\n\r\n" % path.encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    if not m:
        return None
    return int(m.group(1)), head.decode("latin-1"), body


class ConsoleError(Exception):
    pass


class Vm:
    def __init__(self, arch, image, disks, work, name="vm", append="",
                 whole=False, mem=64, fetch=None):
        self.arch = arch
        self.image = image
        self.disks = disks
        self.work = work
        self.name = name
        self.append = append
        self.whole = whole
        self.mem = mem
        self.fetch = fetch
        self.proc = None
        self.sock = None
        self.out = None
        self.first_output = None
        self.buf = b""
        self.cond = threading.Condition()
        self.seq = 0
        self.http_port = free_port()
        self.https_port = free_port()
        os.makedirs(work, exist_ok=True)
        self.sock_path = os.path.join(work, name + ".sock")
        self.log_path = os.path.join(work, name + ".console.log")
        self.boots = 0

    # --- process -----------------------------------------------------
    def start(self):
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        cmd = ["sh", QEMU_SH, "--http", str(self.http_port),
               "--https", str(self.https_port),
               "--console", "socket:" + self.sock_path,
               "--log", self.log_path, "--mem", str(self.mem)]
        if self.append:
            cmd += ["--append", self.append]
        if self.whole:
            cmd += ["--whole"]
        if self.fetch:
            cmd += ["--fetch", self.fetch]
        cmd += [self.arch, self.image, self.disks]
        with open(self.log_path, "ab") as f:
            f.write(b"\n===== qemu start: %s =====\n" % self.name.encode())
        self.out = open(os.path.join(self.work, self.name + ".qemu.log"), "ab")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.out,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.boots += 1
        # Whatever happens to the test run, no QEMU outlives it.
        atexit.register(self.kill)
        self._connect()
        return self

    def _connect(self):
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise ConsoleError("qemu exited with %s: %s" % (
                    self.proc.returncode, self.qemu_output()))
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.sock_path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise ConsoleError("no console socket")
                time.sleep(0.02)
        self.sock = s
        with self.cond:
            self.buf = b""
            self.first_output = None
            self.lines = []
            self.partial = b""
        threading.Thread(target=self._reader, args=(s,), daemon=True).start()

    def _reader(self, s):
        while True:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.cond.notify_all()
                    return
                now = time.monotonic() - self.t0
                if self.first_output is None:
                    self.first_output = now
                # When each console line arrived (the phases of a boot).
                for line in (self.partial + data).split(b"\n")[:-1]:
                    self.lines.append((now, line.decode("utf-8", "replace")))
                self.partial = (self.partial + data).rsplit(b"\n", 1)[-1]
                self.buf += data
                self.cond.notify_all()

    def qemu_output(self):
        try:
            with open(os.path.join(self.work, self.name + ".qemu.log"),
                      "rb") as f:
                return f.read().decode("utf-8", "replace")[-2000:]
        except OSError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if self.proc.poll() is not None:
                self._closed()

    def kill(self):
        """Stop QEMU at once: for the guest, a power cut."""
        if self.running():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self._closed()

    def _closed(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.out is not None:
            self.out.close()
            self.out = None

    # --- readiness ---------------------------------------------------
    def wait_http(self, timeout=120, path="/"):
        """Seconds from QEMU's start to porch's first 200 on path.

        A new attempt starts every 0.1 s without waiting for the ones in
        flight (each may take up to 5 s: a connection made before the
        guest listens stalls), so a server that is slow to answer its very
        first request is not charged a whole attempt's timeout."""
        deadline = self.t0 + timeout
        done = threading.Event()
        got = []

        def attempt():
            r = http_get(self.http_port, path, timeout=5.0)
            if r is not None and r[0] == 200:
                with self.cond:
                    got.append(time.monotonic() - self.t0)
                done.set()

        while not done.is_set() and time.monotonic() < deadline:
            if not self.running():
                raise ConsoleError("qemu exited while booting: "
                                   + self.qemu_output())
            threading.Thread(target=attempt, daemon=True).start()
            done.wait(0.1)
        if got:
            return min(got)
        raise ConsoleError("no HTTP answer within %s s; console:\n%s" % (
            timeout, self.console_tail()))

    def line_time(self, pattern):
        """When the first console line matching pattern arrived, in
        seconds after QEMU started (this run), or None."""
        rx = re.compile(pattern)
        with self.cond:
            for t, line in self.lines:
                if rx.search(line):
                    return t
        return None

    def console_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def boot_log(self):
        """The console output of the current QEMU run only."""
        text = self.console_text()
        return text[text.rfind("===== qemu start: %s =====" % self.name):]

    def console_tail(self, n=60):
        return "\n".join(self.console_text().splitlines()[-n:])

    # --- the console's shell -----------------------------------------
    def _send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def _wait_for(self, pattern, timeout, start=0):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, start)
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.sock is None:
                    return None
                self.cond.wait(min(left, 0.5))

    def shell(self, timeout=60):
        """Activate the console (askfirst) and quiet it: no echo, no
        prompt. Idempotent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.seq += 1
            tag = "RDY%d" % self.seq
            with self.cond:
                start = len(self.buf)
            self._send("\n")
            time.sleep(0.3)
            self._send("stty -echo; PS1=; PS2=; echo %s''OK\n" % tag)
            if self._wait_for(tag.encode() + rb"OK", 5, start):
                return
        raise ConsoleError("no shell on the console:\n" + self.console_tail())

    def sh(self, cmd, timeout=60, check=False):
        """Run cmd in the guest: (exit status, output)."""
        self.seq += 1
        n = self.seq
        with self.cond:
            start = len(self.buf)
        # The quotes keep the markers out of any echo of the line itself.
        self._send("echo B''%d; ( %s ) 2>&1; echo E''%d $?\n" % (n, cmd, n))
        m = self._wait_for(rb"B%d\r?\n" % n, timeout, start)
        if not m:
            raise ConsoleError("command did not start: %s\n%s" % (
                cmd, self.console_tail()))
        e = self._wait_for(rb"E%d (\d+)\r?\n" % n, timeout, m.end())
        if not e:
            raise ConsoleError("command timed out: %s\n%s" % (
                cmd, self.console_tail()))
        with self.cond:
            out = self.buf[m.end():e.start()]
        out = out.decode("utf-8", "replace").replace("\r\n", "\n")
        rc = int(e.group(1))
        if check and rc != 0:
            raise ConsoleError("%s: exit %d: %s" % (cmd, rc, out))
        return rc, out

    def mark(self):
        """A position in the console's output (of this QEMU run)."""
        with self.cond:
            return len(self.buf)

    def since(self, mark):
        """The console's output after mark."""
        with self.cond:
            return self.buf[mark:].decode("utf-8", "replace")

    def wait_console(self, pattern, timeout, start=0):
        return self._wait_for(pattern, timeout, start)

    def send_line(self, line):
        self._send(line + "\n")

    def poweroff(self, timeout=60):
        """A clean shutdown: QEMU's exit status, None on a timeout."""
        self._send("poweroff\n")
        return self.wait_exit(timeout)
