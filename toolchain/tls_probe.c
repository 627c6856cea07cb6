/*
 * tls_probe: checks that porch's trimmed mbedTLS configuration
 * (toolchain/mbedtls_config.h) has everything porch's TLS layer uses, and
 * measures what that costs in a static binary.
 *
 *	tls_probe			generate a self-signed ECDSA P-256
 *					certificate, load it into a server
 *					configuration, print "ok"
 *	tls_probe -p PORT [-n N]	also serve N TLS connections (default 1)
 *					on 127.0.0.1:PORT: handshake, read one
 *					request, answer a small HTTP response
 *	-c CERT -k KEY			use these PEM files (e.g. an RSA pair)
 *					instead of generating a certificate
 *	-w DIR				write the generated cert.pem, key.pem
 *
 * It uses the API set of porch's tls/ module: server configuration,
 * own certificate, ALPN, session tickets, handshake and record IO over a
 * plain descriptor (no net_sockets), X.509 and PK writing, PSA init.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ecp.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#define PROBE_CERT_MAX	4096	/* bytes: PEM certificate or key */
#define PROBE_IO_TIMEOUT 10	/* seconds without progress */
#define PROBE_TICKET_LIFETIME 86400	/* seconds */

struct probe {
	mbedtls_entropy_context		 entropy;
	mbedtls_ctr_drbg_context	 drbg;
	mbedtls_pk_context		 key;
	mbedtls_x509_crt		 cert;
	mbedtls_ssl_ticket_context	 ticket;
	mbedtls_ssl_config		 conf;
};

static const char *alpn_list[] = { "http/1.1", NULL };

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "tls_probe: %s: -0x%04x\n", what, (unsigned)-rc);
	return -1;
}

