/*
 * lanclient: the client side of porch's LAN benchmark (bench/lan.py).
 * One event loop, non-blocking sockets, OpenSSL for HTTPS. Every mode
 * prints its result as one JSON line per load (page) or one at the end.
 *
 *   lanclient page  -p PORT [-H HOST] [-T 1.2|1.3] [-c 6] [-n PAIRS]
 *                   [-g GAP_MS] [-u /]
 *	Browser-like page loads: GET the HTML, then its stylesheets,
 *	scripts, images and icon in a browser's priority order over at most
 *	-c keep-alive connections per host, opened as requests wait for
 *	them; when every stylesheet and script is in, the scripts' fetch()
 *	URLs (the JSON API). Each pair is a cold load (no connection, no TLS
 *	session) and, GAP_MS later, a warm reload over what is left (open
 *	connections, TLS tickets), cache disabled: every byte is fetched
 *	again. Time is to the last byte of the last response.
 *   lanclient load  -p PORT [-c 50] [-u PATH] [-k THINK_MS] [-d SECONDS]
 *	-c keep-alive connections, each asking for PATH again THINK_MS after
 *	its previous answer; reconnects when the server closes. Runs until
 *	-d or SIGTERM.
 *   lanclient hs    -p PORT -T 1.2|1.3 [-c 8] [-d SECONDS] [-r] [-u PATH]
 *	TLS handshakes: -c connections at a time, each handshake + one GET
 *	(Connection: close); with -r each offers its slot's last session.
 *   lanclient hold  -p PORT [-T V] [-c 2] [-d SECONDS] [-u PATH]
 *	-c connections, one GET each, then held idle; prints "ready".
 *   lanclient ping  -p PORT [-n COUNT]        round trips of one byte
 *   lanclient bulk  -p PORT [-d SECONDS]      download rate
 *   lanclient serve -l ADDR:PORT              echo / bulk source for the two above
 *   lanclient sys   [-n COUNT]                cross-core wakeup and fork costs
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define LC_HEAD_MAX	16384
#define LC_MAX_CONNS	512
#define LC_MAX_RES	64
#define LC_SESSIONS	16

/* ------------------------------------------------------------ basics */

static const char	*host = "127.0.0.1";
static int		 trace;		/* LANCLIENT_TRACE=1: events to stderr */
static int		 port;
static int		 tls_version;	/* 0: plain, 12, 13 */
static SSL_CTX		*ssl_ctx;
static int		 epfd;

static void
die(const char *what)
{
	fprintf(stderr, "lanclient: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* samples, for percentiles */
struct samples {
	double		*v;
	size_t		 n, cap;
};

static void
samples_add(struct samples *s, double x)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof(double));
		if (!s->v)
			die("realloc");
	}
	s->v[s->n++] = x;
}

static int
cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
samples_pct(struct samples *s, double q)
{
	size_t	 i;

	if (s->n == 0)
		return -1;
	qsort(s->v, s->n, sizeof(double), cmp_double);
	i = (size_t)(q * (double)s->n);
	if (i >= s->n)
		i = s->n - 1;
	return s->v[i];
}

/* ------------------------------------------------------------ HTTP response parsing */

enum resp_state { R_HEAD, R_BODY_LEN, R_BODY_EOF, R_CHUNK_SIZE, R_CHUNK_DATA,
	R_CHUNK_CRLF, R_TRAILER, R_DONE };

struct resp {
	enum resp_state	 state;
	char		 head[LC_HEAD_MAX];
	size_t		 hlen;
	int		 status;
	int		 close;		/* Connection: close, or HTTP/1.0 */
	int64_t		 remaining;
	char		 line[64];	/* chunk size / trailer line */
	size_t		 llen;
	int		 keep;		/* keep the body */
	char		*body;
	size_t		 blen, bcap;
	uint64_t	 bytes;		/* head + body bytes received */
};

static void
resp_reset(struct resp *r, int keep)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->keep = keep;
}

static void
resp_body(struct resp *r, const char *p, size_t n)
{
	if (!r->keep)
		return;
	if (r->blen + n > r->bcap) {
		r->bcap = (r->blen + n) * 2;
		r->body = realloc(r->body, r->bcap + 1);
		if (!r->body)
			die("realloc");
	}
	memcpy(r->body + r->blen, p, n);
	r->blen += n;
	r->body[r->blen] = '\0';
}

