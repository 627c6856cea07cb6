/*
 * One TLS connection behind struct io: the handshake, record IO over the
 * non-blocking socket, sendfile through a buffer, close_notify.
 *
 * The socket callbacks block until the deadline of the call in progress
 * (they wait with the platform's deadline IO), so mbedTLS never sees
 * WANT_READ or WANT_WRITE from them and every call below either made
 * progress or failed: a client sending a byte a second cannot stretch a
 * deadline, and there is no retry loop to spin.
 *
 * A worker serves one connection at a time, so its one struct tls_conn
 * (mbedTLS context with its record buffers, and our plaintext buffer) is
 * allocated by tls_worker_init and reset after each connection.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "tls_internal.h"

/* Our callbacks' failure; sock_errno says why. */
#define TLS_ERR_SOCKET	MBEDTLS_ERR_SSL_INTERNAL_ERROR

/* The records gathered in a handshake, in one write; 0 or -1. */
static int
tls_conn_flush(struct tls_conn *tc)
{
	struct iovec	 iov = { tc->buf, tc->gathered };

	if (tc->gathered == 0)
		return 0;
	tc->gathered = 0;
	if (tc->plain.writev(&tc->plain, &iov, 1, tc->deadline_ms) == -1) {
		tc->sock_errno = errno;
		return -1;
	}
	return 0;
}

/*
 * In a handshake mbedTLS sends each message as its own record and write
 * (a TLS 1.3 server flight is six of them); they gather in tc->buf and
 * leave together when mbedTLS next waits for the client or the
 * handshake ends: one syscall and one segment instead of six. A failed
 * write shows at that flush.
 */
static int
tls_conn_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn	*tc = ctx;

	if (len > INT_MAX)
		len = INT_MAX;
	if (tc->gather) {
		if (len > sizeof(tc->buf) - tc->gathered &&
		    tls_conn_flush(tc) == -1)
			return TLS_ERR_SOCKET;
		if (len <= sizeof(tc->buf)) {
			memcpy(tc->buf + tc->gathered, buf, len);
			tc->gathered += len;
			return (int)len;
		}
	}
	if (tc->plain.writev(&tc->plain, &(struct iovec){ (void *)(uintptr_t)buf,
	    len }, 1, tc->deadline_ms) == -1) {
		tc->sock_errno = errno;
		return TLS_ERR_SOCKET;
	}
	return (int)len;
}

static int
tls_conn_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn	*tc = ctx;
	ssize_t		 n;

	if (len > INT_MAX)
		len = INT_MAX;
	if (tls_conn_flush(tc) == -1)
		return TLS_ERR_SOCKET;
	if ((n = tc->plain.read(&tc->plain, buf, len, tc->deadline_ms)) == -1) {
		tc->sock_errno = errno;
		return TLS_ERR_SOCKET;
	}
	return (int)n;		/* 0: mbedTLS says MBEDTLS_ERR_SSL_CONN_EOF */
}

/* Starts a call that may touch the socket, waiting with watch. */
static void
tls_conn_begin(struct tls_conn *tc, const struct io_watch *watch,
    int64_t deadline_ms)
{
	tc->plain.watch = watch;
	tc->deadline_ms = deadline_ms;
	tc->sock_errno = 0;
}

/*
 * The caller's cut, kept for the rest of the handshake: mbedTLS reads a
 * record in several calls, and each would otherwise start from the full
 * handshake deadline again.
 */
static int64_t
tls_conn_handshake_cut(void *arg)
{
	struct tls_conn	*tc = arg;
	int64_t		 cut;

	cut = tc->hs_outer->cut(tc->hs_outer->arg);
	if (cut < tc->deadline_ms)
		tc->deadline_ms = cut;
	return cut;
}

