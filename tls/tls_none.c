/*
 * tls.h in a build without TLS (make TLS=0; the Makefile links this file
 * instead of the others, and no mbedTLS): the server asks tls_available()
 * and refuses tls_listen; every other call fails with ENOTSUP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tls.h"

#define TLS_NONE_TEXT	"porch was built without TLS (make TLS=0)"

static void
tls_none(char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", TLS_NONE_TEXT);
	errno = ENOTSUP;
}

bool
tls_available(void)
{
	return false;
}

struct tls_server *
tls_server_new(const struct tls_settings *set, const struct tls_server *prev,
    char *err, size_t errlen)
{
	(void)set;
	(void)prev;
	tls_none(err, errlen);
	return NULL;
}

int
tls_worker_init(struct tls_server *s)
{
	(void)s;
	errno = ENOTSUP;
	return -1;
}

void
tls_server_free(struct tls_server *s)
{
	(void)s;
}

int
tls_check(const struct tls_settings *set, char *err, size_t errlen)
{
	(void)set;
	tls_none(err, errlen);
	return -1;
}

int
tls_cert_write(const char *cert_file, const char *key_file,
    const char *const *names, char *err, size_t errlen)
{
	(void)cert_file;
	(void)key_file;
	(void)names;
	tls_none(err, errlen);
	return -1;
}

int
tls_cert_default_names(const char **names, char *buf, size_t size)
{
	(void)buf;
	(void)size;
	names[0] = NULL;
	return 0;
}

int
tls_accept(struct tls_server *s, struct io *io, int64_t deadline_ms)
{
	(void)s;
	(void)io;
	(void)deadline_ms;
	errno = ENOTSUP;
	return -1;
}

void
tls_heap_stats(struct tls_heap_stats *st)
{
	memset(st, 0, sizeof(*st));
}

void
tls_heap_peak_reset(void)
{
}
