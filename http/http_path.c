/*
 * Request paths: percent-decoding and dot-segment removal (RFC 3986 5.2.4)
 * into a caller's buffer. Decoding happens before normalisation, so
 * "%2e%2e" and "%2f" can never smuggle a ".." past it.
 */
#include <string.h>

#include "http.h"

/* Drops the last segment of out[0..*len), keeping its leading '/'. */
static int
pop_segment(char *out, size_t *len)
{
	if (*len <= 1)
		return -1;		/* ".." above the root */
	(*len)--;			/* the '/' that ends the segment */
	while (*len > 0 && out[*len - 1] != '/')
		(*len)--;
	return 0;
}

/*
 * Ends one segment seg[0..n) whose bytes are already appended at
 * out[*len - n..*len): "." vanishes, ".." removes the previous one.
 */
static int
end_segment(char *out, size_t *len, size_t n)
{
	const char	*seg = out + *len - n;

	if (n == 1 && seg[0] == '.') {
		*len -= 1;
		return 0;
	}
	if (n == 2 && seg[0] == '.' && seg[1] == '.') {
		*len -= 2;
		return pop_segment(out, len);
	}
	return 0;
}

/*
 * Decodes raw (starting with '/') into out as a NUL-terminated absolute
 * path without ".", ".." or empty segments. A trailing '/' is kept, since
 * it tells a directory request from a file request. Returns the length,
 * or -1 with *status 400 (bad escape, NUL, control byte, escape above
 * the root) or 414 (does not fit).
 */
int
http_path_decode(struct str raw, char *out, size_t outsize, int *status)
{
	size_t		 i, len = 0, seg = 0;
	int		 hi, lo;
	unsigned char	 c;

	*status = 400;
	if (raw.len == 0 || raw.p[0] != '/' || outsize < 2)
		return -1;
	out[len++] = '/';
	for (i = 1; i < raw.len; i++) {
		c = (unsigned char)raw.p[i];
		if (c == '%') {
			if (i + 2 >= raw.len)
				return -1;
			hi = http_hexval((unsigned char)raw.p[i + 1]);
			lo = http_hexval((unsigned char)raw.p[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (c == 0)
				return -1;	/* %00 truncates C paths */
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (len + 2 > outsize) {
			*status = 414;
			return -1;
		}
		if (c == '/') {
			if (end_segment(out, &len, seg) == -1)
				return -1;
			seg = 0;
			if (out[len - 1] != '/')	/* collapse "//" */
				out[len++] = '/';
			continue;
		}
		out[len++] = (char)c;
		seg++;
	}
	if (end_segment(out, &len, seg) == -1)
		return -1;
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return (int)len;
}

/*
 * The length of prefix when path is under it, else 0: "/admin" covers
 * "/admin" and "/admin/x", not "/administer"; "/admin/" and "/" cover
 * what starts with them. The length lets callers pick the longest.
 */
size_t
http_path_under(const char *path, const char *prefix)
{
	size_t	 n = strlen(prefix);

	if (n == 0 || strncmp(path, prefix, n) != 0)
		return 0;
	if (prefix[n - 1] != '/' && path[n] != '\0' && path[n] != '/')
		return 0;
	return n;
}

/* True when a segment starts with '.': dotfiles are never served. */
bool
http_path_has_dotfile(const char *path)
{
	const char	*p;

	for (p = path; (p = strchr(p, '/')) != NULL; p++)
		if (p[1] == '.')
			return true;
	return false;
}

/*
 * len bytes of s percent-encoded into out (NUL-terminated): ASCII letters,
 * digits and the bytes of keep stay, every other byte is escaped. Its
 * length, or -1 when it does not fit in size.
 */
static int
http_encode(const char *s, size_t len, const char *keep, char *out,
    size_t size)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = 0, i;
	unsigned char		 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' &&
		    strchr(keep, c) != NULL)) {
			if (n + 2 > size)
				return -1;
			out[n++] = (char)c;
			continue;
		}
		if (n + 4 > size)
			return -1;
		out[n++] = '%';
		out[n++] = hex[c >> 4];
		out[n++] = hex[c & 15];
	}
	if (n + 1 > size)
		return -1;
	out[n] = '\0';
	return (int)n;
}

/*
 * A decoded, normalised path (from http_path_decode) percent-encoded for a
 * Location: every byte but RFC 3986's unreserved, sub-delims, ':', '@'
 * and '/' is escaped, so "/\host" or a space can never be read as
 * anything but a path, and since the path has no empty segment the result
 * starts with exactly one '/'. Returns its length, or -1 when it does not
 * fit in size (NUL included).
 */
int
http_path_encode(const char *path, char *out, size_t size)
{
	return http_encode(path, strlen(path), "-._~!$&'()*+,;=:@/", out,
	    size);
}

/*
 * Bytes of s as a URI component (a query parameter's value): all but RFC
 * 3986's unreserved characters percent-encoded. Its length, or -1 when
 * it does not fit in size (NUL included).
 */
int
http_encode_component(const char *s, size_t len, char *out, size_t size)
{
	return http_encode(s, len, "-._~", out, size);
}
