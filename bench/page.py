"""The document root of the LAN benchmark: a router admin page and the
files of the CPU-per-request workloads.

The admin page is shaped like a real router UI's first screen (LuCI,
OpenWrt's, is about this size uncompressed): one HTML document that names
a stylesheet, two deferred scripts, five images and an icon, and a script
that asks a CGI for the status as JSON once it runs. Contents are
deterministic (a fixed seed) so every server and every run sends the same
bytes; nothing is precompressed, and the client's Accept-Encoding finds no
.gz sibling, so all servers send identity bodies.

    python3 bench/page.py DIR      writes the tree into DIR and prints it
"""
import os
import random
import struct
import subprocess
import sys
import zlib

# the page's resources, for the report (path, bytes are filled in)
PAGE = "/"
API = "/cgi-bin/status"
POLL = "/api/poll.json"          # what the 50 background connections ask for


def _png(path, w, h, rnd, noise):
    """A valid PNG of w x h RGB pixels; noise (0..1) sets how much of it is
    random, that is how large it stays after deflate."""
    rows = []
    for y in range(h):
        row = bytearray([0])
        for x in range(w):
            if rnd.random() < noise:
                row += bytes((rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
            else:
                row += bytes(((x * 4) & 255, (y * 4) & 255, 160))
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


WORDS = ("network interface wireless status firewall routing dhcp lease client "
         "bridge vlan port uplink signal channel bandwidth traffic packet dropped "
         "received transmitted uptime memory load system firmware upgrade backup "
         "restore password admin session token device address gateway dns").split()


def _fill(parts, size, tail="", pad="/*%s*/\n"):
    """Whole parts while they fit, then a comment to reach size exactly."""
    out, n = [], len(tail)
    for part in parts:
        if n + len(part) + len(pad % "") > size:
            break
        out.append(part)
        n += len(part)
    gap = size - n - len(pad % "")
    return "".join(out) + (pad % ("." * max(0, gap)) if gap >= 0 else "") + tail


def _css(rnd, size):
    def rules():
        yield (":root{--accent:#0a6cbd;--bg:#f4f6f8;--fg:#1d2733}\n"
               "body{margin:0;font:14px/1.45 system-ui,sans-serif;background:var(--bg);"
               "color:var(--fg)}\n")
        n = 0
        while True:
            a, b = rnd.choice(WORDS), rnd.choice(WORDS)
            yield (".%s-%s-%d{display:flex;margin:%dpx %dpx;padding:%dpx;border:1px solid "
                   "#%06x;border-radius:%dpx;color:#%06x}\n.%s-%s-%d:hover{background:#%06x}\n"
                   % (a, b, n, rnd.randrange(12), rnd.randrange(12), rnd.randrange(16),
                      rnd.randrange(1 << 24), rnd.randrange(8), rnd.randrange(1 << 24),
                      a, b, n, rnd.randrange(1 << 24)))
            n += 1
    return _fill(rules(), size)


def _js(rnd, size, head="", tail=""):
    def funcs():
        yield "\"use strict\";\n" + head
        n = 0
        while True:
            a, b = rnd.choice(WORDS), rnd.choice(WORDS)
            yield ("function %s_%s_%d(e, t) {\n  var r = e && e.%s;\n  if (!r) return null;\n"
                   "  for (var i = 0; i < t.length; i++) {\n    if (t[i].%s === r) "
                   "return ui.render(\"%s\", t[i], %d);\n  }\n  return ui.empty(\"%s-%s\");\n}\n"
                   % (a, b, n, a, b, a, rnd.randrange(1000), a, b))
            n += 1
    return _fill(funcs(), size, tail)


def _html(rnd, size):
    head = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<title>Router - Status</title>\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<link rel=\"stylesheet\" href=\"/static/admin.css\">\n"
            "<link rel=\"icon\" href=\"/favicon.ico\">\n"
            "<script defer src=\"/static/ui.js\"></script>\n"
            "<script defer src=\"/static/app.js\"></script>\n"
            "</head><body>\n<header><img src=\"/static/img/logo.png\" alt=\"logo\" "
            "width=\"120\" height=\"40\"><nav><a href=\"/\">Status</a> <a href=\"/network\">"
            "Network</a> <a href=\"/wireless\">Wireless</a> <a href=\"/system\">System</a>"
            "</nav></header>\n<main>\n<section class=\"cards\">\n"
            "<div class=\"card\"><img src=\"/static/img/wan.png\" alt=\"\"> WAN "
            "<span id=\"wan\">-</span></div>\n"
            "<div class=\"card\"><img src=\"/static/img/lan.png\" alt=\"\"> LAN "
            "<span id=\"lan\">-</span></div>\n"
            "<div class=\"card\"><img src=\"/static/img/wifi.png\" alt=\"\"> Wi-Fi "
            "<span id=\"wifi\">-</span></div>\n"
            "</section>\n<img src=\"/static/img/traffic.png\" alt=\"traffic\" width=\"480\" "
            "height=\"160\">\n<table id=\"leases\"><thead><tr><th>Host</th><th>Address</th>"
            "<th>MAC</th><th>Expires</th></tr></thead><tbody>\n")
    tail = "</tbody></table>\n</main>\n<footer>porch</footer>\n</body></html>\n"
    rows = []
    i = 0
    while len(head) + sum(map(len, rows)) + len(tail) < size:
        rows.append("<tr><td>%s-%d</td><td>192.168.1.%d</td><td>02:00:%02x:%02x:%02x:%02x</td>"
                    "<td>%dh %dm</td></tr>\n" % (rnd.choice(WORDS), i, 10 + i % 240,
                                                 rnd.randrange(256), rnd.randrange(256),
                                                 rnd.randrange(256), rnd.randrange(256),
                                                 rnd.randrange(24), rnd.randrange(60)))
        i += 1
    return head + "".join(rows) + tail


CGI = r"""#!/bin/sh
# The admin page's JSON API: what a router's status CGI reports. Shell
# builtins only (read, printf), as a BusyBox ash script would be.
read up idle < /proc/uptime
read l1 l5 l15 procs last < /proc/loadavg
printf 'Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n'
printf '{"hostname":"porch-router","model":"Bench Board v1","firmware":"porch-bench 1.0",'
printf '"uptime":%s,"load":[%s,%s,%s],"memory":{"total":131072,"free":65536,"cached":16384},' "${up%.*}" "$l1" "$l5" "$l15"
printf '"interfaces":['
for i in wan lan wlan0 wlan1; do
	printf '{"name":"%s","up":true,"rx_bytes":123456789,"tx_bytes":98765432,"rx_packets":234567,"tx_packets":198765,"errors":0},' "$i"
done
printf '{"name":"lo","up":true,"rx_bytes":1024,"tx_bytes":1024,"rx_packets":8,"tx_packets":8,"errors":0}],'
printf '"clients":['
for n in 1 2 3 4 5 6; do
	printf '{"host":"client-%s","ip":"192.168.1.%s","signal":-%s},' "$n" "$((100 + n))" "$((40 + n))"
done
printf '{"host":"printer","ip":"192.168.1.200","signal":null}]}\n'
"""


def build(root):
    """Write the tree under root; returns {path: bytes} of the page."""
    rnd = random.Random(18)
    for d in ("static/img", "cgi-bin", "api"):
        os.makedirs(os.path.join(root, d), exist_ok=True)

    def put(rel, data, mode=0o644):
        p = os.path.join(root, rel)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(p, mode)
    put("index.html", _html(rnd, 9 * 1024))
    put("static/admin.css", _css(rnd, 28 * 1024))
    put("static/ui.js", _js(rnd, 96 * 1024, head="var ui = {render: function(){}, "
                                              "empty: function(){}};\n"))
    put("static/app.js", _js(rnd, 24 * 1024, tail=(
        "\nfetch(\"/cgi-bin/status\").then(function (r) { return r.json(); })"
        ".then(function (s) { document.getElementById(\"wan\").textContent = "
        "s.interfaces[0].up ? \"up\" : \"down\"; });\n")))
    _png(os.path.join(root, "static/img/logo.png"), 60, 40, rnd, 0.55)
    for name in ("wan", "lan", "wifi"):
        _png(os.path.join(root, "static/img/%s.png" % name), 24, 24, rnd, 0.55)
    _png(os.path.join(root, "static/img/traffic.png"), 160, 70, rnd, 0.5)
    put("favicon.ico", bytes(rnd.randrange(256) for _ in range(1150)))
    put("cgi-bin/status", CGI, 0o755)
    # the same answer as a static file, for nginx (no CGI)
    out = subprocess.run(["/bin/sh", os.path.join(root, "cgi-bin/status")],
                         capture_output=True, check=True).stdout
    put("cgi-bin/status.json", out.split(b"\r\n\r\n", 1)[1])
    put("api/poll.json", '{"up":true,"clients":7,"rx":123456789,"tx":98765432,'
                         '"load":[0.12,0.08,0.05],"t":1700000000}\n')
    pattern = b"porch benchmark payload 0123456789abcdefghijklmnopqrstuvwxyz\n"
    for name, size in (("1k.txt", 1024), ("100k.txt", 100 * 1024)):
        put(name, (pattern * (size // len(pattern) + 1))[:size])
    for d, _dirs, _files in os.walk(root):
        os.chmod(d, 0o755)
    return page_files(root)


def page_files(root):
    """The admin page's resources as the client fetches them."""
    files = ["index.html", "static/admin.css", "static/ui.js", "static/app.js",
             "static/img/logo.png", "static/img/wan.png", "static/img/lan.png",
             "static/img/wifi.png", "static/img/traffic.png", "favicon.ico",
             "cgi-bin/status.json"]
    return {("/" + f if f != "cgi-bin/status.json" else API + " (CGI)"):
            os.path.getsize(os.path.join(root, f)) for f in files}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for k, v in build(sys.argv[1]).items():
        print("%8d  %s" % (v, k))
