/*
 * tls: the mbedTLS binding. The master loads (or first generates) the
 * certificate and builds the configuration before fork; each worker then
 * reseeds its random generators and serves one connection at a time through
 * the same struct io as plain TCP, so the HTTP engine never asks "is this
 * TLS?". Session tickets are valid in every worker and across reloads:
 * their keys are derived from a secret drawn once by the master (and handed
 * from one configuration to the next) and the time epoch, never sent.
 *
 * A build without TLS (make TLS=0) links tls_none.c instead: the same
 * functions, tls_available() false, and every other call failing with
 * ENOTSUP, so the server needs no #ifdef.
 *
 * Conventions as in os.h: 0 (or a count), or -1 with errno set; deadlines
 * are absolute CLOCK_MONOTONIC milliseconds (os_now_ms()).
 */
#ifndef PORCH_TLS_H
#define PORCH_TLS_H

#include "../platform/os.h"

#define TLS_TICKET_LIFETIME_MAX	604800	/* s: RFC 8446 4.6.1 */
/*
 * Days a generated certificate is valid. Browsers let a user pin a
 * self-signed certificate whatever its dates, but Apple's TLS stack
 * (Safari, and every browser on iOS) refuses any server certificate
 * issued since 2019-07-01 that is valid for more than 825 days, even a
 * trusted one; Chromium and Firefox limit only certificates from public
 * CAs. So: 825 days, then a new one (porch --gen-cert, then HUP).
 */
#define TLS_CERT_VALIDITY_DAYS	825
#define TLS_CERT_NAME_MAX	64	/* bytes: a DNS name (ub-common-name) */
#define TLS_CERT_NAMES_MAX	16	/* subject alternative names */

struct tls_settings {
	const char	*cert_file;	/* PEM; NULL with autogen */
	const char	*key_file;
	bool		 autogen;	/* generate a self-signed ECDSA P-256
					 * cert+key into cert_file/key_file
					 * when they do not exist */
	/* Subject alternative names of a generated certificate, host names
	 * or IP addresses, NULL-terminated; the first is also its CN. NULL:
	 * this host's name and its addresses (tls_cert_default_names). */
	const char *const *names;
	unsigned	 ticket_lifetime;	/* s */
};

/* Where mbedTLS's heap stands in this process (tls_heap.c). */
struct tls_heap_stats {
	size_t		 live_blocks;	/* allocated, not yet freed */
	size_t		 live_bytes;
	size_t		 peak_bytes;	/* since start or the last reset */
	size_t		 cached_bytes;	/* freed small blocks kept for reuse */
};

struct tls_server;

/* tls_ctx.c */
/* False in a build without TLS (make TLS=0). */
bool	 tls_available(void);
/*
 * Master, before fork: loads (or first generates) the certificate and key,
 * sets up config (TLS 1.2+1.3, forward secrecy only, ALPN "http/1.1",
 * session tickets). NULL with a one-line reason in err (e.g.
 * "/etc/porch/cert.pem: cannot parse certificate: ..."); on success err
 * holds a warning to log ("...: certificate expired on ...") or "".
 *
 * prev, on a reload, is the server serving now: the new one takes over
 * its ticket secret, so tickets issued before the reload still resume
 * (a restart draws a new one), and an expired certificate is refused
 * unless it is the very one prev serves. prev is left as it was.
 *
 * cert_file NULL with autogen: a certificate made in memory for this run
 * only. With autogen, a missing cert_file means "generate": key_file is
 * written first (0600), then cert_file (0644), each atomically, so an
 * existing cert_file always has its key. ticket_lifetime 0: no tickets.
 */
struct tls_server *tls_server_new(const struct tls_settings *,
	    const struct tls_server *prev, char *err, size_t errlen);
/* Worker, after fork: reseed the DRBG, psa_crypto_init(). 0 or -1. */
int	 tls_worker_init(struct tls_server *);
void	 tls_server_free(struct tls_server *);

/* tls_cert.c */
/*
 * porch -t: reads the certificate and key as the next start would and
 * checks them (parse, the key matches, the chain fits a record, not
 * expired). 0, or -1 with the reason in err. Files that autogen would
 * create are fine.
 */
int	 tls_check(const struct tls_settings *, char *err, size_t errlen);
/*
 * porch --gen-cert: a new P-256 key and a self-signed certificate for
 * names (as tls_settings.names), written like autogen: key_file first,
 * 0600, then cert_file, each atomically (a reader sees the old file or the
 * new one). 0, or -1 with the reason in err; on success err lists the
 * names the certificate carries ("router.lan, 192.168.1.1").
 */
int	 tls_cert_write(const char *cert_file, const char *key_file,
	    const char *const *names, char *err, size_t errlen);
/*
 * This host's name (unless it is empty or "localhost"-like) and its
 * interface addresses (not loopback or link-local), as text in buf, into
 * names (NULL-terminated, at most TLS_CERT_NAMES_MAX). The count.
 */
int	 tls_cert_default_names(const char **names, char *buf, size_t size);

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
 *
 * io->watch during the handshake: the first time its cut() gives a
 * nearer deadline (connections queue for a worker), that deadline holds
 * for the rest of the handshake, so a client trickling its handshake
 * cannot earn a fresh cut with every byte. After the handshake the TLS io
 * waits with whatever watch the caller then puts in io->watch.
 */
int	 tls_accept(struct tls_server *, struct io *, int64_t deadline_ms);

/* tls_heap.c */
void	 tls_heap_stats(struct tls_heap_stats *);
void	 tls_heap_peak_reset(void);

#endif
