/*
 * Cookie sessions for the admin UI, in porch itself (DESIGN 5): the login
 * endpoint (session_api: POST logs in, GET tells, DELETE logs out) and the
 * check of every request under a `session` prefix, made from the head
 * before any script runs or any byte of a body is read:
 *
 *	- a session id of 128 bits from getrandom, new at every login, held
 *	  in the scoreboard's table (every worker and a reload see it); the
 *	  cookie is HttpOnly, SameSite=Strict, Path=/, and Secure over TLS;
 *	- an idle timeout and a lifetime; a request marked X-Background: 1
 *	  (a poll) does not keep a session alive;
 *	- a CSRF token per session, required (X-CSRF-Token) on every request
 *	  whose method changes state, and an Origin, when sent, that is the
 *	  request's own;
 *	- a session ends when its user's password changes or goes.
 *
 * Passwords are checked as for Basic auth (passwd.c), with the same
 * failed-login back-off (auth_password).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server.h"

#define SESSION_HEX	(2 * SESSION_ID_LEN)

/* The longest session prefix path is under, or NULL. */
static const struct conf_session *
session_find_prefix(const struct conf *cf, const char *path)
{
	const struct conf_session	*best = NULL;
	size_t				 i, n, bestlen = 0;

	for (i = 0; i < cf->nsession; i++) {
		n = http_path_under(path, cf->session[i].prefix);
		if (n > 0 && n >= bestlen) {
			best = &cf->session[i];
			bestlen = n;
		}
	}
	return best;
}

