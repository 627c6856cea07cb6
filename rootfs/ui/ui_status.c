/*
 * GET /cgi-bin/ui/status: everything the dashboard shows, in one JSON
 * answer under UI_STATUS_MAX bytes (interfaces that do not fit are
 * counted in "ifaces_more"). Reads a few /proc files, the interface list,
 * and porch's own counters from its status endpoint, which answers
 * loopback clients only: asked on 127.0.0.1 with a short deadline, so a
 * busy pool costs the counters, never the answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ui.h"

#define IFACES_MAX	16
#define ADDRS_MAX	4	/* per interface */

struct iface {
	struct netdev	 dev;
	bool		 up;
	char		 addr[ADDRS_MAX][INET6_ADDRSTRLEN + 12];
	int		 naddr;
};

static int64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd	 p = { fd, ev, 0 };
	int64_t		 left;
	int		 n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return -1;
		n = poll(&p, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		return n == 1 ? 0 : -1;
	}
}

/*
 * porch's counters. Over TLS the request reached 443; the status
 * endpoint is asked on the plain port 80 then (porch-ui.conf).
 */
static int
porch_status(struct porch_status *st)
{
	static const char	 req[] = "GET /server-status HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
	const char		*https = getenv("HTTPS"),
				*sp = getenv("SERVER_PORT"), *body;
	char			 buf[8192];
	struct sockaddr_in	 sa;
	uint64_t		 port = 80;
	int64_t			 deadline = now_ms() + UI_STATUS_TIMEOUT_MS;
	size_t			 got = 0, bl;
	ssize_t			 n;
	int			 fd, err = 0, rc = -1;
	socklen_t		 el = sizeof(err);

	if ((https == NULL || strcmp(https, "on") != 0) && sp != NULL &&
	    parse_uint(sp, strlen(sp), 65535, &port) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)
			goto out;
	}
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(req) - 1)
		goto out;
	while (got < sizeof(buf)) {
		if (wait_fd(fd, POLLIN, deadline) == -1)
			goto out;
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (http_body_200(buf, got, &body, &bl) == 0)
		rc = parse_porch_status(body, bl, st);
out:
	close(fd);
	return rc;
}

static int
prefix_len(const struct sockaddr *mask)
{
	const unsigned char	*b;
	size_t			 n, i;
	int			 bits = 0;

	if (mask == NULL)
		return -1;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)mask)->sin_addr;
		n = 4;
	} else if (mask->sa_family == AF_INET6) {
		b = ((const struct sockaddr_in6 *)(const void *)mask)->
		    sin6_addr.s6_addr;
		n = 16;
	} else
		return -1;
	for (i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

static void
add_addr(struct iface *ifc, const struct ifaddrs *a)
{
	char		 txt[INET6_ADDRSTRLEN];
	const void	*src;
	int		 plen;

	if (ifc->naddr >= ADDRS_MAX)
		return;
	if (a->ifa_addr->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)(const void *)a->ifa_addr)->
		    sin_addr;
	else
		src = &((const struct sockaddr_in6 *)(const void *)a->ifa_addr)->
		    sin6_addr;
	if (inet_ntop(a->ifa_addr->sa_family, src, txt, sizeof(txt)) == NULL)
		return;
	plen = prefix_len(a->ifa_netmask);
	if (plen >= 0)
		snprintf(ifc->addr[ifc->naddr++], sizeof(ifc->addr[0]), "%s/%d",
		    txt, plen);
	else
		snprintf(ifc->addr[ifc->naddr++], sizeof(ifc->addr[0]), "%s",
		    txt);
}

static size_t
interfaces(struct iface *ifs, size_t max)
{
	static char		 buf[16384];
	struct netdev		 dev[IFACES_MAX];
	struct ifaddrs		*list, *a;
	size_t			 len, n = 0, i;

	if (ui_read_abs("/proc/net/dev", buf, sizeof(buf), &len) == -1)
		return 0;
	if (parse_netdev(buf, len, dev, max < IFACES_MAX ? max : IFACES_MAX,
	    &n) == -1)
		return 0;
	for (i = 0; i < n; i++) {
		memset(&ifs[i], 0, sizeof(ifs[i]));
		ifs[i].dev = dev[i];
	}
	if (getifaddrs(&list) == -1)
		return n;
	for (a = list; a != NULL; a = a->ifa_next) {
		for (i = 0; i < n; i++)
			if (strcmp(ifs[i].dev.name, a->ifa_name) == 0)
				break;
		if (i == n)
			continue;
		if (a->ifa_flags & IFF_UP)
			ifs[i].up = true;
		if (a->ifa_addr != NULL && (a->ifa_addr->sa_family == AF_INET ||
		    a->ifa_addr->sa_family == AF_INET6))
			add_addr(&ifs[i], a);
	}
	freeifaddrs(list);
	return n;
}

/* The first line of a small file, or "" */
static void
first_line(const char *rel, char *out, size_t size)
{
	size_t	 len;

	if (ui_read_file(rel, out, size, &len) == -1) {
		out[0] = '\0';
		return;
	}
	out[strcspn(out, "\r\n")] = '\0';
}

