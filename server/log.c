/*
 * Logging: the error log (stderr, a file or syslog, with levels) and the
 * access log (Combined Log Format to a file or syslog). Every line is one
 * write() to an O_APPEND|O_NONBLOCK descriptor or one non-blocking
 * datagram: a full disk or a stalled syslogd drops and counts the line,
 * it never blocks a request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"

#define LOG_LINE_MAX	2048

static struct {
	const char	*progname;
	char		 role[32];
	enum log_target	 error_to;
	int		 error_fd;	/* file or stderr (2) */
	int		 error_syslog;
	enum log_target	 access_to;
	int		 access_fd;
	int		 access_syslog;
	int		 min_prio;
	uint64_t	 dropped;
} lg = { "porch", "", LOGT_STDERR, 2, -1, LOGT_OFF, -1, -1, LOG_INFO, 0 };

/* What a worker's channel carries on USR1: which of the two are files. */
struct log_fds_msg {
	uint32_t	 magic;
	uint8_t		 error, access;
};
#define LOG_FDS_MAGIC	0x706c6f67	/* "plog" */

static enum log_target
target_of(const char *spec)
{
	if (spec == NULL || strcmp(spec, "off") == 0)
		return LOGT_OFF;
	if (strcmp(spec, "stderr") == 0)
		return LOGT_STDERR;
	if (strcmp(spec, "syslog") == 0)
		return LOGT_SYSLOG;
	return LOGT_FILE;
}

void
log_init(const char *progname, bool foreground)
{
	(void)foreground;
	lg.progname = progname;
	if (getenv("PORCH_DEBUG") != NULL)
		lg.min_prio = LOG_DEBUG;
}

void
log_set_role(const char *role)
{
	snprintf(lg.role, sizeof(lg.role), "%s", role);
}

/* fd takes nfd's place: the old one is closed unless it is stdio. */
static void
log_swap_fd(int *fd, int nfd)
{
	if (*fd > 2 && *fd != nfd)
		os_close(*fd);
	*fd = nfd;
}

static int
open_target(enum log_target t, const char *spec, int *fd, int *sysfd)
{
	int	 nfd;

	if (t == LOGT_FILE) {
		if ((nfd = os_open_log(spec)) == -1)
			return -1;
		log_swap_fd(fd, nfd);
	} else if (t == LOGT_SYSLOG && *sysfd == -1) {
		/* No syslogd yet is not fatal: lines are dropped and counted. */
		*sysfd = os_syslog_open();
	}
	return 0;
}

/* Opens the configured logs; -1 (errno set) with *failed the file. */
int
log_open(const struct conf *cf, const char **failed)
{
	lg.error_to = target_of(cf->error_log);
	lg.access_to = target_of(cf->access_log);
	if (lg.error_to == LOGT_STDERR)
		log_swap_fd(&lg.error_fd, 2);
	else if (lg.error_to == LOGT_SYSLOG)
		log_swap_fd(&lg.error_fd, -1);
	if (lg.access_to != LOGT_FILE)
		log_swap_fd(&lg.access_fd, -1);
	*failed = cf->error_log;
	if (open_target(lg.error_to, cf->error_log, &lg.error_fd,
	    &lg.error_syslog) == -1)
		return -1;
	*failed = cf->access_log;
	if (open_target(lg.access_to, cf->access_log, &lg.access_fd,
	    &lg.access_syslog) == -1)
		return -1;
	*failed = NULL;
	return 0;
}

/* Master, USR1: logrotate moved the files away; open them anew by name. */
void
log_reopen(const struct conf *cf)
{
	const char	*failed;

	/* A file that cannot be opened keeps its old descriptor. */
	if (log_open(cf, &failed) == -1)
		log_warn("reopening log %s", failed);
}

