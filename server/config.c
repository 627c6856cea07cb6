/*
 * The configuration: a table of directives, each with its setter and
 * bounds. The file and the command line go through the same setters, so a
 * value means the same wherever it was given. Errors read
 * FILE:LINE: directive: message; the whole file is read and every error
 * reported before failing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h"

#define FIELD(x)	offsetof(struct conf, x)
#define CONF_LINE_MAX	1024

struct directive;
typedef int	(*setter)(struct conf *, const struct directive *, char **,
		    int, const char *);

struct directive {
	const char	*name;
	setter		 set;
	size_t		 field;
	uint64_t	 min, max;
	int		 nargs;		/* -N: N or more */
	const char	*args;		/* for porch -h */
	const char	*help;
};

static int	 set_uint(struct conf *, const struct directive *, char **, int,
		    const char *);
static int	 set_size(struct conf *, const struct directive *, char **, int,
		    const char *);
static int	 set_string(struct conf *, const struct directive *, char **,
		    int, const char *);
static int	 set_onoff(struct conf *, const struct directive *, char **,
		    int, const char *);
static int	 set_listen(struct conf *, const struct directive *, char **,
		    int, const char *);
static int	 set_index(struct conf *, const struct directive *, char **,
		    int, const char *);
static int	 set_mime(struct conf *, const struct directive *, char **, int,
		    const char *);
static int	 set_log(struct conf *, const struct directive *, char **, int,
		    const char *);
static int	 set_auth(struct conf *, const struct directive *, char **, int,
		    const char *);
static int	 set_path(struct conf *, const struct directive *, char **, int,
		    const char *);
static int	 set_cgi(struct conf *, const struct directive *, char **, int,
		    const char *);
static int	 set_session(struct conf *, const struct directive *, char **,
		    int, const char *);
static int	 set_body_limit(struct conf *, const struct directive *,
		    char **, int, const char *);
static int	 set_header(struct conf *, const struct directive *, char **,
		    int, const char *);
static int	 set_server_name(struct conf *, const struct directive *,
		    char **, int, const char *);
static int	 set_error_page(struct conf *, const struct directive *,
		    char **, int, const char *);
static int	 set_listing(struct conf *, const struct directive *, char **,
		    int, const char *);

