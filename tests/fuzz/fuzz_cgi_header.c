/*
 * libFuzzer target: cgi_header_parse(), the header block a CGI writes
 * (RFC 3875 6.2). The input is the raw bytes of a script's stdout. Besides
 * the sanitizers it checks that the parser answers the same whatever the
 * pipe delivered first (a prefix alone, then all of it, as cgi_relay.c
 * feeds it), that it answers as soon as and only when the block is
 * complete, and that what it accepts is safe to copy into a response head:
 * no CR, LF or other control byte in a passed-through field, no hop-by-hop
 * field, a status from 200 to 599. A difference is a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"

#define FIELDS		CGI_HEADER_FIELDS

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct parsed {
	int			 rc, status;
	struct cgi_header	 h;
	struct http_field	 f[FIELDS];
};

static void
parse(const char *buf, size_t len, size_t cap, struct parsed *o)
{
	memset(o, 0, sizeof(*o));
	o->status = -7;			/* must be set on an error */
	o->h.fields = o->f;
	o->h.nfields = cap;
	o->rc = cgi_header_parse(buf, len, &o->h, &o->status);
}

/*
 * Where the block ends, computed independently: just past the first line
 * that is empty or a lone CR. 0: no such line yet.
 */
static size_t
expected_end(const char *buf, size_t len)
{
	size_t	 start = 0, i;

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i == start || (i == start + 1 && buf[start] == '\r'))
			return i + 1;
		start = i + 1;
	}
	return 0;
}

static bool
view_eq(struct str a, const char *abuf, struct str b, const char *bbuf)
{
	if (a.p == NULL || b.p == NULL)
		return a.p == NULL && b.p == NULL;
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
	if (a->h.status != b->h.status || a->h.has_length != b->h.has_length ||
	    a->h.content_length != b->h.content_length ||
	    !view_eq(a->h.content_type, abuf, b->h.content_type, bbuf) ||
	    !view_eq(a->h.location, abuf, b->h.location, bbuf) ||
	    a->h.nfields != b->h.nfields)
		return false;
	for (i = 0; i < a->h.nfields; i++)
		if (!view_eq(a->f[i].name, abuf, b->f[i].name, bbuf) ||
		    !view_eq(a->f[i].value, abuf, b->f[i].value, bbuf))
			return false;
	return true;
}

/* A view inside the block, and safe as a field value in a response. */
static void
check_value(struct str v, const char *buf, size_t n)
{
	size_t		 i;
	unsigned char	 c;

	if (v.p == NULL)
		return;
	if (v.p < buf || v.p + v.len > buf + n)
		__builtin_trap();
	for (i = 0; i < v.len; i++) {
		c = (unsigned char)v.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			__builtin_trap();
	}
	if (v.len > 0 && (v.p[0] == ' ' || v.p[0] == '\t' ||
	    v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
		__builtin_trap();
}

static bool
name_is(struct str name, const char *s)
{
	return str_eq_nocase(name, s);
}

/* An accepted block is what cgi_header.c's comment says it is. */
static void
check_block(const struct parsed *o, const char *buf, size_t cap)
{
	static const char *const never[] = { "Status", "Content-Type",
	    "Location", "Content-Length", "Connection", "Keep-Alive",
	    "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Server", "Date",
	    "X-Request-Id", "Proxy-Connection" };
	size_t	 n = (size_t)o->rc, i, j;

	if (buf[n - 1] != '\n')
		__builtin_trap();
	if (o->h.status != 0 && (o->h.status < 200 || o->h.status > 599))
		__builtin_trap();
	if (o->h.status == 0 && o->h.content_type.p == NULL &&
	    o->h.location.p == NULL)
		__builtin_trap();
	if (o->h.location.p != NULL && o->h.location.len == 0)
		__builtin_trap();
	if (o->h.nfields > cap || o->h.fields != o->f)
		__builtin_trap();
	check_value(o->h.content_type, buf, n);
	check_value(o->h.location, buf, n);
	for (i = 0; i < o->h.nfields; i++) {
		if (o->f[i].name.len == 0 || o->f[i].name.p < buf ||
		    o->f[i].name.p + o->f[i].name.len >= buf + n ||
		    o->f[i].name.p[o->f[i].name.len] != ':')
			__builtin_trap();
		for (j = 0; j < o->f[i].name.len; j++)
			if (!http_is_tchar((unsigned char)o->f[i].name.p[j]))
				__builtin_trap();
		for (j = 0; j < sizeof(never) / sizeof(never[0]); j++)
			if (name_is(o->f[i].name, never[j]))
				__builtin_trap();
		check_value(o->f[i].value, buf, n);
	}
}

/* Feeds data[0..k) alone, in a buffer of exactly k bytes. */
static void
check_prefix(const char *data, size_t k, size_t end,
    const struct parsed *whole)
{
	static struct parsed	 o;
	char			*prefix;

	prefix = malloc(k ? k : 1);
	if (prefix == NULL)
		abort();
	memcpy(prefix, data, k);
	parse(prefix, k, FIELDS, &o);
	if (end == 0 || k < end) {
		if (o.rc != HTTP_PARSE_INCOMPLETE)
			__builtin_trap();	/* answered before the block ended */
	} else if (!same(whole, data, &o, prefix))
		__builtin_trap();
	free(prefix);
}

/* With room for fewer fields: the same block, or an error when it has more. */
static void
check_capacity(const char *data, size_t size, size_t cap,
    const struct parsed *whole)
{
	static struct parsed	 o;

	parse(data, size, cap, &o);
	if (whole->rc > 0 && whole->h.nfields > cap) {
		if (o.rc != HTTP_PARSE_ERROR || o.status != 502)
			__builtin_trap();
		return;
	}
	if (!same(whole, data, &o, data))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	static struct parsed	 whole;
	const char		*data = (const char *)bytes;
	uint32_t		 h = 2166136261u;
	size_t			 end, i;

	end = expected_end(data, size);
	parse(data, size, FIELDS, &whole);
	if (end == 0 && whole.rc != HTTP_PARSE_INCOMPLETE)
		__builtin_trap();
	if (end != 0 && whole.rc != HTTP_PARSE_ERROR && whole.rc != (int)end)
		__builtin_trap();
	if (whole.rc == HTTP_PARSE_ERROR && whole.status != 502)
		__builtin_trap();
	if (whole.rc > 0)
		check_block(&whole, data, FIELDS);
	check_capacity(data, size, 0, &whole);
	check_capacity(data, size, 2, &whole);
	if (size < 2)
		return 0;
	for (i = 0; i < size; i++)
		h = (h ^ bytes[i]) * 16777619u;
	check_prefix(data, 1 + h % (size - 1), end, &whole);
	check_prefix(data, size - 1, end, &whole);
	if (end > 1 && end < size)
		check_prefix(data, end, end, &whole);
	if (end > 1)
		check_prefix(data, end - 1, end, &whole);
	return 0;
}
