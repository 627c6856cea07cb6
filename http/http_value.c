/*
 * Field values that handlers interpret: Range, HTTP-dates, entity tags.
 * Pure functions; a value that does not parse is ignored by the caller,
 * as RFC 9110 asks for these optional fields.
 */
#include <string.h>

#include "http.h"

static const char	 wkday[7][4] = { "Thu", "Fri", "Sat", "Sun", "Mon",
    "Tue", "Wed" };
static const char	 month[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool
digits(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	return parse_uint(p, n, max, out) == 0;
}

/*
 * RFC 9110 14.1.2: one byte range. Returns 0 with the first and last byte set, 416
 * when unsatisfiable, or -1 when the field is to be ignored (not bytes,
 * malformed, or several ranges, which porch does not serve).
 */
int
http_range_parse(struct str v, uint64_t size, uint64_t *first, uint64_t *last)
{
	const char	*dash;
	struct str	 a, b;
	uint64_t	 x, y;

	if (v.len < 7 || !str_eq_nocase((struct str){ v.p, 6 }, "bytes="))
		return -1;
	v.p += 6;
	v.len -= 6;
	while (v.len > 0 && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.len--;
	}
	while (v.len > 0 && (v.p[v.len - 1] == ' ' || v.p[v.len - 1] == '\t'))
		v.len--;
	if (memchr(v.p, ',', v.len) != NULL ||
	    (dash = memchr(v.p, '-', v.len)) == NULL)
		return -1;
	a.p = v.p;
	a.len = (size_t)(dash - v.p);
	b.p = dash + 1;
	b.len = v.len - a.len - 1;
	if (a.len == 0) {		/* suffix: the last y bytes */
		if (!digits(b.p, b.len, UINT64_MAX, &y))
			return -1;
		if (y == 0 || size == 0)
			return 416;
		*first = y >= size ? 0 : size - y;
		*last = size - 1;
		return 0;
	}
	if (!digits(a.p, a.len, UINT64_MAX, &x))
		return -1;
	if (b.len == 0)
		y = UINT64_MAX;
	else if (!digits(b.p, b.len, UINT64_MAX, &y) || y < x)
		return -1;
	if (x >= size)
		return 416;
	*first = x;
	*last = y >= size ? size - 1 : y;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		 era;
	unsigned	 yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
month_index(const char *p)
{
	int	 i;

	for (i = 0; i < 12; i++)
		if (memcmp(p, month[i], 3) == 0)
			return i;
	return -1;
}

static bool
two(const char *p, unsigned max, unsigned *out)
{
	uint64_t	 v;

	if (!digits(p, 2, max, &v))
		return false;
	*out = (unsigned)v;
	return true;
}

static int
date_from_parts(uint64_t year, int mon, unsigned day, const char *hms,
    int64_t *out)
{
	unsigned	 h, mi, s;

	if (mon < 0 || day < 1 || day > 31 || hms[2] != ':' || hms[5] != ':')
		return -1;
	if (!two(hms, 23, &h) || !two(hms + 3, 59, &mi) ||
	    !two(hms + 6, 60, &s))
		return -1;
	*out = days_from_civil((int64_t)year, (unsigned)mon + 1, day) * 86400 +
	    h * 3600 + mi * 60 + s;
	return 0;
}

/*
 * RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms
 * a recipient must still accept. 0 and *out, or -1.
 */
int
http_date_parse(struct str v, int64_t *out)
{
	const char	*p = v.p, *comma;
	uint64_t	 year;
	unsigned	 day;

	if (v.len == 29 && p[3] == ',' && p[4] == ' ' && p[7] == ' ' &&
	    p[11] == ' ' && p[16] == ' ' && memcmp(p + 25, " GMT", 4) == 0) {
		if (!two(p + 5, 31, &day) || !digits(p + 12, 4, 9999, &year))
			return -1;
		return date_from_parts(year, month_index(p + 8), day, p + 17,
		    out);
	}
	if (v.len == 24 && p[3] == ' ' && p[7] == ' ' && p[10] == ' ' &&
	    p[19] == ' ') {		/* asctime: "Sun Nov  6 08:49:37 1994" */
		day = (unsigned)(p[9] - '0');
		if (p[9] < '0' || p[9] > '9' ||
		    (p[8] != ' ' && (p[8] < '0' || p[8] > '3')))
			return -1;
		if (p[8] != ' ')
			day += (unsigned)(p[8] - '0') * 10;
		if (!digits(p + 20, 4, 9999, &year))
			return -1;
		return date_from_parts(year, month_index(p + 4), day, p + 11,
		    out);
	}
	comma = memchr(p, ',', v.len);	/* RFC 850: "Sunday, 06-Nov-94 ..." */
	if (comma == NULL || (size_t)(v.p + v.len - comma) != 24)
		return -1;
	p = comma + 2;
	if (comma[1] != ' ' || p[2] != '-' || p[6] != '-' || p[9] != ' ' ||
	    memcmp(p + 18, " GMT", 4) != 0)
		return -1;
	if (!two(p, 31, &day) || !digits(p + 7, 2, 99, &year))
		return -1;
	year += year < 70 ? 2000 : 1900;	/* RFC 9110 5.6.7: 50 years */
	return date_from_parts(year, month_index(p + 3), day, p + 10, out);
}

static void
put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/* IMF-fixdate of t (seconds since the epoch, >= 0); returns 29. */
size_t
http_date_format(int64_t t, char out[HTTP_DATE_LEN + 1])
{
	int64_t		 days, z, era, y;
	unsigned	 doe, yoe, doy, mp, d, m, secs;

	if (t < 0)
		t = 0;
	days = t / 86400;
	secs = (unsigned)(t % 86400);
	z = days + 719468;
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y > 9999)
		y = 9999;
	memcpy(out, wkday[days % 7], 3);
	memcpy(out + 3, ", ", 2);
	put2(out + 5, d);
	out[7] = ' ';
	memcpy(out + 8, month[m - 1], 3);
	out[11] = ' ';
	put2(out + 12, (unsigned)(y / 100));
	put2(out + 14, (unsigned)(y % 100));
	out[16] = ' ';
	put2(out + 17, secs / 3600);
	out[19] = ':';
	put2(out + 20, secs / 60 % 60);
	out[22] = ':';
	put2(out + 23, secs % 60);
	memcpy(out + 25, " GMT", 4);
	out[HTTP_DATE_LEN] = '\0';
	return HTTP_DATE_LEN;
}

/*
 * RFC 9110 13.1.2: If-None-Match uses weak comparison; "*" matches any
 * current representation. etag is ours, always strong and quoted.
 */
bool
http_etag_match(struct str v, const char *etag)
{
	size_t		 elen = strlen(etag), i = 0;
	const char	*p;

	while (i < v.len) {
		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' ||
		    v.p[i] == ','))
			i++;
		if (i == v.len)
			break;
		if (v.p[i] == '*')
			return true;
		if (v.len - i >= 2 && v.p[i] == 'W' && v.p[i + 1] == '/')
			i += 2;
		p = v.p + i;
		if (v.len - i >= elen && memcmp(p, etag, elen) == 0 &&
		    (v.len - i == elen || p[elen] == ',' || p[elen] == ' ' ||
		    p[elen] == '\t'))
			return true;
		while (i < v.len && v.p[i] != ',')
			i++;
	}
	return false;
}
