/*
 * The server's certificate and key: loaded from PEM files, or generated
 * on first boot (a self-signed ECDSA P-256 certificate) and written so the
 * next start serves the same one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "tls_internal.h"


#define CERT_DEFAULT_CN		"porch"
/*
 * A router without a real-time clock boots in 1970 and sets its clock
 * later by NTP; a certificate made before that would have expired by
 * 1980. No certificate starts before this (2025-01-01T00:00:00Z).
 */
#define CERT_NOT_BEFORE_MIN	1735689600
#define CERT_BACKDATE		86400	/* s: for clients whose clock is slow */

/* A host name (letters, digits, '-', '.', '_'), as SAN and CN both hold. */
static bool
tls_cert_cn_valid(const char *cn)
{
	const char	*p;

	if (*cn == '\0' || strlen(cn) > TLS_CERT_CN_MAX)
		return false;
	for (p = cn; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_'))
			return false;
	return true;
}

/* "YYYYMMDDhhmmss" of the validity period: from now, for 10 years. */
static void
tls_cert_validity(char from[15], char until[15])
{
	time_t		 t = (time_t)os_wall_time() - CERT_BACKDATE;
	struct tm	*tm;

	if (t < CERT_NOT_BEFORE_MIN)
		t = CERT_NOT_BEFORE_MIN;
	tm = gmtime(&t);
	strftime(from, 15, "%Y%m%d%H%M%S", tm);
	tm->tm_year += TLS_CERT_VALIDITY_YEARS;
	if (tm->tm_mon == 1 && tm->tm_mday == 29)
		tm->tm_mday = 28;	/* no February 29 ten years on */
	strftime(until, 15, "%Y%m%d%H%M%S", tm);
}

/* The self-signed certificate for s->key, as PEM. 0 or an mbedTLS code. */
static int
tls_cert_sign(struct tls_server *s, const char *cn, unsigned char *pem,
    size_t size)
{
	mbedtls_x509write_cert	 crt;
	mbedtls_x509_san_list	 san;
	mbedtls_asn1_sequence	 eku;
	char			 name[TLS_CERT_CN_MAX + 4], from[15], until[15];
	unsigned char		 serial[16];
	int			 rc;

	snprintf(name, sizeof(name), "CN=%s", cn);
	memset(&san, 0, sizeof(san));
	san.node.type = MBEDTLS_X509_SAN_DNS_NAME;
	san.node.san.unstructured_name.p = (unsigned char *)name + 3;
	san.node.san.unstructured_name.len = strlen(cn);
	memset(&eku, 0, sizeof(eku));
	eku.buf.tag = MBEDTLS_ASN1_OID;
	eku.buf.p = (unsigned char *)MBEDTLS_OID_SERVER_AUTH;
	eku.buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH);
	tls_cert_validity(from, until);
	if ((rc = mbedtls_ctr_drbg_random(&s->drbg, serial,
	    sizeof(serial))) != 0)
		return rc;
	serial[0] = (serial[0] & 0x7f) | 0x40;	/* positive, minimal DER */
	mbedtls_x509write_crt_init(&crt);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &s->key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &s->key);
	if ((rc = mbedtls_x509write_crt_set_subject_name(&crt, name)) == 0 &&
	    (rc = mbedtls_x509write_crt_set_issuer_name(&crt, name)) == 0 &&
	    (rc = mbedtls_x509write_crt_set_serial_raw(&crt, serial,
	    sizeof(serial))) == 0 &&
	    (rc = mbedtls_x509write_crt_set_validity(&crt, from, until)) == 0 &&
	    (rc = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1))
	    == 0 &&
	    (rc = mbedtls_x509write_crt_set_key_usage(&crt,
	    MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) == 0 &&
	    (rc = mbedtls_x509write_crt_set_ext_key_usage(&crt, &eku)) == 0 &&
	    (rc = mbedtls_x509write_crt_set_subject_alternative_name(&crt,
	    &san)) == 0)
		rc = mbedtls_x509write_crt_pem(&crt, pem, size,
		    mbedtls_ctr_drbg_random, &s->drbg);
	mbedtls_x509write_crt_free(&crt);
	return rc;
}

/* key first: a certificate on disk always has its key beside it. */
static int
tls_cert_save(const struct tls_settings *set, const unsigned char *cert_pem,
    const unsigned char *key_pem, char *err, size_t errlen)
{
	if (os_write_file_atomic(set->key_file, key_pem,
	    strlen((const char *)key_pem), 0600) == -1) {
		snprintf(err, errlen, "%s: cannot write key: %s", set->key_file,
		    strerror(errno));
		return -1;
	}
	if (os_write_file_atomic(set->cert_file, cert_pem,
	    strlen((const char *)cert_pem), 0644) == -1) {
		snprintf(err, errlen, "%s: cannot write certificate: %s",
		    set->cert_file, strerror(errno));
		return -1;
	}
	return 0;
}

