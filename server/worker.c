/*
 * A worker: blocks in accept, serves that one connection's keep-alive
 * loop to its end, and goes back to accept. It exits when the master's
 * generation moves on (reload), on a graceful stop, or when it has served
 * max_requests_per_worker (recycling); never because of a client.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

bool
worker_should_close(struct worker *w)
{
	const struct scoreboard	*sb = w->sb;
	unsigned		 max = w->conf->max_requests_per_worker;

	return w->term || sb->stopping || sb->generation != w->generation ||
	    (max != 0 && w->served >= max);
}

/*
 * The pool is under pressure when a connection waits to be accepted. An
 * idle worker would take it at once, so the accept queue is only asked
 * (a getsockopt per listener) when no worker of ours is idle.
 */
bool
worker_pool_pressure(struct worker *w)
{
	int64_t	 now;
	int	 i, n;

	if (sb_idle_workers(w->sb) > 0)
		return false;
	/* A busy worker asks at most once a millisecond. */
	now = os_now_ms();
	if (now == w->pressure_ms)
		return w->pressure;
	w->pressure_ms = now;
	w->queued = 0;
	for (i = 0; i < w->nlisten; i++)
		if ((n = os_listen_queue(w->listen_fds[i])) > 0)
			w->queued += (unsigned)n;
	w->pressure = w->queued > 0;
	return w->pressure;
}

/*
 * The idle wait saw the listeners quiet when its connection woke it: the
 * accept queue is empty now, which saves this millisecond's question.
 */
void
worker_pool_calm(struct worker *w)
{
	w->pressure_ms = os_now_ms();
	w->pressure = false;
	w->queued = 0;
}

/*
 * Under pressure, how long a busy connection keeps its worker: the turn
 * that lets the workers reach every queued connection within
 * pressure_wait, never shorter than pressure_slice. Long turns when few
 * wait spare reconnects (and TLS handshakes); short ones when many wait
 * keep their latency bounded. Call after worker_pool_pressure said yes.
 */
int64_t
worker_pressure_slice(struct worker *w)
{
	const struct conf	*cf = w->conf;
	uint64_t		 turn;

	if (w->queued == 0)
		return cf->pressure_slice;
	turn = (uint64_t)cf->pressure_wait * cf->workers / w->queued;
	if (turn > cf->pressure_wait)
		turn = cf->pressure_wait;
	if (turn < cf->pressure_slice)
		turn = cf->pressure_slice;
	return (int64_t)turn;
}

/* A watched wait's deadline under pressure: a body read or reply write. */
static int64_t
worker_cut_io(void *arg)
{
	struct worker	*w = arg;

	if (!worker_pool_pressure(w))
		return OS_NO_DEADLINE;
	return os_now_ms() + (int64_t)w->conf->pressure_io;
}

/* The rest of a TLS handshake under pressure: a slow network's round trip. */
static int64_t
worker_cut_handshake(void *arg)
{
	struct worker	*w = arg;

	if (!worker_pool_pressure(w))
		return OS_NO_DEADLINE;
	return os_now_ms() + (int64_t)w->conf->pressure_handshake;
}

/* The rest of a request head under pressure. */
static int64_t
worker_cut_head(void *arg)
{
	struct worker	*w = arg;

	if (!worker_pool_pressure(w))
		return OS_NO_DEADLINE;
	return os_now_ms() + (int64_t)w->conf->pressure_grace;
}

/*
 * Every wait for a client watches the listeners: a slow client whose wait
 * began while workers were idle must not keep a long deadline once
 * connections queue behind it (conn.c, cgi_relay.c).
 */
void
worker_watch_init(struct worker *w)
{
	int	 i;

	memset(&w->watch_io, 0, sizeof(w->watch_io));
	for (i = 0; i < w->nlisten && i < OS_WATCH_MAX; i++)
		w->watch_io.fds[w->watch_io.nfds++] = w->listen_fds[i];
	w->watch_head = w->watch_io;
	w->watch_handshake = w->watch_io;
	w->watch_io.cut = worker_cut_io;
	w->watch_io.arg = w;
	w->watch_head.cut = worker_cut_head;
	w->watch_head.arg = w;
	w->watch_handshake.cut = worker_cut_handshake;
	w->watch_handshake.arg = w;
}

