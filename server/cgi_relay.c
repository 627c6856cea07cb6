/*
 * Running a CGI for a request: the body goes from the engine's body
 * reader (conn_body.c) to the script's stdin, its output goes to the
 * engine's response writer (response.c), its stderr to the error log. One
 * poll loop serves all the pipes, so a script that writes before it has
 * read all its input never deadlocks with porch. The relay frames nothing
 * and parses no HTTP itself: it only moves bytes.
 *
 * Two clocks: cgi_timeout runs only while porch waits for the script,
 * io_timeout only while it waits for the client (like ProxyTimeout and
 * Timeout). On expiry, or when the client goes away, the whole process
 * group is killed.
 *
 * Expect: 100-continue (DESIGN 3) is decided by what the script says
 * first: a script that exits, or gives a complete non-2xx answer, without
 * reading gets that answer sent as final (no 100, Connection: close); a
 * script that keeps running after a 2xx head, or says nothing within
 * cgi_continue_wait, gets the 100 sent first, then its body, and its head
 * and output after the 100, in order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

#define CGI_KILL_GRACE_MS	2000
#define CGI_ERR_LINE		512
#define CGI_OUT_SIZE		(CGI_HEADER_MAX + CGI_PIPE_CHUNK)

enum relay_end {
	RELAY_OK,		/* the script's output was all sent */
	RELAY_CGI_TIMEOUT,
	RELAY_CLIENT_GONE,	/* read/write to the client failed */
	RELAY_BAD_HEADER,
	RELAY_BODY,		/* the request body failed: body.error */
};

/* Expect: 100-continue, from the spawn until the script has spoken. */
enum relay_expect {
	EXPECT_NONE,		/* no client waits for a 100 (any more) */
	EXPECT_DECIDING,	/* its first words decide */
	EXPECT_HOLDING,		/* a non-2xx head: final once complete */
};

struct relay {
	struct conn		*c;
	struct request		*r;
	struct cgi_proc		 p;
	bool			 nph;
	enum relay_expect	 expect;
	int64_t			 expect_until;
	/* request body on its way to the script's stdin */
	char			*in;
	size_t			 nin, inpos;
	/* the script's output, held until its head is complete */
	char			*out;
	size_t			 nout;
	struct cgi_header	 h;
	struct http_field	 fields[CGI_HEADER_FIELDS];
	int			 hlen;		/* >0: head parsed */
	bool			 head_sent;
	bool			 out_eof;
	uint64_t		 held_body;	/* bytes behind a held head */
	char			 errline[CGI_ERR_LINE];
	size_t			 nerr;
	int64_t			 cgi_deadline;
	enum relay_end		 end;
	bool			 redirect;	/* a local Location */
	bool			 final;		/* answered without the body */
};

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

static void
stdin_close(struct relay *x)
{
	x->r->body.reading = false;	/* what it did not read is skipped */
	if (x->p.in != -1) {
		os_close(x->p.in);
		x->p.in = -1;
	}
	x->nin = x->inpos = 0;
}

/* More of the body from the engine's reader, without waiting. */
static int
body_next(struct relay *x)
{
	ssize_t	 n;

	n = conn_body_read(x->c, x->r, x->in, CGI_PIPE_CHUNK, false);
	if (n > 0) {
		x->nin = (size_t)n;
		x->inpos = 0;
		/* the script waits on us: not silent by its own fault */
		x->cgi_deadline = cgi_deadline(x);
		return 0;
	}
	if (n == 0) {
		stdin_close(x);		/* EOF on the script's stdin */
		return 0;
	}
	if (errno == EAGAIN)
		return 0;
	return relay_fail(x, x->r->body.error == 499 ? RELAY_CLIENT_GONE :
	    RELAY_BODY);
}

static void
stdin_write(struct relay *x)
{
	ssize_t	 n;

	n = os_write_some(x->p.in, x->in + x->inpos, x->nin - x->inpos);
	if (n > 0) {
		x->inpos += (size_t)n;
		if (x->inpos == x->nin)
			x->nin = x->inpos = 0;
	} else if (n == -1 && errno != EAGAIN)
		stdin_close(x);	/* it stopped reading: the rest stays unread */
}

/* Script stderr goes to the error log, a line at a time; the bytes read
 * (0 when none were waiting). */
