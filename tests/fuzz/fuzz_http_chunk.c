/*
 * libFuzzer target: http_chunk_parse(). The first two bytes choose where
 * the body is split (little-endian, modulo its length); the rest is the
 * body stream. The body is decoded whole, in two reads at that offset, and
 * one byte at a time, each read in a buffer of exactly its size; all three
 * must agree on the outcome, the bytes consumed and the data, and the
 * decoder must keep its contract (data views inside the input, progress on
 * every call, nothing consumed past the end of the body).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct decoded {
	int	 status;	/* 0 done, 400, or HTTP_PARSE_INCOMPLETE */
	size_t	 consumed;
	char	*data;
	size_t	 len;
};

static void
feed(struct http_chunk_state *cs, const char *seg, size_t n,
    struct decoded *d)
{
	struct str	 data;
	char		*p, one;
	size_t		 off = 0;
	int		 rc, status;

	if (n == 0)
		return;
	/* a copy of exactly n bytes, so ASan sees any over-read */
	if (n == 1)
		p = &one;
	else if ((p = malloc(n)) == NULL)
		abort();
	memcpy(p, seg, n);
	while (d->status == HTTP_PARSE_INCOMPLETE && off < n) {
		rc = http_chunk_parse(cs, p + off, n - off, &data, &status);
		if (rc == HTTP_PARSE_ERROR) {
			if (status != 400)
				__builtin_trap();
			d->status = 400;
			break;
		}
		if (rc <= 0 || (size_t)rc > n - off)
			__builtin_trap();
		if (data.len > 0) {
			if (data.p != p + off || data.len != (size_t)rc)
				__builtin_trap();
			memcpy(d->data + d->len, data.p, data.len);
			d->len += data.len;
		}
		off += (size_t)rc;
		d->consumed += (size_t)rc;
		if (cs->done)
			d->status = 0;
	}
	if (cs->done && off < n &&
	    http_chunk_parse(cs, p + off, n - off, &data, &status) !=
	    HTTP_PARSE_INCOMPLETE)
		__builtin_trap();
	if (p != &one)
		free(p);
}

static void
decode(const char *in, size_t len, size_t step, size_t cut, struct decoded *d)
{
	struct http_chunk_state	 cs;
	size_t			 off;

	memset(&cs, 0, sizeof(cs));
	d->status = HTTP_PARSE_INCOMPLETE;
	d->consumed = d->len = 0;
	if (step == 0) {			/* two reads at cut */
		feed(&cs, in, cut, d);
		feed(&cs, in + cut, len - cut, d);
		return;
	}
	for (off = 0; off < len; off += step)
		feed(&cs, in + off, len - off < step ? len - off : step, d);
}

static void
same(const struct decoded *a, const struct decoded *b)
{
	if (a->status != b->status)
		__builtin_trap();
	if (a->status == 400)
		return;
	if (a->consumed != b->consumed || a->len != b->len ||
	    memcmp(a->data, b->data, a->len) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	struct decoded	 whole, split, bytewise;
	const char	*in = (const char *)bytes + 2;
	size_t		 len, cut;

	if (size < 2)
		return 0;
	len = size - 2;
	cut = ((size_t)bytes[0] | (size_t)bytes[1] << 8) % (len + 1);
	whole.data = malloc(len + 1);
	split.data = malloc(len + 1);
	bytewise.data = malloc(len + 1);
	if (whole.data == NULL || split.data == NULL || bytewise.data == NULL)
		abort();
	decode(in, len, len ? len : 1, 0, &whole);
	decode(in, len, 0, cut, &split);
	decode(in, len, 1, 0, &bytewise);
	if (whole.consumed > len || whole.len > whole.consumed)
		__builtin_trap();
	same(&whole, &split);
	same(&whole, &bytewise);
	free(whole.data);
	free(split.data);
	free(bytewise.data);
	return 0;
}
