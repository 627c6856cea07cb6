/*
 * Files: opening a request's path strictly beneath the document root, and
 * the few other opens the server needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os.h"

/* struct open_how and RESOLVE_* of <linux/openat2.h>, which musl lacks. */
struct porch_open_how {
	uint64_t	 flags;
	uint64_t	 mode;
	uint64_t	 resolve;
};
#define PORCH_RESOLVE_NO_MAGICLINKS	0x02
#define PORCH_RESOLVE_BENEATH		0x08

#define OS_PATH_COMPONENT_MAX	255

static int	 openat2_missing;	/* kernel before 5.6 */

int
os_open_dir(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
os_fstat(int fd, struct os_stat *st)
{
	struct stat	 sb;

	if (fstat(fd, &sb) == -1)
		return -1;
	st->size = (uint64_t)sb.st_size;
	st->mtime = (int64_t)sb.st_mtime;
	st->ino = (uint64_t)sb.st_ino;
	st->mtime_ns = (int64_t)sb.st_mtim.tv_nsec;
	st->is_dir = S_ISDIR(sb.st_mode);
	st->is_reg = S_ISREG(sb.st_mode);
	st->exec = (sb.st_mode & 0111) != 0;
	return 0;
}

static int
open_beneath_openat2(int rootfd, const char *rel)
{
#ifdef SYS_openat2
	struct porch_open_how	 how;
	long			 fd;

	memset(&how, 0, sizeof(how));
	/* O_NONBLOCK: a FIFO planted in the root must not hang a worker. */
	how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	how.resolve = PORCH_RESOLVE_BENEATH | PORCH_RESOLVE_NO_MAGICLINKS;
	do
		fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	while (fd == -1 && (errno == EINTR || errno == EAGAIN));
	return (int)fd;
#else
	(void)rootfd;
	(void)rel;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Without openat2: walk one component at a time with O_NOFOLLOW, so no
 * symlink is followed at all (stricter than RESOLVE_BENEATH, never looser).
 * rel is already normalised: no "." or ".." components.
 */
static int
open_beneath_walk(int rootfd, const char *rel)
{
	char		 comp[OS_PATH_COMPONENT_MAX + 1];
	const char	*p = rel, *slash;
	size_t		 len;
	int		 dirfd, fd, saved;

	if ((dirfd = dup(rootfd)) == -1)
		return -1;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return dirfd;
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len > OS_PATH_COMPONENT_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			errno = EPERM;
			goto fail;
		}
		fd = openat(dirfd, comp, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
		    O_NOCTTY | O_NOFOLLOW);
		if (fd == -1)
			goto fail;
		close(dirfd);
		dirfd = fd;
		p += len;
	}
fail:
	saved = errno;
	close(dirfd);
	errno = saved;
	return -1;
}

/*
 * Opens rel (relative, normalised) beneath rootfd. Symlinks may be
 * followed only while they stay inside the root. *fd_out is a regular
 * file or a directory; anything else is ENOENT to the caller.
 */
int
os_open_beneath(int rootfd, const char *rel, int *fd_out, struct os_stat *st)
{
	int	 fd = -1;

	if (*rel == '\0')
		rel = ".";
	if (!openat2_missing) {
		fd = open_beneath_openat2(rootfd, rel);
		/* ENOSYS before 5.6; EPERM from old seccomp filters */
		if (fd == -1 && (errno == ENOSYS || errno == EPERM))
			openat2_missing = 1;
	}
	if (openat2_missing)
		fd = open_beneath_walk(rootfd, rel);
	if (fd == -1)
		return -1;
	if (os_fstat(fd, st) == -1 || (!st->is_reg && !st->is_dir)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	*fd_out = fd;
	return 0;
}

int
os_open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
	    0640);
}

int
os_readable_file(const char *path)
{
	return access(path, R_OK);
}

int
os_is_dir(const char *path)
{
	struct stat	 sb;

	if (stat(path, &sb) == -1)
		return -1;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
os_unlink(const char *path)
{
	return unlink(path);
}

/*
 * Reads a small file whole into buf (NUL-terminated). Returns its length,
 * or -1: unreadable, or larger than size - 1 (EFBIG).
 */
ssize_t
os_read_small_file(const char *path, char *buf, size_t size,
    struct os_stat *st)
{
	ssize_t	 n;
	size_t	 got = 0;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (os_fstat(fd, st) == -1)
		goto fail;
	if (!st->is_reg || st->size >= size) {
		errno = st->is_reg ? EFBIG : EINVAL;
		goto fail;
	}
	while (got < size - 1) {
		n = os_pread(fd, buf + got, size - 1 - got, (off_t)got);
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return (ssize_t)got;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* stat() by name, for caches keyed on a file's identity. */
int
os_stat_path(const char *path, struct os_stat *st)
{
	int	 fd, rc, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
		return -1;
	rc = os_fstat(fd, st);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* The absolute, symlink-free form of path, into out. */
int
os_realpath(const char *path, char *out, size_t size)
{
	char	 buf[PATH_MAX];

	if (realpath(path, buf) == NULL)
		return -1;
	if (strlen(buf) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

int
os_getcwd(char *out, size_t size)
{
	return getcwd(out, size) == NULL ? -1 : 0;
}
