/*
 * The server's certificate and key: loaded from PEM files and checked
 * (parse, the key matches, the chain fits a record, not expired), or
 * generated (a self-signed ECDSA P-256 certificate naming the host and its
 * addresses) on first boot or by porch --gen-cert, and written so the next
 * start serves the same one.
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
 * 1980. No certificate starts before this (2025-01-01T00:00:00Z), and a
 * clock before it cannot tell whether a certificate has expired.
 */
#define CERT_NOT_BEFORE_MIN	1735689600
#define CERT_BACKDATE		86400	/* s: for clients whose clock is slow */
#define CERT_DAY		86400	/* s */
#define CERT_NAMES_TEXT		(TLS_CERT_NAMES_MAX * 48)	/* bytes */

/*
 * A host name (letters, digits, '-', '.', '_'), as SAN and CN both hold;
 * digits and dots alone are a mistyped IPv4 address, not a name.
 */
static bool
tls_cert_dns_valid(const char *name)
{
	const char	*p;
	bool		 letter = false;

	if (*name == '\0' || strlen(name) > TLS_CERT_NAME_MAX ||
	    *name == '.' || *name == '-')
		return false;
	for (p = name; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    *p == '-' || *p == '_')
			letter = true;
		else if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return false;
	}
	return letter;
}

int
tls_cert_default_names(const char **names, char *buf, size_t size)
{
	struct os_addr	 addrs[TLS_CERT_NAMES_MAX];
	size_t		 used = 0, len;
	int		 n = 0, i, na;

	if (size > 0 && os_hostname(buf, size) == 0 &&
	    tls_cert_dns_valid(buf)) {
		names[n++] = buf;
		used = strlen(buf) + 1;
	}
	na = os_local_addrs(addrs, TLS_CERT_NAMES_MAX - n);
	for (i = 0; i < na && used < size; i++) {
		os_ip_format(&addrs[i], buf + used, size - used);
		if ((len = strlen(buf + used)) == 0 || used + len + 1 > size)
			break;
		names[n++] = buf + used;
		used += len + 1;
	}
	names[n] = NULL;
	return n;
}

/* "YYYYMMDDhhmmss" of the validity period: from now, for 825 days. */
static void
tls_cert_validity(char from[15], char until[15])
{
	time_t		 t = (time_t)os_wall_time() - CERT_BACKDATE;

	if (t < CERT_NOT_BEFORE_MIN)
		t = CERT_NOT_BEFORE_MIN;
	strftime(from, 15, "%Y%m%d%H%M%S", gmtime(&t));
	t += (time_t)TLS_CERT_VALIDITY_DAYS * CERT_DAY;
	strftime(until, 15, "%Y%m%d%H%M%S", gmtime(&t));
}

/*
 * The subject alternative names, one node each in san[], as DNS names or
 * IP addresses (ips[] holds their bytes), linked last to first: mbedTLS
 * writes the list from its end, so the certificate lists them in the
 * order given. The list's head, or NULL with err set.
 */
static const mbedtls_x509_san_list *
tls_cert_san(const char *const *names, mbedtls_x509_san_list *san,
    struct os_addr *ips, char *err, size_t errlen)
{
	int	 i;

	for (i = 0; names[i] != NULL; i++) {
		if (i == TLS_CERT_NAMES_MAX) {
			snprintf(err, errlen, "TLS certificate: more than %d "
			    "names", TLS_CERT_NAMES_MAX);
			return NULL;
		}
		memset(&san[i], 0, sizeof(san[i]));
		if (os_ip_parse(names[i], &ips[i]) == 0) {
			san[i].node.type = MBEDTLS_X509_SAN_IP_ADDRESS;
			san[i].node.san.unstructured_name.p = ips[i].bytes;
			san[i].node.san.unstructured_name.len =
			    ips[i].family == 6 ? 16 : 4;
		} else if (tls_cert_dns_valid(names[i])) {
			san[i].node.type = MBEDTLS_X509_SAN_DNS_NAME;
			san[i].node.san.unstructured_name.p =
			    (unsigned char *)(uintptr_t)names[i];
			san[i].node.san.unstructured_name.len =
			    strlen(names[i]);
		} else {
			snprintf(err, errlen, "TLS certificate name \"%.80s\": "
			    "expected a host name of at most %d characters or "
			    "an IP address", names[i], TLS_CERT_NAME_MAX);
			return NULL;
		}
		if (i > 0)
			san[i].next = &san[i - 1];
	}
	if (i == 0) {
		snprintf(err, errlen, "TLS certificate: no name");
		return NULL;
	}
	return &san[i - 1];
}

