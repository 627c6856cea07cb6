/*
 * Running a CGI for a request: the body streamed to the script's stdin
 * (de-chunked, within max_body_size), its output streamed back (with its
 * Content-Length, else chunked on HTTP/1.1, else close-delimited), stderr
 * to the error log. One poll loop serves all the pipes, so a script that
 * writes before it has read all its input never deadlocks with porch.
 *
 * Two clocks: cgi_timeout runs only while porch waits for the script,
 * io_timeout only while it waits for the client (like ProxyTimeout and
 * Timeout). On expiry, or when the client goes away, the whole process
 * group is killed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../server/server.h"

#define CGI_KILL_GRACE_MS	2000
#define CGI_PIPE_CHUNK		16384
#define CGI_ERR_LINE		512

static const char	 continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

enum relay_end {
	RELAY_OK,		/* the script's output was all sent */
	RELAY_CGI_TIMEOUT,
	RELAY_CLIENT_GONE,	/* read/write to the client failed */
	RELAY_BAD_HEADER,
	RELAY_TOO_LARGE,	/* chunked body over max_body_size */
	RELAY_BAD_BODY,		/* malformed chunked body */
	RELAY_CLIENT_TIMEOUT,	/* body stalled for io_timeout */
};

struct relay {
	struct conn		*c;
	struct request		*r;
	struct cgi_proc		 p;
	bool			 nph;
	/* request body to the script */
	struct http_chunk_state	 cs;
	uint64_t		 body_left;	/* BODY_LENGTH: bytes to go */
	uint64_t		 body_total;
	bool			 body_done;
	bool			 continue_due;	/* 100 still to send */
	const char		*pend;		/* body bytes not yet piped */
	size_t			 npend;
	char			*body_base;	/* buffer behind the head */
	/* script output to the client */
	char			*out;
	size_t			 nout;
	bool			 head_done;
	bool			 chunked;
	bool			 has_length;
	uint64_t		 length_left;
	bool			 out_eof;
	char			 errline[CGI_ERR_LINE];
	size_t			 nerr;
	int64_t			 cgi_deadline;
	int64_t			 io_deadline;	/* client's body */
	size_t			 progress;	/* bytes since io_deadline moved */
	enum relay_end		 end;
	char			 redirect[CONN_PATH_MAX];
};

/* Records why the relay ends; returns -1 for the caller to pass on. */
static int
relay_fail(struct relay *x, enum relay_end why)
{
	x->end = why;
	return -1;
}

static int64_t
cgi_deadline(struct relay *x)
{
	return os_now_ms() + (int64_t)x->c->conf->cgi_timeout * 1000;
}

/* Takes the next body bytes out of the connection's input buffer. */
static int
body_from_buffer(struct relay *x)
{
	struct buf	*b = &x->c->in;
	struct str	 data;
	size_t		 avail = (size_t)(b->last - b->pos);
	int		 n, status;

	while (avail > 0 && x->npend == 0 && !x->body_done) {
		if (x->r->fr.body == BODY_LENGTH) {
			n = (int)(avail < x->body_left ? avail : x->body_left);
			if ((uint64_t)n > CGI_PIPE_CHUNK)
				n = CGI_PIPE_CHUNK;
			x->pend = b->pos;
			x->npend = (size_t)n;
			x->body_left -= (uint64_t)n;
			x->body_done = x->body_left == 0;
		} else {
			n = http_chunk_parse(&x->cs, b->pos, avail, &data,
			    &status);
			if (n == HTTP_PARSE_ERROR)
				return relay_fail(x, RELAY_BAD_BODY);
			x->pend = data.p;
			x->npend = data.len;
			x->body_done = x->cs.done;
		}
		x->body_total += x->npend;
		if (x->body_total > x->c->conf->max_body_size)
			return relay_fail(x, RELAY_TOO_LARGE);
		b->pos += n;
		avail = (size_t)(b->last - b->pos);
	}
	if (x->body_done)
		x->r->body_unread = false;
	return 0;
}