/* errno for a failed mbedTLS call */
static int
tls_conn_errno(const struct tls_conn *tc, int rc)
{
	if (tc->sock_errno != 0)
		return tc->sock_errno;	/* ETIMEDOUT, ECONNRESET, EPIPE ... */
	switch (rc) {
	case MBEDTLS_ERR_SSL_CONN_EOF:
		return ECONNRESET;
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
		return ENOMEM;
	default:
		return EPROTO;		/* bad record, alert, no common suite */
	}
}

/* Frees what the connection used; the context stays for the next one. */
static void
tls_conn_release(struct tls_conn *tc)
{
	tc->dirty = mbedtls_ssl_session_reset(&tc->ssl) != 0;
	tc->busy = false;
}

static ssize_t
tls_conn_read(struct io *io, void *buf, size_t len, int64_t deadline_ms)
{
	struct tls_conn	*tc = io->ctx;
	int		 rc;

	tls_conn_begin(tc, io->watch, deadline_ms);
	/* WANT_READ after a warning alert: a record was used up, go on. */
	do
		rc = mbedtls_ssl_read(&tc->ssl, buf, len);
	while (rc == MBEDTLS_ERR_SSL_WANT_READ);
	if (rc >= 0)
		return rc;
	/* Many clients just close; for HTTP, framing tells truncation. */
	if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
	    (rc == MBEDTLS_ERR_SSL_CONN_EOF && tc->sock_errno == 0))
		return 0;
	errno = tls_conn_errno(tc, rc);
	return -1;
}

/* Every byte of p as records; 0 or -1. */
static int
tls_conn_write_all(struct tls_conn *tc, const unsigned char *p, size_t n)
{
	int	 rc;

	while (n > 0) {
		if ((rc = mbedtls_ssl_write(&tc->ssl, p, n)) <= 0) {
			errno = tls_conn_errno(tc, rc);
			return -1;
		}
		p += rc;
		n -= (size_t)rc;
	}
	return 0;
}

/*
 * Small pieces (a response head, a short body) are gathered into full
 * records, so each costs one record and one write; a piece of a record or
 * more goes straight to mbedTLS, which copies it into its own buffer anyway.
 */
static int
tls_conn_writev(struct io *io, const struct iovec *iov, int cnt,
    int64_t deadline_ms)
{
	struct tls_conn		*tc = io->ctx;
	const unsigned char	*p;
	size_t			 n, k, used = 0, total = 0;
	int			 i;

	tls_conn_begin(tc, io->watch, deadline_ms);
	for (i = 0; i < cnt; i++) {
		p = iov[i].iov_base;
		n = iov[i].iov_len;
		total += n;
		if (used == 0 && n >= sizeof(tc->buf)) {
			if (tls_conn_write_all(tc, p, n) == -1)
				return -1;
			continue;
		}
		while (n > 0) {
			k = n < sizeof(tc->buf) - used ? n :
			    sizeof(tc->buf) - used;
			memcpy(tc->buf + used, p, k);
			used += k;
			p += k;
			n -= k;
			if (used == sizeof(tc->buf)) {
				if (tls_conn_write_all(tc, tc->buf, used) == -1)
					return -1;
				used = 0;
			}
		}
	}
	if (used > 0 && tls_conn_write_all(tc, tc->buf, used) == -1)
		return -1;
	io->bytes_out += total;
	return 0;
}

/* No sendfile(2) through TLS: read a record's worth, encrypt, send. */
static ssize_t
tls_conn_sendfile(struct io *io, int filefd, off_t *off, size_t len,
    int64_t deadline_ms)
{
	struct tls_conn	*tc = io->ctx;
	ssize_t		 n;

	tls_conn_begin(tc, io->watch, deadline_ms);
	n = os_pread(filefd, tc->buf, len < sizeof(tc->buf) ? len :
	    sizeof(tc->buf), *off);
	if (n == -1)
		return -1;
	if (n == 0) {			/* the file shrank under us */
		errno = EIO;
		return -1;
	}
	if (tls_conn_write_all(tc, tc->buf, (size_t)n) == -1)
		return -1;
	*off += n;
	io->bytes_out += (uint64_t)n;
	return n;
}

