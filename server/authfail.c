/*
 * The failed-login back-off, shared by every worker through the
 * scoreboard. Pure: the caller passes the time and holds the lock.
 *
 * An attempt is counted when it begins, before its password is checked,
 * so N workers cannot let N parallel guesses through; a right password
 * takes its count back. Clients are keyed by os_peer.group (an IPv6
 * client by its /64, which it owns whole). A full table evicts the entry
 * with the fewest live failures, so a locked-out client stays locked
 * however many other addresses fail once. And all clients together get
 * AUTH_GLOBAL_FAILS failures per AUTH_GLOBAL_WINDOW: rotating through
 * addresses cannot outrun that.
 */
#include <string.h>

#include "server.h"

static uint32_t
live_fails(const struct authfail_entry *e, int64_t now)
{
	if (e->key[0] == '\0' || now - e->last_ms > AUTH_FORGET * 1000)
		return 0;
	return e->fails;
}

/* ms to wait after fails failures, the last at last_ms; 0: none. */
static int64_t
client_wait_ms(uint32_t fails, int64_t last_ms, int64_t now)
{
	int64_t	 delay;

	if (fails < AUTH_FREE_TRIES)
		return 0;
	delay = (int64_t)1000 << (fails - AUTH_FREE_TRIES < 6 ?
	    fails - AUTH_FREE_TRIES : 6);
	if (delay > AUTH_BACKOFF_MAX * 1000)
		delay = AUTH_BACKOFF_MAX * 1000;
	return last_ms + delay > now ? last_ms + delay - now : 0;
}

static struct authfail_entry *
authfail_find(struct authfail_table *t, const char *key)
{
	size_t	 i;

	for (i = 0; i < SB_AUTHFAIL; i++)
		if (t->e[i].key[0] != '\0' &&
		    strncmp(t->e[i].key, key, OS_ADDR_TEXT) == 0)
			return &t->e[i];
	return NULL;
}

/* A free entry, or the one with the fewest live failures (the oldest of
 * those): a locked-out client is the last to be forgotten. */
static struct authfail_entry *
authfail_victim(struct authfail_table *t, int64_t now)
{
	struct authfail_entry	*v = &t->e[0];
	uint32_t		 vf = live_fails(v, now), f;
	size_t			 i;

	for (i = 1; i < SB_AUTHFAIL && vf > 0; i++) {
		f = live_fails(&t->e[i], now);
		if (f < vf || (f == vf && t->e[i].last_ms < v->last_ms)) {
			v = &t->e[i];
			vf = f;
		}
	}
	return v;
}

static int64_t
global_wait_ms(struct authfail_table *t, int64_t now)
{
	if (now - t->global_start_ms >= AUTH_GLOBAL_WINDOW * 1000 ||
	    now < t->global_start_ms) {
		t->global_start_ms = now;
		t->global_fails = 0;
	}
	if (t->global_fails < AUTH_GLOBAL_FAILS)
		return 0;
	return t->global_start_ms + AUTH_GLOBAL_WINDOW * 1000 - now;
}

/*
 * An attempt from key begins: 0 when it may go on (it is counted now),
 * else the seconds to wait before the next one may.
 */
unsigned
authfail_begin(struct authfail_table *t, const char *key, int64_t now)
{
	struct authfail_entry	*e = authfail_find(t, key);
	int64_t			 wait;

	wait = global_wait_ms(t, now);
	if (e != NULL && live_fails(e, now) == 0)
		e->fails = 0;		/* forgotten */
	if (e != NULL && (client_wait_ms(e->fails, e->last_ms, now)) > wait)
		wait = client_wait_ms(e->fails, e->last_ms, now);
	if (wait > 0)
		return (unsigned)((wait + 999) / 1000);
	if (e == NULL) {
		e = authfail_victim(t, now);
		memset(e, 0, sizeof(*e));
		memcpy(e->key, key, strnlen(key, OS_ADDR_TEXT - 1));
	}
	e->fails++;
	e->last_ms = now;
	t->global_fails++;
	return 0;
}

/* The attempt that began ended: a right password takes its count back
 * and forgets the client's failures. */
void
authfail_end(struct authfail_table *t, const char *key, bool ok)
{
	struct authfail_entry	*e;

	if (!ok)
		return;
	if ((e = authfail_find(t, key)) != NULL)
		memset(e, 0, sizeof(*e));
	if (t->global_fails > 0)
		t->global_fails--;
}