static const struct directive directives[] = {
	{ "listen", set_listen, 0, 0, 0, 1, "ADDR:PORT",
	    "plain HTTP listener; [::1]:PORT for IPv6 (repeatable)" },
	{ "tls_listen", set_listen, 0, 0, 0, 1, "ADDR:PORT",
	    "HTTPS listener (repeatable; needs tls_cert and tls_key)" },
	{ "tls_cert", set_string, FIELD(tls_cert), 0, 0, 1, "FILE",
	    "certificate chain, PEM" },
	{ "tls_key", set_string, FIELD(tls_key), 0, 0, 1, "FILE",
	    "private key, PEM" },
	{ "tls_autogen", set_onoff, FIELD(tls_autogen), 0, 0, 1, "on|off",
	    "generate a self-signed ECDSA certificate when none exists "
	    "(default off)" },
	{ "tls_redirect", set_onoff, FIELD(tls_redirect), 0, 0, 1, "on|off",
	    "answer plain HTTP with a redirect to HTTPS (default off)" },
	{ "tls_handshake_timeout", set_uint, FIELD(tls_handshake_timeout), 1,
	    300, 1, "S", "seconds to complete a TLS handshake (default 10)" },
	{ "tls_ticket_lifetime", set_uint, FIELD(tls_ticket_lifetime), 0,
	    604800, 1, "S", "session ticket lifetime; 0 disables tickets "
	    "(default 86400)" },
	{ "tls_hsts", set_uint, FIELD(tls_hsts), 0, CONF_TLS_HSTS_MAX, 1, "S",
	    "Strict-Transport-Security max-age on HTTPS responses; 0 sends "
	    "none (default 0: a router reached by address must not lock "
	    "browsers out)" },
	{ "root", set_string, FIELD(root), 0, 0, 1, "DIR",
	    "document root (default " CONF_ROOT ")" },
	{ "workers", set_uint, FIELD(workers), 1, CONF_WORKERS_MAX, 1, "N",
	    "worker processes (default 2)" },
	{ "user", set_string, FIELD(user), 0, 0, 1, "NAME",
	    "run workers as this user when started as root" },
	{ "group", set_string, FIELD(group), 0, 0, 1, "NAME",
	    "run workers with this group (default: the user's)" },
	{ "cgi_user", set_string, FIELD(cgi_user), 0, 0, 1, "NAME",
	    "run CGIs as this user, apart from the workers (default: user)" },
	{ "cgi_group", set_string, FIELD(cgi_group), 0, 0, 1, "NAME",
	    "run CGIs with this group (default: cgi_user's)" },
	{ "allow_root", set_onoff, FIELD(allow_root), 0, 0, 1, "on|off",
	    "let workers run as root without a user (default off)" },
	{ "index", set_index, 0, 0, 0, -1, "FILE...",
	    "index files of a directory (default index.html)" },
	{ "header_timeout", set_uint, FIELD(header_timeout), 1, 3600, 1, "S",
	    "seconds to receive a whole request head (default 10)" },
	{ "keepalive_timeout", set_uint, FIELD(keepalive_timeout), 0, 3600, 1,
	    "S", "seconds an idle connection is kept (default 5; 0 disables)" },
	{ "keepalive_requests", set_uint, FIELD(keepalive_requests), 1, 1000000,
	    1, "N", "requests per connection (default 100)" },
	{ "io_timeout", set_uint, FIELD(io_timeout), 1, 3600, 1, "S",
	    "seconds without progress reading a body or writing (default 30)" },
	{ "linger_timeout", set_uint, FIELD(linger_timeout), 0, 60, 1, "S",
	    "seconds to drain input after an early close (default 2)" },
	{ "stop_timeout", set_uint, FIELD(stop_timeout), 0, 3600, 1, "S",
	    "deadline of a graceful stop, then workers are killed (default 10)" },
	{ "max_requests_per_worker", set_uint, FIELD(max_requests_per_worker),
	    0, UINT32_MAX, 1, "N",
	    "recycle a worker after N requests (default 0: never)" },
	{ "max_body_size", set_size, FIELD(max_body_size), 0,
	    UINT64_C(1) << 40, 1, "BYTES",
	    "largest request body, k/M/G suffixes (default 1M)" },
	{ "max_head_size", set_size, FIELD(max_head_size), 256,
	    CONF_MAX_HEAD_SIZE_MAX, 1, "BYTES",
	    "largest request head (default 16k)" },
	{ "max_target_size", set_size, FIELD(max_target_size), 16,
	    CONF_MAX_TARGET_SIZE_MAX, 1, "BYTES", "longest request-target (default 8k)" },
	{ "max_header_fields", set_uint, FIELD(max_header_fields), 1,
	    CONF_MAX_HEADER_FIELDS_MAX, 1, "N", "most header fields (default 64)" },
	{ "max_field_size", set_size, FIELD(max_field_size), 16,
	    CONF_MAX_HEAD_SIZE_MAX, 1, "BYTES",
	    "longest header field line (default 4k)" },
	{ "backlog", set_uint, FIELD(backlog), 1, 65535, 1, "N",
	    "listen backlog (default 1024)" },
	{ "cache_max_age", set_uint, FIELD(cache_max_age), 0, 31536000, 1, "S",
	    "Cache-Control max-age of static files (default 0: no-cache)" },
	{ "pressure_grace", set_uint, FIELD(pressure_grace), 1, 10000, 1, "MS",
	    "under pool pressure, ms a new connection has to send its head "
	    "(default 5)" },
	{ "pressure_slice", set_uint, FIELD(pressure_slice), 1, 60000, 1, "MS",
	    "under pool pressure, ms a busy keep-alive connection keeps its "
	    "worker (default 3)" },
	{ "pressure_idle", set_uint, FIELD(pressure_idle), 1, 60000, 1, "MS",
	    "under pool pressure, ms an idle keep-alive connection waits for "
	    "its next request before it is closed (default 50)" },
	{ "pressure_io", set_uint, FIELD(pressure_io), 1, 60000, 1, "MS",
	    "under pool pressure, ms a body read or a response write may go "
	    "without progress (default 20)" },
	{ "pressure_handshake", set_uint, FIELD(pressure_handshake), 1, 60000,
	    1, "MS", "under pool pressure, ms the rest of a TLS handshake (and "
	    "the first request after it) may take (default 200)" },
	{ "pressure_wait", set_uint, FIELD(pressure_wait), 1, 60000, 1, "MS",
	    "under pool pressure, ms within which the workers' turns should "
	    "reach every queued connection; a short queue lets busy "
	    "connections keep their worker longer than pressure_slice "
	    "(default 40)" },
	{ "gzip_static", set_onoff, FIELD(gzip_static), 0, 0, 1, "on|off",
	    "serve FILE.gz to clients accepting gzip (default on)" },
	{ "auth", set_auth, 0, 0, 0, 3, "PREFIX REALM PASSWORD_FILE",
	    "HTTP Basic auth for paths under PREFIX; file of user:crypt-hash "
	    "lines (repeatable)" },
	{ "cgi", set_cgi, FIELD(cgi), 0, 0, 1, "PREFIX",
	    "run files under PREFIX (e.g. /cgi-bin/) as CGI/1.1 (repeatable)" },
	{ "cgi_ext", set_cgi, FIELD(cgi_ext), 0, 0, 1, ".EXT",
	    "run files named *.EXT as CGI (repeatable)" },
	{ "cgi_timeout", set_uint, FIELD(cgi_timeout), 1, 3600, 1, "S",
	    "kill a CGI that produces no output for S seconds (default 30)" },
	{ "cgi_continue_wait", set_uint, FIELD(cgi_continue_wait), 0, 10000, 1,
	    "MS", "time a CGI has to answer before 100 Continue (default 100)" },
	{ "status_path", set_path, FIELD(status_path), 0, 0, 1, "PATH|off",
	    "JSON server status, loopback clients only "
	    "(default " CONF_STATUS_PATH ")" },
	{ "mime_type", set_mime, 0, 0, 0, 2, "EXT TYPE",
	    "add or override a MIME type (repeatable)" },
	{ "session", set_session, 0, 0, 0, 2, "PREFIX PASSWORD_FILE",
	    "cookie sessions guard PREFIX; file as for auth (repeatable)" },
	{ "session_api", set_path, FIELD(session_api), 0, 0, 1, "PATH",
	    "POST logs in, GET tells the session, DELETE logs out "
	    "(default " CONF_SESSION_API ")" },
	{ "session_login", set_path, FIELD(session_login), 0, 0, 1, "PATH",
	    "where a page navigation without a session is sent "
	    "(default " CONF_SESSION_LOGIN ")" },
	{ "session_idle", set_uint, FIELD(session_idle), 1, 86400, 1, "S",
	    "a session ends after S seconds without a request (default 900)" },
	{ "session_lifetime", set_uint, FIELD(session_lifetime), 1, 604800, 1,
	    "S", "a session ends S seconds after its login (default 28800)" },
	{ "body_limit", set_body_limit, 0, 0, UINT64_C(1) << 40, 2,
	    "PREFIX BYTES", "largest request body under PREFIX, k/M/G "
	    "suffixes; the longest prefix wins (repeatable)" },
	{ "header", set_header, 0, 0, 0, -3, "PREFIX NAME VALUE...",
	    "add a response field under PREFIX (repeatable)" },
	{ "server_name", set_server_name, 0, 0, 0, -1, "NAME...",
	    "the Host names allowed, besides the address reached (421 "
	    "otherwise; default: any)" },
	{ "error_page", set_error_page, 0, 400, 599, 2, "STATUS FILE",
	    "HTML body of an error status, read with the configuration "
	    "(repeatable)" },
	{ "listing", set_listing, 0, 0, 0, 1, "PREFIX",
	    "list directories without an index under PREFIX (repeatable)" },
	{ "access_log", set_log, FIELD(access_log), 0, 0, 1, "FILE|syslog|off",
	    "access log, Combined Log Format (default off)" },
	{ "error_log", set_log, FIELD(error_log), 0, 0, 1,
	    "FILE|syslog|stderr", "error log (default stderr)" },
	{ "pid_file", set_string, FIELD(pid_file), 0, 0, 1, "FILE",
	    "write the master's pid here" },
};

