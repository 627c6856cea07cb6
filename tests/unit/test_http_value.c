/*
 * Unit tests of http_value.c: Range (RFC 9110 14), HTTP-date (RFC 9110
 * 5.6.7) and If-None-Match (RFC 9110 13.1.2). Inputs end exactly at a
 * PROT_NONE page.
 */
#include <time.h>

#include "unit.h"

#include "http.h"

#define S(lit)		lit, sizeof(lit) - 1
#define IGNORE		(-1)		/* http_range_parse: no Range */

static const struct {
	int		 line;
	const char	*in;
	size_t		 len;
	uint64_t	 size;
	int		 rc;		/* 0, 416 or IGNORE */
	uint64_t	 first, last;
} range_cases[] = {
	{ __LINE__, S("bytes=0-499"), 1000, 0, 0, 499 },
	{ __LINE__, S("bytes=500-999"), 1000, 0, 500, 999 },
	{ __LINE__, S("bytes=0-0"), 1000, 0, 0, 0 },
	{ __LINE__, S("bytes=999-999"), 1000, 0, 999, 999 },
	{ __LINE__, S("bytes=0-999"), 1000, 0, 0, 999 },
	{ __LINE__, S("bytes=999-2000"), 1000, 0, 999, 999 },
	{ __LINE__, S("bytes=0-18446744073709551615"), 1000, 0, 0, 999 },
	{ __LINE__, S("bytes=0-0"), 1, 0, 0, 0 },
	/* open-ended */
	{ __LINE__, S("bytes=500-"), 1000, 0, 500, 999 },
	{ __LINE__, S("bytes=0-"), 1000, 0, 0, 999 },
	{ __LINE__, S("bytes=999-"), 1000, 0, 999, 999 },
	/* suffix: the last N bytes */
	{ __LINE__, S("bytes=-500"), 1000, 0, 500, 999 },
	{ __LINE__, S("bytes=-1"), 1000, 0, 999, 999 },
	{ __LINE__, S("bytes=-1000"), 1000, 0, 0, 999 },
	{ __LINE__, S("bytes=-1500"), 1000, 0, 0, 999 },
	{ __LINE__, S("bytes=-18446744073709551615"), 1000, 0, 0, 999 },
	/* OWS and case: RFC 9110 14.1 */
	{ __LINE__, S("bytes= 1-2"), 1000, 0, 1, 2 },
	{ __LINE__, S("bytes=1-2 \t"), 1000, 0, 1, 2 },
	{ __LINE__, S("BYTES=1-2"), 1000, 0, 1, 2 },
	{ __LINE__, S("Bytes=-2"), 1000, 0, 998, 999 },
	{ __LINE__, S("bytes=0001-0002"), 1000, 0, 1, 2 },
	/* unsatisfiable: 416 */
	{ __LINE__, S("bytes=1000-"), 1000, 416 },
	{ __LINE__, S("bytes=1000-1001"), 1000, 416 },
	{ __LINE__, S("bytes=5000-6000"), 1000, 416 },
	{ __LINE__, S("bytes=-0"), 1000, 416 },
	{ __LINE__, S("bytes=-000"), 1000, 416 },
	{ __LINE__, S("bytes=0-"), 0, 416 },
	{ __LINE__, S("bytes=0-0"), 0, 416 },
	{ __LINE__, S("bytes=-5"), 0, 416 },
	{ __LINE__, S("bytes=18446744073709551615-"), 1000, 416 },
	/* multiple ranges are not served: the field is ignored */
	{ __LINE__, S("bytes=0-1,5-6"), 1000, IGNORE },
	{ __LINE__, S("bytes=0-1, 5-6"), 1000, IGNORE },
	{ __LINE__, S("bytes=0-1,"), 1000, IGNORE },
	{ __LINE__, S("bytes=,0-1"), 1000, IGNORE },
	{ __LINE__, S("bytes=-5,-6"), 1000, IGNORE },
	/* garbage: ignored */
	{ __LINE__, S(""), 1000, IGNORE },
	{ __LINE__, S("bytes"), 1000, IGNORE },
	{ __LINE__, S("bytes="), 1000, IGNORE },
	{ __LINE__, S("bytes=-"), 1000, IGNORE },
	{ __LINE__, S("bytes= "), 1000, IGNORE },
	{ __LINE__, S("bytes=5"), 1000, IGNORE },
	{ __LINE__, S("bytes=a-b"), 1000, IGNORE },
	{ __LINE__, S("bytes=1-a"), 1000, IGNORE },
	{ __LINE__, S("bytes=5-1"), 1000, IGNORE },
	{ __LINE__, S("bytes=--1"), 1000, IGNORE },
	{ __LINE__, S("bytes=1--2"), 1000, IGNORE },
	{ __LINE__, S("bytes=1-2-3"), 1000, IGNORE },
	{ __LINE__, S("bytes=+1-2"), 1000, IGNORE },
	{ __LINE__, S("bytes=1 -2"), 1000, IGNORE },
	{ __LINE__, S("bytes=1- 2"), 1000, IGNORE },
	{ __LINE__, S("bytes=0x1-2"), 1000, IGNORE },
	{ __LINE__, S("bytes=-+1"), 1000, IGNORE },
	{ __LINE__, S("bytes = 1-2"), 1000, IGNORE },
	{ __LINE__, S(" bytes=1-2"), 1000, IGNORE },
	{ __LINE__, S("bits=1-2"), 1000, IGNORE },
	{ __LINE__, S("byte=1-2"), 1000, IGNORE },
	{ __LINE__, S("bytesx1-2"), 1000, IGNORE },
	{ __LINE__, S("bytes=18446744073709551616-"), 1000, IGNORE },
	{ __LINE__, S("bytes=0-18446744073709551616"), 1000, IGNORE },
	{ __LINE__, S("bytes=-18446744073709551616"), 1000, IGNORE },
	{ __LINE__, S("bytes=1\x00-2"), 1000, IGNORE },
};