/* Case-insensitive search for a header field's value in the head. */
static const char *
head_field(const char *h, const char *name, size_t *len)
{
	size_t		 nl = strlen(name);
	const char	*p = strstr(h, "\r\n");

	while (p && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e;

			while (*v == ' ' || *v == '\t')
				v++;
			e = strstr(v, "\r\n");
			*len = e ? (size_t)(e - v) : strlen(v);
			return v;
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

static int
resp_head_done(struct resp *r)
{
	const char	*v;
	size_t		 len;
	int		 minor;

	r->head[r->hlen] = '\0';
	if (sscanf(r->head, "HTTP/1.%d %d", &minor, &r->status) != 2)
		return -1;
	r->close = minor == 0;
	if ((v = head_field(r->head, "Connection", &len))) {
		if (len >= 5 && strncasecmp(v, "close", 5) == 0)
			r->close = 1;
		if (len >= 10 && strncasecmp(v, "keep-alive", 10) == 0)
			r->close = 0;
	}
	if (r->status == 204 || r->status == 304 || r->status / 100 == 1) {
		r->state = R_DONE;
		return 0;
	}
	if ((v = head_field(r->head, "Transfer-Encoding", &len)) &&
	    len >= 7 && strncasecmp(v + len - 7, "chunked", 7) == 0) {
		r->state = R_CHUNK_SIZE;
		return 0;
	}
	if ((v = head_field(r->head, "Content-Length", &len))) {
		r->remaining = strtoll(v, NULL, 10);
		r->state = r->remaining ? R_BODY_LEN : R_DONE;
		return 0;
	}
	r->state = R_BODY_EOF;
	r->close = 1;
	return 0;
}

/* Feed n bytes; returns 0, or -1 on a malformed answer. */
static int
resp_feed(struct resp *r, const char *p, size_t n)
{
	size_t	 take;

	r->bytes += n;
	while (n > 0 && r->state != R_DONE) {
		switch (r->state) {
		case R_HEAD:
			if (r->hlen == LC_HEAD_MAX - 1)
				return -1;
			r->head[r->hlen++] = *p++;
			n--;
			if (r->hlen >= 4 &&
			    memcmp(r->head + r->hlen - 4, "\r\n\r\n", 4) == 0 &&
			    resp_head_done(r) < 0)
				return -1;
			break;
		case R_BODY_LEN:
		case R_CHUNK_DATA:
			take = n < (size_t)r->remaining ? n : (size_t)r->remaining;
			resp_body(r, p, take);
			p += take;
			n -= take;
			r->remaining -= (int64_t)take;
			if (r->remaining == 0)
				r->state = r->state == R_BODY_LEN ? R_DONE :
				    R_CHUNK_CRLF;
			break;
		case R_BODY_EOF:
			resp_body(r, p, n);
			n = 0;
			break;
		case R_CHUNK_CRLF:
		case R_CHUNK_SIZE:
		case R_TRAILER:
			if (r->llen == sizeof(r->line) - 1)
				return -1;
			r->line[r->llen++] = *p++;
			n--;
			if (r->line[r->llen - 1] != '\n')
				break;
			r->line[r->llen] = '\0';
			if (r->state == R_CHUNK_CRLF) {
				r->state = R_CHUNK_SIZE;
			} else if (r->state == R_CHUNK_SIZE) {
				r->remaining = strtoll(r->line, NULL, 16);
				r->state = r->remaining ? R_CHUNK_DATA :
				    R_TRAILER;
			} else if (r->llen <= 2) {
				r->state = R_DONE;
			}
			r->llen = 0;
			break;
		case R_DONE:
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ connections */

enum conn_state { C_CONNECTING, C_HANDSHAKE, C_READY, C_DEAD };

struct conn {
	int		 fd;
	SSL		*ssl;
	enum conn_state	 state;
	enum conn_state	 failed_in;	/* the state it failed in */
	int		 slot;		/* owner's index */
	int		 busy;		/* a request is on it */
	int		 reused;	/* a resumed TLS session */
	int		 requests;	/* answered on this connection */
	char		 tx[2048];
	size_t		 txlen, txoff;
	struct resp	 r;
	int		 res;		/* page: resource being fetched */
	int64_t		 t_req_ns;	/* when the request was queued */
	int64_t		 wake_ns;	/* load: next request due */
	uint32_t	 events;
	struct conn_owner *owner;
};

/* What a mode does when a connection changes. */
struct conn_owner {
	void	(*ready)(struct conn *);	/* connected (+ handshake) */
	void	(*done)(struct conn *);		/* response complete */
	void	(*failed)(struct conn *, int retryable);
	void	(*session)(struct conn *, SSL_SESSION *); /* got a ticket */
};

static struct conn	*conns[LC_MAX_CONNS];
static int		 nconns;

static void
conn_want(struct conn *c, uint32_t ev)
{
	struct epoll_event e;

	if (c->events == ev)
		return;
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(epfd, c->events == 0xffffffffu ? EPOLL_CTL_ADD :
	    EPOLL_CTL_MOD, c->fd, &e) < 0)
		die("epoll_ctl");
	c->events = ev;
}

static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct conn	*c = SSL_get_app_data(ssl);

	if (c && c->owner->session) {
		c->owner->session(c, sess);
		return 1;	/* we keep the reference */
	}
	return 0;
}

static void
tls_init(void)
{
	int	 v = tls_version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
	static const unsigned char alpn[] = "\x08http/1.1";

	ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!ssl_ctx)
		die("SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ssl_ctx, v);
	SSL_CTX_set_max_proto_version(ssl_ctx, v);
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
	/* what a browser offers, in its order */
	SSL_CTX_set1_groups_list(ssl_ctx, "X25519:P-256:P-384");
	SSL_CTX_set_alpn_protos(ssl_ctx, alpn, sizeof(alpn) - 1);
	SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ssl_ctx, new_session_cb);
}

static struct conn *
conn_open(struct conn_owner *o, int slot, SSL_SESSION *sess)
{
	struct sockaddr_in sa;
	struct conn	*c;
	int		 one = 1;

	if (nconns == LC_MAX_CONNS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		die("calloc");
	c->owner = o;
	c->slot = slot;
	c->res = -1;
	c->events = 0xffffffffu;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	/* browsers and curl set TCP_NODELAY */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS)
		die("connect");
	c->state = C_CONNECTING;
	if (tls_version) {
		c->ssl = SSL_new(ssl_ctx);
		SSL_set_app_data(c->ssl, c);
		SSL_set_fd(c->ssl, c->fd);
		if (sess)
			SSL_set_session(c->ssl, sess);
	}
	conn_want(c, EPOLLOUT);
	conns[nconns++] = c;
	return c;
}

static void
conn_close(struct conn *c)
{
	int	 i;

	/* without this, SSL_free takes the connection for a broken one and
	 * marks its session not resumable (ssl_clear_bad_session); browsers
	 * close without close_notify and still resume */
	if (c->ssl) {
		SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(c->ssl);
	}
	close(c->fd);
	resp_reset(&c->r, 0);
	for (i = 0; i < nconns; i++)
		if (conns[i] == c) {
			conns[i] = conns[--nconns];
			break;
		}
	free(c);
}

/* >0 bytes, 0 EOF, -1 error, -2 would block */
static ssize_t
conn_read(struct conn *c, char *buf, size_t len)
{
	ssize_t	 n;
	int	 e;

	if (!c->ssl) {
		n = read(c->fd, buf, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return -2;
		return n;
	}
	ERR_clear_error();
	n = SSL_read(c->ssl, buf, (int)len);
	if (n > 0)
		return n;
	e = SSL_get_error(c->ssl, (int)n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -2;
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e == SSL_ERROR_SYSCALL && n == 0)
		return 0;
	return -1;
}

static ssize_t
conn_write(struct conn *c, const char *buf, size_t len)
{
	ssize_t	 n;
	int	 e;

	if (!c->ssl) {
		n = write(c->fd, buf, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return -2;
		return n;
	}
	ERR_clear_error();
	n = SSL_write(c->ssl, buf, (int)len);
	if (n > 0)
		return n;
	e = SSL_get_error(c->ssl, (int)n);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -2;
	return -1;
}

static void
conn_send(struct conn *c, const char *path, const char *accept, int close_it)
{
	c->txlen = (size_t)snprintf(c->tx, sizeof(c->tx),
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s:%d\r\n"
	    "Connection: %s\r\n"
	    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
	    "Accept: %s\r\n"
	    "Accept-Encoding: gzip, deflate, br\r\n"
	    "Accept-Language: en-US,en;q=0.9\r\n"
	    "\r\n", path, host, port, close_it ? "close" : "keep-alive",
	    accept);
	c->txoff = 0;
	c->busy = 1;
	c->t_req_ns = now_ns();
}

static void conn_step(struct conn *);

static void
conn_fail(struct conn *c, int retryable)
{
	c->failed_in = c->state;
	c->state = C_DEAD;
	c->owner->failed(c, retryable);
}

/* Drive c as far as it goes without blocking. */
static void
conn_step(struct conn *c)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 err = 0, rc;
	socklen_t len = sizeof(err);

	if (c->state == C_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			conn_fail(c, 0);
			return;
		}
		c->state = c->ssl ? C_HANDSHAKE : C_READY;
		if (!c->ssl) {
			conn_want(c, EPOLLIN);
			c->owner->ready(c);
			if (c->state != C_READY)
				return;
		}
	}
	if (c->state == C_HANDSHAKE) {
		ERR_clear_error();
		rc = SSL_connect(c->ssl);
		if (rc <= 0) {
			int e = SSL_get_error(c->ssl, rc);

			if (e == SSL_ERROR_WANT_READ)
				conn_want(c, EPOLLIN);
			else if (e == SSL_ERROR_WANT_WRITE)
				conn_want(c, EPOLLOUT);
			else
				conn_fail(c, 0);
			return;
		}
		c->reused = SSL_session_reused(c->ssl);
		c->state = C_READY;
		conn_want(c, EPOLLIN);
		c->owner->ready(c);
		if (c->state != C_READY)
			return;
	}
	if (c->state != C_READY)
		return;
	/* the request */
	while (c->busy && c->txoff < c->txlen) {
		n = conn_write(c, c->tx + c->txoff, c->txlen - c->txoff);
		if (n == -2) {
			conn_want(c, EPOLLIN | EPOLLOUT);
			return;
		}
		if (n < 0) {
			conn_fail(c, c->requests > 0 && c->r.bytes == 0);
			return;
		}
		c->txoff += (size_t)n;
	}
	conn_want(c, EPOLLIN);
	/* the answer; an idle connection reads too, to see the server close
	 * it (and to take TLS 1.3 tickets) */
	for (;;) {
		n = conn_read(c, buf, sizeof(buf));
		if (n == -2)
			return;
		if (n <= 0) {
			if (c->busy && c->r.state == R_BODY_EOF) {
				c->r.state = R_DONE;
				c->busy = 0;
				c->requests++;
				c->owner->done(c);
				return;
			}
			/* an idle connection the server closed is no error;
			 * a kept-alive one it closed before answering gets
			 * the request again, as a browser does */
			conn_fail(c, !c->busy ||
			    (c->requests > 0 && c->r.bytes == 0));
			return;
		}
		if (!c->busy) {
			conn_fail(c, 0);	/* bytes nobody asked for */
			return;
		}
		if (resp_feed(&c->r, buf, (size_t)n) < 0) {
			conn_fail(c, 0);
			return;
		}
		if (c->r.state == R_DONE) {
			c->busy = 0;
			c->requests++;
			c->owner->done(c);
			return;
		}
	}
}

/* One pass of the event loop, waiting at most until deadline_ns (0: don't
 * wait, -1: no deadline). */
static void
loop_once(int64_t deadline_ns)
{
	struct epoll_event evs[256];
	struct timespec	 ts, *tp = NULL;
	int		 i, n;
	int64_t		 t;

	if (deadline_ns >= 0) {
		t = deadline_ns ? deadline_ns - now_ns() : 0;
		if (t < 0)
			t = 0;
		ts.tv_sec = t / 1000000000;
		ts.tv_nsec = t % 1000000000;
		tp = &ts;
	}
	n = epoll_pwait2(epfd, evs, 256, tp, NULL);
	if (n < 0 && errno != EINTR)
		die("epoll_pwait2");
	for (i = 0; i < n; i++) {
		struct conn *c = evs[i].data.ptr;
		int j, live = 0;

		/* an earlier event of this pass may have closed it */
		for (j = 0; j < nconns; j++)
			if (conns[j] == c)
				live = 1;
		if (live && c->state != C_DEAD)
			conn_step(c);
	}
}

static const char *
tls_name(SSL *ssl)
{
	static char	 out[128];
	int		 nid;
	const char	*g = "?";

	if (!ssl)
		return "plain";
	nid = SSL_get_negotiated_group(ssl);
	if (nid)
		g = SSL_group_to_name(ssl, nid);
	snprintf(out, sizeof(out), "%s %s %s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl), g ? g : "?");
	return out;
}

/* ------------------------------------------------------------ page */

enum res_kind { K_HTML, K_CSS, K_JS, K_IMG, K_ICON, K_JSON };

static const char *const accept_of[] = {
	"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	"text/css,*/*;q=0.1",
	"*/*",
	"image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
	"image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
	"application/json",
};

struct res {
	char		 path[256];
	enum res_kind	 kind;
	int		 state;		/* 0 queued, 1 on a connection, 2 done */
	int		 tries;
	int64_t		 done_ns;
	char		*body;		/* html, js: kept to find more */
};

struct browser {
	int		 max_conns;
	struct res	 res[LC_MAX_RES];
	int		 nres;
	int		 json_queued;
	int		 ndone;
	int64_t		 t0, t_last;
	int		 opened, full, resumed, retries, errors, requests;
	uint64_t	 bytes;
	SSL_SESSION	*sess[LC_SESSIONS];	/* tickets, newest last */
	int		 nsess;
	int		 active;	/* a load is running */
} br;

static int
page_conns(int *connecting)
{
	int	 i, n = 0;

	*connecting = 0;
	for (i = 0; i < nconns; i++) {
		if (conns[i]->state == C_DEAD)
			continue;
		n++;
		if (conns[i]->state != C_READY)
			(*connecting)++;
	}
	return n;
}

static void
page_add(const char *path, enum res_kind kind)
{
	int	 i;

	if (br.nres == LC_MAX_RES || strlen(path) >= sizeof(br.res[0].path))
		return;
	for (i = 0; i < br.nres; i++)
		if (strcmp(br.res[i].path, path) == 0)
			return;
	memset(&br.res[br.nres], 0, sizeof(br.res[0]));
	snprintf(br.res[br.nres].path, sizeof(br.res[0].path), "%s", path);
	br.res[br.nres].kind = kind;
	br.nres++;
}

/* The next queued resource in a browser's priority order. */
static int
page_next(void)
{
	static const enum res_kind order[] = { K_HTML, K_CSS, K_JS, K_JSON,
		K_IMG, K_ICON };
	unsigned	 k;
	int		 i;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (i = 0; i < br.nres; i++)
			if (br.res[i].state == 0 && br.res[i].kind == order[k])
				return i;
	return -1;
}

static SSL_SESSION *
page_session(void)
{
	SSL_SESSION	*s;

	if (br.nsess == 0)
		return NULL;
	/* TLS 1.3 tickets are used once (as browsers do); a TLS 1.2
	 * session is offered again */
	if (tls_version == 13)
		return br.sess[--br.nsess];
	s = br.sess[br.nsess - 1];
	SSL_SESSION_up_ref(s);
	return s;
}

static struct conn_owner page_owner;

static void
page_dispatch(void)
{
	int		 i, r, connecting, open, queued = 0;
	struct conn	*c;
	SSL_SESSION	*s;

	for (i = 0; i < nconns; i++) {
		c = conns[i];
		if (c->state != C_READY || c->busy)
			continue;
		if ((r = page_next()) < 0)
			break;
		br.res[r].state = 1;
		br.res[r].tries++;
		c->res = r;
		resp_reset(&c->r, br.res[r].kind == K_HTML ||
		    br.res[r].kind == K_JS);
		conn_send(c, br.res[r].path, accept_of[br.res[r].kind], 0);
		br.requests++;
		/* sent from the loop: no conn_step nested in another's */
		conn_want(c, EPOLLIN | EPOLLOUT);
	}
	for (i = 0; i < br.nres; i++)
		queued += br.res[i].state == 0;
	open = page_conns(&connecting);
	/* a browser opens a connection for a request that waits, up to
	 * its per-host limit */
	while (queued > connecting && open < br.max_conns) {
		s = tls_version ? page_session() : NULL;
		if (!conn_open(&page_owner, 0, s))
			break;
		if (s)
			SSL_SESSION_free(s);
		br.opened++;
		open++;
		connecting++;
	}
}

/* Subresources of the HTML in document order: stylesheets and icons
 * (link href), scripts (script src), images (img src). */
static void
page_scan_html(const char *h)
{
	const char	*p = h, *end, *a, *q;
	char		 path[256];
	enum res_kind	 kind;
	size_t		 n;

	while ((p = strchr(p, '<'))) {
		p++;
		end = strchr(p, '>');
		if (!end)
			break;
		if (strncasecmp(p, "link ", 5) == 0) {
			if (memmem(p, (size_t)(end - p), "stylesheet", 10))
				kind = K_CSS;
			else if (memmem(p, (size_t)(end - p), "icon", 4))
				kind = K_ICON;
			else
				continue;
			a = memmem(p, (size_t)(end - p), "href=\"", 6);
		} else if (strncasecmp(p, "script ", 7) == 0) {
			kind = K_JS;
			a = memmem(p, (size_t)(end - p), "src=\"", 5);
		} else if (strncasecmp(p, "img ", 4) == 0) {
			kind = K_IMG;
			a = memmem(p, (size_t)(end - p), "src=\"", 5);
		} else {
			continue;
		}
		if (!a)
			continue;
		a = strchr(a, '"') + 1;
		q = strchr(a, '"');
		if (!q || q > end || (n = (size_t)(q - a)) >= sizeof(path))
			continue;
		memcpy(path, a, n);
		path[n] = '\0';
		page_add(path, kind);
	}
}

/* fetch("...") calls of the scripts: the page's API requests. */
static void
page_scan_js(const char *js)
{
	const char	*p = js, *q;
	char		 path[256];
	size_t		 n;

	while ((p = strstr(p, "fetch(\""))) {
		p += 7;
		q = strchr(p, '"');
		if (!q || (n = (size_t)(q - p)) >= sizeof(path))
			break;
		memcpy(path, p, n);
		path[n] = '\0';
		page_add(path, K_JSON);
	}
}

static void
page_ready(struct conn *c)
{
	if (trace)
		fprintf(stderr, "  %8.3f ms  fd %3d  connected%s\n",
		    (double)(now_ns() - br.t0) / 1e6, c->fd, !c->ssl ? "" :
		    c->reused ? ", TLS resumed" : ", TLS full handshake");
	if (c->ssl) {
		if (c->reused)
			br.resumed++;
		else
			br.full++;
	}
	page_dispatch();
}

static void
page_done(struct conn *c)
{
	struct res	*r = &br.res[c->res];
	int		 i, scripts_in = 1;

	br.bytes += c->r.bytes;
	if (c->r.status != 200)
		br.errors++;
	if (trace)
		fprintf(stderr, "  %8.3f ms  fd %3d  %3d  %7llu B  %s (asked at %.3f)\n",
		    (double)(now_ns() - br.t0) / 1e6, c->fd, c->r.status,
		    (unsigned long long)c->r.bytes, r->path,
		    (double)(c->t_req_ns - br.t0) / 1e6);
	r->state = 2;
	r->done_ns = now_ns();
	br.t_last = r->done_ns;
	br.ndone++;
	if (r->kind == K_HTML && c->r.body)
		page_scan_html(c->r.body);
	if (r->kind == K_JS && c->r.body)
		r->body = strdup(c->r.body);
	c->res = -1;
	if (!br.json_queued) {
		for (i = 0; i < br.nres; i++)
			if ((br.res[i].kind == K_CSS || br.res[i].kind == K_JS ||
			    br.res[i].kind == K_HTML) && br.res[i].state != 2)
				scripts_in = 0;
		if (scripts_in) {
			br.json_queued = 1;
			for (i = 0; i < br.nres; i++)
				if (br.res[i].kind == K_JS && br.res[i].body)
					page_scan_js(br.res[i].body);
		}
	}
	if (c->r.close) {
		c->state = C_DEAD;
		conn_close(c);
	}
	page_dispatch();
}

static void
page_failed(struct conn *c, int retryable)
{
	if (trace)
		fprintf(stderr, "  %8.3f ms  fd %3d  failed%s\n",
		    (double)(now_ns() - br.t0) / 1e6, c->fd,
		    retryable ? " (retry)" : "");
	if (c->res >= 0) {
		if (retryable && br.res[c->res].tries < 3) {
			br.res[c->res].state = 0;
			br.retries++;
		} else {
			br.res[c->res].state = 2;
			br.ndone++;
			br.errors++;
		}
	}
	conn_close(c);
	if (br.active)
		page_dispatch();
}

static void
page_session_cb(struct conn *c, SSL_SESSION *s)
{
	(void)c;
	if (br.nsess == LC_SESSIONS) {
		SSL_SESSION_free(br.sess[0]);
		memmove(br.sess, br.sess + 1, (LC_SESSIONS - 1) * sizeof(br.sess[0]));
		br.nsess--;
	}
	br.sess[br.nsess++] = s;
}

static void
page_close_all(void)
{
	while (nconns > 0)
		conn_close(conns[0]);
	while (br.nsess > 0)
		SSL_SESSION_free(br.sess[--br.nsess]);
}

static void
page_load(const char *url, const char *kind, int64_t timeout_ns)
{
	int64_t	 deadline;
	int	 i, lost, kept;

	/* what happened to idle connections since the last load (a server
	 * closing them, tickets) is seen first, as a browser would have */
	loop_once(0);
	for (i = 0; i < br.nres; i++)
		free(br.res[i].body);
	br.nres = br.ndone = br.json_queued = 0;
	br.opened = br.full = br.resumed = br.retries = br.errors = 0;
	br.requests = 0;
	br.bytes = 0;
	kept = nconns;
	page_add(url, K_HTML);
	br.active = 1;
	br.t0 = now_ns();
	br.t_last = br.t0;
	deadline = br.t0 + timeout_ns;
	page_dispatch();
	while (br.ndone < br.nres && now_ns() < deadline && !stop)
		loop_once(deadline);
	br.active = 0;
	lost = br.nres - br.ndone;
	printf("{\"kind\": \"%s\", \"ms\": %.3f, \"resources\": %d, "
	    "\"requests\": %d, \"opened\": %d, \"kept_conns\": %d, "
	    "\"full\": %d, \"resumed\": %d, \"retries\": %d, \"errors\": %d, "
	    "\"bytes\": %llu, \"timeout\": %s}\n", kind,
	    (double)(br.t_last - br.t0) / 1e6, br.nres, br.requests,
	    br.opened, kept,
	    br.full, br.resumed, br.retries, br.errors + lost,
	    (unsigned long long)br.bytes, lost ? "true" : "false");
	fflush(stdout);
}

static void
sleep_ns(int64_t ns)
{
	int64_t	 until = now_ns() + ns;

	/* idle connections keep being watched while the user waits */
	while (now_ns() < until && !stop)
		loop_once(until);
}

static int
mode_page(const char *url, int max_conns, int pairs, int gap_ms)
{
	int	 i;

	page_owner.ready = page_ready;
	page_owner.done = page_done;
	page_owner.failed = page_failed;
	page_owner.session = page_session_cb;
	br.max_conns = max_conns;
	for (i = 0; i < pairs && !stop; i++) {
		page_close_all();
		page_load(url, "cold", 30LL * 1000000000);
		sleep_ns((int64_t)gap_ms * 1000000);
		page_load(url, "warm", 30LL * 1000000000);
		page_close_all();
		if (i + 1 < pairs)
			sleep_ns(50 * 1000000);
	}
	return 0;
}

/* ------------------------------------------------------------ load */

static struct {
	const char	*path;
	int64_t		 think_ns;
	uint64_t	 requests, errors, reconnects, non200;
	struct samples	 lat;
	int		 measuring;
} ld;

static struct conn_owner load_owner;

static void
load_send(struct conn *c)
{
	resp_reset(&c->r, 0);
	conn_send(c, ld.path, "application/json", 0);
	c->wake_ns = 0;
	conn_want(c, EPOLLIN | EPOLLOUT);
}

static void
load_ready(struct conn *c)
{
	load_send(c);
}

static void
load_done(struct conn *c)
{
	if (ld.measuring) {
		ld.requests++;
		if (c->r.status != 200)
			ld.non200++;
		samples_add(&ld.lat, (double)(now_ns() - c->t_req_ns) / 1e3);
	}
	if (c->r.close) {
		int slot = c->slot;

		c->state = C_DEAD;
		conn_close(c);
		ld.reconnects++;
		conn_open(&load_owner, slot, NULL);
		return;
	}
	c->wake_ns = now_ns() + ld.think_ns;
	if (!ld.think_ns)
		load_send(c);
}

static void
load_failed(struct conn *c, int retryable)
{
	int	 slot = c->slot;

	if (!retryable)
		ld.errors++;
	ld.reconnects++;
	conn_close(c);
	conn_open(&load_owner, slot, NULL);
}

static int
mode_load(const char *path, int n, int think_ms, double seconds)
{
	int64_t	 end, next, t;
	int	 i;

	load_owner.ready = load_ready;
	load_owner.done = load_done;
	load_owner.failed = load_failed;
	ld.path = path;
	ld.think_ns = (int64_t)think_ms * 1000000;
	ld.measuring = 1;
	for (i = 0; i < n; i++)
		conn_open(&load_owner, i, NULL);
	end = seconds > 0 ? now_ns() + (int64_t)(seconds * 1e9) : 0;
	t = now_ns();
	while (!stop && (!end || now_ns() < end)) {
		next = end ? end : -1;
		for (i = 0; i < nconns; i++)
			if (conns[i]->state == C_READY && !conns[i]->busy &&
			    conns[i]->wake_ns && (next < 0 ||
			    conns[i]->wake_ns < next))
				next = conns[i]->wake_ns;
		loop_once(next);
		int64_t now = now_ns();
		for (i = 0; i < nconns; i++)
			if (conns[i]->state == C_READY && !conns[i]->busy &&
			    conns[i]->wake_ns && conns[i]->wake_ns <= now)
				load_send(conns[i]);
	}
	t = now_ns() - t;
	printf("{\"requests\": %llu, \"rps\": %.1f, \"errors\": %llu, "
	    "\"non200\": %llu, \"reconnects\": %llu, \"p50_ms\": %.3f, "
	    "\"p99_ms\": %.3f, \"seconds\": %.3f}\n",
	    (unsigned long long)ld.requests, (double)ld.requests * 1e9 /
	    (double)t, (unsigned long long)ld.errors,
	    (unsigned long long)ld.non200, (unsigned long long)ld.reconnects,
	    samples_pct(&ld.lat, 0.5) / 1e3, samples_pct(&ld.lat, 0.99) / 1e3,
	    (double)t / 1e9);
	return 0;
}

/* ------------------------------------------------------------ handshakes */

static struct {
	const char	*path;
	int		 resume;
	SSL_SESSION	*sess[LC_MAX_CONNS];
	uint64_t	 done, reused, errors;
	uint64_t	 err_connect, err_handshake, err_answer, non200;
	struct samples	 lat;
	int64_t		 t_open[LC_MAX_CONNS];
	char		 name[128];
} hs;

static struct conn_owner hs_owner;

static void
hs_open(int slot)
{
	SSL_SESSION	*s = hs.resume ? hs.sess[slot] : NULL;

	hs.t_open[slot] = now_ns();
	conn_open(&hs_owner, slot, s);
}

static void
hs_ready(struct conn *c)
{
	resp_reset(&c->r, 0);
	conn_send(c, hs.path, "*/*", 1);
	snprintf(hs.name, sizeof(hs.name), "%s", tls_name(c->ssl));
}

static void
hs_done(struct conn *c)
{
	int	 slot = c->slot;

	hs.done++;
	if (c->reused)
		hs.reused++;
	if (c->r.status != 200) {
		hs.errors++;
		hs.non200++;
	}
	samples_add(&hs.lat, (double)(now_ns() - hs.t_open[slot]) / 1e3);
	conn_close(c);
	if (!stop)
		hs_open(slot);
}

static void
hs_failed(struct conn *c, int retryable)
{
	int	 slot = c->slot;

	(void)retryable;
	hs.errors++;
	/* not SSL_is_init_finished(): OpenSSL 3 leaves a connection that
	 * met an unexpected EOF in its error state */
	if (c->failed_in == C_READY)
		hs.err_answer++;
	else if (c->failed_in == C_CONNECTING)
		hs.err_connect++;
	else
		hs.err_handshake++;
	if (hs.sess[slot]) {
		SSL_SESSION_free(hs.sess[slot]);
		hs.sess[slot] = NULL;
	}
	conn_close(c);
	if (!stop)
		hs_open(slot);
}

static void
hs_session(struct conn *c, SSL_SESSION *s)
{
	if (trace)
		fprintf(stderr, "slot %d: session (resumable %d)\n", c->slot,
		    SSL_SESSION_is_resumable(s));
	if (hs.sess[c->slot])
		SSL_SESSION_free(hs.sess[c->slot]);
	hs.sess[c->slot] = s;
}

static int
mode_hs(const char *path, int n, double seconds, int resume)
{
	int64_t	 end, t;
	int	 i;

	hs_owner.ready = hs_ready;
	hs_owner.done = hs_done;
	hs_owner.failed = hs_failed;
	hs_owner.session = hs_session;
	hs.path = path;
	hs.resume = resume;
	t = now_ns();
	end = t + (int64_t)(seconds * 1e9);
	for (i = 0; i < n; i++)
		hs_open(i);
	while (!stop && now_ns() < end)
		loop_once(end);
	t = now_ns() - t;
	printf("{\"connections\": %llu, \"rate\": %.1f, \"reused\": %llu, "
	    "\"errors\": %llu, \"err_connect\": %llu, \"err_handshake\": %llu, "
	    "\"err_answer\": %llu, \"non200\": %llu, "
	    "\"p50_ms\": %.3f, \"p99_ms\": %.3f, "
	    "\"tls\": \"%s\", \"seconds\": %.3f}\n",
	    (unsigned long long)hs.done, (double)hs.done * 1e9 / (double)t,
	    (unsigned long long)hs.reused, (unsigned long long)hs.errors,
	    (unsigned long long)hs.err_connect,
	    (unsigned long long)hs.err_handshake,
	    (unsigned long long)hs.err_answer, (unsigned long long)hs.non200,
	    samples_pct(&hs.lat, 0.5) / 1e3, samples_pct(&hs.lat, 0.99) / 1e3,
	    hs.name, (double)t / 1e9);
	return 0;
}

/* ------------------------------------------------------------ hold */

static struct {
	int		 answered, failed;
	char		 name[128];
} hd;
static struct conn_owner hold_owner;

static void
hold_ready(struct conn *c)
{
	resp_reset(&c->r, 0);
	conn_send(c, ld.path, "*/*", 0);
	if (c->ssl)
		snprintf(hd.name, sizeof(hd.name), "%s", tls_name(c->ssl));
}

static void
hold_done(struct conn *c)
{
	(void)c;
	hd.answered++;
}

static void
hold_failed(struct conn *c, int retryable)
{
	(void)retryable;
	hd.failed++;
	conn_close(c);
}

static void
hold_session(struct conn *c, SSL_SESSION *s)
{
	(void)c;
	SSL_SESSION_free(s);
}

static int
mode_hold(const char *path, int n, double seconds)
{
	int64_t	 end;
	int	 i;

	hold_owner.ready = hold_ready;
	hold_owner.done = hold_done;
	hold_owner.failed = hold_failed;
	hold_owner.session = hold_session;
	ld.path = path;
	for (i = 0; i < n; i++)
		conn_open(&hold_owner, i, NULL);
	end = now_ns() + (int64_t)(seconds * 1e9);
	while (!stop && hd.answered + hd.failed < n && now_ns() < end)
		loop_once(end);
	printf("{\"ready\": %d, \"failed\": %d, \"tls\": \"%s\"}\n",
	    hd.answered, hd.failed, tls_version ? hd.name : "plain");
	fflush(stdout);
	while (!stop && now_ns() < end)
		loop_once(end);
	printf("{\"open_at_end\": %d}\n", nconns);
	return 0;
}

/* ------------------------------------------------------------ calibration */

static int
dial(void)
{
	struct sockaddr_in sa;
	int		 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	return fd;
}

static int
mode_ping(int count)
{
	struct samples	 s = { 0 };
	double		 sum = 0;
	int		 fd, i;
	int64_t		 t0, t1;
	char		 b = 'p';

	fd = dial();
	t0 = now_ns();
	for (i = 0; i < count && !stop; i++) {
		t0 = now_ns();
		if (write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1)
			die("ping");
		t1 = now_ns();
		samples_add(&s, (double)(t1 - t0) / 1e3);
		sum += (double)(t1 - t0) / 1e3;
		usleep(500);
	}
	close(fd);
	printf("{\"count\": %d, \"mean_us\": %.1f, \"p50_us\": %.1f, "
	    "\"p99_us\": %.1f, \"min_us\": %.1f}\n", i, sum / (i ? i : 1),
	    samples_pct(&s, 0.5), samples_pct(&s, 0.99), samples_pct(&s, 0));
	return 0;
}

static int
mode_bulk(double seconds)
{
	static char	 buf[262144];
	uint64_t	 bytes = 0;
	int64_t		 t0 = 0, t, end = 0;
	ssize_t		 n;
	int		 fd;

	fd = dial();
	if (write(fd, "B", 1) != 1)
		die("bulk");
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			die("bulk read");
		t = now_ns();
		/* skip the first 200 ms: slow start and the token bucket's
		 * initial burst */
		if (!t0) {
			t0 = t + 200000000;
			end = t0 + (int64_t)(seconds * 1e9);
			continue;
		}
		if (t < t0)
			continue;
		bytes += (uint64_t)n;
		if (t >= end)
			break;
	}
	close(fd);
	printf("{\"mbit_s\": %.1f, \"bytes\": %llu}\n",
	    (double)bytes * 8 / ((double)(t - t0) / 1e9) / 1e6,
	    (unsigned long long)bytes);
	return 0;
}

/* Echo every byte back, or (first byte 'B') send zeros until the peer
 * goes. One process, one loop; runs in the server's namespace. */
static int
mode_serve(const char *addr)
{
	static char	 buf[262144];
	struct sockaddr_in sa;
	struct epoll_event ev, evs[64];
	char		 ip[64];
	const char	*colon = strrchr(addr, ':');
	int		 lfd, one = 1, i, n, fd;
	ssize_t		 r;
	unsigned char	 mode[65536];

	if (!colon || (size_t)(colon - addr) >= sizeof(ip))
		return 2;
	memcpy(ip, addr, (size_t)(colon - addr));
	ip[colon - addr] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, ip, &sa.sin_addr);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 64) < 0)
		die("serve: listen");
	memset(mode, 0, sizeof(mode));
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening\n");
	fflush(stdout);
	while (!stop) {
		n = epoll_wait(epfd, evs, 64, -1);
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == lfd) {
				fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC |
				    SOCK_NONBLOCK);
				if (fd < 0 || fd >= (int)sizeof(mode)) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one));
				mode[fd] = 0;
				ev.events = EPOLLIN;
				ev.data.fd = fd;
				epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			if (mode[fd] == 'B') {
				r = write(fd, buf, sizeof(buf));
				if (r < 0 && errno != EAGAIN)
					close(fd);
				continue;
			}
			r = read(fd, buf, sizeof(buf));
			if (r <= 0) {
				if (r == 0 || errno != EAGAIN)
					close(fd);
				continue;
			}
			if (buf[0] == 'B') {
				mode[fd] = 'B';
				memset(buf, 0, sizeof(buf));
				ev.events = EPOLLOUT;
				ev.data.fd = fd;
				epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
				continue;
			}
			if (write(fd, buf, (size_t)r) != r)
				close(fd);
		}
	}
	return 0;
}

