/*
 * Spawning a child (a CGI): its own process group, default signal
 * dispositions, an empty mask, the given stdio, the checked working
 * directory, and nothing else open. The file executed is the descriptor
 * the caller checked beneath the document root (execveat on it), never a
 * name looked up again, so a symlink swapped in between cannot run. A
 * vfork child runs on the parent's memory until it execs, so a CGI costs
 * no copy of the worker's page tables; an exec that fails comes back over
 * a close-on-exec pipe as the call's error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.h"
#include "os_internal.h"

_Static_assert(OS_POLL_IN == POLLIN && OS_POLL_OUT == POLLOUT &&
    OS_POLL_ERR == POLLERR && OS_POLL_HUP == POLLHUP, "poll bits");

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH	0x1000
#endif

/* In the child: where the executed file and the error pipe live. */
#define SPAWN_EXEC_FD	3
#define SPAWN_ERR_FD	4
#define SPAWN_FD_BASE	16	/* the child's copies, above 0-4 */

/* In the child: fd becomes target (0, 1 or 2); -1: /dev/null. */
static int
spawn_stdio(int fd, int target)
{
	int	 nfd;

	if (fd >= 0)
		return dup2(fd, target) == -1 ? -1 : 0;
	if ((nfd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	if (nfd != target && (dup2(nfd, target) == -1 || close(nfd) == -1))
		return -1;
	return 0;
}

/* In the child: every descriptor from lo up closed (Linux 5.9: one call). */
static void
spawn_close_from(int lo)
{
	struct rlimit	 rl;
	int		 fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lo, ~0U, 0U) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > 65536)
		rl.rlim_cur = 65536;
	for (fd = lo; fd < (int)rl.rlim_cur; fd++)
		(void)close(fd);
}

/* In the child: fd moved out of the way of 0-4; -1 stays -1. */
static int
spawn_lift(int fd)
{
	return fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, SPAWN_FD_BASE);
}

/*
 * In the vfork child: async-signal-safe calls only, nothing returned to.
 * Every descriptor it needs is first copied above SPAWN_FD_BASE, so no
 * dup2 onto 0-4 overwrites one still to be used.
 */
static void
spawn_child(const struct os_spawn *sp, int errfd)
{
	struct sigaction	 dfl;
	sigset_t		 none;
	int			 sig, err, fd[6], i, efd;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	fd[0] = errfd;
	fd[1] = sp->exec_fd;
	fd[2] = sp->dir_fd;
	fd[3] = sp->stdin_fd;
	fd[4] = sp->stdout_fd;
	fd[5] = sp->stderr_fd;
	for (i = 0; i < 6; i++)
		if (fd[i] >= 0 && (fd[i] = spawn_lift(fd[i])) == -1)
			_exit(127);	/* errfd itself may be lost: 127 */
	efd = fd[0];
	if (setpgid(0, 0) == -1 ||
	    dup2(fd[0], SPAWN_ERR_FD) == -1 ||
	    fcntl(SPAWN_ERR_FD, F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
	efd = SPAWN_ERR_FD;
	if (dup2(fd[1], SPAWN_EXEC_FD) == -1 ||
	    (fd[2] >= 0 && fchdir(fd[2]) == -1) ||
	    spawn_stdio(fd[3], STDIN_FILENO) == -1 ||
	    spawn_stdio(fd[4], STDOUT_FILENO) == -1 ||
	    spawn_stdio(fd[5], STDERR_FILENO) == -1)
		goto fail;
	spawn_close_from(SPAWN_ERR_FD + 1);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	/* A #! script stays open as fd 3 (not close-on-exec): its
	 * interpreter reads it as /dev/fd/3. */
	(void)syscall(SYS_execveat, SPAWN_EXEC_FD, "", sp->argv, sp->envp,
	    AT_EMPTY_PATH);
	if (errno == ENOSYS)		/* Linux before 3.19 */
		(void)execve("/proc/self/fd/3", sp->argv, sp->envp);
fail:
	err = errno;
	(void)write(efd, &err, sizeof(err));
	_exit(127);
}

pid_t
os_spawn(const struct os_spawn *sp)
{
	sigset_t	 all, saved;
	pid_t		 pid;
	ssize_t		 n;
	int		 ep[2], err = 0, status;

	if (pipe2(ep, O_CLOEXEC) == -1)
		return -1;
	/* No handler of ours may run in the child, on our memory. */
	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &saved);
	pid = vfork();
	if (pid == 0)
		spawn_child(sp, ep[1]);
	err = errno;
	(void)sigprocmask(SIG_SETMASK, &saved, NULL);
	close(ep[1]);
	if (pid == -1) {
		close(ep[0]);
		errno = err;
		return -1;
	}
	do
		n = read(ep[0], &err, sizeof(err));
	while (n == -1 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(err)) {
		(void)os_waitpid(pid, &status, true);
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

/*
 * At start: whatever the starting shell left open above stderr (without
 * close-on-exec) is closed, so it can never reach a CGI.
 */
void
os_close_inherited(void)
{
	spawn_close_from(STDERR_FILENO + 1);
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
