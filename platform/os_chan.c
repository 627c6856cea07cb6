/*
 * Channels between porch's own processes: a socketpair of sequenced
 * packets (one message per call, EOF when the other end is gone) that
 * also carries descriptors. The master hands its workers the log files it
 * opened through one, so no worker ever opens a log by name as root's
 * proxy.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os.h"

int
os_chan_pair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, fds);
}

/* One message, and nfds descriptors with it; 0, or -1 (EAGAIN: full). */
int
os_chan_send(int fd, const void *msg, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int) * OS_CHAN_FDS_MAX)];
	}		 ctl;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	ssize_t		 n;

	if (nfds < 0 || nfds > OS_CHAN_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)msg;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/*
 * One message without waiting: its length (0: the other end is gone), or
 * -1 (EAGAIN: none). *nfds is the room of fds on the way in and the count
 * received on the way out (close-on-exec); any beyond the room, or with a
 * message cut short, are closed and the message refused (EMSGSIZE).
 */
ssize_t
os_chan_recv(int fd, void *msg, size_t len, int *fds, int *nfds)
{
	union {
		struct cmsghdr	 h;
		char		 buf[CMSG_SPACE(sizeof(int) * OS_CHAN_FDS_MAX)];
	}		 ctl;
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*c;
	int		 got[OS_CHAN_FDS_MAX], ngot = 0, i, k;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = msg;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (i = 0; i < k && ngot < OS_CHAN_FDS_MAX; i++)
			memcpy(&got[ngot++], CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || ngot > *nfds) {
		for (i = 0; i < ngot; i++)
			close(got[i]);
		errno = EMSGSIZE;
		return -1;
	}
	if (ngot > 0)
		memcpy(fds, got, sizeof(int) * (size_t)ngot);
	*nfds = ngot;
	return n;
}