/* A new P-256 key and its certificate, into s (and the files, if named). */
static int
tls_cert_generate(struct tls_server *s, const struct tls_settings *set,
    char *err, size_t errlen)
{
	const char	*cn = set->autogen_cn;
	unsigned char	 cert_pem[TLS_PEM_MAX], key_pem[TLS_PEM_MAX];
	int		 rc, ret = -1;

	if (cn == NULL || *cn == '\0')
		cn = CERT_DEFAULT_CN;
	if (!tls_cert_cn_valid(cn)) {
		snprintf(err, errlen, "TLS certificate name \"%.80s\": "
		    "expected a host name of at most %d characters", cn,
		    TLS_CERT_CN_MAX);
		return -1;
	}
	if ((rc = mbedtls_pk_setup(&s->key,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
	    (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
	    mbedtls_pk_ec(s->key), mbedtls_ctr_drbg_random, &s->drbg)) != 0 ||
	    (rc = tls_cert_sign(s, cn, cert_pem, sizeof(cert_pem))) != 0 ||
	    (rc = mbedtls_pk_write_key_pem(&s->key, key_pem,
	    sizeof(key_pem))) != 0) {
		tls_ctx_error(err, errlen, "generating the TLS certificate",
		    rc);
		goto out;
	}
	if (set->cert_file != NULL &&
	    tls_cert_save(set, cert_pem, key_pem, err, errlen) == -1)
		goto out;
	if ((rc = mbedtls_x509_crt_parse(&s->cert, cert_pem,
	    strlen((char *)cert_pem) + 1)) != 0) {
		tls_ctx_error(err, errlen, "parsing the generated certificate",
		    rc);
		goto out;
	}
	ret = 0;
out:
	mbedtls_platform_zeroize(key_pem, sizeof(key_pem));
	return ret;
}

static int
tls_cert_read(struct tls_server *s, const struct tls_settings *set,
    char *err, size_t errlen)
{
	char	 what[512];
	int	 rc;

	if (os_readable_file(set->cert_file) == -1) {
		snprintf(err, errlen, "%s: %s", set->cert_file,
		    strerror(errno));
		return -1;
	}
	if ((rc = mbedtls_x509_crt_parse_file(&s->cert, set->cert_file)) != 0) {
		snprintf(what, sizeof(what), "%s: cannot parse certificate",
		    set->cert_file);
		if (rc > 0)
			snprintf(err, errlen, "%s: %d of its certificates are "
			    "not valid or not supported", what, rc);
		else
			tls_ctx_error(err, errlen, what, rc);
		return -1;
	}
	if (os_readable_file(set->key_file) == -1) {
		snprintf(err, errlen, "%s: %s", set->key_file, strerror(errno));
		return -1;
	}
	if ((rc = mbedtls_pk_parse_keyfile(&s->key, set->key_file, NULL,
	    mbedtls_ctr_drbg_random, &s->drbg)) != 0) {
		snprintf(what, sizeof(what), "%s: cannot parse key",
		    set->key_file);
		tls_ctx_error(err, errlen, what, rc);
		return -1;
	}
	return 0;
}

/*
 * The whole chain goes out in one Certificate message, which mbedTLS must
 * fit in one record of at most MBEDTLS_SSL_OUT_CONTENT_LEN bytes: say so at
 * start rather than fail every handshake.
 */
static int
tls_cert_check(struct tls_server *s, const struct tls_settings *set,
    char *err, size_t errlen)
{
	const mbedtls_x509_crt	*c;
	const char		*name = set->cert_file ? set->cert_file : "TLS";
	size_t			 total = 4 + 1 + 3;	/* TLS 1.3 headers */
	int			 rc;

	if ((rc = mbedtls_pk_check_pair(&s->cert.pk, &s->key,
	    mbedtls_ctr_drbg_random, &s->drbg)) != 0) {
		snprintf(err, errlen, "%s: does not match the key in %s", name,
		    set->key_file ? set->key_file : "memory");
		return -1;
	}
	for (c = &s->cert; c != NULL && c->raw.len > 0; c = c->next)
		total += 3 + c->raw.len + 2;
	if (total > MBEDTLS_SSL_OUT_CONTENT_LEN) {
		snprintf(err, errlen, "%s: certificate chain of %zu bytes, "
		    "more than the %d a TLS record of porch holds", name,
		    total, MBEDTLS_SSL_OUT_CONTENT_LEN);
		return -1;
	}
	return 0;
}

/*
 * With autogen, a missing certificate file means "generate": the key is
 * replaced too, so a generation cut short (key written, certificate not)
 * heals on the next start.
 */
int
tls_cert_load(struct tls_server *s, const struct tls_settings *set,
    char *err, size_t errlen)
{
	bool	 generate;

	if (set->cert_file == NULL && !set->autogen) {
		snprintf(err, errlen, "TLS: no certificate file given");
		return -1;
	}
	if (set->cert_file != NULL && set->key_file == NULL) {
		snprintf(err, errlen, "%s: no key file given", set->cert_file);
		return -1;
	}
	generate = set->cert_file == NULL || (set->autogen &&
	    os_readable_file(set->cert_file) == -1 && errno == ENOENT);
	if (generate) {
		if (tls_cert_generate(s, set, err, errlen) == -1)
			return -1;
	} else if (tls_cert_read(s, set, err, errlen) == -1)
		return -1;
	return tls_cert_check(s, set, err, errlen);
}
