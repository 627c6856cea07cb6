/*
 * Which requests run a CGI (by path prefix or file extension), which
 * file is the script (the first regular file along the path; the rest is
 * PATH_INFO), and the environment it gets.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../server/server.h"

#define CGI_REDIRECTS_MAX	4	/* local redirects followed per request */

static bool
has_ext(const struct conf *cf, const char *name, size_t len)
{
	size_t	 i, n;

	for (i = 0; i < cf->ncgi_ext; i++) {
		n = strlen(cf->cgi_ext[i]);
		if (len > n && memcmp(name + len - n, cf->cgi_ext[i], n) == 0)
			return true;
	}
	return false;
}

bool
cgi_matches(const struct conf *cf, const char *path)
{
	const char	*p, *end;
	size_t		 i, n;

	for (i = 0; i < cf->ncgi; i++) {
		n = strlen(cf->cgi[i]);
		if (strncmp(path, cf->cgi[i], n) == 0 &&
		    (cf->cgi[i][n - 1] == '/' || path[n] == '/'))
			return true;
	}
	for (p = path + 1; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		if (has_ext(cf, p, (size_t)(end - p)))
			return true;
	}
	return false;
}

/*
 * Finds the script: rel gets its path below the root, *info points at
 * the PATH_INFO part of r->path. 0, or the status to answer.
 */
static int
cgi_resolve(struct conn *c, struct request *r, char *rel, size_t size,
    const char **info)
{
	struct os_stat	 st;
	char		*p;
	int		 fd;
	bool		 last;

	if (snprintf(rel, size, "%s", r->path + 1) >= (int)size)
		return 414;
	for (p = rel;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		last = *p == '\0';
		*p = '\0';
		if (os_open_beneath(c->w->rootfd, rel, &fd, &st) == -1) {
			if (file_open_status(errno) == 503)
				conn_log(c, r, LOG_WARNING, "open %s: %s",
				    r->path, strerror(errno));
			return file_open_status(errno);
		}
		os_close(fd);
		if (st.is_reg) {
			*info = r->path + 1 + (p - rel);
			if (!st.exec)
				return 403;
			return 0;
		}
		if (last)
			return 403;	/* a directory: never listed, never run */
		*p = '/';
	}
}

static int
cgi_run(struct conn *c, struct request *r)
{
	static char		 envbuf[CGI_ENV_SIZE];
	static char		*envp[CGI_ENV_VARS];
	struct cgi_env_input	 in;
	char			 rel[CONN_PATH_MAX], script[2 * CONN_PATH_MAX + 2];
	char			 script_name[CONN_PATH_MAX + 2], host[256];
	const char		*info = "", *base;
	int			 status;

	if ((status = cgi_resolve(c, r, rel, sizeof(rel), &info)) != 0)
		return response_error(c, r, status);
	if (has_ext(c->conf, rel, strlen(rel)) == false &&
	    !cgi_matches(c->conf, r->path))
		return response_error(c, r, 404);
	if (snprintf(script, sizeof(script), "%s/%s", c->conf->root_abs,
	    rel) >= (int)sizeof(script))
		return response_error(c, r, 414);
	snprintf(script_name, sizeof(script_name), "/%s", rel);
	os_peer_local(c->io.fd, &c->peer);
	request_host_name(c, r, host, sizeof(host));
	memset(&in, 0, sizeof(in));
	in.head = &r->head;
	in.method = http_method_name(r->fr.method);
	in.script_name = script_name;
	in.path_info = info;
	in.script_filename = script;
	in.document_root = c->conf->root_abs;
	in.query = r->fr.query;
	in.remote_addr = c->peer.addr;
	in.remote_port = c->peer.port;
	in.server_name = host;
	in.server_addr = c->peer.local_addr;
	in.server_port = c->peer.local_port;
	in.server_software = PORCH_SERVER_NAME "/" PORCH_VERSION;
	in.https = c->tls;
	in.remote_user = r->user[0] ? r->user : NULL;
	in.request_id = r->id;
	in.has_body = r->fr.body != BODY_NONE;
	in.length_known = r->fr.body == BODY_LENGTH;
	in.content_length = r->fr.length;
	if (cgi_env_build(&in, envbuf, sizeof(envbuf), envp, CGI_ENV_VARS,
	    &status) == -1)
		return response_error(c, r, status);
	base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	return cgi_relay(c, r, script, envp, strncmp(base, "nph-", 4) == 0);
}

/*
 * Serves a CGI request, following local redirects (RFC 3875 6.2.2) as
 * GET requests for the new path, static or CGI.
 */
int
cgi_serve(struct conn *c, struct request *r)
{
	char	 loc[CONN_PATH_MAX];
	int	 rc, n, status;

	for (n = 0;; n++) {
		rc = cgi_run(c, r);
		if (rc != 1)
			return rc;
		if (n == CGI_REDIRECTS_MAX)
			return response_error(c, r, 500);
		snprintf(loc, sizeof(loc), "%s", r->path);
		if (http_path_decode((struct str){ loc, strcspn(loc, "?") },
		    r->path, sizeof(r->path), &status) == -1)
			return response_error(c, r, 500);
		r->fr.method = METHOD_GET;	/* RFC 3875 6.2.2 */
		r->fr.body = BODY_NONE;
		r->fr.length = 0;
		r->fr.query.p = strchr(loc, '?') ? strchr(loc, '?') + 1 : "";
		r->fr.query.len = strlen(r->fr.query.p);
		if (!cgi_matches(c->conf, r->path))
			return file_serve(c, r);
	}
}
