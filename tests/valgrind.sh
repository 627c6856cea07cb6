#!/bin/sh
# porch (host build, 2 workers) under valgrind memcheck for a
# representative session: static GET/HEAD/304/range/gzip, keep-alive and
# pipelining, errors 400/404/413/431, a CGI POST echo, Basic auth 401/200,
# the status JSON, a reload (HUP) and a graceful stop (TERM).
#
#	sh tests/valgrind.sh
#
# valgrind follows the workers (forks) and leaves the CGIs (exec'd under
# cgi-bin/, or /bin/sh) alone. Each check of the session counts as one
# test, and so does each porch process valgrind watched: it fails on any
# invalid read or write, use of uninitialised memory, or definite leak.
# Descriptors open at exit (--track-fds) are printed, not judged. KEEP=1
# keeps the logs (the directory is printed). The last
# line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind: not installed (apt-get install valgrind)"
	echo "0 passed, 1 failed"
	exit 1
fi
if ! make >/dev/null 2>&1; then
	echo "valgrind: make failed"
	echo "0 passed, 1 failed"
	exit 1
fi

start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/porch-valgrind.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT INT TERM

VALGRIND="valgrind --trace-children=yes \
--trace-children-skip=/bin/*,/usr/*,*/cgi-bin/* \
--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
--track-fds=yes --track-origins=yes --num-callers=30 \
--log-file=$tmp/vg.%p"

PORCH=$(pwd)/build/host/porch VALGRIND=$VALGRIND TMPD=$tmp START=$start \
    /usr/bin/python3 - <<'EOF'
import base64, gzip, json, os, re, signal, socket, subprocess, sys, time

tmp = os.environ["TMPD"]
porch = os.environ["PORCH"]
root = os.path.join(tmp, "www")
os.makedirs(os.path.join(root, "cgi-bin"))
os.makedirs(os.path.join(root, "admin"))
files = {
    "index.html": b"<h1>porch</h1>\n",
    "hello.txt": b"hello, world\n",
    "1k.bin": bytes(range(256)) * 4,
    "100k.bin": os.urandom(100 * 1024),
    "style.css": b"body { color: #333; }\n" * 40,
    "admin/index.html": b"admin\n",
}
for name, data in files.items():
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
with open(os.path.join(root, "style.css.gz"), "wb") as f:
    f.write(gzip.compress(files["style.css"], mtime=0))
echo = os.path.join(root, "cgi-bin", "echo.sh")
with open(echo, "w") as f:
    f.write("#!/bin/sh\nprintf 'Content-Type: application/octet-stream"
            "\\r\\n\\r\\n'\nexec cat\n")
os.chmod(echo, 0o755)
hashed = subprocess.run(["openssl", "passwd", "-5", "pw"], capture_output=True,
                        text=True, check=True).stdout.strip()
with open(os.path.join(tmp, "htpasswd"), "w") as f:
    f.write("admin:%s\n" % hashed)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
