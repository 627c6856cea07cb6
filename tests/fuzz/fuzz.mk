# libFuzzer targets for the pure HTTP parser: tests/fuzz/fuzz_<name>.c,
# linked with the server sources they exercise, under ASan and UBSan.
#
#	make -f tests/fuzz/fuzz.mk fuzz-smoke	each target 20 s; fails on any
#						crash, timeout, leak or
#						sanitizer report
#	make -f tests/fuzz/fuzz.mk fuzz		each target $(FUZZ_SECONDS) s
#	make -f tests/fuzz/fuzz.mk fuzz-seed	regenerate the seed corpora
#						from the unit-test cases
#	make -f tests/fuzz/fuzz.mk fuzz-merge	fold what the last runs found
#						into the committed corpora
#
# Run from the repository root, or include from the top-level Makefile.
# "make -j3 fuzz" runs the targets side by side. Seeds live in
# tests/fuzz/corpus/<target>/ (read only here); what a run discovers goes to
# $(FUZZ_BUILD)/corpus/<target>/, crashes to $(FUZZ_BUILD)/artifacts/.
# Needs clang and libclang-rt-14-dev.
#
# Only variables prefixed FUZZ_ are defined here; each may be overridden.

# Included early, this file must not steal the including Makefile's
# default goal; run alone, its default is "fuzz-smoke".
FUZZ_GOAL := $(.DEFAULT_GOAL)

FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -std=c11 -D_GNU_SOURCE -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -Wshadow -Wvla -Ihttp -Iserver -Icgi
FUZZ_BUILD ?= build/fuzz
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_OPTS ?= -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_ENV ?= ASAN_OPTIONS=detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

FUZZ_TARGETS := fuzz_http_head fuzz_http_chunk fuzz_http_value \
	fuzz_http_cookie fuzz_http_form
FUZZ_SRC_fuzz_http_head := http/http_parse.c http/http_path.c
FUZZ_SRC_fuzz_http_chunk := http/http_parse.c
FUZZ_SRC_fuzz_http_value := http/http_value.c http/http_parse.c
FUZZ_SRC_fuzz_http_cookie := http/http_cookie.c http/http_parse.c
FUZZ_SRC_fuzz_http_form := http/http_form.c http/http_parse.c
FUZZ_OPTS_fuzz_http_head := -dict=tests/fuzz/http.dict
FUZZ_OPTS_fuzz_http_chunk := -dict=tests/fuzz/chunk.dict
FUZZ_OPTS_fuzz_http_value := -dict=tests/fuzz/value.dict -max_len=256
FUZZ_OPTS_fuzz_http_cookie := -dict=tests/fuzz/cookie.dict -max_len=1024
FUZZ_OPTS_fuzz_http_form := -dict=tests/fuzz/form.dict -max_len=1024

FUZZ_BINS := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS))
FUZZ_RUNS := $(addprefix fuzz-run-,$(FUZZ_TARGETS))
FUZZ_SMOKES := $(addprefix fuzz-smoke-,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-seed fuzz-merge $(FUZZ_RUNS) \
	$(FUZZ_SMOKES)

fuzz: $(FUZZ_RUNS)
fuzz-smoke: $(FUZZ_SMOKES)
fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD):
	mkdir -p $@

define FUZZ_RULE
$(FUZZ_BUILD)/$(1): tests/fuzz/$(1).c $(FUZZ_SRC_$(1)) http/http.h | $(FUZZ_BUILD)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ tests/fuzz/$(1).c $(FUZZ_SRC_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

# $(call FUZZ_RUN,target,seconds): the run fails on a non-zero exit (crash,
# timeout, leak, out of memory) and on any sanitizer report in its log.
define FUZZ_RUN
	@mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/artifacts
	@echo "fuzzing $(1) for $(2) s"
	@$(FUZZ_ENV) $(FUZZ_BUILD)/$(1) $(FUZZ_OPTS) $(FUZZ_OPTS_$(1)) \
		-max_total_time=$(2) \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)- \
		$(FUZZ_BUILD)/corpus/$(1) tests/fuzz/corpus/$(1) \
		>$(FUZZ_BUILD)/$(1).log 2>&1; rc=$$?; \
	if [ $$rc -ne 0 ] || grep -Eq \
	    '^==[0-9]+==(ERROR|WARNING): |runtime error:|^SUMMARY: ' \
	    $(FUZZ_BUILD)/$(1).log; then \
		tail -n 60 $(FUZZ_BUILD)/$(1).log; \
		echo "$(1): FAILED (exit $$rc), see $(FUZZ_BUILD)/$(1).log"; \
		exit 1; \
	fi; \
	grep -E '^stat::number_of_executed_units|^Done ' \
	    $(FUZZ_BUILD)/$(1).log | sed 's/^/$(1): /'
