/*
 * One request: from a parsed head to a handler, and its bookkeeping
 * (access log, scoreboard). Routing is one function, request_route(),
 * which a CGI's local redirect goes through again, so a redirect can never
 * reach what the client could not: the TLS redirect, the status path's
 * rule, authentication and limits apply to it as to a request from the
 * wire. Everything that can be decided from the head is decided before
 * any body byte is read, and no 100 Continue is ever sent for a body
 * porch will not consume.
 */
#include <stdio.h>
#include <string.h>

#include "server.h"

#define ALLOW_STATIC	"GET, HEAD, OPTIONS"
#define ALLOW_CGI	"GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"

static void
request_begin(struct conn *c, struct request *r)
{
	struct worker	*w = c->w;

	memset(&r->fr, 0, sizeof(r->fr));
	memset(&r->body, 0, sizeof(r->body));
	r->body.done = true;	/* until the framing says otherwise */
	r->path[0] = '\0';
	r->user[0] = '\0';
	r->auth_type = NULL;
	r->redirect[0] = '\0';
	r->redirects = 0;
	r->status = 0;
	r->body_bytes = 0;
	r->framing = FRAME_NONE;
	r->keepalive = false;
	r->head_sent = false;
	r->started_ms = os_now_ms();
	r->started_wall = os_wall_time();
	c->nreq++;
	w->served++;
	worker_check_logs(w);
	sb_request_id(w->sb, w->serial, w->served, r->id, sizeof(r->id));
}

static enum serve
request_options(struct conn *c, struct request *r, const char *allow)
{
	struct resp	 o;

	resp_begin(&o, c, r, 200);
	resp_header(&o, "Allow", allow);
	resp_header_uint(&o, "Content-Length", 0);
	return resp_send(c, r, &o, NULL, 0);
}

/* Checks that need only the head; 0 to go on, else the status to answer. */
static int
request_check(struct conn *c, struct request *r)
{
	const struct conf	*cf = c->conf;
	int			 status;

	if (http_parse_framing(&r->head, &r->fr, &status) == HTTP_PARSE_ERROR)
		return status;
	conn_body_begin(c, r, cf->max_body_size);
	if (r->head.target.len > cf->max_target_size)
		return 414;
	if (r->fr.method == METHOD_UNKNOWN)
		return 501;
	if (r->fr.asterisk)
		return 0;
	if (http_path_decode(r->fr.path, r->path, sizeof(r->path),
	    &status) == -1)
		return status;
	return 0;
}

/* Answers a refused authentication: the challenge, or when to retry. */
static enum serve
request_auth_refused(struct conn *c, struct request *r, int status,
    const struct auth_verdict *v)
{
	char	 val[160];

	if (status == 401) {
		snprintf(val, sizeof(val), "Basic realm=\"%s\", "
		    "charset=\"UTF-8\"", v->realm);
		return resp_simple(c, r, 401, "WWW-Authenticate", val);
	}
	if (status == 429) {
		snprintf(val, sizeof(val), "%u", v->retry_after);
		return resp_simple(c, r, 429, "Retry-After", val);
	}
	return resp_error(c, r, status);
}

/*
 * Limits that are checked after authentication: the body limit of the
 * longest body_limit prefix (else max_body_size). 0, or the status.
 */
static int
request_limits(struct conn *c, struct request *r)
{
	const struct conf	*cf = c->conf;
	size_t			 i, n, best = 0;

	r->body.max = cf->max_body_size;
	for (i = 0; i < cf->nbody_limit; i++) {
		n = http_path_under(r->path, cf->body_limit[i].prefix);
		if (n > 0 && n >= best) {
			r->body.max = cf->body_limit[i].bytes;
			best = n;
		}
	}
	if (r->fr.body == BODY_LENGTH && r->fr.length > r->body.max)
		return 413;
	return 0;
}

/* The host part of a Host value: "[v6]" keeps its brackets, no port. */
static struct str
request_host_part(struct str h)
{
	const char	*end;

	if (h.len > 0 && h.p[0] == '[') {
		end = memchr(h.p, ']', h.len);
		h.len = end ? (size_t)(end - h.p + 1) : h.len;
	} else if ((end = memchr(h.p, ':', h.len)) != NULL)
		h.len = (size_t)(end - h.p);
	if (h.len > 0 && h.p[h.len - 1] == '.')
		h.len--;		/* "router.lan." is "router.lan" */
	return h;
}

