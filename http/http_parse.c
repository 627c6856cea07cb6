/*
 * Request head, framing and chunked-body parsing (RFC 9112, RFC 9110).
 * Strict by design: anything ambiguous is rejected rather than guessed,
 * since a guess that differs from a proxy's guess is request smuggling.
 */
#include <string.h>

#include "http.h"

/* RFC 9110 5.6.2: tchar */
static const unsigned char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static const struct {
	const char		*name;
	enum http_method	 method;
} methods[] = {
	{ "GET", METHOD_GET },
	{ "HEAD", METHOD_HEAD },
	{ "POST", METHOD_POST },
	{ "PUT", METHOD_PUT },
	{ "DELETE", METHOD_DELETE },
	{ "OPTIONS", METHOD_OPTIONS },
	{ "TRACE", METHOD_TRACE },
	{ "CONNECT", METHOD_CONNECT },
	{ "PATCH", METHOD_PATCH },
};

bool
http_is_tchar(unsigned char c)
{
	return tchar[c] != 0;
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool
str_eq_nocase(struct str s, const char *lit)
{
	size_t	 i;

	for (i = 0; i < s.len; i++)
		if (lit[i] == '\0' ||
		    lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
			return false;
	return lit[i] == '\0';
}

bool
str_eq(struct str s, const char *lit)
{
	return strlen(lit) == s.len && memcmp(s.p, lit, s.len) == 0;
}

int
parse_uint(const char *p, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	 v = 0;
	unsigned	 d;

	if (len == 0)
		return -1;
	for (; len > 0; p++, len--) {
		d = (unsigned)((unsigned char)*p - '0');
		if (d > 9 || d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* v in decimal at out (no NUL); its length. */
size_t
fmt_uint(uint64_t v, char out[FMT_UINT_MAX])
{
	char	 tmp[FMT_UINT_MAX];
	size_t	 i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	memcpy(out, tmp + i, sizeof(tmp) - i);
	return sizeof(tmp) - i;
}

enum http_method
http_method_lookup(struct str m)
{
	size_t	 i;

	/* RFC 9110 9.1: method names are case-sensitive. */
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (str_eq(m, methods[i].name))
			return methods[i].method;
	return METHOD_UNKNOWN;
}

const char *
http_method_name(enum http_method m)
{
	size_t	 i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].method == m)
			return methods[i].name;
	return "-";
}

const struct str *
http_field_get(const struct http_head *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->nfields; i++)
		if (str_eq_nocase(h->fields[i].name, name))
			return &h->fields[i].value;
	return NULL;
}

static struct str
trim_ows(struct str s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* Splits the next comma-separated element off *list; false at the end. */
static bool
list_next(struct str *list, struct str *elem)
{
	const char	*comma;

	while (list->len > 0) {
		comma = memchr(list->p, ',', list->len);
		elem->p = list->p;
		elem->len = comma ? (size_t)(comma - list->p) : list->len;
		list->p += elem->len + (comma ? 1 : 0);
		list->len -= elem->len + (comma ? 1 : 0);
		*elem = trim_ows(*elem);
		if (elem->len > 0)	/* RFC 9110 5.6.1: empty elements */
			return true;
	}
	return false;
}

bool
http_list_has(struct str list, const char *token)
{
	struct str	 e;

	while (list_next(&list, &e))
		if (str_eq_nocase(e, token))
			return true;
	return false;
}

/*
 * Finds the end of the head in new bytes only, rejecting bare CR and bare
 * LF as soon as they are seen. Returns the offset just past the empty line,
 * 0 when incomplete, or -1 (400).
 */
static long
head_end(const char *buf, size_t len, size_t seen)
{
	size_t	 i;

	for (i = seen > 1 ? seen - 1 : 0; i < len; i++) {
		if (buf[i] == '\r') {
			if (i + 1 == len)
				return 0;
			if (buf[i + 1] != '\n')
				return -1;	/* RFC 9112 2.2: bare CR */
			continue;
		}
		if (buf[i] != '\n')
			continue;
		if (i == 0 || buf[i - 1] != '\r')
			return -1;		/* RFC 9112 2.2: bare LF */
		if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return (long)(i + 1);
	}
	return 0;
}

/* Request line: method SP request-target SP HTTP-version CRLF */
static const char *
parse_request_line(const char *p, const char *end, struct http_head *h,
    int *status)
{
	const char	*s;

	*status = 400;
	for (s = p; p < end && tchar[(unsigned char)*p]; p++)
		;
	if (p == s || p == end || *p != ' ')
		return NULL;		/* RFC 9112 3: method is a token */
	h->method.p = s;
	h->method.len = (size_t)(p - s);
	for (s = ++p; p < end && *p > 0x20 && *p < 0x7f; p++)
		;
	if (p == s || p == end || *p != ' ')
		return NULL;		/* RFC 9112 3.2: one SP, no CTL/space */
	h->target.p = s;
	h->target.len = (size_t)(p - s);
	p++;
	if (end - p < 10 || memcmp(p, "HTTP/", 5) != 0)
		return NULL;		/* RFC 9112 2.3: case-sensitive name */
	if (p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' ||
	    p[7] > '9' || p[8] != '\r')
		return NULL;		/* RFC 9112 2.3: DIGIT "." DIGIT */
	if (p[5] != '1') {
		*status = 505;
		return NULL;
	}
	/* RFC 9110 6.2: a later 1.x minor is answered as 1.1. */
	h->minor = p[7] == '0' ? 0 : 1;
	return p + 10;
}

/* field-line = field-name ":" OWS field-value OWS CRLF */
static const char *
parse_field(const char *p, const char *end, struct http_field *f,
    size_t field_max, int *status)
{
	const char	*s = p, *v;
	unsigned char	 c;

	*status = 400;
	if (*p == ' ' || *p == '\t')
		return NULL;		/* RFC 9112 5.2: obs-fold */
	while (p < end && tchar[(unsigned char)*p])
		p++;
	if (p == s || p == end || *p != ':')
		return NULL;		/* RFC 9112 5.1: no space before colon */
	f->name.p = s;
	f->name.len = (size_t)(p - s);
	for (v = ++p; p < end && *p != '\r'; p++) {
		c = (unsigned char)*p;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return NULL;	/* RFC 9110 5.5: CTL in a value */
	}
	if (p == end)
		return NULL;
	if (field_max != 0 && (size_t)(p - s) > field_max) {
		*status = 431;
		return NULL;
	}
	f->value.p = v;
	f->value.len = (size_t)(p - v);
	f->value = trim_ows(f->value);
	return p + 2;
}

int
http_parse_head(const char *buf, size_t len, size_t seen, struct http_head *h,
    int *status)
{
	const char	*p, *end;
	size_t		 cap = h->nfields;
	long		 n;

	/* RFC 9112 2.2 lets a server skip empty lines before the request
	 * line (SHOULD): porch does not, so no stray bytes between pipelined
	 * requests are ever passed over. A request starts with its method. */
	if (len > 0 && !tchar[(unsigned char)buf[0]]) {
		*status = 400;
		return HTTP_PARSE_ERROR;
	}
	if ((n = head_end(buf, len, seen)) <= 0) {
		*status = 400;
		return n == 0 ? HTTP_PARSE_INCOMPLETE : HTTP_PARSE_ERROR;
	}
	end = buf + n;
	if ((p = parse_request_line(buf, end, h, status)) == NULL)
		return HTTP_PARSE_ERROR;
	h->nfields = 0;
	while (!(p[0] == '\r' && p[1] == '\n')) {
		if (h->nfields == cap) {
			*status = 431;
			return HTTP_PARSE_ERROR;
		}
		p = parse_field(p, end, &h->fields[h->nfields], h->field_max,
		    status);
		if (p == NULL)
			return HTTP_PARSE_ERROR;
		h->nfields++;
	}
	return (int)n;
}

/*
 * The status for a head that outgrew its limit: 414 when the request line
 * is what made it too long (it does not end within the limit, or its
 * target is longer than target_max), else 431 for the fields.
 */
int
http_head_too_large(const char *buf, size_t len, size_t target_max)
{
	const char	*lf, *sp1, *sp2;

	if ((lf = memchr(buf, '\n', len)) == NULL)
		return 414;
	sp1 = memchr(buf, ' ', (size_t)(lf - buf));
	for (sp2 = lf; sp1 != NULL && sp2 > sp1 && *sp2 != ' '; sp2--)
		;
	if (sp1 != NULL && sp2 > sp1 && (size_t)(sp2 - sp1 - 1) > target_max)
		return 414;
	return 431;
}

/* RFC 3986 3.2.2 host [ ":" port ], without userinfo. */
static bool
host_valid(struct str h)
{
	static const char	 extra[] = "-._~!$&'()*+,;=:[]%";
	size_t			 i;
	unsigned char		 c;

	for (i = 0; i < h.len; i++) {
		c = (unsigned char)h.p[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (c == '\0' || strchr(extra, c) == NULL)
			return false;
	}
	return true;
}

/* Splits the request-target into path and query, by its form. */
static int
split_target(struct str t, enum http_method m, struct http_framing *fr)
{
	const char	*q, *slash;
	size_t		 skip;

	if (str_eq(t, "*")) {		/* RFC 9112 3.2.4: OPTIONS only */
		fr->asterisk = true;
		return m == METHOD_OPTIONS ? 0 : -1;
	}
	if (memchr(t.p, '#', t.len) != NULL)
		return -1;		/* RFC 9112 3.2: no fragment */
	if (t.p[0] != '/') {		/* RFC 9112 3.2.2: absolute-form */
		if (t.len > 7 && str_eq_nocase((struct str){ t.p, 7 },
		    "http://"))
			skip = 7;
		else if (t.len > 8 && str_eq_nocase((struct str){ t.p, 8 },
		    "https://"))
			skip = 8;
		else
			return -1;
		t.p += skip;
		t.len -= skip;
		slash = memchr(t.p, '/', t.len);
		q = memchr(t.p, '?', t.len);
		if (q != NULL && (slash == NULL || q < slash))
			slash = q;
		fr->host.p = t.p;
		fr->host.len = slash ? (size_t)(slash - t.p) : t.len;
		/* RFC 9112 3.2.2: it replaces Host, so it is held to the same
		 * rules (no userinfo, no quotes or brackets of other kinds). */
		if (fr->host.len == 0 || !host_valid(fr->host))
			return -1;
		t.p += fr->host.len;
		t.len -= fr->host.len;
		if (t.len == 0 || t.p[0] != '/') {
			fr->path.p = "/";	/* RFC 9112 3.2.2: empty path */
			fr->path.len = 1;
			if (t.len > 0) {	/* "?query" */
				fr->has_query = true;
				fr->query.p = t.p + 1;
				fr->query.len = t.len - 1;
			}
			return 0;
		}
	}
	q = memchr(t.p, '?', t.len);
	fr->path.p = t.p;
	fr->path.len = q ? (size_t)(q - t.p) : t.len;
	if (q != NULL) {
		fr->has_query = true;
		fr->query.p = q + 1;
		fr->query.len = t.len - fr->path.len - 1;
	}
	return 0;
}

/*
 * Transfer-Encoding: the codings, in order. Only "chunked" is known, and
 * it must come last exactly once; returns 0, 400 or 501.
 */
static int
framing_te(struct str v, bool *chunked)
{
	struct str	 e;

	while (list_next(&v, &e)) {
		if (*chunked)
			return 400;	/* RFC 9112 6.3: chunked is final */
		if (!str_eq_nocase(e, "chunked"))
			return 501;	/* RFC 9112 6.1: unknown coding */
		*chunked = true;
	}
	return 0;
}

static int
framing_cl(struct str v, struct http_framing *fr)
{
	/* RFC 9112 6.3: only plain digits, no list, no sign, no overflow.
	 * RFC 9110 8.6 allows leading zeros; no client sends them, and a
	 * peer that reads "010" as octal would frame differently. */
	if (v.len > 1 && v.p[0] == '0')
		return 400;
	if (parse_uint(v.p, v.len, UINT64_MAX, &fr->length) == -1)
		return 400;
	return 0;
}

static int
framing_expect(struct str v, struct http_framing *fr, int minor)
{
	struct str	 e;

	while (list_next(&v, &e)) {
		if (!str_eq_nocase(e, "100-continue"))
			return 417;	/* RFC 9110 10.1.1 */
		/* RFC 9110 10.1.1: ignored in an HTTP/1.0 request */
		fr->expect_continue = minor >= 1;
	}
	return 0;
}

/*
 * Fields the framing reads, and singletons (RFC 9110 5.3): a field whose
 * definition is not a list may appear once. A second line is a 400, even
 * with the same value, since two parsers may keep different ones.
 */
enum field_id {
	FLD_OTHER,
	FLD_HOST,
	FLD_CONTENT_LENGTH,
	FLD_TRANSFER_ENCODING,
	FLD_CONNECTION,
	FLD_EXPECT,
	FLD_IDS
};

#define FIELD_UNIQUE	0x01

#define RULE(name, id, flags)	{ name, sizeof(name) - 1, id, flags }
static const struct field_rule {
	const char	*name;
	size_t		 len;
	enum field_id	 id;
	unsigned	 flags;
} field_rules[] = {
	RULE("Host", FLD_HOST, FIELD_UNIQUE),			/* 9112 3.2 */
	RULE("Content-Length", FLD_CONTENT_LENGTH, FIELD_UNIQUE), /* 9112 6.3 */
	RULE("Transfer-Encoding", FLD_TRANSFER_ENCODING, 0),
	RULE("Connection", FLD_CONNECTION, 0),
	RULE("Expect", FLD_EXPECT, 0),
	RULE("Authorization", FLD_OTHER, FIELD_UNIQUE),		/* 9110 11.6.2 */
	RULE("Proxy-Authorization", FLD_OTHER, FIELD_UNIQUE),
	RULE("Content-Type", FLD_OTHER, FIELD_UNIQUE),		/* 9110 8.3 */
	RULE("Range", FLD_OTHER, FIELD_UNIQUE),			/* 9110 14.2 */
	RULE("If-Range", FLD_OTHER, FIELD_UNIQUE),		/* 9110 13.1.5 */
	RULE("If-Modified-Since", FLD_OTHER, FIELD_UNIQUE),	/* 9110 13.1.3 */
	RULE("If-Unmodified-Since", FLD_OTHER, FIELD_UNIQUE),
	RULE("Max-Forwards", FLD_OTHER, FIELD_UNIQUE),		/* 9110 7.6.2 */
	RULE("Referer", FLD_OTHER, FIELD_UNIQUE),		/* 9110 10.1.3 */
	RULE("User-Agent", FLD_OTHER, FIELD_UNIQUE),		/* 9110 10.1.5 */
	RULE("Origin", FLD_OTHER, FIELD_UNIQUE),		/* 6454 7 */
	RULE("Cookie", FLD_OTHER, FIELD_UNIQUE),		/* 6265 5.4 */
	RULE("X-CSRF-Token", FLD_OTHER, FIELD_UNIQUE),		/* porch */
	RULE("X-Background", FLD_OTHER, FIELD_UNIQUE),		/* porch */
};
#undef RULE

#define FIELD_RULES	(sizeof(field_rules) / sizeof(field_rules[0]))

static const struct field_rule *
field_rule(struct str name)
{
	size_t	 i;

	for (i = 0; i < FIELD_RULES; i++)
		if (field_rules[i].len == name.len &&
		    str_eq_nocase(name, field_rules[i].name))
			return &field_rules[i];
	return NULL;
}

/* What one field says about framing; 0, or the status to answer. */
static int
framing_field(const struct http_head *h, const struct http_field *f,
    enum field_id id, struct http_framing *fr, bool *chunked, int *expect)
{
	switch (id) {
	case FLD_HOST:
		fr->host = f->value;
		return 0;
	case FLD_CONTENT_LENGTH:
		return framing_cl(f->value, fr);
	case FLD_TRANSFER_ENCODING:
		/* RFC 9112 6.1: TE in HTTP/1.0 is faulty framing, whatever
		 * the coding. */
		return h->minor == 0 ? 400 : framing_te(f->value, chunked);
	case FLD_CONNECTION:
		fr->conn_close |= http_list_has(f->value, "close");
		fr->conn_keepalive |= http_list_has(f->value, "keep-alive");
		return 0;
	case FLD_EXPECT:
		if (*expect == 0)
			*expect = framing_expect(f->value, fr, h->minor);
		return 0;
	case FLD_OTHER:
	case FLD_IDS:
		break;
	}
	return 0;
}

int
http_parse_framing(const struct http_head *h, struct http_framing *fr,
    int *status)
{
	const struct field_rule	*rule;
	struct str		 host;
	unsigned char		 seen[FIELD_RULES];
	bool			 has[FLD_IDS] = { false }, chunked = false;
	size_t			 i;
	int			 rc = 0, expect = 0;

	memset(fr, 0, sizeof(*fr));
	memset(seen, 0, sizeof(seen));
	fr->method = http_method_lookup(h->method);
	for (i = 0; i < h->nfields && rc == 0; i++) {
		if ((rule = field_rule(h->fields[i].name)) == NULL)
			continue;
		has[rule->id] = true;
		if (seen[rule - field_rules]++ > 0 &&
		    (rule->flags & FIELD_UNIQUE))
			rc = 400;	/* RFC 9110 5.3: a singleton twice */
		else
			rc = framing_field(h, &h->fields[i], rule->id, fr,
			    &chunked, &expect);
	}
	host = fr->host;
	fr->host.p = NULL;
	fr->host.len = 0;
	if (rc == 0 && has[FLD_TRANSFER_ENCODING] && !chunked)
		rc = 400;		/* RFC 9112 6.3: TE without chunked */
	if (rc == 0 && has[FLD_TRANSFER_ENCODING] &&
	    has[FLD_CONTENT_LENGTH])
		rc = 400;		/* RFC 9112 6.3: TE plus CL: ambiguous */
	if (rc == 0 && !has[FLD_HOST] && h->minor >= 1)
		rc = 400;		/* RFC 9112 3.2: exactly one Host */
	/* RFC 9112 3.2: an empty Host is for targets without an authority,
	 * which an http(s) request never has. */
	if (rc == 0 && has[FLD_HOST] && (host.len == 0 ||
	    !host_valid(host)))
		rc = 400;		/* RFC 9112 3.2: invalid Host */
	if (rc == 0 && split_target(h->target, fr->method, fr) == -1)
		rc = 400;		/* RFC 9112 3.2: unusable target */
	/* Last: a 417 must never hide a framing error, which closes. */
	if (rc == 0)
		rc = expect;
	if (rc != 0) {
		*status = rc;
		return HTTP_PARSE_ERROR;
	}
	if (fr->host.p == NULL)
		fr->host = host;
	if (chunked)
		fr->body = BODY_CHUNKED;
	else if (has[FLD_CONTENT_LENGTH] && fr->length > 0)
		fr->body = BODY_LENGTH;
	return 0;
}

/*
 * RFC 9112 7.1, exactly:
 *	chunk		= chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *	chunk-ext	= *( BWS ";" BWS chunk-ext-name
 *			     [ BWS "=" BWS chunk-ext-val ] )
 *	chunk-ext-name	= token
 *	chunk-ext-val	= token / quoted-string
 * Whitespace only ever precedes ";", "=", a name or a value: "5 \r\n",
 * "5;\r\n" and "5;a=\r\n" are all outside the grammar, and rejected.
 */
enum chunk_phase {
	CHUNK_SIZE = 0,		/* hex digits */
	CHUNK_LINE_WS,		/* BWS after the size or a value: ';' next */
	CHUNK_EXT_PRE_NAME,	/* after ';': BWS, then a name */
	CHUNK_EXT_NAME,		/* token */
	CHUNK_EXT_NAME_WS,	/* BWS after a name: '=' or ';' next */
	CHUNK_EXT_PRE_VALUE,	/* after '=': BWS, then a token or a quote */
	CHUNK_EXT_TOKEN,	/* token value */
	CHUNK_EXT_QUOTED,	/* inside a quoted-string */
	CHUNK_EXT_QPAIR,	/* after a backslash in a quoted-string */
	CHUNK_EXT_QUOTE_END,	/* after the closing quote */
	CHUNK_SIZE_LF,		/* LF after the size line's CR */
	CHUNK_DATA,
	CHUNK_DATA_CR,
	CHUNK_DATA_LF,
	CHUNK_TRAILER,		/* start of a trailer line, or the final CRLF */
	CHUNK_TRAILER_NAME,	/* a trailer field's name, up to ':' */
	CHUNK_TRAILER_LINE,	/* a trailer field's value, up to CR */
	CHUNK_TRAILER_LF,	/* LF after a trailer line's CR */
	CHUNK_FINAL_LF,		/* LF of the empty line that ends it all */
};

/* The value of a hex digit, or -1. */
int
http_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
static bool
is_qdtext(unsigned char c)
{
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c != '\\' &&
	    c != 0x7f);
}

/*
 * Where a token (the size, a name, a value) or a closing quote may end:
 * BWS before the next ';', the next ';', or the CR. 0, or -1 to reject.
 */
static int
chunk_token_end(struct http_chunk_state *cs, unsigned char c)
{
	if (is_ws(c))
		cs->state = CHUNK_LINE_WS;
	else if (c == ';')
		cs->state = CHUNK_EXT_PRE_NAME;
	else if (c == '\r')
		cs->state = CHUNK_SIZE_LF;
	else
		return -1;
	return 0;
}

/* One byte of a chunk-size line after its first digit; 0 or -1. */
static int
chunk_line_byte(struct http_chunk_state *cs, unsigned char c)
{
	int	 d;

	if (c != '\r' && ++cs->line > HTTP_CHUNK_LINE_MAX)
		return -1;		/* extension flood */
	switch (cs->state) {
	case CHUNK_SIZE:
		if ((d = http_hexval(c)) < 0)
			return chunk_token_end(cs, c);
		/* at most HTTP_CHUNK_SIZE_MAX, exactly */
		if (cs->left > (HTTP_CHUNK_SIZE_MAX - (unsigned)d) / 16)
			return -1;	/* chunk size overflow */
		cs->left = (cs->left << 4) | (uint64_t)d;
		return 0;
	case CHUNK_LINE_WS:
		if (c == ';')
			cs->state = CHUNK_EXT_PRE_NAME;
		else if (!is_ws(c))
			return -1;	/* BWS is only ever followed by ';' */
		return 0;
	case CHUNK_EXT_PRE_NAME:
		if (tchar[c])
			cs->state = CHUNK_EXT_NAME;
		else if (!is_ws(c))
			return -1;	/* chunk-ext-name = token */
		return 0;
	case CHUNK_EXT_NAME:
		if (tchar[c])
			return 0;
		if (c == '=') {
			cs->state = CHUNK_EXT_PRE_VALUE;
			return 0;
		}
		if (is_ws(c)) {
			cs->state = CHUNK_EXT_NAME_WS;
			return 0;
		}
		return chunk_token_end(cs, c);
	case CHUNK_EXT_NAME_WS:
		if (c == '=')
			cs->state = CHUNK_EXT_PRE_VALUE;
		else if (c == ';')
			cs->state = CHUNK_EXT_PRE_NAME;
		else if (!is_ws(c))
			return -1;
		return 0;
	case CHUNK_EXT_PRE_VALUE:
		if (tchar[c])
			cs->state = CHUNK_EXT_TOKEN;
		else if (c == '"')
			cs->state = CHUNK_EXT_QUOTED;
		else if (!is_ws(c))
			return -1;	/* token / quoted-string */
		return 0;
	case CHUNK_EXT_TOKEN:
		return tchar[c] ? 0 : chunk_token_end(cs, c);
	case CHUNK_EXT_QUOTED:
		if (c == '"')
			cs->state = CHUNK_EXT_QUOTE_END;
		else if (c == '\\')
			cs->state = CHUNK_EXT_QPAIR;
		else if (!is_qdtext(c))
			return -1;
		return 0;
	case CHUNK_EXT_QPAIR:
		/* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return -1;
		cs->state = CHUNK_EXT_QUOTED;
		return 0;
	case CHUNK_EXT_QUOTE_END:
		return chunk_token_end(cs, c);
	}
	return -1;
}

/* One framing byte; 0 to go on, -1 to reject. */
static int
chunk_byte(struct http_chunk_state *cs, unsigned char c)
{
	switch (cs->state) {
	case CHUNK_SIZE:
		if (cs->line == 0 && http_hexval(c) < 0)
			return -1;	/* RFC 9112 7.1: 1*HEXDIG */
		return chunk_line_byte(cs, c);
	case CHUNK_LINE_WS:
	case CHUNK_EXT_PRE_NAME:
	case CHUNK_EXT_NAME:
	case CHUNK_EXT_NAME_WS:
	case CHUNK_EXT_PRE_VALUE:
	case CHUNK_EXT_TOKEN:
	case CHUNK_EXT_QUOTED:
	case CHUNK_EXT_QPAIR:
	case CHUNK_EXT_QUOTE_END:
		return chunk_line_byte(cs, c);
	case CHUNK_SIZE_LF:
		if (c != '\n')
			return -1;	/* RFC 9112 7.1: CRLF after size */
		cs->line = 0;
		cs->state = cs->left > 0 ? CHUNK_DATA : CHUNK_TRAILER;
		return 0;
	case CHUNK_DATA_CR:
		cs->state = CHUNK_DATA_LF;
		return c == '\r' ? 0 : -1;	/* RFC 9112 7.1: CRLF */
	case CHUNK_DATA_LF:
		cs->state = CHUNK_SIZE;
		return c == '\n' ? 0 : -1;
	case CHUNK_TRAILER:
		if (c == '\r') {
			cs->state = CHUNK_FINAL_LF;
			return 0;
		}
		if (!tchar[c])
			return -1;	/* RFC 9112 7.1.2: a field line */
		cs->state = CHUNK_TRAILER_NAME;
		return ++cs->trailer > HTTP_TRAILER_MAX ? -1 : 0;
	case CHUNK_TRAILER_NAME:
		if (++cs->trailer > HTTP_TRAILER_MAX)
			return -1;
		if (c == ':')
			cs->state = CHUNK_TRAILER_LINE;
		else if (!tchar[c])
			return -1;	/* RFC 9112 5.1: name ":" value */
		return 0;
	case CHUNK_TRAILER_LINE:
		if (++cs->trailer > HTTP_TRAILER_MAX)
			return -1;
		if (c == '\r')
			cs->state = CHUNK_TRAILER_LF;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
		return 0;
	case CHUNK_TRAILER_LF:
		cs->state = CHUNK_TRAILER;
		return c == '\n' ? 0 : -1;
	case CHUNK_FINAL_LF:
		if (c != '\n')
			return -1;
		cs->done = true;
		return 0;
	}
	return -1;
}

int
http_chunk_parse(struct http_chunk_state *cs, const char *buf, size_t len,
    struct str *data, int *status)
{
	size_t	 i, n;

	data->p = NULL;
	data->len = 0;
	if (len == 0 || cs->done)
		return HTTP_PARSE_INCOMPLETE;
	if (cs->state == CHUNK_DATA) {
		n = cs->left < len ? (size_t)cs->left : len;
		if (n > INT32_MAX)
			n = INT32_MAX;
		data->p = buf;
		data->len = n;
		cs->left -= n;
		if (cs->left == 0)
			cs->state = CHUNK_DATA_CR;
		return (int)n;
	}
	for (i = 0; i < len && i < INT32_MAX; i++) {
		if (chunk_byte(cs, (unsigned char)buf[i]) == -1) {
			*status = 400;
			return HTTP_PARSE_ERROR;
		}
		if (cs->done || cs->state == CHUNK_DATA)
			return (int)(i + 1);
	}
	return (int)i;
}
