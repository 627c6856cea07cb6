/*
 * Starting and stopping a script: pipes for its stdio, its own process
 * group, and a kill that reaches everything it started in that group.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cgi.h"

#define CGI_KILL_POLL_MS	10

static void
close_pair(int p[2])
{
	if (p[0] != -1)
		os_close(p[0]);
	if (p[1] != -1)
		os_close(p[1]);
}

/*
 * Runs the script open as fd (its name, for argv[0], is path) in the
 * directory open as dir. 0 with p filled, or -1 (errno set) and nothing
 * left open.
 */
int
cgi_spawn(const char *path, int fd, int dir, char **envp, bool with_stdin,
    struct cgi_proc *p)
{
	struct os_spawn	 sp;
	char		*argv[2];
	int		 in[2] = { -1, -1 }, out[2] = { -1, -1 };
	int		 err[2] = { -1, -1 }, saved;

	if ((with_stdin && os_pipe(in) == -1) || os_pipe(out) == -1 ||
	    os_pipe(err) == -1)
		goto fail;
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
	if ((p->pid = os_spawn(&sp)) == -1)
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

/*
 * TERM to the whole process group, KILL after grace_ms, and reap the
 * script. Grandchildren left in the group die with it; the worker is a
 * child subreaper, so it reaps them too (worker.c).
 */
void
cgi_kill(struct cgi_proc *p, int64_t grace_ms)
{
	int64_t	 deadline = os_now_ms() + grace_ms, pause = 1;
	int	 status;

	if (p->pid <= 0)
		return;
	(void)os_kill_group(p->pid, SIGTERM);
	/* Most scripts die within a millisecond of TERM: look again soon,
	 * then less often, so killing one does not cost the worker 10 ms. */
	while (os_waitpid(p->pid, &status, false) == 0) {
		if (os_now_ms() >= deadline) {
			(void)os_kill_group(p->pid, SIGKILL);
			(void)os_waitpid(p->pid, &status, true);
			break;
		}
		os_sleep_ms(pause);
		if (pause < CGI_KILL_POLL_MS)
			pause *= 2;
	}
	/* The rest of the group, if any, after the leader is gone. */
	(void)os_kill_group(p->pid, SIGKILL);
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
