/*
 * relay: a TCP relay that holds each direction's bytes back by a fixed
 * delay, so that a server on the far side of a veth pair sees a client a
 * LAN away (this kernel has no netem).
 *
 *   relay -d USEC -l LISTEN_ADDR -t TARGET_ADDR PORT...
 *
 * listens on LISTEN_ADDR:PORT for every PORT and passes each accepted
 * connection, one for one, to TARGET_ADDR:PORT. Bytes read from either side
 * are written to the other USEC microseconds later (half the round trip).
 * A TCP handshake costs the client one round trip before it may send: the
 * client's connect to the relay completes at once, so its first bytes are
 * held until 3 x USEC after the accept (SYN, SYN-ACK, then ACK + data each
 * cross the link once) and the upstream connection is opened then, as the
 * server would see it. EOF and resets are passed on after the same delay.
 *
 * The relay buffers at most RELAY_RING bytes per direction; beyond that it
 * stops reading, so TCP flow control reaches the sender as on a real link.
 * The rate is not the relay's business: tc (tbf) on the veth does that.
 *
 * On SIGTERM or SIGINT it prints one JSON line of counters to stdout (how
 * late writes were against their due time, bytes, connections) and exits.
 * bench/lan.py starts it inside the client's namespace, pinned with the
 * client to the client's CPU, in a cgroup of its own so that its CPU time
 * is measured and never counted as the server's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define RELAY_RING	(256 * 1024)	/* bytes held per direction */
#define RELAY_MARKS	4096		/* reads held per direction */
#define RELAY_PORTS	64
#define RELAY_CONNS	1024
#define RELAY_LATE_BUCKETS 64		/* 25 us each */

struct mark {
	int64_t		 due_ns;
	uint64_t	 upto;		/* byte count this read ended at */
};

struct dir {
	int		 in, out;	/* read from in, write to out */
	char		*buf;		/* ring of RELAY_RING bytes */
	uint64_t	 rd, wr;	/* bytes read, bytes written */
	struct mark	*marks;
	unsigned	 mhead, mtail;	/* marks[mhead..mtail) pending */
	int64_t		 eof_due_ns;	/* 0: no EOF read yet */
	int		 eof_done;	/* shutdown(out) done */
	int		 reset;		/* in was reset: abort after delay */
	int		 blocked;	/* last write said EAGAIN */
	int64_t		 late_due_ns;	/* due time of the oldest unwritten mark */
};

struct end {
	struct conn	*c;
	int		 server;	/* 0: client side, 1: server side */
	uint32_t	 events;	/* registered */
};

struct conn {
	int		 cfd, sfd;
	int		 port;
	int		 connected;	/* upstream connect finished */
	int		 connecting;
	int64_t		 connect_due_ns;
	struct dir	 up, down;	/* up: client to server */
	struct end	 cend, send;
	int		 dead;
};

static int64_t		 delay_ns;
static struct sockaddr_in target;
static int		 epfd;
static struct conn	*conns[RELAY_CONNS];
static int		 nconns;
static struct {
	uint64_t	 accepted, refused, bytes_up, bytes_down;
	uint64_t	 writes, late[RELAY_LATE_BUCKETS], wakeups;
	int64_t		 late_max_ns;
} st;

