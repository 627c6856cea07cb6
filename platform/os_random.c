/* Randomness from the kernel: session ids and CSRF tokens. */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os.h"

/*
 * len bytes from getrandom(2) (Linux 3.17), which blocks only until the
 * pool is first seeded; /dev/urandom before it. 0, or -1 (errno set).
 */
int
os_random(void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;
	int		 fd;

	while (len > 0) {
#ifdef SYS_getrandom
		n = syscall(SYS_getrandom, p, len, 0);
#else
		n = -1;
		errno = ENOSYS;
#endif
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ENOSYS)
			break;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	if (len == 0)
		return 0;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len > 0) {
		n = read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}
