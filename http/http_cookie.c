/*
 * The Cookie request field (RFC 6265 4.2.1, 5.4): finding one cookie by
 * name, and the field without it (what a CGI may see). Pure.
 *
 *	cookie-string = cookie-pair *( ";" SP cookie-pair )
 *	cookie-pair   = cookie-name "=" cookie-value
 *	cookie-value  = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
 *
 * The cookie asked for is held to the grammar; others are only split
 * off, since a host's other applications may set whatever they like. A
 * control byte (a NUL above all: CVE-2021-32030 matched a session through
 * one) anywhere makes the field unusable, and so does the name twice:
 * two values for a session would let two parsers pick differently.
 */
#include <string.h>

#include "http.h"

/* RFC 6265 4.1.1: cookie-octet */
static bool
cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

/* Splits the next pair off *list: false at its end. */
static bool
cookie_next(struct str *list, struct str *name, struct str *value)
{
	const char	*semi, *eq;
	struct str	 pair;

	while (list->len > 0) {
		semi = memchr(list->p, ';', list->len);
		pair.p = list->p;
		pair.len = semi ? (size_t)(semi - list->p) : list->len;
		list->p += pair.len + (semi ? 1 : 0);
		list->len -= pair.len + (semi ? 1 : 0);
		while (pair.len > 0 && (pair.p[0] == ' ' || pair.p[0] == '\t')) {
			pair.p++;
			pair.len--;
		}
		while (pair.len > 0 && (pair.p[pair.len - 1] == ' ' ||
		    pair.p[pair.len - 1] == '\t'))
			pair.len--;
		if (pair.len == 0)
			continue;
		eq = memchr(pair.p, '=', pair.len);
		name->p = pair.p;
		name->len = eq ? (size_t)(eq - pair.p) : pair.len;
		value->p = eq ? eq + 1 : pair.p + pair.len;
		value->len = eq ? pair.len - name->len - 1 : 0;
		return true;
	}
	return false;
}

static bool
cookie_has_ctl(struct str v)
{
	size_t	 i;

	for (i = 0; i < v.len; i++)
		if ((unsigned char)v.p[i] < 0x20 || v.p[i] == 0x7f)
			return true;
	return false;
}

/*
 * The value of cookie name in field v: 1 (into *value, quotes removed),
 * 0 when it is not there, -1 when the field is unusable: a control byte,
 * the name twice, or its value outside the grammar.
 */
int
http_cookie_get(struct str v, const char *name, struct str *value)
{
	struct str	 n, val;
	size_t		 i;
	int		 found = 0;

	if (cookie_has_ctl(v))
		return -1;
	while (cookie_next(&v, &n, &val)) {
		if (!str_eq(n, name))
			continue;
		if (found++ > 0)
			return -1;	/* twice: which one? */
		if (val.len >= 2 && val.p[0] == '"' && val.p[val.len - 1] == '"') {
			val.p++;
			val.len -= 2;
		}
		for (i = 0; i < val.len; i++)
			if (!cookie_octet((unsigned char)val.p[i]))
				return -1;
		*value = val;
	}
	return found;
}

/*
 * Field v without the cookie name, into out (NUL-terminated), pairs
 * joined by "; ". Its length, or -1 when it does not fit or holds a
 * control byte.
 */
int
http_cookie_strip(struct str v, const char *name, char *out, size_t size)
{
	struct str	 n, val;
	size_t		 len = 0, k;

	if (size == 0 || cookie_has_ctl(v))
		return -1;
	while (cookie_next(&v, &n, &val)) {
		if (str_eq(n, name))
			continue;
		k = (size_t)(val.p + val.len - n.p);
		if (len + (len ? 2 : 0) + k + 1 > size)
			return -1;
		if (len > 0) {
			memcpy(out + len, "; ", 2);
			len += 2;
		}
		memcpy(out + len, n.p, k);
		len += k;
	}
	out[len] = '\0';
	return (int)len;
}