#define NDIRECTIVES	(sizeof(directives) / sizeof(directives[0]))

static void
conf_error(const char *where, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Once porch serves, errors (of a reload) go to the error log. */
static bool	 errors_to_log;

/* Relative paths mean relative to where porch was started, even after
 * -d moved it to "/" and on every reload. */
static char	 start_dir[CONN_PATH_MAX];

void
conf_errors_to_log(void)
{
	errors_to_log = true;
}

static void
conf_error(const char *where, const char *name, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errors_to_log)
		log_warnx("%s: %s%s%s", where, name ? name : "",
		    name ? ": " : "", msg);
	else
		fprintf(stderr, "%s: %s%s%s\n", where, name ? name : "",
		    name ? ": " : "", msg);
}

static const char *
conf_strdup(struct conf *cf, const char *s);

/* A file name made absolute against the start directory. */
static const char *
conf_path(struct conf *cf, const char *s)
{
	char	 abs[2 * CONN_PATH_MAX];

	if (s[0] == '/' || start_dir[0] == '\0')
		return conf_strdup(cf, s);
	if (snprintf(abs, sizeof(abs), "%s/%s", start_dir, s) >=
	    (int)sizeof(abs))
		return NULL;
	return conf_strdup(cf, abs);
}

static const char *
conf_strdup(struct conf *cf, const char *s)
{
	size_t	 n = strlen(s) + 1;
	char	*p;

	if (n > sizeof(cf->strings) - cf->strings_used)
		return NULL;
	p = cf->strings + cf->strings_used;
	memcpy(p, s, n);
	cf->strings_used += n;
	return p;
}

struct conf *
conf_new(void)
{
	struct conf	*cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return NULL;
	cf->root = CONF_ROOT;
	cf->workers = CONF_WORKERS;
	cf->header_timeout = CONF_HEADER_TIMEOUT;
	cf->keepalive_timeout = CONF_KEEPALIVE_TIMEOUT;
	cf->keepalive_requests = CONF_KEEPALIVE_REQUESTS;
	cf->io_timeout = CONF_IO_TIMEOUT;
	cf->linger_timeout = CONF_LINGER_TIMEOUT;
	cf->stop_timeout = CONF_STOP_TIMEOUT;
	cf->max_requests_per_worker = CONF_MAX_REQUESTS_PER_WORKER;
	cf->max_body_size = CONF_MAX_BODY_SIZE;
	cf->max_head_size = CONF_MAX_HEAD_SIZE;
	cf->max_target_size = CONF_MAX_TARGET_SIZE;
	cf->max_header_fields = CONF_MAX_HEADER_FIELDS;
	cf->max_field_size = CONF_MAX_FIELD_SIZE;
	cf->backlog = CONF_BACKLOG;
	cf->cache_max_age = CONF_CACHE_MAX_AGE;
	cf->pressure_grace = CONF_PRESSURE_GRACE;
	cf->pressure_slice = CONF_PRESSURE_SLICE;
	cf->pressure_idle = CONF_PRESSURE_IDLE;
	cf->pressure_io = CONF_PRESSURE_IO;
	cf->pressure_wait = CONF_PRESSURE_WAIT;
	cf->gzip_static = true;
	cf->access_log = "off";
	cf->status_path = CONF_STATUS_PATH;
	cf->cgi_timeout = CONF_CGI_TIMEOUT;
	cf->tls_handshake_timeout = CONF_TLS_HANDSHAKE_TIMEOUT;
	cf->tls_ticket_lifetime = CONF_TLS_TICKET_LIFETIME;
	cf->tls_hsts = CONF_TLS_HSTS;
	cf->pressure_handshake = CONF_PRESSURE_HANDSHAKE;
	cf->cgi_continue_wait = CONF_CGI_CONTINUE_WAIT;
	cf->session_api = CONF_SESSION_API;
	cf->session_login = CONF_SESSION_LOGIN;
	cf->session_idle = CONF_SESSION_IDLE;
	cf->session_lifetime = CONF_SESSION_LIFETIME;
	cf->error_log = "stderr";
	return cf;
}

