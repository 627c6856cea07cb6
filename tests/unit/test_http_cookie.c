/*
 * Unit tests of http_cookie.c: one cookie by name from a Cookie field
 * (RFC 6265 4.2.1), strict for the one asked for, and the field without
 * it. Inputs end at a PROT_NONE page.
 */
#include "unit.h"

#include "http.h"

#define S(lit)		lit, sizeof(lit) - 1
#define NAME		"porch_session"
#define ID		"0123456789abcdef0123456789abcdef"

static const struct {
	int		 line;
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*value;
} get_cases[] = {
	{ __LINE__, S(NAME "=" ID), 1, ID },
	{ __LINE__, S("a=b; " NAME "=" ID "; c=d"), 1, ID },
	{ __LINE__, S("a=b;" NAME "=" ID), 1, ID },		/* no SP */
	{ __LINE__, S(NAME "=\"" ID "\""), 1, ID },
	{ __LINE__, S(NAME "="), 1, "" },
	{ __LINE__, S("a=b; c=d"), 0 },
	{ __LINE__, S(""), 0 },
	{ __LINE__, S("x" NAME "=" ID), 0 },
	{ __LINE__, S(NAME "x=" ID), 0 },
	{ __LINE__, S("Porch_Session=" ID), 0 },		/* case counts */
	/* other cookies may be outside the grammar */
	{ __LINE__, S("a=b c; d={\"j\":1}; " NAME "=" ID), 1, ID },
	{ __LINE__, S("noequals; " NAME "=" ID), 1, ID },
	/* unusable */
	{ __LINE__, S(NAME "=" ID "; " NAME "=" ID), -1 },
	{ __LINE__, S(NAME "=a; " NAME "=b"), -1 },
	{ __LINE__, S(NAME "=" ID "\x00" "x"), -1 },		/* CVE-2021-32030 */
	{ __LINE__, S("a=\x01; " NAME "=" ID), -1 },
	{ __LINE__, S(NAME "=a b"), -1 },
	{ __LINE__, S(NAME "=a,b"), -1 },
	{ __LINE__, S(NAME "=a\\b"), -1 },
	{ __LINE__, S(NAME "=\"a"), -1 },
	{ __LINE__, S(NAME "=a\"b"), -1 },
	{ __LINE__, S(NAME "=\xc3\xa9"), -1 },
};

static const struct {
	int		 line;
	const char	*in;
	const char	*out;
} strip_cases[] = {
	{ __LINE__, NAME "=" ID, "" },
	{ __LINE__, "a=b; " NAME "=" ID "; c=d", "a=b; c=d" },
	{ __LINE__, "a=b;" NAME "=" ID ";  c=d", "a=b; c=d" },
	{ __LINE__, "a=b", "a=b" },
	{ __LINE__, NAME "x=1; x" NAME "=2", NAME "x=1; x" NAME "=2" },
	{ __LINE__, "flag; " NAME "=1", "flag" },
};

int
main(int argc, char **argv)
{
	struct str	 v;
	char		 out[256], *p;
	size_t		 i;
	int		 rc;

	unit_init(argc, argv);
	for (i = 0; i < sizeof(get_cases) / sizeof(get_cases[0]); i++) {
		p = unit_guarded(get_cases[i].in, get_cases[i].len);
		v.p = NULL;
		v.len = 0;
		unit_seed("fuzz_http_cookie", get_cases[i].in,
		    get_cases[i].len);
		rc = http_cookie_get((struct str){ p, get_cases[i].len }, NAME,
		    &v);
		CHECK_INT_AT(get_cases[i].line, rc, get_cases[i].rc, "rc");
		if (rc == 1 && get_cases[i].rc == 1)
			CHECK_AT(get_cases[i].line, str_eq(v, get_cases[i].value),
			    "value %.*s", (int)v.len, v.p);
		unit_guarded_free(p, get_cases[i].len);
	}
	for (i = 0; i < sizeof(strip_cases) / sizeof(strip_cases[0]); i++) {
		p = unit_guarded(strip_cases[i].in, strlen(strip_cases[i].in));
		rc = http_cookie_strip((struct str){ p, strlen(strip_cases[i].in)
		    }, NAME, out, sizeof(out));
		CHECK_AT(strip_cases[i].line, rc >= 0 &&
		    strcmp(out, strip_cases[i].out) == 0, "got \"%s\"", out);
		unit_guarded_free(p, strlen(strip_cases[i].in));
	}
	CHECK_INT(http_cookie_strip((struct str){ S("a=b; c=d") }, NAME, out,
	    8), -1);
	CHECK_INT(http_cookie_strip((struct str){ S("a=b; c=d") }, NAME, out,
	    9), 8);
	return unit_summary();
}
