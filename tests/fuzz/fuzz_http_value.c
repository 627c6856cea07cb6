/*
 * libFuzzer target: the field-value parsers of http_value.c. The whole
 * input is one field value, given to each of them: Range against several
 * representation sizes, HTTP-date (and a format/parse round trip of what
 * it yields), and If-None-Match against a few entity tags.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define DATE_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_range(struct str v)
{
	static const uint64_t	 sizes[] = { 0, 1, 2, 100, 1000,
	    UINT64_C(1) << 32, UINT64_MAX - 1, UINT64_MAX };
	uint64_t		 first, last;
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		rc = http_range_parse(v, sizes[i], &first, &last);
		if (rc != 0 && rc != 416 && rc != -1)
			__builtin_trap();
		if (rc == 0 && (first > last || last >= sizes[i]))
			__builtin_trap();
	}
}

static void
check_date(struct str v)
{
	char	 out[HTTP_DATE_LEN + 1];
	int64_t	 t, back;

	if (http_date_parse(v, &t) != 0 || t < 0 || t > DATE_MAX)
		return;
	if (http_date_format(t, out) != HTTP_DATE_LEN ||
	    strlen(out) != HTTP_DATE_LEN)
		__builtin_trap();
	if (http_date_parse((struct str){ out, HTTP_DATE_LEN }, &back) != 0 ||
	    back != t)
		__builtin_trap();
}

static void
check_etag(struct str v)
{
	static const char	*etags[] = { "\"abc\"", "\"\"", "\"5e1-6f2a\"",
	    "\"W/\"" };
	size_t			 i;
	bool			 star;

	star = memchr(v.p, '*', v.len) != NULL;
	for (i = 0; i < sizeof(etags) / sizeof(etags[0]); i++)
		if (http_etag_match(v, etags[i]) && !star &&
		    v.len < strlen(etags[i]))
			__builtin_trap();	/* matched what is not there */
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	struct str	 v = { (const char *)bytes, size };

	check_range(v);
	check_date(v);
	check_etag(v);
	return 0;
}