/* The self-signed certificate for s->key, as PEM. 0 or an mbedTLS code. */
static int
tls_cert_sign(struct tls_server *s, const char *cn,
    const mbedtls_x509_san_list *san, unsigned char *pem, size_t size)
{
	mbedtls_x509write_cert	 crt;
	mbedtls_asn1_sequence	 eku;
	char			 name[TLS_CERT_NAME_MAX + 4];
	char			 from[15], until[15];
	unsigned char		 serial[16];
	int			 rc;

	snprintf(name, sizeof(name), "CN=%s", cn);
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
	    san)) == 0)
		rc = mbedtls_x509write_crt_pem(&crt, pem, size,
		    mbedtls_ctr_drbg_random, &s->drbg);
	mbedtls_x509write_crt_free(&crt);
	return rc;
}

/* key first: a certificate on disk always has its key beside it. */
static int
tls_cert_save(const char *cert_file, const char *key_file,
    const unsigned char *cert_pem, const unsigned char *key_pem, char *err,
    size_t errlen)
{
	if (os_write_file_atomic(key_file, key_pem,
	    strlen((const char *)key_pem), 0600) == -1) {
		snprintf(err, errlen, "%s: cannot write key: %s", key_file,
		    strerror(errno));
		return -1;
	}
	if (os_write_file_atomic(cert_file, cert_pem,
	    strlen((const char *)cert_pem), 0644) == -1) {
		snprintf(err, errlen, "%s: cannot write certificate: %s",
		    cert_file, strerror(errno));
		return -1;
	}
	return 0;
}

/* names, or this host's own (or "porch" when it has none). */
static const char *const *
tls_cert_names(const char *const *names, const char **own, char *text,
    size_t size)
{
	if (names != NULL)
		return names;
	if (tls_cert_default_names(own, text, size) == 0) {
		own[0] = CERT_DEFAULT_CN;
		own[1] = NULL;
	}
	return own;
}

/*
 * A new P-256 key and its certificate naming names, into s and, when
 * cert_file is set, into cert_file and key_file.
 */
