# HTTPS tests (tests/tls/): the binding alone through tests/tls/tls_echo.c,
# a tiny pre-fork HTTPS server built from tls/ and platform/ only, and porch
# itself (tickets across reloads, certificates that renew, --gen-cert, -t,
# HSTS, handshakes under pool pressure, the TLS=0 build), driven by
# openssl, curl and Python.
#
#	make tls-test [ARCH=armhf]	build what it needs, run tests/tls
#					(armhf: the static binaries under
#					qemu-arm-static)
#	make tls-testssl [ARCH=...]	testssl.sh against porch's TLS
#					listener: no weak protocol, cipher or
#					known vulnerability (a few minutes)
#	make tls-cpu			server CPU per handshake, porch beside
#					nginx and lighttpd (figures only)
#	make ARCH=armhf tls-size	stripped tls_echo and its plain twin
#					(-DTLS_ECHO_PLAIN: no tls/, no
#					mbedTLS): the difference is TLS's cost
#	make -f tests/tls/tls.mk tls-echo	build/tls/tls_echo alone
#
# Included by the top-level Makefile (it uses the toolchain.mk variables;
# ARCH picks the target) or run alone with make -f. Cross builds go to
# build/tls/<arch>/; porch itself is built by the top-level Makefile, its
# TLS=0 twin into build/<arch>-tls0/.
#
# Only variables prefixed TLSECHO_ are defined here; each may be overridden.

# Included early, this file must not steal the including Makefile's
# default goal; run alone, its default is "tls-test".
TLSECHO_GOAL := $(.DEFAULT_GOAL)

ifndef TC_ID
include toolchain/toolchain.mk
endif

TLSECHO_DIR ?= build/tls$(if $(filter host,$(TC_ID)),,/$(TC_ID))
TLSECHO_BIN := $(TLSECHO_DIR)/tls_echo
TLSECHO_PLAIN_BIN := $(TLSECHO_DIR)/tls_echo_plain
TLSECHO_CC ?= $(TC_CC)
TLSECHO_CFLAGS ?= -std=c11 -D_GNU_SOURCE $(if $(TC_CFLAGS),,-O2 -g) \
	-Wall -Wextra -Werror -Wshadow -Wvla -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith -Wcast-qual $(TC_CFLAGS)
TLSECHO_PLATFORM := $(wildcard platform/*.c)
TLSECHO_HDRS := $(wildcard platform/*.h) $(wildcard tls/*.h)
TLSECHO_TLS := $(filter-out tls/tls_none.c,$(wildcard tls/*.c))
# platform/os_crypt.c: glibc keeps crypt(3) in libcrypt, musl in libc.
TLSECHO_LDLIBS ?= $(if $(TC_LDFLAGS),,-lcrypt)
TLSECHO_PYTEST ?= /usr/bin/python3 -m pytest -q
TLSECHO_ARCH := $(if $(ARCH),$(ARCH),host)
TLSECHO_PORCH := build/$(TLSECHO_ARCH)/porch
TLSECHO_PORCH_TLS0 := build/$(TLSECHO_ARCH)-tls0/porch
TLSECHO_ENV = TLS_ECHO=$(abspath $(TLSECHO_BIN)) TLS_ECHO_QEMU=$(TC_QEMU) \
	PORCH_BIN=$(abspath $(TLSECHO_PORCH)) \
	PORCH_TLS0_BIN=$(abspath $(TLSECHO_PORCH_TLS0)) PORCH_QEMU=$(TC_QEMU)

.PHONY: tls-echo tls-test tls-testssl tls-cpu tls-size tls-porch

tls-echo: $(TLSECHO_BIN)

# The libraries' path changes with the mbedTLS config: relink then.
$(TLSECHO_BIN): tests/tls/tls_echo.c $(TLSECHO_PLATFORM) $(TLSECHO_TLS) \
    $(TLSECHO_HDRS) $(MBEDTLS_LIBS) | $(TC_STAMP) $(MBEDTLS_STAMP)
	@test -n "$(MBEDTLS_LIBS)" || { echo "tls-echo needs TLS=1"; exit 1; }
	@mkdir -p $(@D)
	$(TLSECHO_CC) $(TLSECHO_CFLAGS) $(MBEDTLS_CFLAGS) -o $@ \
	    tests/tls/tls_echo.c $(TLSECHO_PLATFORM) $(TLSECHO_TLS) \
	    $(MBEDTLS_LIBS) $(TLSECHO_LDLIBS) $(TC_LDFLAGS)

$(MBEDTLS_LIBS): | $(MBEDTLS_STAMP)

$(TLSECHO_PLAIN_BIN): tests/tls/tls_echo.c $(TLSECHO_PLATFORM) \
    $(TLSECHO_HDRS) | $(TC_STAMP)
	@mkdir -p $(@D)
	$(TLSECHO_CC) $(TLSECHO_CFLAGS) -DTLS_ECHO_PLAIN -o $@ \
	    tests/tls/tls_echo.c $(TLSECHO_PLATFORM) $(TLSECHO_LDLIBS) \
	    $(TC_LDFLAGS)

# porch and its TLS=0 twin, by the top-level Makefile (each make decides
# whether anything changed).
tls-porch:
	@$(MAKE) --no-print-directory -f Makefile ARCH=$(TLSECHO_ARCH) TLS=1 \
	    $(TLSECHO_PORCH)
	@$(MAKE) --no-print-directory -f Makefile ARCH=$(TLSECHO_ARCH) TLS=0 \
	    BUILD=build/$(TLSECHO_ARCH)-tls0 $(TLSECHO_PORCH_TLS0)

tls-test: $(TLSECHO_BIN) tls-porch
	$(TLSECHO_ENV) $(TLSECHO_PYTEST) -m "not testssl" tests/tls

tls-testssl: tls-porch
	@command -v testssl >/dev/null || sh toolchain/deps.sh testssl.sh
	$(TLSECHO_ENV) $(TLSECHO_PYTEST) -m testssl tests/tls

tls-cpu: tls-porch
	/usr/bin/python3 tests/tls/handshake_cpu.py \
	    --porch $(abspath $(TLSECHO_PORCH)) --memory

tls-size: $(TLSECHO_BIN) $(TLSECHO_PLAIN_BIN)
	@$(TC_STRIP) -o $(TLSECHO_BIN).stripped $(TLSECHO_BIN)
	@$(TC_STRIP) -o $(TLSECHO_PLAIN_BIN).stripped $(TLSECHO_PLAIN_BIN)
	@printf '%-8s %12s %12s %12s\n' target plain tls difference
	@p=$$(stat -c %s $(TLSECHO_PLAIN_BIN).stripped); \
	 t=$$(stat -c %s $(TLSECHO_BIN).stripped); \
	 printf '%-8s %12s %12s %12s\n' $(TC_ID) $$p $$t $$((t - p))

ifeq ($(notdir $(firstword $(MAKEFILE_LIST))),tls.mk)
.DEFAULT_GOAL := tls-test
else
.DEFAULT_GOAL := $(TLSECHO_GOAL)
endif