endef

$(FUZZ_RUNS): fuzz-run-%: $(FUZZ_BUILD)/%
	$(call FUZZ_RUN,$*,$(FUZZ_SECONDS))

$(FUZZ_SMOKES): fuzz-smoke-%: $(FUZZ_BUILD)/%
	$(call FUZZ_RUN,$*,$(FUZZ_SMOKE_SECONDS))

# Seeds are the unit-test inputs: each test binary writes its cases, named
# by content, when run with --seed.
fuzz-seed:
	$(MAKE) -f tests/unit/unit.mk unit-build UNIT_BUILD=$(FUZZ_BUILD)/unit
	for t in $(FUZZ_BUILD)/unit/test_*; do \
		case $$t in *.log) continue;; esac; \
		$$t --seed tests/fuzz/corpus >/dev/null || exit 1; \
	done

fuzz-merge: $(FUZZ_BINS)
	$(foreach t,$(FUZZ_TARGETS),mkdir -p $(FUZZ_BUILD)/corpus/$(t) && \
	    $(FUZZ_BUILD)/$(t) -merge=1 $(filter -max_len=%,$(FUZZ_OPTS_$(t))) \
	    tests/fuzz/corpus/$(t) $(FUZZ_BUILD)/corpus/$(t) &&) true

ifeq ($(notdir $(firstword $(MAKEFILE_LIST))),fuzz.mk)
.DEFAULT_GOAL := fuzz-smoke
else
.DEFAULT_GOAL := $(FUZZ_GOAL)
endif

# The CGI response-header parser and the config reader: two more targets,
# built and run like the others. fuzz_config links config.c with the
# platform layer it calls (and libcrypt, which os_crypt.c needs); its
# stubs for log.c live in the target.
FUZZ_TARGETS2 := fuzz_cgi_header fuzz_config
FUZZ_SRC_fuzz_cgi_header := cgi/cgi_header.c http/http_parse.c
FUZZ_SRC_fuzz_config := server/config.c server/passwd.c http/http_parse.c \
	$(wildcard platform/*.c)
FUZZ_HDR_fuzz_cgi_header := cgi/cgi.h platform/os.h http/http.h
FUZZ_HDR_fuzz_config := server/server.h cgi/cgi.h platform/os.h \
	http/http.h
FUZZ_FLAGS_fuzz_cgi_header := -Icgi
FUZZ_FLAGS_fuzz_config :=
FUZZ_LIBS_fuzz_config := -lcrypt
FUZZ_OPTS_fuzz_cgi_header := -dict=tests/fuzz/cgi_header.dict -max_len=9000
FUZZ_OPTS_fuzz_config := -dict=tests/fuzz/config.dict -max_len=8192

define FUZZ_RULE2
$(FUZZ_BUILD)/$(1): tests/fuzz/$(1).c $(FUZZ_SRC_$(1)) $(FUZZ_HDR_$(1)) | $(FUZZ_BUILD)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $(FUZZ_FLAGS_$(1)) -o $$@ tests/fuzz/$(1).c \
	    $(FUZZ_SRC_$(1)) $(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS2),$(eval $(call FUZZ_RULE2,$(t))))

FUZZ_TARGETS += $(FUZZ_TARGETS2)
FUZZ_BINS += $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS2))
FUZZ_RUNS2 := $(addprefix fuzz-run-,$(FUZZ_TARGETS2))
FUZZ_SMOKES2 := $(addprefix fuzz-smoke-,$(FUZZ_TARGETS2))

.PHONY: $(FUZZ_RUNS2) $(FUZZ_SMOKES2)

fuzz: $(FUZZ_RUNS2)
fuzz-smoke: $(FUZZ_SMOKES2)
fuzz-build: $(addprefix $(FUZZ_BUILD)/,$(FUZZ_TARGETS2))

$(FUZZ_RUNS2): fuzz-run-%: $(FUZZ_BUILD)/%
	$(call FUZZ_RUN,$*,$(FUZZ_SECONDS))

$(FUZZ_SMOKES2): fuzz-smoke-%: $(FUZZ_BUILD)/%
	$(call FUZZ_RUN,$*,$(FUZZ_SMOKE_SECONDS))
