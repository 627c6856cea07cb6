/*
 * tls: the mbedTLS binding. The master loads (or first generates) the
 * certificate and builds the configuration before fork; each worker then
 * reseeds its random generators and serves one connection at a time through
 * the same struct io as plain TCP, so the HTTP engine never asks "is this
 * TLS?". Session tickets are valid in every worker: their keys are derived
 * from a secret drawn before fork and the time epoch, never shared or sent.
 *
 * Conventions as in os.h: 0 (or a count), or -1 with errno set; deadlines
 * are absolute CLOCK_MONOTONIC milliseconds (os_now_ms()).
 */
#ifndef PORCH_TLS_H
#define PORCH_TLS_H

#include "../platform/os.h"

#define TLS_TICKET_LIFETIME_MAX	604800	/* s: RFC 8446 4.6.1 */
#define TLS_CERT_VALIDITY_YEARS	10	/* of a generated cert */
#define TLS_CERT_CN_MAX		64	/* bytes: ub-common-name */

struct tls_settings {
	const char	*cert_file;	/* PEM; NULL with autogen */
	const char	*key_file;
	bool		 autogen;	/* generate self-signed ECDSA P-256
					 * cert+key into cert_file/key_file
					 * when they do not exist */
	const char	*autogen_cn;	/* subject CN, e.g. hostname */
	unsigned	 ticket_lifetime;	/* s */
};

struct tls_server;

/* tls_ctx.c */
/*
 * Master, before fork: loads (or first generates) the certificate and key,
 * sets up config (TLS 1.2+1.3, forward secrecy only, ALPN "http/1.1",
 * session tickets). NULL with a one-line reason in err (e.g.
 * "/etc/porch/cert.pem: cannot parse certificate: ...").
 *
 * cert_file NULL with autogen: a certificate made in memory for this run
 * only. With autogen, a missing cert_file means "generate": key_file is
 * written first (0600), then cert_file (0644), each atomically, so an
 * existing cert_file always has its key. ticket_lifetime 0: no tickets.
 */
struct tls_server *tls_server_new(const struct tls_settings *, char *err,
	    size_t errlen);
/* Worker, after fork: reseed the DRBG, psa_crypto_init(). 0 or -1. */
int	 tls_worker_init(struct tls_server *);
void	 tls_server_free(struct tls_server *);

/* tls_conn.c */
/*
 * io is a connection's plain TCP stream (os_io_plain, non-blocking, with
 * its watch): runs the handshake over it until deadline_ms; on success io
 * speaks TLS, layered on that stream (sendfile = pread into a buffer + ssl
 * write; shutdown sends close_notify within the deadline; close frees the
 * per-connection state and closes the socket). -1 on failure/timeout
 * (errno ETIMEDOUT on timeout, EPROTO for a TLS error, ECONNRESET when the
 * client left) with io unchanged -- the caller closes it then. A worker
 * serves one connection at a time: its state is allocated once by
 * tls_worker_init and reused.
 */
int	 tls_accept(struct tls_server *, struct io *, int64_t deadline_ms);

#endif
