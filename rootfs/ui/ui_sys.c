/*
 * The UI's CGIs and the system: where state lives, files written whole,
 * the system log, the answer on stdout, the request body on stdin.
 *
 * The system root is "/" on the device. The host build (UI_DEV, used by
 * make run and the browser tests) takes it from the document root's
 * parent, the throw-away state directory, and refuses to run when that
 * is "/": make run never changes the machine it runs on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ui.h"

char	 ui_root[PATH_MAX];

bool
ui_is_dev(void)
{
#ifdef UI_DEV
	return true;
#else
	return false;
#endif
}

/* 0, or -1 when the system root cannot be known. */
int
ui_root_init(void)
{
#ifdef UI_DEV
	const char	*dr = getenv("DOCUMENT_ROOT");
	char		 real[PATH_MAX], *slash;

	if (dr == NULL || realpath(dr, real) == NULL)
		return -1;
	if ((slash = strrchr(real, '/')) == NULL || slash == real)
		return -1;	/* the parent would be "/": the real machine */
	*slash = '\0';
	if (strlen(real) >= sizeof(ui_root))
		return -1;
	strcpy(ui_root, real);
#else
	ui_root[0] = '\0';
#endif
	return 0;
}

int
ui_path(char *out, size_t size, const char *rel)
{
	int	 n = snprintf(out, size, "%s%s", ui_root, rel);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
ui_read_abs(const char *path, char *buf, size_t size, size_t *len)
{
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (got + 1 < size) {
		n = read(fd, buf + got, size - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return 0;
}

int
ui_read_file(const char *rel, char *buf, size_t size, size_t *len)
{
	char	 path[PATH_MAX];

	if (ui_path(path, sizeof(path), rel) == -1)
		return -1;
	return ui_read_abs(path, buf, size, len);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Written whole or not at all: a power cut leaves the old file or the
 * new one. */
int
ui_write_file(const char *rel, const char *data, size_t len, unsigned mode)
{
	char	 path[PATH_MAX], real[PATH_MAX], tmp[PATH_MAX + 16], *dir;
	int	 fd, dfd, saved;

	if (ui_path(path, sizeof(path), rel) == -1)
		return -1;
	/* A symlink is followed: rename() would replace the link itself. */
	if (realpath(path, real) == NULL) {
		if (errno != ENOENT)
			return -1;
		strcpy(real, path);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.ui-tmp", real) >= (int)sizeof(tmp))
		return -1;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return -1;
	if (write_all(fd, data, len) == -1 || fchmod(fd, mode) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	close(fd);
	if (rename(tmp, real) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	/* The rename itself reaches the disk with its directory. */
	if ((dir = strrchr(real, '/')) != NULL) {
		*dir = '\0';
		if ((dfd = open(real[0] ? real : "/", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) != -1) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}

void
ui_log(const char *fmt, ...)
{
	va_list		 ap;
	char		 msg[512], line[640], path[PATH_MAX], stamp[32];
	const char	*user = getenv("REMOTE_USER"),
			*addr = getenv("REMOTE_ADDR");
	time_t		 now = time(NULL);
	struct tm	 tm;
	int		 fd, n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!ui_is_dev()) {
		openlog("porch-ui", LOG_PID, LOG_DAEMON);
		syslog(LOG_NOTICE, "%s (user %s from %s)", msg,
		    user ? user : "-", addr ? addr : "-");
		closelog();
		return;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s porch-ui[%d]: %s (user %s from %s)\n",
	    stamp, (int)getpid(), msg, user ? user : "-", addr ? addr : "-");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (ui_path(path, sizeof(path), "/var/log/messages") == -1 ||
	    (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1)
		return;
	(void)write_all(fd, line, (size_t)n);
	close(fd);
}

int
ui_run_dir(char *out, size_t size, const char *name)
{
	char		 dir[PATH_MAX];
	struct stat	 st;

	if (ui_path(dir, sizeof(dir), "/tmp/porch-ui") == -1)
		return -1;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	/* /tmp is everyone's: the directory must be ours alone. */
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		errno = EPERM;
		return -1;
	}
	if (snprintf(out, size, "%s/%s", dir, name) >= (int)size)
		return -1;
	return 0;
}

int
ui_random(void *p, size_t n)
{
	ssize_t	 r;
	char	*c = p;

	while (n > 0) {
		r = getrandom(c, n, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Internal Server Error";
	}
}

void
ui_reply(int status, const char *json, size_t len)
{
	char	 head[256];
	int	 n;

	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: %zu\r\n\r\n", status, reason(status), len + 1);
	if (write_all(1, head, (size_t)n) == 0 && write_all(1, json, len) == 0)
		(void)write_all(1, "\n", 1);
}

void
ui_error(int status, const char *message)
{
	char		 buf[512];
	struct jw	 j;

	jw_init(&j, buf, sizeof(buf));
	jw_raw(&j, "{");
	jw_key(&j, "error");
	jw_cstr(&j, message);
	jw_raw(&j, "}");
	ui_reply(status, buf, jw_len(&j));
}

int
ui_read_body(struct ui_req *r)
{
	const char	*ct = getenv("CONTENT_TYPE"), *cl = getenv("CONTENT_LENGTH");
	uint64_t	 want = UI_BODY_MAX + 1;
	ssize_t		 n;

	if (ct == NULL || strncmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))
		return 415;
	if (cl != NULL && parse_uint(cl, strlen(cl), UINT64_MAX, &want) == -1)
		return 400;
	if (want > UI_BODY_MAX)
		return 413;
	r->bodylen = 0;
	while (r->bodylen < want) {
		n = read(0, r->body + r->bodylen, UI_BODY_MAX + 1 - r->bodylen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return 400;
		if (n == 0)
			break;
		r->bodylen += (size_t)n;
		if (r->bodylen > UI_BODY_MAX)
			return 413;
	}
	if (cl != NULL && r->bodylen != want)
		return 400;
	r->body[r->bodylen] = '\0';
	return 0;
}

bool
ui_must_change(void)
{
	char	 path[PATH_MAX];

	return ui_path(path, sizeof(path),
	    "/etc/porch/password-must-change") == 0 && access(path, F_OK) == 0;
}