void
conf_free(struct conf *cf)
{
	size_t	 i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nerror_page; i++)
		free(cf->error_page[i].body);
	free(cf);
}

static void *
field_ptr(struct conf *cf, const struct directive *d)
{
	return (char *)cf + d->field;
}

static int
set_uint(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	uint64_t	 v;

	(void)ac;
	if (parse_uint(av[0], strlen(av[0]), d->max, &v) == -1 || v < d->min) {
		conf_error(where, d->name, "expected %llu to %llu, got \"%s\"",
		    (unsigned long long)d->min, (unsigned long long)d->max,
		    av[0]);
		return -1;
	}
	*(unsigned *)field_ptr(cf, d) = (unsigned)v;
	return 0;
}

/* Bytes with an optional k, M or G suffix (powers of 1024). */
static int
set_size(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	size_t		 len = strlen(av[0]);
	uint64_t	 v, mult = 1;

	(void)ac;
	if (len > 0) {
		switch (av[0][len - 1]) {
		case 'k': case 'K': mult = 1024; len--; break;
		case 'm': case 'M': mult = 1024 * 1024; len--; break;
		case 'g': case 'G': mult = 1024 * 1024 * 1024; len--; break;
		}
	}
	if (parse_uint(av[0], len, d->max / mult, &v) == -1 ||
	    v * mult < d->min) {
		conf_error(where, d->name,
		    "expected a size from %llu to %llu bytes, got \"%s\"",
		    (unsigned long long)d->min, (unsigned long long)d->max,
		    av[0]);
		return -1;
	}
	if (d->field == FIELD(max_body_size))
		cf->max_body_size = v * mult;
	else
		*(unsigned *)field_ptr(cf, d) = (unsigned)(v * mult);
	return 0;
}

static int
set_string(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	const char	*s;

	(void)ac;
	if (d->field == FIELD(user) || d->field == FIELD(group) ||
	    d->field == FIELD(cgi_user) || d->field == FIELD(cgi_group) ||
	    d->field == FIELD(status_path) || strcmp(av[0], "syslog") == 0 ||
	    strcmp(av[0], "stderr") == 0 || strcmp(av[0], "off") == 0)
		s = conf_strdup(cf, av[0]);
	else
		s = conf_path(cf, av[0]);
	if (s == NULL) {
		conf_error(where, d->name, "configuration too large");
		return -1;
	}
	*(const char **)field_ptr(cf, d) = s;
	return 0;
}

static int
set_onoff(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	(void)ac;
	if (strcmp(av[0], "on") != 0 && strcmp(av[0], "off") != 0) {
		conf_error(where, d->name, "expected on or off, got \"%s\"",
		    av[0]);
		return -1;
	}
	*(bool *)field_ptr(cf, d) = strcmp(av[0], "on") == 0;
	return 0;
}

static int
set_listen(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	struct conf_listen	*l;
	size_t			 i;

	(void)ac;
	if (cf->nlisten == CONF_LISTEN_MAX) {
		conf_error(where, d->name, "more than %d listeners",
		    CONF_LISTEN_MAX);
		return -1;
	}
	l = &cf->listen[cf->nlisten];
	if (os_addr_parse(av[0], &l->addr) == -1) {
		conf_error(where, d->name,
		    "expected ADDR:PORT, [IPV6]:PORT or PORT, got \"%s\"", av[0]);
		return -1;
	}
	for (i = 0; i < cf->nlisten; i++)
		if (os_addr_equal(&cf->listen[i].addr, &l->addr)) {
			conf_error(where, d->name, "duplicate listener \"%s\"",
			    av[0]);
			return -1;
		}
	l->tls = strcmp(d->name, "tls_listen") == 0;
	if (l->tls && !tls_available()) {
		conf_error(where, d->name, "porch was built without TLS "
		    "(make TLS=0)");
		return -1;
	}
	cf->nlisten++;
	return 0;
}

static int
set_index(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	int	 i;

	if (ac > CONF_INDEX_MAX) {
		conf_error(where, d->name, "more than %d index files",
		    CONF_INDEX_MAX);
		return -1;
	}
	cf->nindex = 0;
	for (i = 0; i < ac; i++) {
		if (strchr(av[i], '/') != NULL || av[i][0] == '.') {
			conf_error(where, d->name,
			    "\"%s\" must be a plain file name", av[i]);
			return -1;
		}
		if ((cf->index[i] = conf_strdup(cf, av[i])) == NULL) {
			conf_error(where, d->name, "configuration too large");
			return -1;
		}
		cf->nindex++;
	}
	return 0;
}

static int
set_mime(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	struct conf_mime	*m;

	(void)ac;
	if (cf->nmime == CONF_MIME_MAX) {
		conf_error(where, d->name, "more than %d types", CONF_MIME_MAX);
		return -1;
	}
	if (strchr(av[1], '/') == NULL || strpbrk(av[1], "\r\n") != NULL) {
		conf_error(where, d->name, "\"%s\" is not a type/subtype",
		    av[1]);
		return -1;
	}
	m = &cf->mime[cf->nmime];
	m->ext = conf_strdup(cf, av[0][0] == '.' ? av[0] + 1 : av[0]);
	m->type = conf_strdup(cf, av[1]);
	if (m->ext == NULL || m->type == NULL) {
		conf_error(where, d->name, "configuration too large");
		return -1;
	}
	cf->nmime++;
	return 0;
}

