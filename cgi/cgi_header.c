/*
 * A CGI's response header block (RFC 3875 6.2): "Name: value" lines ended
 * by an empty line, with LF or CRLF line ends. Status, Content-Type,
 * Location and Content-Length are taken out; other end-to-end fields are
 * passed through; hop-by-hop ones and those porch writes itself are
 * dropped. Anything malformed is the script's fault: 502.
 */
#include <string.h>

#include "cgi.h"

/* Fields a script may not set: they describe porch's hop, not the data. */
static bool
field_dropped(struct str name)
{
	static const char *const dropped[] = { "Connection", "Keep-Alive",
	    "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Server", "Date",
	    "X-Request-Id", "Proxy-Connection" };
	size_t	 i;

	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (str_eq_nocase(name, dropped[i]))
			return true;
	return false;
}

/* Offset just past the empty line that ends the block; 0 if not yet. */
static size_t
block_end(const char *buf, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i == 0)
			return 1;
		if (buf[i - 1] == '\n')
			return i + 1;
		if (buf[i - 1] == '\r' && (i == 1 || buf[i - 2] == '\n'))
			return i + 1;
	}
	return 0;
}

static int
header_status(struct str v, struct cgi_header *h)
{
	uint64_t	 n;

	/* "Status: 404 Not Found": three digits, then an optional reason */
	if (v.len < 3 || parse_uint(v.p, 3, 599, &n) == -1 || n < 200 ||
	    (v.len > 3 && v.p[3] != ' '))
		return -1;
	h->status = (int)n;
	return 0;
}

static int
header_field(struct str name, struct str v, struct cgi_header *h,
    size_t cap)
{
	if (str_eq_nocase(name, "Status"))
		return header_status(v, h);
	if (str_eq_nocase(name, "Content-Type")) {
		h->content_type = v;
		return 0;
	}
	if (str_eq_nocase(name, "Location")) {
		if (v.len == 0)
			return -1;
		h->location = v;
		return 0;
	}
	if (str_eq_nocase(name, "Content-Length")) {
		if (h->has_length || parse_uint(v.p, v.len, UINT64_MAX,
		    &h->content_length) == -1)
			return -1;
		h->has_length = true;
		return 0;
	}
	if (field_dropped(name))
		return 0;
	if (h->nfields == cap)
		return -1;
	h->fields[h->nfields].name = name;
	h->fields[h->nfields].value = v;
	h->nfields++;
	return 0;
}

/*
 * Returns the bytes of the block (>0), HTTP_PARSE_INCOMPLETE, or
 * HTTP_PARSE_ERROR with *status 502.
 */
int
cgi_header_parse(const char *buf, size_t len, struct cgi_header *h,
    int *status)
{
	const char	*p, *end, *eol, *colon;
	struct str	 name, v;
	size_t		 n, cap = h->nfields;

	if ((n = block_end(buf, len)) == 0)
		return HTTP_PARSE_INCOMPLETE;
	*status = 502;
	memset(h, 0, offsetof(struct cgi_header, fields));
	h->nfields = 0;
	for (p = buf, end = buf + n; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		name.p = p;
		v.len = (size_t)(eol - p);
		if (v.len > 0 && p[v.len - 1] == '\r')
			v.len--;
		if (v.len == 0)
			break;			/* the empty line */
		colon = memchr(p, ':', v.len);
		if (colon == NULL || colon == p)
			return HTTP_PARSE_ERROR;
		name.len = (size_t)(colon - p);
		for (v.p = colon + 1; v.p < p + v.len && (*v.p == ' ' ||
		    *v.p == '\t'); v.p++)
			;
		v.len = (size_t)(p + v.len - v.p);
		while (v.len > 0 && (v.p[v.len - 1] == ' ' ||
		    v.p[v.len - 1] == '\t'))
			v.len--;
		for (size_t i = 0; i < name.len; i++)
			if (!http_is_tchar((unsigned char)name.p[i]))
				return HTTP_PARSE_ERROR;
		for (size_t i = 0; i < v.len; i++)
			if (((unsigned char)v.p[i] < 0x20 && v.p[i] != '\t') ||
			    v.p[i] == 0x7f)
				return HTTP_PARSE_ERROR;	/* CR, NUL... */
		if (header_field(name, v, h, cap) == -1)
			return HTTP_PARSE_ERROR;
	}
	/* RFC 3875 6.2: a response has a type, a location or a status. */
	if (h->content_type.p == NULL && h->location.p == NULL &&
	    h->status == 0)
		return HTTP_PARSE_ERROR;
	if (n > INT32_MAX)
		return HTTP_PARSE_ERROR;
	return (int)n;
}