/* What this machine charges for the two things servers do per request or
 * per connection besides their own work: a wakeup across cores (a pipe
 * ping-pong between a process on CPU 0 and one on CPU 1) and a fork
 * (fork, _exit, waitpid, as BusyBox httpd per connection and every CGI). */
/* CPU seconds of this process and of its children already waited for */
static double
cpu_s(void)
{
	struct rusage	 self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
	    kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
	    (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
	    kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) / 1e6;
}

static int
mode_sys(int count)
{
	int		 ab[2], ba[2], i, st;
	char		 b = 'x';
	pid_t		 pid;
	int64_t		 t0;
	double		 c0, wake_us, wake_cpu_us, fork_us, fork_cpu_us;
	cpu_set_t	 set;

	if (pipe(ab) < 0 || pipe(ba) < 0)
		die("pipe");
	pid = fork();
	if (pid == 0) {
		close(ab[1]);
		close(ba[0]);
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
		while (read(ab[0], &b, 1) == 1)
			if (write(ba[1], &b, 1) != 1)
				break;
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	sched_setaffinity(0, sizeof(set), &set);
	usleep(20000);
	t0 = now_ns();
	c0 = cpu_s();
	for (i = 0; i < count; i++)
		if (write(ab[1], &b, 1) != 1 || read(ba[0], &b, 1) != 1)
			die("ping-pong");
	wake_us = (double)(now_ns() - t0) / 1e3 / count / 2;
	wake_cpu_us = (cpu_s() - c0) * 1e6 / count;
	close(ab[1]);
	waitpid(pid, &st, 0);
	/* this side's CPU per round trip: one wakeup, one sleep */
	t0 = now_ns();
	c0 = cpu_s();
	for (i = 0; i < count / 4; i++) {
		pid = fork();
		if (pid == 0)
			_exit(0);
		waitpid(pid, &st, 0);
	}
	fork_us = (double)(now_ns() - t0) / 1e3 / (count / 4);
	fork_cpu_us = (cpu_s() - c0) * 1e6 / (count / 4);
	printf("{\"wakeup_us\": %.1f, \"wakeup_cpu_us\": %.1f, "
	    "\"fork_wait_us\": %.1f, \"fork_cpu_us\": %.1f}\n",
	    wake_us, wake_cpu_us, fork_us, fork_cpu_us);
	return 0;
}

/* ------------------------------------------------------------ main */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: lanclient page|load|hs|hold|ping|bulk|serve|sys [-p PORT] "
	    "[-H HOST] [-T 1.2|1.3]\n"
	    "         [-c CONNS] [-n COUNT] [-d SECONDS] [-g GAP_MS] "
	    "[-k THINK_MS] [-u PATH] [-r] [-l ADDR:PORT]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char	*mode, *path = NULL, *listen_at = NULL;
	int		 opt, c = -1, n = 20, gap = 250, think = 10, resume = 0;
	double		 secs = 3;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "p:H:T:c:n:d:g:k:u:rl:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'H': host = optarg; break;
		case 'T': tls_version = strcmp(optarg, "1.2") == 0 ? 12 : 13;
			break;
		case 'c': c = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'g': gap = atoi(optarg); break;
		case 'k': think = atoi(optarg); break;
		case 'u': path = optarg; break;
		case 'r': resume = 1; break;
		case 'l': listen_at = optarg; break;
		default: usage();
		}
	}
	trace = getenv("LANCLIENT_TRACE") != NULL;
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	if (strcmp(mode, "serve") == 0)
		return listen_at ? mode_serve(listen_at) : 2;
	if (strcmp(mode, "sys") == 0)
		return mode_sys(n);
	if (!port)
		usage();
	if (tls_version)
		tls_init();
	if (strcmp(mode, "page") == 0)
		return mode_page(path ? path : "/", c > 0 ? c : 6, n, gap);
	if (strcmp(mode, "load") == 0)
		return mode_load(path ? path : "/", c > 0 ? c : 50, think,
		    secs);
	if (strcmp(mode, "hs") == 0) {
		if (!tls_version)
			usage();
		return mode_hs(path ? path : "/", c > 0 ? c : 8, secs, resume);
	}
	if (strcmp(mode, "hold") == 0)
		return mode_hold(path ? path : "/", c > 0 ? c : 2, secs);
	if (strcmp(mode, "ping") == 0)
		return mode_ping(n);
	if (strcmp(mode, "bulk") == 0)
		return mode_bulk(secs);
	usage();
	return 2;
}
