/*
 * Unit tests of cgi_header.c: a script's header block (RFC 3875 6.2),
 * what is taken out of it, passed through or dropped, and what makes it
 * malformed (the script's fault: 502). Every case runs whole and in every
 * prefix (incomplete until the empty line); inputs end at a PROT_NONE
 * page.
 */
#include "unit.h"

#include "cgi.h"

#define S(lit)		lit, sizeof(lit) - 1
#define INCOMPLETE	(-2)
#define OK		1
#define TAIL		"body after the block"

struct header_case {
	int		 line;
	const char	*in;
	size_t		 len;
	int		 rc;		/* OK (the block, then tail), -1, INCOMPLETE */
	int		 status;
	const char	*type, *location;	/* NULL: none */
	long long	 length;	/* -1: none */
	size_t		 nfields;
	const char	*first;		/* "Name: value" of field 0 */
};

#define CT	"Content-Type: text/plain"

static const struct header_case cases[] = {
	/* the three forms of a response (RFC 3875 6.2) */
	{ __LINE__, S(CT "\r\n\r\n" TAIL), OK, 0, "text/plain", NULL, -1 },
	{ __LINE__, S(CT "\n\n" TAIL), OK, 0, "text/plain", NULL, -1 },
	{ __LINE__, S("Location: /x\r\n\r\n" TAIL), OK, 0, NULL, "/x", -1 },
	{ __LINE__, S("Location: http://a/b\n\n" TAIL), OK, 0, NULL, "http://a/b",
	    -1 },
	{ __LINE__, S("Status: 204\r\n\r\n" TAIL), OK, 204, NULL, NULL, -1 },
	{ __LINE__, S("Status: 404 Not Found\r\n" CT "\r\n\r\n" TAIL), OK, 404,
	    "text/plain", NULL, -1 },
	/* mixed line ends, surrounding whitespace */
	{ __LINE__, S("Status:  302 \r\nLocation: \t/y \n\r\n" TAIL), OK, 302, NULL,
	    "/y", -1 },
	/* Content-Length */
	{ __LINE__, S(CT "\r\nContent-Length: 42\r\n\r\n" TAIL), OK, 0,
	    "text/plain", NULL, 42 },
	{ __LINE__, S(CT "\r\nContent-Length: 0\r\n\r\n" TAIL), OK, 0, "text/plain",
	    NULL, 0 },
	{ __LINE__, S(CT "\r\nContent-Length: x\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\nContent-Length: -1\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"),
	    -1 },
	/* passed through, and dropped (they are porch's to say) */
	{ __LINE__, S(CT "\r\nX-A: b\r\n\r\n" TAIL), OK, 0, "text/plain", NULL, -1,
	    1, "X-A: b" },
	{ __LINE__, S(CT "\r\nSet-Cookie: a=b\r\nSet-Cookie: c=d\r\n\r\n"
	    TAIL), OK, 0, "text/plain", NULL, -1, 2, "Set-Cookie: a=b" },
	{ __LINE__, S(CT "\r\nConnection: keep-alive\r\nTransfer-Encoding: "
	    "chunked\r\nServer: x\r\nDate: y\r\nX-Request-Id: z\r\nKeep-Alive:"
	    " 1\r\nTE: a\r\nTrailer: b\r\nUpgrade: c\r\nProxy-Connection: d"
	    "\r\n\r\n" TAIL), OK, 0, "text/plain", NULL, -1, 0 },
	/* malformed: the script's fault */
	{ __LINE__, S("X-Only: a\r\n\r\n"), -1 },	/* no type/loc/status */
	{ __LINE__, S("\r\n\r\n"), -1 },
	{ __LINE__, S("\n"), -1 },
	{ __LINE__, S("Status: 99\r\n\r\n"), -1 },
	{ __LINE__, S("Status: 200x\r\n\r\n"), -1 },
	{ __LINE__, S("Status: 600\r\n\r\n"), -1 },
	{ __LINE__, S("Status: abc\r\n\r\n"), -1 },
	{ __LINE__, S("Location:\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\nNo colon\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\n: empty name\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\nX(bad): a\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\nX-A: a\rb\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\nX-A: a\x01\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\nX-A: a\x7f\r\n\r\n"), -1 },
	{ __LINE__, S(CT "\r\nX-A: a\0b\r\n\r\n"), -1 },
	/* incomplete: no empty line yet */
	{ __LINE__, S(CT "\r\n"), INCOMPLETE },
	{ __LINE__, S(CT), INCOMPLETE },
	{ __LINE__, S(""), INCOMPLETE },
};

static void
run_case(const struct header_case *c)
{
	struct http_field	 fields[CGI_HEADER_FIELDS];
	struct cgi_header	 h;
	char			*p;
	size_t			 k;
	int			 rc, status, want;

	/* every strict prefix of a complete block is incomplete */
	want = c->rc == OK ? (int)(c->len - strlen(TAIL)) : c->rc;
	for (k = 0; c->rc == OK && k < (size_t)want; k++) {
		p = unit_guarded(c->in, k);
		h.fields = fields;
		h.nfields = CGI_HEADER_FIELDS;
		rc = cgi_header_parse(p, k, &h, &status);
		unit_guarded_free(p, k);
		CHECK_INT_AT(c->line, rc, INCOMPLETE, "prefix");
	}
	p = unit_guarded(c->in, c->len);
	h.fields = fields;
	h.nfields = CGI_HEADER_FIELDS;
	rc = cgi_header_parse(p, c->len, &h, &status);
	CHECK_INT_AT(c->line, rc, want, "rc");
	if (rc == -1)
		CHECK_INT_AT(c->line, status, 502, "status");
	if (rc > 0 && c->rc == OK) {
		CHECK_INT_AT(c->line, h.status, c->status, "Status");
		CHECK_AT(c->line, c->type ? h.content_type.p != NULL &&
		    str_eq(h.content_type, c->type) : h.content_type.p == NULL,
		    "Content-Type");
		CHECK_AT(c->line, c->location ? h.location.p != NULL &&
		    str_eq(h.location, c->location) : h.location.p == NULL,
		    "Location");
		CHECK_AT(c->line, c->length < 0 ? !h.has_length :
		    h.has_length && h.content_length == (uint64_t)c->length,
		    "Content-Length");
		CHECK_INT_AT(c->line, (int)h.nfields, (int)c->nfields,
		    "fields");
		if (c->first != NULL && h.nfields > 0)
			CHECK_AT(c->line, (size_t)snprintf(NULL, 0, "%.*s: %.*s",
			    (int)h.fields[0].name.len, h.fields[0].name.p,
			    (int)h.fields[0].value.len, h.fields[0].value.p) ==
			    strlen(c->first) && memcmp(h.fields[0].name.p,
			    c->first, h.fields[0].name.len) == 0, "first field");
	}
	unit_guarded_free(p, c->len);
}

static void
test_too_many_fields(void)
{
	struct http_field	 fields[2];
	struct cgi_header	 h;
	static const char	 in[] = CT "\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	int			 status;

	h.fields = fields;
	h.nfields = 2;
	CHECK_INT(cgi_header_parse(in, sizeof(in) - 1, &h, &status), -1);
}

int
main(int argc, char **argv)
{
	size_t	 i;

	unit_init(argc, argv);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_too_many_fields();
	return unit_summary();
}