static ssize_t
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
			x->errline[x->nerr++] = (unsigned char)buf[i] >= 0x20 &&
			    buf[i] != 0x7f ? buf[i] : '?';
			continue;
		}
		if (x->nerr > 0 && (i < n || x->p.err == -1)) {
			x->errline[x->nerr] = '\0';
			conn_log(x->c, x->r, LOG_WARNING, "cgi %s: %s",
			    x->r->path, x->errline);
			x->nerr = 0;
		}
	}
	return n;
}

/* RFC 3875 6.2.2: a lone local Location is served by porch itself. */
static bool
is_local_redirect(const struct cgi_header *h)
{
	return h->location.len > 0 && h->location.p[0] == '/' &&
	    h->status == 0 && h->content_type.p == NULL;
}

static int
head_status(const struct cgi_header *h)
{
	return h->status ? h->status : h->location.len > 0 ? 302 : 200;
}

/* The script's head as the response head, then what followed it. */
static int
out_head(struct relay *x)
{
	struct conn	*c = x->c;
	struct request	*r = x->r;
	struct resp	 o;
	size_t		 i;

	resp_begin(&o, c, r, head_status(&x->h));
	if (x->h.content_type.p != NULL)
		resp_header_str(&o, (struct str){ "Content-Type", 12 },
		    x->h.content_type);
	if (x->h.location.p != NULL)
		resp_header_str(&o, (struct str){ "Location", 8 },
		    x->h.location);
	for (i = 0; i < x->h.nfields; i++)
		resp_header_str(&o, x->h.fields[i].name, x->h.fields[i].value);
	x->head_sent = true;
	if (resp_stream_begin(&o, c, r, x->h.has_length,
	    x->h.content_length) != SERVE_DONE)
		return relay_fail(x, r->head_sent ? RELAY_CLIENT_GONE :
		    RELAY_BAD_HEADER);
	if (x->nout > (size_t)x->hlen && resp_stream_write(c, r,
	    x->out + x->hlen, x->nout - (size_t)x->hlen) != SERVE_DONE)
		return relay_fail(x, RELAY_CLIENT_GONE);
	x->nout = 0;
	return 0;
}

/* While a 100 is being decided: does the held head say enough? */
static int
expect_decide(struct relay *x)
{
	if (x->hlen == 0 && !x->out_eof)
		return 0;		/* nothing said yet */
	if (x->hlen > 0 && is_local_redirect(&x->h)) {
		x->redirect = true;	/* no body is asked for */
		return 0;
	}
	if (x->hlen > 0 && head_status(&x->h) / 100 == 2 && !x->out_eof) {
		/* It answers 2xx and runs on: it means to read the body. */
		x->expect = EXPECT_NONE;
		if (conn_body_continue(x->c, x->r) == -1)
			return relay_fail(x, RELAY_CLIENT_GONE);
		return out_head(x);
	}
	if (x->hlen > 0 && !x->out_eof && !(x->h.has_length &&
	    x->held_body >= x->h.content_length) && x->nout < CGI_OUT_SIZE) {
		x->expect = EXPECT_HOLDING;	/* wait for the rest of it */
		return 0;
	}
	/* Exited, or a complete (or buffer-filling) answer it gave without
	 * reading: that is the final answer; the body is never asked for. */
	x->expect = EXPECT_NONE;
	x->final = true;
	stdin_close(x);
	if (x->hlen > 0)
		return out_head(x);
	return 0;			/* no head: relay_finish says 502 */
}

/* The script's head, once complete, parsed into x->h. */
static int
output_head(struct relay *x)
{
	int	 k, status;

	x->h.fields = x->fields;
	x->h.nfields = CGI_HEADER_FIELDS;
	k = cgi_header_parse(x->out, x->nout, &x->h, &status);
	if (k == HTTP_PARSE_INCOMPLETE)
		return x->nout >= CGI_HEADER_MAX ?
		    relay_fail(x, RELAY_BAD_HEADER) : 0;
	if (k == HTTP_PARSE_ERROR)
		return relay_fail(x, RELAY_BAD_HEADER);
	x->hlen = k;
	x->held_body = x->nout - (size_t)k;
	if (is_local_redirect(&x->h)) {
		x->redirect = true;
		return 0;
	}
	return x->expect == EXPECT_NONE ? out_head(x) : 0;
}

