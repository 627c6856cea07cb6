# toolchain.mk: the cross toolchain and mbedTLS, for the top-level Makefile
# (include toolchain/toolchain.mk) or alone:
#	make -f toolchain/toolchain.mk ARCH=armhf toolchain mbedtls
#
# In:	ARCH	host (default) | armhf | aarch64 | mipsel
#	STATIC	0 (default) | 1: host only, static with the pinned musl
#	TLS	1 (default) | 0: MBEDTLS_CFLAGS, _LIBS and _STAMP are empty
#	PORCH_CACHE	where builds go (default ~/.cache/porch), outside the repo
# Out:	TC_ID		host | host-musl | armhf | aarch64 | mipsel (build dirs)
#	TC_CC		compiler: cc on the host, else a musl-gcc wrapper
#	TC_CFLAGS	target flags (-Os, sections); empty for the host build
#	TC_LDFLAGS	-static -Wl,--gc-sections ...; empty for the host build
#	TC_STRIP	the strip for the target
#	TC_QEMU		qemu-<arch>-static for cross targets, else empty
#	TC_STAMP	file; its rule ensures the toolchain (packages, sources,
#			musl): use as an order-only prerequisite
#	MBEDTLS_CFLAGS	-isystem <prefix>/include -DMBEDTLS_CONFIG_FILE=...
#	MBEDTLS_LIBS	full paths of libmbedtls.a libmbedx509.a libmbedcrypto.a
#	MBEDTLS_STAMP	file; its rule builds mbedTLS for this toolchain
# Phony: toolchain, toolchain-all (armhf aarch64 mipsel), mbedtls,
#	toolchain-env (prints the values above as shell assignments).
# Cached builds are keyed by version (musl) and by version plus a hash of
# config, build script and flags (mbedTLS): a warm run costs no rebuild.

_tc_goal := $(.DEFAULT_GOAL)

TC_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
_tc_dir := $(abspath $(TC_DIR))
include $(TC_DIR)/versions.mk

ARCH ?= host
STATIC ?= 0
TLS ?= 1
PORCH_CACHE ?= $(if $(HOME),$(HOME),/tmp)/.cache/porch

_tc_musl_key := musl-$(subst ~,_,$(MUSL_DEB))

ifeq ($(ARCH),host)
ifeq ($(STATIC),1)
TC_ID := host-musl
_tc_prefix := $(PORCH_CACHE)/host-musl/$(_tc_musl_key)
TC_CC := $(_tc_prefix)/bin/musl-gcc
TC_AR := ar
TC_STRIP := strip
TC_CFLAGS := -Os -ffunction-sections -fdata-sections
TC_LDFLAGS := -static -Wl,--gc-sections
TC_STAMP := $(_tc_prefix)/.stamp
else
TC_ID := host
TC_CC := cc
TC_AR := ar
TC_STRIP := strip
TC_CFLAGS :=
TC_LDFLAGS :=
TC_STAMP := $(PORCH_CACHE)/host/.stamp
endif
TC_QEMU :=
else
_tc_triplet_armhf := arm-linux-gnueabihf
_tc_triplet_aarch64 := aarch64-linux-gnu
_tc_triplet_mipsel := mipsel-linux-gnu
_tc_qemu_armhf := qemu-arm-static
_tc_qemu_aarch64 := qemu-aarch64-static
_tc_qemu_mipsel := qemu-mipsel-static
# aarch64 links for 64 KiB pages by default; routers run 4 KiB (~50 KB).
_tc_ldflags_aarch64 := -Wl,-z,max-page-size=4096
_tc_triplet := $(_tc_triplet_$(ARCH))
ifeq ($(_tc_triplet),)
$(error ARCH=$(ARCH): expected host, armhf, aarch64 or mipsel)
endif
TC_ID := $(ARCH)
_tc_prefix := $(PORCH_CACHE)/$(ARCH)/$(_tc_musl_key)
TC_CC := $(_tc_prefix)/bin/musl-gcc
TC_AR := $(_tc_triplet)-ar
TC_STRIP := $(_tc_triplet)-strip
# Debian's defaults are the targets' ABIs already: armhf is ARMv7-A
# Thumb-2 VFPv3-D16 hard-float, mipsel is mips32r2 (hard-float ABI; no FP
# code may run on FPU-less routers unless their kernel emulates it).
TC_CFLAGS := -Os -ffunction-sections -fdata-sections
TC_LDFLAGS := -static -Wl,--gc-sections $(_tc_ldflags_$(ARCH))
TC_QEMU := $(_tc_qemu_$(ARCH))
TC_STAMP := $(_tc_prefix)/.stamp
endif

