# porch: one entry point. `make` builds build/host/porch; `make run` serves
# the bundled admin UI; `make test` runs every test. See README.md.

ARCH	?= host
STATIC	?= 0
TLS	?= 0
PORT	?= 8080

BUILD	:= build/$(ARCH)
PORCH	:= $(BUILD)/porch

WARN	:= -Wall -Wextra -Werror -Wshadow -Wvla -Wmissing-prototypes \
	   -Wstrict-prototypes -Wpointer-arith -Wcast-qual
CSTD	:= -std=c11 -D_GNU_SOURCE

SRCS	:= $(wildcard server/*.c) $(wildcard platform/*.c)
HDRS	:= $(wildcard server/*.h) $(wildcard platform/*.h)

ifeq ($(ARCH),host)
ifeq ($(STATIC),0)
CC	:= cc
OPT	?= -O2 -g
LDFLAGS_T :=
STRIP	:= strip
endif
endif

-include toolchain/toolchain.mk

ifneq ($(TC_CC),)
CC	:= $(TC_CC)
OPT	?= -Os
LDFLAGS_T := $(TC_LDFLAGS)
STRIP	:= $(TC_STRIP)
endif

CFLAGS_ALL := $(CSTD) $(OPT) $(WARN) $(TC_CFLAGS) $(CFLAGS)

.PHONY: all run test unit integration clean deps help

all: $(PORCH)

$(PORCH): $(SRCS) $(HDRS) | $(TC_STAMP)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -o $@ $(SRCS) $(LDFLAGS_T) $(LDFLAGS)

# Packages that the tests need, installed only when missing.
TEST_DEBS := python3-pytest curl wget apache2-utils wrk clang \
	     libclang-rt-14-dev
deps:
	@sh toolchain/deps.sh $(TEST_DEBS)

-include tests/unit/unit.mk

integration: $(PORCH) deps
	PORCH_BIN=$(abspath $(PORCH)) /usr/bin/python3 -m pytest -q \
	    tests/integration

run: $(PORCH)
	sh rootfs/run-dev.sh $(PORCH) $(PORT)

test: deps
	@sh tests/run-all.sh

clean:
	rm -rf build
