# ui.mk: the admin UI (rootfs/ui/README.md), included by the top-level
# Makefile. Only names prefixed UI_ / ui- are defined here.
#
#	make ui [ARCH=...]	build/<arch>/www/: the web root as served:
#				rootfs/www with versioned, precompressed
#				assets and the CGI program /cgi-bin/ui
#				(host: the make-run build, -DUI_DEV)
#	make ui-unit		unit tests of the CGI's parsers (ASan, UBSan)
#	make ui-fuzz		libFuzzer over those parsers (FUZZ_SECONDS)
#	make ui-test		browser (Playwright + Chromium) and curl
#				tests against make run's configuration

# parse_uint, fmt_uint: the engine's own, from the pure HTTP code.
UI_SRCS := $(wildcard rootfs/ui/ui_*.c) http/http_parse.c
UI_HDRS := rootfs/ui/ui.h http/http.h
UI_BUILD := $(BUILD)/ui
UI_BIN := $(UI_BUILD)/ui
UI_WWW := $(BUILD)/www
UI_WWW_SRCS := $(shell find rootfs/www -type f 2>/dev/null)
# The host build is make run's: its state lives under the document
# root's parent, never in the machine's /etc.
UI_DEFS := $(if $(filter host,$(ARCH)),-DUI_DEV)

.PHONY: ui ui-unit ui-test

ui: $(UI_WWW)/.stamp

$(UI_BIN): $(UI_SRCS) $(UI_HDRS) | $(TC_STAMP)
	@mkdir -p $(@D)
	$(TC_CC) $(CSTD) $(OPT) $(WARN) $(TC_CFLAGS) $(UI_DEFS) $(CFLAGS) \
	    -o $@ $(UI_SRCS) $(TC_LDFLAGS) $(LDFLAGS) $(LIBCRYPT)
ifneq ($(TC_LDFLAGS),)
	$(TC_STRIP) $@
endif

$(UI_WWW)/.stamp: $(UI_BIN) $(UI_WWW_SRCS) rootfs/ui/install.sh
	sh rootfs/ui/install.sh rootfs/www $(UI_BIN) $(UI_WWW)
	@touch $@

UI_UNIT_BIN := build/ui-unit/test_ui
$(UI_UNIT_BIN): tests/ui/test_ui.c rootfs/ui/ui_json.c rootfs/ui/ui_parse.c \
    http/http_parse.c \
    rootfs/ui/ui_sha256.c $(UI_HDRS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -Irootfs/ui -o $@ tests/ui/test_ui.c \
	    rootfs/ui/ui_json.c rootfs/ui/ui_parse.c rootfs/ui/ui_sha256.c \
	    http/http_parse.c

ui-unit: $(UI_UNIT_BIN)
	$(UNIT_ENV) $(UI_UNIT_BIN)

ui-test: $(PORCH)
	@$(MAKE) --no-print-directory ui ARCH=host
	sh tests/browser/run.sh $(abspath $(PORCH))

# A fuzzer over the CGI's parsers (clang's libFuzzer), seeded with nothing:
# make ui-fuzz [FUZZ_SECONDS=60]
UI_FUZZ_BIN := build/ui-unit/fuzz_ui
FUZZ_SECONDS ?= 60
$(UI_FUZZ_BIN): tests/ui/fuzz_ui.c rootfs/ui/ui_json.c rootfs/ui/ui_parse.c \
    http/http_parse.c \
    $(UI_HDRS)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -Irootfs/ui -o $@ tests/ui/fuzz_ui.c \
	    rootfs/ui/ui_json.c rootfs/ui/ui_parse.c http/http_parse.c

.PHONY: ui-fuzz
ui-fuzz: $(UI_FUZZ_BIN)
	@mkdir -p build/ui-unit/fuzz-corpus
	$(UI_FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    build/ui-unit/fuzz-corpus
