/*
 * Listeners, accepting, and the plain-TCP implementation of struct io.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "os.h"
#include "os_internal.h"

/* 0 and *out set, or -1: not a decimal port in 1..65535 */
static int
parse_port(const char *p, uint16_t *out)
{
	unsigned long	 v = 0;

	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int
os_addr_parse(const char *spec, struct os_addr *a)
{
	char		 host[64];
	const char	*colon, *port;
	size_t		 hlen;

	memset(a, 0, sizeof(*a));
	if (spec[0] == '[') {
		colon = strchr(spec, ']');
		if (colon == NULL || colon[1] != ':')
			return -1;
		hlen = (size_t)(colon - spec - 1);
		port = colon + 2;
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, hlen);
		host[hlen] = '\0';
		a->family = 6;
		if (inet_pton(AF_INET6, host, a->bytes) != 1)
			return -1;
		return parse_port(port, &a->port);
	}
	colon = strrchr(spec, ':');
	if (colon == NULL) {		/* "PORT": every IPv4 address */
		a->family = 4;
		return parse_port(spec, &a->port);
	}
	hlen = (size_t)(colon - spec);
	if (hlen == 0 || hlen >= sizeof(host) || memchr(spec, ':', hlen))
		return -1;		/* bare IPv6 needs brackets */
	memcpy(host, spec, hlen);
	host[hlen] = '\0';
	a->family = 4;
	if (strcmp(host, "*") != 0 && inet_pton(AF_INET, host, a->bytes) != 1)
		return -1;
	return parse_port(colon + 1, &a->port);
}

void
os_addr_format(const struct os_addr *a, char *out, size_t size)
{
	char	 host[INET6_ADDRSTRLEN];

	if (a->family == 6) {
		inet_ntop(AF_INET6, a->bytes, host, sizeof(host));
		snprintf(out, size, "[%s]:%u", host, a->port);
	} else {
		inet_ntop(AF_INET, a->bytes, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, a->port);
	}
}

/* The host part alone, as a URL holds it: "192.0.2.1", "[2001:db8::1]". */
void
os_addr_host(const struct os_addr *a, char *out, size_t size)
{
	char	 host[INET6_ADDRSTRLEN];

	inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, host,
	    sizeof(host));
	snprintf(out, size, a->family == 6 ? "[%s]" : "%s", host);
}

/* A wildcard listener (0.0.0.0, [::]): every address of the box. */
bool
os_addr_is_any(const struct os_addr *a)
{
	static const uint8_t	 zero[16];

	return memcmp(a->bytes, zero, a->family == 6 ? 16 : 4) == 0;
}

bool
os_addr_equal(const struct os_addr *a, const struct os_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	    memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static socklen_t
addr_to_sockaddr(const struct os_addr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == 6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->bytes, 16);
		return sizeof(*s6);
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons(a->port);
	memcpy(&s4->sin_addr, a->bytes, 4);
	return sizeof(*s4);
}

int
os_listen(const struct os_addr *a, int backlog, int defer_secs)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, on = 1;

	sslen = addr_to_sockaddr(a, &ss);
	fd = socket(a->family == 6 ? AF_INET6 : AF_INET,
	    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	/* Accepted sockets inherit it: the last segment of a response is
	 * never held back by Nagle, at no syscall per connection. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		goto fail;
	/* Separate sockets serve [::] and 0.0.0.0; do not let v6 grab v4. */
	if (a->family == 6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1)
		goto fail;
	if (os_listen_adjust(fd, backlog, defer_secs) == -1)
		goto fail;
	return fd;
fail:
	return os_close_keep_errno(fd, -1);
}

/* listen() again is how Linux changes the backlog of a listening socket. */
int
os_listen_adjust(int fd, int backlog, int defer_secs)
{
	if (listen(fd, backlog) == -1)
		return -1;
	/* A client that connects but sends nothing never wakes a worker. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_secs,
	    sizeof(defer_secs)) == -1)
		return -1;
	return 0;
}

/*
 * Connections waiting in the accept queue. On a listening socket Linux
 * reports the queue length in tcpi_unacked (since 2.6.x).
 */
int
os_listen_queue(int fd)
{
	struct tcp_info	 ti;
	struct pollfd	 pfd;
	socklen_t	 len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
	    len >= offsetof(struct tcp_info, tcpi_unacked) +
	    sizeof(ti.tcpi_unacked))
		return (int)ti.tcpi_unacked;
	/* qemu-user answers with 4 bytes only: then ask poll whether a
	 * connection waits (a readable listener has a non-empty queue). */
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1)
		return -1;
	return (pfd.revents & POLLIN) ? 1 : 0;
}

/*
 * An epoll set over the listeners with EPOLLEXCLUSIVE (Linux 4.5), so a
 * new connection wakes one idle worker rather than the whole pool.
 */
int
os_accepter_open(const int *fds, int nfds)
{
	struct epoll_event	 ev;
	int			 ep, i;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i < nfds; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) == -1) {
			/* EPOLLEXCLUSIVE is refused before 4.5: share wakeups. */
			ev.events = EPOLLIN;
			if (errno != EINVAL ||
			    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) == -1)
				goto fail;
		}
	}
	return ep;
fail:
	return os_close_keep_errno(ep, -1);
}

/*
 * What a client controls as a whole: its IPv4 address (an IPv4-mapped one
 * included), or the /64 of its IPv6 address, whose host part it picks.
 */
