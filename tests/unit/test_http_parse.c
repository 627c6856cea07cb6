/*
 * Unit tests of http_parse.c: request heads and framing (DESIGN 4), and the
 * chunked-body decoder. Every case runs whole, split in two at every offset
 * (fed the way conn.c feeds the parser: the prefix first, then the whole
 * buffer with seen = prefix length) and one byte at a time; all three must
 * agree. Every input ends exactly at a PROT_NONE page.
 */
#include "unit.h"

#include "http.h"

#define S(lit)		lit, sizeof(lit) - 1
#define INCOMPLETE	(-2)		/* case status: the whole input is -2 */

#define HEAD_CAP	32		/* default field capacity */
#define HEAD_CAP_MAX	160

/* Expected framing flags of an accepted head. */
#define F_CLOSE		0x01
#define F_KEEPALIVE	0x02
#define F_CONTINUE	0x04
#define F_ASTERISK	0x08
#define F_QUERY		0x10
#define F_V10		0x20		/* HTTP/1.0 (else 1.1) */

#define M(x)		((x) + 1)	/* .m: expected method, 0 unchecked */

struct head_case {
	int		 line;
	const char	*in;
	size_t		 len;
	int		 status;	/* 0 accepted, INCOMPLETE, or it */
	int		 m;
	enum http_body	 body;
	uint64_t	 length;
	unsigned	 flags;
	const char	*host, *path, *query;	/* NULL: unchecked */
	size_t		 consumed;	/* 0: all of it */
	size_t		 cap;		/* field capacity, 0: HEAD_CAP */
	size_t		 fmax;		/* field_max, 0: none */
};

#define GET11	"GET / HTTP/1.1\r\nHost: a\r\n"

