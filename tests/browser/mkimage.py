#!/usr/bin/env python3
"""A firmware upgrade file in the image's format 1 (rootfs/README.md of the
firmware image): a 512-byte text header, NUL-padded, then the payload. The
payload here is not a real root, only something that starts like a
squashfs ("hsqs"), which is all a check reads of it.

    mkimage.py OUT VERSION [--arch A] [--size N] [--corrupt]
"""
import argparse
import hashlib
import os


def make(path, version, arch="armhf", size=300000, corrupt=False):
    payload = b"hsqs" + os.urandom(size - 4)
    lines = ("porch-firmware 1\narch=%s\nversion=%s\npayload_size=%d\n"
             "payload_sha256=%s\ncreated=2026-12-01T10:00:00Z\n" % (
                 arch, version, len(payload),
                 hashlib.sha256(payload).hexdigest())).encode()
    header = lines + b"sum=" + hashlib.sha256(lines).hexdigest().encode() + b"\n"
    assert len(header) <= 512
    if corrupt:
        payload = payload[:-1] + bytes([payload[-1] ^ 1])
    with open(path, "wb") as f:
        f.write(header.ljust(512, b"\0") + payload)
    return path


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("version")
    ap.add_argument("--arch", default="armhf")
    ap.add_argument("--size", type=int, default=300000)
    ap.add_argument("--corrupt", action="store_true")
    a = ap.parse_args()
    make(a.out, a.version, a.arch, a.size, a.corrupt)
