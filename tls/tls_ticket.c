/*
 * Session tickets valid in every worker, with deterministic key rotation
 * and no shared mutable state. The master draws a random secret before
 * fork; every worker derives the key of time epoch E (E = monotonic seconds
 * / lifetime) as HKDF-SHA256(secret, E), so all workers hold the same keys
 * and change them at the same instant without telling each other. Tickets
 * are sealed under the current epoch's key and opened under it or the
 * previous one's, so a ticket issued just before a boundary still works;
 * its age is checked against the lifetime as well.
 *
 * The clock is CLOCK_MONOTONIC, which all processes of one boot share and
 * which no NTP step moves (routers often set their clock after porch
 * starts). A reload hands the secret to the next configuration, so its
 * workers derive the same keys and tickets issued before it still resume
 * (unless the lifetime changed, which renumbers the epochs); keys go on
 * rotating with the epochs. Tickets do not survive a restart: the secret
 * is new each time, and lives only in memory.
 *
 * Ticket layout, as mbedTLS's own ssl_ticket.c (whose keys each worker
 * would rotate at random on its own):
 *	name[4] nonce[12] length[2] sealed_session[length] tag[16]
 * with name, nonce and length as additional authenticated data.
 */
#include <string.h>

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_time.h>
#include <mbedtls/platform_util.h>

#include "tls_internal.h"

#define TICKET_NONCE_LEN	12
#define TICKET_TAG_LEN		16
#define TICKET_AD_LEN		(TLS_TICKET_NAME_LEN + TICKET_NONCE_LEN + 2)
#define TICKET_OVERHEAD		(TICKET_AD_LEN + TICKET_TAG_LEN)

static const unsigned char	 ticket_salt[] = "porch ticket key v1";

void
tls_ticket_init(struct tls_ticket *tk)
{
	memset(tk, 0, sizeof(*tk));
	mbedtls_cipher_init(&tk->keys[0].cipher);
	mbedtls_cipher_init(&tk->keys[1].cipher);
}

/*
 * Master: the secret all workers derive their keys from; prev's, when the
 * configuration before a reload had tickets too.
 */
int
tls_ticket_setup(struct tls_ticket *tk, mbedtls_ctr_drbg_context *drbg,
    uint32_t lifetime, const struct tls_ticket *prev)
{
	const mbedtls_cipher_info_t	*info;
	int				 rc, i;

	info = mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_256_GCM);
	if (info == NULL)
		return MBEDTLS_ERR_CIPHER_FEATURE_UNAVAILABLE;
	for (i = 0; i < 2; i++)
		if ((rc = mbedtls_cipher_setup(&tk->keys[i].cipher, info)) != 0)
			return rc;
	tk->drbg = drbg;
	tk->lifetime = lifetime;
	if (prev != NULL && prev->lifetime != 0) {
		memcpy(tk->secret, prev->secret, sizeof(tk->secret));
		return 0;
	}
	return mbedtls_ctr_drbg_random(drbg, tk->secret, sizeof(tk->secret));
}

void
tls_ticket_free(struct tls_ticket *tk)
{
	mbedtls_cipher_free(&tk->keys[0].cipher);
	mbedtls_cipher_free(&tk->keys[1].cipher);
	mbedtls_platform_zeroize(tk, sizeof(*tk));
}

static uint64_t
tls_ticket_epoch(const struct tls_ticket *tk)
{
	return (uint64_t)os_now_ms() / 1000 / tk->lifetime;
}

/* The key of epoch e, derived on first use in this worker; NULL on error. */
static struct tls_ticket_key *
tls_ticket_key(struct tls_ticket *tk, uint64_t e)
{
	struct tls_ticket_key	*k = &tk->keys[e % 2];
	unsigned char		 info[8], okm[TLS_TICKET_NAME_LEN +
				    TLS_TICKET_KEY_LEN];
	int			 i, rc;

	if (k->ready && k->epoch == e)
		return k;
	for (i = 0; i < 8; i++)
		info[i] = (unsigned char)(e >> (56 - 8 * i));
	k->ready = false;
	rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
	    ticket_salt, sizeof(ticket_salt) - 1, tk->secret,
	    sizeof(tk->secret), info, sizeof(info), okm, sizeof(okm));
	if (rc == 0)
		rc = mbedtls_cipher_setkey(&k->cipher,
		    okm + TLS_TICKET_NAME_LEN, TLS_TICKET_KEY_LEN * 8,
		    MBEDTLS_ENCRYPT);
	if (rc == 0) {
		memcpy(k->name, okm, TLS_TICKET_NAME_LEN);
		k->epoch = e;
		k->ready = true;
	}
	mbedtls_platform_zeroize(okm, sizeof(okm));
	return k->ready ? k : NULL;
}