/*
 * DNS rebinding: with server_name set, the Host must be one of its names
 * or the address the client reached (an IP literal); 0, or 421.
 */
static int
request_host_allowed(struct conn *c, struct request *r)
{
	const struct conf	*cf = c->conf;
	struct str		 h = request_host_part(r->fr.host);
	char			 addr[OS_ADDR_TEXT + 2];
	size_t			 i;

	if (cf->nserver_name == 0 || r->fr.host.len == 0)
		return 0;		/* no list, or HTTP/1.0 without Host */
	for (i = 0; i < cf->nserver_name; i++)
		if (str_eq_nocase(h, cf->server_name[i]))
			return 0;
	os_peer_local(c->io.fd, &c->peer);
	snprintf(addr, sizeof(addr), strchr(c->peer.local_addr, ':') ?
	    "[%s]" : "%s", c->peer.local_addr);
	if (str_eq_nocase(h, addr))
		return 0;
	conn_log(c, r, LOG_INFO, "Host not allowed (server_name)");
	return 421;
}

/* The Host field's name part, or the local address when there is none. */
void
request_host_name(struct conn *c, struct request *r, char *out, size_t size)
{
	struct str	 h = r->fr.host;
	const char	*end;

	if (h.len == 0) {
		os_peer_local(c->io.fd, &c->peer);
		snprintf(out, size, "%s", c->peer.local_addr);
		return;
	}
	if (h.p[0] == '[') {		/* "[v6]:port" keeps its brackets */
		end = memchr(h.p, ']', h.len);
		end = end ? end + 1 : h.p + h.len;
	} else {
		end = memchr(h.p, ':', h.len);
		end = end ? end : h.p + h.len;
	}
	snprintf(out, size, "%.*s", (int)(end - h.p), h.p);
}

/*
 * tls_redirect: plain requests go to the same path on the first HTTPS
 * listener. Never at a Host that no allow-list (server_name) checked,
 * which is whatever the client says (an open redirect): then at the TLS
 * listener's own address, or the address the client reached when it
 * listens on all. Status stays reachable over plain HTTP on loopback.
 */
static enum serve
request_redirect_tls(struct conn *c, struct request *r)
{
	const struct conf	*cf = c->conf;
	const struct os_addr	*tls = NULL;
	char			 loc[CONN_LOCATION_MAX], host[256];
	char			 port[8] = "";
	struct str		 h;
	size_t			 i;
	int			 n, k;

	for (i = 0; i < cf->nlisten && tls == NULL; i++)
		if (cf->listen[i].tls)
			tls = &cf->listen[i].addr;
	if (tls != NULL && tls->port != 443)
		snprintf(port, sizeof(port), ":%u", tls->port);
	if (cf->nserver_name > 0 && r->fr.host.len > 0) {
		/* checked against server_name already: the name asked for */
		h = request_host_part(r->fr.host);
		snprintf(host, sizeof(host), "%.*s", (int)h.len, h.p);
	} else if (tls != NULL && !os_addr_is_any(tls))
		os_addr_host(tls, host, sizeof(host));
	else {
		os_peer_local(c->io.fd, &c->peer);
		snprintf(host, sizeof(host), strchr(c->peer.local_addr, ':') ?
		    "[%s]" : "%s", c->peer.local_addr);
	}
	n = snprintf(loc, sizeof(loc), "https://%s%s", host, port);
	if (n < 0 || (size_t)n >= sizeof(loc) ||
	    (k = http_path_encode(r->path, loc + n, sizeof(loc) - (size_t)n))
	    == -1 || snprintf(loc + n + k, sizeof(loc) - (size_t)(n + k),
	    "%s%.*s", r->fr.has_query ? "?" : "", (int)r->fr.query.len,
	    r->fr.query.p) >= (int)(sizeof(loc) - (size_t)(n + k)))
		return resp_error(c, r, 414);
	return resp_simple(c, r, 301, "Location", loc);
}

/*
 * Routes r, from the wire or from a local redirect: the TLS redirect and
 * the status path, then authentication, then limits, then the handler.
 */
