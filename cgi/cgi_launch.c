/*
 * The CGI launcher (cgi_user): a process of its own, running as the CGIs'
 * identity, that starts scripts for the workers. A worker cannot start a
 * process as another user, and a CGI running as the workers' user could
 * signal them and read what they can; so with cgi_user set, each worker
 * asks the launcher over a channel: the checked script, its directory and
 * its pipes travel as descriptors, the path and environment as bytes. The
 * launcher reaps its scripts and tells the worker each end; it signals a
 * script's process group only for the worker that asked for it. Every
 * message is bounded and checked: a launcher runs on what workers send.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cgi_internal.h"

#define LAUNCH_WORKERS	136	/* channels: the pool, old and new */
#define LAUNCH_SCRIPTS	256	/* scripts alive at once */

static struct {
	int	 chan[LAUNCH_WORKERS];		/* -1: free */
	struct {
		pid_t	 pid;			/* 0: free */
		int	 owner;			/* index in chan; -1 gone */
		bool	 killing;		/* its group goes with it */
	}	 script[LAUNCH_SCRIPTS];
	char	 msg[CGI_MSG_MAX];
	char	*envp[CGI_ENV_VARS];
} ln;

static void
launch_reply(int chan, enum cgi_msg_type type, pid_t pid, int arg)
{
	struct cgi_msg	 m = { (uint32_t)type, (int32_t)pid, arg, 0 };

	/* A worker that stopped reading its channel loses the message. */
	(void)os_chan_send(chan, &m, sizeof(m), NULL, 0);
}

static void
launch_close_fds(int *fds, int n)
{
	while (n-- > 0)
		os_close(fds[n]);
}

/* envp from the NUL-terminated strings at p[0..len); -1 if malformed. */
static int
launch_env(char *p, size_t len)
{
	size_t	 n = 0, k;

	while (len > 0) {
		if (n + 1 >= CGI_ENV_VARS ||
		    (k = strnlen(p, len)) == len || strchr(p, '=') == NULL)
			return -1;
		ln.envp[n++] = p;
		p += k + 1;
		len -= k + 1;
	}
	ln.envp[n] = NULL;
	return 0;
}

static void
launch_spawn(int w, size_t len, int *fds, int nfds)
{
	const struct cgi_msg	*m = (const struct cgi_msg *)ln.msg;
	struct os_spawn		 sp;
	char			*path = ln.msg + sizeof(*m), *argv[2];
	size_t			 i;
	pid_t			 pid;

	if (nfds != (m->arg ? 5 : 4) || m->pathlen == 0 ||
	    m->pathlen > len - sizeof(*m) || path[m->pathlen - 1] != '\0' ||
	    launch_env(path + m->pathlen, len - sizeof(*m) - m->pathlen) ==
	    -1) {
		launch_reply(ln.chan[w], CGI_MSG_SPAWNED, -EINVAL, 0);
		launch_close_fds(fds, nfds);
		return;
	}
	for (i = 0; i < LAUNCH_SCRIPTS && ln.script[i].pid != 0; i++)
		;
	argv[0] = path;
	argv[1] = NULL;
	memset(&sp, 0, sizeof(sp));
	sp.exec_fd = fds[0];
	sp.dir_fd = fds[1];
	sp.stdout_fd = fds[2];
	sp.stderr_fd = fds[3];
	sp.stdin_fd = m->arg ? fds[4] : -1;
	sp.argv = argv;
	sp.envp = ln.envp;
	if (i == LAUNCH_SCRIPTS) {
		pid = -1;
		errno = EAGAIN;
	} else
		pid = os_spawn(&sp);
	launch_close_fds(fds, nfds);
	if (pid == -1) {
		launch_reply(ln.chan[w], CGI_MSG_SPAWNED, -errno, 0);
		return;
	}
	ln.script[i].pid = pid;
	ln.script[i].owner = w;
	ln.script[i].killing = false;
	launch_reply(ln.chan[w], CGI_MSG_SPAWNED, pid, 0);
}

/* A script's group, signalled for the worker that started it only. */
static void
launch_signal(int w, pid_t pid, int sig)
{
	size_t	 i;

	if (sig != SIGTERM && sig != SIGKILL)
		return;
	for (i = 0; i < LAUNCH_SCRIPTS; i++)
		if (ln.script[i].pid == pid && pid > 0 &&
		    ln.script[i].owner == w) {
			ln.script[i].killing = true;
			(void)os_kill_group(pid, sig);
		}
}

