/* Shared between platform/ files only; nothing outside platform/ uses it. */
#ifndef PORCH_OS_INTERNAL_H
#define PORCH_OS_INTERNAL_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "os.h"

/* os_io.c: wait for poll events on one fd; 0, or -1 (ETIMEDOUT) */
int		 os_wait_fd(int fd, short events, int64_t *deadline_ms,
		    const struct io_watch *);
/* os_io.c: os_read_deadline and os_writev_all for a watched connection */
ssize_t		 os_read_watched(int fd, void *, size_t, int64_t deadline_ms,
		    const struct io_watch *);
int		 os_writev_watched(int fd, const struct iovec *, int,
		    int64_t deadline_ms, const struct io_watch *);
/* os_io.c: poll timeout in ms for a deadline, clamped to int */
int		 os_poll_timeout(int64_t deadline_ms);
/* os_io.c: closes fd keeping errno (a failure path's); returns rc */
int		 os_close_keep_errno(int fd, int rc);
/* os_signal.c: the mask to sleep with so stop signals interrupt a wait */
const sigset_t	*os_signal_waitmask(void);

#endif
