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
		n = http_path_under(path, cf->auth[i].prefix);
		if (n > 0 && n >= bestlen) {
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

/* A changed file's unusable entry: it never matches, and the log says so. */
static void
auth_bad_entry(int line, struct str user, const char *why, void *arg)
{
	char	 shown[4 * AUTH_NAME_MAX];

	log_escape(user.p, user.len < AUTH_NAME_MAX ? user.len : AUTH_NAME_MAX,
	    shown, sizeof(shown));
	log_warnx("%s:%d: user \"%s\": %s; the entry is ignored",
	    (const char *)arg, line, shown, why);
}

/*
 * The file by name when the worker may read it (it may have been replaced
 * by a rename), else through the descriptor opened before privileges were
 * dropped (a root-only file, edited in place).
 */
const char *
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
	(void)passwd_check(cache.data, auth_bad_entry, (void *)(uintptr_t)path);
	return cache.data;
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

/*
 * A password check for user from the client: counted before it is made
 * (authfail.c), then taken back if right. 0 when right; 401 when wrong;
 * 429 with *wait when the client (or every client) must wait first.
 */
int
auth_password(struct conn *c, struct request *r, const char *data,
    const char *user, const char *pass, unsigned *wait)
{
	struct scoreboard	*sb = c->w->sb;
	char			 hash[256], shown[4 * AUTH_NAME_MAX];
	const char		*h;
	bool			 locked, known, ok;

	locked = sb_lock(&sb->authfail_lock);
	*wait = authfail_begin(&sb->authfail, c->peer.group, os_now_ms());
	sb_unlock(&sb->authfail_lock, locked);
	if (*wait > 0)
		return 429;
	known = passwd_lookup(data, user, hash, sizeof(hash));
	if (!known && !passwd_decoy(data, hash, sizeof(hash)))
		hash[0] = '\0';	/* no usable entry at all */
	h = hash[0] ? os_crypt(pass, hash) : NULL;
	ok = known && h != NULL && equal_ct(h, hash);
	locked = sb_lock(&sb->authfail_lock);
	authfail_end(&sb->authfail, c->peer.group, ok);
	sb_unlock(&sb->authfail_lock, locked);
	if (!ok) {
		log_escape(user, strlen(user), shown, sizeof(shown));
		conn_log(c, r, LOG_INFO, "failed login for \"%s\"", shown);
		return 401;
	}
	return 0;
}

/*
 * Basic auth for the request's path: 0 when none is needed or the
 * credentials are right (r->user is then set), else the status to
 * answer, with what the answer needs in *v (the realm of a 401, the
 * Retry-After of a 429). The caller answers.
 */
int
auth_check(struct conn *c, struct request *r, struct auth_verdict *v)
{
	const struct conf_auth	*a;
	const struct str	*cred;
	const char		*data;
	char			 user[AUTH_NAME_MAX], pass[AUTH_PASS_MAX];
	int			 status;

	memset(v, 0, sizeof(*v));
	if ((a = auth_find(c->conf, r->path)) == NULL)
		return 0;
	v->realm = a->realm;
	cred = http_field_get(&r->head, "Authorization");
	if (cred == NULL || http_basic_decode(*cred, user, sizeof(user), pass,
	    sizeof(pass)) == -1)
		return 401;
	if ((data = auth_file_load(a->file,
	    c->w->auth_fd[a - c->conf->auth])) == NULL)
		return 500;
	status = auth_password(c, r, data, user, pass, &v->retry_after);
	memset(pass, 0, sizeof(pass));
	if (status == 429)
		conn_log(c, r, LOG_INFO, "login refused for %u s after "
		    "failures", v->retry_after);
	if (status == 0) {
		memcpy(r->user, user, sizeof(r->user));
		r->auth_type = "Basic";
	}
	return status;
}