static enum serve
request_route(struct conn *c, struct request *r)
{
	struct auth_verdict	 v;
	struct session_verdict	 sv;
	int			 status;

	if ((status = request_host_allowed(c, r)) != 0)
		return resp_error(c, r, status);
	if (c->conf->tls_redirect && !c->tls &&
	    !(status_matches(c, r) && c->peer.loopback))
		return request_redirect_tls(c, r);
	if (status_matches(c, r))
		return status_serve(c, r);
	if (session_api_matches(c, r))
		return session_api(c, r);
	if ((status = auth_check(c, r, &v)) != 0)
		return request_auth_refused(c, r, status, &v);
	if ((status = session_check(c, r, &sv)) != 0)
		return session_refused(c, r, status, &sv);
	if ((status = request_limits(c, r)) != 0) {
		conn_log(c, r, LOG_INFO, "request rejected with %d", status);
		return resp_error(c, r, status);
	}
	if (cgi_matches(c->conf, r->path)) {
		if (r->fr.method == METHOD_TRACE ||
		    r->fr.method == METHOD_CONNECT)
			return resp_simple(c, r, 405, "Allow", ALLOW_CGI);
		return cgi_serve(c, r);
	}
	switch (r->fr.method) {
	case METHOD_GET:
	case METHOD_HEAD:
		return file_serve(c, r);
	case METHOD_OPTIONS:
		return request_options(c, r, ALLOW_STATIC);
	default:
		return resp_simple(c, r, 405, "Allow", ALLOW_STATIC);
	}
}

/*
 * A CGI's local redirect (RFC 3875 6.2.2): r becomes a GET (a HEAD stays
 * a HEAD) of the Location's path and query, with the same fields, and is
 * routed again. 0, or -1 when it cannot be.
 */
static int
request_redirect(struct conn *c, struct request *r)
{
	const char	*loc = r->redirect, *q;
	int		 status;

	if (++r->redirects > REQUEST_REDIRECTS_MAX) {
		conn_log(c, r, LOG_WARNING, "more than %d local redirects",
		    REQUEST_REDIRECTS_MAX);
		return -1;
	}
	q = strchr(loc, '?');
	r->fr.path.p = loc;
	r->fr.path.len = q ? (size_t)(q - loc) : strlen(loc);
	r->fr.has_query = q != NULL;
	r->fr.query.p = q ? q + 1 : "";
	r->fr.query.len = q ? strlen(q + 1) : 0;
	if (r->fr.method != METHOD_HEAD)
		r->fr.method = METHOD_GET;
	/* A GET has no body: what the script left of it is skipped, or the
	 * connection closes after the answer. */
	if (!r->body.done && conn_body_discard(c, r) == -1) {
		c->closing = true;
		c->linger = true;
	}
	r->body.done = true;
	r->fr.body = BODY_NONE;
	r->fr.length = 0;
	if (http_path_decode(r->fr.path, r->path, sizeof(r->path),
	    &status) == -1) {
		conn_log(c, r, LOG_WARNING, "local redirect to a bad path");
		return -1;
	}
	return 0;
}

static void
request_end(struct conn *c, struct request *r, uint64_t bytes_before)
{
	sb_count_response(c->w->slot, r->status, c->io.bytes_out -
	    bytes_before);
	log_access(c, r);
	if (!r->keepalive) {
		c->closing = true;
		if (!r->body.done)
			c->linger = true;
	}
}

/*
 * Serves one request. SERVE_DONE when the connection may carry another,
 * SERVE_CLOSE when it must close (c->linger says whether to drain input
 * first).
 */
enum serve
request_serve(struct conn *c, struct request *r)
{
	uint64_t	 before = c->io.bytes_out;
	int		 got, status;

	memset(&r->head, 0, sizeof(r->head));
	got = conn_read_head(c, r);
	if (got == 0)
		return SERVE_CLOSE;
	status = r->status;	/* the head's error, before begin clears it */
	request_begin(c, r);
	if (got == -1) {
		c->closing = true;
		c->linger = true;
		conn_log(c, r, LOG_INFO, "request head rejected with %d",
		    status);
		r->head.method.len = 0;
		(void)resp_error(c, r, status);
		request_end(c, r, before);
		return SERVE_CLOSE;
	}
	c->in.pos += r->head_len;
	sb_set_state(c->w->slot, SB_WRITING);
	if ((status = request_check(c, r)) != 0) {
		conn_log(c, r, LOG_INFO, "request rejected with %d", status);
		(void)resp_error(c, r, status);
	} else
		while (request_route(c, r) == SERVE_AGAIN)
			if (request_redirect(c, r) == -1) {
				(void)resp_error(c, r, 500);
				break;
			}
	request_end(c, r, before);
	return c->closing ? SERVE_CLOSE : SERVE_DONE;
}
