/*
 * Unit tests of http_path.c: percent-decoding and dot-segment removal
 * (RFC 3986 5.2.4), and dotfile detection. Inputs and output buffers end
 * exactly at a PROT_NONE page.
 */
#include "unit.h"

#include "http.h"

#define S(lit)		lit, sizeof(lit) - 1
#define OUT_DEFAULT	256

struct path_case {
	int		 line;
	const char	*raw;
	size_t		 len;
	int		 status;	/* 0 decoded, 400 or 414 */
	const char	*out;		/* when decoded */
	size_t		 outsize;	/* 0: OUT_DEFAULT */
};

static const struct path_case path_cases[] = {
	{ __LINE__, S("/"), 0, "/" },
	{ __LINE__, S("/a"), 0, "/a" },
	{ __LINE__, S("/a/b"), 0, "/a/b" },
	{ __LINE__, S("/a/b/"), 0, "/a/b/" },
	{ __LINE__, S("/index.html"), 0, "/index.html" },
	/* empty segments collapse; a trailing '/' is kept */
	{ __LINE__, S("//"), 0, "/" },
	{ __LINE__, S("//a///b/"), 0, "/a/b/" },
	{ __LINE__, S("/a//"), 0, "/a/" },
	{ __LINE__, S("///////"), 0, "/" },
	/* dot segments: RFC 3986 5.2.4 */
	{ __LINE__, S("/."), 0, "/" },
	{ __LINE__, S("/./"), 0, "/" },
	{ __LINE__, S("/./a"), 0, "/a" },
	{ __LINE__, S("/a/."), 0, "/a/" },
	{ __LINE__, S("/a/./"), 0, "/a/" },
	{ __LINE__, S("/a/./b"), 0, "/a/b" },
	{ __LINE__, S("/a/.."), 0, "/" },
	{ __LINE__, S("/a/../"), 0, "/" },
	{ __LINE__, S("/a/../b"), 0, "/b" },
	{ __LINE__, S("/a/b/.."), 0, "/a/" },
	{ __LINE__, S("/a/b/../"), 0, "/a/" },
	{ __LINE__, S("/a/b/../.."), 0, "/" },
	{ __LINE__, S("/a/b/c/./../../g"), 0, "/a/g" },
	{ __LINE__, S("/a//..//b"), 0, "/b" },
	{ __LINE__, S("/a/.//b"), 0, "/a/b" },
	{ __LINE__, S("/a/b/./././"), 0, "/a/b/" },
	{ __LINE__, S("/..."), 0, "/..." },
	{ __LINE__, S("/.../"), 0, "/.../" },
	{ __LINE__, S("/..a"), 0, "/..a" },
	{ __LINE__, S("/a.."), 0, "/a.." },
	{ __LINE__, S("/.a/b."), 0, "/.a/b." },
	{ __LINE__, S("/a\\..\\b"), 0, "/a\\..\\b" },
	/* escapes above the root */
	{ __LINE__, S("/.."), 400 },
	{ __LINE__, S("/../"), 400 },
	{ __LINE__, S("/../x"), 400 },
	{ __LINE__, S("/a/../.."), 400 },
	{ __LINE__, S("/a/../../x"), 400 },
	{ __LINE__, S("/a/b/../../../"), 400 },
	{ __LINE__, S("/./../x"), 400 },
	{ __LINE__, S("//../x"), 400 },
	/* percent-decoding happens before normalisation */
	{ __LINE__, S("/%41%62c"), 0, "/Abc" },
	{ __LINE__, S("/%7e%7E"), 0, "/~~" },
	{ __LINE__, S("/%20"), 0, "/ " },
	{ __LINE__, S("/%25"), 0, "/%" },
	{ __LINE__, S("/%2541"), 0, "/%41" },
	{ __LINE__, S("/%3f%23"), 0, "/?#" },
	{ __LINE__, S("/%c3%a9t%C3%A9"), 0, "/\xc3\xa9t\xc3\xa9" },
	{ __LINE__, S("/%ff"), 0, "/\xff" },
	{ __LINE__, S("/a%2fb"), 0, "/a/b" },
	{ __LINE__, S("/a%2F%2f%2Fb"), 0, "/a/b" },
	{ __LINE__, S("/%2e"), 0, "/" },
	{ __LINE__, S("/a/%2e%2e/b"), 0, "/b" },
	{ __LINE__, S("/a/.%2e/b"), 0, "/b" },
	{ __LINE__, S("/a/%2E./b"), 0, "/b" },
	{ __LINE__, S("/%2e%2e"), 400 },
	{ __LINE__, S("/%2e%2e/x"), 400 },
	{ __LINE__, S("/%2E%2E%2fx"), 400 },
	{ __LINE__, S("/.%2e"), 400 },
	{ __LINE__, S("/%2e."), 400 },
	{ __LINE__, S("/a%2f..%2f..%2fetc/passwd"), 400 },
	{ __LINE__, S("/a/..%2f..%2fetc"), 400 },
	{ __LINE__, S("%2fa"), 400 },
	/* NUL and control bytes, bad escapes */
	{ __LINE__, S("/%00"), 400 },
	{ __LINE__, S("/a%00.html"), 400 },
	{ __LINE__, S("/%01"), 400 },
	{ __LINE__, S("/%0a"), 400 },
	{ __LINE__, S("/%0D%0A"), 400 },
	{ __LINE__, S("/%1f"), 400 },
	{ __LINE__, S("/%7f"), 400 },
	{ __LINE__, S("/a\x01"), 400 },
	{ __LINE__, S("/a\x7f"), 400 },
	{ __LINE__, S("/a\x00"), 400 },
	{ __LINE__, S("/%"), 400 },
	{ __LINE__, S("/%4"), 400 },
	{ __LINE__, S("/%4g"), 400 },
	{ __LINE__, S("/%g4"), 400 },
	{ __LINE__, S("/%%41"), 400 },
	{ __LINE__, S("/%-1"), 400 },
	{ __LINE__, S("/% 1"), 400 },
	{ __LINE__, S("/a%"), 400 },
	{ __LINE__, S("/a%2"), 400 },
	{ __LINE__, S("/%u0041"), 400 },
	/* not an absolute path */
	{ __LINE__, S(""), 400 },
	{ __LINE__, S("a"), 400 },
	{ __LINE__, S("a/b"), 400 },
	{ __LINE__, S("*"), 400 },
	{ __LINE__, S("."), 400 },
	{ __LINE__, S("http://a/b"), 400 },
	/* 414: the output buffer is too small */
	{ __LINE__, S("/abc"), 0, "/abc", 5 },
	{ __LINE__, S("/abc"), 414, NULL, 4 },
	{ __LINE__, S("/abc"), 414, NULL, 2 },
	{ __LINE__, S("/"), 0, "/", 2 },
	{ __LINE__, S("/%41%42%43"), 0, "/ABC", 5 },
	{ __LINE__, S("/%41%42%43"), 414, NULL, 4 },
	{ __LINE__, S("/a/b/"), 0, "/a/b/", 6 },
	{ __LINE__, S("/a/b/"), 414, NULL, 5 },
};