static int
tls_cert_generate(struct tls_server *s, const char *cert_file,
    const char *key_file, const char *const *names, char *err, size_t errlen)
{
	mbedtls_x509_san_list		 san[TLS_CERT_NAMES_MAX];
	const mbedtls_x509_san_list	*head;
	struct os_addr			 ips[TLS_CERT_NAMES_MAX];
	unsigned char			 cert_pem[TLS_PEM_MAX];
	unsigned char			 key_pem[TLS_PEM_MAX];
	int				 rc, ret = -1;

	if ((head = tls_cert_san(names, san, ips, err, errlen)) == NULL)
		return -1;
	if ((rc = mbedtls_pk_setup(&s->key,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
	    (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
	    mbedtls_pk_ec(s->key), mbedtls_ctr_drbg_random, &s->drbg)) != 0 ||
	    (rc = tls_cert_sign(s, names[0], head, cert_pem,
	    sizeof(cert_pem))) != 0 ||
	    (rc = mbedtls_pk_write_key_pem(&s->key, key_pem,
	    sizeof(key_pem))) != 0) {
		tls_ctx_error(err, errlen, "generating the TLS certificate",
		    rc);
		goto out;
	}
	if (cert_file != NULL && tls_cert_save(cert_file, key_file, cert_pem,
	    key_pem, err, errlen) == -1)
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
 * The first certificate of the chain that has expired, or NULL. A clock
 * before CERT_NOT_BEFORE_MIN (no RTC, no NTP yet) cannot tell.
 */
static const mbedtls_x509_crt *
tls_cert_expired(const mbedtls_x509_crt *chain)
{
	const mbedtls_x509_crt	*c;

	if (os_wall_time() < CERT_NOT_BEFORE_MIN)
		return NULL;
	for (c = chain; c != NULL && c->raw.len > 0; c = c->next)
		if (mbedtls_x509_time_is_past(&c->valid_to))
			return c;
	return NULL;
}

static bool
tls_cert_same(const mbedtls_x509_crt *a, const mbedtls_x509_crt *b)
{
	return a != NULL && b != NULL && a->raw.len == b->raw.len &&
	    memcmp(a->raw.p, b->raw.p, a->raw.len) == 0;
}

/*
 * An expired certificate: refused (-1, err set) or warned about (0, err
 * set). At start porch serves it rather than nothing (the admin UI stays
 * reachable, behind a browser warning); on a reload an expired
 * replacement is refused so the pair serving now stays.
 */
static int
tls_cert_check_expiry(struct tls_server *s, const char *name,
    enum tls_expiry policy, const mbedtls_x509_crt *prev, char *err,
    size_t errlen)
{
	const mbedtls_x509_crt	*c;
	const mbedtls_x509_time	*t;
	bool			 refuse;

	if ((c = tls_cert_expired(&s->cert)) == NULL)
		return 0;
	t = &c->valid_to;
	refuse = policy == TLS_EXPIRED_REFUSED ||
	    (policy == TLS_EXPIRED_UNLESS_SAME && !tls_cert_same(&s->cert,
	    prev));
	snprintf(err, errlen, "%s: %s expired on %04d-%02d-%02d %02d:%02d "
	    "UTC%s", name, c == &s->cert ? "certificate" :
	    "a certificate of its chain", t->year, t->mon, t->day, t->hour,
	    t->min, refuse ? "" : "; serving it anyway");
	return refuse ? -1 : 0;
}

/*
 * The key must match, and the whole chain goes out in one Certificate
 * message, which mbedTLS must fit in one record of at most
 * MBEDTLS_SSL_OUT_CONTENT_LEN bytes: say so at start rather than fail
 * every handshake.
 */
static int
tls_cert_check(struct tls_server *s, const struct tls_settings *set,
    enum tls_expiry policy, const mbedtls_x509_crt *prev, char *err,
    size_t errlen)
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
	return tls_cert_check_expiry(s, name, policy, prev, err, errlen);
}

/*
 * With autogen, a missing certificate file means "generate": the key is
 * replaced too, so a generation cut short (key written, certificate not)
 * heals on the next start.
 */
static bool
tls_cert_to_generate(const struct tls_settings *set)
{
	return set->cert_file == NULL || (set->autogen &&
	    os_readable_file(set->cert_file) == -1 && errno == ENOENT);
}

static int
tls_cert_files_named(const struct tls_settings *set, char *err,
    size_t errlen)
{
	if (set->cert_file == NULL && !set->autogen) {
		snprintf(err, errlen, "TLS: no certificate file given");
		return -1;
	}
	if (set->cert_file != NULL && set->key_file == NULL) {
		snprintf(err, errlen, "%s: no key file given", set->cert_file);
		return -1;
	}
	return 0;
}

int
tls_cert_load(struct tls_server *s, const struct tls_settings *set,
    enum tls_expiry policy, const mbedtls_x509_crt *prev, char *err,
    size_t errlen)
{
	const char	*own[TLS_CERT_NAMES_MAX + 1];
	char		 text[CERT_NAMES_TEXT];

	if (tls_cert_files_named(set, err, errlen) == -1)
		return -1;
	if (tls_cert_to_generate(set)) {
		if (tls_cert_generate(s, set->cert_file, set->key_file,
		    tls_cert_names(set->names, own, text, sizeof(text)), err,
		    errlen) == -1)
			return -1;
	} else if (tls_cert_read(s, set, err, errlen) == -1)
		return -1;
	return tls_cert_check(s, set, policy, prev, err, errlen);
}

int
tls_check(const struct tls_settings *set, char *err, size_t errlen)
{
	struct tls_server	*s;
	int			 rc = -1;

	if (errlen > 0)
		err[0] = '\0';
	if (tls_cert_files_named(set, err, errlen) == -1)
		return -1;
	if (tls_cert_to_generate(set))
		return 0;
	if ((s = tls_server_alloc(err, errlen)) == NULL)
		return -1;
	if (tls_cert_read(s, set, err, errlen) == 0 &&
	    tls_cert_check(s, set, TLS_EXPIRED_REFUSED, NULL, err,
	    errlen) == 0)
		rc = 0;
	tls_server_free(s);
	return rc;
}

int
tls_cert_write(const char *cert_file, const char *key_file,
    const char *const *names, char *err, size_t errlen)
{
	struct tls_server	*s;
	const char		*own[TLS_CERT_NAMES_MAX + 1];
	char			 text[CERT_NAMES_TEXT];
	size_t			 used;
	int			 i, rc = -1;

	names = tls_cert_names(names, own, text, sizeof(text));
	if ((s = tls_server_alloc(err, errlen)) == NULL)
		return -1;
	if (tls_cert_generate(s, cert_file, key_file, names, err, errlen) ==
	    0) {
		for (i = 0, used = 0; names[i] != NULL && used < errlen; i++)
			used += (size_t)snprintf(err + used, errlen - used,
			    "%s%s", i > 0 ? ", " : "", names[i]);
		rc = 0;
	}
	tls_server_free(s);
	return rc;
}
