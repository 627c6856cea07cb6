/*
 * porch's mbedTLS 3.6 configuration: a complete replacement for
 * mbedtls/mbedtls_config.h, selected with
 *	-DMBEDTLS_CONFIG_FILE="porch_mbedtls_config.h"
 * (toolchain.mk's MBEDTLS_CFLAGS says so; the copy installed in the cache
 * also replaces mbedtls/mbedtls_config.h there, so both agree).
 *
 * What porch needs and nothing else:
 *   - TLS 1.2 and 1.3, server side only; forward secrecy only:
 *     ECDHE over X25519 and P-256, ECDSA (P-256) and RSA certificates;
 *     AES-GCM and ChaCha20-Poly1305; session tickets; ALPN.
 *     TLS 1.3 resumption is psk_dhe_ke only (no pure-PSK mode).
 *   - Generating a self-signed ECDSA P-256 certificate on first boot:
 *     EC key generation, X.509 and PK writing (DER and PEM).
 *   - PSA crypto, which TLS 1.3 is built on.
 * Left out on purpose: client side, CBC and every other mode, SHA-1, MD5,
 * RSA key exchange, (EC)DH without E, DHE, PSK, renegotiation, SSL 3.0 and
 * TLS 1.0/1.1, DTLS, early data, the session cache (tickets instead),
 * net_sockets (porch has its own IO), debug and error strings, self tests.
 *
 * Changing this file changes its hash and so the mbedTLS cache key:
 * toolchain.mk rebuilds the libraries for every target on next use.
 */
#ifndef PORCH_MBEDTLS_CONFIG_H
#define PORCH_MBEDTLS_CONFIG_H

/* System support */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE		/* certificate validity dates */
#define MBEDTLS_FS_IO			/* x509_crt_parse_file, pk_parse_keyfile */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY		/* lets porch plug in a per-worker allocator */

/* Hardware AES where the CPU has it (checked at run time): AES-NI on
 * x86_64, the Armv8 crypto extension on aarch64; no-ops elsewhere. */
#if defined(__x86_64__)
#define MBEDTLS_AESNI_C
#endif
#if defined(__aarch64__)
#define MBEDTLS_AESCE_C
#endif
/* Constant tables in .rodata (shared by all workers, no per-process
 * generation), and the small set of them. */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES

/* Symmetric ciphers and AEADs */
#define MBEDTLS_AES_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C

/* Hashes: SHA-256 and SHA-384 (TLS 1.3 suites, TLS 1.2 PRF, signatures) */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C		/* SHA-384 is computed by the SHA-512 code */
#define MBEDTLS_HKDF_C			/* TLS 1.3 key schedule (PSA HKDF) */

/* Public key: elliptic curves */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC	/* RFC 6979: no RNG in the nonce */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
/* X25519 from Project Everest (formally verified HACL* code, shipped in
 * mbedTLS's 3rdparty/): the shared secret of every X25519 exchange, and
 * the whole exchange in TLS 1.2, at about 1/7 of the instructions of the
 * generic bignum ladder. TLS 1.3 still makes its key share through PSA,
 * whose built-in X25519 key generation is that ladder (mbedTLS 3.6 has no
 * faster built-in path for it). Everest is Apache-2.0 only: mbedTLS is then
 * used under Apache-2.0, not GPL-2.0-or-later. */
#define MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED

/* Public key: RSA certificates (PKCS#1 v1.5 for TLS 1.2, PSS for 1.3) */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT	/* offers rsa_pss_rsae_*: TLS 1.3 + RSA */
#define MBEDTLS_MPI_MAX_SIZE		512	/* bytes: RSA up to 4096 bits */

/* Random numbers: entropy from getrandom(2), CTR_DRBG for TLS,
 * HMAC_DRBG for deterministic ECDSA. Reseed in each worker after fork. */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C

/* PSA crypto: TLS 1.3 is built on it; call psa_crypto_init() after fork */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC

/* Keys and certificates: parse (PEM and DER), write, create */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_REMOVE_INFO	/* no mbedtls_x509_crt_info() strings */

/* TLS: server side, 1.2 and 1.3 */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE	/* middlebox compatibility */
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET	/* RFC 7627, TLS 1.2 */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE	/* required by TLS 1.3 in 3.6 */
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
/* Record buffers, allocated once per worker (tls/ reuses its context).
 * Incoming records stay at the 16 KiB maximum: a client may send full-size
 * records unless it negotiated a smaller size, which browsers don't.
 * Outgoing records are the server's choice: 8 KiB halves that buffer (and
 * tls/'s plaintext buffer, sized to match) for ~0.3% more record overhead,
 * and still holds the Certificate message of a usual CA chain, which must
 * fit in one record (tls_server_new refuses a larger chain at start). */
#define MBEDTLS_SSL_IN_CONTENT_LEN	16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN	8192

/* Errors: numeric codes only (mbedtls_strerror prints the number). */
#define MBEDTLS_ERROR_STRERROR_DUMMY

#endif /* PORCH_MBEDTLS_CONFIG_H */
