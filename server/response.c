/*
 * Responses: the one writer every handler uses. A head is built in the
 * worker's fixed buffer with the connection decision it carries; a body
 * goes with it in one writev, or follows framed by its length, chunked,
 * or by the close (resp_stream_*), or from a file (resp_sendfile).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server.h"

#define RESP_LIT(o, s)	resp_raw((o), (s), sizeof(s) - 1)

static const struct {
	int		 status;
	const char	*reason;
} reasons[] = {
	{ 100, "Continue" },
	{ 200, "OK" },
	{ 204, "No Content" },
	{ 206, "Partial Content" },
	{ 301, "Moved Permanently" },
	{ 302, "Found" },
	{ 303, "See Other" },
	{ 304, "Not Modified" },
	{ 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },
	{ 411, "Length Required" },
	{ 409, "Conflict" },
	{ 413, "Content Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 414, "URI Too Long" },
	{ 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" },
	{ 421, "Misdirected Request" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

const char *
resp_reason(int status)
{
	size_t	 i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

/* Statuses after which the rest of the input cannot be trusted. */
static bool
status_closes(int status)
{
	switch (status) {
	case 400:
	case 408:
	case 413:
	case 414:
	case 417:
	case 421:
	case 431:
	case 500:
	case 501:
	case 505:
		return true;
	}
	return false;
}

