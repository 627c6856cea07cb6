/*
 * Unit tests of authfail.c: the failed-login back-off, with the time
 * passed in. Counted before the check, taken back when right; locked-out
 * clients survive a full table; a global cap on all clients together.
 */
#include "unit.h"

#include "server.h"

static struct authfail_table	 t;

static void
reset(void)
{
	memset(&t, 0, sizeof(t));
}

/* n wrong attempts from key at now: each must be let through. */
static void
fail(int line, const char *key, int n, int64_t now)
{
	int	 i;

	for (i = 0; i < n; i++) {
		CHECK_INT_AT(line, authfail_begin(&t, key, now), 0, "begin");
		authfail_end(&t, key, false);
	}
}

static void
test_free_tries_then_doubling(void)
{
	reset();
	fail(__LINE__, "a", AUTH_FREE_TRIES, 1000);
	CHECK_INT(authfail_begin(&t, "a", 1000), 1);
	CHECK_INT(authfail_begin(&t, "a", 1999), 1);
	CHECK_INT(authfail_begin(&t, "b", 1999), 0);	/* another client */
	authfail_end(&t, "b", true);
	fail(__LINE__, "a", 1, 2000);			/* the 6th */
	CHECK_INT(authfail_begin(&t, "a", 2000), 2);
	fail(__LINE__, "a", 1, 4000);			/* the 7th */
	CHECK_INT(authfail_begin(&t, "a", 4000), 4);
	/* right: the count goes */
	CHECK_INT(authfail_begin(&t, "a", 8000), 0);
	authfail_end(&t, "a", true);
	fail(__LINE__, "a", AUTH_FREE_TRIES, 8001);
}

static void
test_backoff_cap(void)
{
	int64_t	 now = 0;
	int	 i;

	reset();
	for (i = 0; i < 20; i++) {
		t.global_fails = 0;	/* this test is about one client */
		now += AUTH_BACKOFF_MAX * 1000;
		CHECK_INT(authfail_begin(&t, "a", now), 0);
		authfail_end(&t, "a", false);
	}
	CHECK_INT(authfail_begin(&t, "a", now), AUTH_BACKOFF_MAX);
}

static void
test_counted_before_checked(void)
{
	int	 i;

	reset();
	/* ten attempts begin before any ends, as ten workers would */
	for (i = 0; i < AUTH_FREE_TRIES; i++)
		CHECK_INT(authfail_begin(&t, "a", 1000), 0);
	for (i = 0; i < 5; i++)
		CHECK(authfail_begin(&t, "a", 1000) > 0);
	for (i = 0; i < AUTH_FREE_TRIES; i++)
		authfail_end(&t, "a", false);
	CHECK(authfail_begin(&t, "a", 1000) > 0);
}

static void
test_forgotten_after_a_while(void)
{
	reset();
	fail(__LINE__, "a", AUTH_FREE_TRIES, 1000);
	CHECK(authfail_begin(&t, "a", 1000) > 0);
	fail(__LINE__, "a", AUTH_FREE_TRIES,
	    1000 + AUTH_FORGET * 1000 + 1);
}

static void
test_full_table_keeps_locked_clients(void)
{
	char	 key[32];
	int64_t	 now = 1000;
	int	 i;

	reset();
	fail(__LINE__, "locked", AUTH_FREE_TRIES, now);
	/* one failure each from many more clients than the table holds,
	 * spread over time so the global cap is not what stops them */
	for (i = 0; now - 1000 < AUTH_FORGET * 1000 - 60000; i++) {
		now += 2 * AUTH_GLOBAL_WINDOW * 1000 / AUTH_GLOBAL_FAILS;
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 250, i % 250);
		CHECK_INT(authfail_begin(&t, key, now), 0);
		authfail_end(&t, key, false);
	}
	CHECK(i > SB_AUTHFAIL);
	/* its 1 s back-off is over, but its count was kept: the next
	 * failure is its 6th, and the one after waits 2 s */
	fail(__LINE__, "locked", 1, now);
	CHECK_INT(authfail_begin(&t, "locked", now), 2);
}

static void
test_global_cap(void)
{
	char		 key[32];
	unsigned	 w;
	int		 i;

	reset();
	for (i = 0; i < AUTH_GLOBAL_FAILS; i++) {
		snprintf(key, sizeof(key), "10.1.0.%d", i);
		fail(__LINE__, key, 1, 5000 + i);
	}
	w = authfail_begin(&t, "10.2.0.1", 5000 + i);
	CHECK(w > 0 && w <= AUTH_GLOBAL_WINDOW);
	/* a right password takes its own count back only */
	CHECK(authfail_begin(&t, "10.2.0.1", 5000 + AUTH_GLOBAL_WINDOW * 1000)
	    == 0);
	authfail_end(&t, "10.2.0.1", true);
	CHECK_INT(t.global_fails, 0);
	/* the next window starts afresh */
	fail(__LINE__, "10.3.0.1", 1, 5000 + AUTH_GLOBAL_WINDOW * 1000 + 1);
}

int
main(int argc, char **argv)
{
	unit_init(argc, argv);
	test_free_tries_then_doubling();
	test_backoff_cap();
	test_counted_before_checked();
	test_forgotten_after_a_while();
	test_full_table_keeps_locked_clients();
	test_global_cap();
	return unit_summary();
}
