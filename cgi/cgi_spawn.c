/*
 * Starting and stopping a script: pipes for its stdio, its own process
 * group, and a kill that reaches everything it started in that group.
 * The worker starts it itself, or, with cgi_user, asks the launcher
 * (cgi_launch.c) over its channel, which then signals and reaps it.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cgi_internal.h"

#define CGI_KILL_POLL_MS	10
#define CGI_LAUNCH_WAIT_MS	5000	/* for the launcher's answer */

static void
close_pair(int p[2])
{
	if (p[0] != -1)
		os_close(p[0]);
	if (p[1] != -1)
		os_close(p[1]);
}

/*
 * The next message from the launcher, within deadline: 0 (into m), or -1
 * (ETIMEDOUT, or the launcher is gone). EXITED messages of earlier
 * scripts are taken in passing.
 */
static int
launch_read(struct cgi_proc *p, struct cgi_msg *m, int64_t deadline)
{
	struct os_pollfd	 pf = { p->chan, OS_POLL_IN, 0 };
	int			 nfds;
	ssize_t			 n;

	for (;;) {
		nfds = 0;
		n = os_chan_recv(p->chan, m, sizeof(*m), NULL, &nfds);
		if (n == (ssize_t)sizeof(*m))
			return 0;
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			errno = EPIPE;
			return -1;
		}
		if (n > 0)
			continue;	/* not a message of ours: skipped */
		if (os_poll(&pf, 1, &deadline, NULL) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* Takes the launcher's news without waiting: has p's script ended? */
static void
launch_news(struct cgi_proc *p, int64_t deadline)
{
	struct cgi_msg	 m;

	while (!p->exited && launch_read(p, &m, deadline) == 0)
		if (m.type == CGI_MSG_EXITED && m.pid == p->pid)
			p->exited = true;
}

/* The launcher runs the script; p->pid from its answer. */
static int
launch_spawn(struct cgi_proc *p, const char *path, int fd, int dir,
    char **envp, const int *in, const int *out, const int *err)
{
	static char	 msg[CGI_MSG_MAX];
	struct cgi_msg	 m, *hd = (struct cgi_msg *)msg;
	size_t		 len = sizeof(*hd), k = strlen(path) + 1;
	int		 fds[5] = { fd, dir, out[1], err[1], in[0] };

	memset(hd, 0, sizeof(*hd));
	hd->type = CGI_MSG_SPAWN;
	hd->arg = in[0] != -1;
	hd->pathlen = (uint32_t)k;
	if (len + k > sizeof(msg))
		goto big;
	memcpy(msg + len, path, k);
	len += k;
	for (; *envp != NULL; envp++) {
		if (len + (k = strlen(*envp) + 1) > sizeof(msg))
			goto big;
		memcpy(msg + len, *envp, k);
		len += k;
	}
	if (os_chan_send(p->chan, msg, len, fds, in[0] != -1 ? 5 : 4) == -1)
		return -1;
	do
		if (launch_read(p, &m, os_now_ms() + CGI_LAUNCH_WAIT_MS) == -1)
			return -1;
	while (m.type != CGI_MSG_SPAWNED);
	if (m.pid <= 0) {
		errno = -m.pid;
		return -1;
	}
	p->pid = m.pid;
	return 0;
big:
	errno = E2BIG;
	return -1;
}

/*
 * Runs the script open as fd (its name, for argv[0], is path) in the
 * directory open as dir; by the launcher on chan, unless chan is -1. 0
 * with p filled, or -1 (errno set) and nothing left open.
 */
int
cgi_spawn(int chan, const char *path, int fd, int dir, char **envp,
    bool with_stdin, struct cgi_proc *p)
{
	struct os_spawn	 sp;
	char		*argv[2];
	int		 in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int		 err[2] = { -1, -1 }, saved, rc;

	memset(p, 0, sizeof(*p));
	p->in = p->out = p->err = -1;
	p->chan = chan;
	if ((with_stdin && os_pipe(in) == -1) || os_pipe(out) == -1 ||
	    os_pipe(err) == -1)
		goto fail;
	if (chan != -1)
		rc = launch_spawn(p, path, fd, dir, envp, in, out, err);
	else {
		argv[0] = (char *)(uintptr_t)path;
		argv[1] = NULL;
		memset(&sp, 0, sizeof(sp));
		sp.exec_fd = fd;
		sp.argv = argv;
		sp.envp = envp;
		sp.dir_fd = dir;
		sp.stdin_fd = in[0];
		sp.stdout_fd = out[1];
		sp.stderr_fd = err[1];
		rc = (p->pid = os_spawn(&sp)) == -1 ? -1 : 0;
	}
	if (rc == -1)
		goto fail;
	if (in[0] != -1)
		os_close(in[0]);
	os_close(out[1]);
	os_close(err[1]);
	p->in = in[1];
	p->out = out[0];
	p->err = err[0];
	if ((p->in != -1 && os_set_nonblock(p->in, true) == -1) ||
	    os_set_nonblock(p->out, true) == -1 ||
	    os_set_nonblock(p->err, true) == -1) {
		saved = errno;
		cgi_kill(p, 0);
		cgi_close(p);
		errno = saved;
		return -1;
	}
	return 0;
fail:
	saved = errno;
	close_pair(in);
	close_pair(out);
	close_pair(err);
	errno = saved;
	return -1;
}

/* True while the script (its group leader) has not ended. */
bool
cgi_running(struct cgi_proc *p)
{
	int	 status;

	if (p->pid <= 0)
		return false;
	if (p->chan == -1)
		return os_waitpid(p->pid, &status, false) == 0;
	launch_news(p, 0);
	return !p->exited;
}

static void
cgi_signal(struct cgi_proc *p, int sig)
{
	struct cgi_msg	 m = { CGI_MSG_SIGNAL, (int32_t)p->pid, sig, 0 };

	if (p->chan == -1)
		(void)os_kill_group(p->pid, sig);
	else
		(void)os_chan_send(p->chan, &m, sizeof(m), NULL, 0);
}

/*
 * TERM to the whole process group, KILL after grace_ms, and reap the
 * script. Grandchildren left in the group die with it; the worker (or the
 * launcher) is a child subreaper, so it reaps them too (worker.c).
 */
void
cgi_kill(struct cgi_proc *p, int64_t grace_ms)
{
	int64_t	 deadline = os_now_ms() + grace_ms, pause = 1;
	int	 status;

	if (p->pid <= 0)
		return;
	cgi_signal(p, SIGTERM);
	/* Most scripts die within a millisecond of TERM: look again soon,
	 * then less often, so killing one does not cost the worker 10 ms. */
	while (cgi_running(p)) {
		if (os_now_ms() >= deadline) {
			cgi_signal(p, SIGKILL);
			if (p->chan == -1)
				(void)os_waitpid(p->pid, &status, true);
			else
				launch_news(p, os_now_ms() + CGI_LAUNCH_WAIT_MS);
			break;
		}
		os_sleep_ms(pause);
		if (pause < CGI_KILL_POLL_MS)
			pause *= 2;
	}
	/* The rest of the group, if any, after the leader is gone. */
	cgi_signal(p, SIGKILL);
	p->pid = 0;
}

void
cgi_close(struct cgi_proc *p)
{
	if (p->in != -1)
		os_close(p->in);
	if (p->out != -1)
		os_close(p->out);
	if (p->err != -1)
		os_close(p->err);
	p->in = p->out = p->err = -1;
}