static void
nodelay(int fd)
{
	int	 one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/*
 * Registers what we want from fd. Nothing wanted means out of the epoll
 * set: a socket shut down both ways reports EPOLLHUP whatever the mask,
 * and would wake the loop without pause until the other direction is done.
 */
static void
ep_set(int fd, struct end *e, uint32_t want)
{
	struct epoll_event ev;

	if (fd < 0 || e->events == want)
		return;
	ev.events = want;
	ev.data.ptr = e;
	if (want == 0)
		epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
	else if (e->events == 0)
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	else
		epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
	e->events = want;
}

static int
dir_init(struct dir *d)
{
	d->buf = malloc(RELAY_RING);
	d->marks = malloc(sizeof(*d->marks) * RELAY_MARKS);
	return d->buf && d->marks ? 0 : -1;
}

static int
dir_can_read(const struct dir *d)
{
	return d->eof_due_ns == 0 && !d->reset &&
	    d->rd - d->wr < RELAY_RING && d->mtail - d->mhead < RELAY_MARKS;
}

/* Bytes of d whose delay has passed at now. */
static uint64_t
dir_due(struct dir *d, int64_t now)
{
	uint64_t	 upto = d->wr;
	unsigned	 i;

	for (i = d->mhead; i != d->mtail; i++) {
		struct mark *m = &d->marks[i % RELAY_MARKS];

		if (m->due_ns > now)
			break;
		upto = m->upto;
	}
	return upto - d->wr;
}

/* Earliest time something in d becomes due (0: nothing pending). */
static int64_t
dir_next(const struct dir *d)
{
	if (d->mhead != d->mtail && !d->blocked)
		return d->marks[d->mhead % RELAY_MARKS].due_ns;
	if (d->mhead == d->mtail && d->eof_due_ns && !d->eof_done)
		return d->eof_due_ns;
	return 0;
}

static void
conn_free(struct conn *c)
{
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->sfd >= 0)
		close(c->sfd);
	free(c->up.buf);
	free(c->up.marks);
	free(c->down.buf);
	free(c->down.marks);
	free(c);
}

/* Abortive close of both sides: the peer sees a reset, as it would when
 * the other end reset its connection. */
