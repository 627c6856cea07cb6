/*
 * RFC 7617 Basic credentials: "Basic" SP token68, base64 of "user:pass".
 * Pure: decodes into the caller's buffers, NUL-terminated.
 */
#include <string.h>

#include "http.h"

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 with padding; returns the decoded length or -1. */
static long
b64decode(const char *in, size_t len, char *out, size_t outsize)
{
	size_t		 i, n = 0;
	unsigned	 acc = 0, bits = 0, pad = 0;
	int		 v;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (in[i] == '=') {
			if (i < len - 2)
				return -1;
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64val((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= outsize)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	return (long)n;
}

/*
 * Splits an Authorization value into user and password. 0 on success,
 * -1 when it is not well-formed Basic or does not fit. A NUL or control
 * byte inside is refused: it could cut a name short in a log or a CGI.
 */
int
http_basic_decode(struct str v, char *user, size_t usize, char *pass,
    size_t psize)
{
	char		 buf[512];
	const char	*colon;
	long		 n;
	size_t		 ulen, plen, i;

	if (v.len < 7 || !str_eq_nocase((struct str){ v.p, 6 }, "Basic "))
		return -1;
	v.p += 6;
	v.len -= 6;
	while (v.len > 0 && v.p[0] == ' ') {
		v.p++;
		v.len--;
	}
	if ((n = b64decode(v.p, v.len, buf, sizeof(buf))) <= 0)
		return -1;
	for (i = 0; i < (size_t)n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return -1;
	if ((colon = memchr(buf, ':', (size_t)n)) == NULL)
		return -1;
	ulen = (size_t)(colon - buf);
	plen = (size_t)n - ulen - 1;
	if (ulen == 0 || ulen >= usize || plen >= psize)
		return -1;
	memcpy(user, buf, ulen);
	user[ulen] = '\0';
	memcpy(pass, colon + 1, plen);
	pass[plen] = '\0';
	memset(buf, 0, sizeof(buf));
	return 0;
}