/* Reads more of the body from the client (it is readable). */
static int
body_read(struct relay *x)
{
	struct buf	*b = &x->c->in;
	ssize_t		 n;

	/* Buffered bytes first; and never move them while some are piped.
	 * The head stays where it is: r->head points into it. */
	if (x->npend > 0)
		return 0;
	if (b->pos != b->last)
		return body_from_buffer(x);
	b->pos = b->last = x->body_base;
	n = x->c->io.read(&x->c->io, b->last, (size_t)(b->end - b->last),
	    conn_io_deadline(x->c));
	if (n <= 0)
		return relay_fail(x, RELAY_CLIENT_GONE);
	b->last += n;
	/* The script is waiting on us, not silent by its own fault. Under
	 * pressure a trickle is no progress: only whole kilobytes count. */
	x->cgi_deadline = cgi_deadline(x);
	x->progress += (size_t)n;
	if (x->progress >= CONN_PROGRESS_MIN || !worker_pool_pressure(x->c->w)) {
		x->io_deadline = conn_io_deadline(x->c);
		x->progress = 0;
	}
	return body_from_buffer(x);
}

static void
body_write(struct relay *x)
{
	ssize_t	 n = 0;

	if (x->npend > 0)
		n = os_write_some(x->p.in, x->pend, x->npend);
	if (n > 0) {
		x->pend += n;
		x->npend -= (size_t)n;
	} else if (n == -1 && errno != EAGAIN) {
		/* The script stopped reading (it may have exited): the rest
		 * of the body stays unread, and the connection will close. */
		os_close(x->p.in);
		x->p.in = -1;
		x->npend = 0;
	}
	if (x->body_done && x->npend == 0 && x->p.in != -1) {
		os_close(x->p.in);	/* EOF on the script's stdin */
		x->p.in = -1;
	}
}

/* Pipes buffered body bytes until the pipe is full or the buffer empty. */
static int
body_pump(struct relay *x)
{
	while (x->p.in != -1 && !x->continue_due) {
		if (x->npend == 0 && !x->body_done && body_from_buffer(x) == -1)
			return -1;
		body_write(x);	/* also closes stdin at the body's end */
		if (x->npend > 0 || x->body_done || x->p.in == -1 ||
		    x->c->in.pos == x->c->in.last)
			break;
	}
	return 0;
}

/* Script stderr goes to the error log, a line at a time. */
static void
stderr_read(struct relay *x)
{
	char	 buf[1024];
	ssize_t	 n, i;

	n = os_read_some(x->p.err, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN) {
			os_close(x->p.err);
			x->p.err = -1;
		}
		n = 0;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && buf[i] != '\n' && x->nerr < sizeof(x->errline) - 1) {
			x->errline[x->nerr++] = buf[i] >= 0x20 ? buf[i] : '?';
			continue;
		}
		if (x->nerr > 0 && (i < n || x->p.err == -1)) {
			x->errline[x->nerr] = '\0';
			conn_log(x->c, x->r, LOG_WARNING, "cgi %s: %s",
			    x->r->path, x->errline);
			x->nerr = 0;
		}
	}
}

static void
resp_str_header(struct resp *o, struct str name, struct str value)
{
	resp_raw(o, name.p, name.len);
	resp_raw(o, ": ", 2);
	resp_raw(o, value.p, value.len);
	resp_raw(o, "\r\n", 2);
}

/* Sends bytes of the response body, chunk-framed when chunked. */
static int
out_send(struct relay *x, const char *p, size_t n)
{
	struct iovec	 iov[3];
	char		 size[24];
	int		 k = 0;

	if (n == 0 || x->r->fr.method == METHOD_HEAD || x->r->status == 304 ||
	    x->r->status == 204)
		return 0;
	if (x->has_length) {
		if (n > x->length_left) {
			n = (size_t)x->length_left;	/* the script lied */
			x->c->closing = true;
		}
		x->length_left -= n;
	}
	if (x->chunked) {
		iov[k].iov_base = size;
		iov[k++].iov_len = (size_t)snprintf(size, sizeof(size),
		    "%zx\r\n", n);
	}
	iov[k].iov_base = (void *)(uintptr_t)p;
	iov[k++].iov_len = n;
	if (x->chunked) {
		iov[k].iov_base = (void *)(uintptr_t)"\r\n";
		iov[k++].iov_len = 2;
	}
	sb_set_state(x->c->w->slot, SB_WRITING);
	if (x->c->io.writev(&x->c->io, iov, k, conn_io_deadline(x->c)) == -1)
		return relay_fail(x, RELAY_CLIENT_GONE);
	x->r->body_bytes += n;
	return 0;
}