# mbedTLS: the host (glibc) build is optimised for speed, the static
# ones for size like the rest of the target code.
# Where handshakes spend their CPU (bignum, curves), -O2 even for size.
_tc_mbedtls_cflags := $(if $(TC_CFLAGS),$(TC_CFLAGS),-O2 -ffunction-sections -fdata-sections)
_tc_mbedtls_hot := $(if $(TC_CFLAGS),-O2 -ffunction-sections -fdata-sections)
_tc_mbedtls_hash := $(shell { cat $(TC_DIR)/mbedtls_config.h \
	$(TC_DIR)/build-mbedtls.sh; echo '$(TC_ID) $(MUSL_DEB) $(TC_CC) \
	$(_tc_mbedtls_cflags) $(_tc_mbedtls_hot)'; } | sha256sum | cut -c1-10)
_tc_mbedtls_prefix := $(PORCH_CACHE)/$(TC_ID)/mbedtls-$(MBEDTLS_VERSION)-$(_tc_mbedtls_hash)
_tc_mbedtls_stamp := $(_tc_mbedtls_prefix)/.stamp
_tc_mbedtls_libs := $(addprefix $(_tc_mbedtls_prefix)/lib/,libmbedtls.a libmbedx509.a libmbedcrypto.a)

ifeq ($(TLS),1)
MBEDTLS_CFLAGS := -isystem $(_tc_mbedtls_prefix)/include '-DMBEDTLS_CONFIG_FILE="porch_mbedtls_config.h"'
MBEDTLS_LIBS := $(_tc_mbedtls_libs)
MBEDTLS_STAMP := $(_tc_mbedtls_stamp)
else
MBEDTLS_CFLAGS :=
MBEDTLS_LIBS :=
MBEDTLS_STAMP :=
endif

# The scripts run their own makes: a parent's MAKEFLAGS (with ARCH=...,
# which musl's Makefile also uses) must not reach them.
_tc_env := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PORCH_CACHE='$(PORCH_CACHE)'
# Two builds at once (two checkouts, CI beside a developer) must not fill
# the same cache directory together: one waits for the other, then finds
# its stamp.
_tc_lock := mkdir -p '$(PORCH_CACHE)' && flock '$(PORCH_CACHE)/.build-lock'

.PHONY: toolchain toolchain-all mbedtls toolchain-env
toolchain: $(TC_STAMP)
	@:
mbedtls: $(_tc_mbedtls_stamp)
	@:
toolchain-all:
	@for a in armhf aarch64 mipsel; do \
	    $(_tc_env) $(MAKE) --no-print-directory -f $(_tc_dir)/toolchain.mk \
		ARCH=$$a TLS=$(TLS) toolchain $(if $(filter 1,$(TLS)),mbedtls) \
		|| exit 1; \
	done

# The contract's values as shell assignments (scripts, debugging). In the
# shell, use MBEDTLS_CFLAGS unquoted: $TC_CC $MBEDTLS_CFLAGS -c x.c
toolchain-env:
	@$(foreach v,TC_ID TC_CC TC_CFLAGS TC_LDFLAGS TC_STRIP TC_QEMU TC_STAMP \
	    MBEDTLS_CFLAGS MBEDTLS_LIBS MBEDTLS_STAMP, \
	    echo '$(v)='\''$(strip $(subst ',,$($(v))))'\''';)

ifeq ($(TC_ID),host)
$(TC_STAMP):
	@$(_tc_lock) $(_tc_env) $(_tc_dir)/deps.sh gcc make binutils
	@mkdir -p $(@D) && touch $@
else
# musl for a cross target (and its qemu-user), or the host-musl wrapper.
$(TC_STAMP):
	@$(_tc_lock) $(_tc_env) $(_tc_dir)/build-musl.sh $(TC_ID)
endif

$(_tc_mbedtls_stamp): | $(TC_STAMP)
	@$(_tc_lock) $(_tc_env) $(_tc_dir)/build-mbedtls.sh \
	    $(_tc_mbedtls_prefix) \
	    '$(TC_CC)' '$(TC_AR)' '$(_tc_mbedtls_cflags)' '$(_tc_mbedtls_hot)'

.DEFAULT_GOAL := $(_tc_goal)
