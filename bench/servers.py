"""The servers under test: a minimal config each, bound to 127.0.0.1 only
(or, for the LAN benchmark, to the server namespace's own address).

Every server gets its own directory under the run's temp dir, the same
document root, access logs off (mini_httpd cannot turn its log off: it
writes to /dev/null), workers run as nobody, keep-alive at 100 requests and
5 s where the server has keep-alive, sendfile where the server has it.

Each server is started in its own session (setsid) and stopped through the
pid we started (and its process group); nothing outlives the run.

The LAN benchmark (bench/lan.py) sets, per instance: bind (address),
ports (fixed), wrapper (argv -> argv: namespace, CPU, cgroup) and cgroup
(CPU time from cpuacct instead of /proc).
"""
import os
import signal
import socket
import subprocess
import time

KA_REQUESTS = 100
KA_TIMEOUT = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(port, path="/1k.txt", timeout=1.0, host="127.0.0.1"):
    """One GET over a fresh connection; True on a 200 answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.startswith(b"HTTP/1.") and data.split(b" ", 2)[1] == b"200"
    except (OSError, IndexError):
        return False


def tcp_open(port, timeout=0.5, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def children_map():
    """ppid -> [pid] for every process on the machine."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # comm may hold spaces and parentheses: split after the last ')'
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    """pid and all its descendants."""
    kids = children_map()
    out, pending = [], [pid]
    while pending:
        p = pending.pop()
        out.append(p)
        pending.extend(kids.get(p, []))
    return out


def cpu_ticks(pids):
    """utime+stime+cutime+cstime (clock ticks) summed over pids."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        # fields[0] is state (field 3): utime..cstime are fields 14..17
        total += sum(int(x) for x in fields[11:15])
    return total


def sleeps(pids):
    """Voluntary context switches summed over pids: each is the process
    going to sleep (waiting for the client) and being woken again."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total


TICK = os.sysconf("SC_CLK_TCK")

# MIME types of the files served (the admin page of bench/page.py)
MIME = {".txt": "text/plain", ".html": "text/html", ".css": "text/css",
        ".js": "text/javascript", ".png": "image/png", ".ico": "image/x-icon",
        ".json": "application/json"}


