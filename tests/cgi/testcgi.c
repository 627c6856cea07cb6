/*
 * testcgi: the C test CGI of tests/integration/test_cgi.py. The mode is
 * the first segment of PATH_INFO, its argument the second:
 *
 *	/env		the environment as a JSON object (with Content-Length)
 *	/envtext	the environment as "NAME=value" lines
 *	/sha256		reads stdin to EOF: {"length": N, "sha256": "..."}
 *	/echo		copies stdin to stdout as it comes (no Content-Length)
 *	/sleep/N	sleeps N seconds without output, then answers
 *	/fork/N		forks a child that sleeps N s, then sleeps N s itself
 *	/partial/N	answers a header and a line, then sleeps N seconds
 *	/flood		writes text until the write fails (at most 1 GiB)
 *	/stderr		two lines to stderr, then "ok"
 *	/cwd		its working directory
 *	/401		answers 401 at once, never reading stdin
 *	/slowread/MS	reads stdin 1 KiB at a time, MS ms apart; then /sha256
 *	/raw		writes the percent-decoded QUERY_STRING, exactly:
 *			any header set, bad headers, lying Content-Lengths
 *
 * Built by tests/cgi/cgi.mk into build/cgi/testcgi. Reads stdin to EOF,
 * never trusting CONTENT_LENGTH (chunked requests may not have one).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../rootfs/ui/ui.h"	/* SHA-256; http_hexval through http.h */

#define IO_CHUNK	65536
#define FLOOD_MAX	(1024L * 1024 * 1024)

extern char **environ;

/* ---- IO ------------------------------------------------------------------ */

