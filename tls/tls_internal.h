/* Shared between tls/ files only; nothing outside tls/ uses it. */
#ifndef PORCH_TLS_INTERNAL_H
#define PORCH_TLS_INTERNAL_H

#include <mbedtls/cipher.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "tls.h"

/* bytes of plaintext in one record we send */
#define TLS_RECORD_MAX		MBEDTLS_SSL_OUT_CONTENT_LEN
#define TLS_HEAP_CLASS_MAX	512	/* bytes: largest block kept */
#define TLS_PEM_MAX		4096	/* bytes: generated cert or key */
#define TLS_TICKET_SECRET_LEN	32	/* bytes: drawn by the master */
#define TLS_TICKET_KEY_LEN	32	/* bytes: AES-256-GCM */
#define TLS_TICKET_NAME_LEN	4	/* bytes: names the epoch's key */

/* The key of one time epoch, derived from the secret. */
struct tls_ticket_key {
	uint64_t		 epoch;
	bool			 ready;
	unsigned char		 name[TLS_TICKET_NAME_LEN];
	mbedtls_cipher_context_t cipher;
};

struct tls_ticket {
	unsigned char		 secret[TLS_TICKET_SECRET_LEN];
	uint32_t		 lifetime;	/* s; also the epoch */
	struct tls_ticket_key	 keys[2];	/* epoch E in keys[E % 2] */
	mbedtls_ctr_drbg_context *drbg;		/* for nonces */
};

/* A worker's one connection, allocated once and reused. */
struct tls_conn {
	mbedtls_ssl_context	 ssl;
	struct io		 plain;		/* the socket as plain TCP */
	int64_t			 deadline_ms;	/* of the call under way */
	const struct io_watch	*hs_outer;	/* caller's, in a handshake */
	struct io_watch		 hs_watch;	/* hs_outer's, its cut kept */
	int			 sock_errno;	/* why the socket failed */
	bool			 busy;		/* tls_accept until close */
	bool			 dirty;		/* needs a session reset */
	bool			 notified;	/* close_notify sent */
	bool			 gather;	/* handshake: tls_conn_send */
	size_t			 gathered;	/* bytes of records in buf */
	unsigned char		 buf[TLS_RECORD_MAX]; /* writev, sendfile,
						 * handshake records */
};

struct tls_server {
	mbedtls_entropy_context	 entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt	 cert;
	mbedtls_pk_context	 key;
	mbedtls_ssl_config	 conf;
	struct tls_ticket	 ticket;
	struct tls_conn		*conn;	/* from tls_worker_init */
};

/* tls_ctx.c */
void	 tls_ctx_error(char *err, size_t errlen, const char *what, int rc);
struct tls_server *tls_server_alloc(char *err, size_t errlen);

/* tls_cert.c */
/* What an expired certificate is: an error, or a warning to log. */
enum tls_expiry {
	TLS_EXPIRED_REFUSED,		/* porch -t */
	TLS_EXPIRED_WARNED,		/* start: nothing else to serve */
	TLS_EXPIRED_UNLESS_SAME,	/* reload: unless prev serves it */
};
int	 tls_cert_load(struct tls_server *, const struct tls_settings *,
	    enum tls_expiry, const mbedtls_x509_crt *prev, char *err,
	    size_t errlen);

/* tls_heap.c */
void	 tls_heap_install(void);

/* tls_conn.c */
struct tls_conn	*tls_conn_new(const mbedtls_ssl_config *);
void	 tls_conn_free(struct tls_conn *);

/* tls_ticket.c */
void	 tls_ticket_init(struct tls_ticket *);
int	 tls_ticket_setup(struct tls_ticket *, mbedtls_ctr_drbg_context *,
	    uint32_t lifetime, const struct tls_ticket *prev);
void	 tls_ticket_free(struct tls_ticket *);
int	 tls_ticket_write(void *, const mbedtls_ssl_session *,
	    unsigned char *start, const unsigned char *end, size_t *tlen,
	    uint32_t *lifetime);
int	 tls_ticket_parse(void *, mbedtls_ssl_session *, unsigned char *buf,
	    size_t len);

#endif