/* A process that writes no access log lets go of it (the launcher). */
void
log_close_access(void)
{
	log_swap_fd(&lg.access_fd, -1);
	if (lg.access_syslog != -1)
		os_close(lg.access_syslog);
	lg.access_syslog = -1;
	lg.access_to = LOGT_OFF;
}

/* Master: the log files it has open, sent to a worker over its channel. */
int
log_send_fds(int chan)
{
	struct log_fds_msg	 m = { LOG_FDS_MAGIC, 0, 0 };
	int			 fds[2], n = 0;

	if (lg.error_to == LOGT_FILE) {
		m.error = 1;
		fds[n++] = lg.error_fd;
	}
	if (lg.access_to == LOGT_FILE) {
		m.access = 1;
		fds[n++] = lg.access_fd;
	}
	return os_chan_send(chan, &m, sizeof(m), fds, n);
}

/*
 * Worker, after USR1: takes the newest files the master sent (older
 * messages, if several reopens came at once, are dropped with their
 * descriptors), and reconnects to syslog in case syslogd restarted.
 */
void
log_take_fds(int chan)
{
	struct log_fds_msg	 m;
	int			 fds[2], n, i;
	ssize_t			 len;

	for (;;) {
		n = 2;
		len = os_chan_recv(chan, &m, sizeof(m), fds, &n);
		if (len == -1 && errno == EAGAIN)
			break;
		if (len <= 0)
			return;		/* the master is gone, or a bad message */
		if ((size_t)len != sizeof(m) || m.magic != LOG_FDS_MAGIC ||
		    n != m.error + m.access) {
			for (i = 0; i < n; i++)
				os_close(fds[i]);
			continue;
		}
		i = 0;
		if (m.error)
			log_swap_fd(&lg.error_fd, fds[i++]);
		if (m.access)
			log_swap_fd(&lg.access_fd, fds[i++]);
	}
	if (lg.error_syslog != -1) {
		os_close(lg.error_syslog);
		lg.error_syslog = os_syslog_open();
	}
	if (lg.access_syslog != -1) {
		os_close(lg.access_syslog);
		lg.access_syslog = os_syslog_open();
	}
}

static void
emit(int prio, const char *fmt, va_list ap, bool with_errno)
{
	char		 msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];
	char		 stamp[32];
	struct tm	 tm;
	time_t		 now;
	int		 saved = errno, n;

	if (prio > lg.min_prio)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = (int)strlen(msg);
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(saved));
	}
	if (lg.error_to == LOGT_SYSLOG) {
		if (lg.error_syslog == -1 || os_syslog_send(lg.error_syslog,
		    LOG_DAEMON | prio, lg.progname, msg) == -1)
			lg.dropped++;
		errno = saved;
		return;
	}
	stamp[0] = '\0';
	if (lg.error_to == LOGT_FILE) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	n = snprintf(line, sizeof(line), "%s%s[%ld]%s%s: %s\n", stamp,
	    lg.progname, (long)os_getpid(), lg.role[0] ? " " : "", lg.role,
	    msg);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (os_write_all(lg.error_fd, line, (size_t)n, os_now_ms() + 100) == -1)
		lg.dropped++;
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	emit(LOG_WARNING, fmt, ap, true);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	emit(LOG_WARNING, fmt, ap, false);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	emit(LOG_INFO, fmt, ap, false);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	emit(LOG_DEBUG, fmt, ap, false);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	emit(LOG_CRIT, fmt, ap, true);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	emit(LOG_CRIT, fmt, ap, false);
	va_end(ap);
	exit(1);
}

/* Appends s to the line, escaping what could forge or break a log line. */
static size_t
put_escaped(char *out, size_t pos, size_t size, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 c;
	size_t			 i;

	for (i = 0; i < len && pos + 5 < size; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[pos++] = '\\';
			out[pos++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[pos++] = '\\';
			out[pos++] = 'x';
			out[pos++] = hex[c >> 4];
			out[pos++] = hex[c & 15];
		} else
			out[pos++] = (char)c;
	}
	return pos;
}