/* Script stdout: first its head block, then the body. */
static int
output_read(struct relay *x)
{
	ssize_t	 n;

	n = os_read_some(x->p.out, x->out + x->nout, CGI_OUT_SIZE - x->nout);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		x->out_eof = true;
		return x->expect != EXPECT_NONE ? expect_decide(x) : 0;
	}
	x->cgi_deadline = cgi_deadline(x);
	if (x->nph)
		return resp_raw_write(x->c, x->r, x->out, (size_t)n) ==
		    SERVE_DONE ? 0 : relay_fail(x, RELAY_CLIENT_GONE);
	if (x->head_sent)
		return resp_stream_write(x->c, x->r, x->out, (size_t)n) ==
		    SERVE_DONE ? 0 : relay_fail(x, RELAY_CLIENT_GONE);
	x->nout += (size_t)n;
	if (x->hlen == 0 && output_head(x) == -1)
		return -1;
	if (x->hlen > 0 && x->expect != EXPECT_NONE) {
		x->held_body = x->nout - (size_t)x->hlen;
		return expect_decide(x);
	}
	return 0;
}

/* The body may move: the client is past any 100 decision. */
static bool
body_flowing(struct relay *x)
{
	return x->expect == EXPECT_NONE && x->p.in != -1 && !x->redirect;
}

/* Which pipes to watch now; returns the number of pollfds. */
static int
relay_pollset(struct relay *x, struct os_pollfd *pf, int *which,
    bool *client_wait)
{
	int	 n = 0, fd;

	*client_wait = false;
	if (x->p.out != -1 && !x->out_eof && x->nout < CGI_OUT_SIZE) {
		pf[n] = (struct os_pollfd){ x->p.out, OS_POLL_IN, 0 };
		which[n++] = 0;
	}
	if (x->p.err != -1) {
		pf[n] = (struct os_pollfd){ x->p.err, OS_POLL_IN, 0 };
		which[n++] = 1;
	}
	if (body_flowing(x) && x->nin > 0) {
		pf[n] = (struct os_pollfd){ x->p.in, OS_POLL_OUT, 0 };
		which[n++] = 2;
	}
	if (body_flowing(x) && x->nin == 0 && !x->r->body.done) {
		(void)conn_body_watch(x->c, &fd);
		pf[n] = (struct os_pollfd){ fd, OS_POLL_IN, 0 };
		which[n++] = 3;
		/* the script waits for the body, the client is late */
		*client_wait = true;
	}
	return n;
}

/* Feeds the body while it can without waiting. */
static int
relay_feed(struct relay *x)
{
	while (body_flowing(x)) {
		if (x->nin == 0 && (x->r->body.done ||
		    !conn_body_ready(x->c, x->r)))
			break;
		if (x->nin == 0 && body_next(x) == -1)
			return -1;
		if (x->nin == 0)
			continue;	/* framing only, or the end */
		stdin_write(x);
		if (x->nin > 0)
			break;		/* the pipe is full */
	}
	if (body_flowing(x) && x->r->body.done && x->nin == 0)
		stdin_close(x);
	return 0;
}

/* One wait on the pipes and the client, and what came of it. */
static void
relay_step(struct relay *x)
{
	const struct io_watch	*watch;
	struct os_pollfd	 pf[4];
	int			 which[4], npf, n, i, fd;
	int64_t			 deadline;
	bool			 client_wait;

	npf = relay_pollset(x, pf, which, &client_wait);
	/* Waiting for the client's body alone: its clock, not the
	 * script's, and cut short when others queue for a worker. */
	deadline = client_wait ? x->r->body.deadline_ms : x->cgi_deadline;
	if (x->expect != EXPECT_NONE && x->expect_until < deadline)
		deadline = x->expect_until;
	watch = client_wait ? conn_body_watch(x->c, &fd) : NULL;
	sb_set_state(x->c->w->slot, SB_CGI);
	n = os_poll(pf, npf, &deadline, watch);
	if (client_wait)
		x->r->body.deadline_ms = deadline;
	if (n == -1) {
		conn_log(x->c, x->r, LOG_WARNING, "poll: %s", strerror(errno));
		(void)relay_fail(x, RELAY_CGI_TIMEOUT);
		return;
	}
	if (n == 0 && os_now_ms() >= deadline) {
		if (x->expect != EXPECT_NONE && deadline == x->expect_until) {
			/* Silent, or a non-2xx head with more to come: it may
			 * be reading; let the client send. */
			x->expect = EXPECT_NONE;
			if (conn_body_continue(x->c, x->r) == -1)
				(void)relay_fail(x, RELAY_CLIENT_GONE);
			else if (x->hlen > 0)
				(void)out_head(x);
			return;
		}
		if (client_wait) {
			x->r->body.error = 408;
			conn_log(x->c, x->r, LOG_INFO, "request body stalled");
			(void)relay_fail(x, RELAY_BODY);
		} else
			(void)relay_fail(x, RELAY_CGI_TIMEOUT);
		return;
	}
	for (i = 0; i < npf && x->end == RELAY_OK; i++) {
		if (pf[i].revents == 0)
			continue;
		if (which[i] == 0)
			(void)output_read(x);
		else if (which[i] == 1)
			(void)stderr_read(x);
		else if (which[i] == 2)
			stdin_write(x);
		else if (body_next(x) == 0 && x->nin > 0)
			stdin_write(x);
	}
}

