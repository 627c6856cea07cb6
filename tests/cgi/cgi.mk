# The CGI tests' own programs: tests/cgi/testcgi.c, the C test CGI that
# tests/integration/test_cgi.py copies into each test's cgi-bin/.
#
#	make -f tests/cgi/cgi.mk cgi-test-progs		build/cgi/testcgi
#
# or, from the top-level Makefile: include tests/cgi/cgi.mk, and make the
# integration target depend on cgi-test-progs. The test CGI always runs
# on the host (it is exec'd by the porch under test), so it is built with
# the host's cc whatever ARCH is. Only CGITEST_ variables are defined here.

# Included early, this file must not steal the including Makefile's
# default goal; run alone, its default is "cgi-test-progs".
CGITEST_GOAL := $(.DEFAULT_GOAL)

CGITEST_DIR ?= build/cgi
CGITEST_BIN := $(CGITEST_DIR)/testcgi
CGITEST_CC ?= cc
CGITEST_CFLAGS ?= -std=c11 -Wall -Wextra -Werror -O2

.PHONY: cgi-test-progs

cgi-test-progs: $(CGITEST_BIN)

# SHA-256 and hex digits: the admin UI's and the engine's own code.
CGITEST_SRCS := tests/cgi/testcgi.c rootfs/ui/ui_sha256.c http/http_parse.c
$(CGITEST_BIN): $(CGITEST_SRCS) rootfs/ui/ui.h http/http.h tests/cgi/cgi.mk
	@mkdir -p $(@D)
	$(CGITEST_CC) $(CGITEST_CFLAGS) -o $@ $(CGITEST_SRCS)

ifeq ($(notdir $(firstword $(MAKEFILE_LIST))),cgi.mk)
.DEFAULT_GOAL := cgi-test-progs
else
.DEFAULT_GOAL := $(CGITEST_GOAL)
endif