static void
test_ranges(struct unit_guard *g)
{
	uint64_t	 first, last;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
		unit_seed("fuzz_http_value", range_cases[i].in,
		    range_cases[i].len);
		first = last = 77777;
		rc = http_range_parse((struct str){ unit_guard_put(g,
		    range_cases[i].in, range_cases[i].len),
		    range_cases[i].len }, range_cases[i].size, &first, &last);
		if (!CHECK_INT_AT(range_cases[i].line, rc, range_cases[i].rc,
		    "range rc"))
			continue;
		if (rc != 0)
			continue;
		CHECK_INT_AT(range_cases[i].line, first, range_cases[i].first,
		    "first");
		CHECK_INT_AT(range_cases[i].line, last, range_cases[i].last,
		    "last");
	}
}

static const struct {
	int		 line;
	const char	*in;
	size_t		 len;
	int		 rc;
	int64_t		 t;
} date_cases[] = {
	/* RFC 9110 5.6.7: the three forms of one instant */
	{ __LINE__, S("Sun, 06 Nov 1994 08:49:37 GMT"), 0, 784111777 },
	{ __LINE__, S("Sunday, 06-Nov-94 08:49:37 GMT"), 0, 784111777 },
	{ __LINE__, S("Sun Nov  6 08:49:37 1994"), 0, 784111777 },
	{ __LINE__, S("Sun Nov 06 08:49:37 1994"), 0, 784111777 },
	{ __LINE__, S("Thu, 01 Jan 1970 00:00:00 GMT"), 0, 0 },
	{ __LINE__, S("Wed, 31 Dec 1969 23:59:59 GMT"), 0, -1 },
	{ __LINE__, S("Thu Jan  1 00:00:00 1970"), 0, 0 },
	{ __LINE__, S("Thursday, 01-Jan-70 00:00:00 GMT"), 0, 0 },
	/* leap years: 2000 is one, 2100 is not */
	{ __LINE__, S("Tue, 29 Feb 2000 00:00:00 GMT"), 0, 951782400 },
	{ __LINE__, S("Thu, 29 Feb 2024 12:00:00 GMT"), 0, 1709208000 },
	{ __LINE__, S("Thu Feb 29 12:00:00 2024"), 0, 1709208000 },
	{ __LINE__, S("Thursday, 29-Feb-24 12:00:00 GMT"), 0, 1709208000 },
	{ __LINE__, S("Sun, 28 Feb 2100 23:59:59 GMT"), 0, 4107542399 },
	{ __LINE__, S("Mon, 01 Mar 2100 00:00:00 GMT"), 0, 4107542400 },
	/* 2038 and later: no 32-bit time_t anywhere */
	{ __LINE__, S("Tue, 19 Jan 2038 03:14:07 GMT"), 0, 2147483647 },
	{ __LINE__, S("Tue, 19 Jan 2038 03:14:08 GMT"), 0, 2147483648 },
	{ __LINE__, S("Tue Jan 19 03:14:08 2038"), 0, 2147483648 },
	{ __LINE__, S("Tuesday, 19-Jan-38 03:14:08 GMT"), 0, 2147483648 },
	{ __LINE__, S("Sun, 07 Feb 2106 06:28:16 GMT"), 0, 4294967296 },
	{ __LINE__, S("Fri, 31 Dec 9999 23:59:59 GMT"), 0, 253402300799 },
	/* RFC 850 two-digit years: 70..99 are 19xx, 00..69 are 20xx */
	{ __LINE__, S("Sunday, 01-Jan-69 00:00:00 GMT"), 0, 3124224000 },
	{ __LINE__, S("Friday, 01-Jan-99 00:00:00 GMT"), 0, 915148800 },
	{ __LINE__, S("Saturday, 01-Jan-00 00:00:00 GMT"), 0, 946684800 },
	/* a leap second is accepted */
	{ __LINE__, S("Sat, 31 Dec 2016 23:59:60 GMT"), 0, 1483228800 },
	/* malformed: ignored by callers */
	{ __LINE__, S(""), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 08:49:37 UTC"), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 08:49:37 gmt"), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 08:49:37 GMT "), -1 },
	{ __LINE__, S(" Sun, 06 Nov 1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 6 Nov 1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 06 nov 1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nox 1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov 94 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 8:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 08-49-37 GMT"), -1 },
	{ __LINE__, S("Sun, 00 Nov 1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 32 Nov 1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 24:00:00 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 08:60:00 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 08:49:61 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov 199x 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov +994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, -6 Nov 1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 08:49:+7 GMT"), -1 },
	{ __LINE__, S("Sun,  06 Nov 1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sunday, 06-Nov-1994 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sunday, 06-Nov-94 08:49:37 UTC"), -1 },
	{ __LINE__, S("Sunday, 06 Nov 94 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sunday,06-Nov-94 08:49:37 GMT "), -1 },
	{ __LINE__, S("Sunday, 6-Nov-94 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sunday, 0x-Nov-94 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sunday, 06-Nov-9x 08:49:37 GMT"), -1 },
	{ __LINE__, S("Sunday, 06-Nov-94 08:49:60 GMT"), 0, 784111800 },
	{ __LINE__, S(", 06-Nov-94 08:49:37 GMT"), 0, 784111777 },
	{ __LINE__, S("Sun Nov  6 08:49:37 94"), -1 },
	{ __LINE__, S("Sun Nov 6 08:49:37 1994"), -1 },
	{ __LINE__, S("Sun Nov  6 08:49:37 1994 "), -1 },
	{ __LINE__, S("Sun Nov 36 08:49:37 1994"), -1 },
	{ __LINE__, S("Sun Nov 40 08:49:37 1994"), -1 },
	{ __LINE__, S("Sun Nov  0 08:49:37 1994"), -1 },
	{ __LINE__, S("Sun Nov  x 08:49:37 1994"), -1 },
	{ __LINE__, S("Sun Nov x6 08:49:37 1994"), -1 },
	{ __LINE__, S("Sun Nov  6 08:49:37 19x4"), -1 },
	{ __LINE__, S("Sun Nov  6 08.49.37 1994"), -1 },
	{ __LINE__, S("1994-11-06T08:49:37Z"), -1 },
	{ __LINE__, S("784111777"), -1 },
	{ __LINE__, S(","), -1 },
	{ __LINE__, S("Sun, 06 Nov 1994 08:49:37 GMT\x00"), -1 },
};

