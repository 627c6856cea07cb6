/*
 * The CGI environment, built from scratch (RFC 3875 4.1): nothing of
 * porch's own environment but a fixed PATH. Request fields become HTTP_*
 * except hop-by-hop ones, Authorization (the password stays with porch)
 * and Proxy (httpoxy: HTTP_PROXY would steer the script's outgoing
 * requests). Pure: strings go into the caller's buffer.
 */
#include <stdio.h>
#include <string.h>

#include "cgi.h"

struct env {
	char	*buf;
	size_t	 size, used;
	char	**envp;
	size_t	 nenv, n;
	bool	 full;
};

static char *
env_put(struct env *e, const char *name, const char *val, size_t vlen)
{
	size_t	 nlen = strlen(name), need = nlen + 1 + vlen + 1;
	char	*p;

	if (e->full || need > e->size - e->used || e->n + 1 >= e->nenv) {
		e->full = true;
		return NULL;
	}
	p = e->buf + e->used;
	memcpy(p, name, nlen);
	p[nlen] = '=';
	memcpy(p + nlen + 1, val, vlen);
	p[nlen + 1 + vlen] = '\0';
	e->used += need;
	e->envp[e->n++] = p;
	e->envp[e->n] = NULL;
	return p;
}

static void
env_str(struct env *e, const char *name, const char *val)
{
	if (val != NULL)
		(void)env_put(e, name, val, strlen(val));
}

static void
env_uint(struct env *e, const char *name, uint64_t v)
{
	char	 tmp[24];

	snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	env_str(e, name, tmp);
}

/* Fields that belong to this hop only: never passed to a script. */
bool
cgi_field_is_hop(const struct http_head *h, struct str name)
{
	static const char *const fixed[] = { "Connection", "Keep-Alive",
	    "TE", "Trailer", "Transfer-Encoding", "Upgrade",
	    "Proxy-Connection", "Proxy", "Proxy-Authorization",
	    "Authorization", "X-CSRF-Token", "Content-Length",
	    "Content-Type" };
	char		 lname[64];
	size_t		 i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (str_eq_nocase(name, fixed[i]))
			return true;
	if (name.len >= sizeof(lname))
		return false;
	memcpy(lname, name.p, name.len);
	lname[name.len] = '\0';
	/* RFC 9110 7.6.1: fields the Connection field names are hop-by-hop */
	for (i = 0; i < h->nfields; i++)
		if (str_eq_nocase(h->fields[i].name, "Connection") &&
		    http_list_has(h->fields[i].value, lname))
			return true;
	return false;
}

/* "X-Foo" -> "HTTP_X_FOO" into out; false when it does not fit. */
static bool
env_name(struct str name, char *out, size_t size)
{
	size_t	 i;
	char	 c;

	if (name.len + 6 > size)
		return false;
	memcpy(out, "HTTP_", 5);
	for (i = 0; i < name.len; i++) {
		c = name.p[i];
		/* Names a shell cannot hold are not passed at all. */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		else if (c == '-')
			c = '_';
		out[5 + i] = c;
	}
	out[5 + name.len] = '\0';
	return true;
}

