/*
 * Unit tests of http_form.c: a field of a form-encoded body or of a flat
 * JSON object, decoded strictly; and JSON string escaping. Inputs end at
 * a PROT_NONE page.
 */
#include "unit.h"

#include "http.h"

#define S(lit)		lit, sizeof(lit) - 1

struct body_case {
	int		 line;
	const char	*in;
	size_t		 len;
	int		 rc;
	const char	*value;
};

static const struct body_case form_cases[] = {
	{ __LINE__, S("user=admin&password=pw"), 1, "admin" },
	{ __LINE__, S("password=pw&user=admin"), 1, "admin" },
	{ __LINE__, S("user=a+b%20c%2B"), 1, "a b c+" },
	{ __LINE__, S("user=%C3%A9"), 1, "\xc3\xa9" },
	{ __LINE__, S("user="), 1, "" },
	{ __LINE__, S("x=1&&user=u&"), 1, "u" },
	{ __LINE__, S("password=pw"), 0 },
	{ __LINE__, S("username=x"), 0 },
	{ __LINE__, S("user"), 0 },		/* no '=': not this pair */
	{ __LINE__, S(""), 0 },
	{ __LINE__, S("user=a&user=b"), -1 },
	{ __LINE__, S("user=%2"), -1 },
	{ __LINE__, S("user=%zz"), -1 },
	{ __LINE__, S("user=%00"), -1 },
	{ __LINE__, S("user=a%0Ab"), -1 },
	{ __LINE__, S("user=a\x01"), -1 },
	{ __LINE__, S("user=0123456789abcdefg"), -1 },	/* 17: over 16 */
};

static const struct body_case json_cases[] = {
	{ __LINE__, S("{\"user\":\"admin\",\"password\":\"pw\"}"), 1, "admin" },
	{ __LINE__, S(" {\n \"password\" : \"pw\" ,\t\"user\":\"a\"} \n"), 1,
	    "a" },
	{ __LINE__, S("{\"user\":\"a\\\"b\\\\c\\/d\\n\"}"), 1, "a\"b\\c/d\n" },
	{ __LINE__, S("{\"user\":\"\\u00e9\\u20ac\"}"), 1,
	    "\xc3\xa9\xe2\x82\xac" },
	{ __LINE__, S("{\"user\":\"\\ud83d\\ude00\"}"), 1, "\xf0\x9f\x98\x80" },
	{ __LINE__, S("{\"n\":12.5e3,\"t\":true,\"f\":false,\"z\":null,"
	    "\"user\":\"u\"}"), 1, "u" },
	{ __LINE__, S("{}"), 0 },
	{ __LINE__, S("{\"other\":\"x\"}"), 0 },
	{ __LINE__, S("{\"user\":\"a\",\"user\":\"b\"}"), -1 },
	{ __LINE__, S("{\"user\":1}"), -1 },
	{ __LINE__, S("{\"user\":null}"), -1 },
	{ __LINE__, S("{\"user\":{\"a\":1}}"), -1 },
	{ __LINE__, S("{\"x\":[1]}"), -1 },
	{ __LINE__, S("{\"user\":\"a\"} x"), -1 },
	{ __LINE__, S("{\"user\":\"a\",}"), -1 },
	{ __LINE__, S("{\"user\" \"a\"}"), -1 },
	{ __LINE__, S("[\"user\"]"), -1 },
	{ __LINE__, S("{\"user\":\"a"), -1 },
	{ __LINE__, S("{\"user\":\"a\x01\"}"), -1 },
	{ __LINE__, S("{\"user\":\"\\u0000\"}"), -1 },
	{ __LINE__, S("{\"user\":\"\\ud83d\"}"), -1 },	/* lone surrogate */
	{ __LINE__, S("{\"user\":\"\\ude00\"}"), -1 },
	{ __LINE__, S("{\"user\":\"\\x41\"}"), -1 },
	{ __LINE__, S("{\"user\":\"\\u00g1\"}"), -1 },
	{ __LINE__, S("{\"x\":tru,\"user\":\"u\"}"), -1 },
	{ __LINE__, S("{\"user\":\"0123456789abcdefg\"}"), -1 },	/* 17: over 16 */
	{ __LINE__, S(""), -1 },
};

static void
run(const struct body_case *cases, size_t n,
    int (*get)(struct str, const char *, char *, size_t))
{
	char	 out[17], *p;
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++) {
		unit_seed("fuzz_http_form", cases[i].in, cases[i].len);
		p = unit_guarded(cases[i].in, cases[i].len);
		out[0] = '\0';
		rc = get((struct str){ p, cases[i].len }, "user", out,
		    sizeof(out));
		CHECK_INT_AT(cases[i].line, rc, cases[i].rc, "rc");
		if (rc == 1 && cases[i].rc == 1)
			CHECK_AT(cases[i].line, strcmp(out, cases[i].value) == 0,
			    "value \"%s\"", out);
		unit_guarded_free(p, cases[i].len);
	}
}

static void
test_escape(void)
{
	char	 out[64];

	CHECK_INT(http_json_escape(S("plain"), out, sizeof(out)), 5);
	CHECK(strcmp(out, "plain") == 0);
	CHECK(http_json_escape(S("a\"b\\c\n\x01\x7f\xc3\xa9"), out,
	    sizeof(out)) > 0);
	CHECK(strcmp(out, "a\\\"b\\\\c\\u000a\\u0001\\u007f\xc3\xa9") == 0);
	CHECK_INT(http_json_escape(S("abc"), out, 3), -1);
	CHECK_INT(http_json_escape(S("abc"), out, 4), 3);
	CHECK_INT(http_json_escape(S("\n"), out, 6), -1);
}

int
main(int argc, char **argv)
{
	unit_init(argc, argv);
	run(form_cases, sizeof(form_cases) / sizeof(form_cases[0]),
	    http_form_get);
	run(json_cases, sizeof(json_cases) / sizeof(json_cases[0]),
	    http_json_get);
	test_escape();
	return unit_summary();
}