static int
probe_write_file(const char *dir, const char *name, const unsigned char *pem)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		return -1;
	}
	fputs((const char *)pem, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* A fresh P-256 key and a self-signed certificate for it, as porch makes
 * on first boot; both go through PEM and back, as they would via files. */
static int
probe_generate(struct probe *p, const char *dir)
{
	mbedtls_pk_context	 key;
	mbedtls_x509write_cert	 crt;
	mbedtls_x509_san_list	 san = { 0 };
	unsigned char		 serial[16], cert_pem[PROBE_CERT_MAX];
	unsigned char		 key_pem[PROBE_CERT_MAX];
	int			 rc;

	mbedtls_pk_init(&key);
	mbedtls_x509write_crt_init(&crt);
	if ((rc = mbedtls_pk_setup(&key,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
	    (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1,
	    mbedtls_pk_ec(key), mbedtls_ctr_drbg_random, &p->drbg)) != 0) {
		fail("ECDSA key generation", rc);
		goto out;
	}
	if ((rc = psa_generate_random(serial, sizeof(serial))) !=
	    PSA_SUCCESS) {
		fail("psa_generate_random", rc);
		goto out;
	}
	serial[0] &= 0x7f;	/* a positive INTEGER */
	san.node.type = MBEDTLS_X509_SAN_DNS_NAME;
	san.node.san.unstructured_name.p = (unsigned char *)"localhost";
	san.node.san.unstructured_name.len = strlen("localhost");
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &key);
	if ((rc = mbedtls_x509write_crt_set_subject_name(&crt,
	    "CN=porch,O=porch")) != 0 ||
	    (rc = mbedtls_x509write_crt_set_issuer_name(&crt,
	    "CN=porch,O=porch")) != 0 ||
	    (rc = mbedtls_x509write_crt_set_serial_raw(&crt, serial,
	    sizeof(serial))) != 0 ||
	    (rc = mbedtls_x509write_crt_set_validity(&crt, "20250101000000",
	    "20491231235959")) != 0 ||
	    (rc = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1))
	    != 0 ||
	    (rc = mbedtls_x509write_crt_set_key_usage(&crt,
	    MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0 ||
	    (rc = mbedtls_x509write_crt_set_subject_alternative_name(&crt,
	    &san)) != 0 ||
	    (rc = mbedtls_x509write_crt_pem(&crt, cert_pem, sizeof(cert_pem),
	    mbedtls_ctr_drbg_random, &p->drbg)) != 0 ||
	    (rc = mbedtls_pk_write_key_pem(&key, key_pem, sizeof(key_pem)))
	    != 0) {
		fail("certificate generation", rc);
		goto out;
	}
	if ((rc = mbedtls_x509_crt_parse(&p->cert, cert_pem,
	    strlen((char *)cert_pem) + 1)) != 0 ||
	    (rc = mbedtls_pk_parse_key(&p->key, key_pem,
	    strlen((char *)key_pem) + 1, NULL, 0, mbedtls_ctr_drbg_random,
	    &p->drbg)) != 0) {
		fail("parsing the generated certificate", rc);
		goto out;
	}
	if (dir != NULL && (probe_write_file(dir, "cert.pem", cert_pem) ||
	    probe_write_file(dir, "key.pem", key_pem)))
		rc = -1;
out:
	mbedtls_x509write_crt_free(&crt);
	mbedtls_pk_free(&key);
	return rc == 0 ? 0 : -1;
}

static int
probe_load(struct probe *p, const char *cert, const char *key)
{
	int	 rc;

	if ((rc = mbedtls_x509_crt_parse_file(&p->cert, cert)) != 0)
		return fail(cert, rc);
	if ((rc = mbedtls_pk_parse_keyfile(&p->key, key, NULL,
	    mbedtls_ctr_drbg_random, &p->drbg)) != 0)
		return fail(key, rc);
	return 0;
}

static int
probe_configure(struct probe *p)
{
	mbedtls_ssl_config	*conf = &p->conf;
	int			 rc;

	if ((rc = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
		return fail("mbedtls_ssl_config_defaults", rc);
	mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &p->drbg);
	mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
	if ((rc = mbedtls_ssl_conf_own_cert(conf, &p->cert, &p->key)) != 0)
		return fail("mbedtls_ssl_conf_own_cert", rc);
	if ((rc = mbedtls_ssl_conf_alpn_protocols(conf, alpn_list)) != 0)
		return fail("mbedtls_ssl_conf_alpn_protocols", rc);
	if ((rc = mbedtls_ssl_ticket_setup(&p->ticket, mbedtls_ctr_drbg_random,
	    &p->drbg, MBEDTLS_CIPHER_AES_256_GCM, PROBE_TICKET_LIFETIME)) != 0)
		return fail("mbedtls_ssl_ticket_setup", rc);
	mbedtls_ssl_conf_session_tickets_cb(conf, mbedtls_ssl_ticket_write,
	    mbedtls_ssl_ticket_parse, &p->ticket);
	return 0;
}

static int
probe_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t	 n;

	n = write(*(int *)ctx, buf, len);
	if (n >= 0)
		return (int)n;
	if (errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int
probe_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t	 n;

	n = read(*(int *)ctx, buf, len);
	if (n >= 0)
		return (int)n;
	if (errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int
probe_listen(int port)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { PROBE_IO_TIMEOUT, 0 };
	int			 fd, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1) {
		perror("tls_probe: listen");
		return -1;
	}
	return fd;
}

/* One connection: handshake, one request, one response, close_notify. */
static int
probe_serve(struct probe *p, int fd)
{
	static const char	 reply[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";
	mbedtls_ssl_context	 ssl;
	unsigned char		 buf[1024];
	const char		*alpn;
	int			 rc;

	mbedtls_ssl_init(&ssl);
	if ((rc = mbedtls_ssl_setup(&ssl, &p->conf)) != 0) {
		fail("mbedtls_ssl_setup", rc);
		goto out;
	}
	mbedtls_ssl_set_bio(&ssl, &fd, probe_send, probe_recv, NULL);
	while ((rc = mbedtls_ssl_handshake(&ssl)) != 0)
		if (rc != MBEDTLS_ERR_SSL_WANT_READ &&
		    rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
			fail("mbedtls_ssl_handshake", rc);
			goto out;
		}
	alpn = mbedtls_ssl_get_alpn_protocol(&ssl);
	printf("tls_probe: %s %s alpn=%s\n", mbedtls_ssl_get_version(&ssl),
	    mbedtls_ssl_get_ciphersuite(&ssl), alpn ? alpn : "-");
	do
		rc = mbedtls_ssl_read(&ssl, buf, sizeof(buf));
	while (rc == MBEDTLS_ERR_SSL_WANT_READ ||
	    rc == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (rc < 0 && rc != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
		fail("mbedtls_ssl_read", rc);
		goto out;
	}
	if ((rc = mbedtls_ssl_write(&ssl, (const unsigned char *)reply,
	    sizeof(reply) - 1)) < 0) {
		fail("mbedtls_ssl_write", rc);
		goto out;
	}
	mbedtls_ssl_close_notify(&ssl);
	rc = 0;
out:
	mbedtls_ssl_free(&ssl);
	return rc == 0 ? 0 : -1;
}

static int
probe_run(struct probe *p, int port, int count)
{
	int	 lfd, fd, i, failed = 0;

	if ((lfd = probe_listen(port)) == -1)
		return -1;
	printf("tls_probe: listening on 127.0.0.1:%d\n", port);
	fflush(stdout);
	for (i = 0; i < count; i++) {
		if ((fd = accept(lfd, NULL, NULL)) == -1) {
			perror("tls_probe: accept");
			failed = 1;
			break;
		}
		if (probe_serve(p, fd) != 0)
			failed = 1;
		close(fd);
		fflush(stdout);
	}
	close(lfd);
	return failed ? -1 : 0;
}

/* 0 and *out set, or -1: empty, non-digit, or above max */
static int
probe_parse_uint(const char *p, int max, int *out)
{
	int	 v = 0;

	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (max - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

static void
probe_free(struct probe *p)
{
	mbedtls_ssl_config_free(&p->conf);
	mbedtls_ssl_ticket_free(&p->ticket);
	mbedtls_x509_crt_free(&p->cert);
	mbedtls_pk_free(&p->key);
	mbedtls_ctr_drbg_free(&p->drbg);
	mbedtls_entropy_free(&p->entropy);
	mbedtls_psa_crypto_free();
}

int
main(int argc, char *argv[])
{
	static struct probe	 p;
	const char		*cert = NULL, *key = NULL, *dir = NULL;
	int			 ch, rc, port = 0, count = 1;

	while ((ch = getopt(argc, argv, "c:k:n:p:w:")) != -1) {
		switch (ch) {
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'n':
			if (probe_parse_uint(optarg, 1000, &count) == 0)
				break;
			goto usage;
		case 'p':
			if (probe_parse_uint(optarg, 65535, &port) == 0)
				break;
			goto usage;
		case 'w': dir = optarg; break;
		default:
		usage:
			fprintf(stderr, "usage: tls_probe [-p port [-n count]]"
			    " [-c cert -k key] [-w dir]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	mbedtls_entropy_init(&p.entropy);
	mbedtls_ctr_drbg_init(&p.drbg);
	mbedtls_pk_init(&p.key);
	mbedtls_x509_crt_init(&p.cert);
	mbedtls_ssl_ticket_init(&p.ticket);
	mbedtls_ssl_config_init(&p.conf);
	/* TLS 1.3 runs on PSA, which has its own RNG: after any fork. */
	if ((rc = psa_crypto_init()) != PSA_SUCCESS) {
		fail("psa_crypto_init", rc);
		goto out;
	}
	if ((rc = mbedtls_ctr_drbg_seed(&p.drbg, mbedtls_entropy_func,
	    &p.entropy, (const unsigned char *)"tls_probe", 9)) != 0) {
		fail("mbedtls_ctr_drbg_seed", rc);
		goto out;
	}
	rc = cert != NULL && key != NULL ? probe_load(&p, cert, key) :
	    probe_generate(&p, dir);
	if (rc == 0)
		rc = probe_configure(&p);
	if (rc == 0 && port > 0)
		rc = probe_run(&p, port, count);
	if (rc == 0)
		printf("tls_probe: ok (mbedTLS %s)\n", MBEDTLS_VERSION_STRING);
out:
	probe_free(&p);
	return rc == 0 ? 0 : 1;
}
