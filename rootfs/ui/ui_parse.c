/*
 * What the UI's CGIs read, checked: user input (host names, passwords),
 * kernel files (/proc), the password file, porch's status answer and the
 * firmware checker's answer. Pure: every parser takes a buffer and a
 * length and never reads past it.
 */
#include <string.h>

#include "ui.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool
ui_hostname_valid(const char *s, size_t len)
{
	size_t	 i, start = 0;
	bool	 numeric = true;

	if (len == 0 || len > UI_HOSTNAME_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			/* empty label, or '-' at either end of one */
			if (i == start || s[start] == '-' || s[i - 1] == '-')
				return false;
			if (i < len) {
				start = i + 1;
				numeric = true;
			}
			continue;
		}
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
		if (!is_digit(s[i]))
			numeric = false;
	}
	/* "10.0.0.1" or "1234" would read as an address */
	return !numeric;
}

const char *
ui_password_problem(const char *pw, size_t len)
{
	size_t	 i, chars = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pw[i];

		if (c < 0x20 || c == 0x7f)
			return "The password may not contain control characters.";
		if ((c & 0xc0) != 0x80)
			chars++;	/* UTF-8: count characters, not bytes */
	}
	if (chars < UI_PASSWORD_MIN)
		return "The new password is too short: use at least 8 characters.";
	if (len > UI_PASSWORD_MAX)
		return "The new password is too long: use at most 128 bytes.";
	return NULL;
}

/* The line at *p (up to '\n' or end); advances *p past it. */
static size_t
next_line(const char **p, const char *end, const char **line)
{
	const char	*nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t		 n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);

	*line = *p;
	*p = nl ? nl + 1 : end;
	return n;
}

int
parse_uptime(const char *buf, size_t len, uint64_t *secs)
{
	size_t	 i = 0;

	while (i < len && is_digit(buf[i]))
		i++;
	if (i == len || (buf[i] != '.' && buf[i] != ' '))
		return -1;
	return parse_uint(buf, i, UINT64_MAX, secs);
}

int
parse_loadavg(const char *buf, size_t len, char out[3][16])
{
	size_t	 i = 0, s, k;
	int	 n;

	for (n = 0; n < 3; n++) {
		s = i;
		while (i < len && is_digit(buf[i]))
			i++;
		if (i == s || i >= len || buf[i] != '.')
			return -1;
		i++;
		k = i;
		while (i < len && is_digit(buf[i]))
			i++;
		if (i == k || i - s >= 16 || i >= len || buf[i] != ' ')
			return -1;
		memcpy(out[n], buf + s, i - s);
		out[n][i - s] = '\0';
		i++;
	}
	return 0;
}

/* "Name:   1234 kB" lines; value of name, or -1. */
static int
meminfo_field(const char *buf, size_t len, const char *name, uint64_t *v)
{
	const char	*p = buf, *end = buf + len, *line;
	size_t		 n, nl = strlen(name), i, s;

	while (p < end) {
		n = next_line(&p, end, &line);
		if (n <= nl || memcmp(line, name, nl) != 0 || line[nl] != ':')
			continue;
		i = nl + 1;
		while (i < n && line[i] == ' ')
			i++;
		s = i;
		while (i < n && is_digit(line[i]))
			i++;
		return parse_uint(line + s, i - s, UINT64_MAX / 1024, v);
	}
	return -1;
}

int
parse_meminfo(const char *buf, size_t len, uint64_t *total, uint64_t *avail)
{
	if (meminfo_field(buf, len, "MemTotal", total) == -1)
		return -1;
	if (meminfo_field(buf, len, "MemAvailable", avail) == -1 &&
	    meminfo_field(buf, len, "MemFree", avail) == -1)
		return -1;
	return 0;
}

/* The next space-separated field of line[*i..n). */
static int
field(const char *line, size_t n, size_t *i, const char **f, size_t *fl)
{
	while (*i < n && line[*i] == ' ')
		(*i)++;
	if (*i >= n)
		return -1;
	*f = line + *i;
	while (*i < n && line[*i] != ' ')
		(*i)++;
	*fl = (size_t)(line + *i - *f);
	return 0;
}

/*
 * Two heading lines, then "  name: rx_bytes packets errs drop fifo frame
 * compressed multicast tx_bytes ...": rx is field 1, tx field 9.
 */
int
parse_netdev(const char *buf, size_t len, struct netdev *out, size_t max,
    size_t *n)
{
	const char	*p = buf, *end = buf + len, *line, *colon, *f;
	size_t		 ll, i, fl, k, nl;
	int		 j;
	uint64_t	 v;

	*n = 0;
	for (k = 0; p < end; k++) {
		ll = next_line(&p, end, &line);
		if (k < 2 || ll == 0)
			continue;
		if ((colon = memchr(line, ':', ll)) == NULL)
			return -1;
		i = 0;
		while (line + i < colon && line[i] == ' ')
			i++;
		nl = (size_t)(colon - line) - i;
		if (nl == 0 || nl >= sizeof(out->name))
			return -1;
		if (*n >= max)
			continue;
		memcpy(out[*n].name, line + i, nl);
		out[*n].name[nl] = '\0';
		i = (size_t)(colon - line) + 1;
		for (j = 0; j < 9; j++) {
			if (field(line, ll, &i, &f, &fl) == -1 ||
			    parse_uint(f, fl, UINT64_MAX, &v) == -1)
				return -1;
			if (j == 0)
				out[*n].rx = v;
			else if (j == 8)
				out[*n].tx = v;
		}
		(*n)++;
	}
	return 0;
}

