/*
 * The session table, in the scoreboard so that every worker and a reload
 * see the same sessions. Pure: the caller passes the time and holds the
 * scoreboard's session_lock. Bounded: a full table gives the least
 * recently used entry to the next login.
 */
#include <stdio.h>
#include <string.h>

#include "server.h"

/* Compares in time that depends on the length only. */
static bool
same_bytes(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t	 diff = 0;
	size_t	 i;

	for (i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static bool
session_expired(const struct session *s, int64_t now, int64_t idle_ms,
    int64_t life_ms)
{
	return now - s->last_ms > idle_ms || now - s->created_ms > life_ms ||
	    now < s->created_ms;
}

/*
 * The live session with id, or NULL; *expired says whether id was known
 * but timed out (its entry is then freed).
 */
struct session *
session_find(struct session_table *t, const uint8_t *id, int64_t now,
    int64_t idle_ms, int64_t life_ms, bool *expired)
{
	struct session	*s, *found = NULL;
	size_t		 i;

	*expired = false;
	for (i = 0; i < SB_SESSIONS; i++) {
		s = &t->s[i];
		/* every entry compared: the time tells no index */
		if (same_bytes(s->id, id, SESSION_ID_LEN) && s->used)
			found = s;
	}
	if (found != NULL && session_expired(found, now, idle_ms, life_ms)) {
		memset(found, 0, sizeof(*found));
		*expired = true;
		return NULL;
	}
	return found;
}

/* A new session (id and csrf drawn by the caller); never fails. */
struct session *
session_add(struct session_table *t, const uint8_t *id, const uint8_t *csrf,
    const char *user, uint64_t realm, uint64_t secret, int64_t now)
{
	struct session	*s = &t->s[0];
	size_t		 i;

	for (i = 0; i < SB_SESSIONS && s->used; i++)
		if (!t->s[i].used || t->s[i].last_ms < s->last_ms)
			s = &t->s[i];
	memset(s, 0, sizeof(*s));
	memcpy(s->id, id, SESSION_ID_LEN);
	memcpy(s->csrf, csrf, SESSION_ID_LEN);
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->realm = realm;
	s->secret = secret;
	s->created_ms = s->last_ms = now;
	s->used = true;
	return s;
}

void
session_drop(struct session *s)
{
	memset(s, 0, sizeof(*s));
}

/* True when token (SESSION_ID_LEN bytes) is the session's CSRF token. */
bool
session_csrf_ok(const struct session *s, const uint8_t *token)
{
	return same_bytes(s->csrf, token, SESSION_ID_LEN);
}
