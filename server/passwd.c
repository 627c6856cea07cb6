/*
 * Password files: "user:crypt-hash" lines, '#' comments. Pure: works on
 * the file's text, read by the caller.
 *
 * Only hashes whose whole password counts and which take real work are
 * accepted: SHA-256 and SHA-512 crypt ($5$, $6$) and bcrypt ($2a$, $2b$,
 * $2y$), what both glibc and musl provide. DES crypt keeps 8 characters
 * of a password and MD5 crypt ($1$) is cheap to brute-force: a line with
 * either is reported when the configuration is read and never matches.
 */
#include <string.h>

#include "server.h"

#define PASSWD_HASH_MIN	20	/* bytes: shorter is no crypt(3) hash */

/* NULL when hash is of an accepted scheme, else why it is not. */
const char *
passwd_hash_refused(const char *hash, size_t len)
{
	static const char *const ok[] = { "$5$", "$6$", "$2a$", "$2b$",
	    "$2y$" };
	size_t			 i, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		n = strlen(ok[i]);
		if (len > n && memcmp(hash, ok[i], n) == 0)
			return len < PASSWD_HASH_MIN ? "a truncated hash" : NULL;
	}
	if (len >= 3 && memcmp(hash, "$1$", 3) == 0)
		return "an MD5 crypt hash ($1$), cheap to brute-force";
	if (len == 13 && hash[0] != '$')
		return "a DES crypt hash, of which only 8 password characters "
		    "count";
	return "not a hash of an accepted scheme";
}

/*
 * The next entry of data at *p: user and hash views (hash empty without a
 * ':'), *line its line number; false at the end.
 */
static bool
passwd_next(const char **p, int *line, struct str *user, struct str *hash)
{
	const char	*start, *nl, *end, *colon;

	while (**p != '\0') {
		start = *p;
		nl = strchr(start, '\n');
		*p = nl ? nl + 1 : start + strlen(start);
		(*line)++;
		end = nl ? nl : *p;
		while (end > start && (end[-1] == '\r' || end[-1] == ' '))
			end--;
		if (start[0] == '#' || end == start)
			continue;
		colon = memchr(start, ':', (size_t)(end - start));
		user->p = start;
		user->len = (size_t)((colon ? colon : end) - start);
		hash->p = colon ? colon + 1 : end;
		hash->len = (size_t)(end - hash->p);
		return true;
	}
	return false;
}

/* Why the entry cannot be used, or NULL. */
static const char *
passwd_entry_refused(struct str user, struct str hash)
{
	if (user.len == 0)
		return "no user name";
	if (user.len >= AUTH_NAME_MAX)
		return "user name too long";
	if (hash.p == user.p + user.len)
		return "no ':' after the user name";
	return passwd_hash_refused(hash.p, hash.len);
}

/*
 * Every entry that cannot be used, reported through bad(line, user,
 * reason, arg); returns their count.
 */
int
passwd_check(const char *data, void (*bad)(int, struct str, const char *,
    void *), void *arg)
{
	struct str	 user, hash;
	const char	*p = data, *why;
	int		 line = 0, nbad = 0;

	while (passwd_next(&p, &line, &user, &hash))
		if ((why = passwd_entry_refused(user, hash)) != NULL) {
			bad(line, user, why, arg);
			nbad++;
		}
	return nbad;
}

/* The usable hash stored for user, into out; false when none. */
bool
passwd_lookup(const char *data, const char *user, char *out, size_t size)
{
	struct str	 u, h;
	const char	*p = data;
	int		 line = 0;

	while (passwd_next(&p, &line, &u, &h)) {
		if (!str_eq(u, user) || passwd_entry_refused(u, h) != NULL ||
		    h.len >= size)
			continue;
		memcpy(out, h.p, h.len);
		out[h.len] = '\0';
		return true;
	}
	return false;
}

/*
 * A hash to spend the time of a real check on when the user is unknown:
 * the file's own first usable one (same scheme, same cost), so the time
 * of an answer tells nothing about which names exist. false: none.
 */
bool
passwd_decoy(const char *data, char *out, size_t size)
{
	struct str	 u, h;
	const char	*p = data;
	int		 line = 0;

	while (passwd_next(&p, &line, &u, &h)) {
		if (passwd_entry_refused(u, h) != NULL || h.len >= size)
			continue;
		memcpy(out, h.p, h.len);
		out[h.len] = '\0';
		return true;
	}
	return false;
}