int
passwd_lookup(const char *buf, size_t len, const char *user,
    const char **hash, size_t *hashlen)
{
	const char	*p = buf, *end = buf + len, *line;
	size_t		 n, ul = strlen(user);

	if (ul == 0)
		return -1;
	while (p < end) {
		n = next_line(&p, end, &line);
		if (n > ul && memcmp(line, user, ul) == 0 && line[ul] == ':') {
			*hash = line + ul + 1;
			*hashlen = n - ul - 1;
			if (*hashlen > 0 && (*hash)[*hashlen - 1] == '\r')
				(*hashlen)--;
			return 0;
		}
	}
	return -1;
}

long
passwd_replace(const char *buf, size_t len, const char *user,
    const char *hash, char *out, size_t outsize)
{
	const char	*p = buf, *end = buf + len, *line;
	size_t		 n, o = 0, ul = strlen(user), hl = strlen(hash);
	bool		 done = false;

	if (ul == 0 || strchr(hash, '\n') != NULL)
		return -1;
	while (p < end) {
		n = next_line(&p, end, &line);
		if (!done && n > ul && memcmp(line, user, ul) == 0 &&
		    line[ul] == ':') {
			if (o + ul + 1 + hl + 1 > outsize)
				return -1;
			memcpy(out + o, user, ul);
			out[o + ul] = ':';
			memcpy(out + o + ul + 1, hash, hl);
			o += ul + 1 + hl;
			done = true;
		} else {
			if (o + n + 1 > outsize)
				return -1;
			memcpy(out + o, line, n);
			o += n;
		}
		out[o++] = '\n';
	}
	return done ? (long)o : -1;
}

int
http_body_200(const char *buf, size_t len, const char **body,
    size_t *bodylen)
{
	size_t	 i;

	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
	    memcmp(buf + 8, " 200", 4) != 0 || (len > 12 && buf[12] != ' ' &&
	    buf[12] != '\r'))
		return -1;
	for (i = 12; i + 4 <= len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			*body = buf + i + 4;
			*bodylen = len - i - 4;
			return 0;
		}
	return -1;
}

static void
member_uint(const struct json_member *m, size_t n, const char *key,
    uint64_t *v)
{
	if (json_uint(json_get(m, n, key), UINT64_MAX, v) == -1)
		*v = 0;
}

/* A string member decoded into out, or "" when absent or not a string. */
static int
member_str(const struct json_member *m, size_t n, const char *key,
    char *out, size_t size)
{
	const struct json_member	*v = json_get(m, n, key);
	size_t				 l;

	out[0] = '\0';
	if (v == NULL || v->type != JSON_STRING)
		return -1;
	if (json_unescape(v->val, v->vallen, out, size, &l) == -1) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int
parse_porch_status(const char *buf, size_t len, struct porch_status *s)
{
	struct json_member	 m[32];
	size_t			 n;

	memset(s, 0, sizeof(*s));
	if (json_object(buf, len, m, 32, &n) == -1)
		return -1;
	if (member_str(m, n, "server", s->server, sizeof(s->server)) == -1)
		return -1;
	member_uint(m, n, "uptime", &s->uptime);
	member_uint(m, n, "requests", &s->requests);
	member_uint(m, n, "connections", &s->connections);
	member_uint(m, n, "bytes", &s->bytes);
	member_uint(m, n, "status_4xx", &s->s4xx);
	member_uint(m, n, "status_5xx", &s->s5xx);
	member_uint(m, n, "workers_configured", &s->workers);
	member_uint(m, n, "idle_workers", &s->idle);
	member_uint(m, n, "reloads", &s->reloads);
	member_uint(m, n, "restarts", &s->restarts);
	return 0;
}

static bool
all_of(const char *s, const char *set)
{
	for (; *s; s++)
		if (strchr(set, *s) == NULL)
			return false;
	return true;
}

int
parse_fw_check(const char *buf, size_t len, struct fw_check *c)
{
	struct json_member		 m[16];
	const struct json_member	*ok;
	size_t				 n;

	memset(c, 0, sizeof(*c));
	if (json_object(buf, len, m, 16, &n) == -1)
		return -1;
	if ((ok = json_get(m, n, "ok")) == NULL ||
	    (ok->type != JSON_TRUE && ok->type != JSON_FALSE))
		return -1;
	c->ok = ok->type == JSON_TRUE;
	if (member_str(m, n, "message", c->message, sizeof(c->message)) == -1)
		return -1;
	(void)member_str(m, n, "version", c->version, sizeof(c->version));
	(void)member_str(m, n, "arch", c->arch, sizeof(c->arch));
	(void)member_str(m, n, "sha256", c->sha256, sizeof(c->sha256));
	member_uint(m, n, "size", &c->size);
	/* What reaches the page is checked here, whatever the tool said. */
	if (!all_of(c->version, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._+-"))
		c->version[0] = '\0';
	if (!all_of(c->arch, "abcdefghijklmnopqrstuvwxyz0123456789_"))
		c->arch[0] = '\0';
	if (strlen(c->sha256) != 64 || !all_of(c->sha256, "0123456789abcdef"))
		c->sha256[0] = '\0';
	return 0;
}