static void
conn_abort(struct conn *c)
{
	struct linger	 l = { 1, 0 };

	if (c->cfd >= 0)
		setsockopt(c->cfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	if (c->sfd >= 0)
		setsockopt(c->sfd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	c->dead = 1;
}

static void
dir_read(struct conn *c, struct dir *d, int64_t now)
{
	uint64_t	 room, off;
	ssize_t		 n;
	int64_t		 due;

	if (!dir_can_read(d))
		return;
	off = d->rd % RELAY_RING;
	room = RELAY_RING - (d->rd - d->wr);
	if (room > RELAY_RING - off)
		room = RELAY_RING - off;
	n = read(d->in, d->buf + off, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	due = now + delay_ns;
	/* a fresh connection's first bytes cannot reach the server before
	 * the handshake would have let the client send them */
	if (d == &c->up && due < c->connect_due_ns)
		due = c->connect_due_ns;
	if (n < 0) {
		d->reset = 1;
		d->eof_due_ns = due;
		return;
	}
	if (n == 0) {
		d->eof_due_ns = due;
		return;
	}
	d->rd += (uint64_t)n;
	if (d == &c->up)
		st.bytes_up += (uint64_t)n;
	else
		st.bytes_down += (uint64_t)n;
	/* reads due at the same time extend the last mark */
	if (d->mhead != d->mtail &&
	    d->marks[(d->mtail - 1) % RELAY_MARKS].due_ns == due) {
		d->marks[(d->mtail - 1) % RELAY_MARKS].upto = d->rd;
		return;
	}
	d->marks[d->mtail % RELAY_MARKS].due_ns = due;
	d->marks[d->mtail % RELAY_MARKS].upto = d->rd;
	d->mtail++;
}

static void
note_late(int64_t late)
{
	int64_t	 b = late / 25000;

	if (b < 0)
		b = 0;
	if (b >= RELAY_LATE_BUCKETS)
		b = RELAY_LATE_BUCKETS - 1;
	st.late[b]++;
	st.writes++;
	if (late > st.late_max_ns)
		st.late_max_ns = late;
}

/* Write what is due; 0, or -1 when the connection must go. */
static int
dir_write(struct conn *c, struct dir *d, int64_t now)
{
	uint64_t	 due, off, len;
	ssize_t		 n;

	(void)c;
	while ((due = dir_due(d, now)) > 0) {
		if (d->marks[d->mhead % RELAY_MARKS].due_ns != d->late_due_ns) {
			d->late_due_ns = d->marks[d->mhead % RELAY_MARKS].due_ns;
			note_late(now - d->late_due_ns);
		}
		off = d->wr % RELAY_RING;
		len = due;
		if (len > RELAY_RING - off)
			len = RELAY_RING - off;
		n = write(d->out, d->buf + off, len);
		if (n < 0) {
			if (errno == EAGAIN) {
				d->blocked = 1;
				return 0;
			}
			if (errno == EINTR)
				continue;
			return -1;
		}
		d->blocked = 0;
		d->wr += (uint64_t)n;
		while (d->mhead != d->mtail &&
		    d->marks[d->mhead % RELAY_MARKS].upto <= d->wr)
			d->mhead++;
	}
	if (d->mhead == d->mtail && d->eof_due_ns && !d->eof_done &&
	    now >= d->eof_due_ns) {
		if (d->reset)
			return -1;
		shutdown(d->out, SHUT_WR);
		d->eof_done = 1;
	}
	return 0;
}

static void
conn_connect(struct conn *c)
{
	struct sockaddr_in sa = target;
	int		 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_abort(c);
		return;
	}
	nodelay(fd);
	sa.sin_port = htons((uint16_t)c->port);
	c->sfd = fd;
	c->up.out = fd;
	c->down.in = fd;
	c->connecting = 1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		c->connecting = 0;
		c->connected = 1;
	} else if (errno != EINPROGRESS) {
		st.refused++;
		conn_abort(c);
	}
}

static void
conn_interest(struct conn *c)
{
	uint32_t	 cw = 0, sw = 0;

	if (c->dead)
		return;
	if (dir_can_read(&c->up))
		cw |= EPOLLIN;
	if (c->down.blocked)
		cw |= EPOLLOUT;
	ep_set(c->cfd, &c->cend, cw);
	if (c->sfd < 0)
		return;
	if (c->connecting)
		sw |= EPOLLOUT;
	if (c->connected && dir_can_read(&c->down))
		sw |= EPOLLIN;
	if (c->connected && c->up.blocked)
		sw |= EPOLLOUT;
	ep_set(c->sfd, &c->send, sw);
}

/* Everything time-driven for c: connect, writes, EOFs, the end. */
static void
conn_pump(struct conn *c, int64_t now)
{
	if (c->dead)
		return;
	if (c->sfd < 0 && now >= c->connect_due_ns)
		conn_connect(c);
	if (c->dead)
		return;
	if (c->connected && dir_write(c, &c->up, now) < 0) {
		conn_abort(c);
		return;
	}
	if (dir_write(c, &c->down, now) < 0) {
		conn_abort(c);
		return;
	}
	if (c->up.eof_done && c->down.eof_done)
		c->dead = 1;
	/* the server went before the client's connection was made */
	if (c->sfd < 0 && c->up.eof_due_ns && c->up.mhead == c->up.mtail &&
	    now >= c->up.eof_due_ns)
		c->dead = 1;
}

static void
relay_accept(int lfd, int port)
{
	struct conn	*c;
	int		 fd;
	int64_t		 now;

	while ((fd = accept4(lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (nconns == RELAY_CONNS || !(c = calloc(1, sizeof(*c)))) {
			close(fd);
			continue;
		}
		nodelay(fd);
		now = now_ns();
		c->cfd = fd;
		c->sfd = -1;
		c->port = port;
		c->connect_due_ns = delay_ns ? now + 3 * delay_ns : now;
		c->up.in = fd;
		c->up.out = -1;
		c->down.in = -1;
		c->down.out = fd;
		c->cend.c = c->send.c = c;
		c->send.server = 1;
		c->cend.events = c->send.events = 0;	/* not registered */
		if (dir_init(&c->up) < 0 || dir_init(&c->down) < 0) {
			conn_free(c);
			continue;
		}
		conns[nconns++] = c;
		st.accepted++;
		conn_interest(c);
	}
}

static void
conn_event(struct end *e, uint32_t ev, int64_t now)
{
	struct conn	*c = e->c;
	int		 err = 0;
	socklen_t	 len = sizeof(err);

	if (c->dead)
		return;
	if (!e->server) {
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			dir_read(c, &c->up, now);
		if (ev & EPOLLOUT)
			c->down.blocked = 0;
		return;
	}
	if (c->connecting && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &len);
		c->connecting = 0;
		if (err) {
			st.refused++;
			conn_abort(c);
			return;
		}
		c->connected = 1;
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
		dir_read(c, &c->down, now);
	if (ev & EPOLLOUT)
		c->up.blocked = 0;
}

static int
relay_listen(const char *addr, int port)
{
	struct sockaddr_in sa;
	int		 fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1024) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
print_stats(void)
{
	uint64_t	 acc = 0, p50 = 0, p99 = 0;
	int		 i;

	for (i = 0; i < RELAY_LATE_BUCKETS; i++) {
		acc += st.late[i];
		if (!p50 && acc * 2 >= st.writes)
			p50 = (uint64_t)(i + 1) * 25;
		if (!p99 && acc * 100 >= st.writes * 99)
			p99 = (uint64_t)(i + 1) * 25;
	}
	printf("{\"accepted\": %llu, \"refused\": %llu, \"bytes_up\": %llu, "
	    "\"bytes_down\": %llu, \"writes\": %llu, \"late_p50_us_le\": %llu, "
	    "\"late_p99_us_le\": %llu, \"late_max_us\": %.1f, \"wakeups\": %llu}\n",
	    (unsigned long long)st.accepted, (unsigned long long)st.refused,
	    (unsigned long long)st.bytes_up, (unsigned long long)st.bytes_down,
	    (unsigned long long)st.writes, (unsigned long long)p50,
	    (unsigned long long)p99, st.late_max_ns / 1e3,
	    (unsigned long long)st.wakeups);
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: relay -d USEC -l LISTEN_ADDR -t TARGET_ADDR "
	    "PORT...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static struct end lends[RELAY_PORTS];
	struct epoll_event evs[128], ev;
	const char	*laddr = NULL, *taddr = NULL;
	int		 lfds[RELAY_PORTS], ports[RELAY_PORTS], nports = 0;
	int		 opt, i, n;
	int64_t		 now, next, t;
	struct timespec	 ts;

	while ((opt = getopt(argc, argv, "d:l:t:")) != -1) {
		switch (opt) {
		case 'd':
			delay_ns = strtoll(optarg, NULL, 10) * 1000;
			break;
		case 'l':
			laddr = optarg;
			break;
		case 't':
			taddr = optarg;
			break;
		default:
			usage();
		}
	}
	if (!laddr || !taddr || optind == argc || argc - optind > RELAY_PORTS)
		usage();
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	if (inet_pton(AF_INET, taddr, &target.sin_addr) != 1)
		usage();
	/* the due times are in microseconds: no 50 us default slack */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	for (i = optind; i < argc; i++) {
		ports[nports] = atoi(argv[i]);
		lfds[nports] = relay_listen(laddr, ports[nports]);
		if (lfds[nports] < 0) {
			fprintf(stderr, "relay: listen %s:%s: %s\n", laddr,
			    argv[i], strerror(errno));
			return 1;
		}
		lends[nports].server = -1 - nports;
		ev.events = EPOLLIN;
		ev.data.ptr = &lends[nports];
		epoll_ctl(epfd, EPOLL_CTL_ADD, lfds[nports], &ev);
		nports++;
	}
	fprintf(stderr, "relay: %d ports, delay %lld us each way\n", nports,
	    (long long)(delay_ns / 1000));
	while (!stop) {
		now = now_ns();
		next = 0;
		for (i = 0; i < nconns; i++) {
			struct conn *c = conns[i];

			t = c->sfd < 0 ? c->connect_due_ns : 0;
			if (c->connected) {
				int64_t u = dir_next(&c->up);
				if (u && (!t || u < t))
					t = u;
			}
			int64_t dn = dir_next(&c->down);
			if (dn && (!t || dn < t))
				t = dn;
			if (t && (!next || t < next))
				next = t;
		}
		if (next) {
			t = next - now;
			if (t < 0)
				t = 0;
			ts.tv_sec = t / 1000000000;
			ts.tv_nsec = t % 1000000000;
		}
		n = epoll_pwait2(epfd, evs, 128, next ? &ts : NULL, NULL);
		if (n < 0 && errno != EINTR)
			return 1;
		st.wakeups++;
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct end *e = evs[i].data.ptr;

			if (e->server < 0)
				relay_accept(lfds[-1 - e->server],
				    ports[-1 - e->server]);
			else
				conn_event(e, evs[i].events, now);
		}
		now = now_ns();
		for (i = 0; i < nconns; i++) {
			conn_pump(conns[i], now);
			if (conns[i]->dead) {
				conn_free(conns[i]);
				conns[i--] = conns[--nconns];
				continue;
			}
			conn_interest(conns[i]);
		}
	}
	print_stats();
	return 0;
}