/* What a normalised path looks like, whatever the input. */
static bool
normal_form(const char *p, size_t n)
{
	size_t	 i;

	if (n == 0 || p[0] != '/' || strlen(p) != n)
		return false;
	for (i = 0; i < n; i++) {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
		if (p[i] != '/')
			continue;
		if (i + 1 < n && p[i + 1] == '/')
			return false;
		if (i + 1 < n && p[i + 1] == '.' &&
		    (i + 2 == n || p[i + 2] == '/'))
			return false;
		if (i + 2 < n && p[i + 1] == '.' && p[i + 2] == '.' &&
		    (i + 3 == n || p[i + 3] == '/'))
			return false;
	}
	return true;
}

static void
run_path_case(struct unit_guard *in, struct unit_guard *out,
    const struct path_case *c)
{
	size_t		 outsize = c->outsize ? c->outsize : OUT_DEFAULT;
	char		*o, req[512];
	const char	*raw;
	int		 rc, status, n;

	if (c->len + 32 < sizeof(req)) {	/* fuzz_http_head seed */
		n = snprintf(req, sizeof(req), "GET %.*s HTTP/1.1\r\n"
		    "Host: a\r\n\r\n", (int)c->len, c->raw);
		unit_seed("fuzz_http_head", req, (size_t)n);
	}
	raw = unit_guard_put(in, c->raw, c->len);
	o = unit_guard_space(out, outsize);
	memset(o, 'Z', outsize);
	status = 0;
	rc = http_path_decode((struct str){ raw, c->len }, o, outsize,
	    &status);
	if (c->status != 0) {
		CHECK_AT(c->line, rc == -1 && status == c->status,
		    "want %d, got rc %d status %d", c->status, rc, status);
		return;
	}
	if (!CHECK_AT(c->line, rc >= 0, "want \"%s\", got rc %d status %d",
	    c->out, rc, status))
		return;
	CHECK_AT(c->line, (size_t)rc == strlen(c->out) &&
	    memcmp(o, c->out, (size_t)rc + 1) == 0,
	    "got \"%.*s\" (%d), want \"%s\"", rc, o, rc, c->out);
	CHECK_AT(c->line, normal_form(o, (size_t)rc), "not normal: \"%s\"", o);

	/* raw length + 1 always fits; one byte short of the result is 414 */
	if (c->outsize != 0)
		return;
	o = unit_guard_space(out, c->len + 1);
	rc = http_path_decode((struct str){ raw, c->len }, o, c->len + 1,
	    &status);
	CHECK_AT(c->line, rc >= 0 && strcmp(o, c->out) == 0,
	    "outsize %zu: rc %d", c->len + 1, rc);
	if (strlen(c->out) >= 2) {
		o = unit_guard_space(out, strlen(c->out));
		rc = http_path_decode((struct str){ raw, c->len }, o,
		    strlen(c->out), &status);
		CHECK_AT(c->line, rc == -1 && status == 414,
		    "outsize %zu: rc %d status %d", strlen(c->out), rc, status);
	}
}