static void
test_dates(struct unit_guard *g)
{
	int64_t	 t;
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
		unit_seed("fuzz_http_value", date_cases[i].in,
		    date_cases[i].len);
		t = 12345;
		rc = http_date_parse((struct str){ unit_guard_put(g,
		    date_cases[i].in, date_cases[i].len), date_cases[i].len },
		    &t);
		if (!CHECK_INT_AT(date_cases[i].line, rc, date_cases[i].rc,
		    "date rc"))
			continue;
		if (rc == 0)
			CHECK_INT_AT(date_cases[i].line, t, date_cases[i].t,
			    "time");
		else
			CHECK_INT_AT(date_cases[i].line, t, 12345, "untouched");
	}
}

static bool
parses_to(struct unit_guard *g, const char *s, size_t n, int64_t t)
{
	int64_t	 back = -1;

	if (http_date_parse((struct str){ unit_guard_put(g, s, n), n },
	    &back) == 0 && back == t)
		return true;
	NOTE_AT(__LINE__, "parse(\"%.*s\") = %lld, want %lld", (int)n, s,
	    (long long)back, (long long)t);
	return false;
}

/* Format one instant with libc, the reference, in the C locale. */
static size_t
ref_format(int64_t t, const char *fmt, char *out, size_t n)
{
	time_t		 tt = (time_t)t;
	struct tm	 tm;

	if (gmtime_r(&tt, &tm) == NULL)
		abort();
	return strftime(out, n, fmt, &tm);
}