static bool
same_name(struct str a, struct str b)
{
	size_t	 i;
	char	 x, y;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++) {
		x = a.p[i];
		y = b.p[i];
		if (x >= 'A' && x <= 'Z')
			x = (char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

/* Appends raw bytes to the string env_put just made (reopening it). */
static void
env_append(struct env *e, const char *p, size_t n)
{
	if (e->full || n + 1 > e->size - e->used) {
		e->full = true;
		return;
	}
	memcpy(e->buf + e->used - 1, p, n);	/* over the old NUL */
	e->used += n;
	e->buf[e->used - 1] = '\0';
}

/*
 * HTTP_COOKIE without the cookie hide (the session's: a script never sees
 * it); none at all when the field cannot be split safely.
 */
static void
env_cookie(struct env *e, struct str v, const char *hide)
{
	char	 rest[CGI_COOKIE_MAX];
	int	 n;

	if ((n = http_cookie_strip(v, hide, rest, sizeof(rest))) > 0)
		(void)env_put(e, "HTTP_COOKIE", rest, (size_t)n);
}

/*
 * HTTP_* for every end-to-end field. A repeated field is joined with
 * ", " (RFC 9110 5.3); two different names that map to one variable
 * ("X-Foo" and "X_Foo") are refused with 400, since a script could not
 * tell which one it got.
 */
static int
env_fields(struct env *e, const struct http_head *h, const char *hide)
{
	const struct http_field	*f = h->fields, *g;
	char			 var[96], other[96];
	size_t			 i, j;
	bool			 seen;

	for (i = 0; i < h->nfields; i++) {
		if (cgi_field_is_hop(h, f[i].name) ||
		    !env_name(f[i].name, var, sizeof(var)))
			continue;
		seen = false;
		for (j = 0; j < i && !seen; j++) {
			g = &f[j];
			if (cgi_field_is_hop(h, g->name) ||
			    !env_name(g->name, other, sizeof(other)) ||
			    strcmp(var, other) != 0)
				continue;
			if (!same_name(g->name, f[i].name))
				return 400;
			seen = true;
		}
		if (seen)
			continue;
		if (hide != NULL && str_eq_nocase(f[i].name, "Cookie")) {
			env_cookie(e, f[i].value, hide);
			continue;
		}
		if (env_put(e, var, f[i].value.p, f[i].value.len) == NULL)
			continue;
		for (j = i + 1; j < h->nfields; j++)
			if (same_name(f[j].name, f[i].name)) {
				env_append(e, ", ", 2);
				env_append(e, f[j].value.p, f[j].value.len);
			}
	}
	return 0;
}

int
cgi_env_build(const struct cgi_env_input *in, char *buf, size_t size,
    char **envp, size_t nenv, int *status)
{
	struct env		 e = { buf, size, 0, envp, nenv, 0, false };
	const struct str	*ct;
	int			 rc;

	envp[0] = NULL;
	env_str(&e, "PATH", CGI_PATH);
	env_str(&e, "GATEWAY_INTERFACE", "CGI/1.1");
	env_str(&e, "SERVER_SOFTWARE", in->server_software);
	env_str(&e, "SERVER_NAME", in->server_name);
	env_str(&e, "SERVER_ADDR", in->server_addr);
	env_uint(&e, "SERVER_PORT", in->server_port);
	env_str(&e, "SERVER_PROTOCOL", in->head->minor ? "HTTP/1.1" :
	    "HTTP/1.0");
	env_str(&e, "REQUEST_METHOD", in->method);
	(void)env_put(&e, "REQUEST_URI", in->head->target.p,
	    in->head->target.len);
	env_str(&e, "SCRIPT_NAME", in->script_name);
	env_str(&e, "SCRIPT_FILENAME", in->script_filename);
	env_str(&e, "DOCUMENT_ROOT", in->document_root);
	if (in->path_info[0] != '\0') {
		env_str(&e, "PATH_INFO", in->path_info);
		if (env_put(&e, "PATH_TRANSLATED", in->document_root,
		    strlen(in->document_root)) != NULL)
			env_append(&e, in->path_info, strlen(in->path_info));
	}
	(void)env_put(&e, "QUERY_STRING", in->query.p ? in->query.p : "",
	    in->query.len);
	env_str(&e, "REMOTE_ADDR", in->remote_addr);
	/* RFC 3875 4.1.9: the address stands in when no name is looked up */
	env_str(&e, "REMOTE_HOST", in->remote_addr);
	env_uint(&e, "REMOTE_PORT", in->remote_port);
	env_str(&e, "REQUEST_ID", in->request_id);
	if (in->https)
		env_str(&e, "HTTPS", "on");
	if (in->remote_user != NULL && in->remote_user[0] != '\0') {
		env_str(&e, "AUTH_TYPE", in->auth_type ? in->auth_type :
		    "Basic");
		env_str(&e, "REMOTE_USER", in->remote_user);
	}
	/* A chunked body has no length to tell: the script reads to EOF. */
	if (in->has_body && in->length_known)
		env_uint(&e, "CONTENT_LENGTH", in->content_length);
	if (in->has_body &&
	    (ct = http_field_get(in->head, "Content-Type")) != NULL)
		(void)env_put(&e, "CONTENT_TYPE", ct->p, ct->len);
	if ((rc = env_fields(&e, in->head, in->hide_cookie)) != 0) {
		*status = rc;
		return -1;
	}
	if (e.full) {
		*status = 431;	/* the head was too large to pass on */
		return -1;
	}
	return (int)e.n;
}
