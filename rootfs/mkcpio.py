#!/usr/bin/python3
"""Pack a directory as a gzip'd newc cpio archive (an initramfs) without
root: every entry belongs to root, and device nodes are named on the
command line instead of needing mknod.

    mkcpio.py DIR OUT.cpio.gz [--mtime SECONDS] [--node PATH:TYPE:MODE:MAJOR:MINOR]...

Entries are sorted and timestamps fixed, so the archive is reproducible.
"""
import argparse
import gzip
import os
import stat
import sys


def header(ino, mode, nlink, mtime, size, rdev, name):
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0,
              os.major(rdev) if rdev else 0, os.minor(rdev) if rdev else 0,
              len(name) + 1, 0]
    h = b"070701" + b"".join(b"%08X" % f for f in fields)
    h += name.encode() + b"\0"
    return h + b"\0" * (-len(h) % 4)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("out")
    ap.add_argument("--mtime", type=int, default=0)
    ap.add_argument("--node", action="append", default=[])
    a = ap.parse_args()
    entries = []
    for root, dirs, files in os.walk(a.dir):
        dirs.sort()
        for n in sorted(dirs + files):
            full = os.path.join(root, n)
            entries.append(os.path.relpath(full, a.dir))
    entries.sort()
    out = bytearray()
    ino = 1
    for rel in entries:
        full = os.path.join(a.dir, rel)
        st = os.lstat(full)
        perm = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            data = os.readlink(full).encode()
            mode = stat.S_IFLNK | 0o777
        elif stat.S_ISDIR(st.st_mode):
            data = b""
            mode = stat.S_IFDIR | perm
        elif stat.S_ISREG(st.st_mode):
            with open(full, "rb") as f:
                data = f.read()
            mode = stat.S_IFREG | perm
        else:
            sys.exit("mkcpio.py: %s: unsupported file type" % full)
        out += header(ino, mode, 2 if stat.S_ISDIR(mode) else 1, a.mtime,
                      len(data), 0, rel)
        out += data + b"\0" * (-len(data) % 4)
        ino += 1
    for spec in a.node:
        path, typ, mode, major, minor = spec.split(":")
        kind = stat.S_IFCHR if typ == "c" else stat.S_IFBLK
        out += header(ino, kind | int(mode, 8), 1, a.mtime, 0,
                      os.makedev(int(major), int(minor)), path)
        ino += 1
    out += header(0, 0, 1, 0, 0, 0, "TRAILER!!!")
    with open(a.out + ".tmp", "wb") as f:
        f.write(gzip.compress(bytes(out), compresslevel=9, mtime=0))
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
