/*
 * HTTP Basic auth per path prefix (RFC 7617) against a file of
 * "user:crypt-hash" lines. Checked from the head alone, before any body
 * byte is read or a 100 Continue sent. Failed attempts are counted per
 * client address in the scoreboard, so every worker applies one back-off.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

#define AUTH_PASS_MAX	256	/* bytes of a password */
#define AUTH_LOCK_SPINS	100000

/* A hash in the file's format, to spend the same time on unknown users. */
static const char	 dummy_hash[] =
    "$5$porchdummysalt$0000000000000000000000000000000000000000000";

/* The password file of the last check, re-read when it changes on disk. */
static struct {
	const char	*path;
	struct os_stat	 st;
	char		 data[AUTH_FILE_MAX];
	bool		 valid;
} cache;

static const struct conf_auth *
auth_find(const struct conf *cf, const char *path)
{
	const struct conf_auth	*best = NULL;
	size_t			 i, n, bestlen = 0;

	for (i = 0; i < cf->nauth; i++) {
		n = strlen(cf->auth[i].prefix);
		if (strncmp(path, cf->auth[i].prefix, n) != 0)
			continue;
		/* "/admin" covers "/admin" and "/admin/x", not "/administer" */
		if (n > 1 && cf->auth[i].prefix[n - 1] != '/' &&
		    path[n] != '\0' && path[n] != '/')
			continue;
		if (n >= bestlen) {
			best = &cf->auth[i];
			bestlen = n;
		}
	}
	return best;
}

static bool
same_file(const struct os_stat *a, const struct os_stat *b)
{
	return a->ino == b->ino && a->size == b->size && a->mtime == b->mtime &&
	    a->mtime_ns == b->mtime_ns;
}

/*
 * The file by name when the worker may read it (it may have been replaced
 * by a rename), else through the descriptor opened before privileges were
 * dropped (a root-only file, edited in place).
 */
static const char *
auth_file_load(const char *path, int fd)
{
	struct os_stat	 st;
	bool		 by_name;
	ssize_t		 n;

	by_name = os_stat_path(path, &st) == 0;
	/* A deleted file fails closed; only "not mine to read" falls back. */
	if (!by_name && (errno != EACCES || fd == -1 ||
	    os_fstat(fd, &st) == -1)) {
		log_warn("password file %s", path);
		return NULL;
	}
	if (cache.valid && cache.path == path && same_file(&st, &cache.st))
		return cache.data;
	cache.valid = false;
	n = by_name ? os_read_small_file(path, cache.data, sizeof(cache.data),
	    &cache.st) : os_read_small_fd(fd, cache.data, sizeof(cache.data),
	    &cache.st);
	if (n == -1) {
		log_warn("password file %s", path);
		return NULL;
	}
	cache.path = path;
	cache.valid = true;
	return cache.data;
}

/* The hash stored for user, copied into out; false when absent. */
static bool
auth_file_lookup(const char *data, const char *user, char *out, size_t size)
{
	const char	*line, *nl, *colon;
	size_t		 ulen = strlen(user), hlen;

	for (line = data; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		colon = memchr(line, ':', (size_t)(nl - line));
		if (line[0] != '#' && colon != NULL &&
		    (size_t)(colon - line) == ulen &&
		    memcmp(line, user, ulen) == 0) {
			hlen = (size_t)(nl - colon - 1);
			while (hlen > 0 && (colon[hlen] == '\r' ||
			    colon[hlen] == ' '))
				hlen--;
			if (hlen >= size)
				return false;
			memcpy(out, colon + 1, hlen);
			out[hlen] = '\0';
			return true;
		}
		if (*nl == '\0')
			break;
	}
	return false;
}

