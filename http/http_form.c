/*
 * Small request bodies that porch reads itself (the session login): a
 * field of an application/x-www-form-urlencoded body, or of a flat JSON
 * object, decoded into a caller's buffer; and JSON string escaping for
 * what porch answers. Pure, and strict: a key twice, a bad escape or a
 * NUL is an error, never a guess.
 */
#include <string.h>

#include "http.h"

/*
 * key's value in a form body (WHATWG urlencoded: '&' between pairs, '+'
 * for a space, %XX), NUL-terminated into out. 1 found, 0 absent, -1
 * malformed, twice, with a control byte, or too long for out.
 */
int
http_form_get(struct str body, const char *key, char *out, size_t size)
{
	const char	*p = body.p, *end = body.p + body.len, *amp, *eq;
	size_t		 klen = strlen(key), n;
	int		 found = 0, hi, lo;
	unsigned char	 c;

	for (; p < end; p = amp + 1) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL || (size_t)(eq - p) != klen ||
		    memcmp(p, key, klen) != 0)
			continue;
		if (found++ > 0)
			return -1;
		for (n = 0, p = eq + 1; p < amp; p++) {
			c = (unsigned char)*p;
			if (c == '+')
				c = ' ';
			else if (c == '%') {
				if (amp - p < 3 || (hi = http_hexval(
				    (unsigned char)p[1])) < 0 ||
				    (lo = http_hexval((unsigned char)p[2])) < 0)
					return -1;
				c = (unsigned char)(hi << 4 | lo);
				p += 2;
			}
			if (c < 0x20 || c == 0x7f || n + 1 >= size)
				return -1;
			out[n++] = (char)c;
		}
		out[n] = '\0';
	}
	return found;
}

static const char *
json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* Appends code point cp as UTF-8; false when out is full. */
static bool
json_utf8(unsigned long cp, char *out, size_t size, size_t *n)
{
	unsigned char	 b[4];
	size_t		 k;

	if (cp < 0x80)
		b[0] = (unsigned char)cp, k = 1;
	else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18);
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (out != NULL) {
		if (*n + k + 1 > size)
			return false;
		memcpy(out + *n, b, k);
	}
	*n += k;
	return true;
}

/* Four hex digits at p; -1 if not. */
static long
json_hex4(const char *p, const char *end)
{
	long	 v = 0;
	int	 i, d;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = http_hexval((unsigned char)p[i])) < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * A JSON string at *pp (its opening quote), decoded into out (NULL: only
 * checked). Moves *pp past the closing quote; false when malformed, with
 * a control byte or \u0000 in it, or too long.
 */
static bool
json_string(const char **pp, const char *end, char *out, size_t size)
{
	const char	*p = *pp + 1;
	size_t		 n = 0;
	long		 cp, lo;
	unsigned char	 c;

	for (;;) {
		if (p >= end)
			return false;
		c = (unsigned char)*p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return false;		/* RFC 8259 7: escaped only */
		if (c != '\\') {
			if (out != NULL && n + 2 > size)
				return false;
			if (out != NULL)
				out[n] = (char)c;
			n++;
			continue;
		}
		if (p >= end)
			return false;
		c = (unsigned char)*p++;
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if ((cp = json_hex4(p, end)) <= 0)
				return false;	/* bad, or a NUL */
			p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return false;	/* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    (lo = json_hex4(p + 2, end)) < 0xdc00 ||
				    lo > 0xdfff)
					return false;
				p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			if (!json_utf8((unsigned long)cp, out, size, &n))
				return false;
			continue;
		default:
			return false;
		}
		if (out != NULL && n + 2 > size)
			return false;
		if (out != NULL)
			out[n] = (char)c;
		n++;
	}
	if (out != NULL)
		out[n] = '\0';
	*pp = p;
	return true;
}

/* A scalar that is not a string (number, true, false, null): skipped. */
static const char *
json_scalar(const char *p, const char *end)
{
	const char	*s = p;

	while (p < end && (strchr("+-.0123456789eE", *p) != NULL ||
	    (*p >= 'a' && *p <= 'z')))
		p++;
	if (p == s)
		return NULL;
	if ((p - s == 4 && (memcmp(s, "true", 4) == 0 ||
	    memcmp(s, "null", 4) == 0)) || (p - s == 5 &&
	    memcmp(s, "false", 5) == 0) || (*s == '-' || (*s >= '0' &&
	    *s <= '9')))
		return p;
	return NULL;
}

/*
 * key's value in a flat JSON object (RFC 8259; string, number, true,
 * false or null values; no nesting), a string decoded to UTF-8 into out.
 * 1 found (a string), 0 absent, -1 malformed, twice, not a string, or
 * too long for out.
 */
int
http_json_get(struct str body, const char *key, char *out, size_t size)
{
	const char	*p = body.p, *end = body.p + body.len;
	char		 name[64];
	int		 found = 0;
	bool		 first = true;

	p = json_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	for (;;) {
		p = json_ws(p, end);
		if (p < end && *p == '}' && first) {
			p++;
			break;
		}
		if (p >= end || *p != '"')
			return -1;
		if (!json_string(&p, end, name, sizeof(name)))
			return -1;
		p = json_ws(p, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = json_ws(p, end);
		if (p >= end)
			return -1;
		if (strcmp(name, key) == 0) {
			if (found++ > 0 || *p != '"' ||
			    !json_string(&p, end, out, size))
				return -1;
		} else if (*p == '"') {
			if (!json_string(&p, end, NULL, 0))
				return -1;
		} else if ((p = json_scalar(p, end)) == NULL)
			return -1;
		first = false;
		p = json_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}') {
			p++;
			break;
		}
		return -1;
	}
	return json_ws(p, end) == end ? found : -1;
}

/*
 * s as the inside of a JSON string into out (NUL-terminated): '"', '\\'
 * and control bytes escaped; bytes of 0x80 and above kept (UTF-8). Its
 * length, or -1 when it does not fit.
 */
int
http_json_escape(const char *s, size_t len, char *out, size_t size)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 n = 0, i;
	unsigned char		 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
			if (n + 7 > size)
				return -1;
			if (c == '"' || c == '\\') {
				out[n++] = '\\';
				out[n++] = (char)c;
			} else {
				memcpy(out + n, "\\u00", 4);
				out[n + 4] = hex[c >> 4];
				out[n + 5] = hex[c & 15];
				n += 6;
			}
			continue;
		}
		if (n + 2 > size)
			return -1;
		out[n++] = (char)c;
	}
	if (n + 1 > size)
		return -1;
	out[n] = '\0';
	return (int)n;
}
