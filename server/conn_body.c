/*
 * Request bodies: the one reader everything uses (a CGI's stdin, a skip
 * before the next request, anything later). It takes the bytes already
 * buffered behind the head first, then reads the connection into the
 * same buffer; de-chunks (RFC 9112 7.1) with the strict parser; keeps to
 * the body's limit; sends 100 Continue before the first read that needs
 * the client to send; and keeps the IO clock: io_timeout without
 * progress, cut to pressure_io when connections queue, and under pressure
 * only whole kilobytes count as progress.
 */
#include <errno.h>
#include <string.h>

#include "server.h"

/* Starts r's body, as its head frames it: nothing is read yet. */
void
conn_body_begin(struct conn *c, struct request *r, uint64_t max)
{
	struct body	*bd = &r->body;

	memset(bd, 0, sizeof(*bd));
	bd->left = r->fr.body == BODY_LENGTH ? r->fr.length : 0;
	bd->done = r->fr.body == BODY_NONE;
	bd->max = max;
	bd->deadline_ms = conn_io_deadline(c);
}

/*
 * Where body bytes are read into: right behind the head, which stays
 * intact (r->head points into it); conn_read_head puts every head at the
 * front of the buffer, so at least FILE_INLINE_MAX bytes are free here.
 */
static char *
conn_body_base(struct conn *c, struct request *r)
{
	return c->in.start + r->head_len;
}

/* True when body bytes can be taken without waiting for the client. */
bool
conn_body_ready(struct conn *c, struct request *r)
{
	return !r->body.done && (c->in.pos != c->in.last ||
	    c->io.pending(&c->io));
}

static ssize_t
conn_body_fail(struct request *r, int status)
{
	r->body.error = status;
	errno = EIO;
	return -1;
}

/*
 * Body bytes from the buffer into dst: >0 of them; 0 when only framing
 * was taken (or nothing is buffered); -1 on a malformed or too long body.
 */
static ssize_t
conn_body_take(struct conn *c, struct request *r, char *dst, size_t len)
{
	struct body	*bd = &r->body;
	struct buf	*b = &c->in;
	struct str	 data;
	size_t		 avail = (size_t)(b->last - b->pos), n;
	int		 rc, status;

	if (r->fr.body == BODY_LENGTH) {
		n = avail < len ? avail : len;
		if (n > bd->left)
			n = (size_t)bd->left;
		memcpy(dst, b->pos, n);
		b->pos += n;
		bd->left -= n;
		bd->done = bd->left == 0;
	} else {
		/* No more input than dst holds: a data view fits in it. */
		rc = http_chunk_parse(&bd->cs, b->pos, avail < len ? avail : len,
		    &data, &status);
		if (rc == HTTP_PARSE_ERROR)
			return conn_body_fail(r, status);
		if (rc < 0)
			return conn_body_fail(r, 400);	/* cannot happen */
		n = data.len;
		if (n > 0)
			memmove(dst, data.p, n);
		b->pos += rc;
		bd->done = bd->cs.done;
	}
	bd->total += n;
	if (bd->total > bd->max)
		return conn_body_fail(r, 413);
	return (ssize_t)n;
}

/* Reads more of the body from the client into the buffer. */
static ssize_t
conn_body_fill(struct conn *c, struct request *r, bool wait)
{
	struct body	*bd = &r->body;
	struct buf	*b = &c->in;
	ssize_t		 n;

	if (conn_body_continue(c, r) == -1)
		return conn_body_fail(r, 499);
	b->pos = b->last = conn_body_base(c, r);
	sb_set_state(c->w->slot, SB_READING_BODY);
	n = c->io.read(&c->io, b->last, (size_t)(b->end - b->last),
	    wait ? bd->deadline_ms : 0);
	if (n == -1 && errno == ETIMEDOUT && !wait) {
		errno = EAGAIN;
		return -1;
	}
	if (n == -1 && errno == ETIMEDOUT) {
		conn_log(c, r, LOG_INFO, "request body stalled");
		return conn_body_fail(r, 408);
	}
	if (n <= 0) {
		c->eof = n == 0;
		return conn_body_fail(r, 499);	/* gone before the end */
	}
	b->last += n;
	/* Under pressure a trickle is no progress: whole kilobytes only. */
	bd->progress += (size_t)n;
	if (bd->progress >= CONN_PROGRESS_MIN ||
	    !worker_pool_pressure(c->w)) {
		bd->deadline_ms = conn_io_deadline(c);
		bd->progress = 0;
	}
	return n;
}

/*
 * Up to len bytes of r's body into dst: >0 bytes; 0 when the body is all
 * read; -1 when it failed (r->body.error is the status to answer: 400
 * malformed, 408 stalled, 413 too long, 499 the client left), or without
 * wait, -1/EAGAIN when nothing has arrived yet.
 */
ssize_t
conn_body_read(struct conn *c, struct request *r, char *dst, size_t len,
    bool wait)
{
	ssize_t	 n;

	if (len == 0) {
		errno = EINVAL;
		return -1;
	}
	if (r->body.error != 0)
		return conn_body_fail(r, r->body.error);
	while (!r->body.done) {
		if (c->in.pos != c->in.last) {
			if ((n = conn_body_take(c, r, dst, len)) != 0)
				return n;
			continue;
		}
		if (conn_body_fill(c, r, wait) == -1)
			return -1;
	}
	return 0;
}

/*
 * DESIGN 3: 100 Continue, once, when the client waits for it and the body
 * is about to be read. Never after the final response has begun.
 */
int
conn_body_continue(struct conn *c, struct request *r)
{
	if (!r->fr.expect_continue || r->body.continue_sent || r->head_sent ||
	    r->body.done)
		return 0;
	r->body.continue_sent = true;
	return resp_continue(c, r);
}

/*
 * Skips what the handler left of the body, so the connection can carry
 * the next request: only bytes that have arrived, up to DISCARD_MAX. 0
 * when skipped; -1 when the connection must close instead (the body is
 * still on the wire, malformed, too long, or its client was never told to
 * send it).
 */
int
conn_body_discard(struct conn *c, struct request *r)
{
	char		 sink[4096];
	uint64_t	 skipped = 0;
	ssize_t		 n;

	if (r->body.done)
		return 0;
	if (r->fr.expect_continue && !r->body.continue_sent)
		return -1;	/* no 100 sent: the body may or may not come */
	while ((n = conn_body_read(c, r, sink, sizeof(sink), false)) > 0)
		if ((skipped += (uint64_t)n) > DISCARD_MAX)
			return -1;
	return n == 0 ? 0 : -1;
}

/*
 * What a handler that multiplexes (the CGI relay) polls for body bytes:
 * the connection's descriptor, and the watch that cuts its wait under
 * pressure.
 */
const struct io_watch *
conn_body_watch(struct conn *c, int *fd)
{
	*fd = c->io.fd;
	return c->io.watch;
}
