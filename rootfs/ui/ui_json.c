/*
 * JSON (RFC 8259) for the UI's CGIs: a writer into a fixed buffer that
 * escapes everything a browser could read as markup, and a strict reader
 * of one object. Pure.
 */
#include <string.h>

#include "ui.h"

void
jw_init(struct jw *j, char *buf, size_t size)
{
	j->start = j->p = buf;
	j->end = buf + size;
	j->overflow = size == 0;
	if (size > 0)
		buf[0] = '\0';
}

static void
jw_mem(struct jw *j, const char *s, size_t n)
{
	if (j->overflow || n >= (size_t)(j->end - j->p)) {
		j->overflow = true;
		return;
	}
	memcpy(j->p, s, n);
	j->p += n;
	*j->p = '\0';
}

void
jw_raw(struct jw *j, const char *s)
{
	jw_mem(j, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 (RFC 3629 4). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char	 c = s[0];
	size_t		 len, i;
	unsigned char	 lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void
jw_str(struct jw *j, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)s;
	char			 esc[7];
	size_t			 i, n;

	jw_mem(j, "\"", 1);
	for (i = 0; i < len; i += n) {
		n = utf8_len(u + i, len - i);
		if (n == 0) {
			jw_mem(j, "\\ufffd", 6);
			n = 1;
		} else if (n > 1)
			jw_mem(j, s + i, n);
		else if (u[i] == '"' || u[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[i];
			jw_mem(j, esc, 2);
		} else if (u[i] < 0x20 || u[i] == 0x7f || u[i] == '<' ||
		    u[i] == '>' || u[i] == '&') {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 15];
			jw_mem(j, esc, 6);
		} else
			jw_mem(j, s + i, 1);
	}
	jw_mem(j, "\"", 1);
}

void
jw_cstr(struct jw *j, const char *s)
{
	jw_str(j, s, strlen(s));
}

void
jw_uint(struct jw *j, uint64_t v)
{
	char	 tmp[FMT_UINT_MAX];

	jw_mem(j, tmp, fmt_uint(v, tmp));
}

void
jw_key(struct jw *j, const char *key)
{
	jw_cstr(j, key);
	jw_mem(j, ":", 1);
}

void
jw_next_str(struct jw *j, const char *key, const char *s)
{
	jw_raw(j, ",");
	jw_key(j, key);
	jw_cstr(j, s);
}

void
jw_next_uint(struct jw *j, const char *key, uint64_t v)
{
	jw_raw(j, ",");
	jw_key(j, key);
	jw_uint(j, v);
}

size_t
jw_len(const struct jw *j)
{
	return (size_t)(j->p - j->start);
}

/* --- reading ------------------------------------------------------------ */

struct rd {
	const char	*p, *end;
};

static void
skip_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* Four hex digits at p (p..p+4 within bounds). */
static long
hex4(const char *p)
{
	long	 v = 0;
	int	 i, d;

	for (i = 0; i < 4; i++) {
		if ((d = http_hexval((unsigned char)p[i])) < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A string: r->p at the opening quote; *raw, *rawlen between quotes. */
static int
rd_string(struct rd *r, const char **raw, size_t *rawlen)
{
	const char	*s;
	size_t		 n;

	if (r->p >= r->end || *r->p != '"')
		return -1;
	s = ++r->p;
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p;

		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (r->end - r->p < 2)
				return -1;
			if (r->p[1] == 'u') {
				if (r->end - r->p < 6 || hex4(r->p + 2) < 0)
					return -1;
				r->p += 6;
			} else if (strchr("\"\\/bfnrt", r->p[1]) == NULL ||
			    r->p[1] == '\0')
				return -1;
			else
				r->p += 2;
			continue;
		}
		if ((n = utf8_len((const unsigned char *)r->p,
		    (size_t)(r->end - r->p))) == 0)
			return -1;
		r->p += n;
	}
	if (r->p >= r->end)
		return -1;
	*raw = s;
	*rawlen = (size_t)(r->p - s);
	r->p++;
	return 0;
}

static int
rd_digits(struct rd *r)
{
	const char	*s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s ? 0 : -1;
}

/* RFC 8259 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int
rd_number(struct rd *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (rd_digits(r) == -1)
		return -1;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (rd_digits(r) == -1)
			return -1;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (rd_digits(r) == -1)
			return -1;
	}
	return 0;
}

static int
rd_word(struct rd *r, const char *w)
{
	size_t	 n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return -1;
	r->p += n;
	return 0;
}

static int rd_value(struct rd *, int, enum json_type *);

/* An object or array after its opening bracket, up to its closing one. */
static int
rd_container(struct rd *r, int depth, bool object)
{
	const char	*k;
	size_t		 kl;
	enum json_type	 t;

	skip_ws(r);
	if (r->p < r->end && *r->p == (object ? '}' : ']')) {
		r->p++;
		return 0;
	}
	for (;;) {
		skip_ws(r);
		if (object) {
			if (rd_string(r, &k, &kl) == -1)
				return -1;
			skip_ws(r);
			if (r->p >= r->end || *r->p++ != ':')
				return -1;
		}
		if (rd_value(r, depth + 1, &t) == -1)
			return -1;
		skip_ws(r);
		if (r->p >= r->end)
			return -1;
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p++ != (object ? '}' : ']'))
			return -1;
		return 0;
	}
}

static int
rd_value(struct rd *r, int depth, enum json_type *t)
{
	const char	*s;
	size_t		 n;

	skip_ws(r);
	if (r->p >= r->end || depth > JSON_DEPTH_MAX)
		return -1;
	switch (*r->p) {
	case '"':
		*t = JSON_STRING;
		return rd_string(r, &s, &n);
	case '{':
		*t = JSON_OBJECT;
		r->p++;
		return rd_container(r, depth, true);
	case '[':
		*t = JSON_ARRAY;
		r->p++;
		return rd_container(r, depth, false);
	case 't':
		*t = JSON_TRUE;
		return rd_word(r, "true");
	case 'f':
		*t = JSON_FALSE;
		return rd_word(r, "false");
	case 'n':
		*t = JSON_NULL;
		return rd_word(r, "null");
	default:
		*t = JSON_NUMBER;
		return rd_number(r);
	}
}

static bool
key_seen(const struct json_member *m, size_t n, const char *k, size_t kl)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (m[i].keylen == kl && memcmp(m[i].key, k, kl) == 0)
			return true;
	return false;
}

