/*
 * Which requests run a CGI (by path prefix or file extension), which
 * file is the script (the first regular file along the path; the rest is
 * PATH_INFO), and the environment it gets. The run itself is
 * cgi_relay.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

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

/* path is under a configured cgi prefix. */
static bool
under_prefix(const struct conf *cf, const char *path)
{
	size_t	 i, n;

	/* "/cgi-bin" itself is no script; "/cgi-bin/..." may be. */
	for (i = 0; i < cf->ncgi; i++)
		if ((n = http_path_under(path, cf->cgi[i])) > 0 &&
		    (path[n] == '/' || cf->cgi[i][n - 1] == '/'))
			return true;
	return false;
}

/*
 * A request that may run a CGI: under a cgi prefix, or with a segment
 * named *.EXT (the script; what follows is PATH_INFO). Whether it does is
 * decided on the script found (cgi_serve).
 */
bool
cgi_matches(const struct conf *cf, const char *path)
{
	const char	*p, *end;

	if (under_prefix(cf, path))
		return true;
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
 * the PATH_INFO part of r->path, *fd is the script as it was checked
 * beneath the root and *dir its directory (-1: the root itself): these
 * are what runs, never the names looked up again. 0, or the status to
 * answer (nothing left open).
 */
static int
cgi_resolve(struct conn *c, struct request *r, char *rel, size_t size,
    const char **info, int *fd, int *dir)
{
	struct os_stat	 st;
	char		*p;
	bool		 last;

	*dir = -1;
	if (snprintf(rel, size, "%s", r->path + 1) >= (int)size)
		return 414;
	for (p = rel;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		last = *p == '\0';
		*p = '\0';
		if (os_open_beneath(c->w->rootfd, rel, fd, &st) == -1) {
			if (file_open_status(errno) == 503)
				conn_log(c, r, LOG_WARNING, "open %s: %s",
				    r->path, strerror(errno));
			if (*dir != -1)
				os_close(*dir);
			return file_open_status(errno);
		}
		if (st.is_reg) {
			*info = r->path + 1 + (p - rel);
			if (st.exec)
				return 0;
			os_close(*fd);
		} else if (!last) {
			if (*dir != -1)
				os_close(*dir);
			*dir = *fd;
			*p = '/';
			continue;
		} else
			os_close(*fd);	/* a directory: never listed or run */
		if (*dir != -1)
			os_close(*dir);
		return 403;
	}
}

/* The script's environment, into the worker's buffers; 0, or the status
 * to answer. */
static int
cgi_env_of(struct conn *c, struct request *r, const char *script,
    const char *script_name, const char *info)
{
	struct cgi_env_input	 in;
	char			 host[256];
	int			 status;

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
	in.auth_type = r->auth_type;
	in.hide_cookie = c->conf->nsession > 0 ? SESSION_COOKIE : NULL;
	in.request_id = r->id;
	in.has_body = r->fr.body != BODY_NONE;
	in.length_known = r->fr.body == BODY_LENGTH;
	in.content_length = r->fr.length;
	if (cgi_env_build(&in, c->w->cgi_env, CGI_ENV_SIZE, c->w->cgi_envp,
	    CGI_ENV_VARS, &status) == -1)
		return status;
	return 0;
}

/*
 * Serves a request cgi_matches() took: finds the script, checks it is one,
 * and runs it. SERVE_AGAIN when it answered with a local redirect, which
 * the caller routes like a request from the wire.
 */
enum serve
cgi_serve(struct conn *c, struct request *r)
{
	char		 rel[CONN_PATH_MAX], script[2 * CONN_PATH_MAX + 2];
	char		 script_name[CONN_PATH_MAX + 2];
	const char	*info = "", *base;
	enum serve	 rc = SERVE_DONE;
	int		 status, fd, dir;

	/* A dot segment is never served, run or searched for a script. */
	if (http_path_has_dotfile(r->path))
		return resp_error(c, r, 404);
	if ((status = cgi_resolve(c, r, rel, sizeof(rel), &info, &fd,
	    &dir)) != 0)
		return resp_error(c, r, status);
	/* The script itself must be a CGI: named *.EXT, or under a prefix.
	 * "/pub/tool.sh/x.cgi" names x.cgi, but would run tool.sh. */
	snprintf(script_name, sizeof(script_name), "/%s", rel);
	if (!has_ext(c->conf, rel, strlen(rel)) &&
	    !under_prefix(c->conf, script_name))
		status = 404;
	else if (snprintf(script, sizeof(script), "%s/%s", c->conf->root_abs,
	    rel) >= (int)sizeof(script))
		status = 414;
	else
		status = cgi_env_of(c, r, script, script_name, info);
	if (status == 0) {
		base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		rc = cgi_relay(c, r, script, fd, dir != -1 ? dir :
		    c->w->rootfd, c->w->cgi_envp, strncmp(base, "nph-", 4) == 0);
	}
	os_close(fd);
	if (dir != -1)
		os_close(dir);
	return status == 0 ? rc : resp_error(c, r, status);
}
