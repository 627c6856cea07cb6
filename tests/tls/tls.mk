# The TLS binding's own tests: tests/tls/tls_echo.c, a tiny pre-fork HTTPS
# server built from tls/ and platform/ only, and the pytest suite that
# drives it with openssl and curl.
#
#	make -f tests/tls/tls.mk tls-echo	build/tls/tls_echo (host)
#	make -f tests/tls/tls.mk tls-test	build it, run tests/tls
#	make -f tests/tls/tls.mk ARCH=armhf tls-size
#		stripped tls_echo and its plain twin (-DTLS_ECHO_PLAIN: no
#		tls/, no mbedTLS) for ARCH: the difference is the cost of TLS
#
# or, from the top-level Makefile: include tests/tls/tls.mk (it uses the
# toolchain.mk variables; ARCH picks the target). Cross builds go to
# build/tls/<arch>/; tls-test runs them under TC_QEMU.
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
# platform/os_crypt.c: glibc keeps crypt(3) in libcrypt, musl in libc.
TLSECHO_LDLIBS ?= $(if $(TC_LDFLAGS),,-lcrypt)
TLSECHO_PYTEST ?= /usr/bin/python3 -m pytest -q

.PHONY: tls-echo tls-test tls-size

tls-echo: $(TLSECHO_BIN)

# The libraries' path changes with the mbedTLS config: relink then.
$(TLSECHO_BIN): tests/tls/tls_echo.c $(TLSECHO_PLATFORM) $(wildcard tls/*.c) \
    $(TLSECHO_HDRS) $(MBEDTLS_LIBS) | $(TC_STAMP) $(MBEDTLS_STAMP)
	@test -n "$(MBEDTLS_LIBS)" || { echo "tls-echo needs TLS=1"; exit 1; }
	@mkdir -p $(@D)
	$(TLSECHO_CC) $(TLSECHO_CFLAGS) -DPORCH_TLS $(MBEDTLS_CFLAGS) -o $@ \
	    tests/tls/tls_echo.c $(TLSECHO_PLATFORM) $(wildcard tls/*.c) \
	    $(MBEDTLS_LIBS) $(TLSECHO_LDLIBS) $(TC_LDFLAGS)

$(MBEDTLS_LIBS): | $(MBEDTLS_STAMP)

$(TLSECHO_PLAIN_BIN): tests/tls/tls_echo.c $(TLSECHO_PLATFORM) \
    $(TLSECHO_HDRS) | $(TC_STAMP)
	@mkdir -p $(@D)
	$(TLSECHO_CC) $(TLSECHO_CFLAGS) -DTLS_ECHO_PLAIN -o $@ \
	    tests/tls/tls_echo.c $(TLSECHO_PLATFORM) $(TLSECHO_LDLIBS) \
	    $(TC_LDFLAGS)

tls-test: $(TLSECHO_BIN)
	TLS_ECHO=$(abspath $(TLSECHO_BIN)) TLS_ECHO_QEMU=$(TC_QEMU) \
	    $(TLSECHO_PYTEST) tests/tls

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
