# Unit tests: one binary per tests/unit/test_<stem>.c, linked with the
# server/<stem>.c it tests (plus the sources that one needs), built under
# ASan and UBSan into build/unit/ and run.
#
#	make -f tests/unit/unit.mk unit		(from the repository root)
#
# or, from the top-level Makefile: include tests/unit/unit.mk
# The last line printed is the total over all binaries: "N passed, N failed";
# the exit status is non-zero on any failure, including a binary that
# crashed before printing its own summary.
#
# Only variables prefixed UNIT_ are defined here; each may be overridden.

# Included early, this file must not steal the including Makefile's
# default goal; run alone, its default is "unit".
UNIT_GOAL := $(.DEFAULT_GOAL)

UNIT_CC ?= clang
UNIT_CFLAGS ?= -std=c11 -D_GNU_SOURCE -g -O1 \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -Wshadow -Wvla -Ihttp -Iserver -Icgi
UNIT_BUILD ?= build/unit
UNIT_ENV ?= ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

UNIT_TESTS := $(sort $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c)))
UNIT_BINS := $(addprefix $(UNIT_BUILD)/,$(UNIT_TESTS))
UNIT_HEADERS := tests/unit/unit.h http/http.h cgi/cgi.h server/server.h

# The sources each test links: <dir>/<stem>.c of http/, cgi/ or server/ by
# default; a test of a file that uses another adds it here.
UNIT_SRC_test_http_value := http/http_value.c http/http_parse.c
UNIT_SRC_test_http_path := http/http_path.c http/http_parse.c
UNIT_SRC_test_http_basic := http/http_basic.c http/http_parse.c
UNIT_SRC_test_http_cookie := http/http_cookie.c http/http_parse.c
UNIT_SRC_test_http_form := http/http_form.c http/http_parse.c
UNIT_SRC_test_cgi_env := cgi/cgi_env.c http/http_parse.c http/http_cookie.c
UNIT_SRC_test_cgi_header := cgi/cgi_header.c http/http_parse.c
UNIT_SRC_test_os_io := platform/os_io.c platform/os_time.c \
	platform/os_signal.c
UNIT_SRC_test_passwd := server/passwd.c http/http_parse.c
UNIT_SRC = $(or $(UNIT_SRC_$(1)),$(firstword $(wildcard \
	$(addsuffix /$(patsubst test_%,%,$(1)).c,http cgi server))))

.PHONY: unit unit-build

unit-build: $(UNIT_BINS)

$(UNIT_BUILD):
	mkdir -p $@

define UNIT_RULE
$(UNIT_BUILD)/$(1): tests/unit/$(1).c $(call UNIT_SRC,$(1)) $(UNIT_HEADERS) | $(UNIT_BUILD)
	$$(UNIT_CC) $$(UNIT_CFLAGS) -o $$@ tests/unit/$(1).c $(call UNIT_SRC,$(1))
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call UNIT_RULE,$(t))))

# Runs every binary even after a failure, then prints the total.
unit: $(UNIT_BINS)
	@pass=0; fail=0; \
	for t in $(UNIT_BINS); do \
		log=$$t.log; \
		$(UNIT_ENV) $$t >$$log 2>&1; rc=$$?; \
		last=$$(tail -n 1 $$log); \
		p=$$(printf '%s\n' "$$last" | \
		    sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$$/\1/p'); \
		f=$$(printf '%s\n' "$$last" | \
		    sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$$/\2/p'); \
		if [ -z "$$p" ]; then \
			p=0; f=1; cat $$log; \
			echo "$$t: exit status $$rc, no summary (crashed?)"; \
		elif [ $$rc -ne 0 ] || [ $$f -ne 0 ]; then \
			cat $$log; \
			[ $$f -ne 0 ] || f=1; \
		else \
			sed '$$d' $$log; \
			echo "$$t: $$last"; \
		fi; \
		pass=$$((pass + p)); fail=$$((fail + f)); \
	done; \
	echo "$$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

ifeq ($(notdir $(firstword $(MAKEFILE_LIST))),unit.mk)
.DEFAULT_GOAL := unit
else
.DEFAULT_GOAL := $(UNIT_GOAL)
endif