static void
peer_group(const struct sockaddr_storage *ss, const char *addr, char *out,
    size_t size)
{
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;
	struct in6_addr			 net;
	char				 text[INET6_ADDRSTRLEN];

	if (ss->ss_family != AF_INET6 || IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		snprintf(out, size, "%s", addr);
		return;
	}
	memset(&net, 0, sizeof(net));
	memcpy(&net, &s6->sin6_addr, 8);
	inet_ntop(AF_INET6, &net, text, sizeof(text));
	/* "xxxx:xxxx:xxxx:xxxx::" at most: OS_ADDR_TEXT holds it and "/64" */
	if ((size_t)snprintf(out, size, "%.*s/64", (int)(size - 4), text) >=
	    size)
		out[size - 1] = '\0';
}

static void
peer_text(const struct sockaddr_storage *ss, char *addr, size_t size,
    unsigned *port, bool *loopback)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, (socklen_t)size);
		*port = ntohs(s6->sin6_port);
		if (loopback != NULL)
			*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
			    s6->sin6_addr.s6_addr[12] == 127);
	} else {
		inet_ntop(AF_INET, &s4->sin_addr, addr, (socklen_t)size);
		*port = ntohs(s4->sin_port);
		if (loopback != NULL)
			*loopback =
			    (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
}

/*
 * Waits (interruptibly: -1/EINTR when a signal arrives) for a connection
 * on any listener and accepts it non-blocking, with TCP_NODELAY so the
 * last segment of a response is never held back by Nagle.
 */
int
os_accept(int epfd, const int *fds, int nfds, struct os_peer *peer,
    int *which)
{
	struct epoll_event	 ev;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	int			 fd, n;

	for (;;) {
		n = epoll_pwait(epfd, &ev, 1, -1, os_signal_waitmask());
		if (n == -1)
			return -1;
		if (n == 0 || ev.data.u32 >= (uint32_t)nfds)
			continue;
		sslen = sizeof(ss);
		fd = accept4(fds[ev.data.u32], (struct sockaddr *)&ss, &sslen,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd != -1)
			break;
		/* Another worker took it, or the client already left. */
		if (errno == EAGAIN || errno == ECONNABORTED ||
		    errno == EPROTO || errno == EINTR)
			continue;
		return -1;
	}
	*which = (int)ev.data.u32;
	peer_text(&ss, peer->addr, sizeof(peer->addr), &peer->port,
	    &peer->loopback);
	peer_group(&ss, peer->addr, peer->group, sizeof(peer->group));
	peer->local_addr[0] = '\0';	/* os_peer_local() when needed */
	peer->local_port = 0;
	return fd;
}

/* The local end of a connection, looked up only by those who need it. */
void
os_peer_local(int fd, struct os_peer *peer)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);

	if (peer->local_addr[0] != '\0')
		return;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		peer_text(&ss, peer->local_addr, sizeof(peer->local_addr),
		    &peer->local_port, NULL);
}

int
os_set_nonblock(int fd, bool on)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

/*
 * A peer that stopped reading until a write deadline passed gets a reset
 * when the socket closes: a graceful close would leave the unsent reply in
 * kernel buffers, and a few hundred slow readers (slowhttptest -X) would
 * push all of TCP into memory pressure.
 */
static void
plain_write_failed(struct io *io)
{
	struct linger	 l = { 1, 0 };

	if (errno == ETIMEDOUT)
		(void)setsockopt(io->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

static ssize_t
plain_read(struct io *io, void *buf, size_t len, int64_t deadline_ms)
{
	return os_read_watched(io->fd, buf, len, deadline_ms, io->watch);
}

static int
plain_writev(struct io *io, const struct iovec *iov, int n, int64_t dl)
{
	size_t	 total = 0;
	int	 i;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (os_writev_watched(io->fd, iov, n, dl, io->watch) == -1) {
		plain_write_failed(io);
		return -1;
	}
	io->bytes_out += total;
	return 0;
}

static ssize_t
plain_sendfile(struct io *io, int filefd, off_t *off, size_t len, int64_t dl)
{
	ssize_t	 n;

	for (;;) {
		n = sendfile(io->fd, filefd, off, len);
		if (n > 0) {
			io->bytes_out += (uint64_t)n;
			return n;
		}
		if (n == 0) {		/* the file shrank under us */
			errno = EIO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN ||
		    os_wait_fd(io->fd, POLLOUT, &dl, io->watch) == -1) {
			plain_write_failed(io);
			return -1;
		}
	}
}

/* Plain TCP keeps nothing above the kernel: poll sees all there is. */
static bool
plain_pending(struct io *io)
{
	(void)io;
	return false;
}

/* True when the peer has sent bytes not read yet (or closed). */
bool
os_input_waiting(int fd)
{
	struct pollfd	 pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

static void
plain_shutdown(struct io *io, int64_t deadline_ms)
{
	(void)deadline_ms;
	(void)shutdown(io->fd, SHUT_WR);
}

static void
plain_close(struct io *io)
{
	if (io->fd != -1)
		os_close(io->fd);
	io->fd = -1;
}

void
os_io_plain(struct io *io, int fd)
{
	memset(io, 0, sizeof(*io));
	io->read = plain_read;
	io->writev = plain_writev;
	io->sendfile = plain_sendfile;
	io->pending = plain_pending;
	io->shutdown = plain_shutdown;
	io->close = plain_close;
	io->fd = fd;
}
