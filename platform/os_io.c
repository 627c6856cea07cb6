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

#define OS_WATCH_REST_MS	10	/* listeners busy, no cut: look later */

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

/*
 * poll(2) until one of fds is ready (their count) or *deadline_ms passes
 * (0). With a watch its listeners are polled too: when one is readable,
 * watch->cut may bring *deadline_ms nearer, and from then on only fds
 * count; when it does not, the listeners rest for OS_WATCH_REST_MS, so a
 * queue another worker is about to take cannot make this wait spin.
 */
int
os_poll(struct os_pollfd *fds, int n, int64_t *deadline_ms,
    const struct io_watch *w)
{
	struct pollfd	 pfd[OS_POLL_MAX + OS_WATCH_MAX];
	int64_t		 rest_until = 0, wake, cut;
	int		 i, k, rc, ready;
	bool		 watching;

	watching = w != NULL && w->cut != NULL && w->nfds > 0;
	if (n < 0 || n > OS_POLL_MAX || (watching && w->nfds > OS_WATCH_MAX)) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		for (k = 0; k < n; k++) {
			pfd[k].fd = fds[k].fd;
			pfd[k].events = fds[k].events;
			pfd[k].revents = 0;
		}
		wake = *deadline_ms;
		if (watching && rest_until != 0 && os_now_ms() < rest_until)
			wake = rest_until < wake ? rest_until : wake;
		else if (watching)
			for (i = 0; i < w->nfds; i++) {
				pfd[k].fd = w->fds[i];
				pfd[k].events = POLLIN;
				pfd[k++].revents = 0;
			}
		rc = poll(pfd, (nfds_t)k, os_poll_timeout(wake));
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			return -1;
		for (i = 0, ready = 0; i < n; i++)
			if ((fds[i].revents = pfd[i].revents) != 0)
				ready++;
		if (ready > 0)
			return ready;
		if (rc == 0) {
			if (wake == *deadline_ms || os_now_ms() >= *deadline_ms)
				return 0;
			continue;	/* the listeners' rest is over */
		}
		cut = w->cut(w->arg);
		if (cut == OS_NO_DEADLINE) {
			rest_until = os_now_ms() + OS_WATCH_REST_MS;
			continue;
		}
		if (cut < *deadline_ms)
			*deadline_ms = cut;
		watching = false;
	}
}

/* One fd, for the IO below: 0 when ready, -1 (ETIMEDOUT) when not. */
int
os_wait_fd(int fd, short events, int64_t *deadline_ms,
    const struct io_watch *w)
{
	struct os_pollfd	 pf;
	int			 n;

	pf.fd = fd;
	pf.events = events;
	if ((n = os_poll(&pf, 1, deadline_ms, w)) == -1)
		return -1;
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;	/* ready, or an error the next call will see */
}

/*
 * Index of the first readable (or hung-up) fd, and in *nready (when not
 * NULL) how many were; -1 with ETIMEDOUT, or with EINTR when
 * interruptible and a stop signal arrived. The signals stay blocked
 * outside the wait, so none is lost between a check and a sleep.
 */
int
os_wait(const int *fds, int nfds, int64_t deadline_ms, bool interruptible,
    int *nready)
{
	struct pollfd	 pfd[1 + OS_WATCH_MAX];
	struct timespec	 ts, *tsp;
	int		 i, n, ms;

	if (nfds < 1 || nfds > 1 + OS_WATCH_MAX) {
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
	if (nready != NULL)
		*nready = n;
	for (i = 0; i < nfds; i++)
		if (pfd[i].revents != 0)
			return i;
	errno = EIO;
	return -1;
}

/*
 * Any number of descriptors at once, woken by the signals porch handles
 * too (-1/EINTR): the count of ready ones, 0 at the deadline.
 */
int
os_wait_fds(struct os_pollfd *fds, int nfds, int64_t deadline_ms)
{
	struct pollfd	 pfd[256];
	struct timespec	 ts, *tsp = NULL;
	int		 i, n, ms;

	if (nfds < 0 || nfds > (int)(sizeof(pfd) / sizeof(pfd[0]))) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < nfds; i++) {
		pfd[i].fd = fds[i].fd;
		pfd[i].events = fds[i].events;
		pfd[i].revents = 0;
	}
	if ((ms = os_poll_timeout(deadline_ms)) >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		tsp = &ts;
	}
	n = ppoll(pfd, (nfds_t)nfds, tsp, os_signal_waitmask());
	for (i = 0; n > 0 && i < nfds; i++)
		fds[i].revents = pfd[i].revents;
	return n;
}

ssize_t
os_read_deadline(int fd, void *buf, size_t len, int64_t deadline_ms)
{
	return os_read_watched(fd, buf, len, deadline_ms, NULL);
}

ssize_t
os_read_watched(int fd, void *buf, size_t len, int64_t deadline_ms,
    const struct io_watch *w)
{
	ssize_t	 n;

	for (;;) {
		n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN ||
		    os_wait_fd(fd, POLLIN, &deadline_ms, w) == -1)
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
os_writev_all(int fd, const struct iovec *iov, int cnt, int64_t deadline_ms)
{
	return os_writev_watched(fd, iov, cnt, deadline_ms, NULL);
}

/* A cut deadline holds for the rest of the call: partial writes of a
 * trickle do not earn a fresh one. */
int
os_writev_watched(int fd, const struct iovec *iov_in, int cnt, int64_t dl,
    const struct io_watch *w)
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
			if (errno != EAGAIN || os_wait_fd(fd, POLLOUT, &dl, w) == -1)
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

int
os_close_keep_errno(int fd, int rc)
{
	int	 saved = errno;

	close(fd);
	errno = saved;
	return rc;
}