static int
write_all(int fd, const void *buf, size_t n)
{
	const char	*p = buf;
	ssize_t		 k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void
put(const char *s)
{
	(void)write_all(1, s, strlen(s));
}

static void
sleep_ms(long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A decimal argument, or def when missing or malformed. */
static long
arg_num(const char *arg, long def)
{
	char	*end;
	long	 v;

	if (arg == NULL || *arg == '\0')
		return def;
	v = strtol(arg, &end, 10);
	return (*end == '\0' || *end == '/') && v >= 0 ? v : def;
}

/* ---- modes --------------------------------------------------------------- */

static void
json_str(char **p, char *end, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 c;

	if (*p < end)
		*(*p)++ = '"';
	for (; *s != '\0' && end - *p > 7; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			*(*p)++ = '\\';
			*(*p)++ = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			*(*p)++ = '\\';
			*(*p)++ = 'u';
			*(*p)++ = '0';
			*(*p)++ = '0';
			*(*p)++ = hex[c >> 4];
			*(*p)++ = hex[c & 15];
		} else
			*(*p)++ = (char)c;
	}
	if (*p < end)
		*(*p)++ = '"';
}

static int
mode_env(int json)
{
	static char	 body[65536];
	char		 head[128], *p = body, *end = body + sizeof(body) - 4;
	char		**e;
	const char	*eq;
	char		 name[256];
	size_t		 n;

	if (json)
		*p++ = '{';
	for (e = environ; *e != NULL; e++) {
		eq = strchr(*e, '=');
		if (eq == NULL || (size_t)(eq - *e) >= sizeof(name))
			continue;
		if (json) {
			memcpy(name, *e, (size_t)(eq - *e));
			name[eq - *e] = '\0';
			if (p > body + 1 && p < end)
				*p++ = ',';
			json_str(&p, end, name);
			if (p < end)
				*p++ = ':';
			json_str(&p, end, eq + 1);
		} else {
			n = strlen(*e);
			if ((size_t)(end - p) <= n + 1)
				break;
			memcpy(p, *e, n);
			p += n;
			*p++ = '\n';
		}
	}
	if (json) {
		*p++ = '}';
		*p++ = '\n';
	}
	snprintf(head, sizeof(head), "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n\r\n", json ? "application/json" :
	    "text/plain", (size_t)(p - body));
	put(head);
	return write_all(1, body, (size_t)(p - body)) == 0 ? 0 : 1;
}

/* Reads stdin to EOF, delay_ms between reads of at most step bytes. */
static int
mode_sha256(long delay_ms, size_t step)
{
	static unsigned char	 buf[IO_CHUNK];
	struct sha256		 s;
	unsigned char		 digest[32];
	char			 hex[65], out[256];
	ssize_t			 n;

	sha256_init(&s);
	for (;;) {
		n = read(0, buf, step < sizeof(buf) ? step : sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sha256_update(&s, buf, (size_t)n);
		if (delay_ms > 0)
			sleep_ms(delay_ms);
	}
	n = (ssize_t)s.len;
	sha256_final(&s, digest);
	sha256_hex(digest, hex);
	snprintf(out, sizeof(out), "{\"length\": %lld, \"sha256\": \"%s\"}\n",
	    (long long)n, hex);
	printf("Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n"
	    "%s", strlen(out), out);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
mode_echo(void)
{
	static char	 buf[IO_CHUNK];
	ssize_t		 n;

	put("Content-Type: application/octet-stream\r\n\r\n");
	for (;;) {
		n = read(0, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : 1;
		if (write_all(1, buf, (size_t)n) == -1)
			return 1;
	}
}

static int
mode_sleep(long secs)
{
	sleep_ms(secs * 1000);
	put("Content-Type: text/plain\r\n\r\nslept\n");
	return 0;
}

/* The child stays in our process group and keeps our stdout open. */
static int
mode_fork(long secs)
{
	pid_t	 pid = fork();

	if (pid == -1)
		return 1;
	sleep_ms(secs * 1000);
	if (pid == 0)
		_exit(0);
	put("Content-Type: text/plain\r\n\r\nslept\n");
	return 0;
}

static int
mode_partial(long secs)
{
	put("Content-Type: text/plain\r\n\r\npartial\n");
	sleep_ms(secs * 1000);
	put("late\n");
	return 0;
}

static int
mode_cwd(void)
{
	char	 dir[4096];

	if (getcwd(dir, sizeof(dir)) == NULL)
		return 1;
	printf("Content-Type: text/plain\r\n\r\n%s\n", dir);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
mode_flood(void)
{
	static char	 buf[IO_CHUNK];
	long		 sent;

	memset(buf, 'x', sizeof(buf));
	put("Content-Type: text/plain\r\n\r\n");
	for (sent = 0; sent < FLOOD_MAX; sent += (long)sizeof(buf))
		if (write_all(1, buf, sizeof(buf)) == -1)
			return 1;
	return 0;
}

static int
mode_stderr(void)
{
	fputs("testcgi stderr line one\ntestcgi stderr line two\n", stderr);
	fflush(stderr);
	put("Content-Type: text/plain\r\n\r\nok\n");
	return 0;
}

static int
mode_401(void)
{
	put("Status: 401 Unauthorized\r\n"
	    "WWW-Authenticate: Basic realm=\"testcgi\"\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: 13\r\n\r\n"
	    "unauthorized\n");
	return 0;
}

static int
mode_raw(const char *q)
{
	static char	 out[65536];
	size_t		 n = 0;
	int		 hi, lo;

	for (; *q != '\0' && n < sizeof(out); q++) {
		if (*q == '%' && (hi = http_hexval((unsigned char)q[1])) >= 0 &&
		    (lo = http_hexval((unsigned char)q[2])) >= 0) {
			out[n++] = (char)(hi << 4 | lo);
			q += 2;
		} else
			out[n++] = *q == '+' ? ' ' : *q;
	}
	return write_all(1, out, n) == 0 ? 0 : 1;
}

int
main(void)
{
	const char	*info = getenv("PATH_INFO"), *q = getenv("QUERY_STRING");
	const char	*arg;
	char		 mode[32];
	size_t		 n;

	if (info == NULL || *info != '/')
		info = "/env";
	n = strcspn(info + 1, "/");
	if (n >= sizeof(mode))
		n = sizeof(mode) - 1;
	memcpy(mode, info + 1, n);
	mode[n] = '\0';
	arg = info[1 + n] == '/' ? info + 2 + n : NULL;
	if (q == NULL)
		q = "";

	if (strcmp(mode, "env") == 0)
		return mode_env(1);
	if (strcmp(mode, "envtext") == 0)
		return mode_env(0);
	if (strcmp(mode, "sha256") == 0)
		return mode_sha256(0, IO_CHUNK);
	if (strcmp(mode, "slowread") == 0)
		return mode_sha256(arg_num(arg, 10), 1024);
	if (strcmp(mode, "echo") == 0)
		return mode_echo();
	if (strcmp(mode, "sleep") == 0)
		return mode_sleep(arg_num(arg, 30));
	if (strcmp(mode, "fork") == 0)
		return mode_fork(arg_num(arg, 30));
	if (strcmp(mode, "partial") == 0)
		return mode_partial(arg_num(arg, 30));
	if (strcmp(mode, "cwd") == 0)
		return mode_cwd();
	if (strcmp(mode, "flood") == 0)
		return mode_flood();
	if (strcmp(mode, "stderr") == 0)
		return mode_stderr();
	if (strcmp(mode, "401") == 0)
		return mode_401();
	if (strcmp(mode, "raw") == 0)
		return mode_raw(q);
	put("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\n"
	    "testcgi: unknown mode\n");
	return 0;
}
