/*
 * IP addresses without a port: parsing and printing literals, and the
 * addresses of this host's interfaces (what a generated certificate names,
 * so a browser reaching the router by address can pin it).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "os.h"

/* 0 and *a set (port 0), or -1: not an IPv4 or IPv6 literal. */
int
os_ip_parse(const char *s, struct os_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = 6;
		return 0;
	}
	return -1;
}

void
os_ip_format(const struct os_addr *a, char *out, size_t size)
{
	if (inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, out,
	    (socklen_t)size) == NULL && size > 0)
		out[0] = '\0';
}

/* Loopback, link-local and unspecified addresses reach nobody else. */
static bool
ifaddr_useful(const struct os_addr *a)
{
	static const uint8_t	 zero[16];
	const uint8_t		*b = a->bytes;

	if (a->family == 4)
		return b[0] != 127 && !(b[0] == 169 && b[1] == 254) &&
		    memcmp(b, zero, 4) != 0;
	return !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80) &&
	    memcmp(b, zero, 15) != 0;	/* :: and ::1 */
}

/* sa as an os_addr, if it is of family 4 or 6 (pass); else -1. */
static int
ifaddr_get(const struct sockaddr *sa, int pass, struct os_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (pass == 4 && sa->sa_family == AF_INET) {
		a->family = 4;
		memcpy(a->bytes, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
		return 0;
	}
	if (pass == 6 && sa->sa_family == AF_INET6) {
		a->family = 6;
		memcpy(a->bytes, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/*
 * The addresses of the interfaces that are up, IPv4 first, without
 * loopback, link-local or duplicates: at most max into out. The count, or
 * -1 (getifaddrs failed).
 */
int
os_local_addrs(struct os_addr *out, int max)
{
	struct ifaddrs		*ifa, *i;
	struct os_addr		 a;
	int			 n = 0, k, pass;

	if (getifaddrs(&ifa) == -1)
		return -1;
	for (pass = 4; pass <= 6; pass += 2)
		for (i = ifa; i != NULL && n < max; i = i->ifa_next) {
			if (i->ifa_addr == NULL || !(i->ifa_flags & IFF_UP))
				continue;
			if (ifaddr_get(i->ifa_addr, pass, &a) == -1)
				continue;
			if (!ifaddr_useful(&a))
				continue;
			for (k = 0; k < n && !os_addr_equal(&out[k], &a); k++)
				;
			if (k == n)
				out[n++] = a;
		}
	freeifaddrs(ifa);
	return n;
}
