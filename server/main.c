/* porch: command line, configuration check, then the master. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

#define MAIN_OVERRIDES_MAX	64

/*
 * porch --gen-cert CERT KEY [NAME|ADDR]...: what firmware runs at first
 * boot (and to renew): a key and a self-signed certificate, no server.
 */
static int
main_gen_cert(int argc, char *argv[])
{
	char	 msg[1024];

	if (argc < 2) {
		fprintf(stderr, "usage: porch --gen-cert CERT KEY "
		    "[NAME|ADDR]...\n");
		return 1;
	}
	if (tls_cert_write(argv[0], argv[1], argc > 2 ?
	    (const char *const *)argv + 2 : NULL, msg, sizeof(msg)) == -1) {
		fprintf(stderr, "porch: --gen-cert: %s\n", msg);
		return 1;
	}
	printf("porch: wrote %s and %s for %s\n", argv[0], argv[1], msg);
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct conf_override	 ov[MAIN_OVERRIDES_MAX];
	static char			 names[MAIN_OVERRIDES_MAX][64];
	static char			 abs_path[CONN_PATH_MAX];
	struct conf			*cf;
	const char			*path = NULL, *sp;
	size_t				 nov = 0, n;
	bool				 test = false, daemonize = false;
	int				 ch;

	log_init("porch", true);
	os_close_inherited();
	if (os_ensure_stdio() == -1) {
		perror("porch: /dev/null");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--gen-cert") == 0)
		return main_gen_cert(argc - 2, argv + 2);
	while ((ch = getopt(argc, argv, "c:dhl:o:r:tw:")) != -1) {
		if (nov == MAIN_OVERRIDES_MAX && strchr("lorw", ch)) {
			fprintf(stderr, "porch: too many options\n");
			return 1;
		}
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			daemonize = true;
			break;
		case 'h':
			conf_usage();
			return 0;
		case 'l':
			ov[nov].name = "listen";
			ov[nov++].value = optarg;
			break;
		case 'o':	/* "directive value", or "directive=value" */
			n = strcspn(optarg, " \t=");
			sp = optarg + n;
			if (*sp == '\0' || n == 0 || n >= sizeof(names[0])) {
				fprintf(stderr, "porch: -o expects "
				    "'DIRECTIVE VALUE', got \"%s\"\n", optarg);
				return 1;
			}
			memcpy(names[nov], optarg, n);
			names[nov][n] = '\0';
			ov[nov].name = names[nov];
			ov[nov++].value = sp + 1;
			break;
		case 'r':
			ov[nov].name = "root";
			ov[nov++].value = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'w':
			ov[nov].name = "workers";
			ov[nov++].value = optarg;
			break;
		default:
			conf_usage();
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "porch: unexpected argument \"%s\"\n",
		    argv[optind]);
		return 1;
	}
	if ((cf = conf_build(path, ov, nov)) == NULL)
		return 1;
	/* Reloads re-read it after -d moved porch to "/". */
	if (path != NULL && os_realpath(path, abs_path, sizeof(abs_path)) == 0)
		path = abs_path;
	if (test) {
		if (master_check_tls(cf, path != NULL ? path : "porch") == -1) {
			conf_free(cf);
			return 1;
		}
		printf("configuration OK\n");
		conf_free(cf);
		return 0;
	}
	return master_run(cf, path, ov, nov, daemonize);
}