/* in escaped for a log line (as the access log does), into out. */
void
log_escape(const char *in, size_t len, char *out, size_t size)
{
	size_t	 n;

	if (size == 0)
		return;
	n = put_escaped(out, 0, size, in, len);
	out[n < size ? n : size - 1] = '\0';
}

static size_t
put_fmt(char *out, size_t pos, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Appends a formatted string; the result is clamped to the buffer. */
static size_t
put_fmt(char *out, size_t pos, size_t size, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (pos + 1 >= size)
		return pos;
	va_start(ap, fmt);
	n = vsnprintf(out + pos, size - pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return pos;
	return pos + (size_t)n >= size ? size - 1 : pos + (size_t)n;
}

static size_t
put_field(char *out, size_t pos, size_t size, const struct str *v)
{
	if (pos + 3 >= size)
		return pos;
	out[pos++] = '"';
	if (v == NULL || v->len == 0)
		out[pos++] = '-';
	else
		pos = put_escaped(out, pos, size, v->p, v->len);
	if (pos + 1 < size)
		out[pos++] = '"';
	return pos;
}

/*
 * Combined Log Format, plus the request id in quotes at the end:
 * host - user [time] "request" status bytes "referer" "agent" "id"
 */
void
log_access(struct conn *c, struct request *r)
{
	char		 line[LOG_LINE_MAX], stamp[40];
	struct tm	 tm;
	time_t		 t = (time_t)r->started_wall;
	size_t		 pos;

	if (lg.access_to == LOGT_OFF)
		return;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	pos = put_fmt(line, 0, sizeof(line), "%s - ", c->peer.addr);
	if (r->user[0] != '\0')	/* CLF's authuser: who logged in */
		pos = put_escaped(line, pos, sizeof(line) - 64, r->user,
		    strlen(r->user));
	else
		pos = put_fmt(line, pos, sizeof(line), "-");
	pos = put_fmt(line, pos, sizeof(line), " [%s] \"", stamp);
	if (r->head.method.len > 0) {
		pos = put_escaped(line, pos, sizeof(line), r->head.method.p,
		    r->head.method.len);
		line[pos++] = ' ';
		pos = put_escaped(line, pos, sizeof(line) - 512,
		    r->head.target.p, r->head.target.len);
		pos = put_fmt(line, pos, sizeof(line),
		    " HTTP/1.%d", r->head.minor);
	} else
		pos = put_fmt(line, pos, sizeof(line), "-");
	pos = put_fmt(line, pos, sizeof(line), "\" %d ",
	    r->status);
	if (r->body_bytes > 0)
		pos = put_fmt(line, pos, sizeof(line), "%llu ",
		    (unsigned long long)r->body_bytes);
	else
		pos = put_fmt(line, pos, sizeof(line), "- ");
	pos = put_field(line, pos, sizeof(line), r->head.nfields ?
	    http_field_get(&r->head, "Referer") : NULL);
	pos = put_fmt(line, pos, sizeof(line), " ");
	pos = put_field(line, pos, sizeof(line), r->head.nfields ?
	    http_field_get(&r->head, "User-Agent") : NULL);
	pos = put_fmt(line, pos, sizeof(line), " \"%s\"\n",
	    r->id);
	if (line[pos - 1] != '\n')
		line[pos - 1] = '\n';	/* truncated: still one line */
	if (lg.access_to == LOGT_SYSLOG) {
		line[pos - 1] = '\0';
		if (lg.access_syslog == -1 || os_syslog_send(lg.access_syslog,
		    LOG_DAEMON | LOG_INFO, lg.progname, line) == -1)
			c->w->slot->log_dropped++;
		return;
	}
	if (os_write_all(lg.access_fd, line, pos, os_now_ms()) == -1)
		c->w->slot->log_dropped++;	/* full disk: drop, count */
}
