/*
 * One connection: its input buffer, its deadlines, the keep-alive loop and
 * lingering close. All IO goes through struct io, so plain TCP and TLS are
 * the same here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

#define CONN_IDLE_RECHECK_MS	10	/* listener busy, idle worker exists */

/*
 * How long the next body read or response write may wait for progress:
 * io_timeout, or only pressure_io while connections wait for a worker, so
 * a client that reads or sends a byte at a time cannot hold the pool.
 */
int64_t
conn_io_deadline(struct conn *c)
{
	if (worker_pool_pressure(c->w))
		return os_now_ms() + (int64_t)c->conf->pressure_io;
	return os_now_ms() + (int64_t)c->conf->io_timeout * 1000;
}

void
conn_log(struct conn *c, struct request *r, int prio, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (prio <= LOG_WARNING)
		log_warnx("%s, client %s:%u, request %s", msg, c->peer.addr,
		    c->peer.port, r && r->id[0] ? r->id : "-");
	else if (prio == LOG_INFO)
		log_info("%s, client %s:%u, request %s", msg, c->peer.addr,
		    c->peer.port, r && r->id[0] ? r->id : "-");
	else
		log_debug("%s, client %s:%u, request %s", msg, c->peer.addr,
		    c->peer.port, r && r->id[0] ? r->id : "-");
}

/*
 * Under pressure, how long an idle connection may wait for its next
 * request: a busy connection's turn (worker_pressure_slice: the share of
 * pressure_wait that reaches every queued connection), at most
 * pressure_idle. A client that comes back within it keeps its connection
 * (it was told keep-alive, and its next request may be on its way); any
 * other is closed and retries on a new one (RFC 9112 9.3.1), behind those
 * already waiting. A long queue of clients that never send a next request
 * must not cost pressure_idle each.
 */
static int64_t
conn_idle_grace(struct conn *c)
{
	int64_t	 turn = worker_pressure_slice(c->w);

	return turn < (int64_t)c->conf->pressure_idle ? turn :
	    (int64_t)c->conf->pressure_idle;
}

/*
 * Waits for the next request on an idle keep-alive connection. Returns 1
 * when bytes (or the end of stream) arrived, 0 when the connection should
 * be closed: idle timeout, stop or reload, or pool pressure (a connection
 * waits in the accept queue and no worker is idle to take it).
 */
static int
conn_wait_idle(struct conn *c)
{
	struct worker	*w = c->w;
	int		 fds[1 + CONF_LISTEN_MAX];
	int		 i, n, nfds, ready;
	int64_t		 deadline, wait;
	bool		 pressure;

	deadline = os_now_ms() + (int64_t)c->conf->keepalive_timeout * 1000;
	fds[0] = c->io.fd;
	nfds = 1;
	for (i = 0; i < w->nlisten && nfds < 1 + CONF_LISTEN_MAX; i++)
		fds[nfds++] = w->listen_fds[i];
	sb_set_state(w->slot, SB_KEEPALIVE);
	if (c->io.pending(&c->io))
		return 1;
	for (;;) {
		/* Stopping or reloading: a request already on its way is still
		 * served (with Connection: close); a quiet connection closes. */
		if (worker_should_close(w))
			return os_wait(fds, 1, os_now_ms() + CONN_IDLE_RECHECK_MS,
			    false, NULL) == 0;
		n = os_wait(fds, nfds, deadline, true, &ready);
		if (n == 0 && ready == 1) {
			/* The listeners were quiet: no queue now. */
			worker_pool_calm(w);
			return 1;
		}
		if (n == 0)
			return 1;
		if (n > 0) {
			pressure = worker_pool_pressure(w);
			wait = pressure ? conn_idle_grace(c) :
			    CONN_IDLE_RECHECK_MS;
			n = os_wait(fds, 1, os_now_ms() + wait, true, NULL);
			if (n == 0)
				return 1;
			if (pressure && n == -1 && errno == ETIMEDOUT)
				return 0;
		}
		if (n == -1 && errno != EINTR && errno != ETIMEDOUT)
			return 0;
		if (n == -1 && errno == ETIMEDOUT && os_now_ms() >= deadline)
			return 0;
		worker_signals(w);
	}
}

/*
 * Waits for more of a request head. Slow senders must not hold a fixed
 * pool: once a connection waits to be accepted and no worker is idle, the
 * head deadline is cut to pressure_grace from now (watch_head). 0 when
 * readable, -1 when the deadline passed.
 */
static int
conn_wait_head(struct conn *c, int64_t *deadline)
{
	struct os_pollfd	 pf = { .fd = c->io.fd, .events = OS_POLL_IN };

	if (c->io.pending(&c->io))
		return 0;
	return os_poll(&pf, 1, deadline, &c->w->watch_head) == 1 ? 0 : -1;
}

/* Moves unread bytes to the front so a full head fits behind them. */
static void
conn_compact(struct buf *b)
{
	size_t	 n = (size_t)(b->last - b->pos);

	if (b->pos == b->start)
		return;
	memmove(b->start, b->pos, n);
	b->pos = b->start;
	b->last = b->start + n;
}

/*
 * Reads until a whole request head is in the buffer and parsed. Returns
 * 1 with r->head set; 0 when the connection ends quietly (closed, idle
 * timeout); -1 with r->status set to the error to answer.
 */
