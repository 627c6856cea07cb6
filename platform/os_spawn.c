/*
 * Spawning a child (a CGI): its own process group, default signal
 * dispositions, an empty mask, the given stdio and nothing else open. If
 * exec fails, its errno comes back over a close-on-exec pipe, so the
 * caller can log why instead of seeing a child that exited with 127.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.h"
#include "os_internal.h"

_Static_assert(OS_POLL_IN == POLLIN && OS_POLL_OUT == POLLOUT &&
    OS_POLL_ERR == POLLERR && OS_POLL_HUP == POLLHUP, "poll bits");

static void
child_dup(int from, int to)
{
	if (from == to) {
		/* Keep it across exec: clear the close-on-exec flag. */
		(void)fcntl(to, F_SETFD, 0);
		return;
	}
	(void)dup2(from, to);
}

static void
child_exec(const struct os_spawn *sp, int errfd)
{
	int	 err, null;

	(void)setpgid(0, 0);
	os_signal_child_defaults();
	null = open("/dev/null", O_RDWR);
	/* Move the stdio sources above 2 first, so no dup2 clobbers one. */
	child_dup(sp->stdin_fd >= 0 ? sp->stdin_fd : null, STDIN_FILENO);
	child_dup(sp->stdout_fd >= 0 ? sp->stdout_fd : null, STDOUT_FILENO);
	child_dup(sp->stderr_fd >= 0 ? sp->stderr_fd : null, STDERR_FILENO);
	if (null > STDERR_FILENO)
		close(null);
	if (sp->dir != NULL && chdir(sp->dir) == -1)
		goto fail;
	execve(sp->path, sp->argv, sp->envp);
fail:
	err = errno;
	(void)!write(errfd, &err, sizeof(err));
	_exit(127);
}

/*
 * The caller's stdio fds must be 3 or above (porch keeps 0-2 open), so
 * the dup2 calls in the child cannot overwrite one another.
 */
pid_t
os_spawn(const struct os_spawn *sp)
{
	int	 errp[2], err;
	ssize_t	 n;
	pid_t	 pid;

	if (pipe2(errp, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		err = errno;
		close(errp[0]);
		close(errp[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		close(errp[0]);
		child_exec(sp, errp[1]);
	}
	(void)setpgid(pid, pid);	/* both sides: no race with kill */
	close(errp[1]);
	do
		n = read(errp[0], &err, sizeof(err));
	while (n == -1 && errno == EINTR);
	close(errp[0]);
	if (n == (ssize_t)sizeof(err)) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		errno = err;
		return -1;
	}
	return pid;
}

/* Waits for pid: 1 reaped (*status set), 0 still running (no block). */
int
os_waitpid(pid_t pid, int *status, bool block)
{
	pid_t	 p;

	do
		p = waitpid(pid, status, block ? 0 : WNOHANG);
	while (p == -1 && errno == EINTR);
	if (p == -1)
		return -1;
	return p == pid ? 1 : 0;
}

/* Non-blocking write: bytes written, or -1 (EAGAIN when full). */
ssize_t
os_write_some(int fd, const void *buf, size_t len)
{
	ssize_t	 n;

	do
		n = write(fd, buf, len);
	while (n == -1 && errno == EINTR);
	return n;
}

/* 0, 1 and 2 open (on /dev/null if need be): a pipe must never land there. */
int
os_ensure_stdio(void)
{
	int	 fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= STDERR_FILENO)
		;
	if (fd == -1)
		return -1;
	return close(fd);
}