static int
set_log(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	bool	 error_log = d->field == FIELD(error_log);

	if (strcmp(av[0], "off") == 0 && error_log) {
		conf_error(where, d->name, "the error log cannot be off; "
		    "use stderr or syslog");
		return -1;
	}
	if (strcmp(av[0], "stderr") == 0 && !error_log) {
		conf_error(where, d->name, "expected FILE, syslog or off");
		return -1;
	}
	return set_string(cf, d, av, ac, where);
}

struct passwd_report {
	const char	*file, *where, *name;
};

static void
conf_bad_password(int line, struct str user, const char *why, void *arg)
{
	const struct passwd_report	*pr = arg;

	conf_error(pr->where, pr->name, "%s:%d: user \"%.*s\": %s; accepted "
	    "are $6$ (SHA-512), $5$ (SHA-256) and $2b$ (bcrypt) crypt(3) "
	    "hashes", pr->file, line, (int)(user.len < 64 ? user.len : 64),
	    user.p, why);
}

/* Every entry of a password file must be usable: say which are not. */
static int
conf_check_passwords(const char *file, const char *where, const char *name)
{
	static char		 data[AUTH_FILE_MAX];
	struct passwd_report	 pr = { file, where, name };
	struct os_stat		 st;

	if (os_read_small_file(file, data, sizeof(data), &st) == -1) {
		conf_error(where, name, "%s: %s", file, errno == EFBIG ?
		    "larger than 8 KiB" : strerror(errno));
		return -1;
	}
	return passwd_check(data, conf_bad_password, &pr) > 0 ? -1 : 0;
}

static int
set_auth(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	struct conf_auth	*a;
	const char		*p;

	(void)ac;
	if (cf->nauth == CONF_AUTH_MAX) {
		conf_error(where, d->name, "more than %d auth prefixes",
		    CONF_AUTH_MAX);
		return -1;
	}
	if (av[0][0] != '/') {
		conf_error(where, d->name, "prefix \"%s\" must start with /",
		    av[0]);
		return -1;
	}
	for (p = av[1]; *p != '\0'; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
			conf_error(where, d->name, "realm may not contain "
			    "quotes, backslashes or control characters");
			return -1;
		}
	a = &cf->auth[cf->nauth];
	a->prefix = conf_strdup(cf, av[0]);
	a->realm = conf_strdup(cf, av[1]);
	a->file = conf_path(cf, av[2]);
	if (a->prefix == NULL || a->realm == NULL || a->file == NULL) {
		conf_error(where, d->name, "configuration too large");
		return -1;
	}
	if (os_readable_file(a->file) == -1) {
		conf_error(where, d->name, "%s: %s", a->file, strerror(errno));
		return -1;
	}
	if (conf_check_passwords(a->file, where, d->name) == -1)
		return -1;
	cf->nauth++;
	return 0;
}

static int
set_cgi(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	bool		 ext = d->field == FIELD(cgi_ext);
	const char	**list = ext ? cf->cgi_ext : cf->cgi;
	size_t		*n = ext ? &cf->ncgi_ext : &cf->ncgi;

	(void)ac;
	if (*n == CONF_CGI_MAX) {
		conf_error(where, d->name, "more than %d", CONF_CGI_MAX);
		return -1;
	}
	if (ext ? (av[0][0] != '.' || av[0][1] == '\0' ||
	    strchr(av[0], '/') != NULL) : av[0][0] != '/') {
		conf_error(where, d->name, ext ? "expected .EXT, got \"%s\"" :
		    "prefix \"%s\" must start with /", av[0]);
		return -1;
	}
	if ((list[*n] = conf_strdup(cf, av[0])) == NULL) {
		conf_error(where, d->name, "configuration too large");
		return -1;
	}
	(*n)++;
	return 0;
}

/* An absolute URL path prefix, stored. NULL (reported) when it is not. */
static const char *
conf_prefix(struct conf *cf, const struct directive *d, const char *s,
    const char *where)
{
	const char	*p;

	if (s[0] != '/') {
		conf_error(where, d->name, "prefix \"%s\" must start with /", s);
		return NULL;
	}
	if ((p = conf_strdup(cf, s)) == NULL)
		conf_error(where, d->name, "configuration too large");
	return p;
}

