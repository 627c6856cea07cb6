"""The firmware image under QEMU: fixtures and the figures report.

make qemu-test ARCH=<arch> (or make qemu-smoke) sets:
  QEMU_TEST_ARCH     armhf | aarch64 | mipsel
  QEMU_TEST_PRODUCT  build/<arch>: the product image (sizes are its)
  QEMU_TEST_V1       the image booted: the product plus rootfs-extra
  QEMU_TEST_V2       the same with another VERSION: the upgrade
  QEMU_TEST_WORK     disks, console logs, upgrade files, figures.txt

The tests of test_image.py run in order on one board: later ones rely on
what earlier ones did (a reboot, an upgrade), as a person testing a router
would. Figures (boot times, sizes, memory) are measured, never asserted
against targets; they are printed at the end and kept in figures.txt.
"""
import os
import shutil
import subprocess
import time

import pytest

from vm import ROOT, Vm

FIGURES = {}


def figure(name, value):
    FIGURES[name] = value


def boot_figures(label, vm, total):
    """A boot's phases as the host saw them: QEMU start to the kernel's
    first console line, to the root mounted (the boot initramfs's last
    line), to the server's first answer. The last part is what the server
    and the image's init add; the rest is the kernel's and QEMU's."""
    root = vm.line_time(r"^boot: \[[0-9.]+\] root: ")
    figure("%s: first response (s)" % label, "%.2f" % total)
    if root is not None:
        figure("%s: root mounted -> first response (s)" % label,
               "%.2f" % (total - root))
    return root


class Env:
    def __init__(self):
        try:
            self.arch = os.environ["QEMU_TEST_ARCH"]
            self.product = os.environ["QEMU_TEST_PRODUCT"]
            self.v1 = os.environ["QEMU_TEST_V1"]
            self.v2 = os.environ["QEMU_TEST_V2"]
            self.work = os.environ["QEMU_TEST_WORK"]
        except KeyError as e:
            pytest.exit("run through make qemu-test ARCH=...: %s unset" % e,
                        returncode=2)
        self.files = os.path.join(self.work, "files")

    def version(self, image):
        with open(os.path.join(image, "version")) as f:
            return f.read().strip()

    def sizes(self, image):
        out = {}
        with open(os.path.join(image, "sizes.txt")) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                out[k] = v
        return out


@pytest.fixture(scope="session")
def env():
    e = Env()
    shutil.rmtree(e.work, ignore_errors=True)
    os.makedirs(e.files)
    return e


@pytest.fixture(scope="session")
def upgrade_files(env):
    """The upgrade files the guest fetches: good ones and broken ones."""
    f = env.files
    v2 = os.path.join(env.v2, "firmware.bin")
    shutil.copy(v2, os.path.join(f, "v2.bin"))
    shutil.copy(os.path.join(env.v1, "firmware.bin"), os.path.join(f, "v1.bin"))
    with open(v2, "rb") as src:
        data = src.read()
    with open(os.path.join(f, "truncated.bin"), "wb") as o:
        o.write(data[:len(data) // 2])
    bad = bytearray(data)
    bad[512 + len(bad[512:]) // 2] ^= 0x40
    with open(os.path.join(f, "badsum.bin"), "wb") as o:
        o.write(bytes(bad))
    other = {"armhf": "aarch64"}.get(env.arch, "armhf")
    subprocess.run(["sh", os.path.join(ROOT, "rootfs", "mkfwimage.sh"), other,
                    env.version(env.v2),
                    os.path.join(env.v2, "rootfs.squashfs"),
                    os.path.join(f, "otherarch.bin")], check=True)
    with open(os.path.join(f, "garbage.bin"), "wb") as o:
        o.write(os.urandom(4096))
    return f


@pytest.fixture(scope="session")
def board(env):
    """The v1 image on factory-fresh disks, booted cold. The guest fetches
    from env.files (upgrade_files fills it) at http://10.0.2.100/."""
    fetch = "/usr/bin/python3 %s %s" % (
        os.path.join(ROOT, "tests", "qemu", "fetch.py"), env.files)
    vm = Vm(env.arch, env.v1, os.path.join(env.work, "disks"), env.work,
            name="board", fetch=fetch)
    vm.start()
    vm.cold = vm.wait_http(timeout=180)
    vm.cold_root = boot_figures("porch cold", vm, vm.cold)
    figure("porch cold: kernel's first console line (s)",
           "%.2f" % vm.first_output)
    vm.shell()
    yield vm
    vm.kill()


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    tr = terminalreporter
    tr.section("figures (measured, not asserted)")
    lines = ["%-52s %s" % (k, v) for k, v in FIGURES.items()]
    for line in lines:
        tr.write_line(line)
    work = os.environ.get("QEMU_TEST_WORK")
    if work and os.path.isdir(work):
        with open(os.path.join(work, "figures.txt"), "w") as f:
            f.write("# %s, %s\n" % (os.environ.get("QEMU_TEST_ARCH"),
                                   time.strftime("%Y-%m-%d %H:%M:%S")))
            f.write("\n".join(lines) + "\n")