/* mbedtls_ssl_ticket_write_t: seal the session under this epoch's key. */
int
tls_ticket_write(void *p, const mbedtls_ssl_session *session,
    unsigned char *start, const unsigned char *end, size_t *tlen,
    uint32_t *lifetime)
{
	struct tls_ticket	*tk = p;
	struct tls_ticket_key	*k;
	unsigned char		*nonce = start + TLS_TICKET_NAME_LEN;
	unsigned char		*len = nonce + TICKET_NONCE_LEN;
	unsigned char		*state = len + 2;
	size_t			 clear_len, sealed_len;
	int			 rc;

	*tlen = 0;
	if (end - start < TICKET_OVERHEAD)
		return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
	if ((k = tls_ticket_key(tk, tls_ticket_epoch(tk))) == NULL)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	memcpy(start, k->name, TLS_TICKET_NAME_LEN);
	if ((rc = mbedtls_ctr_drbg_random(tk->drbg, nonce,
	    TICKET_NONCE_LEN)) != 0)
		return rc;
	if ((rc = mbedtls_ssl_session_save(session, state,
	    (size_t)(end - state) - TICKET_TAG_LEN, &clear_len)) != 0)
		return rc;
	if (clear_len > 0xffff)
		return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
	len[0] = (unsigned char)(clear_len >> 8);
	len[1] = (unsigned char)clear_len;
	rc = mbedtls_cipher_auth_encrypt_ext(&k->cipher, nonce,
	    TICKET_NONCE_LEN, start, TICKET_AD_LEN, state, clear_len, state,
	    (size_t)(end - state), &sealed_len, TICKET_TAG_LEN);
	if (rc != 0)
		return rc;
	*tlen = TICKET_AD_LEN + sealed_len;
	*lifetime = tk->lifetime;
	return 0;
}

/* The key a ticket names: this epoch's or the previous one's. */
static struct tls_ticket_key *
tls_ticket_find(struct tls_ticket *tk, const unsigned char *name)
{
	struct tls_ticket_key	*k;
	uint64_t		 e = tls_ticket_epoch(tk);

	if ((k = tls_ticket_key(tk, e)) != NULL &&
	    memcmp(k->name, name, TLS_TICKET_NAME_LEN) == 0)
		return k;
	if (e > 0 && (k = tls_ticket_key(tk, e - 1)) != NULL &&
	    memcmp(k->name, name, TLS_TICKET_NAME_LEN) == 0)
		return k;
	return NULL;
}

/* mbedtls_ssl_ticket_parse_t: open a ticket in place and load its session. */
int
tls_ticket_parse(void *p, mbedtls_ssl_session *session, unsigned char *buf,
    size_t len)
{
	struct tls_ticket	*tk = p;
	struct tls_ticket_key	*k;
	unsigned char		*nonce = buf + TLS_TICKET_NAME_LEN;
	unsigned char		*state = nonce + TICKET_NONCE_LEN + 2;
	mbedtls_ms_time_t	 created, age;
	size_t			 sealed_len, clear_len;
	int			 rc;

	if (len < TICKET_OVERHEAD)
		return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
	sealed_len = (size_t)nonce[TICKET_NONCE_LEN] << 8 |
	    nonce[TICKET_NONCE_LEN + 1];
	if (len != TICKET_OVERHEAD + sealed_len)
		return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
	/* An unknown name is most likely a key two epochs old. */
	if ((k = tls_ticket_find(tk, buf)) == NULL)
		return MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
	rc = mbedtls_cipher_auth_decrypt_ext(&k->cipher, nonce,
	    TICKET_NONCE_LEN, buf, TICKET_AD_LEN, state,
	    sealed_len + TICKET_TAG_LEN, state, sealed_len, &clear_len,
	    TICKET_TAG_LEN);
	if (rc == MBEDTLS_ERR_CIPHER_AUTH_FAILED)
		return MBEDTLS_ERR_SSL_INVALID_MAC;
	if (rc != 0)
		return rc;
	if ((rc = mbedtls_ssl_session_load(session, state, clear_len)) != 0)
		return rc;
	/* The epoch bounds a ticket's life to two lifetimes; its own
	 * creation time (mbedTLS's clock) bounds it to one. */
	if ((rc = mbedtls_ssl_session_get_ticket_creation_time(session,
	    &created)) != 0)
		return rc;
	age = mbedtls_ms_time() - created;
	if (age < 0 || age > (mbedtls_ms_time_t)tk->lifetime * 1000)
		return MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
	return 0;
}
