/*
 * libFuzzer target over every parser of the UI's CGI (rootfs/ui/ui_parse.c,
 * ui_json.c): the first byte picks the parser, the rest is its input.
 * make ui-fuzz [FUZZ_SECONDS=N]
 */
#include <stdlib.h>
#include <string.h>

#include "ui.h"

int	LLVMFuzzerTestOneInput(const unsigned char *, size_t);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct json_member	 m[16];
	struct netdev		 d[8];
	struct porch_status	 st;
	struct fw_check		 fc;
	char			 out[512], load[3][16], *in;
	const char		*h;
	uint64_t		 a, b;
	size_t			 n, i, hl;
	struct jw		 j;

	if (size == 0)
		return 0;
	/* An exact-size copy: ASan sees any read past the end. */
	in = malloc(size - 1 ? size - 1 : 1);
	memcpy(in, data + 1, size - 1);
	size--;
	switch (data[0] % 8) {
	case 0:
		if (json_object(in, size, m, 16, &n) == 0)
			for (i = 0; i < n; i++)
				if (m[i].type == JSON_STRING)
					(void)json_unescape(m[i].val, m[i].vallen,
					    out, sizeof(out), &hl);
		break;
	case 1:
		(void)json_unescape(in, size, out, sizeof(out), &hl);
		break;
	case 2:
		(void)parse_netdev(in, size, d, 8, &n);
		(void)parse_meminfo(in, size, &a, &b);
		break;
	case 3:
		(void)parse_loadavg(in, size, load);
		(void)parse_uptime(in, size, &a);
		break;
	case 4:
		if (http_body_200(in, size, &h, &hl) == 0)
			(void)parse_porch_status(h, hl, &st);
		break;
	case 5:
		(void)parse_fw_check(in, size, &fc);
		break;
	case 6:
		(void)ui_hostname_valid(in, size);
		(void)ui_password_problem(in, size);
		jw_init(&j, out, sizeof(out));
		jw_str(&j, in, size);
		break;
	default:
		(void)passwd_lookup(in, size, "admin", &h, &hl);
		(void)passwd_replace(in, size, "admin", "$6$x$y", out,
		    sizeof(out));
	}
	free(in);
	return 0;
}
