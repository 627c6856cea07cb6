/*
 * Unit tests of cgi_env.c: the environment a script gets (RFC 3875 4.1),
 * built from scratch: the meta-variables, HTTP_* for end-to-end fields
 * only (no hop-by-hop ones, no Authorization, never HTTP_PROXY), repeated
 * fields joined, ambiguous names refused, and a full buffer reported.
 */
#include "unit.h"

#include "cgi.h"

#define ENV_SIZE	4096
#define ENV_VARS	64

static char	 buf[ENV_SIZE];
static char	*envp[ENV_VARS];

static struct http_field	 fields[16];
static struct http_head		 head;

/* The head's fields, from "Name: value" strings. */
static void
set_fields(const char *const *list)
{
	const char	*colon;
	size_t		 n = 0;

	for (; *list != NULL; list++, n++) {
		colon = strchr(*list, ':');
		fields[n].name = (struct str){ *list, (size_t)(colon - *list) };
		fields[n].value = (struct str){ colon + 2, strlen(colon + 2) };
	}
	memset(&head, 0, sizeof(head));
	head.method = (struct str){ "POST", 4 };
	head.target = (struct str){ "/cgi-bin/x/info?q=1", 19 };
	head.minor = 1;
	head.fields = fields;
	head.nfields = n;
}

static struct cgi_env_input
input(void)
{
	struct cgi_env_input	 in;

	memset(&in, 0, sizeof(in));
	in.head = &head;
	in.method = "POST";
	in.script_name = "/cgi-bin/x";
	in.path_info = "/info";
	in.script_filename = "/www/cgi-bin/x";
	in.document_root = "/www";
	in.query = (struct str){ "q=1", 3 };
	in.remote_addr = "192.0.2.7";
	in.remote_port = 5121;
	in.server_name = "router.lan";
	in.server_addr = "192.0.2.1";
	in.server_port = 80;
	in.server_software = "porch/test";
	in.request_id = "1c9e-3-1";
	in.has_body = true;
	in.length_known = true;
	in.content_length = 9;
	return in;
}