/* RFC 3875 6.2.2: a lone local Location is served by porch itself. */
static bool
is_local_redirect(const struct cgi_header *h)
{
	return h->location.len > 0 && h->location.p[0] == '/' &&
	    h->status == 0 && h->content_type.p == NULL;
}

/*
 * The script's header block is complete: answer the client with its
 * status and fields, framed by its Content-Length or chunked (HTTP/1.1)
 * or by closing (HTTP/1.0).
 */
static int
out_head(struct relay *x, const struct cgi_header *h)
{
	struct conn	*c = x->c;
	struct request	*r = x->r;
	struct resp	 o;
	size_t		 i;
	int		 status, n;

	status = h->status ? h->status : h->location.len > 0 ? 302 : 200;
	/* Body still on its way: this connection cannot be reused. */
	if (!x->body_done) {
		r->body_unread = true;
		c->closing = true;
	}
	resp_begin(&o, c, r, status);
	if (h->content_type.p != NULL)
		resp_str_header(&o, (struct str){ "Content-Type", 12 },
		    h->content_type);
	if (h->location.p != NULL)
		resp_str_header(&o, (struct str){ "Location", 8 },
		    h->location);
	for (i = 0; i < h->nfields; i++)
		resp_str_header(&o, h->fields[i].name, h->fields[i].value);
	x->has_length = h->has_length && r->fr.method != METHOD_HEAD;
	x->length_left = h->content_length;
	if (status == 304 || status == 204)
		x->has_length = false;
	else if (h->has_length)
		resp_header_uint(&o, "Content-Length", h->content_length);
	else if (r->head.minor >= 1 && r->fr.method != METHOD_HEAD) {
		x->chunked = true;
		resp_header(&o, "Transfer-Encoding", "chunked");
	} else if (r->fr.method != METHOD_HEAD)
		c->closing = true;	/* HTTP/1.0: the close ends the body */
	if ((n = resp_finish(&o, c, r)) == -1)
		return relay_fail(x, RELAY_BAD_HEADER);
	r->head_sent = true;
	x->head_done = true;
	if (c->io.writev(&c->io, &(struct iovec){ o.start, (size_t)n }, 1,
	    conn_io_deadline(c)) == -1)
		return relay_fail(x, RELAY_CLIENT_GONE);
	return 0;
}

/* Script stdout: first its header block, then the body. */
static int
output_read(struct relay *x)
{
	struct http_field	 fields[CGI_HEADER_FIELDS];
	struct cgi_header	 h;
	size_t			 room = CGI_HEADER_MAX + CGI_PIPE_CHUNK;
	ssize_t			 n;
	int			 k, status;

	n = os_read_some(x->p.out, x->out + x->nout, room - x->nout);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		x->out_eof = true;
		return 0;
	}
	x->cgi_deadline = cgi_deadline(x);
	x->nout += (size_t)n;
	if (x->nph) {
		if (!x->head_done) {
			x->head_done = x->r->head_sent = true;
			x->c->closing = true;
			x->r->status = 200;
		}
		n = (ssize_t)x->nout;
		x->nout = 0;
		if (x->c->io.writev(&x->c->io, &(struct iovec){ x->out,
		    (size_t)n }, 1, conn_io_deadline(x->c)) == -1)
			return relay_fail(x, RELAY_CLIENT_GONE);
		return 0;
	}
	if (x->head_done) {
		n = (ssize_t)x->nout;
		x->nout = 0;
		return out_send(x, x->out, (size_t)n);
	}
	h.fields = fields;
	h.nfields = CGI_HEADER_FIELDS;
	k = cgi_header_parse(x->out, x->nout, &h, &status);
	if (k == HTTP_PARSE_INCOMPLETE) {
		if (x->nout >= CGI_HEADER_MAX)
			return relay_fail(x, RELAY_BAD_HEADER);
		return 0;
	}
	if (k == HTTP_PARSE_ERROR)
		return relay_fail(x, RELAY_BAD_HEADER);
	if (is_local_redirect(&h)) {
		snprintf(x->redirect, sizeof(x->redirect), "%.*s",
		    (int)h.location.len, h.location.p);
		x->out_eof = true;
		return 0;
	}
	if (out_head(x, &h) == -1)
		return -1;
	n = (ssize_t)(x->nout - (size_t)k);
	memmove(x->out, x->out + k, (size_t)n);
	x->nout = 0;
	return out_send(x, x->out, (size_t)n);
}