/*
 * Format, compare with libc, parse back in every form. Differences are
 * noted; returns whether there were none.
 */
static bool
check_round_trip(struct unit_guard *g, int64_t t)
{
	char		 out[HTTP_DATE_LEN + 1], ref[64];
	size_t		 n;
	int		 year;

	memset(out, 'Z', sizeof(out));
	n = http_date_format(t, out);
	ref_format(t, "%a, %d %b %Y %H:%M:%S GMT", ref, sizeof(ref));
	if (n != HTTP_DATE_LEN || out[n] != '\0' || strcmp(out, ref) != 0) {
		NOTE_AT(__LINE__, "format(%lld): \"%s\", libc \"%s\"",
		    (long long)t, out, ref);
		return false;
	}
	if (!parses_to(g, out, n, t))
		return false;
	n = ref_format(t, "%a %b %e %H:%M:%S %Y", ref, sizeof(ref));
	if (!parses_to(g, ref, n, t))
		return false;
	ref_format(t, "%Y", ref, sizeof(ref));
	year = atoi(ref);
	if (year < 1970 || year > 2069)		/* RFC 850: two digits */
		return true;
	n = ref_format(t, "%A, %d-%b-%y %H:%M:%S GMT", ref, sizeof(ref));
	return parses_to(g, ref, n, t);
}

