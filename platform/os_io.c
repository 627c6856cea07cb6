/*
 * Descriptor IO with absolute deadlines. Sockets are non-blocking: a call
 * tries the syscall first (the data is usually there) and polls only when
 * it would block, so a request costs one read and one write.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "os.h"
#include "os_internal.h"

int
os_poll_timeout(int64_t deadline_ms)
{
	int64_t	 left;

	if (deadline_ms == OS_NO_DEADLINE)
		return -1;
	left = deadline_ms - os_now_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int
os_wait_fd(int fd, short events, int64_t deadline_ms)
{
	struct pollfd	 pfd;
	int		 n;

	pfd.fd = fd;
	pfd.events = events;
	for (;;) {
		pfd.revents = 0;
		n = poll(&pfd, 1, os_poll_timeout(deadline_ms));
		if (n > 0)
			return 0;	/* ready, or an error the call will see */
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/* For IO layers above platform (TLS): wait until fd is readable/writable. */
int
os_wait_io(int fd, bool writable, int64_t deadline_ms)
{
	return os_wait_fd(fd, writable ? POLLOUT : POLLIN, deadline_ms);
}

/*
 * Index of the first readable (or hung-up) fd; -1 with ETIMEDOUT, or with
 * EINTR when interruptible and a stop signal arrived. The signals stay
 * blocked outside the wait, so none is lost between a check and a sleep.
 */
int
os_wait(const int *fds, int nfds, int64_t deadline_ms, bool interruptible)
{
	struct pollfd	 pfd[8];
	struct timespec	 ts, *tsp;
	int		 i, n, ms;

	if (nfds < 1 || nfds > 8) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		for (i = 0; i < nfds; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		ms = os_poll_timeout(deadline_ms);
		tsp = NULL;
		if (ms >= 0) {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (long)(ms % 1000) * 1000000L;
			tsp = &ts;
		}
		n = ppoll(pfd, (nfds_t)nfds, tsp,
		    interruptible ? os_signal_waitmask() : NULL);
		if (n > 0)
			break;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR || interruptible)
			return -1;
	}
	for (i = 0; i < nfds; i++)
		if (pfd[i].revents != 0)
			return i;
	errno = EIO;
	return -1;
}

ssize_t
os_read_deadline(int fd, void *buf, size_t len, int64_t deadline_ms)
{
	ssize_t	 n;

	for (;;) {
		n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || os_wait_fd(fd, POLLIN, deadline_ms) == -1)
			return -1;
	}
}

/* Non-blocking read: >0 bytes, 0 end of stream, -1 (EAGAIN: nothing yet) */
ssize_t
os_read_some(int fd, void *buf, size_t len)
{
	ssize_t	 n;

	do
		n = read(fd, buf, len);
	while (n == -1 && errno == EINTR);
	return n;
}

ssize_t
os_pread(int fd, void *buf, size_t len, off_t off)
{
	ssize_t	 n;

	do
		n = pread(fd, buf, len, off);
	while (n == -1 && errno == EINTR);
	return n;
}

int
os_write_all(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
	struct iovec	 iov;

	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	return os_writev_all(fd, &iov, 1, deadline_ms);
}

int
os_writev_all(int fd, const struct iovec *iov_in, int cnt, int64_t dl)
{
	struct iovec	 iov[16];
	struct iovec	*v = iov;
	ssize_t		 n;
	size_t		 k;

	if (cnt < 0 || cnt > 16) {
		errno = EINVAL;
		return -1;
	}
	for (k = 0; k < (size_t)cnt; k++)
		iov[k] = iov_in[k];
	while (cnt > 0) {
		if (v->iov_len == 0) {
			v++;
			cnt--;
			continue;
		}
		n = writev(fd, v, cnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || os_wait_fd(fd, POLLOUT, dl) == -1)
				return -1;
			continue;
		}
		while (cnt > 0 && (size_t)n >= v->iov_len) {
			n -= (ssize_t)v->iov_len;
			v++;
			cnt--;
		}
		if (cnt > 0) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
os_close(int fd)
{
	/* Linux releases the descriptor even when close reports EINTR. */
	if (close(fd) == -1 && errno != EINTR)
		return -1;
	return 0;
}

int
os_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}