/* A small FNV-1a hash: which password file a session belongs to. */
static uint64_t
conf_hash(const char *s)
{
	uint64_t	 h = UINT64_C(14695981039346656037);

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

static int
set_session(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	struct conf_session	*se;

	(void)ac;
	if (cf->nsession == CONF_SESSION_MAX) {
		conf_error(where, d->name, "more than %d session prefixes",
		    CONF_SESSION_MAX);
		return -1;
	}
	se = &cf->session[cf->nsession];
	if ((se->prefix = conf_prefix(cf, d, av[0], where)) == NULL)
		return -1;
	if ((se->file = conf_path(cf, av[1])) == NULL) {
		conf_error(where, d->name, "configuration too large");
		return -1;
	}
	if (os_readable_file(se->file) == -1) {
		conf_error(where, d->name, "%s: %s", se->file, strerror(errno));
		return -1;
	}
	if (conf_check_passwords(se->file, where, d->name) == -1)
		return -1;
	se->realm = conf_hash(se->file);
	cf->nsession++;
	return 0;
}

static int
set_body_limit(struct conf *cf, const struct directive *d, char **av,
    int ac, const char *where)
{
	struct conf_body_limit	*bl;
	struct directive	 size = *d;
	uint64_t		 saved = cf->max_body_size;

	(void)ac;
	if (cf->nbody_limit == CONF_BODY_LIMIT_MAX) {
		conf_error(where, d->name, "more than %d", CONF_BODY_LIMIT_MAX);
		return -1;
	}
	bl = &cf->body_limit[cf->nbody_limit];
	if ((bl->prefix = conf_prefix(cf, d, av[0], where)) == NULL)
		return -1;
	/* The one size parser, through a field it restores. */
	size.field = FIELD(max_body_size);
	if (set_size(cf, &size, av + 1, 1, where) == -1)
		return -1;
	bl->bytes = cf->max_body_size;
	cf->max_body_size = saved;
	cf->nbody_limit++;
	return 0;
}

/* Fields porch writes itself: no header directive may set them. */
static bool
header_reserved(const char *name)
{
	static const char *const reserved[] = { "Content-Length",
	    "Transfer-Encoding", "Connection", "Keep-Alive", "Date", "Server",
	    "X-Request-Id", "Content-Type", "Set-Cookie", "Location",
	    "Content-Encoding", "Content-Range", "ETag", "Last-Modified",
	    "WWW-Authenticate", "Retry-After", "Allow", "Upgrade", "Trailer",
	    "Strict-Transport-Security" };
	size_t		 i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(name, reserved[i]) == 0)
			return true;
	return false;
}

static int
set_header(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	struct conf_header	*h;
	char			 value[CONF_LINE_MAX];
	const char		*p;
	size_t			 n = 0, k;
	int			 i;

	if (cf->nheader == CONF_HEADER_MAX) {
		conf_error(where, d->name, "more than %d", CONF_HEADER_MAX);
		return -1;
	}
	for (p = av[1]; *p != '\0'; p++)
		if (!http_is_tchar((unsigned char)*p)) {
			conf_error(where, d->name, "\"%s\" is not a field name",
			    av[1]);
			return -1;
		}
	if (header_reserved(av[1])) {
		conf_error(where, d->name, "%s is porch's to write", av[1]);
		return -1;
	}
	/* The value's words, joined by one space (the line was split). */
	for (i = 2; i < ac; i++) {
		k = strlen(av[i]);
		if (n + k + 2 > sizeof(value)) {
			conf_error(where, d->name, "value too long");
			return -1;
		}
		if (n > 0)
			value[n++] = ' ';
		memcpy(value + n, av[i], k);
		n += k;
	}
	value[n] = '\0';
	for (p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			conf_error(where, d->name, "control byte in the value");
			return -1;
		}
	h = &cf->header[cf->nheader];
	if ((h->prefix = conf_prefix(cf, d, av[0], where)) == NULL)
		return -1;
	h->name = conf_strdup(cf, av[1]);
	h->value = conf_strdup(cf, value);
	if (h->name == NULL || h->value == NULL) {
		conf_error(where, d->name, "configuration too large");
		return -1;
	}
	cf->nheader++;
	return 0;
}

/* A host name (RFC 1123 labels) or an IP literal ([v6] bracketed). */
static bool
server_name_valid(const char *s)
{
	const char	*p;

	if (*s == '\0' || strlen(s) > 253)
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-.[]:", *p) != NULL))
			return false;
	return true;
}

static int
set_server_name(struct conf *cf, const struct directive *d, char **av,
    int ac, const char *where)
{
	int	 i;

	for (i = 0; i < ac; i++) {
		if (cf->nserver_name == CONF_SERVER_NAME_MAX) {
			conf_error(where, d->name, "more than %d names",
			    CONF_SERVER_NAME_MAX);
			return -1;
		}
		if (!server_name_valid(av[i])) {
			conf_error(where, d->name, "\"%s\" is not a host name "
			    "or an address", av[i]);
			return -1;
		}
		if ((cf->server_name[cf->nserver_name] = conf_strdup(cf,
		    av[i])) == NULL) {
			conf_error(where, d->name, "configuration too large");
			return -1;
		}
		cf->nserver_name++;
	}
	return 0;
}

static int
set_error_page(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	struct conf_error_page	*ep;
	struct os_stat		 st;
	const char		*path;
	char			*small;
	uint64_t		 status;
	ssize_t			 n;

	(void)ac;
	if (cf->nerror_page == CONF_ERROR_PAGE_MAX) {
		conf_error(where, d->name, "more than %d", CONF_ERROR_PAGE_MAX);
		return -1;
	}
	if (parse_uint(av[0], strlen(av[0]), d->max, &status) == -1 ||
	    status < d->min) {
		conf_error(where, d->name, "expected a status from %llu to "
		    "%llu, got \"%s\"", (unsigned long long)d->min,
		    (unsigned long long)d->max, av[0]);
		return -1;
	}
	ep = &cf->error_page[cf->nerror_page];
	if ((path = conf_path(cf, av[1])) == NULL ||
	    (ep->body = malloc(ERROR_PAGE_MAX)) == NULL) {
		conf_error(where, d->name, "configuration too large");
		return -1;
	}
	if ((n = os_read_small_file(path, ep->body, ERROR_PAGE_MAX, &st)) ==
	    -1) {
		conf_error(where, d->name, "%s: %s", path, errno == EFBIG ?
		    "larger than 16 KiB" : strerror(errno));
		free(ep->body);
		ep->body = NULL;
		return -1;
	}
	/* Workers hold every page: keep what it is, not what it may be. */
	if ((small = realloc(ep->body, n > 0 ? (size_t)n : 1)) != NULL)
		ep->body = small;
	ep->len = (size_t)n;
	ep->status = (int)status;
	cf->nerror_page++;
	return 0;
}

