/*
 * libFuzzer target: http_parse_head(), then http_parse_framing() and
 * http_path_decode() on what it accepts. The input is the raw bytes a
 * client sends. Besides the sanitizers it checks that the parser answers
 * the same when the input arrives in two reads (the prefix alone, then all
 * of it with seen = prefix length, as conn.c feeds it) and that accepted
 * heads and decoded paths are well-formed. A difference is a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define FIELDS		32
#define FIELD_MAX	1024

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct parsed {
	int			 rc, status;
	struct http_head	 h;
	struct http_field	 f[FIELDS];
};

static void
parse(const char *buf, size_t len, size_t seen, struct parsed *o)
{
	memset(o, 0, sizeof(*o));
	o->h.fields = o->f;
	o->h.nfields = FIELDS;
	o->h.field_max = FIELD_MAX;
	o->rc = http_parse_head(buf, len, seen, &o->h, &o->status);
}

static bool
view_eq(struct str a, const char *abuf, struct str b, const char *bbuf)
{
	return a.len == b.len && a.p - abuf == b.p - bbuf;
}

/* Same result, views at the same offsets of their own buffers. */
static bool
same(const struct parsed *a, const char *abuf, const struct parsed *b,
    const char *bbuf)
{
	size_t	 i;

	if (a->rc != b->rc)
		return false;
	if (a->rc == HTTP_PARSE_ERROR)
		return a->status == b->status;
	if (a->rc == HTTP_PARSE_INCOMPLETE)
		return true;
	if (!view_eq(a->h.method, abuf, b->h.method, bbuf) ||
	    !view_eq(a->h.target, abuf, b->h.target, bbuf) ||
	    a->h.minor != b->h.minor || a->h.nfields != b->h.nfields)
		return false;
	for (i = 0; i < a->h.nfields; i++)
		if (!view_eq(a->f[i].name, abuf, b->f[i].name, bbuf) ||
		    !view_eq(a->f[i].value, abuf, b->f[i].value, bbuf))
			return false;
	return true;
}

/* An accepted head is what DESIGN 4 says it is. */
static void
check_head(const struct parsed *o, const char *buf)
{
	const char	*end = buf + o->rc;
	size_t		 i, j;
	unsigned char	 c;

	if (o->h.method.len == 0 || o->h.target.len == 0 ||
	    (o->h.minor != 0 && o->h.minor != 1) ||
	    memcmp(end - 4, "\r\n\r\n", 4) != 0)
		__builtin_trap();
	for (i = 0; i < o->h.method.len; i++)
		if (!http_is_tchar((unsigned char)o->h.method.p[i]))
			__builtin_trap();
	for (i = 0; i < o->h.target.len; i++)
		if ((unsigned char)o->h.target.p[i] <= 0x20 ||
		    (unsigned char)o->h.target.p[i] >= 0x7f)
			__builtin_trap();
	for (i = 0; i < o->h.nfields; i++) {
		if (o->f[i].name.len == 0 ||
		    o->f[i].name.p + o->f[i].name.len >= end ||
		    o->f[i].name.p[o->f[i].name.len] != ':')
			__builtin_trap();
		for (j = 0; j < o->f[i].name.len; j++)
			if (!http_is_tchar((unsigned char)o->f[i].name.p[j]))
				__builtin_trap();
		for (j = 0; j < o->f[i].value.len; j++) {
			c = (unsigned char)o->f[i].value.p[j];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				__builtin_trap();
		}
		if (o->f[i].value.len > 0 && (o->f[i].value.p[0] == ' ' ||
		    o->f[i].value.p[0] == '\t'))
			__builtin_trap();
	}
}

/* A decoded path is absolute, NUL-free and without dot segments. */
static void
check_path(const char *p, int n)
{
	int	 i;

	if (n < 1 || p[0] != '/' || (size_t)n != strlen(p))
		__builtin_trap();
	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			__builtin_trap();
		if (p[i] != '/')
			continue;
		if (i + 1 < n && p[i + 1] == '/')
			__builtin_trap();
		if (i + 1 < n && p[i + 1] == '.' &&
		    (i + 2 == n || p[i + 2] == '/'))
			__builtin_trap();
		if (i + 2 < n && p[i + 1] == '.' && p[i + 2] == '.' &&
		    (i + 3 == n || p[i + 3] == '/'))
			__builtin_trap();
	}
	(void)http_path_has_dotfile(p);
}