conf = os.path.join(tmp, "porch.conf")
with open(conf, "w") as f:
    f.write("listen 127.0.0.1:%d\nroot %s\nallow_root on\ncgi /cgi-bin/\n"
            "auth /admin/ Admin %s/htpasswd\nmax_body_size 64k\n"
            "error_log %s/error.log\naccess_log %s/access.log\n"
            "header_timeout 20\nio_timeout 20\ncgi_timeout 20\n"
            "stop_timeout 30\n" % (port, root, tmp, tmp, tmp))

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def talk(raw, timeout=30):
    """Sends raw, reads to EOF; returns the parsed responses."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.settimeout(timeout)
        s.sendall(raw)
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            data += b
    return parse(data)


def parse(data, heads=()):
    out, i = [], 0
    while i < len(data):
        end = data.find(b"\r\n\r\n", i)
        if end < 0:
            break
        head = data[i:end].decode("latin-1")
        status = int(head[9:12])
        hdrs = {}
        for ln in head.split("\r\n")[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        i = end + 4
        body = b""
        if len(out) in heads or status in (204, 304):
            pass
        elif "content-length" in hdrs:
            n = int(hdrs["content-length"])
            body, i = data[i:i + n], i + n
        elif hdrs.get("transfer-encoding") == "chunked":
            while True:
                e = data.index(b"\r\n", i)
                n = int(data[i:e].split(b";")[0], 16)
                i = e + 2
                if n == 0:
                    i = data.index(b"\r\n", i) + 2
                    break
                body += data[i:i + n]
                i += n + 2
        else:
            body, i = data[i:], len(data)
        out.append((status, hdrs, body))
    return out


def req(path, method="GET", extra="", close=True):
    return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s\r\n" % (
        method, path, extra, "Connection: close\r\n" if close else "")).encode()


def one(name, raw, status, body=None):
    rs = talk(raw)
    ok = len(rs) == 1 and rs[0][0] == status and (body is None or rs[0][2] == body)
    check(name, ok, repr([(r[0], r[2][:60]) for r in rs]))
    return rs[0] if rs else (0, {}, b"")


vg = os.environ["VALGRIND"].split()
proc = subprocess.Popen(vg + [porch, "-c", conf, "-w", "2"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        start_new_session=True)
try:
    deadline = time.time() + 60
    up = False
    while time.time() < deadline and proc.poll() is None:
        try:
            if talk(req("/hello.txt"), timeout=10):
                up = True
                break
        except OSError:
            time.sleep(0.2)
    check("starts under valgrind", up)
    if not up:
        raise SystemExit

    one("GET", req("/hello.txt"), 200, files["hello.txt"])
    one("GET index", req("/"), 200, files["index.html"])
    one("GET 100k (sendfile)", req("/100k.bin"), 200, files["100k.bin"])
    r = talk(req("/1k.bin", "HEAD"))
    check("HEAD", len(r) == 1 and r[0][0] == 200 and r[0][2] == b"")
    etag = r[0][1].get("etag", "") if r else ""
    one("304", req("/1k.bin", extra="If-None-Match: %s\r\n" % etag), 304)
    one("range", req("/1k.bin", extra="Range: bytes=100-199\r\n"), 206,
        files["1k.bin"][100:200])
    st, h, body = one("gzip", req("/style.css", extra="Accept-Encoding: gzip\r\n"),
                      200)
    check("gzip body", h.get("content-encoding") == "gzip" and
          gzip.decompress(body) == files["style.css"])
    rs = talk(req("/hello.txt", close=False) + req("/1k.bin", close=False) +
              req("/nothere", close=False) + req("/hello.txt"))
    check("pipelined keep-alive", [r[0] for r in rs] == [200, 200, 404, 200] and
          rs[1][2] == files["1k.bin"])
    with socket.create_connection(("127.0.0.1", port), 30) as s:
        s.settimeout(30)
        got = []
        for i in range(5):
            s.sendall(req("/hello.txt?%d" % i, close=False))
            data = b""
            while not data.endswith(files["hello.txt"]):
                data += s.recv(65536)
            got.append(parse(data)[0][0])
        check("keep-alive sequence", got == [200] * 5)
    one("400", b"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400)
    one("400 NUL", b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400)
    one("404", req("/missing.html"), 404)
    one("413", b"POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\n"
        b"Content-Length: 100000\r\n\r\n", 413)
    one("431", req("/", extra="X-Big: %s\r\n" % ("a" * 9000)), 431)
    one("414", req("/" + "a" * 5000), 414)
    payload = os.urandom(30000)
    one("CGI POST echo", b"POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(payload) + payload,
        200, payload)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 1000]), payload[i:i + 1000])
                      for i in range(0, len(payload), 1000)) + b"0\r\n\r\n"
    one("CGI chunked POST echo", b"POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks, 200,
        payload)
    one("auth 401", req("/admin/"), 401)
    one("auth wrong 401", req("/admin/", extra="Authorization: Basic %s\r\n"
                              % base64.b64encode(b"admin:nope").decode()), 401)
    one("auth 200", req("/admin/", extra="Authorization: Basic %s\r\n"
                        % base64.b64encode(b"admin:pw").decode()), 200,
        files["admin/index.html"])
    st, h, body = one("status JSON", req("/server-status"), 200)
    try:
        js = json.loads(body)
        check("status fields", js["generation"] == 1 and len(js["workers"]) >= 2)
    except ValueError:
        check("status fields", False, repr(body[:200]))

    os.kill(proc.pid, signal.SIGHUP)
    deadline = time.time() + 60
    gen = 1
    while time.time() < deadline and gen != 2:
        time.sleep(0.5)
        try:
            gen = json.loads(talk(req("/server-status"))[0][2])["generation"]
        except (ValueError, IndexError, OSError):
            pass
    check("reload", gen == 2)
    one("GET after reload", req("/hello.txt"), 200, files["hello.txt"])
    one("CGI after reload", b"POST /cgi-bin/echo.sh HTTP/1.1\r\nHost: a\r\n"
        b"Content-Length: 5\r\nConnection: close\r\n\r\nhello", 200, b"hello")
    one("404 after reload", req("/missing.html"), 404)

    os.kill(proc.pid, signal.SIGTERM)
    try:
        rc = proc.wait(120)
    except subprocess.TimeoutExpired:
        rc = None
    check("graceful stop", rc == 0, "exit %r" % rc)
finally:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

# every process valgrind watched: the master, the workers of both
# generations, and the forks that exec'd CGIs (their logs end at the exec)
logs = sorted(f for f in os.listdir(tmp) if f.startswith("vg."))
watched = 0
for name in logs:
    text = open(os.path.join(tmp, name), errors="replace").read()
    m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    if m is None:
        continue                    # exec'd a CGI: not porch any more
    watched += 1
    bad = re.findall(r"(Invalid (?:read|write|free)[^\n]*|Conditional jump or "
                     r"move depends on uninitialised[^\n]*|Use of uninitialised"
                     r"[^\n]*|Syscall param [^\n]*uninitialised[^\n]*|"
                     r"[0-9,]+ bytes in [0-9,]+ blocks are definitely lost[^\n]*)",
                     text)
    lost = re.search(r"definitely lost: ([0-9,]+) bytes", text)
    fds = re.search(r"FILE DESCRIPTORS: (\d+) open(?: \((\d+) std\))? at exit", text)
    ok = int(m.group(1)) == 0 and not bad and (lost is None or lost.group(1) == "0")
    print("%s: %s errors, definitely lost %s bytes, %s descriptors open at exit"
          % (name, m.group(1), lost.group(1) if lost else "0",
             fds.group(1) if fds else "?"))
    check("valgrind " + name, ok, "\n".join(bad[:10]) + "\n" +
          "\n".join(text.splitlines()[-40:]) if not ok else "")
check("valgrind watched master and workers", watched >= 5,
      "only %d porch processes in the logs" % watched)
print("%d porch processes checked; valgrind: %d s"
      % (watched, time.time() - float(os.environ["START"])))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
exit $?
