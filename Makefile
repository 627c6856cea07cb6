# porch: one entry point. See README.md.
#   make                      build/host/porch
#   make ARCH=armhf|aarch64|mipsel   build/<arch>/porch, static (musl)
#   make STATIC=1             build/host/porch, static with musl
#   make TLS=0                without mbedTLS
#   make run [PORT=8080]      serve the bundled admin UI on 127.0.0.1
#   make test                 every test (what CI runs)
#   make test-repeat [N=3]    the integration suite N times: what ever failed
#   make size                 porch's size per target, with and without TLS

ARCH	?= host
STATIC	?= 0
TLS	?= 1
PORT	?= 8080
SANITIZE ?= 0

include toolchain/toolchain.mk

# SANITIZE=1: ASan+UBSan build of porch for the test suite (host only).
ifeq ($(SANITIZE),1)
BUILD	?= build/$(ARCH)-sanitize
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -fno-omit-frame-pointer
endif
BUILD	?= build/$(ARCH)
PORCH	:= $(BUILD)/porch

WARN	:= -Wall -Wextra -Werror -Wshadow -Wvla -Wmissing-prototypes \
	   -Wstrict-prototypes -Wpointer-arith -Wcast-qual
CSTD	:= -std=c11 -D_GNU_SOURCE
OPT	?= $(if $(TC_CFLAGS),,-O2 -g)

SRCS	:= $(wildcard server/*.c) $(wildcard http/*.c) $(wildcard cgi/*.c) \
	   $(wildcard platform/*.c)
HDRS	:= $(wildcard server/*.h) $(wildcard http/*.h) $(wildcard cgi/*.h) \
	   $(wildcard platform/*.h) $(wildcard tls/*.h)
# TLS=0 links tls/tls_none.c (tls.h without mbedTLS) instead of the binding.
TLS_SRCS := $(filter-out tls/tls_none.c,$(wildcard tls/*.c))
ifeq ($(TLS),1)
SRCS	+= $(TLS_SRCS)
TLS_DEFS := $(MBEDTLS_CFLAGS)
TLS_LIBS := $(MBEDTLS_LIBS)
TLS_DEP	:= $(MBEDTLS_LIBS)
else
SRCS	+= tls/tls_none.c
endif

CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(TC_CFLAGS) $(SAN_FLAGS) $(TLS_DEFS) \
	     $(CFLAGS)

.PHONY: all run test unit integration clean deps size help fuzz fuzz-smoke \
	bench test-repeat

all: $(PORCH)

# Targets ship a stripped binary; porch.debug keeps the symbols.
# glibc keeps crypt(3) in libcrypt; musl has it in libc.
LIBCRYPT := $(if $(TC_LDFLAGS),,-lcrypt)

$(PORCH): $(SRCS) $(HDRS) $(TLS_DEP) | $(TC_STAMP) $(MBEDTLS_STAMP)
	@mkdir -p $(BUILD)
	$(TC_CC) $(CFLAGS_ALL) -o $@ $(SRCS) $(TLS_LIBS) $(TC_LDFLAGS) \
	    $(SAN_FLAGS) $(LDFLAGS) $(LIBCRYPT)
ifneq ($(TC_LDFLAGS),)
	cp $@ $@.debug
	$(TC_STRIP) $@
endif

$(MBEDTLS_LIBS): | $(MBEDTLS_STAMP)

# Packages the tests need, installed only when missing.
TEST_DEBS := python3-pytest curl wget apache2-utils wrk clang \
	     libclang-rt-14-dev busybox-static slowhttptest openssl file \
	     valgrind util-linux gzip
deps:
	@sh toolchain/deps.sh $(TEST_DEBS)

-include tests/unit/unit.mk
-include tests/fuzz/fuzz.mk
-include tests/tls/tls.mk
-include tests/cgi/cgi.mk
include rootfs/ui/ui.mk
include rootfs/rootfs.mk

integration: $(PORCH)
	PORCH_BIN=$(abspath $(PORCH)) PORCH_QEMU=$(TC_QEMU) \
	    /usr/bin/python3 -m pytest -q $(PYTEST_ARGS) tests/integration

# The integration suite N times (default 3), every failure of any run
# listed: proof that it does not flake. ARCH=armhf runs it under qemu-user.
N ?= 3
test-repeat: $(PORCH) deps
	PORCH_BIN=$(abspath $(PORCH)) PORCH_QEMU=$(TC_QEMU) \
	    $(if $(filter 1,$(SANITIZE)),PORCH_SANITIZE=1) \
	    N=$(N) PYTEST_ARGS="$(PYTEST_ARGS)" sh tests/repeat.sh

bench: all
	sh bench/run.sh

-include bench/bench.mk

run: $(PORCH) ui
	sh rootfs/run-dev.sh $(PORCH) $(PORT) $(UI_WWW)

test: deps
	@sh tests/run-all.sh

size:
	@for a in armhf aarch64 mipsel; do \
	    for t in 0 1; do \
		$(MAKE) --no-print-directory -s ARCH=$$a TLS=$$t \
		    BUILD=build/size/$$a-tls$$t build/size/$$a-tls$$t/porch \
		    >/dev/null || exit 1; \
	    done; \
	done
	@printf '%-8s %12s %12s\n' target "TLS=0" "TLS=1"
	@for a in armhf aarch64 mipsel; do \
	    printf '%-8s %12s %12s\n' $$a \
		$$(stat -c %s build/size/$$a-tls0/porch) \
		$$(stat -c %s build/size/$$a-tls1/porch); \
	done

clean:
	rm -rf build