/* Which pipes to watch now; returns the number of pollfds. */
static int
relay_pollset(struct relay *x, struct os_pollfd *pf, int *which)
{
	int	 n = 0;

	if (x->p.out != -1 && !x->out_eof) {
		pf[n] = (struct os_pollfd){ x->p.out, OS_POLL_IN, 0 };
		which[n++] = 0;
	}
	if (x->p.err != -1) {
		pf[n] = (struct os_pollfd){ x->p.err, OS_POLL_IN, 0 };
		which[n++] = 1;
	}
	if (x->p.in != -1 && x->npend > 0 && !x->continue_due) {
		pf[n] = (struct os_pollfd){ x->p.in, OS_POLL_OUT, 0 };
		which[n++] = 2;
	}
	if (x->p.in != -1 && x->npend == 0 && !x->body_done &&
	    !x->continue_due && x->c->in.pos == x->c->in.last) {
		pf[n] = (struct os_pollfd){ x->c->io.fd, OS_POLL_IN, 0 };
		which[n++] = 3;
	}
	return n;
}

/*
 * DESIGN 3: 100 Continue goes out only when the body is about to be
 * forwarded. A script that answers at once (a 401, say) without reading
 * gets its answer sent instead, and the body is never read.
 */
static int
relay_continue(struct relay *x)
{
	struct os_pollfd	 pf = { x->p.out, OS_POLL_IN, 0 };
	int64_t			 wait_end;
	int			 n;

	wait_end = os_now_ms() + x->c->conf->cgi_continue_wait;
	n = os_poll(&pf, 1, &wait_end, NULL);
	x->continue_due = false;
	if (n > 0)
		return 0;	/* output first: the body is not asked for */
	sb_set_state(x->c->w->slot, SB_READING_BODY);
	if (x->c->io.writev(&x->c->io, &(struct iovec){
	    (void *)(uintptr_t)continue_line, sizeof(continue_line) - 1 }, 1,
	    conn_io_deadline(x->c)) == -1)
		return relay_fail(x, RELAY_CLIENT_GONE);
	return 0;
}

static void
relay_loop(struct relay *x)
{
	struct os_pollfd	 pf[4];
	int			 which[4], npf, n, i;
	int64_t			 deadline;

	bool			 client_wait;

	while (x->end == RELAY_OK && !x->out_eof) {
		if (x->continue_due && relay_continue(x) == -1)
			return;
		if (body_pump(x) == -1)
			return;
		/* Bytes a TLS layer holds already would never wake a poll. */
		if (x->p.in != -1 && x->npend == 0 && !x->body_done &&
		    !x->continue_due && x->c->in.pos == x->c->in.last &&
		    x->c->io.pending(&x->c->io)) {
			sb_set_state(x->c->w->slot, SB_READING_BODY);
			(void)body_read(x);
			continue;
		}
		npf = relay_pollset(x, pf, which);
		/* Waiting for the client's body: its clock, not the script's. */
		client_wait = npf > 0 && which[npf - 1] == 3 && x->npend == 0;
		deadline = client_wait ? x->io_deadline : x->cgi_deadline;
		sb_set_state(x->c->w->slot, SB_CGI);
		n = os_poll(pf, npf, &deadline, client_wait ?
		    x->c->io.watch : NULL);
		if (client_wait)
			x->io_deadline = deadline;
		if (n == -1) {
			conn_log(x->c, x->r, LOG_WARNING, "poll: %s",
			    strerror(errno));
			x->end = RELAY_CGI_TIMEOUT;
			return;
		}
		if (n == 0 && os_now_ms() >= deadline) {
			x->end = client_wait ? RELAY_CLIENT_TIMEOUT :
			    RELAY_CGI_TIMEOUT;
			return;
		}
		for (i = 0; i < npf && x->end == RELAY_OK; i++) {
			if (pf[i].revents == 0)
				continue;
			switch (which[i]) {
			case 0:
				(void)output_read(x);
				break;
			case 1:
				stderr_read(x);
				break;
			case 2:
				body_write(x);
				break;
			case 3:
				sb_set_state(x->c->w->slot, SB_READING_BODY);
				(void)body_read(x);
				break;
			}
		}
	}
	while (x->p.err != -1 && x->end == RELAY_OK)
		stderr_read(x);		/* what it said before it ended */
}