/* The Date header's value, formatted at most once a second. */
const char *
worker_date(struct worker *w)
{
	int64_t	 now = os_wall_time();

	if (now != w->date_sec) {
		http_date_format(now, w->date);
		w->date_sec = now;
	}
	return w->date;
}

/* USR1 reached the master: it sent the reopened files, then bumped
 * log_epoch for every worker. */
void
worker_check_logs(struct worker *w)
{
	if (w->log_epoch != w->sb->log_epoch) {
		w->log_epoch = w->sb->log_epoch;
		log_take_fds(w->chan);
	}
}

/*
 * Signals that reached a worker: TERM means stop even when the master
 * could not say so in the scoreboard (it died: PR_SET_PDEATHSIG).
 */
void
worker_signals(struct worker *w)
{
	unsigned	 sigs = os_signal_take();

	if (sigs & OS_SIG_TERM)
		w->term = true;
	if (sigs & OS_SIG_CHLD)
		worker_reap();
	if (sigs & OS_SIG_USR1)
		worker_check_logs(w);
}

/* Reaps exited CGIs and their orphans (the worker is a subreaper). */
void
worker_reap(void)
{
	pid_t	 pid;
	int	 status;

	while (os_reap(&pid, &status) == 1)
		;
}

/*
 * The worker's buffers, allocated once: no request allocates. The input
 * buffer holds a head and, behind it, FILE_INLINE_MAX bytes of its body
 * (conn_body.c); the rest serve the response head, small files, and a
 * CGI's environment, output and stdin.
 */
void
worker_buffers(struct worker *w)
{
	const struct conf	*cf = w->conf;

	w->insize = cf->max_head_size + FILE_INLINE_MAX;
	w->inbuf = malloc(w->insize);
	w->out = malloc(CONN_OUT_SIZE);
	w->filebuf = malloc(FILE_INLINE_MAX);
	w->fields = calloc(cf->max_header_fields, sizeof(*w->fields));
	w->cgi_out = malloc(CGI_HEADER_MAX + CGI_PIPE_CHUNK);
	w->cgi_body = malloc(CGI_PIPE_CHUNK);
	w->cgi_env = malloc(CGI_ENV_SIZE);
	w->cgi_envp = calloc(CGI_ENV_VARS, sizeof(*w->cgi_envp));
	if (w->inbuf == NULL || w->out == NULL || w->filebuf == NULL ||
	    w->fields == NULL || w->cgi_out == NULL || w->cgi_body == NULL ||
	    w->cgi_env == NULL || w->cgi_envp == NULL)
		fatalx("out of memory for the worker's buffers");
}

void
worker_run(struct worker *w)
{
	struct os_peer	 peer;
	int		 fd, which;

	/* qemu-user refuses it (EINVAL): orphans then go to init. */
	if (os_child_subreaper() == -1)
		log_debug("prctl(PR_SET_CHILD_SUBREAPER) failed");
	for (;;) {
		worker_signals(w);
		worker_check_logs(w);
		if (worker_should_close(w))
			break;
		sb_set_state(w->slot, SB_ACCEPTING);
		fd = os_accept(w->accept_fd, w->listen_fds, w->nlisten, &peer,
		    &which);
		if (fd == -1) {
			if (errno == EINTR)
				continue;
			log_warn("accept");
			/* EMFILE and friends leave the listener readable:
			 * pause instead of spinning until a descriptor frees. */
			os_sleep_ms(100);
			continue;
		}
		w->slot->connections++;
		memcpy(w->slot->client, peer.addr, sizeof(w->slot->client));
		conn_serve(w, fd, &peer, w->listen_tls[which]);
		memset(w->slot->client, 0, sizeof(w->slot->client));
	}
	sb_set_state(w->slot, SB_CLOSING);
	exit(0);
}