static const struct {
	int		 line;
	const char	*path;
	bool		 dotfile;
} dot_cases[] = {
	{ __LINE__, "/", false },
	{ __LINE__, "/a/b", false },
	{ __LINE__, "/a.b/c.d", false },
	{ __LINE__, "/a/b.", false },
	{ __LINE__, "/a/b/", false },
	{ __LINE__, "/a..b", false },
	{ __LINE__, "/.git", true },
	{ __LINE__, "/.git/config", true },
	{ __LINE__, "/a/.htpasswd", true },
	{ __LINE__, "/a/.b/c", true },
	{ __LINE__, "/a/b/.", true },
	{ __LINE__, "/...", true },
	{ __LINE__, "/.well-known/x", true },
	{ __LINE__, "", false },
};

/* Decoded, then checked: the order the static handler uses. */
static const struct {
	int		 line;
	const char	*raw;
	bool		 dotfile;
} decoded_dot_cases[] = {
	{ __LINE__, "/%2egit/config", true },
	{ __LINE__, "/a/%2Ehtpasswd", true },
	{ __LINE__, "/a%2f.b", true },
	{ __LINE__, "/a/./b", false },
	{ __LINE__, "/a/b/..", false },
	{ __LINE__, "/a/x/../.b", true },
};

static void
test_dotfiles(struct unit_guard *in)
{
	char	 out[256];
	size_t	 i;
	int	 rc, status;

	for (i = 0; i < sizeof(dot_cases) / sizeof(dot_cases[0]); i++)
		CHECK_AT(dot_cases[i].line,
		    http_path_has_dotfile(unit_guard_put(in, dot_cases[i].path,
		    strlen(dot_cases[i].path) + 1)) == dot_cases[i].dotfile,
		    "dotfile(\"%s\")", dot_cases[i].path);
	for (i = 0; i < sizeof(decoded_dot_cases) /
	    sizeof(decoded_dot_cases[0]); i++) {
		rc = http_path_decode((struct str){ decoded_dot_cases[i].raw,
		    strlen(decoded_dot_cases[i].raw) }, out, sizeof(out),
		    &status);
		if (!CHECK_AT(decoded_dot_cases[i].line, rc > 0, "decode"))
			continue;
		CHECK_AT(decoded_dot_cases[i].line,
		    http_path_has_dotfile(out) == decoded_dot_cases[i].dotfile,
		    "dotfile(\"%s\")", out);
	}
}

/* Long paths: many segments, deep "..", and a result of exactly outsize. */
static void
test_long_paths(struct unit_guard *in, struct unit_guard *out)
{
	static char	 raw[8192], want[8192];
	size_t		 n = 0, i;
	char		*o;
	int		 rc, status;

	for (i = 0; i < 1000; i++)
		n += (size_t)snprintf(raw + n, sizeof(raw) - n, "/d");
	for (i = 0; i < 1000; i++)
		n += (size_t)snprintf(raw + n, sizeof(raw) - n, "/..");
	memcpy(raw + n, "/x", 2);
	o = unit_guard_space(out, 4096);
	rc = http_path_decode((struct str){ unit_guard_put(in, raw, n + 2),
	    n + 2 }, o, 4096, &status);
	CHECK(rc == 2 && strcmp(o, "/x") == 0);
	raw[n + 1] = '.';
	memcpy(raw + n, "/..", 3);
	rc = http_path_decode((struct str){ unit_guard_put(in, raw, n + 3),
	    n + 3 }, o, 4096, &status);
	CHECK(rc == -1 && status == 400);

	for (i = 0; i < 4000; i++)
		raw[i] = i % 2 ? 'a' : '/';
	memcpy(want, raw, 4000);
	want[4000] = '\0';
	o = unit_guard_space(out, 4001);
	rc = http_path_decode((struct str){ unit_guard_put(in, raw, 4000),
	    4000 }, o, 4001, &status);
	CHECK(rc == 4000 && strcmp(o, want) == 0);
	o = unit_guard_space(out, 4000);
	rc = http_path_decode((struct str){ unit_guard_put(in, raw, 4000),
	    4000 }, o, 4000, &status);
	CHECK(rc == -1 && status == 414);
}

