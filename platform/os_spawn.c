/*
 * Spawning a child (a CGI) with posix_spawn: its own process group,
 * default signal dispositions, an empty mask, the given stdio and nothing
 * else open (every other descriptor of ours is close-on-exec). glibc and
 * musl run the child on the parent's memory until it execs (a vfork), so
 * a CGI costs no copy of the worker's page tables, and an exec that fails
 * comes back as the call's error instead of a child that exited with 127.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.h"
#include "os_internal.h"

_Static_assert(OS_POLL_IN == POLLIN && OS_POLL_OUT == POLLOUT &&
    OS_POLL_ERR == POLLERR && OS_POLL_HUP == POLLHUP, "poll bits");

/* fd becomes the child's target (0, 1 or 2); -1: /dev/null. */
static int
spawn_stdio(posix_spawn_file_actions_t *fa, int fd, int target)
{
	if (fd < 0)
		return posix_spawn_file_actions_addopen(fa, target,
		    "/dev/null", O_RDWR, 0);
	return posix_spawn_file_actions_adddup2(fa, fd, target);
}

/*
 * The caller's stdio fds must be 3 or above (porch keeps 0-2 open), so
 * the dup2 actions cannot overwrite one another, and each one clears the
 * close-on-exec flag of its copy.
 */
pid_t
os_spawn(const struct os_spawn *sp)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 all, none;
	pid_t				 pid;
	int				 rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		errno = rc;
		return -1;
	}
	if ((rc = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		errno = rc;
		return -1;
	}
	sigfillset(&all);
	sigemptyset(&none);
	rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&attr, 0);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&attr, &all);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&attr, &none);
	if (rc == 0)
		rc = spawn_stdio(&fa, sp->stdin_fd, STDIN_FILENO);
	if (rc == 0)
		rc = spawn_stdio(&fa, sp->stdout_fd, STDOUT_FILENO);
	if (rc == 0)
		rc = spawn_stdio(&fa, sp->stderr_fd, STDERR_FILENO);
	if (rc == 0 && sp->dir != NULL)
		rc = posix_spawn_file_actions_addchdir_np(&fa, sp->dir);
	if (rc == 0)
		rc = posix_spawn(&pid, sp->path, &fa, &attr, sp->argv,
		    sp->envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
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
