# rootfs.mk: the firmware image and its QEMU board (the top-level Makefile
# includes this). ARCH=armhf|aarch64|mipsel for every target here.
#
#   make rootfs [VERSION=v]	build/<arch>/: rootfs.cpio.gz (whole root,
#				initramfs), rootfs.squashfs + boot.cpio.gz +
#				vmlinuz (the flash form), firmware.bin (the
#				upgrade file), sizes.txt
#   make fwimage VERSION=v	build/<arch>/porch-<arch>-<v>.bin: an upgrade
#				file of that version
#   make qemu [HTTP_PORT=8080] [HTTPS_PORT=8443]
#				boot the flash form, console on this terminal;
#				disks in build/<arch>/qemu/ (made on first use)
#   make qemu-clean		forget those disks (the next boot is a
#				factory-fresh first boot)
#   make qemu-test		boot headless and run tests/qemu against it
#   make qemu-smoke		only boot, answer over HTTP and HTTPS, stop
#   make qemu-bench [QEMU_TEST_ROUNDS=3]
#				the smoke tests and boot times against BusyBox
#				httpd (best of the rounds)
# rootfs/README.md describes the image.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
HTTP_PORT ?= 8080
HTTPS_PORT ?= 8443
QEMU_TEST_ARGS ?=

include toolchain/busybox.mk

IMG_DIR	:= build/$(ARCH)
QT_DIR	:= build/$(ARCH)/qemu-test
ROOTFS_SRCS := $(shell find rootfs/files rootfs/initramfs -type f \
	2>/dev/null) rootfs/mkrootfs.sh rootfs/mkcpio.py rootfs/mkfwimage.sh \
	rootfs/busybox.config
QT_EXTRA := tests/qemu/rootfs-extra
QT_SRCS	:= $(shell find $(QT_EXTRA) -type f 2>/dev/null)
# The image's host tools (qemu-system-* for the board being tested only).
_qemu_pkg_armhf := qemu-system-arm
_qemu_pkg_aarch64 := qemu-system-arm
_qemu_pkg_mipsel := qemu-system-mips
ROOTFS_DEBS := squashfs-tools e2fsprogs python3 dpkg-dev file
QEMU_DEBS := $(_qemu_pkg_$(ARCH)) python3-pytest openssl

.PHONY: rootfs fwimage qemu qemu-clean qemu-test qemu-smoke qemu-bench \
	rootfs-deps \
	_rootfs_arch FORCE

_rootfs_arch:
	@case "$(ARCH)" in armhf|aarch64|mipsel) ;; *) \
	    echo "make: this target needs ARCH=armhf, aarch64 or mipsel" >&2; \
	    exit 2 ;; esac

rootfs-deps: _rootfs_arch
	@sh toolchain/deps.sh $(ROOTFS_DEBS)

# Inputs that make cannot see change: the kernel the metapackage resolves
# to (fetch-kernel.sh refreshes at most daily) and VERSION. Each is a file
# rewritten only when its value changes.
$(IMG_DIR)/.kernel: FORCE | rootfs-deps
	@mkdir -p $(@D)
	@d=$$($(_tc_lock) sh toolchain/fetch-kernel.sh $(ARCH)) || exit 1; \
	    [ "$$(cat $@ 2>/dev/null)" = "$$d" ] || echo "$$d" >$@
$(IMG_DIR)/.version: FORCE
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = '$(VERSION)' ] || echo '$(VERSION)' >$@

# mkrootfs.sh writes sizes.txt last: it stands for the whole image.
# The web root is the admin UI as ui.mk builds it for this ARCH.
$(IMG_DIR)/sizes.txt: $(PORCH) $(UI_WWW)/.stamp $(BUSYBOX_STAMP) \
    $(ROOTFS_SRCS) $(IMG_DIR)/.kernel $(IMG_DIR)/.version | rootfs-deps
	ROOTFS_WWW=$(UI_WWW) sh rootfs/mkrootfs.sh $(ARCH) '$(VERSION)' $(PORCH) $(BUSYBOX_PREFIX) \
	    "$$(cat $(IMG_DIR)/.kernel)" $(IMG_DIR)
	@sed 's/^/  /' $@

