/*
 * libFuzzer target: the configuration reader. The input is a config file:
 * it is written to a memfd and read through /proc/self/fd/N by conf_load(),
 * as porch -c reads a file, then checked whole by conf_finish(). The first
 * lines are also given as command-line directives (conf_set, porch -o).
 *
 * Besides the sanitizers it checks what the rest of porch relies on: a
 * failure is always reported (FILE:LINE: for a line of the file) and a
 * success never is; every value stays within the bounds its buffers and
 * loops assume, whatever the file said or failed to say; every string is
 * NUL-terminated inside the configuration's own string store or a default.
 * A violation is a crash.
 *
 * Error messages go to stderr through stdio; here the stdio stream is
 * swapped for one that keeps them for the checks (fd 2 stays libFuzzer's
 * and the sanitizers'). The log functions config.c links against are
 * stubbed below: only a reload sends errors to the log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server.h"

#define MSG_MAX		(256 * 1024)
#define CMDLINE_LINES	8

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 msgs[MSG_MAX];		/* what went to stderr, truncated */
static size_t	 msgs_len;		/* bytes kept in msgs */
static size_t	 msgs_total;		/* bytes written, kept or not */
static int	 memfd = -1;
static char	 path[64];
static FILE	*real_stderr;		/* libFuzzer's, for check failures */

/* A violated check: says which line, then crashes for libFuzzer. */
#define FAIL()		fail(__LINE__)

static void fail(int) __attribute__((noreturn));

static void
fail(int line)
{
	fprintf(real_stderr, "fuzz_config.c:%d: check failed; the messages:\n"
	    "%s\n", line, msgs);
	fflush(real_stderr);
	__builtin_trap();
}

/* ---- stubs for log.c -------------------------------------------------- */

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
fatal(const char *fmt, ...)
{
	(void)fmt;
	abort();		/* the config reader must never exit */
}

void
fatalx(const char *fmt, ...)
{
	(void)fmt;
	abort();
}

/* ---- stub for tls.h: config.c asks it whether tls_listen is allowed -- */

bool
tls_available(void)
{
	return true;
}

/* ---- stderr capture ----------------------------------------------------- */

static ssize_t
capture_write(void *cookie, const char *buf, size_t n)
{
	size_t	 keep = n;

	(void)cookie;
	if (keep > sizeof(msgs) - 1 - msgs_len)
		keep = sizeof(msgs) - 1 - msgs_len;
	memcpy(msgs + msgs_len, buf, keep);
	msgs_len += keep;
	msgs[msgs_len] = '\0';
	msgs_total += n;
	return (ssize_t)n;
}

static void
capture_reset(void)
{
	fflush(stderr);
	msgs_len = msgs_total = 0;
	msgs[0] = '\0';
}

static size_t
capture_mark(void)
{
	fflush(stderr);
	return msgs_total;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cookie_io_functions_t	 io = { .write = capture_write };
	FILE			*fp;
	struct conf		*cf;

	(void)argc;
	(void)argv;
	if ((fp = fopencookie(NULL, "w", io)) == NULL)
		abort();
	setvbuf(fp, NULL, _IOLBF, 0);
	real_stderr = stderr;
	stderr = fp;
	if ((memfd = memfd_create("fuzz_config", MFD_CLOEXEC)) == -1)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	/* conf_build() records the start directory once, so relative paths
	 * below are made absolute as in porch; it fails: no listener. */
	if ((cf = conf_build(NULL, NULL, 0)) != NULL)
		conf_free(cf);
	capture_reset();
	return 0;
}

/* ---- checks --------------------------------------------------------------- */

/* NULL, a default, or a NUL-terminated string in the store. */
static void
check_string(const struct conf *cf, const char *s)
{
	const char	*store = cf->strings;

	if (s == NULL)
		return;
	if (s >= store && s < store + sizeof(cf->strings)) {
		if (s >= store + cf->strings_used ||
		    memchr(s, '\0', (size_t)(store + cf->strings_used - s)) ==
		    NULL)
			FAIL();
		return;
	}
	/* a default: a string literal of config.c */
	if (strlen(s) > 64)
		FAIL();
}

static void
check_in(uint64_t v, uint64_t min, uint64_t max, int line)
{
	if (v < min || v > max)
		fail(line);
}
#define CHECK_IN(v, min, max)	check_in((v), (min), (max), __LINE__)