/* http_path_encode: what a Location gets from a decoded path. */
static const struct {
	int		 line;
	const char	*path;
	const char	*out;		/* NULL: does not fit */
	size_t		 outsize;	/* 0: OUT_DEFAULT */
} encode_cases[] = {
	{ __LINE__, "/", "/" },
	{ __LINE__, "/a/b/", "/a/b/" },
	{ __LINE__, "/AZaz09-._~!$&'()*+,;=:@/", "/AZaz09-._~!$&'()*+,;=:@/" },
	{ __LINE__, "/a b", "/a%20b" },
	{ __LINE__, "/\\evil.example/", "/%5Cevil.example/" },
	{ __LINE__, "/a?b#c", "/a%3Fb%23c" },
	{ __LINE__, "/%", "/%25" },
	{ __LINE__, "/\"<>`{}|^[]", "/%22%3C%3E%60%7B%7D%7C%5E%5B%5D" },
	{ __LINE__, "/\xc3\xa9\x7f\xff", "/%C3%A9%7F%FF" },
	/* exactly the room it needs, and one byte less */
	{ __LINE__, "/ab", "/ab", 4 },
	{ __LINE__, "/ab", NULL, 3 },
	{ __LINE__, "/ ", "/%20", 5 },
	{ __LINE__, "/ ", NULL, 4 },
};

static void
test_encode(struct unit_guard *out)
{
	size_t	 i, size;
	char	*o;
	int	 n;

	for (i = 0; i < sizeof(encode_cases) / sizeof(encode_cases[0]); i++) {
		size = encode_cases[i].outsize ? encode_cases[i].outsize :
		    OUT_DEFAULT;
		o = unit_guard_space(out, size);
		n = http_path_encode(encode_cases[i].path, o, size);
		if (encode_cases[i].out == NULL) {
			CHECK_INT_AT(encode_cases[i].line, n, -1, "encode");
			continue;
		}
		CHECK_INT_AT(encode_cases[i].line, n,
		    (int)strlen(encode_cases[i].out), "encode length");
		if (n >= 0)
			CHECK_AT(encode_cases[i].line,
			    strcmp(o, encode_cases[i].out) == 0, "got \"%s\"", o);
	}
}

/* http_path_under: which prefixes a path is under. */
static const struct {
	int		 line;
	const char	*path, *prefix;
	size_t		 want;
} under_cases[] = {
	{ __LINE__, "/admin", "/admin", 6 },
	{ __LINE__, "/admin/", "/admin", 6 },
	{ __LINE__, "/admin/x/y", "/admin", 6 },
	{ __LINE__, "/administer", "/admin", 0 },
	{ __LINE__, "/admi", "/admin", 0 },
	{ __LINE__, "/admin", "/admin/", 0 },
	{ __LINE__, "/admin/", "/admin/", 7 },
	{ __LINE__, "/admin/x", "/admin/", 7 },
	{ __LINE__, "/", "/", 1 },
	{ __LINE__, "/anything", "/", 1 },
	{ __LINE__, "/Admin", "/admin", 0 },
	{ __LINE__, "/a", "", 0 },
};

static void
test_under(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(under_cases) / sizeof(under_cases[0]); i++)
		CHECK_INT_AT(under_cases[i].line,
		    (int)http_path_under(under_cases[i].path,
		    under_cases[i].prefix), (int)under_cases[i].want, "under");
}

int
main(int argc, char **argv)
{
	struct unit_guard	 in, out;
	size_t			 i;

	unit_init(argc, argv);
	unit_guard_init(&in, 16384);
	unit_guard_init(&out, 16384);
	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++)
		run_path_case(&in, &out, &path_cases[i]);
	test_dotfiles(&in);
	test_long_paths(&in, &out);
	test_encode(&out);
	test_under();
	printf("test_http_path: %zu path cases, %zu dotfile cases\n",
	    sizeof(path_cases) / sizeof(path_cases[0]),
	    sizeof(dot_cases) / sizeof(dot_cases[0]) +
	    sizeof(decoded_dot_cases) / sizeof(decoded_dot_cases[0]));
	unit_guard_free(&in);
	unit_guard_free(&out);
	return unit_summary();
}