static const struct head_case head_cases[] = {
	/* accepted heads */
	{ __LINE__, S(GET11 "\r\n"), 0, M(METHOD_GET), .host = "a",
	    .path = "/" },
	{ __LINE__, S("GET / HTTP/1.0\r\n\r\n"), 0, .flags = F_V10,
	    .path = "/" },
	{ __LINE__, S("GET / HTTP/1.0\r\nHost: a\r\n\r\n"), 0, .flags = F_V10,
	    .host = "a" },
	{ __LINE__, S("GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n"
	    "User-Agent: curl/8.0\r\n\r\n"), 0, .path = "/x" },
	{ __LINE__, S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0 },
	{ __LINE__, S("GET / HTTP/1.9\r\n\r\n"), 400 },	/* 1.x needs Host */
	/* RFC 9112 2.2 lets a server skip empty lines before the request
	 * line; porch rejects them (README: strictness choices) */
	{ __LINE__, S("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("\r\n \r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	/* pipelined bytes after the head are not consumed */
	{ __LINE__, S(GET11 "\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    .consumed = sizeof(GET11 "\r\n") - 1 },
	{ __LINE__, S(GET11 "\r\n\n\n\r\rgarbage"), 0,
	    .consumed = sizeof(GET11 "\r\n") - 1 },

	/* incomplete heads */
	{ __LINE__, S(""), INCOMPLETE },
	{ __LINE__, S("G"), INCOMPLETE },
	{ __LINE__, S("GET / HTTP/1.1"), INCOMPLETE },
	{ __LINE__, S("GET / HTTP/1.1\r\n"), INCOMPLETE },
	{ __LINE__, S(GET11), INCOMPLETE },
	{ __LINE__, S(GET11 "\r"), INCOMPLETE },
	{ __LINE__, S("GET / HTTP/2.0\r\nHost: a\r\n"), INCOMPLETE },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\n X"), INCOMPLETE },

	/* bare CR, bare LF: RFC 9112 2.2 */
	{ __LINE__, S("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET\r / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\rHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: \r\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\n\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\n\n"), 400 },
	{ __LINE__, S("GET /\n HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },

	/* malformed request lines: RFC 9112 3 */
	{ __LINE__, S("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1  \r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1 x\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1xxHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /\r\nHost: a\r\n\r\n"), 400 },	/* no version */
	{ __LINE__, S("GET / \r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET \r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\n\r\n"), 400 },	/* no Host */
	{ __LINE__, S("GET / http/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / Http/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/01.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/11\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1,1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/2\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTPS/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\x00\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /a\x00 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("G\xc3\x89T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	/* 505: RFC 9110 15.6.6, a major version we do not speak */
	{ __LINE__, S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505 },
	{ __LINE__, S("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), 505 },
	{ __LINE__, S("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505 },
	{ __LINE__, S("GET / HTTP/0.9\r\n\r\n"), 505 },
	{ __LINE__, S("GET / HTTP/9.9\r\n\r\n"), 505 },
	{ __LINE__, S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505 },

	/* methods: RFC 9110 9.1, case-sensitive; unknown is not an error */
	{ __LINE__, S("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_HEAD) },
	{ __LINE__, S("POST / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_POST) },
	{ __LINE__, S("PUT / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, M(METHOD_PUT) },
	{ __LINE__, S("DELETE / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_DELETE) },
	{ __LINE__, S("OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_OPTIONS) },
	{ __LINE__, S("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_TRACE) },
	{ __LINE__, S("PATCH / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_PATCH) },
	{ __LINE__, S("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_CONNECT) },
	{ __LINE__, S("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_UNKNOWN) },
	{ __LINE__, S("Get / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_UNKNOWN) },
	{ __LINE__, S("GETS / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_UNKNOWN) },
	{ __LINE__, S("GE / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_UNKNOWN) },
	{ __LINE__, S("PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_UNKNOWN) },
	{ __LINE__, S("X-!#$%&'*+.^_`|~9 / HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_UNKNOWN) },

	/* request targets: RFC 9112 3.2 */
	{ __LINE__, S("GET /a/b?c=d&e HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    .flags = F_QUERY, .path = "/a/b", .query = "c=d&e" },
	{ __LINE__, S("GET /? HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    .flags = F_QUERY, .path = "/", .query = "" },
	{ __LINE__, S("GET /a?b?c/d HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    .flags = F_QUERY, .path = "/a", .query = "b?c/d" },
	{ __LINE__, S("GET /%2e%2e/x HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    .path = "/%2e%2e/x" },	/* still encoded: http_path decides */
	{ __LINE__, S("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET /a?b#c HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET # HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET a HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET ?a HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	/* absolute-form: the host comes from the target (RFC 9112 3.2.2) */
	{ __LINE__, S("GET http://example.com/x?y HTTP/1.1\r\nHost: other\r\n"
	    "\r\n"), 0, .flags = F_QUERY, .host = "example.com", .path = "/x",
	    .query = "y" },
	{ __LINE__, S("GET http://example.com HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    .host = "example.com", .path = "/" },
	{ __LINE__, S("GET HTTPS://example.com:8443?q HTTP/1.1\r\nHost: a\r\n"
	    "\r\n"), 0, .flags = F_QUERY, .host = "example.com:8443",
	    .path = "/", .query = "q" },
	{ __LINE__, S("GET http://[::1]:80/a HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    .host = "[::1]:80", .path = "/a" },
	{ __LINE__, S("GET http://example.com/ HTTP/1.0\r\n\r\n"), 0,
	    .flags = F_V10, .host = "example.com", .path = "/" },
	{ __LINE__, S("GET http://example.com/ HTTP/1.1\r\n\r\n"), 400 },
	{ __LINE__, S("GET http://u@example.com/ HTTP/1.1\r\nHost: a\r\n"
	    "\r\n"), 400 },
	{ __LINE__, S("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET http:// HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET http://?x HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET http://a\"b/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET http://a<b>/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET http://a{b/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET http:/a HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), 400 },
	/* asterisk-form: OPTIONS only (RFC 9112 3.2.4) */
	{ __LINE__, S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	    M(METHOD_OPTIONS), .flags = F_ASTERISK },
	{ __LINE__, S("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("options * HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },

	/* field lines: RFC 9112 5 */
	{ __LINE__, S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"),
	    400 },				/* obs-fold */
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"),
	    400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n \r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX b: c\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX(: c\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX\x00Y: c\r\n\r\n"),
	    400 },				/* NUL in a name */
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX\x01: c\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX\x7f: c\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX\x80: c\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x00" "b\r\n\r\n"),
	    400 },				/* NUL in a value */
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n"),
	    400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x1f" "b\r\n\r\n"),
	    400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f" "b\r\n\r\n"),
	    400 },				/* DEL in a value */
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: a\x0b" "b\r\n\r\n"),
	    400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n"), 0 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: \x80\xff\r\n\r\n"), 0 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n"), 0 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX:  \t \r\n\r\n"), 0 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost:a\r\n\r\n"), 0, .host = "a" },
	{ __LINE__, S("GET / HTTP/1.1\r\nhOST: \t a \t \r\n\r\n"), 0,
	    .host = "a" },

	/* Host: RFC 9112 3.2 */
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a?b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a#b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: \xc3\xa9\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.0\r\nHost: a b\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0,
	    .host = "[::1]:8080" },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n"), 0,
	    .host = "192.0.2.1:80" },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: router.lan.\r\n\r\n"), 0,
	    .host = "router.lan." },
	/* an empty Host is for targets without an authority: a choice */
	{ __LINE__, S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: \t \r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.0\r\nHost:\r\n\r\n"), 400 },
	{ __LINE__, S("GET http://a/ HTTP/1.1\r\nHost:\r\n\r\n"), 400 },
	/* a request starts with its method: nothing before it */
	{ __LINE__, S("\r"), 400 },
	{ __LINE__, S("\r\n"), 400 },
	{ __LINE__, S(" "), 400 },
	{ __LINE__, S("\x00"), 400 },
	{ __LINE__, S("\x16\x03\x01"), 400 },	/* TLS on the plain port */

	/* Content-Length: RFC 9112 6.3 */
	{ __LINE__, S(GET11 "Content-Length: 5\r\n\r\n"), 0,
	    .body = BODY_LENGTH, .length = 5 },
	{ __LINE__, S(GET11 "Content-Length: 0\r\n\r\n"), 0,
	    .body = BODY_NONE },
	{ __LINE__, S(GET11 "content-length:  42 \r\n\r\n"), 0,
	    .body = BODY_LENGTH, .length = 42 },
	/* leading zeros: a choice (README), rejected */
	{ __LINE__, S(GET11 "Content-Length: 0005\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 00\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 01\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 10\r\n\r\n"), 0,
	    .body = BODY_LENGTH, .length = 10 },
	{ __LINE__, S(GET11 "Content-Length: 18446744073709551615\r\n\r\n"),
	    0, .body = BODY_LENGTH, .length = UINT64_MAX },
	{ __LINE__, S(GET11 "Content-Length: 18446744073709551616\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Content-Length: 99999999999999999999\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Content-Length: 123456789012345678901234\r\n"
	    "\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: abc\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 5a\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: +5\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: -1\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 0x5\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 5.0\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 5 5\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: \r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: \"5\"\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 5, 5\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 5,5\r\n\r\n"), 400 },
	/* identical duplicates: RFC 9112 6.3 allows either; rejected */
	{ __LINE__, S(GET11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Content-Length: 0\r\ncontent-length: 0\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Content-Length: 0\r\nContent-Length: 1\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Content-Length: 5\r\nContent-Length: x\r\n\r\n"),
	    400 },

	/* singletons, RFC 9110 5.3: a second line is rejected */
	{ __LINE__, S(GET11 "Authorization: Basic YTpi\r\n"
	    "Authorization: Basic YTpi\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Type: text/plain\r\n"
	    "content-type: text/html\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Cookie: a=1\r\nCookie: b=2\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Range: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Origin: http://a\r\nOrigin: http://a\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "X-CSRF-Token: a\r\nX-Csrf-Token: b\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "If-Modified-Since: x\r\n"
	    "If-Modified-Since: x\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "User-Agent: a\r\nUser-Agent: b\r\n\r\n"), 400 },
	/* list fields may repeat */
	{ __LINE__, S(GET11 "Accept: a\r\nAccept: b\r\n\r\n"), 0 },
	{ __LINE__, S(GET11 "Connection: keep-alive\r\nConnection: close\r\n"
	    "\r\n"), 0, .flags = F_CLOSE | F_KEEPALIVE },
	{ __LINE__, S(GET11 "X-Unknown: 1\r\nX-Unknown: 2\r\n\r\n"), 0 },
	{ __LINE__, S(GET11 "Cookie: a=1; b=2\r\n\r\n"), 0 },

	/* Transfer-Encoding: RFC 9112 6.1, 6.3 */
	{ __LINE__, S(GET11 "Transfer-Encoding: chunked\r\n\r\n"), 0,
	    .body = BODY_CHUNKED },
	{ __LINE__, S(GET11 "transfer-encoding: CHUNKED\r\n\r\n"), 0,
	    .body = BODY_CHUNKED },
	{ __LINE__, S(GET11 "Transfer-Encoding: ,chunked,\r\n\r\n"), 0,
	    .body = BODY_CHUNKED },
	{ __LINE__, S(GET11 "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Content-Length: 0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400 },
	{ __LINE__, S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
	    400 },
	{ __LINE__, S("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Transfer-Encoding: gzip\r\n\r\n"), 501 },
	{ __LINE__, S(GET11 "Transfer-Encoding: identity\r\n\r\n"), 501 },
	{ __LINE__, S(GET11 "Transfer-Encoding: gzip, chunked\r\n\r\n"), 501 },
	{ __LINE__, S(GET11 "Transfer-Encoding: chunked, gzip\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Transfer-Encoding: chunked, chunked\r\n\r\n"),
	    400 },
	{ __LINE__, S(GET11 "Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Transfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 501 },
	{ __LINE__, S(GET11 "Transfer-Encoding: chunked;q=1\r\n\r\n"), 501 },
	{ __LINE__, S(GET11 "Transfer-Encoding: xchunked\r\n\r\n"), 501 },
	{ __LINE__, S(GET11 "Transfer-Encoding:\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Transfer-Encoding: ,\r\n\r\n"), 400 },

	/* Expect: RFC 9110 10.1.1, DESIGN 3 */
	{ __LINE__, S(GET11 "Content-Length: 5\r\nExpect: 100-continue\r\n"
	    "\r\n"), 0, .body = BODY_LENGTH, .length = 5,
	    .flags = F_CONTINUE },
	{ __LINE__, S(GET11 "Expect: 100-CONTINUE\r\n\r\n"), 0,
	    .flags = F_CONTINUE },
	{ __LINE__, S("POST / HTTP/1.0\r\nContent-Length: 5\r\n"
	    "Expect: 100-continue\r\n\r\n"), 0, .body = BODY_LENGTH,
	    .length = 5, .flags = F_V10 },
	{ __LINE__, S(GET11 "Expect: foo\r\n\r\n"), 417 },
	{ __LINE__, S(GET11 "Expect: 100-continue, foo\r\n\r\n"), 417 },
	{ __LINE__, S(GET11 "Expect: 100-continue\r\nExpect: 200-ok\r\n\r\n"),
	    417 },
	{ __LINE__, S(GET11 "Expect: 100-continued\r\n\r\n"), 417 },
	{ __LINE__, S("GET / HTTP/1.0\r\nExpect: foo\r\n\r\n"), 417 },
	/* a framing error is reported before an expectation failure */
	{ __LINE__, S(GET11 "Expect: foo\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400 },
	{ __LINE__, S(GET11 "Expect: foo\r\nContent-Length: x\r\n\r\n"), 400 },
	{ __LINE__, S("GET / HTTP/1.1\r\nExpect: foo\r\n\r\n"), 400 },

	/* Connection: RFC 9110 7.6.1, tokens in lists, any case */
	{ __LINE__, S(GET11 "Connection: close\r\n\r\n"), 0,
	    .flags = F_CLOSE },
	{ __LINE__, S(GET11 "Connection: CLOSE\r\n\r\n"), 0,
	    .flags = F_CLOSE },
	{ __LINE__, S(GET11 "Connection: Keep-Alive\r\n\r\n"), 0,
	    .flags = F_KEEPALIVE },
	{ __LINE__, S(GET11 "Connection: foo, cLoSe\r\n\r\n"), 0,
	    .flags = F_CLOSE },
	{ __LINE__, S(GET11 "Connection: ,, close ,,\r\n\r\n"), 0,
	    .flags = F_CLOSE },
	{ __LINE__, S(GET11 "Connection: keep-alive, Upgrade\r\n\r\n"), 0,
	    .flags = F_KEEPALIVE },
	{ __LINE__, S(GET11 "Connection:\tTE,keep-alive\t\r\n\r\n"), 0,
	    .flags = F_KEEPALIVE },
	{ __LINE__, S(GET11 "Connection: keep-alive\r\nConnection: close\r\n"
	    "\r\n"), 0, .flags = F_CLOSE | F_KEEPALIVE },
	{ __LINE__, S(GET11 "Connection: closed, keep-alive2\r\n\r\n"), 0 },
	{ __LINE__, S(GET11 "Connection: clo se\r\n\r\n"), 0 },
	{ __LINE__, S(GET11 "Proxy-Connection: close\r\n\r\n"), 0 },
	{ __LINE__, S("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0,
	    .flags = F_V10 | F_KEEPALIVE },

	/* limits: too many fields, over-long field lines (431) */
	{ __LINE__, S(GET11 "X: 1\r\n\r\n"), 0, .cap = 2 },
	{ __LINE__, S(GET11 "X: 1\r\nY: 2\r\n\r\n"), 431, .cap = 2 },
	{ __LINE__, S("GET / HTTP/1.0\r\n\r\n"), 0, .flags = F_V10, .cap = 1 },
	{ __LINE__, S("GET / HTTP/1.0\r\nX: 1\r\n\r\n"), 431, .cap = 1,
	    .fmax = 3 },
	{ __LINE__, S(GET11 "X: 12345\r\n\r\n"), 0, .fmax = 8 },
	{ __LINE__, S(GET11 "X: 123456\r\n\r\n"), 431, .fmax = 8 },
	{ __LINE__, S(GET11 "X: 1234567\r\n\r\n"), 431, .fmax = 8 },
	{ __LINE__, S(GET11 "X:        1\r\n\r\n"), 431, .fmax = 8 },
};

/* A view normalised to an offset into its buffer, for comparisons. */
struct view {
	long		 off;		/* -1: outside the buffer */
	size_t		 len;
	char		 text[64];	/* a prefix, for messages */
};

struct outcome {
	int		 rc, status;
	int		 frc, fstatus;
	struct view	 method, target;
	int		 minor;
	size_t		 nfields;
	struct view	 name[HEAD_CAP_MAX], value[HEAD_CAP_MAX];
	struct http_framing fr;
	struct view	 host, path, query;
};

static struct view
view_of(struct str s, const char *buf, size_t len)
{
	struct view	 v;
	uintptr_t	 p = (uintptr_t)s.p, b = (uintptr_t)buf;

	v.off = (s.p != NULL && p >= b && p + s.len <= b + len) ?
	    (long)(p - b) : -1;
	v.len = s.len;
	snprintf(v.text, sizeof(v.text), "%.*s", (int)s.len,
	    s.len ? s.p : "");
	return v;
}

static bool
view_eq(const struct view *a, const struct view *b)
{
	return a->off == b->off && a->len == b->len &&
	    strcmp(a->text, b->text) == 0;
}

static void
parse_once(const struct head_case *c, const char *buf, size_t len,
    size_t seen, struct outcome *o)
{
	struct http_field	 fields[HEAD_CAP_MAX];
	struct http_head	 h;
	size_t			 i;

	memset(o, 0, sizeof(*o));
	memset(&h, 0, sizeof(h));
	h.fields = fields;
	h.nfields = c->cap ? c->cap : HEAD_CAP;
	h.field_max = c->fmax;
	o->status = -1;
	o->rc = http_parse_head(buf, len, seen, &h, &o->status);
	if (o->rc <= 0)
		return;
	o->method = view_of(h.method, buf, len);
	o->target = view_of(h.target, buf, len);
	o->minor = h.minor;
	o->nfields = h.nfields;
	for (i = 0; i < h.nfields; i++) {
		o->name[i] = view_of(fields[i].name, buf, len);
		o->value[i] = view_of(fields[i].value, buf, len);
	}
	o->fstatus = -1;
	o->frc = http_parse_framing(&h, &o->fr, &o->fstatus);
	if (o->frc != 0)
		return;
	o->host = view_of(o->fr.host, buf, len);
	o->path = view_of(o->fr.path, buf, len);
	o->query = view_of(o->fr.query, buf, len);
}

/* The result a server acts on: equal across ways of feeding the parser. */
static bool
outcome_eq(const struct outcome *a, const struct outcome *b)
{
	size_t	 i;

	if (a->rc != b->rc)
		return false;
	if (a->rc == HTTP_PARSE_ERROR)
		return a->status == b->status;
	if (a->rc < 0)
		return true;
	if (!view_eq(&a->method, &b->method) ||
	    !view_eq(&a->target, &b->target) || a->minor != b->minor ||
	    a->nfields != b->nfields || a->frc != b->frc)
		return false;
	for (i = 0; i < a->nfields; i++)
		if (!view_eq(&a->name[i], &b->name[i]) ||
		    !view_eq(&a->value[i], &b->value[i]))
			return false;
	if (a->frc != 0)
		return a->fstatus == b->fstatus;
	return a->fr.method == b->fr.method && a->fr.body == b->fr.body &&
	    a->fr.length == b->fr.length &&
	    a->fr.has_query == b->fr.has_query &&
	    a->fr.asterisk == b->fr.asterisk &&
	    a->fr.conn_close == b->fr.conn_close &&
	    a->fr.conn_keepalive == b->fr.conn_keepalive &&
	    a->fr.expect_continue == b->fr.expect_continue &&
	    view_eq(&a->host, &b->host) && view_eq(&a->path, &b->path) &&
	    view_eq(&a->query, &b->query);
}

static void
outcome_show(const struct outcome *o, char *s, size_t n)
{
	if (o->rc <= 0)
		snprintf(s, n, "rc %d status %d", o->rc,
		    o->rc == HTTP_PARSE_ERROR ? o->status : 0);
	else if (o->frc != 0)
		snprintf(s, n, "rc %d, framing rc %d status %d", o->rc, o->frc,
		    o->fstatus);
	else
		snprintf(s, n, "rc %d, method \"%s\" target \"%s\" 1.%d, "
		    "%zu fields, body %d length %llu host \"%s\" path \"%s\"",
		    o->rc, o->method.text, o->target.text, o->minor,
		    o->nfields, (int)o->fr.body,
		    (unsigned long long)o->fr.length, o->host.text,
		    o->path.text);
}

/* Equal to the whole input's outcome; a difference is noted, not counted. */
static bool
same(int line, const char *mode, const struct outcome *whole,
    const struct outcome *o)
{
	char	 a[512], b[512];

	if (outcome_eq(whole, o))
		return true;
	outcome_show(whole, a, sizeof(a));
	outcome_show(o, b, sizeof(b));
	NOTE_AT(line, "%s: got {%s}, whole gave {%s}", mode, b, a);
	return false;
}

/* The expected final result of the case. */
static void
check_expected(const struct head_case *c, const struct outcome *o)
{
	size_t	 want = c->consumed ? c->consumed : c->len;
	char	 s[512];
	unsigned flags;

	outcome_show(o, s, sizeof(s));
	if (c->status == INCOMPLETE) {
		CHECK_AT(c->line, o->rc == HTTP_PARSE_INCOMPLETE,
		    "want incomplete, got {%s}", s);
		return;
	}
	if (c->status != 0) {
		CHECK_AT(c->line, (o->rc == HTTP_PARSE_ERROR &&
		    o->status == c->status) || (o->rc > 0 &&
		    o->frc == HTTP_PARSE_ERROR && o->fstatus == c->status),
		    "want %d, got {%s}", c->status, s);
		return;
	}
	if (!CHECK_AT(c->line, o->rc > 0 && o->frc == 0,
	    "want accepted, got {%s}", s))
		return;
	CHECK_INT_AT(c->line, o->rc, want, "consumed");
	if (c->m != 0)
		CHECK_INT_AT(c->line, o->fr.method, c->m - 1, "method");
	CHECK_INT_AT(c->line, o->fr.method,
	    http_method_lookup((struct str){ c->in + o->method.off,
	    o->method.len }), "method lookup");
	CHECK_INT_AT(c->line, o->fr.body, c->body, "body");
	if (c->body == BODY_LENGTH)
		CHECK_INT_AT(c->line, o->fr.length, c->length, "length");
	flags = (o->fr.conn_close ? F_CLOSE : 0) |
	    (o->fr.conn_keepalive ? F_KEEPALIVE : 0) |
	    (o->fr.expect_continue ? F_CONTINUE : 0) |
	    (o->fr.asterisk ? F_ASTERISK : 0) |
	    (o->fr.has_query ? F_QUERY : 0) | (o->minor == 0 ? F_V10 : 0);
	CHECK_AT(c->line, flags == c->flags, "flags: got %#x, want %#x",
	    flags, c->flags);
	if (c->host != NULL)
		CHECK_AT(c->line, o->host.len == strlen(c->host) &&
		    strcmp(o->host.text, c->host) == 0,
		    "host: got \"%s\", want \"%s\"", o->host.text, c->host);
	if (c->path != NULL)
		CHECK_AT(c->line, o->path.len == strlen(c->path) &&
		    strcmp(o->path.text, c->path) == 0,
		    "path: got \"%s\", want \"%s\"", o->path.text, c->path);
	if (c->query != NULL)
		CHECK_AT(c->line, o->query.len == strlen(c->query) &&
		    strcmp(o->query.text, c->query) == 0,
		    "query: got \"%s\", want \"%s\"", o->query.text, c->query);
}

/*
 * A prefix's result, before the rest arrives: -2, or what the whole input
 * gives when the prefix already holds the whole head or a definite error.
 */
static bool
prefix_ok(const struct outcome *whole, const struct outcome *o, size_t k)
{
	if (whole->rc > 0 && k >= (size_t)whole->rc)
		return outcome_eq(whole, o);
	if (o->rc == HTTP_PARSE_INCOMPLETE)
		return true;
	return o->rc == HTTP_PARSE_ERROR && outcome_eq(whole, o);
}

static void
run_head_case(struct unit_guard *g, const struct head_case *c)
{
	struct outcome	*whole, *o;
	const char	*p;
	char		 mode[64];
	size_t		 k, bad = 0;

	whole = malloc(sizeof(*whole));
	o = malloc(sizeof(*o));
	if (whole == NULL || o == NULL)
		abort();
	unit_seed("fuzz_http_head", c->in, c->len);

	p = unit_guard_put(g, c->in, c->len);
	parse_once(c, p, c->len, 0, whole);
	check_expected(c, whole);

	/* split in two: the prefix alone, then all of it with seen */
	for (k = 1; k < c->len; k++) {
		p = unit_guard_put(g, c->in, k);
		parse_once(c, p, k, 0, o);
		if (!prefix_ok(whole, o, k)) {
			NOTE_AT(c->line, "prefix of %zu bytes: rc %d status "
			    "%d", k, o->rc, o->status);
			bad++;
			continue;
		}
		if (o->rc != HTTP_PARSE_INCOMPLETE)
			continue;
		p = unit_guard_put(g, c->in, c->len);
		parse_once(c, p, c->len, k, o);
		snprintf(mode, sizeof(mode), "split at %zu", k);
		bad += !same(c->line, mode, whole, o);
	}
	CHECK_AT(c->line, bad == 0, "%zu of %zu splits disagree", bad,
	    c->len ? c->len - 1 : 0);

	/* one byte at a time, seen = what the previous call saw */
	o->rc = HTTP_PARSE_INCOMPLETE;
	for (k = 1; k <= c->len; k++) {
		p = unit_guard_put(g, c->in, k);
		parse_once(c, p, k, k - 1, o);
		if (o->rc != HTTP_PARSE_INCOMPLETE)
			break;
	}
	CHECK_AT(c->line, same(c->line, "byte at a time", whole, o),
	    "byte at a time disagrees");
	free(whole);
	free(o);
}

/* Cases built at run time: too large to write out. */
static void
run_built_cases(struct unit_guard *g)
{
	static char		 in[65536];
	struct head_case	 c;
	size_t			 n, i;

	/* 128 fields fit a capacity of 128; one more is 431 */
	n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < 128; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "X-%zu: %zu\r\n",
		    i, i);
	memcpy(in + n, "\r\n", 2);
	c = (struct head_case){ __LINE__, in, n + 2, 0, .cap = 128 };
	run_head_case(g, &c);
	memcpy(in + n, "Y: y\r\n\r\n", 8);
	c = (struct head_case){ __LINE__, in, n + 8, 431, .cap = 128 };
	run_head_case(g, &c);

	/* an 8000-byte field line: fits 8000, not 7999 */
	n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\n"
	    "Cookie: ");
	memset(in + n, 'c', 8000 - 8);
	n += 8000 - 8;
	memcpy(in + n, "\r\n\r\n", 4);
	c = (struct head_case){ __LINE__, in, n + 4, 0, .fmax = 8000 };
	run_head_case(g, &c);
	c = (struct head_case){ __LINE__, in, n + 4, 431, .fmax = 7999 };
	run_head_case(g, &c);

	/* a 4000-byte target; many leading empty lines are rejected */
	n = (size_t)snprintf(in, sizeof(in), "GET /");
	memset(in + n, 'a', 4000 - 1);
	n += 4000 - 1;
	n += (size_t)snprintf(in + n, sizeof(in) - n,
	    " HTTP/1.1\r\nHost: a\r\n\r\n");
	c = (struct head_case){ __LINE__, in, n, 0 };
	run_head_case(g, &c);
	for (i = 0, n = 0; i < 100; i++, n += 2)
		memcpy(in + n, "\r\n", 2);
	n += (size_t)snprintf(in + n, sizeof(in) - n,
	    "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	c = (struct head_case){ __LINE__, in, n, 400 };
	run_head_case(g, &c);
}

/* Field views: names and values point into the buffer, values trimmed. */
static void
test_field_views(struct unit_guard *g)
{
	static const char	 in[] = "GET /x HTTP/1.1\r\nHost:  a \r\n"
	    "X-Empty:\r\nX-Tab:\tb \tc\t\r\nX-Obs: \xe9t\xe9\r\n\r\n";
	struct http_field	 f[8];
	struct http_head	 h = { .fields = f, .nfields = 8 };
	const struct str	*v;
	const char		*p;
	int			 status, rc;

	p = unit_guard_put(g, in, sizeof(in) - 1);
	rc = http_parse_head(p, sizeof(in) - 1, 0, &h, &status);
	if (!CHECK_INT(rc, (int)sizeof(in) - 1))
		return;
	CHECK_MEM_AT(__LINE__, h.method.p, h.method.len, "GET", "method");
	CHECK_MEM_AT(__LINE__, h.target.p, h.target.len, "/x", "target");
	CHECK(h.method.p == p && h.target.p == p + 4);
	CHECK_INT(h.minor, 1);
	if (!CHECK_INT(h.nfields, 4))
		return;
	CHECK_MEM_AT(__LINE__, f[0].name.p, f[0].name.len, "Host", "name");
	CHECK_MEM_AT(__LINE__, f[0].value.p, f[0].value.len, "a", "value");
	CHECK_MEM_AT(__LINE__, f[1].name.p, f[1].name.len, "X-Empty", "name");
	CHECK_INT(f[1].value.len, 0);
	CHECK_MEM_AT(__LINE__, f[2].value.p, f[2].value.len, "b \tc", "value");
	CHECK_MEM_AT(__LINE__, f[3].value.p, f[3].value.len, "\xe9t\xe9",
	    "value");
	v = http_field_get(&h, "x-tab");
	CHECK(v == &f[2].value);
	CHECK(http_field_get(&h, "X-Ta") == NULL);
	CHECK(http_field_get(&h, "X-Tabs") == NULL);
	CHECK(http_field_get(&h, "Host") == &f[0].value);
}

/* The helpers exported by http_parse.c. */
static void
test_helpers(void)
{
	static const struct {
		int		 line;
		const char	*in;
		uint64_t	 max;
		int		 rc;
		uint64_t	 v;
	} uints[] = {
		{ __LINE__, "0", UINT64_MAX, 0, 0 },
		{ __LINE__, "007", UINT64_MAX, 0, 7 },
		{ __LINE__, "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ __LINE__, "18446744073709551616", UINT64_MAX, -1, 0 },
		{ __LINE__, "28446744073709551615", UINT64_MAX, -1, 0 },
		{ __LINE__, "", UINT64_MAX, -1, 0 },
		{ __LINE__, "-1", UINT64_MAX, -1, 0 },
		{ __LINE__, "+1", UINT64_MAX, -1, 0 },
		{ __LINE__, " 1", UINT64_MAX, -1, 0 },
		{ __LINE__, "1 ", UINT64_MAX, -1, 0 },
		{ __LINE__, "59", 59, 0, 59 },
		{ __LINE__, "60", 59, -1, 0 },
		{ __LINE__, "9", 8, -1, 0 },
		{ __LINE__, "0", 0, 0, 0 },
		{ __LINE__, "1", 0, -1, 0 },
		{ __LINE__, "255", 255, 0, 255 },
		{ __LINE__, "256", 255, -1, 0 },
	};
	static const struct {
		int		 line;
		const char	*list, *token;
		bool		 has;
	} lists[] = {
		{ __LINE__, "close", "close", true },
		{ __LINE__, " Close ", "close", true },
		{ __LINE__, "a,b,close", "close", true },
		{ __LINE__, "a, b ,\tclose\t", "close", true },
		{ __LINE__, "closed", "close", false },
		{ __LINE__, "clos", "close", false },
		{ __LINE__, "", "close", false },
		{ __LINE__, ",,,", "close", false },
		{ __LINE__, "x-close", "close", false },
	};
	uint64_t	 v;
	size_t		 i;
	int		 rc;
	char		*p;

	for (i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		p = unit_guarded(uints[i].in, strlen(uints[i].in));
		v = 12345;
		rc = parse_uint(p, strlen(uints[i].in), uints[i].max, &v);
		CHECK_INT_AT(uints[i].line, rc, uints[i].rc, "parse_uint");
		CHECK_AT(uints[i].line, rc == 0 ? v == uints[i].v : v == 12345,
		    "parse_uint value %llu", (unsigned long long)v);
		unit_guarded_free(p, strlen(uints[i].in));
	}
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		p = unit_guarded(lists[i].list, strlen(lists[i].list));
		CHECK_AT(lists[i].line, http_list_has((struct str){ p,
		    strlen(lists[i].list) }, lists[i].token) == lists[i].has,
		    "http_list_has(\"%s\", \"%s\")", lists[i].list,
		    lists[i].token);
		unit_guarded_free(p, strlen(lists[i].list));
	}
	for (i = 0; i < 256; i++) {
		rc = (i > 0x20 && i < 0x7f && strchr("\"(),/:;<=>?@[\\]{}",
		    (int)i) == NULL);
		CHECK_AT(__LINE__, http_is_tchar((unsigned char)i) == rc,
		    "http_is_tchar(%#zx)", i);
	}
	CHECK(http_method_lookup((struct str){ "GET", 3 }) == METHOD_GET);
	CHECK(http_method_lookup((struct str){ "GET", 2 }) == METHOD_UNKNOWN);
	CHECK(http_method_lookup((struct str){ "", 0 }) == METHOD_UNKNOWN);
	CHECK(strcmp(http_method_name(METHOD_PATCH), "PATCH") == 0);
	CHECK(strcmp(http_method_name(METHOD_UNKNOWN), "-") == 0);
	CHECK(str_eq_nocase((struct str){ "HoSt", 4 }, "host"));
	CHECK(!str_eq_nocase((struct str){ "Hos", 3 }, "host"));
	CHECK(!str_eq_nocase((struct str){ "Hosts", 5 }, "host"));
	CHECK(str_eq((struct str){ "a", 1 }, "a"));
	CHECK(!str_eq((struct str){ "A", 1 }, "a"));
}

/* Chunked bodies: RFC 9112 7.1 */
struct chunk_case {
	int		 line;
	const char	*in;
	size_t		 len;
	int		 status;	/* 0 done, 400, or INCOMPLETE */
	const char	*data;		/* the decoded body (so far) */
	size_t		 consumed;	/* when done; 0: all of it */
};

#define TAIL	"0\r\n\r\n"
#define NEXT	"GET / HTTP/1.1\r\nHost: a\r\n\r\n"

static const struct chunk_case chunk_cases[] = {
	{ __LINE__, S("5\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S(TAIL), 0, "" },
	{ __LINE__, S("000\r\n\r\n"), 0, "" },
	{ __LINE__, S("5\r\nhello\r\n6\r\n world\r\n1\r\n!\r\n" TAIL), 0,
	    "hello world!" },
	{ __LINE__, S("1\r\n\r\r\n1\r\n\n\r\n" TAIL), 0, "\r\n" },
	{ __LINE__, S("3\r\n\x01\xff\x7f\r\n" TAIL), 0, "\x01\xff\x7f" },
	/* hex: any case, leading zeros */
	{ __LINE__, S("A\r\n0123456789\r\n" TAIL), 0, "0123456789" },
	{ __LINE__, S("a\r\n0123456789\r\n" TAIL), 0, "0123456789" },
	{ __LINE__, S("0000000000000000000000000005\r\nhello\r\n" TAIL), 0,
	    "hello" },
	{ __LINE__, S("1F\r\n0123456789012345678901234567890\r\n" TAIL), 0,
	    "0123456789012345678901234567890" },
	/*
	 * extensions, RFC 9112 7.1.1: chunk-ext = *( BWS ";" BWS
	 * chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), one production
	 * per group: accepted, then rejected.
	 */
	/* ";" name */
	{ __LINE__, S("5;a\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;foo=bar\r\nhello\r\n0;last\r\n\r\n"), 0, "hello" },
	{ __LINE__, S("5;!#$%&'*+-.^_`|~09AZaz\r\nhello\r\n" TAIL), 0,
	    "hello" },
	{ __LINE__, S("5;\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;;a\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;=a\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;\x80\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a(b\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a\"b\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a/b\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a\x01\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a\x7f\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a\rhello\r\n" TAIL), 400, "" },
	/* several extensions */
	{ __LINE__, S("5;a;b;c\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=1;b;c=\"x\"\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a;\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=1;;b\r\nhello\r\n" TAIL), 400, "" },
	/* BWS before ";", after ";", around "=" */
	{ __LINE__, S("5 ;foo\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5\t;foo\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5 \t ;foo\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5; foo\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;\t\tfoo\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;foo =bar\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;foo= bar\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5\t; foo = bar\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=1 ;b\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a ;b\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=\"1\" ;b\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5 \r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5\t\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a \r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=b \r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"b\" \r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5\t; foo = bar \r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5 6\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5 x\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5 \t 6;a\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a b\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=b c\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5; \r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5\x0b;a\r\nhello\r\n" TAIL), 400, "" },
	/* "=" chunk-ext-val: token */
	{ __LINE__, S("5;a=b\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=!#$%&'*+-.^_`|~09AZaz\r\nhello\r\n" TAIL), 0,
	    "hello" },
	{ __LINE__, S("5;a=\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a= \r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a==b\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=b=c\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=b\"c\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=(b)\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=b,c\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\x80\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=b\x00\r\nhello\r\n" TAIL), 400, "" },
	/* "=" chunk-ext-val: quoted-string (qdtext, quoted-pair) */
	{ __LINE__, S("5;a;b=\"c d\"\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=\"\"\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=\"\t !#[]~\x80\xff\"\r\nhello\r\n" TAIL), 0,
	    "hello" },
	{ __LINE__, S("5;a=\";=,\"\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=\"\\\"\\\\\\ \\\t\\\xff\\z\"\r\nhello\r\n" TAIL), 0,
	    "hello" },
	{ __LINE__, S("5;a=\"b\"\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=\"b\";c\r\nhello\r\n" TAIL), 0, "hello" },
	{ __LINE__, S("5;a=\"b\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"b\"c\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"b\"\"c\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"\x01\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"\x7f\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"\x00\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"\n\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"\\\x01\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"\\\x7f\"\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"\\\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5;a=\"b\\\"\r\nhello\r\n" TAIL), 400, "" },
	/* the last chunk takes extensions too */
	{ __LINE__, S("0;a=\"b\"\r\n\r\n"), 0, "" },
	{ __LINE__, S("00;a\r\nX: y\r\n\r\n"), 0, "" },
	{ __LINE__, S("0 \r\n\r\n"), 400, "" },
	{ __LINE__, S("0;\r\n\r\n"), 400, "" },
	/* trailers: RFC 9112 7.1.2 */
	{ __LINE__, S("5\r\nhello\r\n0\r\nX-A: b\r\nX-B:\r\n\r\n"), 0,
	    "hello" },
	{ __LINE__, S("0\r\nExpires: \xff\r\n\r\n"), 0, "" },
	{ __LINE__, S("0\r\nX: a\x01\r\n\r\n"), 400, "" },
	{ __LINE__, S("0\r\nX: a\nY: b\r\n\r\n"), 400, "" },
	{ __LINE__, S("0\r\nX: a\r\n b\r\n\r\n"), 400, "" },	/* obs-fold */
	{ __LINE__, S("0\r\n: a\r\n\r\n"), 400, "" },
	{ __LINE__, S("0\r\nX : a\r\n\r\n"), 400, "" },
	{ __LINE__, S("0\r\nX\r\n\r\n"), 400, "" },
	{ __LINE__, S("0\r\nX(: a\r\n\r\n"), 400, "" },
	{ __LINE__, S("0\r\n\r\r\n"), 400, "" },
	{ __LINE__, S("0\r\n\n"), 400, "" },
	{ __LINE__, S("0\r\nX: a\r\n\n"), 400, "" },
	/* the decoder stops exactly at the end of the body */
	{ __LINE__, S("5\r\nhello\r\n" TAIL NEXT), 0, "hello",
	    sizeof("5\r\nhello\r\n" TAIL) - 1 },
	{ __LINE__, S("0\r\nX: y\r\n\r\n" NEXT), 0, "",
	    sizeof("0\r\nX: y\r\n\r\n") - 1 },
	{ __LINE__, S(TAIL "\r\n"), 0, "", sizeof(TAIL) - 1 },
	{ __LINE__, S(TAIL "garbage\n\r"), 0, "", sizeof(TAIL) - 1 },
	/* malformed sizes and missing CRLFs */
	{ __LINE__, S("\r\n"), 400, "" },
	{ __LINE__, S(";a\r\n\r\n"), 400, "" },
	{ __LINE__, S(" 5\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("-5\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("+5\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("0x5\r\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("g\r\n"), 400, "" },
	{ __LINE__, S("5\nhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5\rhello\r\n" TAIL), 400, "" },
	{ __LINE__, S("5\r\nhelloX\r\n" TAIL), 400, "hello" },
	{ __LINE__, S("5\r\nhelloX\n" TAIL), 400, "hello" },
	{ __LINE__, S("5\r\nhello\n\n" TAIL), 400, "hello" },
	{ __LINE__, S("5\r\nhello" TAIL), 400, "hello" },
	{ __LINE__, S("5\r\nhello\n" TAIL), 400, "hello" },
	{ __LINE__, S("5\r\nhello\r" TAIL), 400, "hello" },
	{ __LINE__, S("5\r\nhello\r\r\n" TAIL), 400, "hello" },
	{ __LINE__, S("5\r\nhello\r\n\r\n" TAIL), 400, "hello" },
	{ __LINE__, S("4\r\nhello\r\n" TAIL), 400, "hell" },
	{ __LINE__, S("6\r\nhello\r\n" TAIL), 400, "hello\r" },
	{ __LINE__, S("0\r\n\r"), INCOMPLETE, "" },
	{ __LINE__, S("0\n\r\n"), 400, "" },
	/* size overflow: at most HTTP_CHUNK_SIZE_MAX */
	{ __LINE__, S("10000000000000000\r\n"), 400, "" },	/* 17 digits */
	{ __LINE__, S("FFFFFFFFFFFFFFFF\r\n"), 400, "" },
	{ __LINE__, S("8000000000000000\r\n"), 400, "" },
	{ __LINE__, S("4000000000000001\r\n"), 400, "" },
	{ __LINE__, S("4000000000000000\r\nabc"), INCOMPLETE, "abc" },
	{ __LINE__, S("3FFFFFFFFFFFFFFF\r\nabc"), INCOMPLETE, "abc" },
	{ __LINE__, S("00000000000000004000000000000000\r\n"), INCOMPLETE,
	    "" },
	/* incomplete bodies */
	{ __LINE__, S(""), INCOMPLETE, "" },
	{ __LINE__, S("5"), INCOMPLETE, "" },
	{ __LINE__, S("5;ext"), INCOMPLETE, "" },
	{ __LINE__, S("5\r\nhel"), INCOMPLETE, "hel" },
	{ __LINE__, S("5\r\nhello\r\n"), INCOMPLETE, "hello" },
	{ __LINE__, S("5\r\nhello\r\n0\r\nX: y\r\n"), INCOMPLETE, "hello" },
};

struct decoded {
	int		 status;	/* 0 done, 400, or INCOMPLETE */
	size_t		 consumed;
	char		*data;
	size_t		 len;
};

#define CONTRACT	(-99)		/* decoded.status: the decoder broke it */

/*
 * Feeds one segment the way conn.c does: call until it is used up, the
 * body is done, or an error. Checks the decoder's own contract on the way;
 * a breach is noted and ends the decoding with status CONTRACT.
 */
static void
chunk_feed(int line, struct http_chunk_state *cs, const char *p, size_t n,
    struct decoded *d)
{
	struct str	 data;
	size_t		 off = 0;
	int		 rc, status;

	while (d->status == INCOMPLETE && off < n) {
		status = 0;
		rc = http_chunk_parse(cs, p + off, n - off, &data, &status);
		if (rc == HTTP_PARSE_ERROR) {
			d->status = status;
			if (status != 400) {
				NOTE_AT(line, "chunk status %d", status);
				d->status = CONTRACT;
			}
			return;
		}
		if (rc <= 0 || (size_t)rc > n - off || (data.len > 0 &&
		    (data.p != p + off || data.len != (size_t)rc))) {
			NOTE_AT(line, "chunk rc %d, data %zu bytes at %+td, "
			    "with %zu bytes", rc, data.len, data.len ?
			    data.p - (p + off) : 0, n - off);
			d->status = CONTRACT;
			return;
		}
		if (data.len > 0) {
			memcpy(d->data + d->len, data.p, data.len);
			d->len += data.len;
		}
		off += (size_t)rc;
		d->consumed += (size_t)rc;
		if (cs->done)
			d->status = 0;
	}
	if (cs->done && off < n) {
		rc = http_chunk_parse(cs, p + off, n - off, &data, &status);
		if (rc != HTTP_PARSE_INCOMPLETE || data.len != 0) {
			NOTE_AT(line, "after the body: rc %d", rc);
			d->status = CONTRACT;
		}
	}
}

static bool
decoded_eq(const struct decoded *a, const struct decoded *b)
{
	if (a->status != b->status)
		return false;
	if (a->status == 400)
		return true;
	return a->consumed == b->consumed && a->len == b->len &&
	    memcmp(a->data, b->data, a->len) == 0;
}

static void
decode(int line, struct unit_guard *g, const char *in, size_t len,
    const size_t *cuts, size_t ncuts, struct decoded *d)
{
	struct http_chunk_state	 cs = { 0 };
	size_t			 i, from = 0, to;

	d->status = INCOMPLETE;
	d->consumed = d->len = 0;
	for (i = 0; i <= ncuts && d->status == INCOMPLETE; i++) {
		to = i < ncuts ? cuts[i] : len;
		chunk_feed(line, &cs, unit_guard_put(g, in + from, to - from),
		    to - from, d);
		from = to;
	}
}

static void
run_chunk_case(struct unit_guard *g, const struct chunk_case *c)
{
	struct decoded	 whole, o;
	size_t		 k, bad, *cuts;
	char		*seed;

	seed = malloc(c->len + 2);
	whole.data = malloc(c->len + 1);
	o.data = malloc(c->len + 1);
	cuts = malloc((c->len + 1) * sizeof(*cuts));
	if (seed == NULL || whole.data == NULL || o.data == NULL ||
	    cuts == NULL)
		abort();
	/* fuzz_http_chunk: two bytes of split offset, then the body */
	seed[0] = (char)(c->len / 2 & 0xff);
	seed[1] = (char)(c->len / 2 >> 8 & 0xff);
	memcpy(seed + 2, c->in, c->len);
	unit_seed("fuzz_http_chunk", seed, c->len + 2);

	decode(c->line, g, c->in, c->len, NULL, 0, &whole);
	CHECK_INT_AT(c->line, whole.status, c->status, "chunk status");
	if (c->status != 400)
		CHECK_MEM_AT(c->line, whole.data, whole.len, c->data, "data");
	else
		CHECK_AT(c->line, whole.len <= strlen(c->data) &&
		    memcmp(whole.data, c->data, whole.len) == 0,
		    "data before the error");
	if (c->status == 0)
		CHECK_INT_AT(c->line, whole.consumed,
		    c->consumed ? c->consumed : c->len, "consumed");
	if (c->status == INCOMPLETE)
		CHECK_INT_AT(c->line, whole.consumed, c->len, "consumed");

	for (k = 1, bad = 0; k < c->len; k++) {
		decode(c->line, g, c->in, c->len, &k, 1, &o);
		if (decoded_eq(&whole, &o))
			continue;
		NOTE_AT(c->line, "split at %zu: status %d consumed %zu data "
		    "%zu bytes", k, o.status, o.consumed, o.len);
		bad++;
	}
	CHECK_AT(c->line, bad == 0, "%zu of %zu splits disagree", bad,
	    c->len ? c->len - 1 : 0);
	for (k = 0; k < c->len; k++)
		cuts[k] = k + 1;
	decode(c->line, g, c->in, c->len, cuts, c->len ? c->len - 1 : 0, &o);
	CHECK_AT(c->line, decoded_eq(&whole, &o),
	    "byte at a time: status %d consumed %zu data %zu bytes",
	    o.status, o.consumed, o.len);
	free(seed);
	free(whole.data);
	free(o.data);
	free(cuts);
}

static void
run_built_chunk_cases(struct unit_guard *g)
{
	static char		 in[16384], body[4096];
	struct chunk_case	 c;
	size_t			 n, i, blen = 0;

	/* 300 chunks of growing size, then a pipelined request */
	for (i = 0, n = 0; i < 300; i++) {
		n += (size_t)snprintf(in + n, sizeof(in) - n,
		    i % 2 ? "%zx\r\n" : "%zX;i=%zu\r\n", i % 23 + 1, i);
		memset(in + n, 'a' + (int)(i % 26), i % 23 + 1);
		memset(body + blen, 'a' + (int)(i % 26), i % 23 + 1);
		n += i % 23 + 1;
		blen += i % 23 + 1;
		memcpy(in + n, "\r\n", 2);
		n += 2;
	}
	body[blen] = '\0';
	n += (size_t)snprintf(in + n, sizeof(in) - n, "0\r\nX-Sum: %zu\r\n"
	    "\r\n", blen);
	i = n;
	n += (size_t)snprintf(in + n, sizeof(in) - n, NEXT);
	c = (struct chunk_case){ __LINE__, in, n, 0, body, i };
	run_chunk_case(g, &c);

	/* a size line of HTTP_CHUNK_LINE_MAX bytes, and one more */
	memset(in, '0', HTTP_CHUNK_LINE_MAX);
	memcpy(in + HTTP_CHUNK_LINE_MAX - 1, "1\r\nx\r\n" TAIL, 11);
	c = (struct chunk_case){ __LINE__, in, HTTP_CHUNK_LINE_MAX + 10, 0,
	    "x" };
	run_chunk_case(g, &c);
	memset(in, '0', HTTP_CHUNK_LINE_MAX + 1);
	memcpy(in + HTTP_CHUNK_LINE_MAX, "1\r\nx\r\n" TAIL, 11);
	c = (struct chunk_case){ __LINE__, in, HTTP_CHUNK_LINE_MAX + 11, 400,
	    "" };
	run_chunk_case(g, &c);
	memset(in + 1, ' ', HTTP_CHUNK_LINE_MAX);	/* BWS counts too */
	n = 1 + HTTP_CHUNK_LINE_MAX;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\nx\r\n" TAIL);
	c = (struct chunk_case){ __LINE__, in, n, 400, "" };
	run_chunk_case(g, &c);
	n = (size_t)snprintf(in, sizeof(in), "1;");
	memset(in + n, 'e', HTTP_CHUNK_LINE_MAX);
	n += HTTP_CHUNK_LINE_MAX;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\nx\r\n" TAIL);
	c = (struct chunk_case){ __LINE__, in, n, 400, "" };
	run_chunk_case(g, &c);

	/*
	 * Trailers of exactly HTTP_TRAILER_MAX bytes, and one more. What
	 * counts is each field line and its CR: 100 + 1 bytes a line here,
	 * and a last line that makes up the rest.
	 */
	n = (size_t)snprintf(in, sizeof(in), "0\r\n");
	for (i = 0, blen = 0; blen + 2 * 101 <= HTTP_TRAILER_MAX; i++) {
		n += (size_t)snprintf(in + n, sizeof(in) - n, "X-%04zu: ", i);
		memset(in + n, 'v', 100 - 8);
		n += 100 - 8;
		memcpy(in + n, "\r\n", 2);
		n += 2;
		blen += 101;
	}
	n += (size_t)snprintf(in + n, sizeof(in) - n, "X-End: ");
	memset(in + n, 'v', HTTP_TRAILER_MAX - blen - 7 - 1);
	n += HTTP_TRAILER_MAX - blen - 7 - 1;
	memcpy(in + n, "\r\n\r\n", 4);
	c = (struct chunk_case){ __LINE__, in, n + 4, 0, "" };
	run_chunk_case(g, &c);
	in[n] = 'v';
	memcpy(in + n + 1, "\r\n\r\n", 4);
	c = (struct chunk_case){ __LINE__, in, n + 5, 400, "" };
	run_chunk_case(g, &c);
	memcpy(in, "0\r\n", 3);		/* a name that never ends */
	memset(in + 3, 'X', HTTP_TRAILER_MAX + 1);
	c = (struct chunk_case){ __LINE__, in, HTTP_TRAILER_MAX + 4, 400,
	    "" };
	run_chunk_case(g, &c);
}

/* A body far larger than an int: data comes back in bounded pieces. */
static void
test_chunk_large(void)
{
	struct http_chunk_state	 cs = { 0 };
	static const char	 line[] = "3FFFFFFFFFFFFFFF\r\n";
	struct str		 data;
	int			 rc, status;
	char			*p;

	p = unit_guarded(line, sizeof(line) - 1);
	rc = http_chunk_parse(&cs, p, sizeof(line) - 1, &data, &status);
	CHECK_INT(rc, (int)sizeof(line) - 1);
	CHECK(data.len == 0 && !cs.done);
	CHECK(cs.left == UINT64_C(0x3FFFFFFFFFFFFFFF));
	unit_guarded_free(p, sizeof(line) - 1);
}

/* Which limit a head over max_head_size broke: the request line, or not. */
static const struct {
	int		 line;
	const char	*in;
	size_t		 len;
	size_t		 target_max;
	int		 status;
} too_large_cases[] = {
	{ __LINE__, S("GET /aaaaaaaaaa"), 8, 414 },	/* no line end */
	{ __LINE__, S("GET /aaaaaaaaaa HTTP/1.1\r\nHost: a\r\nX: y"), 8,
	    414 },
	{ __LINE__, S("GET /aaaaaaa HTTP/1.1\r\nHost: a\r\nX: y"), 8, 431 },
	{ __LINE__, S("GET /aaaaaaaa HTTP/1.1\r\nHost: a\r\nX: y"), 8,
	    414 },
	{ __LINE__, S("GET / HTTP/1.1\r\nHost: a\r\nX: yyyyyyyyyyyy"), 8,
	    431 },
	{ __LINE__, S("GARBAGE\r\nX: y"), 8, 431 },	/* 400 comes first */
	{ __LINE__, S("\n"), 8, 431 },
	{ __LINE__, S(""), 8, 414 },
};

static void
test_head_too_large(void)
{
	size_t	 i;
	char	*p;

	for (i = 0; i < sizeof(too_large_cases) / sizeof(too_large_cases[0]);
	    i++) {
		p = unit_guarded(too_large_cases[i].in, too_large_cases[i].len);
		CHECK_INT_AT(too_large_cases[i].line, http_head_too_large(p,
		    too_large_cases[i].len, too_large_cases[i].target_max),
		    too_large_cases[i].status, "status");
		unit_guarded_free(p, too_large_cases[i].len);
	}
}

int
main(int argc, char **argv)
{
	struct unit_guard	 g;
	size_t			 i;

	unit_init(argc, argv);
	unit_guard_init(&g, 65536);
	for (i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++)
		run_head_case(&g, &head_cases[i]);
	run_built_cases(&g);
	test_field_views(&g);
	test_helpers();
	for (i = 0; i < sizeof(chunk_cases) / sizeof(chunk_cases[0]); i++)
		run_chunk_case(&g, &chunk_cases[i]);
	run_built_chunk_cases(&g);
	test_chunk_large();
	test_head_too_large();
	printf("test_http_parse: %zu head cases, %zu chunk cases (+ built)\n",
	    sizeof(head_cases) / sizeof(head_cases[0]),
	    sizeof(chunk_cases) / sizeof(chunk_cases[0]));
	unit_guard_free(&g);
	return unit_summary();
}