int
json_object(const char *buf, size_t len, struct json_member *out, size_t max,
    size_t *n)
{
	struct rd		 r = { buf, buf + len };
	struct json_member	 m;
	const char		*vs;

	*n = 0;
	skip_ws(&r);
	if (r.p >= r.end || *r.p++ != '{')
		return -1;
	skip_ws(&r);
	if (r.p < r.end && *r.p == '}')
		r.p++;
	else
		for (;;) {
			skip_ws(&r);
			if (rd_string(&r, &m.key, &m.keylen) == -1)
				return -1;
			skip_ws(&r);
			if (r.p >= r.end || *r.p++ != ':')
				return -1;
			skip_ws(&r);
			vs = r.p;
			if (rd_value(&r, 1, &m.type) == -1)
				return -1;
			if (m.type == JSON_STRING) {
				m.val = vs + 1;
				m.vallen = (size_t)(r.p - vs) - 2;
			} else {
				m.val = vs;
				m.vallen = (size_t)(r.p - vs);
			}
			/* A key twice is ambiguous: readers differ on which
			 * one wins. */
			if (*n >= max || key_seen(out, *n, m.key, m.keylen))
				return -1;
			out[(*n)++] = m;
			skip_ws(&r);
			if (r.p >= r.end)
				return -1;
			if (*r.p == ',') {
				r.p++;
				continue;
			}
			if (*r.p++ != '}')
				return -1;
			break;
		}
	skip_ws(&r);
	return r.p == r.end ? 0 : -1;
}

const struct json_member *
json_get(const struct json_member *m, size_t n, const char *key)
{
	size_t	 i, kl = strlen(key);

	for (i = 0; i < n; i++)
		if (m[i].keylen == kl && memcmp(m[i].key, key, kl) == 0)
			return &m[i];
	return NULL;
}

static size_t
put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Raw text was checked by rd_string; still, every read is bounded. */
int
json_unescape(const char *raw, size_t len, char *out, size_t outsize,
    size_t *outlen)
{
	size_t		 i = 0, o = 0, k;
	long		 cp, lo;
	char		 tmp[4];
	const char	*src;

	if (outsize == 0)
		return -1;
	while (i < len) {
		src = raw + i;
		k = 1;
		if (raw[i] != '\\') {
			i++;
		} else {
			if (i + 1 >= len)
				return -1;
			switch (raw[i + 1]) {
			case '"': case '\\': case '/':
				tmp[0] = raw[i + 1]; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u':
				if (i + 6 > len || (cp = hex4(raw + i + 2)) < 0)
					return -1;
				i += 6;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return -1;	/* lone low surrogate */
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (i + 6 > len || raw[i] != '\\' ||
					    raw[i + 1] != 'u' ||
					    (lo = hex4(raw + i + 2)) < 0xdc00 ||
					    lo > 0xdfff)
						return -1;
					i += 6;
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
				}
				if (cp == 0)
					return -1;	/* no NUL in C strings */
				k = put_utf8(tmp, (unsigned long)cp);
				src = tmp;
				goto copy;
			default:
				return -1;
			}
			i += 2;
			src = tmp;
		}
copy:
		if (o + k >= outsize)
			return -1;
		memcpy(out + o, src, k);
		o += k;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

int
json_uint(const struct json_member *m, uint64_t max, uint64_t *out)
{
	if (m == NULL || m->type != JSON_NUMBER)
		return -1;
	if (m->vallen > 1 && m->val[0] == '0')
		return -1;
	return parse_uint(m->val, m->vallen, max, out);
}