static uint64_t
session_hash(const char *s)
{
	uint64_t	 h = UINT64_C(14695981039346656037);

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

/* 32 hex digits into SESSION_ID_LEN bytes; false if not exactly that. */
static bool
session_unhex(struct str v, uint8_t *out)
{
	size_t	 i;
	int	 hi, lo;

	if (v.len != SESSION_HEX)
		return false;
	for (i = 0; i < SESSION_ID_LEN; i++) {
		if ((hi = http_hexval((unsigned char)v.p[2 * i])) < 0 ||
		    (lo = http_hexval((unsigned char)v.p[2 * i + 1])) < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void
session_hex(const uint8_t *id, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	for (i = 0; i < SESSION_ID_LEN; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[SESSION_HEX] = '\0';
}

/* The index of the session directive whose file holds cf->session[i]. */
static int
session_fd_of(const struct conf *cf, const struct conf_session *se)
{
	return (int)(se - cf->session);
}

/*
 * The fingerprint of user's hash in the file of se now: a session made
 * with another (the password changed) or none (the user went) ends.
 */
static bool
session_secret(struct conn *c, const struct conf_session *se,
    const char *user, uint64_t *secret)
{
	const char	*data;
	char		 hash[256];

	data = auth_file_load(se->file,
	    c->w->session_fd[session_fd_of(c->conf, se)]);
	if (data == NULL || !passwd_lookup(data, user, hash, sizeof(hash)))
		return false;
	*secret = session_hash(hash);
	return true;
}

/* The request's session id from its cookie: 1, 0 none, -1 unusable. */
static int
session_cookie(struct request *r, uint8_t *id)
{
	const struct str	*v;
	struct str		 val;
	int			 rc;

	if ((v = http_field_get(&r->head, "Cookie")) == NULL)
		return 0;
	if ((rc = http_cookie_get(*v, SESSION_COOKIE, &val)) != 1)
		return rc;
	return session_unhex(val, id) ? 1 : -1;
}

/*
 * RFC 6454: an Origin, when the request has one, must be the request's
 * own, http(s)://Host. A browser sends it with every state-changing
 * request; another origin's page is the forgery.
 */
static bool
session_origin_ok(struct conn *c, struct request *r)
{
	const struct str	*o = http_field_get(&r->head, "Origin");
	const char		*scheme = c->tls ? "https://" : "http://";
	size_t			 n = strlen(scheme);

	if (o == NULL)
		return true;
	if (r->fr.host.len == 0 || o->len != n + r->fr.host.len)
		return false;
	return strncasecmp(o->p, scheme, n) == 0 &&
	    strncasecmp(o->p + n, r->fr.host.p, r->fr.host.len) == 0;
}

/*
 * A page navigation (redirected to the login page) rather than a call
 * from a script (answered 401 JSON): Sec-Fetch-Mode says so; a client
 * without it is asking for a page when it accepts text/html.
 */
static bool
session_navigation(struct request *r)
{
	const struct str	*v;
	struct str		 e;

	if (r->fr.method != METHOD_GET && r->fr.method != METHOD_HEAD)
		return false;
	if ((v = http_field_get(&r->head, "Sec-Fetch-Mode")) != NULL)
		return str_eq_nocase(*v, "navigate");
	if ((v = http_field_get(&r->head, "Accept")) == NULL)
		return false;
	for (e = *v; e.len >= 9; e.p++, e.len--)
		if (str_eq_nocase((struct str){ e.p, 9 }, "text/html"))
			return true;
	return false;
}

static bool
session_background(struct request *r)
{
	const struct str	*v = http_field_get(&r->head, "X-Background");

	return v != NULL && str_eq(*v, "1");
}

static bool
session_safe_method(enum http_method m)
{
	return m == METHOD_GET || m == METHOD_HEAD || m == METHOD_OPTIONS;
}

/*
 * The session of r's cookie, locked in the table (the caller unlocks), or
 * NULL with *why: "login required" (no cookie) or "session expired".
 */
static struct session *
session_of(struct conn *c, struct request *r, const char **why)
{
	struct scoreboard	*sb = c->w->sb;
	const struct conf	*cf = c->conf;
	struct session		*s;
	uint8_t			 id[SESSION_ID_LEN];
	bool			 expired;
	int			 rc;

	if ((rc = session_cookie(r, id)) == 0) {
		*why = "login required";
		return NULL;
	}
	*why = "session expired";
	if (rc == -1)
		return NULL;
	s = session_find(&sb->sessions, id, os_now_ms(),
	    (int64_t)cf->session_idle * 1000,
	    (int64_t)cf->session_lifetime * 1000, &expired);
	return s;
}

/*
 * The session check of a request under a `session` prefix: 0 when it
 * may go on (r->user set), else the status to answer (401, 403) with *v.
 */
int
session_check(struct conn *c, struct request *r, struct session_verdict *v)
{
	struct scoreboard		*sb = c->w->sb;
	const struct conf_session	*se;
	struct session			*s;
	const struct str		*tok;
	uint8_t				 token[SESSION_ID_LEN];
	uint64_t			 secret;
	char				 user[AUTH_NAME_MAX];
	bool				 locked, ok;

	memset(v, 0, sizeof(*v));
	if ((se = session_find_prefix(c->conf, r->path)) == NULL)
		return 0;
	locked = sb_lock(&sb->session_lock);
	if ((s = session_of(c, r, &v->error)) != NULL && s->realm != se->realm)
		s = NULL;		/* a login to another password file */
	if (s != NULL)
		memcpy(user, s->user, sizeof(user));
	sb_unlock(&sb->session_lock, locked);
	if (s == NULL) {
		v->navigate = session_navigation(r);
		return 401;
	}
	/* The password checked outside the lock: it may read a file. */
	ok = session_secret(c, se, user, &secret);
	locked = sb_lock(&sb->session_lock);
	s = session_of(c, r, &v->error);
	if (s != NULL && (!ok || s->secret != secret)) {
		session_drop(s);	/* password changed, or user gone */
		s = NULL;
	}
	if (s == NULL) {
		sb_unlock(&sb->session_lock, locked);
		v->error = "session expired";
		v->navigate = session_navigation(r);
		return 401;
	}
	if (!session_safe_method(r->fr.method) &&
	    ((tok = http_field_get(&r->head, "X-CSRF-Token")) == NULL ||
	    !session_unhex(*tok, token) || !session_csrf_ok(s, token) ||
	    !session_origin_ok(c, r))) {
		sb_unlock(&sb->session_lock, locked);
		v->error = "csrf";
		conn_log(c, r, LOG_INFO, "CSRF check failed");
		return 403;
	}
	if (!session_background(r))
		s->last_ms = os_now_ms();
	sb_unlock(&sb->session_lock, locked);
	memcpy(r->user, user, sizeof(r->user));
	r->auth_type = "Cookie";
	return 0;
}

/* A JSON answer; set_cookie is a Set-Cookie value, or NULL. */
static enum serve
session_json(struct conn *c, struct request *r, int status, const char *body,
    const char *set_cookie, unsigned retry_after)
{
	struct resp	 o;

	resp_begin(&o, c, r, status);
	resp_header(&o, "Content-Type", "application/json");
	resp_header(&o, "Cache-Control", "no-store");
	if (set_cookie != NULL)
		resp_header(&o, "Set-Cookie", set_cookie);
	if (retry_after > 0)
		resp_header_uint(&o, "Retry-After", retry_after);
	resp_header_uint(&o, "Content-Length", strlen(body));
	return resp_send(c, r, &o, body, strlen(body));
}

/* The cookie of a session (id NULL: one that ends it now). */
static void
session_set_cookie(struct conn *c, const uint8_t *id, char *out, size_t size)
{
	char	 hex[SESSION_HEX + 1] = "";

	if (id != NULL)
		session_hex(id, hex);
	snprintf(out, size, SESSION_COOKIE "=%s; Path=/;%s HttpOnly; "
	    "SameSite=Strict%s", hex, id == NULL ? " Max-Age=0;" : "",
	    c->tls ? "; Secure" : "");
}

/*
 * Answers a refused session check: a page navigation goes to the login
 * page (303, ?next= the page), anything else gets 401 or 403 JSON.
 */
enum serve
session_refused(struct conn *c, struct request *r, int status,
    const struct session_verdict *v)
{
	char	 loc[CONN_LOCATION_MAX], next[CONN_LOCATION_MAX / 2];
	char	 body[64];
	int	 n;

	if (status == 401 && v->navigate &&
	    strcmp(c->conf->session_login, "off") != 0) {
		n = http_encode_component(r->head.target.p, r->head.target.len,
		    next, sizeof(next));
		if (n >= 0 && snprintf(loc, sizeof(loc), "%s?next=%s",
		    c->conf->session_login, next) < (int)sizeof(loc))
			return resp_simple(c, r, 303, "Location", loc);
	}
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", v->error ?
	    v->error : "forbidden");
	return session_json(c, r, status, body, NULL, 0);
}

bool
session_api_matches(struct conn *c, struct request *r)
{
	const char	*api = c->conf->session_api;

	return c->conf->nsession > 0 && strcmp(api, "off") != 0 &&
	    strcmp(r->path, api) == 0;
}

/* The session's state as the UI needs it (escaped user name). */
static enum serve
session_state(struct conn *c, struct request *r, const struct session *s,
    const char *set_cookie)
{
	char	 user[6 * AUTH_NAME_MAX], csrf[SESSION_HEX + 1], body[512];

	if (http_json_escape(s->user, strlen(s->user), user, sizeof(user)) ==
	    -1)
		user[0] = '\0';
	session_hex(s->csrf, csrf);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"csrf\":\"%s\","
	    "\"idle\":%u,\"lifetime\":%u}\n", user, csrf,
	    c->conf->session_idle, c->conf->session_lifetime);
	return session_json(c, r, 200, body, set_cookie, 0);
}

/* The login body (at most SESSION_BODY_MAX bytes), read whole. */
static int
session_read_body(struct conn *c, struct request *r, char *buf, size_t size,
    size_t *len)
{
	ssize_t	 n;

	*len = 0;
	r->body.max = size;
	while ((n = conn_body_read(c, r, buf + *len, size - *len, true)) > 0)
		if ((*len += (size_t)n) == size && !r->body.done)
			return 413;
	if (n == -1)
		return r->body.error ? r->body.error : 400;
	return 0;
}

/* The user and password of a login body, form-encoded or JSON. */
static int
session_credentials(struct request *r, struct str body, char *user,
    char *pass)
{
	const struct str	*ct = http_field_get(&r->head, "Content-Type");
	int			(*get)(struct str, const char *, char *, size_t);

	if (ct == NULL)
		return 415;
	if (ct->len >= 33 && str_eq_nocase((struct str){ ct->p, 33 },
	    "application/x-www-form-urlencoded"))
		get = http_form_get;
	else if (ct->len >= 16 && str_eq_nocase((struct str){ ct->p, 16 },
	    "application/json"))
		get = http_json_get;
	else
		return 415;
	if (get(body, "user", user, AUTH_NAME_MAX) != 1 ||
	    get(body, "password", pass, AUTH_PASS_MAX) != 1 || user[0] == '\0')
		return 400;
	return 0;
}

/* POST: checks the password against each session file, opens a session. */
static enum serve
session_login(struct conn *c, struct request *r)
{
	struct scoreboard		*sb = c->w->sb;
	const struct conf		*cf = c->conf;
	const struct conf_session	*se = NULL;
	struct session			 copy, *s;
	const char			*data = NULL, *why;
	char				 buf[SESSION_BODY_MAX], hash[256];
	char				 user[AUTH_NAME_MAX], pass[AUTH_PASS_MAX];
	char				 cookie[160], body[96];
	uint8_t				 id[SESSION_ID_LEN], csrf[SESSION_ID_LEN];
	size_t				 i, len;
	unsigned			 wait = 0;
	bool				 locked;
	int				 status;

	if (!session_origin_ok(c, r))
		return session_json(c, r, 403, "{\"error\":\"csrf\"}\n", NULL, 0);
	if (r->fr.body == BODY_LENGTH && r->fr.length > SESSION_BODY_MAX)
		return resp_error(c, r, 413);
	if ((status = session_read_body(c, r, buf, sizeof(buf), &len)) != 0 ||
	    (status = session_credentials(r, (struct str){ buf, len }, user,
	    pass)) != 0)
		return resp_error(c, r, status);
	/* The first file that knows the user decides; else the first. */
	for (i = 0; i < cf->nsession && se == NULL; i++) {
		data = auth_file_load(cf->session[i].file, c->w->session_fd[i]);
		if (data != NULL && passwd_lookup(data, user, hash,
		    sizeof(hash)))
			se = &cf->session[i];
	}
	if (se == NULL) {
		se = &cf->session[0];
		data = auth_file_load(se->file, c->w->session_fd[0]);
	}
	status = data == NULL ? 500 : auth_password(c, r, data, user, pass,
	    &wait);
	memset(pass, 0, sizeof(pass));
	memset(buf, 0, sizeof(buf));
	if (status == 429) {
		snprintf(body, sizeof(body), "{\"error\":\"too many failed "
		    "logins\",\"retry_after\":%u}\n", wait);
		return session_json(c, r, 429, body, NULL, wait);
	}
	if (status == 401)
		return session_json(c, r, 401, "{\"error\":\"login failed\"}\n",
		    NULL, 0);
	if (status != 0 || !passwd_lookup(data, user, hash, sizeof(hash)) ||
	    os_random(id, sizeof(id)) == -1 ||
	    os_random(csrf, sizeof(csrf)) == -1)
		return resp_error(c, r, 500);
	session_set_cookie(c, id, cookie, sizeof(cookie));
	locked = sb_lock(&sb->session_lock);
	/* The session this browser had is replaced, never carried on. */
	if ((s = session_of(c, r, &why)) != NULL)
		session_drop(s);
	s = session_add(&sb->sessions, id, csrf, user, se->realm,
	    session_hash(hash), os_now_ms());
	copy = *s;	/* another worker may evict it once unlocked */
	sb_unlock(&sb->session_lock, locked);
	memcpy(r->user, user, sizeof(r->user));
	r->auth_type = "Cookie";
	conn_log(c, r, LOG_INFO, "session opened");
	return session_state(c, r, &copy, cookie);
}

/*
 * The session API: POST logs in, GET tells the session (and its CSRF
 * token, for a page reloaded), DELETE (with the token) logs out.
 */
enum serve
session_api(struct conn *c, struct request *r)
{
	struct scoreboard	*sb = c->w->sb;
	struct session		 copy, *s;
	const struct str	*tok;
	uint8_t			 token[SESSION_ID_LEN];
	const char		*why;
	char			 cookie[160], body[64];
	bool			 locked;

	if (r->fr.method == METHOD_POST)
		return session_login(c, r);
	if (r->fr.method != METHOD_GET && r->fr.method != METHOD_HEAD &&
	    r->fr.method != METHOD_DELETE)
		return resp_simple(c, r, 405, "Allow", "GET, HEAD, POST, DELETE");
	locked = sb_lock(&sb->session_lock);
	s = session_of(c, r, &why);
	if (s != NULL && r->fr.method == METHOD_DELETE &&
	    ((tok = http_field_get(&r->head, "X-CSRF-Token")) == NULL ||
	    !session_unhex(*tok, token) || !session_csrf_ok(s, token) ||
	    !session_origin_ok(c, r))) {
		sb_unlock(&sb->session_lock, locked);
		return session_json(c, r, 403, "{\"error\":\"csrf\"}\n", NULL, 0);
	}
	if (s != NULL) {
		copy = *s;
		if (r->fr.method == METHOD_DELETE)
			session_drop(s);
		else if (!session_background(r))
			s->last_ms = os_now_ms();
	}
	sb_unlock(&sb->session_lock, locked);
	if (s == NULL) {
		snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", why);
		return session_json(c, r, 401, body, NULL, 0);
	}
	memcpy(r->user, copy.user, sizeof(r->user));
	if (r->fr.method == METHOD_GET || r->fr.method == METHOD_HEAD)
		return session_state(c, r, &copy, NULL);
	session_set_cookie(c, NULL, cookie, sizeof(cookie));
	conn_log(c, r, LOG_INFO, "session closed");
	return session_json(c, r, 200, "{\"ok\":true}\n", cookie, 0);
}
