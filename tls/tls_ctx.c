/*
 * The server context: random generators, certificate and key, and the one
 * mbedTLS configuration every connection shares. Built by the master
 * before fork; each worker then gives itself fresh randomness.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509.h>
#include <psa/crypto.h>

#include "tls_internal.h"

static const char	*alpn_protocols[] = { "http/1.1", NULL };

/*
 * Forward secrecy only: every suite is ECDHE (TLS 1.2) or a TLS 1.3 suite,
 * whose key exchange is always (EC)DHE here (see tls_ctx_configure). The
 * list holds even if the mbedTLS configuration ever grows more suites.
 * Without AES instructions ChaCha20-Poly1305 is several times faster, so
 * it goes first on the targets that lack them.
 */
#if defined(MBEDTLS_AESNI_C) || defined(MBEDTLS_AESCE_C)
#define TLS_SUITES_AES_FIRST	1
#else
#define TLS_SUITES_AES_FIRST	0
#endif
static const int	 ciphersuites[] = {
#if TLS_SUITES_AES_FIRST
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
#else
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
	MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
#endif
	0
};

static const uint16_t	 groups[] = {
	MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
	MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
	MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};

/* mbedTLS is built without its error strings; these are the ones a user
 * can cause with a certificate, a key or the system. */
static const struct {
	int		 rc;
	const char	*text;
} errors[] = {
	{ MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT, "no PEM data" },
	{ MBEDTLS_ERR_PEM_INVALID_DATA, "bad PEM data" },
	{ MBEDTLS_ERR_PEM_PASSWORD_REQUIRED, "key is encrypted" },
	{ MBEDTLS_ERR_PK_PASSWORD_REQUIRED, "key is encrypted" },
	{ MBEDTLS_ERR_PK_FILE_IO_ERROR, "cannot read file" },
	{ MBEDTLS_ERR_PK_KEY_INVALID_FORMAT, "not a valid key" },
	{ MBEDTLS_ERR_PK_UNKNOWN_PK_ALG, "unsupported key type" },
	{ MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE,
	    "unsupported key (EC keys must be P-256)" },
	{ MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE,
	    "unsupported curve (EC keys must be P-256)" },
	{ MBEDTLS_ERR_PK_INVALID_PUBKEY, "bad public key" },
	{ MBEDTLS_ERR_PK_ALLOC_FAILED, "out of memory" },
	{ MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE,
	    "unsupported curve (EC keys must be P-256)" },
	{ MBEDTLS_ERR_RSA_KEY_CHECK_FAILED, "bad RSA key" },
	{ MBEDTLS_ERR_X509_FILE_IO_ERROR, "cannot read file" },
	{ MBEDTLS_ERR_X509_INVALID_FORMAT, "not a valid certificate" },
	{ MBEDTLS_ERR_X509_INVALID_VERSION, "unsupported X.509 version" },
	{ MBEDTLS_ERR_X509_INVALID_DATE, "bad validity dates" },
	{ MBEDTLS_ERR_X509_INVALID_EXTENSIONS, "bad extensions" },
	{ MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG, "unsupported signature algorithm" },
	{ MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE,
	    "unsupported (EC keys must be P-256, RSA at most 4096 bits)" },
	{ MBEDTLS_ERR_X509_ALLOC_FAILED, "out of memory" },
	{ MBEDTLS_ERR_ENTROPY_SOURCE_FAILED, "no entropy (getrandom failed)" },
	{ MBEDTLS_ERR_SSL_ALLOC_FAILED, "out of memory" },
	{ MBEDTLS_ERR_ASN1_OUT_OF_DATA, "truncated DER" },
	{ MBEDTLS_ERR_ASN1_UNEXPECTED_TAG, "malformed DER" },
	{ MBEDTLS_ERR_ASN1_INVALID_LENGTH, "malformed DER" },
	{ MBEDTLS_ERR_ASN1_LENGTH_MISMATCH, "malformed DER" },
	{ MBEDTLS_ERR_ASN1_INVALID_DATA, "malformed DER" },
};

static const char *
tls_ctx_error_text(int rc)
{
	size_t	 i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].rc == rc)
			return errors[i].text;
	return NULL;
}

/*
 * "what: text (-0xNNNN)". An mbedTLS code is a high-level part (X.509, PK,
 * SSL) plus, sometimes, the low-level cause (ASN.1, bignum): both are named.
 */
void
tls_ctx_error(char *err, size_t errlen, const char *what, int rc)
{
	const char	*high, *low;
	int		 code = rc < 0 ? -rc : rc;

	high = tls_ctx_error_text(-(code & 0xff80));
	low = tls_ctx_error_text(-(code & 0x007f));
	if (high == NULL && low == NULL)
		high = "error";
	snprintf(err, errlen, "%s: %s%s%s (-0x%04x)", what,
	    high != NULL ? high : "", high != NULL && low != NULL ? ": " : "",
	    low != NULL ? low : "", (unsigned)code);
}

