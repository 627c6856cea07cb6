/*
 * Response heads and the connection decision they carry. A head is built
 * in the worker's fixed buffer and leaves with its body in one writev.
 */
#include <stdio.h>
#include <string.h>

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
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" },
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
response_reason(int status)
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
	case 431:
	case 500:
	case 501:
	case 505:
		return true;
	}
	return false;
}

void
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
	char	 tmp[24];
	size_t	 i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	resp_raw(o, tmp + i, sizeof(tmp) - i);
}

void
resp_header(struct resp *o, const char *name, const char *value)
{
	resp_str(o, name);
	RESP_LIT(o, ": ");
	resp_str(o, value);
	RESP_LIT(o, "\r\n");
}

void
resp_header_uint(struct resp *o, const char *name, uint64_t v)
{
	resp_str(o, name);
	RESP_LIT(o, ": ");
	resp_uint(o, v);
	RESP_LIT(o, "\r\n");
}

void
resp_begin(struct resp *o, struct conn *c, struct request *r, int status)
{
	o->start = o->p = c->w->out;
	o->end = c->w->out + CONN_OUT_SIZE;
	o->overflow = false;
	r->status = status;
	RESP_LIT(o, "HTTP/1.1 ");
	resp_uint(o, (uint64_t)status);
	RESP_LIT(o, " ");
	resp_str(o, response_reason(status));
	RESP_LIT(o, "\r\nServer: " PORCH_SERVER_NAME "\r\nDate: ");
	resp_str(o, worker_date(c->w));
	RESP_LIT(o, "\r\n");
	/* RFC 6797 7.2: only over TLS; opt-in (tls_hsts). */
	if (c->tls && c->conf->tls_hsts > 0) {
		RESP_LIT(o, "Strict-Transport-Security: max-age=");
		resp_uint(o, c->conf->tls_hsts);
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
	if (r->body_unread && conn_discard_body(c, r) == -1) {
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

/* Sends the finished head and, unless HEAD, the body, in one writev. */
int
resp_send(struct conn *c, struct request *r, struct resp *o, const void *body,
    size_t len)
{
	struct iovec	 iov[2];
	int		 n;

	if ((n = resp_finish(o, c, r)) == -1)
		return -1;
	sb_set_state(c->w->slot, SB_WRITING);
	iov[0].iov_base = o->start;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = r->fr.method == METHOD_HEAD ? 0 : len;
	r->head_sent = true;
	if (c->io.writev(&c->io, iov, iov[1].iov_len ? 2 : 1,
	    conn_io_deadline(c)) == -1) {
		c->closing = true;
		return -1;
	}
	r->body_bytes += iov[1].iov_len;
	return 0;
}

/* A status with a short HTML body and, optionally, one extra field. */
int
response_simple(struct conn *c, struct request *r, int status,
    const char *extra_name, const char *extra_value)
{
	struct resp	 o;
	char		 body[256];
	int		 n;

	if (r->head_sent)
		return -1;	/* too late for another status: just close */
	n = snprintf(body, sizeof(body),
	    "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
	    "<body><h1>%d %s</h1></body></html>\n", status,
	    response_reason(status), status, response_reason(status));
	if (n < 0 || (size_t)n >= sizeof(body))
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

int
response_error(struct conn *c, struct request *r, int status)
{
	return response_simple(c, r, status, NULL, NULL);
}