/* A final answer given without the body is complete: the script has
 * nothing more to do for this request. */
static bool
relay_answered(struct relay *x)
{
	return x->final && x->r->framing == FRAME_LENGTH &&
	    x->r->length_left == 0;
}

static void
relay_loop(struct relay *x)
{
	while (x->end == RELAY_OK && !x->out_eof && !x->redirect &&
	    !relay_answered(x)) {
		if (relay_feed(x) == -1)
			return;
		relay_step(x);
	}
	/* What it said before it ended (or before its answer was done). */
	while (x->p.err != -1 && x->end == RELAY_OK && stderr_read(x) > 0)
		;
}

/* After the loop: finish the body framing or report what went wrong. */
static enum serve
relay_finish(struct relay *x)
{
	struct conn	*c = x->c;
	struct request	*r = x->r;

	if (x->end == RELAY_OK && x->redirect) {
		snprintf(r->redirect, sizeof(r->redirect), "%.*s",
		    (int)x->h.location.len, x->h.location.p);
		return SERVE_AGAIN;
	}
	if (x->end == RELAY_OK && (x->head_sent || x->nph))
		return x->nph ? SERVE_DONE : resp_stream_end(c, r);
	if (x->end == RELAY_CLIENT_GONE)
		conn_log(c, r, LOG_INFO, "client went away during cgi %s",
		    r->path);
	else if (x->end == RELAY_CGI_TIMEOUT)
		conn_log(c, r, LOG_WARNING, "cgi %s: no output for %u s, "
		    "killed", r->path, c->conf->cgi_timeout);
	else if (x->end == RELAY_BAD_HEADER || (x->end == RELAY_OK &&
	    !x->head_sent))
		conn_log(c, r, LOG_WARNING, "cgi %s: bad or missing header",
		    r->path);
	c->closing = true;
	if (r->head_sent || x->end == RELAY_CLIENT_GONE) {
		if (r->status == 0)
			r->status = 499;	/* nothing answered: log it so */
		return SERVE_CLOSE;
	}
	switch (x->end) {
	case RELAY_CGI_TIMEOUT:
		return resp_error(c, r, 504);
	case RELAY_BODY:
		return resp_error(c, r, r->body.error);
	default:
		return resp_error(c, r, 502);
	}
}

/*
 * Runs the script open as fd (named script) in dir, for r. SERVE_AGAIN
 * when it asked for a local redirect (r->redirect has the Location).
 */
enum serve
cgi_relay(struct conn *c, struct request *r, const char *script, int fd,
    int dir, char **envp, bool nph)
{
	struct worker	*w = c->w;
	struct relay	 x;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.r = r;
	x.nph = nph;
	x.in = w->cgi_body;
	x.out = w->cgi_out;
	/* Whether the client waits for a 100: it sent none of the body. An
	 * nph- script's output goes out as it comes: it cannot be held to
	 * decide, so its client gets the 100 when the body is read. */
	if (r->fr.expect_continue && !r->body.done && !nph &&
	    !conn_body_ready(c, r)) {
		x.expect = EXPECT_DECIDING;
		x.expect_until = os_now_ms() + c->conf->cgi_continue_wait;
	}
	if (cgi_spawn(w->cgi_chan, script, fd, dir, envp, !r->body.done,
	    &x.p) == -1) {
		conn_log(c, r, LOG_WARNING, "cgi %s: %s", script,
		    strerror(errno));
		return resp_error(c, r, errno == EACCES ? 403 : 500);
	}
	x.cgi_deadline = cgi_deadline(&x);
	r->body.reading = !r->body.done;
	relay_loop(&x);
	r->body.reading = false;
	/* Killed when it failed, or still runs with its stdin open (it
	 * would wait for a body that will not come). */
	if (x.end != RELAY_OK || !x.out_eof ||
	    (x.p.in != -1 && cgi_running(&x.p)))
		cgi_kill(&x.p, CGI_KILL_GRACE_MS);
	cgi_close(&x.p);
	worker_reap();
	return relay_finish(&x);
}