bool
tls_available(void)
{
	return true;
}

static int
tls_ctx_configure(struct tls_server *s, unsigned lifetime,
    const struct tls_server *prev, char *err, size_t errlen)
{
	mbedtls_ssl_config	*conf = &s->conf;
	int			 rc;

	if ((rc = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		tls_ctx_error(err, errlen, "TLS configuration", rc);
		return -1;
	}
	mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &s->drbg);
	mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_ciphersuites(conf, ciphersuites);
	mbedtls_ssl_conf_groups(conf, groups);
	/* Resumption still runs an ECDHE exchange: no pure-PSK mode. */
	mbedtls_ssl_conf_tls13_key_exchange_modes(conf,
	    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL |
	    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL);
	if ((rc = mbedtls_ssl_conf_own_cert(conf, &s->cert, &s->key)) != 0 ||
	    (rc = mbedtls_ssl_conf_alpn_protocols(conf, alpn_protocols)) != 0) {
		tls_ctx_error(err, errlen, "TLS configuration", rc);
		return -1;
	}
	if (lifetime == 0)
		return 0;
	if ((rc = tls_ticket_setup(&s->ticket, &s->drbg, lifetime,
	    prev != NULL ? &prev->ticket : NULL)) != 0) {
		tls_ctx_error(err, errlen, "TLS session tickets", rc);
		return -1;
	}
	mbedtls_ssl_conf_session_tickets_cb(conf, tls_ticket_write,
	    tls_ticket_parse, &s->ticket);
	return 0;
}

/* A server with its random generator seeded and nothing else loaded. */
struct tls_server *
tls_server_alloc(char *err, size_t errlen)
{
	static const unsigned char	 pers[] = "porch tls master";
	struct tls_server		*s;
	int				 rc;

	tls_heap_install();
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "TLS: %s", strerror(errno));
		return NULL;
	}
	mbedtls_entropy_init(&s->entropy);
	mbedtls_ctr_drbg_init(&s->drbg);
	mbedtls_x509_crt_init(&s->cert);
	mbedtls_pk_init(&s->key);
	mbedtls_ssl_config_init(&s->conf);
	tls_ticket_init(&s->ticket);
	if ((rc = mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func,
	    &s->entropy, pers, sizeof(pers) - 1)) != 0) {
		tls_ctx_error(err, errlen, "TLS random generator", rc);
		tls_server_free(s);
		return NULL;
	}
	return s;
}

struct tls_server *
tls_server_new(const struct tls_settings *set, const struct tls_server *prev,
    char *err, size_t errlen)
{
	struct tls_server	*s;

	if (errlen > 0)
		err[0] = '\0';
	if (set->ticket_lifetime > TLS_TICKET_LIFETIME_MAX) {
		snprintf(err, errlen, "TLS ticket lifetime %u s: above the "
		    "%d s TLS 1.3 allows", set->ticket_lifetime,
		    TLS_TICKET_LIFETIME_MAX);
		return NULL;
	}
	if ((s = tls_server_alloc(err, errlen)) == NULL)
		return NULL;
	if (tls_cert_load(s, set, prev != NULL ? TLS_EXPIRED_UNLESS_SAME :
	    TLS_EXPIRED_WARNED, prev != NULL ? &prev->cert : NULL, err,
	    errlen) == -1 ||
	    tls_ctx_configure(s, set->ticket_lifetime, prev, err, errlen) ==
	    -1) {
		tls_server_free(s);
		return NULL;
	}
	return s;
}

/*
 * fork() copied the master's generator into every worker: without a
 * reseed, two workers would draw the same ECDHE keys and nonces. PSA
 * (TLS 1.3 key shares) keeps its own generator; the master never starts
 * it, and a worker starts it afresh in case anything before fork did.
 */
int
tls_worker_init(struct tls_server *s)
{
	pid_t	 pid = os_getpid();

	if (mbedtls_ctr_drbg_reseed(&s->drbg, (const unsigned char *)&pid,
	    sizeof(pid)) != 0) {
		errno = EIO;
		return -1;
	}
	mbedtls_psa_crypto_free();
	if (psa_crypto_init() != PSA_SUCCESS) {
		errno = EIO;
		return -1;
	}
	if (s->conn == NULL && (s->conn = tls_conn_new(&s->conf)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
tls_server_free(struct tls_server *s)
{
	if (s == NULL)
		return;
	tls_conn_free(s->conn);
	mbedtls_ssl_config_free(&s->conf);
	tls_ticket_free(&s->ticket);
	mbedtls_pk_free(&s->key);
	mbedtls_x509_crt_free(&s->cert);
	mbedtls_ctr_drbg_free(&s->drbg);
	mbedtls_entropy_free(&s->entropy);
	mbedtls_psa_crypto_free();
	mbedtls_platform_zeroize(s, sizeof(*s));
	free(s);
}