/* What the buffers, arrays and loops of porch assume of any conf. */
static void
check_conf(const struct conf *cf)
{
	size_t	 i;

	if (cf->strings_used > sizeof(cf->strings) ||
	    cf->nlisten > CONF_LISTEN_MAX || cf->nindex > CONF_INDEX_MAX ||
	    cf->ncgi > CONF_CGI_MAX || cf->ncgi_ext > CONF_CGI_MAX ||
	    cf->nauth > CONF_AUTH_MAX || cf->nmime > CONF_MIME_MAX ||
	    cf->nsession > CONF_SESSION_MAX ||
	    cf->nbody_limit > CONF_BODY_LIMIT_MAX ||
	    cf->nheader > CONF_HEADER_MAX ||
	    cf->nserver_name > CONF_SERVER_NAME_MAX ||
	    cf->nerror_page > CONF_ERROR_PAGE_MAX ||
	    cf->nlisting > CONF_LISTING_MAX)
		FAIL();
	CHECK_IN(cf->session_idle, 1, 86400);
	CHECK_IN(cf->session_lifetime, 1, 604800);
	CHECK_IN(cf->workers, 1, CONF_WORKERS_MAX);
	CHECK_IN(cf->header_timeout, 1, 3600);
	CHECK_IN(cf->io_timeout, 1, 3600);
	CHECK_IN(cf->keepalive_timeout, 0, 3600);
	CHECK_IN(cf->keepalive_requests, 1, 1000000);
	CHECK_IN(cf->linger_timeout, 0, 60);
	CHECK_IN(cf->max_head_size, 256, CONF_MAX_HEAD_SIZE_MAX);
	CHECK_IN(cf->max_target_size, 16, CONF_MAX_TARGET_SIZE_MAX);
	CHECK_IN(cf->max_header_fields, 1, CONF_MAX_HEADER_FIELDS_MAX);
	CHECK_IN(cf->max_field_size, 16, CONF_MAX_HEAD_SIZE_MAX);
	CHECK_IN(cf->max_body_size, 0, UINT64_C(1) << 40);
	CHECK_IN(cf->backlog, 1, 65535);
	CHECK_IN(cf->pressure_grace, 1, 10000);
	CHECK_IN(cf->pressure_slice, 1, 60000);
	CHECK_IN(cf->pressure_idle, 1, 60000);
	CHECK_IN(cf->cgi_timeout, 1, 3600);
	CHECK_IN(cf->cgi_continue_wait, 0, 10000);
	CHECK_IN(cf->tls_handshake_timeout, 1, 300);
	check_string(cf, cf->file);
	check_string(cf, cf->root);
	check_string(cf, cf->user);
	check_string(cf, cf->group);
	check_string(cf, cf->status_path);
	check_string(cf, cf->tls_cert);
	check_string(cf, cf->tls_key);
	check_string(cf, cf->access_log);
	check_string(cf, cf->error_log);
	check_string(cf, cf->pid_file);
	if (cf->root == NULL || cf->access_log == NULL ||
	    cf->error_log == NULL || cf->status_path == NULL)
		FAIL();
	for (i = 0; i < cf->nindex; i++) {
		check_string(cf, cf->index[i]);
		if (cf->index[i] == NULL || cf->index[i][0] == '\0' ||
		    cf->index[i][0] == '.' || strchr(cf->index[i], '/'))
			FAIL();
	}
	for (i = 0; i < cf->ncgi; i++)
		if (cf->cgi[i] == NULL || cf->cgi[i][0] != '/')
			FAIL();
	for (i = 0; i < cf->ncgi_ext; i++)
		if (cf->cgi_ext[i] == NULL || cf->cgi_ext[i][0] != '.' ||
		    cf->cgi_ext[i][1] == '\0')
			FAIL();
	for (i = 0; i < cf->nauth; i++) {
		check_string(cf, cf->auth[i].prefix);
		check_string(cf, cf->auth[i].realm);
		check_string(cf, cf->auth[i].file);
		if (cf->auth[i].prefix[0] != '/' ||
		    strpbrk(cf->auth[i].realm, "\"\\\r\n") != NULL)
			FAIL();
	}
	check_string(cf, cf->session_api);
	check_string(cf, cf->session_login);
	if (cf->session_api == NULL || cf->session_login == NULL)
		FAIL();
	for (i = 0; i < cf->nsession; i++) {
		check_string(cf, cf->session[i].prefix);
		check_string(cf, cf->session[i].file);
		if (cf->session[i].prefix[0] != '/')
			FAIL();
	}
	for (i = 0; i < cf->nbody_limit; i++) {
		check_string(cf, cf->body_limit[i].prefix);
		if (cf->body_limit[i].prefix[0] != '/')
			FAIL();
		CHECK_IN(cf->body_limit[i].bytes, 0, UINT64_C(1) << 40);
	}
	/* a header line porch writes: a token name, a value without CR/LF */
	for (i = 0; i < cf->nheader; i++) {
		check_string(cf, cf->header[i].prefix);
		check_string(cf, cf->header[i].name);
		check_string(cf, cf->header[i].value);
		if (cf->header[i].prefix[0] != '/' ||
		    cf->header[i].name[0] == '\0' ||
		    strpbrk(cf->header[i].name, ": \t\r\n") != NULL ||
		    strpbrk(cf->header[i].value, "\r\n") != NULL)
			FAIL();
	}
	for (i = 0; i < cf->nserver_name; i++) {
		check_string(cf, cf->server_name[i]);
		if (cf->server_name[i][0] == '\0')
			FAIL();
	}
	for (i = 0; i < cf->nerror_page; i++) {
		CHECK_IN(cf->error_page[i].status, 400, 599);
		CHECK_IN(cf->error_page[i].len, 0, ERROR_PAGE_MAX);
		if (cf->error_page[i].body == NULL)
			FAIL();
	}
	for (i = 0; i < cf->nlisting; i++) {
		check_string(cf, cf->listing[i]);
		if (cf->listing[i][0] != '/')
			FAIL();
	}
	for (i = 0; i < cf->nmime; i++) {
		check_string(cf, cf->mime[i].ext);
		check_string(cf, cf->mime[i].type);
		if (strchr(cf->mime[i].type, '/') == NULL ||
		    strpbrk(cf->mime[i].type, "\r\n") != NULL)
			FAIL();
	}
	for (i = 0; i < cf->nlisten; i++)
		if (cf->listen[i].addr.family != 4 &&
		    cf->listen[i].addr.family != 6)
			FAIL();
}

