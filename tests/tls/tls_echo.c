/*
 * tls_echo: a tiny pre-fork HTTPS server that tests tls/ alone, built from
 * tls.h and os.h only (nothing of server/). Like porch, the master sets up
 * TLS and forks the workers; each worker calls tls_worker_init, then
 * accepts, handshakes, reads one request head and answers it:
 *
 *	GET /		200, body "worker PID\n" (head and body via writev)
 *	GET /f/NAME	200, file NAME beneath ROOT via io->sendfile
 *	GET /hold	200 "worker PID\n", then keep the connection until the
 *			client closes it (keeps this worker busy)
 *	GET /heap	200, "live N peak N cached N" (bytes of mbedTLS's heap
 *			in this worker; the peak since the previous /heap)
 *
 * usage: tls_echo -p PORT [-w WORKERS] [-c CERT -k KEY] [-a] [-n NAME]...
 *	    [-l TICKET_LIFETIME_S] [-t HANDSHAKE_MS] [-P PRESSURE_MS] [-r ROOT]
 *
 * -n names the generated certificate (repeatable: host names and IP
 * addresses); -P cuts a handshake's waits to PRESSURE_MS once another
 * connection waits to be accepted, as porch's pool pressure does.
 *
 * Prints "tls_echo: listening on 127.0.0.1:PORT" on stdout when ready,
 * one line per failed handshake on stderr. TERM or INT stops it; workers
 * free everything before exiting, so valgrind sees no leak, and say so
 * on stderr if mbedTLS's heap (tls_heap.c keeps its small blocks) still
 * holds anything.
 *
 * Built with -DTLS_ECHO_PLAIN it serves plain HTTP without tls/ or mbedTLS:
 * the size of that twin is the cost of TLS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../platform/os.h"
#ifndef TLS_ECHO_PLAIN
#include "../../tls/tls.h"
#endif

#define ECHO_WORKERS_MAX	16
#define ECHO_NAMES_MAX		8
#define ECHO_HEAD_MAX		4096	/* bytes of request head */
#define ECHO_IO_MS		5000	/* per request: head, reply */
#define ECHO_HOLD_MS		30000	/* /hold: at most */
#define ECHO_LINGER_MS		1000	/* reading after close_notify */

struct echo {
	int		 lfd, epfd, rootfd;
	unsigned	 workers;
	unsigned	 handshake_ms;
	unsigned	 pressure_ms;	/* 0: no cut */
	struct io_watch	 watch;
#ifndef TLS_ECHO_PLAIN
	struct tls_settings	 set;
	struct tls_server	*tls;
	const char		*names[ECHO_NAMES_MAX + 1];
	int			 nnames;
#endif
};

/* "Pool pressure": the listener is readable, someone waits to be accepted. */
static int64_t
echo_cut(void *arg)
{
	struct echo	*e = arg;

	return os_now_ms() + e->pressure_ms;
}