static void
test_date_round_trip(struct unit_guard *g)
{
	static const int64_t	 special[] = { 0, 1, 59, 60, 86399, 86400,
	    68169599, 68169600, 951782399, 951782400, 951868800,
	    2147483647, 2147483648, 4107542399, 4107542400, 4294967295,
	    4294967296, 253402300799 };
	char			 out[HTTP_DATE_LEN + 1];
	uint64_t		 x = 88172645463325252u;
	int64_t			 t, day;
	size_t			 i, bad;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		CHECK_AT(__LINE__, check_round_trip(g, special[i]),
		    "round trip of %lld", (long long)special[i]);
	/* every day from 1970 to 2500, at a different second of each */
	for (day = 0, bad = 0; day < 194534; day++)
		bad += !check_round_trip(g, day * 86400 + (day * 7919) % 86400);
	CHECK_AT(__LINE__, bad == 0, "%zu days of 194534 differ", bad);
	/* and random instants up to the end of 9999 */
	for (i = 0, bad = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bad += !check_round_trip(g,
		    (int64_t)(x % UINT64_C(253402300800)));
	}
	CHECK_AT(__LINE__, bad == 0, "%zu of 100000 random instants differ",
	    bad);
	/* before the epoch and after 9999: still 29 well-formed bytes */
	CHECK(http_date_format(-1, out) == HTTP_DATE_LEN);
	CHECK(strcmp(out, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
	CHECK(http_date_format(INT64_MIN, out) == HTTP_DATE_LEN);
	CHECK(strcmp(out, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
	for (t = INT64_MAX; t > 0; t /= 3) {
		memset(out, 'Z', sizeof(out));
		CHECK(http_date_format(t, out) == HTTP_DATE_LEN &&
		    out[HTTP_DATE_LEN] == '\0' && strlen(out) == HTTP_DATE_LEN);
		CHECK(http_date_parse((struct str){ out, HTTP_DATE_LEN },
		    &day) == 0);
	}
}

static const struct {
	int		 line;
	const char	*in;
	size_t		 len;
	const char	*etag;
	bool		 match;
} etag_cases[] = {
	{ __LINE__, S("\"abc\""), "\"abc\"", true },
	{ __LINE__, S("W/\"abc\""), "\"abc\"", true },	/* weak compare */
	{ __LINE__, S("\"x\", \"abc\""), "\"abc\"", true },
	{ __LINE__, S("\"x\",\"abc\""), "\"abc\"", true },
	{ __LINE__, S("\"abc\",\"x\""), "\"abc\"", true },
	{ __LINE__, S("\"abc\" , \"x\""), "\"abc\"", true },
	{ __LINE__, S(" \t\"abc\"\t "), "\"abc\"", true },
	{ __LINE__, S(",,\"abc\",,"), "\"abc\"", true },
	{ __LINE__, S("W/\"x\", W/\"abc\""), "\"abc\"", true },
	{ __LINE__, S("\"a,b\", \"abc\""), "\"abc\"", true },
	{ __LINE__, S("*"), "\"abc\"", true },
	{ __LINE__, S(" * "), "\"abc\"", true },
	{ __LINE__, S("\"x\", *"), "\"abc\"", true },
	{ __LINE__, S(""), "\"abc\"", false },
	{ __LINE__, S(" "), "\"abc\"", false },
	{ __LINE__, S(","), "\"abc\"", false },
	{ __LINE__, S("\"x\""), "\"abc\"", false },
	{ __LINE__, S("\"abcd\""), "\"abc\"", false },
	{ __LINE__, S("\"ab\""), "\"abc\"", false },
	{ __LINE__, S("\"ABC\""), "\"abc\"", false },
	{ __LINE__, S("abc"), "\"abc\"", false },
	{ __LINE__, S("\"abc"), "\"abc\"", false },
	{ __LINE__, S("\"abc\"x"), "\"abc\"", false },
	{ __LINE__, S("\"abc\"\"abc\""), "\"abc\"", false },
	{ __LINE__, S("w/\"abc\""), "\"abc\"", false },
	{ __LINE__, S("W/"), "\"abc\"", false },
	{ __LINE__, S("W/abc"), "\"abc\"", false },
	{ __LINE__, S("\"x\" \"abc\""), "\"abc\"", false },
	{ __LINE__, S("\"5e1-6f2a\""), "\"5e1-6f2a\"", true },
	{ __LINE__, S("\"5e1-6f2a\""), "\"5e1-6f2b\"", false },
};

static void
test_etags(struct unit_guard *g)
{
	size_t	 i;

	for (i = 0; i < sizeof(etag_cases) / sizeof(etag_cases[0]); i++) {
		unit_seed("fuzz_http_value", etag_cases[i].in,
		    etag_cases[i].len);
		CHECK_AT(etag_cases[i].line, http_etag_match((struct str){
		    unit_guard_put(g, etag_cases[i].in, etag_cases[i].len),
		    etag_cases[i].len }, etag_cases[i].etag) ==
		    etag_cases[i].match, "etag_match(%s, %s)",
		    etag_cases[i].in, etag_cases[i].etag);
	}
}

int
main(int argc, char **argv)
{
	struct unit_guard	 g;

	unit_init(argc, argv);
	unit_guard_init(&g, 4096);
	test_ranges(&g);
	test_dates(&g);
	test_date_round_trip(&g);
	test_etags(&g);
	printf("test_http_value: %zu range, %zu date, %zu etag cases\n",
	    sizeof(range_cases) / sizeof(range_cases[0]),
	    sizeof(date_cases) / sizeof(date_cases[0]),
	    sizeof(etag_cases) / sizeof(etag_cases[0]));
	unit_guard_free(&g);
	return unit_summary();
}