/* A worker went away: its scripts go with it. */
static void
launch_drop(int w)
{
	size_t	 i;

	for (i = 0; i < LAUNCH_SCRIPTS; i++)
		if (ln.script[i].pid != 0 && ln.script[i].owner == w) {
			(void)os_kill_group(ln.script[i].pid, SIGKILL);
			ln.script[i].owner = -1;
			ln.script[i].killing = true;
		}
	os_close(ln.chan[w]);
	ln.chan[w] = -1;
}

static void
launch_reap(void)
{
	pid_t	 pid;
	size_t	 i;
	int	 status;

	while (os_reap(&pid, &status) == 1)
		for (i = 0; i < LAUNCH_SCRIPTS; i++)
			if (ln.script[i].pid == pid) {
				/* being killed: what it left in its group too */
				if (ln.script[i].killing)
					(void)os_kill_group(pid, SIGKILL);
				if (ln.script[i].owner >= 0)
					launch_reply(ln.chan[ln.script[i].owner],
					    CGI_MSG_EXITED, pid, status);
				ln.script[i].pid = 0;
			}
}

/* One message from worker w. */
static void
launch_from_worker(int w)
{
	const struct cgi_msg	*m = (const struct cgi_msg *)ln.msg;
	int			 fds[OS_CHAN_FDS_MAX], nfds = OS_CHAN_FDS_MAX;
	ssize_t			 n;

	n = os_chan_recv(ln.chan[w], ln.msg, sizeof(ln.msg), fds, &nfds);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		launch_drop(w);
		return;
	}
	if ((size_t)n < sizeof(*m)) {
		launch_close_fds(fds, nfds);
		return;
	}
	if (m->type == CGI_MSG_SPAWN)
		launch_spawn(w, (size_t)n, fds, nfds);
	else {
		launch_close_fds(fds, nfds);
		if (m->type == CGI_MSG_SIGNAL)
			launch_signal(w, m->pid, m->arg);
	}
}

/* The master's message: a new worker's channel. false: the master left. */
static bool
launch_from_master(int master)
{
	struct cgi_msg	 m;
	int		 fd, nfds = 1, w;
	ssize_t		 n;

	n = os_chan_recv(master, &m, sizeof(m), &fd, &nfds);
	if (n == -1 && errno == EAGAIN)
		return true;
	if (n <= 0)
		return false;
	if (nfds != 1)
		return true;
	for (w = 0; w < LAUNCH_WORKERS && ln.chan[w] != -1; w++)
		;
	if (w == LAUNCH_WORKERS || m.type != CGI_MSG_WORKER)
		os_close(fd);		/* that worker runs no CGI */
	else
		ln.chan[w] = fd;
	return true;
}

/*
 * The launcher's life, after it has become the CGIs' user: serve the
 * master and the workers until the master leaves.
 */
void
cgi_launch_serve(int master)
{
	struct os_pollfd	 pf[1 + LAUNCH_WORKERS];
	int			 who[1 + LAUNCH_WORKERS], n, i, w;

	for (w = 0; w < LAUNCH_WORKERS; w++)
		ln.chan[w] = -1;
	for (;;) {
		if (os_signal_take() & OS_SIG_TERM)
			break;
		launch_reap();
		pf[0] = (struct os_pollfd){ master, OS_POLL_IN, 0 };
		for (n = 1, w = 0; w < LAUNCH_WORKERS; w++)
			if (ln.chan[w] != -1) {
				pf[n] = (struct os_pollfd){ ln.chan[w],
				    OS_POLL_IN, 0 };
				who[n++] = w;
			}
		if (os_wait_fds(pf, n, OS_NO_DEADLINE) <= 0)
			continue;	/* a signal: reap, or stop */
		if (pf[0].revents != 0 && !launch_from_master(master))
			break;
		for (i = 1; i < n; i++)
			if (pf[i].revents != 0)
				launch_from_worker(who[i]);
	}
	for (w = 0; w < LAUNCH_WORKERS; w++)
		if (ln.chan[w] != -1)
			launch_drop(w);
	launch_reap();
	exit(0);
}

/* Master: hands a new worker's end of its channel to the launcher. */
int
cgi_launch_add(int master, int worker_chan)
{
	struct cgi_msg	 m = { CGI_MSG_WORKER, 0, 0, 0 };

	return os_chan_send(master, &m, sizeof(m), &worker_chan, 1);
}