static void
check_framing(const struct parsed *o)
{
	struct http_framing	 fr;
	char			 big[16384], small[16];
	int			 status, n, m, ms;

	if (http_parse_framing(&o->h, &fr, &status) != 0) {
		if (status != 400 && status != 417 && status != 501)
			__builtin_trap();
		return;
	}
	if (fr.body == BODY_LENGTH && fr.length == 0)
		__builtin_trap();
	if (fr.asterisk || fr.path.len == 0)
		return;
	n = http_path_decode(fr.path, big, sizeof(big), &status);
	if (n < 0) {
		if (status != 400 && status != 414)
			__builtin_trap();
	} else
		check_path(big, n);
	/* a small buffer gives the same answer, or 414 */
	m = http_path_decode(fr.path, small, sizeof(small), &ms);
	if (m >= 0 && (n != m || strcmp(big, small) != 0))
		__builtin_trap();
	if (m < 0 && !(ms == 414 || (n < 0 && ms == status)))
		__builtin_trap();
}

/* Feeds data[0..k) alone, in a buffer of exactly k bytes, then all. */
static void
check_split(const char *data, size_t size, size_t k,
    const struct parsed *whole)
{
	static struct parsed	 o;
	char			*prefix;

	prefix = malloc(k ? k : 1);
	if (prefix == NULL)
		abort();
	memcpy(prefix, data, k);
	parse(prefix, k, 0, &o);
	if (whole->rc > 0 && k >= (size_t)whole->rc) {
		if (!same(whole, data, &o, prefix))
			__builtin_trap();
	} else if (o.rc == HTTP_PARSE_ERROR) {
		if (!same(whole, data, &o, prefix))
			__builtin_trap();	/* an early error must be final */
	} else if (o.rc != HTTP_PARSE_INCOMPLETE)
		__builtin_trap();
	free(prefix);
	if (o.rc != HTTP_PARSE_INCOMPLETE)
		return;
	parse(data, size, k, &o);
	if (!same(whole, data, &o, data))
		__builtin_trap();
}

/* With room for fewer fields: the same head, or 431 when it has more. */
static void
check_capacity(const char *data, size_t size, const struct parsed *whole)
{
	struct http_field	 f[2];
	struct http_head	 h;
	int			 rc, status;
	size_t			 i;

	memset(&h, 0, sizeof(h));
	h.fields = f;
	h.nfields = 2;
	h.field_max = FIELD_MAX;
	rc = http_parse_head(data, size, 0, &h, &status);
	if (whole->h.nfields > 2) {
		if (rc != HTTP_PARSE_ERROR || status != 431)
			__builtin_trap();
		return;
	}
	if (rc != whole->rc || h.nfields != whole->h.nfields)
		__builtin_trap();
	for (i = 0; i < h.nfields; i++)
		if (f[i].name.p != whole->f[i].name.p ||
		    f[i].value.len != whole->f[i].value.len)
			__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	static struct parsed	 whole;
	const char		*data = (const char *)bytes;
	uint32_t		 h = 2166136261u;
	size_t			 i;

	parse(data, size, 0, &whole);
	if (whole.rc == HTTP_PARSE_ERROR && whole.status != 400 &&
	    whole.status != 431 && whole.status != 505)
		__builtin_trap();
	if (whole.rc > 0) {
		if ((size_t)whole.rc > size)
			__builtin_trap();
		check_head(&whole, data);
		check_framing(&whole);
		check_capacity(data, size, &whole);
	}
	if (size < 2)
		return 0;
	for (i = 0; i < size; i++)
		h = (h ^ bytes[i]) * 16777619u;
	check_split(data, size, 1 + h % (size - 1), &whole);
	check_split(data, size, size - 1, &whole);
	return 0;
}
