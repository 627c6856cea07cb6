/*
 * Unit tests of http_basic.c: RFC 7617 "Basic" credentials, decoded
 * strictly into NUL-terminated user and password buffers. Inputs end at a
 * PROT_NONE page.
 */
#include "unit.h"

#include "http.h"

#define S(lit)		lit, sizeof(lit) - 1

static const struct {
	int		 line;
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*user, *pass;
} cases[] = {
	/* "alice:wonder land" */
	{ __LINE__, S("Basic YWxpY2U6d29uZGVyIGxhbmQ="), 0, "alice",
	    "wonder land" },
	{ __LINE__, S("basic YWxpY2U6d29uZGVyIGxhbmQ="), 0, "alice",
	    "wonder land" },	/* RFC 9110 11.1: the scheme is any case */
	{ __LINE__, S("BASIC   YWxpY2U6d29uZGVyIGxhbmQ="), 0, "alice",
	    "wonder land" },
	/* "bob:b0b:pw": the first colon splits (RFC 7617 2) */
	{ __LINE__, S("Basic Ym9iOmIwYjpwdw=="), 0, "bob", "b0b:pw" },
	/* "u:" an empty password */
	{ __LINE__, S("Basic dTo="), 0, "u", "" },
	/* ":pw" no user */
	{ __LINE__, S("Basic OnB3"), -1 },
	/* "nocolon" */
	{ __LINE__, S("Basic bm9jb2xvbg=="), -1 },
	/* "\xc3\xa9:pw" UTF-8 is fine */
	{ __LINE__, S("Basic w6k6cHc="), 0, "\xc3\xa9", "pw" },
	/* "a\x00b:pw" and "a:p\nw": control bytes are refused */
	{ __LINE__, S("Basic YQBiOnB3"), -1 },
	{ __LINE__, S("Basic YTpwCnc="), -1 },
	{ __LINE__, S("Basic YTpwf3c="), -1 },		/* DEL */
	/* not Basic, or not base64 */
	{ __LINE__, S("Bearer YWxpY2U6cHc="), -1 },
	{ __LINE__, S("Basic"), -1 },
	{ __LINE__, S("Basic "), -1 },
	{ __LINE__, S("BasicYWxpY2U6cHc="), -1 },
	{ __LINE__, S("Basic YWxpY2U6cHc"), -1 },	/* length % 4 */
	{ __LINE__, S("Basic YWxpY2U6c=Hc="), -1 },	/* '=' inside */
	{ __LINE__, S("Basic YWxp!2U6cHc="), -1 },
	{ __LINE__, S("Basic YWxpY2U6cHc= "), -1 },	/* trailing space */
	{ __LINE__, S("Basic YWxpY2U6cHc=="), -1 },
	{ __LINE__, S("Basic ===="), -1 },
};

#define USER_MAX	8
#define PASS_MAX	16

static void
test_limits(void)
{
	char	 user[USER_MAX], pass[PASS_MAX], *p;
	/* "1234567:p": a user of 7 bytes fits 8 with its NUL; 8 does not */
	static const char	 fits[] = "Basic MTIzNDU2NzpwYXNz";
	static const char	 over[] = "Basic MTIzNDU2Nzg6cA==";

	p = unit_guarded(fits, sizeof(fits) - 1);
	CHECK_INT(http_basic_decode((struct str){ p, sizeof(fits) - 1 }, user,
	    sizeof(user), pass, sizeof(pass)), 0);
	CHECK(strcmp(user, "1234567") == 0 && strcmp(pass, "pass") == 0);
	unit_guarded_free(p, sizeof(fits) - 1);
	p = unit_guarded(over, sizeof(over) - 1);
	CHECK_INT(http_basic_decode((struct str){ p, sizeof(over) - 1 }, user,
	    sizeof(user), pass, sizeof(pass)), -1);
	unit_guarded_free(p, sizeof(over) - 1);
}

int
main(int argc, char **argv)
{
	char	 user[64], pass[64], *p;
	size_t	 i;
	int	 rc;

	unit_init(argc, argv);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = unit_guarded(cases[i].in, cases[i].len);
		rc = http_basic_decode((struct str){ p, cases[i].len }, user,
		    sizeof(user), pass, sizeof(pass));
		CHECK_INT_AT(cases[i].line, rc, cases[i].rc, "decode");
		if (rc == 0 && cases[i].rc == 0) {
			CHECK_AT(cases[i].line, strcmp(user, cases[i].user) == 0,
			    "user \"%s\"", user);
			CHECK_AT(cases[i].line, strcmp(pass, cases[i].pass) == 0,
			    "password \"%s\"", pass);
		}
		unit_guarded_free(p, cases[i].len);
	}
	test_limits();
	return unit_summary();
}
