/*
 * Unit tests of session_table.c: the bounded table of cookie sessions in
 * the scoreboard, with the time passed in. Idle and absolute expiry, the
 * least recently used entry given to a new login, CSRF tokens compared
 * whole, and ids that are never found once dropped.
 */
#include "unit.h"

#include "server.h"

#define IDLE	(900 * 1000)
#define LIFE	(8 * 3600 * 1000)

static struct session_table	 t;

static void
make_id(uint8_t *id, unsigned n, uint8_t salt)
{
	memset(id, salt, SESSION_ID_LEN);
	id[0] = (uint8_t)n;
	id[1] = (uint8_t)(n >> 8);
}

static struct session *
add(unsigned n, int64_t now)
{
	uint8_t	 id[SESSION_ID_LEN], csrf[SESSION_ID_LEN];

	make_id(id, n, 0xa5);
	make_id(csrf, n, 0x5a);
	return session_add(&t, id, csrf, "admin", 7, 42, now);
}

static struct session *
find(unsigned n, int64_t now, bool *expired)
{
	uint8_t	 id[SESSION_ID_LEN];

	make_id(id, n, 0xa5);
	return session_find(&t, id, now, IDLE, LIFE, expired);
}

static void
test_find_and_expire(void)
{
	struct session	*s;
	bool		 expired;

	memset(&t, 0, sizeof(t));
	s = add(1, 1000);
	CHECK(s != NULL && s->used && strcmp(s->user, "admin") == 0);
	CHECK(s->realm == 7 && s->secret == 42);
	CHECK(find(1, 1000, &expired) == s && !expired);
	CHECK(find(2, 1000, &expired) == NULL && !expired);
	/* idle: last_ms is what the caller refreshes */
	CHECK(find(1, 1000 + IDLE, &expired) == s);
	CHECK(find(1, 1000 + IDLE + 1, &expired) == NULL && expired);
	CHECK(!s->used);
	CHECK(find(1, 1000, &expired) == NULL && !expired);	/* freed */
	/* absolute: however active */
	s = add(3, 0);
	s->last_ms = LIFE;
	CHECK(find(3, LIFE, &expired) == s);
	s->last_ms = LIFE + 1;
	CHECK(find(3, LIFE + 1, &expired) == NULL && expired);
	/* a clock before the login (never on a monotonic clock) ends it */
	s = add(4, 5000);
	CHECK(find(4, 4999, &expired) == NULL && expired);
}

static void
test_eviction_is_least_recently_used(void)
{
	struct session	*s;
	unsigned	 i;
	bool		 expired;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < SB_SESSIONS; i++)
		add(i, 100 + i);
	/* session 0 is the oldest; using it makes 1 the least recent */
	find(0, 500, &expired)->last_ms = 500;
	s = add(1000, 600);
	CHECK(find(1, 600, &expired) == NULL && !expired);
	CHECK(find(0, 600, &expired) != NULL);
	CHECK(find(1000, 600, &expired) == s);
	for (i = 2; i < SB_SESSIONS; i++)
		CHECK_INT_AT(__LINE__, find(i, 600, &expired) != NULL, 1,
		    "kept");
	/* a dropped entry is the next one filled */
	session_drop(find(7, 600, &expired));
	s = add(2000, 700);
	CHECK(find(7, 700, &expired) == NULL);
	CHECK(find(2, 700, &expired) != NULL);
	CHECK(find(2000, 700, &expired) == s);
}

static void
test_ids_and_tokens(void)
{
	uint8_t		 id[SESSION_ID_LEN], tok[SESSION_ID_LEN];
	struct session	*s;
	bool		 expired;
	size_t		 i;

	memset(&t, 0, sizeof(t));
	/* the all-zero id of a free entry is never found */
	memset(id, 0, sizeof(id));
	CHECK(session_find(&t, id, 0, IDLE, LIFE, &expired) == NULL);
	s = add(9, 0);
	make_id(tok, 9, 0x5a);
	CHECK(session_csrf_ok(s, tok));
	for (i = 0; i < SESSION_ID_LEN; i++) {
		tok[i] ^= 0x01;
		CHECK_INT_AT(__LINE__, session_csrf_ok(s, tok), 0, "one bit");
		tok[i] ^= 0x01;
	}
	make_id(tok, 9, 0xa5);	/* the session id is not its token */
	CHECK(!session_csrf_ok(s, tok));
	/* an id differing in its last byte is another id */
	make_id(id, 9, 0xa5);
	id[SESSION_ID_LEN - 1] ^= 0x80;
	CHECK(session_find(&t, id, 0, IDLE, LIFE, &expired) == NULL);
	/* a user name that does not fit is cut, never overflows */
	memset(id, 0x11, sizeof(id));
	s = session_add(&t, id, tok, "a-very-long-user-name-that-goes-on-"
	    "and-on-past-sixty-four-bytes-of-room-for-it", 1, 1, 0);
	CHECK_INT((int)strlen(s->user), AUTH_NAME_MAX - 1);
}

int
main(int argc, char **argv)
{
	unit_init(argc, argv);
	test_find_and_expire();
	test_eviction_is_least_recently_used();
	test_ids_and_tokens();
	return unit_summary();
}