int
conn_read_head(struct conn *c, struct request *r)
{
	const struct conf	*cf = c->conf;
	struct buf		*b = &c->in;
	size_t			 seen = 0, avail;
	int64_t			 deadline;
	ssize_t			 n;
	unsigned		 grace;
	int			 rc, status;

	if (b->pos == b->last) {
		b->pos = b->last = b->start;
		if (c->nreq > 0 && conn_wait_idle(c) == 0)
			return 0;
	}
	/* Every head starts at the front, so FILE_INLINE_MAX bytes behind
	 * it are free for its body (conn_body_base). */
	conn_compact(b);
	sb_set_state(c->w->slot, SB_READING_HEAD);
	if (c->nreq == 0) {
		deadline = c->accepted_ms + (int64_t)cf->header_timeout * 1000;
		/* Under pressure a new connection gets a short grace: with
		 * TCP_DEFER_ACCEPT a real client's head is already here. Not
		 * after a TLS handshake: a TLS 1.2 client sends its request
		 * only once our last flight reached it, a round trip later. */
		grace = c->tls ? cf->pressure_handshake : cf->pressure_grace;
		if (c->pressure_at_accept &&
		    c->accepted_ms + grace < deadline)
			deadline = c->accepted_ms + grace;
	} else
		deadline = os_now_ms() + (int64_t)cf->header_timeout * 1000;
	for (;;) {
		avail = (size_t)(b->last - b->pos);
		if (avail > 0) {
			r->head.fields = c->w->fields;
			r->head.nfields = cf->max_header_fields;
			r->head.field_max = cf->max_field_size;
			rc = http_parse_head(b->pos, avail, seen, &r->head,
			    &status);
			if (rc > 0 && (size_t)rc <= cf->max_head_size) {
				r->head_len = (size_t)rc;
				return 1;
			}
			if (rc == HTTP_PARSE_ERROR) {
				r->status = status;
				return -1;
			}
			if (avail >= cf->max_head_size) {
				r->status = http_head_too_large(b->pos,
				    cf->max_head_size, cf->max_target_size);
				return -1;
			}
			seen = avail;
		}
		/* What has arrived, without waiting: usually the whole head. */
		n = c->io.read(&c->io, b->last, (size_t)(b->end - b->last), 0);
		if (n > 0) {
			b->last += n;
			continue;
		}
		if (n == 0) {
			c->eof = true;
			return 0;
		}
		if (errno == ETIMEDOUT && conn_wait_head(c, &deadline) == 0)
			continue;
		if (errno == ETIMEDOUT && avail > 0) {
			r->status = 408;
			return -1;
		}
		return 0;
	}
}

/*
 * Closes after telling the client everything: half-close our side, then
 * read and drop what the client still sends until it closes or the linger
 * deadline passes, so it reads our response rather than a TCP reset.
 * Under pool pressure this is cut to one non-blocking drain.
 */
void
conn_lingering_close(struct conn *c)
{
	char	 sink[4096];
	int64_t	 deadline;
	ssize_t	 n;

	sb_set_state(c->w->slot, SB_CLOSING);
	deadline = os_now_ms() + (int64_t)c->conf->linger_timeout * 1000;
	if (worker_pool_pressure(c->w))
		deadline = 0;
	c->io.shutdown(&c->io, deadline);
	if (!c->eof)
		do
			n = c->io.read(&c->io, sink, sizeof(sink), deadline);
		while (n > 0);
	c->io.close(&c->io);
}

/* True when the client may still be sending: closing now could RST. */
static bool
conn_input_pending(struct conn *c)
{
	return !c->eof && (c->in.pos != c->in.last || c->io.pending(&c->io) ||
	    os_input_waiting(c->io.fd));
}

/*
 * The connection's byte stream: plain TCP, or TLS after its handshake.
 * Under pool pressure the handshake gets pressure_handshake to finish
 * (a round trip or two of a slow network), not pressure_io.
 */
static int
conn_io_open(struct conn *c, int fd, bool tls)
{
	os_io_plain(&c->io, fd);
	c->io.watch = &c->w->watch_io;
	if (!tls)
		return 0;
	c->tls = true;
	sb_set_state(c->w->slot, SB_READING_HEAD);
	c->io.watch = &c->w->watch_handshake;
	if (tls_accept(c->w->tls, &c->io, os_now_ms() +
	    (int64_t)c->conf->tls_handshake_timeout * 1000) == 0) {
		c->io.watch = &c->w->watch_io;
		return 0;
	}
	conn_log(c, NULL, LOG_DEBUG, "tls handshake: %s", strerror(errno));
	os_close(fd);
	return -1;
}

void
conn_serve(struct worker *w, int fd, const struct os_peer *peer, bool tls)
{
	struct conn	 c;
	struct request	 r;

	memset(&c, 0, sizeof(c));
	c.w = w;
	c.conf = w->conf;
	c.peer = *peer;
	if (conn_io_open(&c, fd, tls) == -1)
		return;
	c.in.start = c.in.pos = c.in.last = w->inbuf;
	c.in.end = w->inbuf + w->insize;
	c.accepted_ms = os_now_ms();
	/* No longer idle: the pressure check must not count this worker. */
	sb_set_state(w->slot, SB_READING_HEAD);
	c.pressure_at_accept = worker_pool_pressure(w);
	while (!c.closing && request_serve(&c, &r) == SERVE_DONE)
		;
	if (c.linger || conn_input_pending(&c))
		conn_lingering_close(&c);
	else
		c.io.close(&c.io);
}