static int
set_listing(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	(void)ac;
	if (cf->nlisting == CONF_LISTING_MAX) {
		conf_error(where, d->name, "more than %d", CONF_LISTING_MAX);
		return -1;
	}
	if ((cf->listing[cf->nlisting] = conf_prefix(cf, d, av[0], where)) ==
	    NULL)
		return -1;
	cf->nlisting++;
	return 0;
}

/* An absolute URL path, or "off". */
static int
set_path(struct conf *cf, const struct directive *d, char **av, int ac,
    const char *where)
{
	if (av[0][0] != '/' && strcmp(av[0], "off") != 0) {
		conf_error(where, d->name, "expected /PATH or off, got \"%s\"",
		    av[0]);
		return -1;
	}
	return set_string(cf, d, av, ac, where);
}

static const struct directive *
directive_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NDIRECTIVES; i++)
		if (strcmp(directives[i].name, name) == 0)
			return &directives[i];
	return NULL;
}

static int
apply(struct conf *cf, char **av, int ac, const char *where)
{
	const struct directive	*d;

	if ((d = directive_find(av[0])) == NULL) {
		conf_error(where, NULL, "unknown directive \"%s\"", av[0]);
		return -1;
	}
	if ((d->nargs < 0 && ac - 1 < -d->nargs) ||
	    (d->nargs >= 0 && ac - 1 != d->nargs)) {
		conf_error(where, d->name, "expected %s", d->args);
		return -1;
	}
	return d->set(cf, d, av + 1, ac - 1, where);
}

/* The command line's form of a directive: one name, one value string. */
int
conf_set(struct conf *cf, const char *name, const char *value,
    const char *where)
{
	char	 copy[CONF_LINE_MAX];
	char	*av[CONF_WORDS_MAX], *p;
	int	 ac = 0;

	if (snprintf(copy, sizeof(copy), "%s %s", name, value) >=
	    (int)sizeof(copy)) {
		conf_error(where, name, "value too long");
		return -1;
	}
	for (p = strtok(copy, " \t"); p != NULL && ac < CONF_WORDS_MAX;
	    p = strtok(NULL, " \t"))
		av[ac++] = p;
	if (p != NULL) {
		conf_error(where, name, "too many values");
		return -1;
	}
	return apply(cf, av, ac, where);
}

/* Splits a line into words; '#' starts a comment. -1: too many words. */
static int
split_line(char *line, char **av, int max)
{
	char	*p;
	int	 ac = 0;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	for (p = strtok(line, " \t\r\n"); p != NULL; p = strtok(NULL, " \t\r\n")) {
		if (ac == max)
			return -1;
		av[ac++] = p;
	}
	return ac;
}

int
conf_load(struct conf *cf, const char *path)
{
	char	 where[512];
	char	*av[CONF_WORDS_MAX], *line = NULL;
	FILE	*fp;
	int	 ac, lineno = 0, errors = 0;
	size_t	 cap = 0;
	ssize_t	 len;

	if ((fp = fopen(path, "re")) == NULL) {
		conf_error(path, NULL, "%s", strerror(errno));
		return -1;
	}
	cf->file = conf_strdup(cf, path);
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (len > CONF_LINE_MAX) {
			conf_error(where, NULL, "line longer than %d bytes",
			    CONF_LINE_MAX);
			errors++;
			continue;
		}
		/* A NUL would end the line early for every string function. */
		if (memchr(line, '\0', (size_t)len) != NULL) {
			conf_error(where, NULL, "NUL byte in the line");
			errors++;
			continue;
		}
		if ((ac = split_line(line, av, CONF_WORDS_MAX)) == -1) {
			conf_error(where, av[0], "too many values");
			errors++;
			continue;
		}
		if (ac > 0 && apply(cf, av, ac, where) == -1)
			errors++;
		if (errors >= CONF_ERRORS_MAX) {
			fprintf(stderr, "%s: too many errors\n", path);
			break;
		}
	}
	if (ferror(fp)) {
		conf_error(path, NULL, "%s", strerror(errno));
		errors++;
	}
	free(line);
	fclose(fp);
	return errors ? -1 : 0;
}

bool
conf_has_tls(const struct conf *cf)
{
	size_t	 i;

	for (i = 0; i < cf->nlisten; i++)
		if (cf->listen[i].tls)
			return true;
	return false;
}

/*
 * Checks what only the whole configuration can tell: a listener exists,
 * the root is a directory, the user exists, log files can be opened.
 */