static void
check_finished(const struct conf *cf)
{
	check_conf(cf);
	if (cf->nlisten == 0 || cf->nindex == 0 ||
	    cf->max_field_size > cf->max_head_size ||
	    cf->root_abs[0] != '/' ||
	    memchr(cf->root_abs, '\0', sizeof(cf->root_abs)) == NULL)
		FAIL();
	if (conf_has_tls(cf) && (cf->tls_cert == NULL || cf->tls_key == NULL))
		FAIL();
}

/*
 * Every message of the file names it: "PATH:LINE: " or "PATH: ", LINE a
 * line of the file. lines is 0 when the input has a NUL byte: conf_load()
 * measures a line with strlen(), so a NUL in a line longer than its buffer
 * makes the rest of that line a line of its own and numbers after it run
 * one ahead (reported; not what this target is here to find again).
 */
static void
check_messages(size_t lines)
{
	const char	*p = msgs, *eol;
	size_t		 plen = strlen(path);
	unsigned long	 n;
	char		*end;

	for (; *p != '\0'; p = eol + 1) {
		if ((eol = strchr(p, '\n')) == NULL)
			return;		/* truncated */
		if (strncmp(p, path, plen) != 0 || p[plen] != ':')
			FAIL();
		if (p[plen + 1] == ' ')
			continue;
		errno = 0;
		n = strtoul(p + plen + 1, &end, 10);
		if (errno != 0 || end[0] != ':' || end[1] != ' ' || n == 0 ||
		    (lines > 0 && n > lines))
			FAIL();
	}
}

/* ---- the target ------------------------------------------------------------ */

static void
write_file(const uint8_t *data, size_t size)
{
	if (ftruncate(memfd, 0) == -1 ||
	    (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t)size))
		abort();
}

/* Lines of the file; 0 when it has a NUL byte (see check_messages). */
static size_t
count_lines(const uint8_t *data, size_t size)
{
	size_t	 i, n = 0;

	for (i = 0; i < size; i++) {
		if (data[i] == '\0')
			return 0;
		if (data[i] == '\n')
			n++;
	}
	return n + 1;
}

static void
fuzz_file(const uint8_t *data, size_t size)
{
	struct conf	*cf;
	size_t		 before;
	int		 rc;

	write_file(data, size);
	capture_reset();
	if ((cf = conf_new()) == NULL)
		abort();
	rc = conf_load(cf, path);
	if ((rc == -1) != (capture_mark() > 0))
		FAIL();	/* failed silently, or spoke and passed */
	if (rc != 0 && rc != -1)
		FAIL();
	check_messages(count_lines(data, size));
	check_conf(cf);
	before = capture_mark();
	rc = conf_finish(cf, "fuzz");
	if ((rc == -1) != (capture_mark() > before))
		FAIL();
	if (rc == 0)
		check_finished(cf);
	else
		check_conf(cf);
	conf_free(cf);
}

/*
 * The first lines as "-o 'NAME VALUE'" directives on a fresh conf, split
 * as main.c splits them: NAME is non-empty and ends at the first space,
 * tab or '='.
 */
static void
fuzz_cmdline(const uint8_t *data, size_t size)
{
	char		 line[2048];
	struct conf	*cf;
	const uint8_t	*p = data, *end = data + size, *eol;
	size_t		 n, before;
	int		 i, rc;

	capture_reset();
	if ((cf = conf_new()) == NULL)
		abort();
	for (i = 0; i < CMDLINE_LINES && p < end; i++, p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		n = (size_t)(eol - p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		n = strcspn(line, " \t=");
		if (n == 0 || line[n] == '\0')
			continue;		/* main.c refuses it */
		line[n] = '\0';
		before = capture_mark();
		rc = conf_set(cf, line, line + n + 1, "command line");
		if ((rc == -1) != (capture_mark() > before) ||
		    (rc != 0 && rc != -1))
			FAIL();
		if (rc == -1 && before < msgs_len &&
		    strncmp(msgs + before, "command line: ", 14) != 0)
			FAIL();
		check_conf(cf);
	}
	conf_free(cf);
	capture_reset();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_file(data, size);
	fuzz_cmdline(data, size);
	return 0;
}