/* Compares in time that depends only on the lengths. */
static bool
equal_ct(const char *a, const char *b)
{
	size_t		 la = strlen(a), lb = strlen(b), i;
	unsigned char	 diff = (unsigned char)(la != lb);

	for (i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static bool
authfail_lock(struct scoreboard *sb)
{
	int	 i;

	for (i = 0; i < AUTH_LOCK_SPINS; i++)
		if (__atomic_exchange_n(&sb->authfail_lock, 1,
		    __ATOMIC_ACQUIRE) == 0)
			return true;
	return false;	/* a worker died holding it: go on unlocked */
}

static void
authfail_unlock(struct scoreboard *sb)
{
	__atomic_store_n(&sb->authfail_lock, 0, __ATOMIC_RELEASE);
}

/*
 * Seconds the client must still wait, 0 if none. After AUTH_FREE_TRIES
 * failures the wait doubles with each failure, up to AUTH_BACKOFF_MAX.
 */
static unsigned
authfail_wait(struct scoreboard *sb, const char *addr)
{
	int64_t		 now = os_now_ms(), delay;
	unsigned	 wait = 0, fails;
	bool		 locked = authfail_lock(sb);
	int		 i;

	for (i = 0; i < SB_AUTHFAIL; i++) {
		if (strncmp(sb->authfail[i].addr, addr, OS_ADDR_TEXT) != 0)
			continue;
		fails = sb->authfail[i].fails;
		if (fails < AUTH_FREE_TRIES)
			break;
		delay = (int64_t)1000 << (fails - AUTH_FREE_TRIES < 6 ?
		    fails - AUTH_FREE_TRIES : 6);
		if (delay > AUTH_BACKOFF_MAX * 1000)
			delay = AUTH_BACKOFF_MAX * 1000;
		if (sb->authfail[i].last_ms + delay > now)
			wait = (unsigned)((sb->authfail[i].last_ms + delay -
			    now + 999) / 1000);
		break;
	}
	if (locked)
		authfail_unlock(sb);
	return wait;
}

/* Counts a failure (ok false) or forgets the client's failures (ok true). */
static void
authfail_record(struct scoreboard *sb, const char *addr, bool ok)
{
	struct sb_authfail	*e = NULL, *oldest = &sb->authfail[0];
	int64_t			 now = os_now_ms();
	bool			 locked = authfail_lock(sb);
	int			 i;

	for (i = 0; i < SB_AUTHFAIL; i++) {
		if (strncmp(sb->authfail[i].addr, addr, OS_ADDR_TEXT) == 0)
			e = &sb->authfail[i];
		if (sb->authfail[i].last_ms < oldest->last_ms)
			oldest = &sb->authfail[i];
	}
	if (ok) {
		if (e != NULL)
			memset(e, 0, sizeof(*e));
	} else {
		if (e == NULL) {
			e = oldest;	/* the least recent client makes room */
			memset(e, 0, sizeof(*e));
			memcpy(e->addr, addr, strnlen(addr, OS_ADDR_TEXT - 1));
		} else if (now - e->last_ms > AUTH_FORGET * 1000)
			e->fails = 0;
		e->fails++;
		e->last_ms = now;
	}
	if (locked)
		authfail_unlock(sb);
}

static int
auth_challenge(struct conn *c, struct request *r, const struct conf_auth *a)
{
	char	 v[160];

	snprintf(v, sizeof(v), "Basic realm=\"%s\", charset=\"UTF-8\"",
	    a->realm);
	return response_simple(c, r, 401, "WWW-Authenticate", v);
}

static int
auth_backoff(struct conn *c, struct request *r, unsigned wait)
{
	char	 v[16];

	snprintf(v, sizeof(v), "%u", wait);
	conn_log(c, r, LOG_INFO, "login refused for %u s after failures",
	    wait);
	return response_simple(c, r, 429, "Retry-After", v);
}

/*
 * 0 when the path needs no auth or the credentials are right (r->user is
 * then set); otherwise the response has been sent and its status is
 * returned (401, 429, 500).
 */
int
auth_check(struct conn *c, struct request *r)
{
	const struct conf_auth	*a;
	const struct str	*v;
	const char		*data, *h;
	char			 user[AUTH_NAME_MAX], pass[AUTH_PASS_MAX];
	char			 hash[256];
	unsigned		 wait;
	bool			 known, ok;

	if ((a = auth_find(c->conf, r->path)) == NULL)
		return 0;
	if ((wait = authfail_wait(c->w->sb, c->peer.addr)) > 0) {
		(void)auth_backoff(c, r, wait);
		return 429;
	}
	v = http_field_get(&r->head, "Authorization");
	if (v == NULL || http_basic_decode(*v, user, sizeof(user), pass,
	    sizeof(pass)) == -1) {
		(void)auth_challenge(c, r, a);
		return 401;
	}
	if ((data = auth_file_load(a->file,
	    c->w->auth_fd[a - c->conf->auth])) == NULL) {
		(void)response_error(c, r, 500);
		return 500;
	}
	known = auth_file_lookup(data, user, hash, sizeof(hash));
	h = os_crypt(pass, known ? hash : dummy_hash);
	ok = known && h != NULL && equal_ct(h, hash);
	memset(pass, 0, sizeof(pass));
	authfail_record(c->w->sb, c->peer.addr, ok);
	if (!ok) {
		conn_log(c, r, LOG_INFO, "failed login for \"%s\"", user);
		(void)auth_challenge(c, r, a);
		return 401;
	}
	memcpy(r->user, user, sizeof(r->user));
	return 0;
}
