/*
 * A syslog client that never blocks: datagrams to /dev/log sent with
 * MSG_DONTWAIT, so a stalled syslogd costs a dropped line, not a stalled
 * request. (libc's syslog() blocks when the socket buffer is full.)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "os.h"
#include "os_internal.h"

int
os_syslog_open(void)
{
	struct sockaddr_un	 sun;
	int			 fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, "/dev/log", sizeof(sun.sun_path) - 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return os_close_keep_errno(fd, -1);
	return fd;
}

/* RFC 3164 framing, as BusyBox syslogd expects: "<PRI>Mmm dd hh:mm:ss". */
int
os_syslog_send(int fd, int facility_prio, const char *tag, const char *msg)
{
	static const char	 mon[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char			 line[1024];
	struct tm		 tm;
	time_t			 now = time(NULL);
	int			 n;

	localtime_r(&now, &tm);
	n = snprintf(line, sizeof(line), "<%d>%s %2d %02d:%02d:%02d %s[%ld]: %s",
	    facility_prio, mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, tag, (long)getpid(), msg);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		return -1;
	return 0;
}