/* After the loop: finish the body framing or report what went wrong. */
static int
relay_finish(struct relay *x)
{
	struct conn	*c = x->c;
	struct request	*r = x->r;

	if (x->end == RELAY_OK && x->head_done) {
		if (x->chunked && c->io.writev(&c->io, &(struct iovec){
		    (void *)(uintptr_t)"0\r\n\r\n", 5 }, 1,
		    conn_io_deadline(c)) == -1)
			c->closing = true;
		if (x->has_length && x->length_left > 0)
			c->closing = true;	/* short body: cannot recover */
		return 0;
	}
	if (x->end == RELAY_OK && x->redirect[0] != '\0')
		return 1;
	if (x->end == RELAY_CLIENT_GONE)
		conn_log(c, r, LOG_INFO, "client went away during cgi %s",
		    r->path);
	else if (x->end == RELAY_CLIENT_TIMEOUT)
		conn_log(c, r, LOG_INFO, "request body stalled for %u s",
		    c->conf->io_timeout);
	else if (x->end == RELAY_CGI_TIMEOUT)
		conn_log(c, r, LOG_WARNING, "cgi %s: no output for %u s, "
		    "killed", r->path, c->conf->cgi_timeout);
	else if (x->end == RELAY_BAD_HEADER || (x->end == RELAY_OK &&
	    !x->head_done))
		conn_log(c, r, LOG_WARNING, "cgi %s: bad or missing header",
		    r->path);
	c->closing = true;
	if (r->head_sent || x->end == RELAY_CLIENT_GONE) {
		if (r->status == 0)
			r->status = 499;	/* nothing answered: log it so */
		return -1;
	}
	switch (x->end) {
	case RELAY_CGI_TIMEOUT:
		return response_error(c, r, 504);
	case RELAY_CLIENT_TIMEOUT:
		return response_error(c, r, 408);
	case RELAY_TOO_LARGE:
		return response_error(c, r, 413);
	case RELAY_BAD_BODY:
		return response_error(c, r, 400);
	default:
		return response_error(c, r, 502);
	}
}

/*
 * Runs the script for r. Returns 0 when answered, 1 when it asked for a
 * local redirect (the new path is in r->path), -1 on a failure already
 * answered or logged.
 */
int
cgi_relay(struct conn *c, struct request *r, const char *script, int fd,
    int dir, char **envp, bool nph)
{
	static char	 outbuf[CGI_HEADER_MAX + CGI_PIPE_CHUNK];
	struct relay	 x;
	int		 rc, status;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.r = r;
	x.nph = nph;
	x.out = outbuf;
	x.body_left = r->fr.body == BODY_LENGTH ? r->fr.length : 0;
	x.body_base = c->in.pos;
	x.body_done = r->fr.body == BODY_NONE;
	x.continue_due = r->fr.expect_continue && !x.body_done &&
	    c->in.pos == c->in.last;
	if (cgi_spawn(script, fd, dir, envp, !x.body_done, &x.p) == -1) {
		conn_log(c, r, LOG_WARNING, "cgi %s: %s", script,
		    strerror(errno));
		return response_error(c, r, errno == EACCES ? 403 : 500);
	}
	if (x.body_done && x.p.in != -1) {
		os_close(x.p.in);
		x.p.in = -1;
	}
	x.cgi_deadline = cgi_deadline(&x);
	x.io_deadline = conn_io_deadline(c);
	relay_loop(&x);
	if (x.end != RELAY_OK || !x.out_eof)
		cgi_kill(&x.p, CGI_KILL_GRACE_MS);
	else if (os_waitpid(x.p.pid, &status, false) == 0 && x.p.in != -1)
		cgi_kill(&x.p, CGI_KILL_GRACE_MS);
	cgi_close(&x.p);
	worker_reap();
	rc = relay_finish(&x);
	if (rc == 1)
		snprintf(r->path, sizeof(r->path), "%s", x.redirect);
	return rc;
}
