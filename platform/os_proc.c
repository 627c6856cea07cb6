/* Processes: fork, reaping, privileges, daemon mode, pid file. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os.h"

pid_t
os_fork(void)
{
	return fork();
}

int
os_hostname(char *out, size_t size)
{
	if (gethostname(out, size) == -1)
		return -1;
	out[size - 1] = '\0';
	return 0;
}

pid_t
os_getpid(void)
{
	return getpid();
}

/* One exited child: 1 and *pid set, 0 none left to reap now, -1 error */
int
os_reap(pid_t *pid, int *status)
{
	pid_t	 p;

	do
		p = waitpid(-1, status, WNOHANG);
	while (p == -1 && errno == EINTR);
	if (p == -1)
		return errno == ECHILD ? 0 : -1;
	if (p == 0)
		return 0;
	*pid = p;
	return 1;
}

bool
os_exited_cleanly(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
os_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
os_term_signal(int status)
{
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

int
os_kill(pid_t pid, int sig)
{
	if (pid <= 1) {		/* never signal init or a whole group by accident */
		errno = EINVAL;
		return -1;
	}
	return kill(pid, sig);
}

int
os_kill_group(pid_t pgid, int sig)
{
	if (pgid <= 1) {
		errno = EINVAL;
		return -1;
	}
	return kill(-pgid, sig);
}

/*
 * A worker must not outlive its master (and serve unsupervised). Call it
 * after the last change of credentials: the kernel clears the death
 * signal on a uid change. -1 when parent is already gone (we were
 * reparented before the signal was armed).
 */
int
os_die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		return -1;
	if (getppid() != parent) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* Neither this process nor anything it runs can gain privileges (setuid
 * files, file capabilities) from now on. */
int
os_no_new_privs(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* Orphans of our CGIs become our children, so we reap them. */
int
os_child_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int
os_lookup_user(const char *name, unsigned *uid, unsigned *gid)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
os_lookup_group(const char *name, unsigned *gid)
{
	struct group	*gr;

	errno = 0;
	if ((gr = getgrnam(name)) == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

bool
os_is_root(void)
{
	return geteuid() == 0;
}

/*
 * Once and for all: supplementary groups, then gid, then uid, each
 * checked, and then proven irreversible.
 */
int
os_drop_privileges(const char *user, const char *group)
{
	unsigned	 uid, gid;
	gid_t		 g;

	if (os_lookup_user(user, &uid, &gid) == -1)
		return -1;
	if (group != NULL && os_lookup_group(group, &gid) == -1)
		return -1;
	g = (gid_t)gid;
	if (setgroups(1, &g) == -1)
		return -1;
	if (setresgid(g, g, g) == -1)
		return -1;
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) == -1)
		return -1;
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
os_devnull_stdin(void)
{
	int	 fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	if (dup2(fd, STDIN_FILENO) == -1) {
		close(fd);
		return -1;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return 0;
}

/* Detaches from the terminal: fork, new session, stdio on /dev/null. */
int
os_daemonize(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1 ||
	    dup2(fd, STDERR_FILENO) == -1)
		return -1;
	if (fd > STDERR_FILENO)
		close(fd);
	return chdir("/");
}

/* Written as a new file renamed over the name: root never opens (and
 * truncates) whatever a symlink there points at. */
int
os_write_pidfile(const char *path)
{
	char	 line[32];
	int	 n;

	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	return os_write_file_atomic(path, line, (size_t)n, 0644);
}
