/*
 * Unit tests of the admin UI CGI's pure parts (rootfs/ui/): the JSON
 * writer and reader, SHA-256, the validators and the parsers of /proc,
 * password files, porch's status and fw-upgrade's answers. Every parser
 * input is placed to end at a PROT_NONE page (tests/unit/unit.h), so a
 * one-byte over-read crashes.
 */
#include "../unit/unit.h"
#include "ui.h"

/* --- JSON writer ----------------------------------------------------- */

static const struct { int line; const char *in; size_t len; const char *out; }
    str_cases[] = {
	{ __LINE__, "plain", 5, "\"plain\"" },
	{ __LINE__, "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
	{ __LINE__, "<img src=x onerror=alert(1)>", 28,
	    "\"\\u003cimg src=x onerror=alert(1)\\u003e\"" },
	{ __LINE__, "a&b", 3, "\"a\\u0026b\"" },
	{ __LINE__, "nl\nx\x01", 5, "\"nl\\u000ax\\u0001\"" },
	{ __LINE__, "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },
	{ __LINE__, "bad\xff", 4, "\"bad\\ufffd\"" },
	{ __LINE__, "\xc3", 1, "\"\\ufffd\"" },		/* cut sequence */
	{ __LINE__, "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
	{ __LINE__, "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },	/* overlong */
	{ __LINE__, "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"" },
	{ __LINE__, "nul\0x", 5, "\"nul\\u0000x\"" },
	{ __LINE__, "$(reboot)", 9, "\"$(reboot)\"" },
};

static void
test_writer(void)
{
	char		 buf[256];
	struct jw	 j;
	size_t		 i;
	char		*in;

	for (i = 0; i < sizeof(str_cases) / sizeof(str_cases[0]); i++) {
		in = unit_guarded(str_cases[i].in, str_cases[i].len);
		jw_init(&j, buf, sizeof(buf));
		jw_str(&j, in, str_cases[i].len);
		CHECK_AT(str_cases[i].line, !j.overflow &&
		    strcmp(buf, str_cases[i].out) == 0, "got %s", buf);
		unit_guarded_free(in, str_cases[i].len);
	}
	/* Overflow is sticky and never writes past the buffer. */
	jw_init(&j, buf, 8);
	jw_raw(&j, "{\"a\":");
	jw_uint(&j, 1234567);
	CHECK(j.overflow);
	CHECK(strlen(buf) < 8);
	jw_init(&j, buf, sizeof(buf));
	jw_uint(&j, 0);
	jw_raw(&j, ",");
	jw_uint(&j, UINT64_MAX);
	CHECK(strcmp(buf, "0,18446744073709551615") == 0);
}

/* --- JSON reader ----------------------------------------------------- */

static const struct { int line; const char *in; int rc; size_t n; }
    obj_cases[] = {
	{ __LINE__, "{}", 0, 0 },
	{ __LINE__, " { } \n", 0, 0 },
	{ __LINE__, "{\"a\":1}", 0, 1 },
	{ __LINE__, "{\"a\":\"x\",\"b\":true,\"c\":null,\"d\":false}", 0, 4 },
	{ __LINE__, "{\"a\":[1,{\"b\":[]}],\"c\":{}}", 0, 2 },
	{ __LINE__, "{\"a\":-0.5e+10}", 0, 1 },
	{ __LINE__, "{\"a\":\"\\u00e9\\n\"}", 0, 1 },
	{ __LINE__, "", -1 },
	{ __LINE__, "{", -1 },
	{ __LINE__, "{\"a\"}", -1 },
	{ __LINE__, "{\"a\":}", -1 },
	{ __LINE__, "{\"a\":1,}", -1 },
	{ __LINE__, "{\"a\":1}x", -1 },
	{ __LINE__, "{\"a\":1}{}", -1 },
	{ __LINE__, "{\"a\":1,\"a\":2}", -1 },		/* duplicate */
	{ __LINE__, "{\"a\":01}", -1 },
	{ __LINE__, "{\"a\":1.}", -1 },
	{ __LINE__, "{\"a\":.5}", -1 },
	{ __LINE__, "{\"a\":tru}", -1 },
	{ __LINE__, "{\"a\":\"x\ny\"}", -1 },		/* raw control */
	{ __LINE__, "{\"a\":\"\\x\"}", -1 },
	{ __LINE__, "{\"a\":\"\\u12\"}", -1 },
	{ __LINE__, "{\"a\":\"\xff\"}", -1 },		/* invalid UTF-8 */
	{ __LINE__, "{\"a\":\"x}", -1 },
	{ __LINE__, "[1]", -1 },
	{ __LINE__, "{'a':1}", -1 },
	{ __LINE__, "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}", -1 },
	{ __LINE__, "{\"a\":\"\\", -1 },
};

static void
test_reader(void)
{
	struct json_member	 m[8];
	const struct json_member *v;
	size_t			 i, n, len, l;
	char			*in, out[64];
	uint64_t		 u;
	int			 rc;

	for (i = 0; i < sizeof(obj_cases) / sizeof(obj_cases[0]); i++) {
		len = strlen(obj_cases[i].in);
		in = unit_guarded(obj_cases[i].in, len);
		rc = json_object(in, len, m, 8, &n);
		CHECK_INT_AT(obj_cases[i].line, rc, obj_cases[i].rc, "rc");
		if (rc == 0)
			CHECK_INT_AT(obj_cases[i].line, n, obj_cases[i].n, "n");
		unit_guarded_free(in, len);
	}
	/* Too many members for the caller's array. */
	CHECK(json_object("{\"a\":1,\"b\":2}", 13, m, 1, &n) == -1);

	in = "{\"hostname\":\"r\\u00e9\\/x\",\"n\":42,\"big\":123456789012,"
	    "\"z\":0,\"neg\":-1}";
	CHECK(json_object(in, strlen(in), m, 8, &n) == 0 && n == 5);
	v = json_get(m, n, "hostname");
	CHECK(v != NULL && v->type == JSON_STRING);
	CHECK(v && json_unescape(v->val, v->vallen, out, sizeof(out), &l) == 0
	    && strcmp(out, "r\xc3\xa9/x") == 0 && l == 5);
	CHECK(json_uint(json_get(m, n, "n"), 100, &u) == 0 && u == 42);
	CHECK(json_uint(json_get(m, n, "n"), 41, &u) == -1);
	CHECK(json_uint(json_get(m, n, "z"), 1, &u) == 0 && u == 0);
	CHECK(json_uint(json_get(m, n, "neg"), 100, &u) == -1);
	CHECK(json_uint(json_get(m, n, "hostname"), 100, &u) == -1);
	CHECK(json_get(m, n, "host") == NULL);
	CHECK(json_get(m, n, "hostnamex") == NULL);
}

static const struct { int line; const char *raw; const char *out; }
    unesc_cases[] = {
	{ __LINE__, "abc", "abc" },
	{ __LINE__, "\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t" },
	{ __LINE__, "\\u0041\\u00e9\\u20ac", "A\xc3\xa9\xe2\x82\xac" },
	{ __LINE__, "\\ud83d\\ude00", "\xf0\x9f\x98\x80" },
	{ __LINE__, "\\u0000", NULL },			/* NUL */
	{ __LINE__, "\\ud83d", NULL },			/* lone high */
	{ __LINE__, "\\ude00", NULL },			/* lone low */
	{ __LINE__, "\\ud83d\\u0041", NULL },
	{ __LINE__, "\\", NULL },
	{ __LINE__, "\\u00", NULL },
	{ __LINE__, "\\q", NULL },
};

static void
test_unescape(void)
{
	char	 out[32], *in;
	size_t	 i, len, l;
	int	 rc;

	for (i = 0; i < sizeof(unesc_cases) / sizeof(unesc_cases[0]); i++) {
		len = strlen(unesc_cases[i].raw);
		in = unit_guarded(unesc_cases[i].raw, len);
		rc = json_unescape(in, len, out, sizeof(out), &l);
		if (unesc_cases[i].out == NULL)
			CHECK_INT_AT(unesc_cases[i].line, rc, -1, "rc");
		else
			CHECK_AT(unesc_cases[i].line, rc == 0 &&
			    strcmp(out, unesc_cases[i].out) == 0 &&
			    l == strlen(out), "got rc %d \"%s\"", rc, out);
		unit_guarded_free(in, len);
	}
	/* The output bound, NUL included. */
	CHECK(json_unescape("abcd", 4, out, 5, &l) == 0);
	CHECK(json_unescape("abcde", 5, out, 5, &l) == -1);
	CHECK(json_unescape("\\u20ac", 6, out, 3, &l) == -1);
}

/* --- SHA-256 (FIPS 180-4 examples) ----------------------------------- */

static void
test_sha256(void)
{
	static const struct { int line; const char *in; const char *hex; }
	    cases[] = {
		{ __LINE__, "",
		    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ __LINE__, "abc",
		    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ __LINE__, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	struct sha256	 s;
	unsigned char	 d[32];
	char		 hex[65], *buf;
	size_t		 i, k, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = strlen(cases[i].in);
		/* whole, then one byte at a time: both must agree */
		sha256_init(&s);
		sha256_update(&s, cases[i].in, len);
		sha256_final(&s, d);
		sha256_hex(d, hex);
		CHECK_AT(cases[i].line, strcmp(hex, cases[i].hex) == 0,
		    "got %s", hex);
		sha256_init(&s);
		for (k = 0; k < len; k++)
			sha256_update(&s, cases[i].in + k, 1);
		sha256_final(&s, d);
		sha256_hex(d, hex);
		CHECK_AT(cases[i].line, strcmp(hex, cases[i].hex) == 0,
		    "bytewise: got %s", hex);
	}
	/* A million 'a's in uneven pieces (FIPS 180-2 appendix B.3). */
	buf = malloc(1000000);
	memset(buf, 'a', 1000000);
	sha256_init(&s);
	for (k = 0; k < 1000000; k += len) {
		len = 1 + k % 4093;
		if (k + len > 1000000)
			len = 1000000 - k;
		sha256_update(&s, buf + k, len);
	}
	sha256_final(&s, d);
	sha256_hex(d, hex);
	CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e"
	    "046d39ccc7112cd0") == 0);
	free(buf);
}

/* --- validators ---------------------------------------------------------- */

static const struct { int line; const char *in; bool ok; } host_cases[] = {
	{ __LINE__, "router", true },
	{ __LINE__, "R2-d2", true },
	{ __LINE__, "a", true },
	{ __LINE__, "1router", true },			/* RFC 1123 2.1 */
	{ __LINE__, "home.lan", true },
	{ __LINE__, "a.b-c.d0", true },
	{ __LINE__, "123abc.lan", true },
	{ __LINE__, "", false },
	{ __LINE__, "-router", false },
	{ __LINE__, "router-", false },
	{ __LINE__, "rou_ter", false },
	{ __LINE__, "rou ter", false },
	{ __LINE__, "a..b", false },
	{ __LINE__, ".a", false },
	{ __LINE__, "a.", false },
	{ __LINE__, "a.-b", false },
	{ __LINE__, "1234", false },			/* reads as a number */
	{ __LINE__, "10.0.0.1", false },
	{ __LINE__, "<img src=x onerror=alert(1)>", false },
	{ __LINE__, "$(reboot)", false },
	{ __LINE__, "`reboot`", false },
	{ __LINE__, "a;reboot", false },
	{ __LINE__, "r\xc3\xa9seau", false },
	{ __LINE__, "a\nb", false },
	{ __LINE__, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123",
	    true },					/* 63 */
	{ __LINE__, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234",
	    false },					/* 64 */
};

static void
test_hostname(void)
{
	size_t	 i, len;
	char	*in;

	for (i = 0; i < sizeof(host_cases) / sizeof(host_cases[0]); i++) {
		len = strlen(host_cases[i].in);
		in = unit_guarded(host_cases[i].in, len);
		CHECK_AT(host_cases[i].line, ui_hostname_valid(in, len) ==
		    host_cases[i].ok, "\"%s\"", host_cases[i].in);
		unit_guarded_free(in, len);
	}
	CHECK(!ui_hostname_valid("ab\0cd", 5));
}

static void
test_password(void)
{
	char	 long_pw[200];

	CHECK(ui_password_problem("correct horse", 13) == NULL);
	CHECK(ui_password_problem("12345678", 8) == NULL);
	CHECK(ui_password_problem("1234567", 7) != NULL);
	CHECK(ui_password_problem("", 0) != NULL);
	/* eight characters, sixteen bytes: counted as characters */
	CHECK(ui_password_problem("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 16) == NULL);
	CHECK(ui_password_problem("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8) != NULL);
	CHECK(ui_password_problem("abcdefgh\n", 9) != NULL);
	CHECK(ui_password_problem("abcd\tefgh", 9) != NULL);
	memset(long_pw, 'x', sizeof(long_pw));
	CHECK(ui_password_problem(long_pw, 128) == NULL);
	CHECK(ui_password_problem(long_pw, 129) != NULL);
}

/* --- /proc ----------------------------------------------------------------- */

static void
test_proc(void)
{
	static const char meminfo[] = "MemTotal:         492172 kB\n"
	    "MemFree:          100000 kB\nMemAvailable:     312345 kB\n"
	    "Buffers:            1234 kB\n";
	static const char meminfo_old[] = "MemTotal: 1000 kB\nMemFree: 10 kB\n";
	static const char netdev[] =
	    "Inter-|   Receive                                                |  Transmit\n"
	    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
	    "    lo:  123456     100    0    0    0     0          0         0   123456     100    0    0    0     0       0          0\n"
	    "  eth0: 98765432109 2000    0    0    0     0          0         0 555   20    0    0    0     0       0          0\n";
	char		 load[3][16], *in;
	struct netdev	 d[4];
	uint64_t	 v, t, a;
	size_t		 n, len;

	CHECK(parse_uptime("12345.67 23456.78\n", 18, &v) == 0 && v == 12345);
	CHECK(parse_uptime("12345 1\n", 8, &v) == 0 && v == 12345);
	CHECK(parse_uptime("x", 1, &v) == -1);
	CHECK(parse_uptime("123", 3, &v) == -1);	/* no end seen */
	CHECK(parse_loadavg("0.15 1.20 10.05 1/123 4567\n", 27, load) == 0 &&
	    strcmp(load[0], "0.15") == 0 && strcmp(load[1], "1.20") == 0 &&
	    strcmp(load[2], "10.05") == 0);
	CHECK(parse_loadavg("0.15 1.20\n", 10, load) == -1);
	CHECK(parse_loadavg("0.15 1,20 3.00 ", 15, load) == -1);
	CHECK(parse_loadavg("1e5.0 1.20 3.00 ", 16, load) == -1);
	CHECK(parse_loadavg("<a>0.1 1.20 3.00 ", 17, load) == -1);
	CHECK(parse_loadavg("0.15 1.20 3.00", 14, load) == -1);

	len = sizeof(meminfo) - 1;
	in = unit_guarded(meminfo, len);
	CHECK(parse_meminfo(in, len, &t, &a) == 0 && t == 492172 &&
	    a == 312345);
	unit_guarded_free(in, len);
	CHECK(parse_meminfo(meminfo_old, sizeof(meminfo_old) - 1, &t, &a) ==
	    0 && t == 1000 && a == 10);
	CHECK(parse_meminfo("Foo: 1 kB\n", 10, &t, &a) == -1);

	len = sizeof(netdev) - 1;
	in = unit_guarded(netdev, len);
	CHECK(parse_netdev(in, len, d, 4, &n) == 0 && n == 2);
	CHECK(strcmp(d[0].name, "lo") == 0 && d[0].rx == 123456 &&
	    d[0].tx == 123456);
	CHECK(strcmp(d[1].name, "eth0") == 0 && d[1].rx == 98765432109ULL &&
	    d[1].tx == 555);
	/* more interfaces than room: the first ones, no error */
	CHECK(parse_netdev(in, len, d, 1, &n) == 0 && n == 1);
	/* every truncation of the file: never a crash, never garbage */
	for (size_t cut = 0; cut < len; cut++) {
		char *p = unit_guarded(netdev, cut);

		(void)parse_netdev(p, cut, d, 4, &n);
		unit_guarded_free(p, cut);
	}
	unit_guarded_free(in, len);
	CHECK(parse_netdev("a\nb\n  eth0 1 2\n", 15, d, 4, &n) == -1);
	CHECK(parse_netdev("a\nb\naveryveryverylongname: 1 2 3 4 5 6 7 8 9\n",
	    45, d, 4, &n) == -1);
}

/* --- password file ---------------------------------------------------------- */

static void
test_passwd(void)
{
	static const char file[] = "root:$6$x$y\nadmin:$6$salt$hash\r\n"
	    "admin2:$5$a$b\n";
	char		 out[256], *in;
	const char	*h;
	size_t		 hl, len = sizeof(file) - 1;
	long		 n;

	in = unit_guarded(file, len);
	CHECK(passwd_lookup(in, len, "admin", &h, &hl) == 0 &&
	    hl == 12 && memcmp(h, "$6$salt$hash", 12) == 0);
	CHECK(passwd_lookup(in, len, "admin2", &h, &hl) == 0 && hl == 6);
	CHECK(passwd_lookup(in, len, "adm", &h, &hl) == -1);
	CHECK(passwd_lookup(in, len, "", &h, &hl) == -1);
	n = passwd_replace(in, len, "admin", "$6$new$h", out, sizeof(out));
	CHECK(n > 0 && (size_t)n == strlen("root:$6$x$y\nadmin:$6$new$h\n"
	    "admin2:$5$a$b\n") && memcmp(out, "root:$6$x$y\nadmin:$6$new$h\n"
	    "admin2:$5$a$b\n", (size_t)n) == 0);
	CHECK(passwd_replace(in, len, "nobody", "$6$new$h", out,
	    sizeof(out)) == -1);
	CHECK(passwd_replace(in, len, "admin", "$6$a\nroot:x", out,
	    sizeof(out)) == -1);
	CHECK(passwd_replace(in, len, "admin", "$6$new$h", out, 20) == -1);
	unit_guarded_free(in, len);
	/* no final newline */
	n = passwd_replace("admin:$6$o", 10, "admin", "$6$n", out, sizeof(out));
	CHECK(n == 11 && memcmp(out, "admin:$6$n\n", 11) == 0);
}

/* --- porch's status, fw-upgrade's answers ------------------------------------ */

static void
test_answers(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/json\r\n\r\n{\"server\":\"porch/0.1\",\"uptime\":12,"
	    "\"generation\":1,\"reloads\":0,\"restarts\":0,"
	    "\"workers_configured\":2,\"idle_workers\":1,\"requests\":345,"
	    "\"connections\":100,\"bytes\":123456,\"status_4xx\":3,"
	    "\"status_5xx\":0,\"log_dropped\":0,\"workers\":[{\"slot\":0,"
	    "\"pid\":12,\"state\":\"accepting\"}]}\n";
	struct porch_status	 st;
	struct fw_check		 c;
	const char		*body, *j;
	size_t			 bl, len = sizeof(resp) - 1;
	char			*in;

	in = unit_guarded(resp, len);
	CHECK(http_body_200(in, len, &body, &bl) == 0);
	CHECK(parse_porch_status(body, bl, &st) == 0 &&
	    strcmp(st.server, "porch/0.1") == 0 && st.requests == 345 &&
	    st.workers == 2 && st.idle == 1 && st.s4xx == 3 &&
	    st.bytes == 123456);
	unit_guarded_free(in, len);
	CHECK(http_body_200("HTTP/1.1 404 Not Found\r\n\r\n{}", 29, &body,
	    &bl) == -1);
	CHECK(http_body_200("HTTP/1.1 2000\r\n\r\n", 17, &body, &bl) == -1);
	CHECK(http_body_200("HTTP/1.1 200 OK\r\n", 17, &body, &bl) == -1);
	CHECK(parse_porch_status("{\"requests\":1}", 14, &st) == -1);

	j = "{\"ok\":true,\"message\":\"porch 1.2 for armhf: valid\",\"size\":"
	    "1024,\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934"
	    "ca495991b7852b855\",\"version\":\"1.2\",\"arch\":\"armhf\","
	    "\"format\":1,\"payload_size\":512}";
	CHECK(parse_fw_check(j, strlen(j), &c) == 0 && c.ok && c.size == 1024 &&
	    strcmp(c.version, "1.2") == 0 && strcmp(c.arch, "armhf") == 0 &&
	    strlen(c.sha256) == 64 &&
	    strcmp(c.message, "porch 1.2 for armhf: valid") == 0);
	/* What the page would show is checked whatever the tool says. */
	j = "{\"ok\":false,\"message\":\"x\",\"version\":\"<b>\","
	    "\"arch\":\"a b\",\"sha256\":\"XYZ\"}";
	CHECK(parse_fw_check(j, strlen(j), &c) == 0 && !c.ok &&
	    c.version[0] == '\0' && c.arch[0] == '\0' && c.sha256[0] == '\0');
	CHECK(parse_fw_check("{\"message\":\"x\"}", 15, &c) == -1);
	CHECK(parse_fw_check("{\"ok\":1,\"message\":\"x\"}", 23, &c) == -1);
	CHECK(parse_fw_check("{\"ok\":true}", 11, &c) == -1);
	CHECK(parse_fw_check("not json", 8, &c) == -1);
}

int
main(int argc, char **argv)
{
	unit_init(argc, argv);
	test_writer();
	test_reader();
	test_unescape();
	test_sha256();
	test_hostname();
	test_password();
	test_proc();
	test_passwd();
	test_answers();
	return unit_summary();
}
