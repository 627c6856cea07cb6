/*
 * One request: from a parsed head to a decision (error, static file,
 * OPTIONS) and its bookkeeping (access log, scoreboard). Everything that
 * can be decided from the head is decided before any body byte is read,
 * and no 100 Continue is ever sent for a body porch will not consume.
 */
#include <stdio.h>
#include <string.h>

#include "server.h"

#define ALLOW_STATIC	"GET, HEAD, OPTIONS"

static void
request_begin(struct conn *c, struct request *r)
{
	struct worker	*w = c->w;

	memset(&r->fr, 0, sizeof(r->fr));
	r->path[0] = '\0';
	r->user[0] = '\0';
	r->status = 0;
	r->body_bytes = 0;
	r->keepalive = false;
	r->body_unread = false;
	r->head_sent = false;
	r->started_ms = os_now_ms();
	r->started_wall = os_wall_time();
	c->nreq++;
	w->served++;
	worker_check_logs(w);
	sb_request_id(w->sb, w->serial, w->served, r->id, sizeof(r->id));
}

static int
request_options(struct conn *c, struct request *r)
{
	struct resp	 o;

	resp_begin(&o, c, r, 200);
	resp_header(&o, "Allow", ALLOW_STATIC);
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
	r->body_unread = r->fr.body != BODY_NONE;
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
static int
request_auth_refused(struct conn *c, struct request *r, int status,
    const struct auth_verdict *v)
{
	char	 val[160];

	if (status == 401) {
		snprintf(val, sizeof(val), "Basic realm=\"%s\", "
		    "charset=\"UTF-8\"", v->realm);
		return response_simple(c, r, 401, "WWW-Authenticate", val);
	}
	if (status == 429) {
		snprintf(val, sizeof(val), "%u", v->retry_after);
		return response_simple(c, r, 429, "Retry-After", val);
	}
	return response_error(c, r, status);
}

/* Limits that are checked after authentication; 0, or the status. */
static int
request_limits(struct conn *c, struct request *r)
{
	if (r->fr.body == BODY_LENGTH && r->fr.length > c->conf->max_body_size)
		return 413;
	return 0;
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
 * listener. Never at the client's Host, which without an allow-list is
 * whatever the client says (an open redirect): at the TLS listener's own
 * address, or the address the client reached when it listens on all.
 * Status stays reachable over plain HTTP on loopback.
 */
static int
request_redirect_tls(struct conn *c, struct request *r)
{
	const struct conf	*cf = c->conf;
	const struct os_addr	*tls = NULL;
	char			 loc[CONN_LOCATION_MAX], host[OS_ADDR_TEXT + 2];
	char			 port[8] = "";
	size_t			 i;
	int			 n, k;

	for (i = 0; i < cf->nlisten && tls == NULL; i++)
		if (cf->listen[i].tls)
			tls = &cf->listen[i].addr;
	if (tls != NULL && tls->port != 443)
		snprintf(port, sizeof(port), ":%u", tls->port);
	if (tls != NULL && !os_addr_is_any(tls))
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
		return response_error(c, r, 414);
	return response_simple(c, r, 301, "Location", loc);
}

static int
request_route(struct conn *c, struct request *r)
{
	if (c->conf->tls_redirect && !c->tls &&
	    !(status_matches(c, r) && c->peer.loopback))
		return request_redirect_tls(c, r);
	if (status_matches(c, r))
		return status_serve(c, r);
	if (cgi_matches(c->conf, r->path)) {
		if (r->fr.method == METHOD_TRACE ||
		    r->fr.method == METHOD_CONNECT)
			return response_simple(c, r, 405, "Allow",
			    "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS");
		return cgi_serve(c, r);
	}
	switch (r->fr.method) {
	case METHOD_GET:
	case METHOD_HEAD:
		return file_serve(c, r);
	case METHOD_OPTIONS:
		return request_options(c, r);
	default:
		return response_simple(c, r, 405, "Allow", ALLOW_STATIC);
	}
}

static void
request_end(struct conn *c, struct request *r, uint64_t bytes_before)
{
	sb_count_response(c->w->slot, r->status, c->io.bytes_out -
	    bytes_before);
	log_access(c, r);
	if (!r->keepalive) {
		c->closing = true;
		if (r->body_unread)
			c->linger = true;
	}
}

/*
 * Serves one request. Returns 0 when the connection may carry another,
 * -1 when it must close (c->linger says whether to drain input first).
 */
int
request_serve(struct conn *c, struct request *r)
{
	struct auth_verdict	 v;
	uint64_t		 before = c->io.bytes_out;
	int			 rc, status;

	memset(&r->head, 0, sizeof(r->head));
	rc = conn_read_head(c, r);
	if (rc == 0)
		return -1;
	status = r->status;	/* the head's error, before begin clears it */
	request_begin(c, r);
	if (rc == -1) {
		c->closing = true;
		c->linger = true;
		conn_log(c, r, LOG_INFO, "request head rejected with %d",
		    status);
		r->head.method.len = 0;
		(void)response_error(c, r, status);
		request_end(c, r, before);
		return -1;
	}
	c->in.pos += r->head_len;
	sb_set_state(c->w->slot, SB_WRITING);
	/* DESIGN 3: method and path, then auth, then length, so an
	 * anonymous client learns nothing of a protected path's limits. */
	if ((status = request_check(c, r)) != 0) {
		conn_log(c, r, LOG_INFO, "request rejected with %d", status);
		(void)response_error(c, r, status);
	} else if ((status = auth_check(c, r, &v)) != 0)
		(void)request_auth_refused(c, r, status, &v);
	else if ((status = request_limits(c, r)) != 0) {
		conn_log(c, r, LOG_INFO, "request rejected with %d", status);
		(void)response_error(c, r, status);
	} else
		(void)request_route(c, r);
	request_end(c, r, before);
	return c->closing ? -1 : 0;
}
