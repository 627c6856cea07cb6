/*
 * libFuzzer target: http_cookie.c. The input is one Cookie field: the
 * session cookie is looked for and the field stripped of it; a value
 * found must lie inside the field and hold only cookie-octets, and the
 * stripped field never holds the name as a pair of its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define NAME	"porch_session"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	struct str	 v = { (const char *)bytes, size }, val, again;
	char		 out[512];
	size_t		 i;
	int		 rc, n;

	rc = http_cookie_get(v, NAME, &val);
	if (rc < -1 || rc > 1)
		__builtin_trap();
	if (rc == 1) {
		if (val.p < v.p || val.p + val.len > v.p + v.len)
			__builtin_trap();
		for (i = 0; i < val.len; i++)
			if ((unsigned char)val.p[i] <= 0x20 || val.p[i] == ';' ||
			    val.p[i] == '"' || val.p[i] == 0x7f)
				__builtin_trap();
	}
	n = http_cookie_strip(v, NAME, out, sizeof(out));
	if (n >= (int)sizeof(out) || (n >= 0 && strlen(out) != (size_t)n))
		__builtin_trap();
	if (n >= 0 && rc != -1 && http_cookie_get((struct str){ out,
	    (size_t)n }, NAME, &again) == 1)
		__builtin_trap();	/* still there after the strip */
	return 0;
}