def rollup(pid):
    """(pss_kib, private_kib, rss_kib) of one process, or None."""
    vals = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[2] == "kB":
                    vals[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        return None
    if "Pss" not in vals:
        return None
    priv = vals.get("Private_Clean", 0) + vals.get("Private_Dirty", 0)
    return vals["Pss"], priv, vals.get("Rss", 0)


class Server:
    """One instance: kind (porch, nginx ...), workers (None: not a pool)."""

    kind = "?"
    cgi = True
    tls = False
    pool = False          # a fixed pool of W worker processes
    closes = False        # closes every connection (no keep-alive)
    note = ""

    def __init__(self, name, base, www, workers=None, tls_files=None, want_tls=False,
                 bind="127.0.0.1", ports=None, wrapper=None, cgroup=None):
        self.name = name
        self.bind = bind
        self.fixed_ports = ports        # (http, https) or None: free ports
        self.wrapper = wrapper
        self.cgroup = cgroup
        self.dir = os.path.join(base, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            # servers that open their logs after dropping to nobody
            os.chown(self.dir, 65534, 65534)
        self.www = www
        self.workers = workers
        self.tls_files = tls_files
        self.want_tls = want_tls and self.tls and tls_files is not None
        self.port = None
        self.tls_port = None
        self.proc = None
        self.log = None
        self.requests_served = 0

    # -- to override
    def argv(self):
        raise NotImplementedError

    def write_config(self):
        pass

    # -- lifecycle
    def start(self, timeout=15.0):
        last = "did not start"
        for _attempt in range(3):
            if self.fixed_ports:
                self.port = self.fixed_ports[0]
                self.tls_port = self.fixed_ports[1] if self.want_tls else None
            else:
                self.port = free_port()
                self.tls_port = free_port() if self.want_tls else None
            self.write_config()
            self.log = open(os.path.join(self.dir, "stdout.log"), "ab")
            argv = self.wrapper(self.argv()) if self.wrapper else self.argv()
            self.proc = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if http_ok(self.port, host=self.bind) and (
                        self.tls_port is None or tcp_open(self.tls_port, host=self.bind)):
                    # a pool is ready once all its workers exist
                    if not self.pool or len(tree(self.proc.pid)) >= self.workers + 1:
                        return
                time.sleep(0.05)
            last = "exit %s" % self.proc.poll() if self.proc.poll() is not None else "no answer"
            self.stop()
        raise RuntimeError("%s: %s; see %s" % (self.name, last, self.dir))

    def pids(self):
        if self.proc is None or self.proc.poll() is not None:
            return []
        return tree(self.proc.pid)

    def worker_pids(self):
        return [p for p in self.pids() if p != self.proc.pid] or [self.proc.pid]

    def cpu_seconds(self):
        """CPU time used so far by the server's processes and reaped children
        (with a cgroup: by everything ever started in it, exact)."""
        if self.cgroup:
            with open(os.path.join(self.cgroup, "cpuacct.usage")) as f:
                return int(f.read()) / 1e9
        return cpu_ticks(self.pids()) / TICK

    def sleeps(self):
        """Voluntary context switches so far of the server's processes."""
        return sleeps(self.pids())

    def memory(self):
        """Sums over the server's processes: pss, private, rss (KiB), count."""
        pss = priv = rss = n = 0
        for p in self.pids():
            r = rollup(p)
            if r:
                pss += r[0]
                priv += r[1]
                rss += r[2]
                n += 1
        return {"pss_kib": pss, "private_kib": priv, "rss_kib": rss, "procs": n}

    def stop(self):
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            try:
                os.kill(pid, self.stop_signal)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # the group we created with setsid: workers, CGIs left behind
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None

    stop_signal = signal.SIGTERM

    def f(self, name):
        return os.path.join(self.dir, name)


class Porch(Server):
    kind = "porch"
    pool = True
    bin = None

    def __init__(self, *a, **kw):
        self.bin = kw.pop("bin")
        self.has_tls = kw.pop("has_tls", False)
        self.extra = kw.pop("extra", [])    # more "directive value" strings
        super().__init__(*a, **kw)

    @property
    def tls(self):
        return self.has_tls

    def argv(self):
        o = ["user nobody", "cgi /cgi-bin/", "access_log off",
             "keepalive_requests %d" % KA_REQUESTS, "keepalive_timeout %d" % KA_TIMEOUT,
             "error_log %s" % self.f("error.log"), "pid_file %s" % self.f("porch.pid")]
        if self.tls_port:
            cert, key = self.tls_files
            o += ["tls_listen %s:%d" % (self.bind, self.tls_port), "tls_cert %s" % cert,
                  "tls_key %s" % key]
        o += self.extra
        argv = [self.bin, "-l", "%s:%d" % (self.bind, self.port), "-r", self.www,
                "-w", str(self.workers)]
        for d in o:
            argv += ["-o", d]
        return argv


class Nginx(Server):
    kind = "nginx"
    pool = True
    cgi = False
    tls = True
    stop_signal = signal.SIGQUIT
    note = "no CGI; sendfile on, tcp_nopush off"

    def write_config(self):
        ssl = ""
        if self.tls_port:
            cert, key = self.tls_files
            ssl = """
        listen %s:%d ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_session_cache shared:SSL:1m;
        ssl_session_tickets on;""" % (self.bind, self.tls_port, cert, key)
        with open(self.f("nginx.conf"), "w") as fh:
            fh.write("""daemon off;
master_process on;
worker_processes %d;
user nobody nogroup;
pid %s;
error_log %s warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush off;
    tcp_nodelay on;
    ssl_protocols TLSv1.2 TLSv1.3;
    keepalive_timeout %d;
    keepalive_requests %d;
    types { %s }
    default_type application/octet-stream;
    server {
        listen %s:%d;%s
        root %s;
        # no CGI in nginx: the admin page's API answer as a static file
        location = /cgi-bin/status {
            default_type application/json;
            alias %s/cgi-bin/status.json;
        }
    }
}
""" % (self.workers, self.f("nginx.pid"), self.f("error.log"), KA_TIMEOUT, KA_REQUESTS,
                " ".join("%s %s;" % (t, e[1:]) for e, t in MIME.items()),
                self.bind, self.port, ssl, self.www, self.www))

    def argv(self):
        return ["/usr/sbin/nginx", "-p", self.dir, "-e", self.f("error.log"),
                "-c", self.f("nginx.conf")]


class Apache(Server):
    kind = "apache"
    pool = True
    stop_signal = signal.SIGTERM
    note = "prefork MPM, mod_cgi, EnableSendfile On"

    def write_config(self):
        w = self.workers
        mods = ["mpm_prefork", "authz_core", "mime", "dir", "alias", "cgi"]
        lm = "\n".join("LoadModule %s_module /usr/lib/apache2/modules/mod_%s.so" % (m, m)
                       for m in mods)
        with open(self.f("httpd.conf"), "w") as fh:
            fh.write("""ServerRoot %(dir)s
%(lm)s
Listen %(bind)s:%(port)d
ServerName %(bind)s
PidFile %(dir)s/httpd.pid
DefaultRuntimeDir %(dir)s
Mutex file:%(dir)s default
User nobody
Group nogroup
ErrorLog %(dir)s/error.log
LogLevel warn
HostnameLookups Off
TypesConfig /dev/null
%(types)s
DocumentRoot %(www)s
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory %(www)s>
    Options None
    AllowOverride None
    Require all granted
</Directory>
ScriptAlias /cgi-bin/ %(www)s/cgi-bin/
EnableSendfile On
EnableMMAP On
KeepAlive On
MaxKeepAliveRequests %(kar)d
KeepAliveTimeout %(kat)d
StartServers %(w)d
MinSpareServers %(w)d
MaxSpareServers %(w1)d
ServerLimit %(w)d
MaxRequestWorkers %(w)d
MaxConnectionsPerChild 0
ListenBacklog 511
""" % dict(dir=self.dir, lm=lm, port=self.port, www=self.www, kar=KA_REQUESTS,
                kat=KA_TIMEOUT, w=w, w1=w + 1, bind=self.bind,
                types="\n".join("AddType %s %s" % (t, e) for e, t in MIME.items())))

    def argv(self):
        return ["/usr/sbin/apache2", "-f", self.f("httpd.conf"), "-DFOREGROUND"]


class Lighttpd(Server):
    kind = "lighttpd"
    tls = True
    stop_signal = signal.SIGTERM
    note = "single process (event loop), mod_cgi, sendfile backend"

    def write_config(self):
        ssl = ""
        mods = '"mod_cgi"'
        if self.tls_port:
            cert, key = self.tls_files
            mods += ', "mod_openssl"'
            ssl = """$SERVER["socket"] == "%s:%d" {
    ssl.engine = "enable"
    ssl.pemfile = "%s"
    ssl.privkey = "%s"
}
""" % (self.bind, self.tls_port, cert, key)
        with open(self.f("lighttpd.conf"), "w") as fh:
            fh.write("""server.modules = ( %s )
server.document-root = "%s"
server.bind = "%s"
server.port = %d
server.username = "nobody"
server.groupname = "nogroup"
server.errorlog = "%s"
server.pid-file = "%s"
server.network-backend = "sendfile"
server.max-keep-alive-requests = %d
server.max-keep-alive-idle = %d
index-file.names = ( "index.html" )
mimetype.assign = ( %s )
$HTTP["url"] =~ "^/cgi-bin/" {
    cgi.assign = ( "" => "" )
}
%s""" % (mods, self.www, self.bind, self.port, self.f("error.log"),
                self.f("lighttpd.pid"), KA_REQUESTS, KA_TIMEOUT,
                ", ".join('"%s" => "%s"' % (e, t) for e, t in MIME.items()), ssl))

    def argv(self):
        return ["/usr/sbin/lighttpd", "-D", "-f", self.f("lighttpd.conf")]


class Busybox(Server):
    kind = "busybox"
    closes = True
    note = "fork per connection, no keep-alive, listen backlog 9"

    def write_config(self):
        open(self.f("httpd.conf"), "w").close()

    def argv(self):
        return ["/bin/busybox", "httpd", "-f", "-p", "%s:%d" % (self.bind, self.port),
                "-h", self.www, "-c", self.f("httpd.conf"), "-u", "nobody:nogroup"]


class MiniHttpd(Server):
    kind = "mini_httpd"
    closes = True
    note = "fork per connection, no keep-alive, access log to /dev/null"

    def argv(self):
        return ["/usr/sbin/mini_httpd", "-D", "-h", self.bind, "-p", str(self.port),
                "-d", self.www, "-u", "nobody", "-c", "cgi-bin/*", "-l", "/dev/null",
                "-i", self.f("mini_httpd.pid")]


KINDS = {"porch": Porch, "nginx": Nginx, "apache": Apache, "lighttpd": Lighttpd,
         "busybox": Busybox, "mini_httpd": MiniHttpd}
