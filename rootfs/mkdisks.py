#!/usr/bin/python3
"""Make the QEMU board's two disks, as a router leaves the factory:

    mkdisks.py IMAGE_DIR DISK_DIR

DISK_DIR/flash.img, the "flash" (virtio serial porch-flash), MBR:
    1  bootctl   1 MiB   the boot-control record (two copies)
    2  slot a    8 MiB   IMAGE_DIR/rootfs.squashfs, recorded good, active
    3  slot b    8 MiB   empty
DISK_DIR/data.img, the settings disk (virtio serial porch-data): 16 MiB
of zeros; the first boot formats it.

The record's format is rootfs/files/lib/porch/bootctl.sh's (the guest
reads what this writes on its first boot).
"""
import hashlib
import os
import struct
import sys

SECTOR = 512
MIB = 1024 * 1024
PARTS = [  # (first sector, sectors, MBR type)
    (2048, 2048, 0xDA),      # bootctl: "non-FS data"
    (4096, 16384, 0x83),     # slot a
    (20480, 16384, 0x83),    # slot b
]
FLASH_BYTES = (20480 + 16384) * SECTOR
DATA_BYTES = 16 * MIB


def mbr():
    m = bytearray(SECTOR)
    for i, (first, count, ptype) in enumerate(PARTS):
        # CHS fields unused (0xFE/0xFF: "use LBA"), as modern tools write.
        entry = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", ptype,
                            b"\xfe\xff\xff", first, count)
        m[446 + 16 * i:446 + 16 * (i + 1)] = entry
    struct.pack_into("<I", m, 440, 0x70726368)  # disk signature "prch"
    m[510:512] = b"\x55\xaa"
    return bytes(m)


def bootctl_record(seq, active, slots):
    lines = ["porch-bootctl 1", "seq=%d" % seq, "active=%s" % active]
    for s in "ab":
        for f in ("state", "version", "size", "sha256", "tries"):
            lines.append("%s_%s=%s" % (s, f, slots[s][f]))
    body = "\n".join(lines) + "\n"
    rec = body + "sum=%s\n" % hashlib.sha256(body.encode()).hexdigest()
    assert len(rec) <= SECTOR
    return rec.encode().ljust(SECTOR, b"\0")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkdisks.py IMAGE_DIR DISK_DIR")
    img, disks = sys.argv[1:]
    with open(os.path.join(img, "rootfs.squashfs"), "rb") as f:
        sq = f.read()
    with open(os.path.join(img, "version")) as f:
        version = f.read().strip()
    if len(sq) > PARTS[1][1] * SECTOR:
        sys.exit("mkdisks.py: rootfs.squashfs is larger than a root slot")
    empty = {"state": "empty", "version": "", "size": 0, "sha256": "",
             "tries": 0}
    slots = {"a": {"state": "good", "version": version, "size": len(sq),
                   "sha256": hashlib.sha256(sq).hexdigest(), "tries": 0},
             "b": empty}
    os.makedirs(disks, exist_ok=True)
    flash = os.path.join(disks, "flash.img")
    with open(flash + ".tmp", "wb") as f:
        f.truncate(FLASH_BYTES)
        f.write(mbr())
        # Both copies valid, the newer (odd seq) in sector 8, where the
        # guest's bc_write would have put it.
        f.seek(PARTS[0][0] * SECTOR)
        f.write(bootctl_record(0, "a", slots))
        f.seek((PARTS[0][0] + 8) * SECTOR)
        f.write(bootctl_record(1, "a", slots))
        f.seek(PARTS[1][0] * SECTOR)
        f.write(sq)
    os.replace(flash + ".tmp", flash)
    data = os.path.join(disks, "data.img")
    with open(data + ".tmp", "wb") as f:
        f.truncate(DATA_BYTES)
    os.replace(data + ".tmp", data)


if __name__ == "__main__":
    main()