/* The value of name in envp, or NULL. */
static const char *
env_get(const char *name)
{
	size_t	 n = strlen(name), i;

	for (i = 0; envp[i] != NULL; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

/* Builds the environment of in into envp; false when that failed. */
static bool
build(const struct cgi_env_input *in)
{
	int	 status;

	return cgi_env_build(in, buf, sizeof(buf), envp, ENV_VARS, &status) > 0;
}

#define CHECK_ENV(name, want)						\
	do {								\
		const char *v_ = env_get(name);				\
		if ((want) == NULL)					\
			CHECK_AT(__LINE__, v_ == NULL, "%s is set", name); \
		else							\
			CHECK_AT(__LINE__, v_ != NULL &&		\
			    strcmp(v_, (want) ? (want) : "") == 0,	\
			    "%s=%s", name, v_ ? v_ : "(unset)");	\
	} while (0)

static void
test_meta_variables(void)
{
	static const char *const f[] = { "Host: router.lan",
	    "Content-Type: application/x-www-form-urlencoded",
	    "Content-Length: 9", NULL };
	struct cgi_env_input	 in;

	set_fields(f);
	in = input();
	CHECK(build(&in));
	CHECK_ENV("PATH", CGI_PATH);
	CHECK_ENV("GATEWAY_INTERFACE", "CGI/1.1");
	CHECK_ENV("SERVER_PROTOCOL", "HTTP/1.1");
	CHECK_ENV("SERVER_SOFTWARE", "porch/test");
	CHECK_ENV("SERVER_NAME", "router.lan");
	CHECK_ENV("SERVER_ADDR", "192.0.2.1");
	CHECK_ENV("SERVER_PORT", "80");
	CHECK_ENV("REQUEST_METHOD", "POST");
	CHECK_ENV("REQUEST_URI", "/cgi-bin/x/info?q=1");
	CHECK_ENV("SCRIPT_NAME", "/cgi-bin/x");
	CHECK_ENV("SCRIPT_FILENAME", "/www/cgi-bin/x");
	CHECK_ENV("DOCUMENT_ROOT", "/www");
	CHECK_ENV("PATH_INFO", "/info");
	CHECK_ENV("PATH_TRANSLATED", "/www/info");
	CHECK_ENV("QUERY_STRING", "q=1");
	CHECK_ENV("REMOTE_ADDR", "192.0.2.7");
	CHECK_ENV("REMOTE_HOST", "192.0.2.7");
	CHECK_ENV("REMOTE_PORT", "5121");
	CHECK_ENV("REQUEST_ID", "1c9e-3-1");
	CHECK_ENV("CONTENT_LENGTH", "9");
	CHECK_ENV("CONTENT_TYPE", "application/x-www-form-urlencoded");
	CHECK_ENV("HTTP_HOST", "router.lan");
	CHECK_ENV("HTTPS", NULL);
	CHECK_ENV("AUTH_TYPE", NULL);
	CHECK_ENV("REMOTE_USER", NULL);
	/* the body's length and type are not HTTP_* as well */
	CHECK_ENV("HTTP_CONTENT_LENGTH", NULL);
	CHECK_ENV("HTTP_CONTENT_TYPE", NULL);
}

static void
test_optional_variables(void)
{
	static const char *const f[] = { "Host: a", NULL };
	struct cgi_env_input	 in;

	set_fields(f);
	in = input();
	in.path_info = "";
	in.query = (struct str){ NULL, 0 };
	in.https = true;
	in.remote_user = "admin";
	in.length_known = false;	/* chunked: no length to tell */
	head.minor = 0;
	CHECK(build(&in));
	CHECK_ENV("PATH_INFO", NULL);
	CHECK_ENV("PATH_TRANSLATED", NULL);
	CHECK_ENV("QUERY_STRING", "");
	CHECK_ENV("HTTPS", "on");
	CHECK_ENV("AUTH_TYPE", "Basic");
	CHECK_ENV("REMOTE_USER", "admin");
	CHECK_ENV("CONTENT_LENGTH", NULL);
	CHECK_ENV("SERVER_PROTOCOL", "HTTP/1.0");
}

static void
test_fields(void)
{
	static const char *const f[] = { "Host: a", "Accept: text/html",
	    "X-Multi: one", "x-multi: two", "Connection: keep-alive, X-Hop",
	    "X-Hop: gone", "Keep-Alive: 5", "TE: trailers",
	    "Transfer-Encoding: chunked", "Upgrade: h2c",
	    "Proxy: http://evil:8080", "Proxy-Connection: x",
	    "Proxy-Authorization: Basic eA==", "Authorization: Basic eA==",
	    "X.Dotted: skipped", NULL };
	struct cgi_env_input	 in;

	set_fields(f);
	in = input();
	CHECK(build(&in));
	CHECK_ENV("HTTP_ACCEPT", "text/html");
	CHECK_ENV("HTTP_X_MULTI", "one, two");
	CHECK_ENV("HTTP_CONNECTION", NULL);
	CHECK_ENV("HTTP_X_HOP", NULL);
	CHECK_ENV("HTTP_KEEP_ALIVE", NULL);
	CHECK_ENV("HTTP_TE", NULL);
	CHECK_ENV("HTTP_TRANSFER_ENCODING", NULL);
	CHECK_ENV("HTTP_UPGRADE", NULL);
	CHECK_ENV("HTTP_PROXY", NULL);		/* httpoxy */
	CHECK_ENV("HTTP_PROXY_CONNECTION", NULL);
	CHECK_ENV("HTTP_PROXY_AUTHORIZATION", NULL);
	CHECK_ENV("HTTP_AUTHORIZATION", NULL);
	CHECK_ENV("HTTP_X_DOTTED", NULL);
	CHECK_ENV("HTTP_X.DOTTED", NULL);
}

static void
test_session_hidden(void)
{
	static const char *const f[] = { "Host: a",
	    "Cookie: theme=dark; porch_session=0123456789abcdef0123456789abcdef;"
	    " lang=en", "X-CSRF-Token: 0123456789abcdef0123456789abcdef", NULL };
	static const char *const only[] = { "Host: a",
	    "Cookie: porch_session=0123456789abcdef0123456789abcdef", NULL };
	struct cgi_env_input	 in;

	set_fields(f);
	in = input();
	in.remote_user = "admin";
	in.auth_type = "Cookie";
	in.hide_cookie = "porch_session";
	CHECK(build(&in));
	CHECK_ENV("AUTH_TYPE", "Cookie");
	CHECK_ENV("REMOTE_USER", "admin");
	CHECK_ENV("HTTP_COOKIE", "theme=dark; lang=en");
	CHECK_ENV("HTTP_X_CSRF_TOKEN", NULL);
	set_fields(only);
	in = input();
	in.hide_cookie = "porch_session";
	CHECK(build(&in));
	CHECK_ENV("HTTP_COOKIE", NULL);
	/* without sessions the cookie is the script's business */
	in.hide_cookie = NULL;
	CHECK(build(&in));
	CHECK_ENV("HTTP_COOKIE",
	    "porch_session=0123456789abcdef0123456789abcdef");
}

static void
test_ambiguous_names(void)
{
	static const char *const f[] = { "Host: a", "X-Foo: 1", "X_Foo: 2",
	    NULL };
	struct cgi_env_input	 in;
	int			 status = 0;

	set_fields(f);
	in = input();
	CHECK_INT(cgi_env_build(&in, buf, sizeof(buf), envp, ENV_VARS,
	    &status), -1);
	CHECK_INT(status, 400);
}

static void
test_full(void)
{
	static const char *const f[] = { "Host: a", NULL };
	struct cgi_env_input	 in;
	int			 status = 0;

	set_fields(f);
	in = input();
	CHECK_INT(cgi_env_build(&in, buf, 200, envp, ENV_VARS, &status), -1);
	CHECK_INT(status, 431);
	CHECK_INT(cgi_env_build(&in, buf, sizeof(buf), envp, 5, &status), -1);
	CHECK_INT(status, 431);
}

int
main(int argc, char **argv)
{
	unit_init(argc, argv);
	test_meta_variables();
	test_optional_variables();
	test_fields();
	test_session_hidden();
	test_ambiguous_names();
	test_full();
	return unit_summary();
}