int
conf_finish(struct conf *cf, const char *where)
{
	unsigned	 uid, gid;
	int		 errors = 0;

	if (cf->nindex == 0) {
		cf->index[0] = "index.html";
		cf->nindex = 1;
	}
	if (cf->nlisten == 0) {
		conf_error(where, NULL, "no listener: give -l ADDR:PORT or a "
		    "listen directive");
		errors++;
	}
	if (os_is_dir(cf->root) == -1 || os_realpath(cf->root, cf->root_abs,
	    sizeof(cf->root_abs)) == -1) {
		conf_error(where, "root", "%s: %s", cf->root, strerror(errno));
		errors++;
	}
	if (cf->user != NULL && os_lookup_user(cf->user, &uid, &gid) == -1) {
		conf_error(where, "user", "no such user \"%s\"", cf->user);
		errors++;
	}
	if (cf->group != NULL && os_lookup_group(cf->group, &gid) == -1) {
		conf_error(where, "group", "no such group \"%s\"", cf->group);
		errors++;
	}
	if (cf->group != NULL && cf->user == NULL) {
		conf_error(where, "group", "needs a user directive too");
		errors++;
	}
	if (cf->cgi_user != NULL && os_lookup_user(cf->cgi_user, &uid, &gid)
	    == -1) {
		conf_error(where, "cgi_user", "no such user \"%s\"",
		    cf->cgi_user);
		errors++;
	}
	if (cf->cgi_group != NULL && os_lookup_group(cf->cgi_group, &gid) ==
	    -1) {
		conf_error(where, "cgi_group", "no such group \"%s\"",
		    cf->cgi_group);
		errors++;
	}
	if (cf->cgi_group != NULL && cf->cgi_user == NULL) {
		conf_error(where, "cgi_group", "needs a cgi_user directive too");
		errors++;
	}
	if (cf->cgi_user != NULL && cf->user == NULL) {
		conf_error(where, "cgi_user", "needs a user directive too (the "
		    "workers' own identity)");
		errors++;
	}
	if (conf_has_tls(cf) && (cf->tls_cert == NULL || cf->tls_key == NULL)) {
		conf_error(where, "tls_listen", "needs tls_cert and tls_key");
		errors++;
	} else if (conf_has_tls(cf) && !cf->tls_autogen &&
	    (os_readable_file(cf->tls_cert) == -1 ||
	    os_readable_file(cf->tls_key) == -1)) {
		conf_error(where, "tls_cert", "%s: %s (or set tls_autogen on)",
		    os_readable_file(cf->tls_cert) == -1 ? cf->tls_cert :
		    cf->tls_key, strerror(errno));
		errors++;
	}
	if (cf->tls_redirect && !conf_has_tls(cf)) {
		conf_error(where, "tls_redirect", "needs a tls_listen");
		errors++;
	}
	if (cf->max_field_size > cf->max_head_size)
		cf->max_field_size = cf->max_head_size;
	if (cf->session_lifetime < cf->session_idle) {
		conf_error(where, "session_lifetime", "%u s is shorter than "
		    "session_idle (%u s)", cf->session_lifetime,
		    cf->session_idle);
		errors++;
	}
	return errors ? -1 : 0;
}

/*
 * The file, then the command line, then the whole-configuration checks.
 * NULL after every error has been reported.
 */
struct conf *
conf_build(const char *path, const struct conf_override *ov, size_t nov)
{
	struct conf	*cf;
	size_t		 i;
	int		 errors = 0;

	if (start_dir[0] == '\0' && os_getcwd(start_dir, sizeof(start_dir)) ==
	    -1)
		start_dir[0] = '\0';
	if ((cf = conf_new()) == NULL) {
		fprintf(stderr, "porch: out of memory\n");
		return NULL;
	}
	if (path != NULL && conf_load(cf, path) == -1) {
		if (cf->file == NULL) {		/* unreadable: nothing more */
			conf_free(cf);
			return NULL;
		}
		errors++;
	}
	for (i = 0; i < nov; i++)
		if (conf_set(cf, ov[i].name, ov[i].value, "command line") == -1)
			errors++;
	if (conf_finish(cf, path ? path : "porch") == -1)
		errors++;
	if (errors) {
		conf_free(cf);
		return NULL;
	}
	return cf;
}

void
conf_usage(void)
{
	size_t	 i;

	fprintf(stderr,
	    "usage: porch [-dht] [-c FILE] [-l ADDR:PORT] [-r DIR] [-w N]\n"
	    "             [-o 'DIRECTIVE VALUE']\n"
	    "       porch --gen-cert CERT KEY [NAME|ADDR]...\n"
	    "  -c FILE   read configuration from FILE\n"
	    "  -d        daemonize (default: stay in the foreground)\n"
	    "  -h        this help\n"
	    "  -l ADDR   add a plain listener, e.g. 127.0.0.1:8080, [::1]:8080\n"
	    "  -o 'D V'  set directive D to V, after the file\n"
	    "  -r DIR    document root\n"
	    "  -t        check the configuration (and the TLS certificate) "
	    "and exit\n"
	    "  -w N      worker processes\n"
	    "  --gen-cert CERT KEY [NAME|ADDR]...\n"
	    "            write a new ECDSA P-256 key (mode 0600) and a\n"
	    "            self-signed certificate for these host names and IP\n"
	    "            addresses (default: this host's name and addresses),\n"
	    "            valid 825 days, each file replaced atomically; exit\n"
	    "signals to the master: HUP reload, TERM graceful stop, "
	    "INT immediate stop, USR1 reopen logs\n"
	    "directives (config file: one per line, '#' comments):\n");
	for (i = 0; i < NDIRECTIVES; i++)
		fprintf(stderr, "  %-24s %-18s %s\n", directives[i].name,
		    directives[i].args, directives[i].help);
}
