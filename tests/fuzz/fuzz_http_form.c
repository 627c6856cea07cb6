/*
 * libFuzzer target: http_form.c. The input is a login body, read as a
 * form and as JSON; a value found is NUL-terminated within its buffer
 * and holds no control byte; escaping it for JSON and reading that back
 * gives it again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_value(const char *out, size_t size)
{
	char	 json[6 * 64 + 32], back[64];
	size_t	 n = strnlen(out, size);
	int	 k;

	if (n == size)
		__builtin_trap();		/* not terminated */
	k = snprintf(json, sizeof(json), "{\"user\":\"");
	if (http_json_escape(out, n, json + k, sizeof(json) - (size_t)k - 2)
	    == -1)
		__builtin_trap();		/* 6x room always fits */
	strcat(json, "\"}");
	if (http_json_get((struct str){ json, strlen(json) }, "user", back,
	    sizeof(back)) != 1 || strcmp(back, out) != 0)
		__builtin_trap();		/* no round trip */
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	struct str	 v = { (const char *)bytes, size };
	char		 out[64];
	int		 rc;
	size_t		 i;

	memset(out, 0x55, sizeof(out));
	rc = http_form_get(v, "user", out, sizeof(out));
	if (rc < -1 || rc > 1)
		__builtin_trap();
	if (rc == 1) {
		for (i = 0; out[i] != '\0'; i++)
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				__builtin_trap();
		check_value(out, sizeof(out));
	}
	memset(out, 0x55, sizeof(out));
	rc = http_json_get(v, "user", out, sizeof(out));
	if (rc < -1 || rc > 1)
		__builtin_trap();
	if (rc == 1)
		check_value(out, sizeof(out));
	return 0;
}