/* 0 and *out set, or -1: empty, non-digit, or above max */
static int
echo_parse_uint(const char *p, unsigned max, unsigned *out)
{
	unsigned	 v = 0, d;

	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		d = (unsigned)(unsigned char)*p - '0';
		if (d > 9 || d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int
echo_reply(struct io *io, const char *status, const char *body,
    uint64_t body_len, bool with_body, int64_t deadline_ms)
{
	char		 head[256];
	struct iovec	 iov[2];
	int		 n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Length: "
	    "%llu\r\nConnection: close\r\n\r\n", status,
	    (unsigned long long)body_len);
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = with_body ? (size_t)body_len : 0;
	return io->writev(io, iov, 2, deadline_ms);
}

/* GET /f/NAME: the file through io->sendfile */
static int
echo_file(struct echo *e, struct io *io, const char *name, int64_t dl)
{
	static const char	 missing[] = "not found\n";
	struct os_stat		 st;
	off_t			 off = 0;
	ssize_t			 n = 0;
	int			 fd, rc;

	if (strstr(name, "..") == NULL &&
	    os_open_beneath(e->rootfd, name, &fd, &st) == 0) {
		if (st.is_reg) {
			rc = echo_reply(io, "200 OK", NULL, st.size, false, dl);
			while (rc == 0 && (uint64_t)off < st.size && n != -1)
				n = io->sendfile(io, fd, &off,
				    (size_t)(st.size - (uint64_t)off), dl);
			if (n == -1)
				rc = -1;
			os_close(fd);
			return rc;
		}
		os_close(fd);
	}
	return echo_reply(io, "404 Not Found", missing, sizeof(missing) - 1,
	    true, dl);
}

/* Reads the request head; its target, NUL-terminated in buf, or NULL. */
static char *
echo_read_head(struct io *io, char *buf, size_t size, int64_t dl)
{
	size_t	 used = 0;
	ssize_t	 n;
	char	*p, *end;

	buf[0] = '\0';
	while (strstr(buf, "\r\n\r\n") == NULL) {
		if (used + 1 >= size)
			return NULL;
		if ((n = io->read(io, buf + used, size - 1 - used, dl)) <= 0)
			return NULL;
		used += (size_t)n;
		buf[used] = '\0';
	}
	if (strncmp(buf, "GET ", 4) != 0)
		return NULL;
	p = buf + 4;
	if ((end = strchr(p, ' ')) == NULL)
		return NULL;
	*end = '\0';
	return p;
}

/* GET /heap: mbedTLS's heap in this worker; the peak restarts. */
static int
echo_heap(char *buf, size_t size)
{
#ifndef TLS_ECHO_PLAIN
	struct tls_heap_stats	 st;
	int			 n;

	tls_heap_stats(&st);
	tls_heap_peak_reset();
	n = snprintf(buf, size, "live %zu peak %zu cached %zu\n",
	    st.live_bytes, st.peak_bytes, st.cached_bytes);
	return n < 0 || (size_t)n >= size ? 0 : n;
#else
	(void)size;
	buf[0] = '\0';
	return 0;
#endif
}

static void
echo_serve(struct echo *e, struct io *io)
{
	char		 buf[ECHO_HEAD_MAX], body[64];
	char		*target;
	int64_t		 dl = os_now_ms() + ECHO_IO_MS;
	int		 n, rc = -1;

	n = snprintf(body, sizeof(body), "worker %ld\n", (long)os_getpid());
	if ((target = echo_read_head(io, buf, sizeof(buf), dl)) == NULL)
		goto done;
	if (strncmp(target, "/f/", 3) == 0)
		rc = echo_file(e, io, target + 3, dl);
	else if (strcmp(target, "/heap") == 0) {
		n = echo_heap(body, sizeof(body));
		rc = echo_reply(io, "200 OK", body, (uint64_t)n, true, dl);
	} else
		rc = echo_reply(io, "200 OK", body, (uint64_t)n, true, dl);
	if (rc == 0 && strcmp(target, "/hold") == 0)
		while (io->read(io, buf, sizeof(buf),
		    os_now_ms() + ECHO_HOLD_MS) > 0)
			;
done:
	if (rc == -1)
		fprintf(stderr, "tls_echo[%ld]: request: %s\n",
		    (long)os_getpid(), strerror(errno));
	/* Read what the client still sends, so closing sends no RST that
	 * could destroy the end of the response in its receive buffer. */
	io->shutdown(io, os_now_ms() + ECHO_LINGER_MS);
	while (io->read(io, buf, sizeof(buf), os_now_ms() + ECHO_LINGER_MS)
	    > 0)
		;
	io->close(io);
}

static int
echo_accept(struct echo *e, struct io *io, int fd)
{
#ifdef TLS_ECHO_PLAIN
	(void)e;
	os_io_plain(io, fd);
	return 0;
#else
	os_io_plain(io, fd);
	if (e->pressure_ms > 0)
		io->watch = &e->watch;
	if (tls_accept(e->tls, io, os_now_ms() + e->handshake_ms) == 0) {
		io->watch = NULL;
		return 0;
	}
	fprintf(stderr, "tls_echo[%ld]: handshake failed: %s\n",
	    (long)os_getpid(), strerror(errno));
	os_close(fd);
	return -1;
#endif
}

/* Everything freed, yet mbedTLS's heap holds blocks: a leak. */
static void
echo_free(struct echo *e)
{
#ifndef TLS_ECHO_PLAIN
	struct tls_heap_stats	 st;

	tls_server_free(e->tls);
	e->tls = NULL;
	tls_heap_stats(&st);
	if (st.live_blocks != 0)
		fprintf(stderr, "tls_echo[%ld]: leaked %zu blocks (%zu bytes) "
		    "of mbedTLS's heap\n", (long)os_getpid(), st.live_blocks,
		    st.live_bytes);
#endif
	if (e->epfd != -1)
		os_close(e->epfd);
	if (e->rootfd != -1)
		os_close(e->rootfd);
	os_close(e->lfd);
}

static int
echo_worker(struct echo *e, pid_t parent)
{
	struct os_peer	 peer;
	struct io	 io;
	int		 fd, which;

	os_signal_worker();
	if (os_die_with_parent(parent) == -1)
		return 1;
#ifndef TLS_ECHO_PLAIN
	if (tls_worker_init(e->tls) == -1) {
		fprintf(stderr, "tls_echo: tls_worker_init: %s\n",
		    strerror(errno));
		return 1;
	}
#endif
	if ((e->epfd = os_accepter_open(&e->lfd, 1)) == -1) {
		fprintf(stderr, "tls_echo: epoll: %s\n", strerror(errno));
		return 1;
	}
	e->watch.fds[0] = e->lfd;
	e->watch.nfds = 1;
	e->watch.cut = echo_cut;
	e->watch.arg = e;
	for (;;) {
		fd = os_accept(e->epfd, &e->lfd, 1, &peer, &which);
		if (fd == -1) {
			if (errno == EINTR && (os_signal_take() & OS_SIG_TERM))
				break;
			continue;
		}
		if (echo_accept(e, &io, fd) == 0)
			echo_serve(e, &io);
	}
	echo_free(e);
	return 0;
}

static pid_t
echo_spawn(struct echo *e)
{
	pid_t	 pid, parent = getpid();

	if ((pid = os_fork()) == 0)
		exit(echo_worker(e, parent));
	if (pid == -1)
		fprintf(stderr, "tls_echo: fork: %s\n", strerror(errno));
	return pid;
}

/* Runs the workers until TERM or INT; respawns one that dies. */
static int
echo_master(struct echo *e)
{
	pid_t		 pids[ECHO_WORKERS_MAX], pid;
	unsigned	 i, got = 0, live;
	int		 status;
	int64_t		 dl;

	for (i = 0; i < e->workers; i++)
		if ((pids[i] = echo_spawn(e)) == -1)
			return 1;
	while (!(got & (OS_SIG_TERM | OS_SIG_INT))) {
		os_signal_wait(OS_NO_DEADLINE);
		got = os_signal_take();
		while (!(got & (OS_SIG_TERM | OS_SIG_INT)) &&
		    os_reap(&pid, &status) == 1)
			for (i = 0; i < e->workers; i++)
				if (pids[i] == pid) {
					fprintf(stderr, "tls_echo: worker %ld "
					    "died (status %d), respawning\n",
					    (long)pid, status);
					pids[i] = echo_spawn(e);
				}
	}
	for (i = 0; i < e->workers; i++)
		if (pids[i] > 0)
			os_signal_send(pids[i], OS_SIG_TERM);
	dl = os_now_ms() + ECHO_HOLD_MS + 5000;
	for (live = e->workers; live > 0 && os_now_ms() < dl;) {
		while (os_reap(&pid, &status) == 1)
			live--;
		if (live > 0)
			os_signal_wait(os_now_ms() + 100);
	}
	return live == 0 ? 0 : 1;
}

static int
echo_usage(void)
{
	fprintf(stderr, "usage: tls_echo -p PORT [-w WORKERS] [-c CERT -k KEY]"
	    " [-a] [-n NAME]... [-l TICKET_LIFETIME_S] [-t HANDSHAKE_MS]"
	    " [-P PRESSURE_MS] [-r ROOT]\n");
	return 2;
}

static int
echo_options(struct echo *e, int argc, char *argv[], unsigned *port,
    const char **root)
{
	const char	*v;
	int		 i;
	unsigned	 n;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '\0' ||
		    argv[i][2] != '\0')
			return -1;
		if (argv[i][1] == 'a') {
#ifndef TLS_ECHO_PLAIN
			e->set.autogen = true;
#endif
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		v = argv[++i];
		switch (argv[i - 1][1]) {
		case 'p':
			if (echo_parse_uint(v, 65535, port) == -1 || *port == 0)
				return -1;
			break;
		case 'w':
			if (echo_parse_uint(v, ECHO_WORKERS_MAX, &e->workers)
			    == -1 || e->workers == 0)
				return -1;
			break;
		case 't':
			if (echo_parse_uint(v, 600000, &e->handshake_ms) == -1)
				return -1;
			break;
		case 'P':
			if (echo_parse_uint(v, 600000, &e->pressure_ms) == -1)
				return -1;
			break;
		case 'r':
			*root = v;
			break;
#ifndef TLS_ECHO_PLAIN
		case 'c':
			e->set.cert_file = v;
			break;
		case 'k':
			e->set.key_file = v;
			break;
		case 'n':
			if (e->nnames == ECHO_NAMES_MAX)
				return -1;
			e->names[e->nnames++] = v;
			e->set.names = e->names;
			break;
		case 'l':
			if (echo_parse_uint(v, 1000000000, &n) == -1)
				return -1;
			e->set.ticket_lifetime = n;
			break;
#endif
		default:
			return -1;
		}
	}
	(void)n;
	return *port == 0 ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	static struct echo	 e;
	struct os_addr		 addr;
	char			 spec[32], err[512];
	const char		*root = ".";
	unsigned		 port = 0;
	int			 rc;

	e.workers = 2;
	e.handshake_ms = 3000;
	e.epfd = e.rootfd = -1;
#ifndef TLS_ECHO_PLAIN
	e.set.ticket_lifetime = 3600;
#endif
	if (echo_options(&e, argc, argv, &port, &root) == -1)
		return echo_usage();
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", port);
	if (os_addr_parse(spec, &addr) == -1 ||
	    (e.lfd = os_listen(&addr, 64, 0)) == -1) {
		fprintf(stderr, "tls_echo: %s: %s\n", spec, strerror(errno));
		return 1;
	}
	if ((e.rootfd = os_open_dir(root)) == -1) {
		fprintf(stderr, "tls_echo: %s: %s\n", root, strerror(errno));
		return 1;
	}
#ifndef TLS_ECHO_PLAIN
	if ((e.tls = tls_server_new(&e.set, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tls_echo: %s\n", err);
		return 1;
	}
	if (err[0] != '\0')
		fprintf(stderr, "tls_echo: warning: %s\n", err);
#else
	(void)err;
#endif
	os_signal_master();
	printf("tls_echo: listening on %s\n", spec);
	fflush(stdout);
	rc = echo_master(&e);
	echo_free(&e);
	return rc;
}