static void
resp_raw(struct resp *o, const char *s, size_t n)
{
	if (o->overflow || n > (size_t)(o->end - o->p)) {
		o->overflow = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void
resp_str(struct resp *o, const char *s)
{
	resp_raw(o, s, strlen(s));
}

static void
resp_uint(struct resp *o, uint64_t v)
{
	char	 tmp[FMT_UINT_MAX];

	resp_raw(o, tmp, fmt_uint(v, tmp));
}

/*
 * Header directives (`header PREFIX NAME VALUE`) and the fields a
 * response writes itself: a field written by porch or by a script takes
 * the place of a directive of the same name, except a default
 * (resp_header_default), which gives way to the directive. The
 * directives left go out at resp_finish.
 */
static void
resp_configured_drop(struct resp *o, struct str name)
{
	const struct conf_header	*h;
	uint32_t			 bits = o->configured;
	int				 i;

	for (i = 0; bits != 0; i++, bits >>= 1) {
		h = &o->conf->header[i];
		if ((bits & 1) && str_eq_nocase(name, h->name))
			o->configured &= ~(UINT32_C(1) << i);
	}
}

static bool
resp_configured_has(const struct resp *o, const char *name)
{
	uint32_t	 bits = o->configured;
	int		 i;

	for (i = 0; bits != 0; i++, bits >>= 1)
		if ((bits & 1) && strcasecmp(o->conf->header[i].name, name) == 0)
			return true;
	return false;
}

void
resp_header(struct resp *o, const char *name, const char *value)
{
	if (o->configured != 0)
		resp_configured_drop(o, (struct str){ name, strlen(name) });
	resp_str(o, name);
	RESP_LIT(o, ": ");
	resp_str(o, value);
	RESP_LIT(o, "\r\n");
}

/* A field porch sends unless a header directive sets it. */
void
resp_header_default(struct resp *o, const char *name, const char *value)
{
	if (!resp_configured_has(o, name))
		resp_header(o, name, value);
}

void
resp_header_str(struct resp *o, struct str name, struct str value)
{
	if (o->configured != 0)
		resp_configured_drop(o, name);
	resp_raw(o, name.p, name.len);
	RESP_LIT(o, ": ");
	resp_raw(o, value.p, value.len);
	RESP_LIT(o, "\r\n");
}

void
resp_header_uint(struct resp *o, const char *name, uint64_t v)
{
	if (o->configured != 0)
		resp_configured_drop(o, (struct str){ name, strlen(name) });
	resp_str(o, name);
	RESP_LIT(o, ": ");
	resp_uint(o, v);
	RESP_LIT(o, "\r\n");
}

void
resp_begin(struct resp *o, struct conn *c, struct request *r, int status)
{
	const struct conf	*cf = c->conf;
	size_t			 i;

	o->start = o->p = c->w->out;
	o->end = c->w->out + CONN_OUT_SIZE;
	o->overflow = false;
	o->conf = cf;
	o->configured = 0;
	for (i = 0; i < cf->nheader; i++)
		if (http_path_under(r->path, cf->header[i].prefix) > 0)
			o->configured |= UINT32_C(1) << i;
	r->status = status;
	RESP_LIT(o, "HTTP/1.1 ");
	resp_uint(o, (uint64_t)status);
	RESP_LIT(o, " ");
	resp_str(o, resp_reason(status));
	RESP_LIT(o, "\r\nServer: " PORCH_SERVER_NAME "\r\nDate: ");
	resp_str(o, worker_date(c->w));
	RESP_LIT(o, "\r\n");
	/* RFC 6797 7.2: only over TLS; opt-in (tls_hsts). */
	if (c->tls && cf->tls_hsts > 0) {
		RESP_LIT(o, "Strict-Transport-Security: max-age=");
		resp_uint(o, cf->tls_hsts);
		RESP_LIT(o, "\r\n");
	}
}

/*
 * DESIGN 2: may this connection carry another request? Pool pressure is
 * asked last, and only once a connection has had its time slice, so a
 * quiet pool costs no syscall here.
 */
static bool
resp_keepalive(struct conn *c, struct request *r)
{
	const struct conf	*cf = c->conf;
	int64_t			 now;

	if (c->closing || status_closes(r->status) || r->head.method.len == 0)
		return false;
	if (r->head.minor == 0 ? !r->fr.conn_keepalive : r->fr.conn_close)
		return false;
	if (c->nreq >= cf->keepalive_requests || cf->keepalive_timeout == 0)
		return false;
	/* A handler done with the body: the rest is skipped now, if it has
	 * arrived. One that reads on (a CGI that answered first) has it
	 * skipped after the answer (request_end). */
	if (!r->body.done && !r->body.reading &&
	    conn_body_discard(c, r) == -1) {
		c->linger = true;	/* the body may still be arriving */
		return false;
	}
	if (worker_should_close(c->w))
		return false;
	now = os_now_ms();
	if (now - c->accepted_ms >= (int64_t)cf->pressure_slice &&
	    worker_pool_pressure(c->w) &&
	    now - c->accepted_ms >= worker_pressure_slice(c->w))
		return false;
	return true;
}

/*
 * Ends the head with the connection decision, the request id and the
 * empty line. Returns the head's length, or -1 if it did not fit.
 */
int
resp_finish(struct resp *o, struct conn *c, struct request *r)
{
	const struct conf_header	*h;
	int				 i;

	for (i = 0; o->configured != 0; i++, o->configured >>= 1) {
		h = &o->conf->header[i];
		if (o->configured & 1) {
			resp_str(o, h->name);
			RESP_LIT(o, ": ");
			resp_str(o, h->value);
			RESP_LIT(o, "\r\n");
		}
	}
	r->keepalive = resp_keepalive(c, r);
	if (r->keepalive) {
		RESP_LIT(o, "Connection: keep-alive\r\nKeep-Alive: timeout=");
		resp_uint(o, c->conf->keepalive_timeout);
		RESP_LIT(o, ", max=");
		resp_uint(o, c->conf->keepalive_requests - c->nreq);
		RESP_LIT(o, "\r\n");
	} else {
		c->closing = true;
		RESP_LIT(o, "Connection: close\r\n");
	}
	RESP_LIT(o, "X-Request-Id: ");
	resp_str(o, r->id);
	RESP_LIT(o, "\r\n\r\n");
	if (o->overflow) {
		conn_log(c, r, LOG_WARNING, "response head over %d bytes",
		    CONN_OUT_SIZE);
		return -1;
	}
	return (int)(o->p - o->start);
}

/* The connection failed under a write: nothing more goes on it. */
static enum serve
resp_failed(struct conn *c, struct request *r, const char *what)
{
	conn_log(c, r, LOG_DEBUG, "writing %s: %s", what, strerror(errno));
	c->closing = true;
	return SERVE_CLOSE;
}

/* Sends the finished head and, unless HEAD, the body, in one writev. */
enum serve
resp_send(struct conn *c, struct request *r, struct resp *o, const void *body,
    size_t len)
{
	struct iovec	 iov[2];
	int		 n;

	if ((n = resp_finish(o, c, r)) == -1)
		return SERVE_CLOSE;
	sb_set_state(c->w->slot, SB_WRITING);
	iov[0].iov_base = o->start;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = r->fr.method == METHOD_HEAD ? 0 : len;
	r->head_sent = true;
	r->framing = FRAME_NONE;
	if (c->io.writev(&c->io, iov, iov[1].iov_len ? 2 : 1,
	    conn_io_deadline(c)) == -1)
		return resp_failed(c, r, "a response");
	r->body_bytes += iov[1].iov_len;
	return SERVE_DONE;
}

/* A status that takes no body whatever the script or file says. */
static bool
resp_bodiless(struct request *r)
{
	return r->fr.method == METHOD_HEAD || r->status == 204 ||
	    r->status == 304;
}

/*
 * Finishes and sends a head whose body follows in pieces: delimited by
 * its Content-Length when known, else chunked (HTTP/1.1), else by closing
 * the connection (HTTP/1.0); none for HEAD, 204 and 304.
 */
enum serve
resp_stream_begin(struct resp *o, struct conn *c, struct request *r,
    bool has_length, uint64_t length)
{
	int	 n;

	r->length_left = length;
	if (r->status == 204 || r->status == 304)
		r->framing = FRAME_NONE;
	else if (has_length) {
		resp_header_uint(o, "Content-Length", length);
		r->framing = r->fr.method == METHOD_HEAD ? FRAME_NONE :
		    FRAME_LENGTH;
	} else if (r->fr.method == METHOD_HEAD)
		r->framing = FRAME_NONE;
	else if (r->head.minor >= 1) {
		resp_header(o, "Transfer-Encoding", "chunked");
		r->framing = FRAME_CHUNKED;
	} else {
		r->framing = FRAME_CLOSE;
		c->closing = true;	/* HTTP/1.0: the close ends the body */
	}
	if ((n = resp_finish(o, c, r)) == -1)
		return SERVE_CLOSE;
	sb_set_state(c->w->slot, SB_WRITING);
	r->head_sent = true;
	if (c->io.writev(&c->io, &(struct iovec){ o->start, (size_t)n }, 1,
	    conn_io_deadline(c)) == -1)
		return resp_failed(c, r, "a response head");
	return SERVE_DONE;
}

/* The next n bytes of a streamed body, framed as resp_stream_begin said. */
enum serve
resp_stream_write(struct conn *c, struct request *r, const void *p, size_t n)
{
	struct iovec	 iov[3];
	char		 size[24];
	int		 k = 0;

	if (n == 0 || r->framing == FRAME_NONE || resp_bodiless(r))
		return SERVE_DONE;
	if (r->framing == FRAME_LENGTH) {
		if (n > r->length_left) {
			n = (size_t)r->length_left;	/* more than it said */
			c->closing = true;
		}
		r->length_left -= n;
		if (n == 0)
			return SERVE_DONE;
	}
	if (r->framing == FRAME_CHUNKED) {
		iov[k].iov_base = size;
		iov[k++].iov_len = (size_t)snprintf(size, sizeof(size), "%zx\r\n",
		    n);
	}
	iov[k].iov_base = (void *)(uintptr_t)p;
	iov[k++].iov_len = n;
	if (r->framing == FRAME_CHUNKED) {
		iov[k].iov_base = (void *)(uintptr_t)"\r\n";
		iov[k++].iov_len = 2;
	}
	sb_set_state(c->w->slot, SB_WRITING);
	if (c->io.writev(&c->io, iov, k, conn_io_deadline(c)) == -1)
		return resp_failed(c, r, "a response body");
	r->body_bytes += n;
	return SERVE_DONE;
}

/* The end of a streamed body: the last chunk; a body shorter than its
 * Content-Length cannot be recovered from, so the connection closes. */
enum serve
resp_stream_end(struct conn *c, struct request *r)
{
	if (r->framing == FRAME_CHUNKED && c->io.writev(&c->io,
	    &(struct iovec){ (void *)(uintptr_t)"0\r\n\r\n", 5 }, 1,
	    conn_io_deadline(c)) == -1)
		return resp_failed(c, r, "the last chunk");
	if (r->framing == FRAME_LENGTH && r->length_left > 0)
		c->closing = true;
	return SERVE_DONE;
}

/* An nph- script's own bytes, its status line and head included. */
enum serve
resp_raw_write(struct conn *c, struct request *r, const void *p, size_t n)
{
	if (!r->head_sent) {
		r->head_sent = true;
		r->framing = FRAME_RAW;
		r->status = 200;
		c->closing = true;	/* porch cannot tell where it ends */
	}
	sb_set_state(c->w->slot, SB_WRITING);
	if (c->io.writev(&c->io, &(struct iovec){ (void *)(uintptr_t)p, n }, 1,
	    conn_io_deadline(c)) == -1)
		return resp_failed(c, r, "an nph- response");
	return SERVE_DONE;
}

/*
 * len bytes of the file fd from off, after a head resp_finish has made
 * (o), sent as the connection allows: sendfile on plain TCP, records on
 * TLS. A fresh deadline after each step: io_timeout means no progress;
 * each step is what the socket took, so under pressure (pressure_io) a
 * trickling reader still times out.
 */
enum serve
resp_sendfile(struct conn *c, struct request *r, int fd, uint64_t off,
    uint64_t len)
{
	off_t	 pos = (off_t)off;
	ssize_t	 n;

	while (len > 0) {
		n = c->io.sendfile(&c->io, fd, &pos, len > SIZE_MAX ? SIZE_MAX :
		    (size_t)len, conn_io_deadline(c));
		if (n == -1)
			return resp_failed(c, r, r->path);
		len -= (uint64_t)n;
		r->body_bytes += (uint64_t)n;
	}
	return SERVE_DONE;
}

/* An interim 100 Continue: the client may send the body now. */
int
resp_continue(struct conn *c, struct request *r)
{
	static const char	 line[] = "HTTP/1.1 100 Continue\r\n\r\n";

	(void)r;
	return c->io.writev(&c->io, &(struct iovec){ (void *)(uintptr_t)line,
	    sizeof(line) - 1 }, 1, conn_io_deadline(c));
}

/* The error_page configured for status, or NULL. */
static const struct conf_error_page *
resp_error_page(struct conn *c, int status)
{
	size_t	 i;

	for (i = 0; i < c->conf->nerror_page; i++)
		if (c->conf->error_page[i].status == status)
			return &c->conf->error_page[i];
	return NULL;
}

/*
 * A status with a short HTML body (the configured error_page, or one
 * naming the status: never anything of the request) and, optionally, one
 * extra field.
 */
enum serve
resp_simple(struct conn *c, struct request *r, int status,
    const char *extra_name, const char *extra_value)
{
	const struct conf_error_page	*ep;
	struct resp			 o;
	char				 own[256];
	const char			*body = own;
	int				 n;

	if (r->head_sent) {
		c->closing = true;	/* too late for another status */
		return SERVE_CLOSE;
	}
	if ((ep = resp_error_page(c, status)) != NULL) {
		body = ep->body;
		n = (int)ep->len;
	} else if ((n = snprintf(own, sizeof(own),
	    "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
	    "<body><h1>%d %s</h1></body></html>\n", status,
	    resp_reason(status), status, resp_reason(status))) < 0 ||
	    (size_t)n >= sizeof(own))
		n = 0;
	resp_begin(&o, c, r, status);
	if (extra_name != NULL)
		resp_header(&o, extra_name, extra_value);
	if (status == 405 && extra_name == NULL)
		resp_header(&o, "Allow", "GET, HEAD, OPTIONS");
	resp_header(&o, "Content-Type", "text/html; charset=utf-8");
	resp_header_uint(&o, "Content-Length", (uint64_t)n);
	resp_header(&o, "Cache-Control", "no-store");
	return resp_send(c, r, &o, body, (size_t)n);
}

enum serve
resp_error(struct conn *c, struct request *r, int status)
{
	return resp_simple(c, r, status, NULL, NULL);
}