static void
status_system(struct jw *j)
{
	char		 buf[4096], host[256], ver[80], kernel[200];
	char		 load[3][16];
	struct utsname	 u;
	uint64_t	 up, total, avail;
	size_t		 len;
	int		 i;

	first_line("/etc/hostname", host, sizeof(host));
	if (uname(&u) == 0) {
		if (host[0] == '\0')
			snprintf(host, sizeof(host), "%s", u.nodename);
		snprintf(kernel, sizeof(kernel), "%s %s %s", u.sysname,
		    u.release, u.machine);
	} else
		kernel[0] = '\0';
	first_line("/etc/porch-release", ver, sizeof(ver));
	jw_key(j, "hostname");
	jw_cstr(j, host);
	jw_next_str(j, "version", ver);
	jw_next_str(j, "kernel", kernel);
	/* /proc is the machine's own, also under make run: only read. */
	if (ui_read_abs("/proc/uptime", buf, sizeof(buf), &len) == 0 &&
	    parse_uptime(buf, len, &up) == 0) {
		jw_next_uint(j, "uptime", up);
	}
	if (ui_read_abs("/proc/loadavg", buf, sizeof(buf), &len) == 0 &&
	    parse_loadavg(buf, len, load) == 0) {
		jw_raw(j, ",\"load\":[");
		for (i = 0; i < 3; i++) {
			jw_raw(j, i ? "," : "");
			jw_raw(j, load[i]);	/* checked: digits.digits */
		}
		jw_raw(j, "]");
	}
	if (ui_read_abs("/proc/meminfo", buf, sizeof(buf), &len) == 0 &&
	    parse_meminfo(buf, len, &total, &avail) == 0) {
		jw_raw(j, ",\"mem\":{\"total\":");
		jw_uint(j, total);
		jw_raw(j, ",\"available\":");
		jw_uint(j, avail);
		jw_raw(j, "}");
	}
}

static void
status_porch(struct jw *j)
{
	struct porch_status	 st;

	jw_raw(j, ",\"porch\":");
	if (porch_status(&st) == -1) {
		jw_raw(j, "null");
		return;
	}
	jw_raw(j, "{");
	jw_key(j, "server");
	jw_cstr(j, st.server);
	jw_next_uint(j, "uptime", st.uptime);
	jw_next_uint(j, "requests", st.requests);
	jw_next_uint(j, "connections", st.connections);
	jw_next_uint(j, "bytes", st.bytes);
	jw_next_uint(j, "status_4xx", st.s4xx);
	jw_next_uint(j, "status_5xx", st.s5xx);
	jw_next_uint(j, "workers", st.workers);
	jw_next_uint(j, "idle", st.idle);
	jw_next_uint(j, "reloads", st.reloads);
	jw_raw(j, "}");
}

/* Interfaces last: those that would pass the size bound are counted. */
static void
status_ifaces(struct jw *j)
{
	static struct iface	 ifs[IFACES_MAX];
	size_t			 n = interfaces(ifs, IFACES_MAX), i, more = 0;
	char			*mark;
	int			 k;
	bool			 first = true;

	jw_raw(j, ",\"ifaces\":[");
	for (i = 0; i < n; i++) {
		mark = j->p;
		jw_raw(j, first ? "{" : ",{");
		jw_key(j, "name");
		jw_cstr(j, ifs[i].dev.name);
		jw_raw(j, ifs[i].up ? ",\"up\":true" : ",\"up\":false");
		jw_raw(j, ",\"addrs\":[");
		for (k = 0; k < ifs[i].naddr; k++) {
			jw_raw(j, k ? "," : "");
			jw_cstr(j, ifs[i].addr[k]);
		}
		jw_raw(j, "],\"rx\":");
		jw_uint(j, ifs[i].dev.rx);
		jw_raw(j, ",\"tx\":");
		jw_uint(j, ifs[i].dev.tx);
		jw_raw(j, "}");
		if (j->overflow || jw_len(j) > UI_STATUS_MAX - 40) {
			j->p = mark;
			*j->p = '\0';
			j->overflow = false;
			more++;
			continue;
		}
		first = false;
	}
	jw_raw(j, "],\"ifaces_more\":");
	jw_uint(j, more);
}

int
ui_status(struct ui_req *r)
{
	static char	 buf[UI_STATUS_MAX + 1];
	struct jw	 j;

	jw_init(&j, buf, sizeof(buf));
	jw_raw(&j, "{");
	jw_key(&j, "user");
	jw_cstr(&j, r->user);
	if (ui_must_change()) {
		/* Nothing else until the initial password is replaced. */
		jw_raw(&j, ",\"must_change\":true}");
		ui_reply(200, buf, jw_len(&j));
		return 0;
	}
	jw_raw(&j, ",\"must_change\":false,\"dev\":");
	jw_raw(&j, ui_is_dev() ? "true," : "false,");
	jw_key(&j, "time");
	jw_uint(&j, (uint64_t)time(NULL));
	jw_raw(&j, ",");
	status_system(&j);
	status_porch(&j);
	status_ifaces(&j);
	jw_raw(&j, "}");
	if (j.overflow) {
		ui_error(500, "status too large");
		return -1;
	}
	ui_reply(200, buf, jw_len(&j));
	return 0;
}
