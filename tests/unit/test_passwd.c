/*
 * Unit tests of passwd.c: which crypt(3) schemes a password file may use,
 * every line that cannot be used reported with its number, lookups, and
 * the decoy hash for unknown users.
 */
#include "unit.h"

#include "server.h"

#define H5	"$5$saltsalt$8c9cVDhP4I1fU9fGfUeZKm9tVe1Y7lq2EAbmNRH0eJ5"
#define H6	"$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/" \
		"jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/"
#define H2B	"$2b$10$abcdefghijklmnopqrstuu5Nx3o4nB5bYV1CJoNVy7v7GT1hDJvCm"
#define HDES	"abJnggxhB/yWI"
#define HMD5	"$1$salt$qJH7.N4xYta3aEG/dfqo/0"

static const struct {
	int		 line;
	const char	*hash;
	bool		 ok;
} scheme_cases[] = {
	{ __LINE__, H5, true },
	{ __LINE__, H6, true },
	{ __LINE__, H2B, true },
	{ __LINE__, "$2a$10$abcdefghijklmnopqrstuu5Nx3o4nB5bYV1CJoNVy7v7GT1hDJ", true },
	{ __LINE__, "$2y$10$abcdefghijklmnopqrstuu5Nx3o4nB5bYV1CJoNVy7v7GT1hDJ", true },
	{ __LINE__, HDES, false },
	{ __LINE__, HMD5, false },
	{ __LINE__, "$y$j9T$salt$hash", false },	/* not in musl */
	{ __LINE__, "$6$", false },			/* truncated */
	{ __LINE__, "$6$x$y", false },
	{ __LINE__, "plaintext", false },
	{ __LINE__, "", false },
	{ __LINE__, "*", false },
	{ __LINE__, "!", false },
};

static void
test_schemes(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(scheme_cases) / sizeof(scheme_cases[0]); i++)
		CHECK_AT(scheme_cases[i].line, (passwd_hash_refused(
		    scheme_cases[i].hash, strlen(scheme_cases[i].hash)) ==
		    NULL) == scheme_cases[i].ok, "%s", scheme_cases[i].hash);
}

static const char	 file[] =
    "# users\n"
    "alice:" H6 "\n"
    "bob:" H5 "\r\n"
    "\n"
    "old:" HDES "\n"
    "weak:" HMD5 "  \n"
    "nocolon\n"
    ":" H6 "\n"
    "carol:" H2B;

static int	 nbad;
static int	 bad_lines[8];

static void
record(int line, struct str user, const char *why, void *arg)
{
	(void)user;
	(void)why;
	(void)arg;
	if (nbad < 8)
		bad_lines[nbad] = line;
	nbad++;
}

static void
test_check(void)
{
	nbad = 0;
	CHECK_INT(passwd_check(file, record, NULL), 4);
	CHECK_INT(nbad, 4);
	CHECK_INT(bad_lines[0], 5);
	CHECK_INT(bad_lines[1], 6);
	CHECK_INT(bad_lines[2], 7);
	CHECK_INT(bad_lines[3], 8);
	nbad = 0;
	CHECK_INT(passwd_check("", record, NULL), 0);
	CHECK_INT(passwd_check("#only\n\n", record, NULL), 0);
}

static void
test_lookup(void)
{
	char	 h[256];

	CHECK(passwd_lookup(file, "alice", h, sizeof(h)) &&
	    strcmp(h, H6) == 0);
	CHECK(passwd_lookup(file, "bob", h, sizeof(h)) && strcmp(h, H5) == 0);
	CHECK(passwd_lookup(file, "carol", h, sizeof(h)) &&
	    strcmp(h, H2B) == 0);
	CHECK(!passwd_lookup(file, "old", h, sizeof(h)));
	CHECK(!passwd_lookup(file, "weak", h, sizeof(h)));
	CHECK(!passwd_lookup(file, "nocolon", h, sizeof(h)));
	CHECK(!passwd_lookup(file, "", h, sizeof(h)));
	CHECK(!passwd_lookup(file, "Alice", h, sizeof(h)));
	CHECK(!passwd_lookup(file, "alic", h, sizeof(h)));
	CHECK(!passwd_lookup(file, "# users", h, sizeof(h)));
	CHECK(!passwd_lookup(file, "alice", h, 20));	/* no room */
}

static void
test_decoy(void)
{
	char	 h[256];

	CHECK(passwd_decoy(file, h, sizeof(h)) && strcmp(h, H6) == 0);
	CHECK(passwd_decoy("x:" HDES "\ny:" H2B "\n", h, sizeof(h)) &&
	    strcmp(h, H2B) == 0);
	CHECK(!passwd_decoy("x:" HDES "\n", h, sizeof(h)));
	CHECK(!passwd_decoy("", h, sizeof(h)));
}

int
main(int argc, char **argv)
{
	unit_init(argc, argv);
	test_schemes();
	test_check();
	test_lookup();
	test_decoy();
	return unit_summary();
}