/* Decrypted bytes, a record already buffered, or bytes on the socket. */
static bool
tls_conn_pending(struct io *io)
{
	struct tls_conn	*tc = io->ctx;

	return mbedtls_ssl_get_bytes_avail(&tc->ssl) > 0 ||
	    mbedtls_ssl_check_pending(&tc->ssl) ||
	    tc->plain.pending(&tc->plain);
}

/* close_notify, then the TCP half-close; reading stays possible. */
static void
tls_conn_shutdown(struct io *io, int64_t deadline_ms)
{
	struct tls_conn	*tc = io->ctx;

	if (!tc->notified) {
		tc->notified = true;
		tls_conn_begin(tc, io->watch, deadline_ms);
		(void)mbedtls_ssl_close_notify(&tc->ssl);
	}
	tc->plain.shutdown(&tc->plain, deadline_ms);
}

static void
tls_conn_close(struct io *io)
{
	struct tls_conn	*tc = io->ctx;

	tls_conn_release(tc);
	tc->plain.close(&tc->plain);
	io->fd = -1;
}

int
tls_accept(struct tls_server *s, struct io *io, int64_t deadline_ms)
{
	struct tls_conn	*tc = s->conn;
	int		 rc, saved;

	if (tc == NULL || tc->busy) {	/* no tls_worker_init; or not closed */
		errno = tc == NULL ? EINVAL : EBUSY;
		return -1;
	}
	if (tc->dirty) {
		if (mbedtls_ssl_session_reset(&tc->ssl) != 0) {
			errno = ENOMEM;
			return -1;
		}
		tc->dirty = false;
	}
	tc->plain = *io;
	tc->notified = false;
	tc->busy = true;
	mbedtls_ssl_set_bio(&tc->ssl, tc, tls_conn_send, tls_conn_recv, NULL);
	tc->hs_outer = io->watch;
	if (io->watch != NULL && io->watch->cut != NULL) {
		tc->hs_watch = *io->watch;
		tc->hs_watch.cut = tls_conn_handshake_cut;
		tc->hs_watch.arg = tc;
		tls_conn_begin(tc, &tc->hs_watch, deadline_ms);
	} else
		tls_conn_begin(tc, io->watch, deadline_ms);
	tc->gather = true;
	tc->gathered = 0;
	rc = mbedtls_ssl_handshake(&tc->ssl);
	if (rc == 0 && tls_conn_flush(tc) == -1)
		rc = TLS_ERR_SOCKET;
	tc->gather = false;
	tc->gathered = 0;
	tc->hs_outer = NULL;
	if (rc != 0) {
		saved = tls_conn_errno(tc, rc);
		tls_conn_release(tc);
		errno = saved;
		return -1;
	}
	io->read = tls_conn_read;
	io->writev = tls_conn_writev;
	io->sendfile = tls_conn_sendfile;
	io->pending = tls_conn_pending;
	io->shutdown = tls_conn_shutdown;
	io->close = tls_conn_close;
	io->ctx = tc;
	io->bytes_out = 0;
	return 0;
}

struct tls_conn *
tls_conn_new(const mbedtls_ssl_config *conf)
{
	struct tls_conn	*tc;

	if ((tc = calloc(1, sizeof(*tc))) == NULL)
		return NULL;
	mbedtls_ssl_init(&tc->ssl);
	if (mbedtls_ssl_setup(&tc->ssl, conf) != 0) {
		tls_conn_free(tc);
		return NULL;
	}
	return tc;
}

void
tls_conn_free(struct tls_conn *tc)
{
	if (tc == NULL)
		return;
	mbedtls_ssl_free(&tc->ssl);
	mbedtls_platform_zeroize(tc->buf, sizeof(tc->buf));
	free(tc);
}
