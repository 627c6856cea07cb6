#!/usr/bin/python3
"""Serve one file to the guest, one connection per run: QEMU starts this
for each guest connection to 10.0.2.100:80 (rootfs/qemu.sh --fetch), with
the connection on stdin/stdout, so nothing listens on the host.

    fetch.py DIR        GET /NAME answers DIR/NAME (plain names only)
"""
import os
import re
import sys

def main():
    top = sys.argv[1]
    line = sys.stdin.buffer.readline(4096)
    while sys.stdin.buffer.readline(4096) not in (b"\r\n", b"\n", b""):
        pass
    m = re.match(rb"GET /([A-Za-z0-9._-]+) HTTP/1\.[01]\r?\n$", line)
    out = sys.stdout.buffer
    path = os.path.join(top, m.group(1).decode()) if m else None
    if path is None or not os.path.isfile(path):
        out.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        out.flush()
        return
    with open(path, "rb") as f:
        data = f.read()
    out.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Length: %d\r\n\r\n" % len(data))
    out.write(data)
    out.flush()

if __name__ == "__main__":
    main()