rootfs: _rootfs_arch $(IMG_DIR)/sizes.txt

fwimage: rootfs
	cp $(IMG_DIR)/firmware.bin $(IMG_DIR)/porch-$(ARCH)-$(VERSION).bin
	@echo "$(IMG_DIR)/porch-$(ARCH)-$(VERSION).bin"

qemu: rootfs
	@sh toolchain/deps.sh $(QEMU_DEBS)
	@if [ -f $(IMG_DIR)/qemu/flash.img ]; then \
	    echo "make qemu: booting the disks in $(IMG_DIR)/qemu/ (they keep" \
		"what was flashed and set there; make qemu-clean ARCH=$(ARCH)" \
		"starts over from this build, $(VERSION))"; \
	fi
	@echo "make qemu: http://127.0.0.1:$(HTTP_PORT)/ and" \
	    "https://127.0.0.1:$(HTTPS_PORT)/; ^C stops QEMU"
	@sh rootfs/qemu.sh --http $(HTTP_PORT) --https $(HTTPS_PORT) \
	    $(ARCH) $(IMG_DIR) $(IMG_DIR)/qemu

qemu-clean: _rootfs_arch
	rm -rf $(IMG_DIR)/qemu

# The tests boot the product image plus tests/qemu/rootfs-extra (a test
# CGI), and upgrade it to the same with another version.
$(QT_DIR)/v1/sizes.txt: $(IMG_DIR)/sizes.txt $(QT_SRCS)
	ROOTFS_WWW=$(UI_WWW) sh rootfs/mkrootfs.sh $(ARCH) '$(VERSION)' $(PORCH) $(BUSYBOX_PREFIX) \
	    "$$(cat $(IMG_DIR)/.kernel)" $(QT_DIR)/v1 $(QT_EXTRA)
$(QT_DIR)/v2/sizes.txt: $(IMG_DIR)/sizes.txt $(QT_SRCS)
	ROOTFS_WWW=$(UI_WWW) sh rootfs/mkrootfs.sh $(ARCH) '$(VERSION)-next' $(PORCH) \
	    $(BUSYBOX_PREFIX) "$$(cat $(IMG_DIR)/.kernel)" $(QT_DIR)/v2 \
	    $(QT_EXTRA)

_qemu_test_env = QEMU_TEST_ARCH=$(ARCH) QEMU_TEST_PRODUCT=$(abspath $(IMG_DIR)) \
	QEMU_TEST_V1=$(abspath $(QT_DIR)/v1) QEMU_TEST_V2=$(abspath $(QT_DIR)/v2) \
	QEMU_TEST_WORK=$(abspath $(QT_DIR)/run)

qemu-test: rootfs $(QT_DIR)/v1/sizes.txt $(QT_DIR)/v2/sizes.txt
	@sh toolchain/deps.sh $(QEMU_DEBS)
	$(_qemu_test_env) /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	    $(QEMU_TEST_ARGS) tests/qemu

qemu-smoke: rootfs $(QT_DIR)/v1/sizes.txt
	@sh toolchain/deps.sh $(QEMU_DEBS)
	$(_qemu_test_env) /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	    -m smoke $(QEMU_TEST_ARGS) tests/qemu

qemu-bench: rootfs $(QT_DIR)/v1/sizes.txt
	@sh toolchain/deps.sh $(QEMU_DEBS)
	QEMU_TEST_ROUNDS=$${QEMU_TEST_ROUNDS:-3} $(_qemu_test_env) \
	    /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	    -m "smoke or bench" $(QEMU_TEST_ARGS) tests/qemu

FORCE:
