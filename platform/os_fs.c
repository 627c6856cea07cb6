/*
 * Files: opening a request's path strictly beneath the document root, and
 * the few other opens the server needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os.h"
#include "os_internal.h"

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
 * Without openat2 (Linux before 5.6, qemu-user): resolve one component at
 * a time, as RESOLVE_BENEATH would. Each component is opened with
 * O_NOFOLLOW; a symlink is read and its target spliced into the rest of
 * the path, relative to the directory holding it; an absolute target, or
 * ".." above the root, is an escape (EXDEV). The directories walked
 * through are kept open, so ".." never needs the file system's own "..".
 */
#define OS_WALK_DEPTH	32
#define OS_WALK_LINKS	40	/* as the kernel's MAXSYMLINKS */

static int
walk_link(int dirfd, const char *comp, char *rest, size_t restsize)
{
	char	 target[PATH_MAX], joined[PATH_MAX];
	ssize_t	 n;

	if ((n = readlinkat(dirfd, comp, target, sizeof(target) - 1)) == -1)
		return -1;
	target[n] = '\0';
	if (target[0] == '/') {
		errno = EXDEV;		/* absolute: leaves the root */
		return -1;
	}
	if (snprintf(joined, sizeof(joined), "%s%s%s", target,
	    rest[0] ? "/" : "", rest) >= (int)sizeof(joined) ||
	    strlen(joined) >= restsize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(rest, joined, strlen(joined) + 1);
	return 0;
}

static int
open_beneath_walk(int rootfd, const char *rel)
{
	char		 rest[PATH_MAX], comp[OS_PATH_COMPONENT_MAX + 1];
	int		 stack[OS_WALK_DEPTH + 1], depth = 0, links = 0;
	int		 fd, saved;
	size_t		 len;
	struct stat	 sb;
	char		*p;

	if (strlen(rel) >= sizeof(rest)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(rest, rel, strlen(rel) + 1);
	if ((stack[0] = dup(rootfd)) == -1)
		return -1;
	for (;;) {
		p = rest;
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, "/");
		if (len > OS_PATH_COMPONENT_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		memmove(rest, p + len, strlen(p + len) + 1);
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (depth == 0) {
				errno = EXDEV;	/* above the root */
				goto fail;
			}
			close(stack[depth--]);
			continue;
		}
		if (fstatat(stack[depth], comp, &sb, AT_SYMLINK_NOFOLLOW) == -1)
			goto fail;
		if (S_ISLNK(sb.st_mode)) {
			if (++links > OS_WALK_LINKS) {
				errno = ELOOP;
				goto fail;
			}
			if (walk_link(stack[depth], comp, rest, sizeof(rest)) == -1)
				goto fail;
			continue;
		}
		/* O_NOFOLLOW: a symlink swapped in since fstatat is ELOOP. */
		fd = openat(stack[depth], comp, O_RDONLY | O_CLOEXEC |
		    O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
		if (fd == -1)
			goto fail;
		if (depth == OS_WALK_DEPTH) {
			close(fd);
			errno = ENAMETOOLONG;
			goto fail;
		}
		stack[++depth] = fd;
	}
	fd = stack[depth];
	while (depth > 0)
		close(stack[--depth]);
	return fd;
fail:
	saved = errno;
	while (depth >= 0)
		close(stack[depth--]);
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

	if (!openat2_missing) {
		fd = open_beneath_openat2(rootfd, *rel ? rel : ".");
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

/*
 * A log file, opened by root for its own use (CVE-2016-1247): a symlink
 * planted in a directory the workers' user can write is never followed,
 * and only a regular file with one link is appended to. A new file is
 * root's (0640); nothing is ever handed to another owner.
 */
int
os_open_log(const char *path)
{
	struct stat	 sb;
	int		 fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK |
	    O_NOFOLLOW | O_NOCTTY, 0640);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1) {
		errno = S_ISREG(sb.st_mode) ? EMLINK : EINVAL;
		goto fail;
	}
	return fd;
fail:
	return os_close_keep_errno(fd, -1);
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
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	n = os_read_small_fd(fd, buf, size, st);
	os_close_keep_errno(fd, 0);
	return n;
}

/* The same from an open descriptor (read from offset 0). */
ssize_t
os_read_small_fd(int fd, char *buf, size_t size, struct os_stat *st)
{
	ssize_t	 n;
	size_t	 got = 0;

	if (os_fstat(fd, st) == -1)
		return -1;
	if (!st->is_reg || st->size >= size) {
		errno = st->is_reg ? EFBIG : EINVAL;
		return -1;
	}
	while (got < size - 1) {
		n = os_pread(fd, buf + got, size - 1 - got, (off_t)got);
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

/*
 * A file root opens for a process that will drop privileges (a password
 * file): its last component is never a symlink, and it is a regular file.
 * The directory may be writable by the unprivileged user, who must not
 * be able to point the name at a file only root may read.
 */
int
os_open_read(const char *path)
{
	struct stat	 sb;
	int		 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    O_NOFOLLOW);
	if (fd == -1)
		return -1;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	return fd;
fail:
	return os_close_keep_errno(fd, -1);
}

/* stat() by name, for caches keyed on a file's identity. */
int
os_stat_path(const char *path, struct os_stat *st)
{
	int	 fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
		return -1;
	rc = os_fstat(fd, st);
	return os_close_keep_errno(fd, rc);
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

static int
os_fsync_parent(const char *path)
{
	char		 dir[4096];
	const char	*slash = strrchr(path, '/');
	size_t		 n;
	int		 fd, rc;

	if (slash == NULL)
		memcpy(dir, ".", 2);
	else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Writes buf to a new temporary file beside path (created 0600, then given
 * mode before any byte is written), fsyncs it, renames it over path and
 * fsyncs the directory: path holds its old contents or all of buf, even
 * after a power cut. The temporary file is removed on failure.
 */
int
os_write_file_atomic(const char *path, const void *buf, size_t len,
    unsigned mode)
{
	char		 tmp[4096];
	const char	*p = buf;
	ssize_t		 n;
	int		 fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if (fchmod(fd, (mode_t)mode) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return os_fsync_parent(path);
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

/*
 * The entries of the directory open as dirfd (a copy is read, dirfd
 * stays as it is): names not starting with '.', with their size, mtime
 * and whether each is a directory (symlinks as they are, not followed).
 * At most max; *more says some were left out. The count, or -1.
 */
ssize_t
os_dir_list(int dirfd, struct os_dirent *ents, size_t max, bool *more)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	size_t		 n = 0;
	int		 fd;

	*more = false;
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL)
		return os_close_keep_errno(fd, -1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= sizeof(ents[0].name))
			continue;
		if (n == max) {
			*more = true;
			break;
		}
		if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
			continue;	/* gone since readdir */
		memcpy(ents[n].name, de->d_name, strlen(de->d_name) + 1);
		ents[n].size = (uint64_t)sb.st_size;
		ents[n].mtime = (int64_t)sb.st_mtime;
		ents[n].is_dir = S_ISDIR(sb.st_mode);
		n++;
	}
	closedir(d);
	return (ssize_t)n;
}
