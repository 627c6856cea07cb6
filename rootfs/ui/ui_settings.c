/*
 * POST /cgi-bin/ui/hostname {"hostname":"..."} and
 * POST /cgi-bin/ui/password {"old":"...","new":"..."}: the settings.
 * Input is taken from JSON by the checked reader, validated against an
 * allow-list, and written to files whole; nothing reaches a shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <crypt.h>
#endif

#include "ui.h"

#define PASSWD_FILE	"/etc/porch/passwd"
#define MUST_CHANGE	"/etc/porch/password-must-change"
#define PW_FREE_TRIES	3	/* wrong current passwords before back-off */
#define PW_BACKOFF	30	/* s: then one try per this */
#define PASSWD_MAX	16384	/* bytes: the whole password file */

/* The body's only members, as strings, decoded into out[i]. */
static int
body_strings(struct ui_req *r, const char *const *keys, size_t nkeys,
    char (*out)[UI_BODY_MAX + 1])
{
	struct json_member		 m[8];
	const struct json_member	*v;
	size_t				 n, i, l;
	int				 st;

	if ((st = ui_read_body(r)) != 0)
		return st;
	if (json_object(r->body, r->bodylen, m, 8, &n) == -1 || n != nkeys)
		return 400;
	for (i = 0; i < nkeys; i++)
		if ((v = json_get(m, n, keys[i])) == NULL ||
		    v->type != JSON_STRING ||
		    json_unescape(v->val, v->vallen, out[i], UI_BODY_MAX + 1,
		    &l) == -1)
			return 400;
	return 0;
}

int
ui_hostname(struct ui_req *r)
{
	static const char *const keys[] = { "hostname" };
	static char		 v[1][UI_BODY_MAX + 1];
	char			 line[UI_HOSTNAME_MAX + 2], buf[256];
	struct jw		 j;
	bool			 applied = false;
	size_t			 len;
	int			 st;

	if ((st = body_strings(r, keys, 1, v)) != 0) {
		ui_error(st, "expected {\"hostname\":\"...\"}");
		return -1;
	}
	len = strlen(v[0]);
	if (!ui_hostname_valid(v[0], len)) {
		ui_error(422, "Not a valid hostname: use 1 to 63 letters, "
		    "digits and hyphens (dots between parts), not starting or "
		    "ending with a hyphen, and not only digits.");
		return -1;
	}
	memcpy(line, v[0], len);	/* len <= UI_HOSTNAME_MAX: checked */
	line[len] = '\n';
	if (ui_write_file("/etc/hostname", line, len + 1, 0644) == -1) {
		ui_log("cannot save the hostname: %s", strerror(errno));
		ui_error(500, "The device could not save the hostname.");
		return -1;
	}
	/* The kernel's name needs CAP_SYS_ADMIN; without it the saved name
	 * applies at the next boot. Never under make run. */
	if (!ui_is_dev() && sethostname(v[0], len) == 0)
		applied = true;
	ui_log("hostname set to %s", v[0]);
	jw_init(&j, buf, sizeof(buf));
	jw_raw(&j, "{\"ok\":true,");
	jw_key(&j, "hostname");
	jw_cstr(&j, v[0]);
	jw_raw(&j, applied ? ",\"applied\":true," : ",\"applied\":false,");
	jw_key(&j, "message");
	jw_cstr(&j, ui_is_dev() ? "Saved in make run's state directory; "
	    "this computer's own hostname is unchanged." : applied ?
	    "Saved and applied." : "Saved; it applies at the next restart.");
	jw_raw(&j, "}");
	ui_reply(200, buf, jw_len(&j));
	return 0;
}

static bool
same_secret(const char *a, const char *b)
{
	size_t		 la = strlen(a), lb = strlen(b), i;
	unsigned char	 d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/*
 * Wrong current passwords, counted across requests: the form would
 * otherwise be a password oracle beside porch's own login back-off.
 * Returns the seconds to wait (0: go on), with the lock held on *fd.
 */
static long
pw_backoff(int *fd, unsigned *fails, time_t *last)
{
	char	 path[PATH_MAX], buf[64];
	ssize_t	 n;
	time_t	 now = time(NULL);

	*fails = 0;
	*last = 0;
	if (ui_run_dir(path, sizeof(path), "pwfail") == -1 ||
	    (*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (flock(*fd, LOCK_EX) == -1)
		return -1;
	if ((n = pread(*fd, buf, sizeof(buf) - 1, 0)) > 0) {
		long long	 l = 0;

		buf[n] = '\0';
		if (sscanf(buf, "%u %lld", fails, &l) != 2)
			*fails = 0;
		*last = (time_t)l;
	}
	if (*fails >= PW_FREE_TRIES && now - *last < PW_BACKOFF)
		return PW_BACKOFF - (long)(now - *last);
	return 0;
}

static void
pw_record(int fd, unsigned fails)
{
	char	 buf[64];
	int	 n = snprintf(buf, sizeof(buf), "%u %lld\n", fails,
		    (long long)time(NULL));

	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, buf, (size_t)n, 0);
}

/* A new SHA-512 crypt hash ($6$, 16 salt characters). */
static const char *
new_hash(const char *pw)
{
	static const char	 b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz";
	unsigned char		 rnd[16];
	char			 salt[3 + 16 + 2];
	const char		*h;
	int			 i;

	if (ui_random(rnd, sizeof(rnd)) == -1)
		return NULL;
	memcpy(salt, "$6$", 3);
	for (i = 0; i < 16; i++)
		salt[3 + i] = b64[rnd[i] & 63];
	salt[19] = '$';
	salt[20] = '\0';
	h = crypt(pw, salt);
	return h != NULL && strncmp(h, "$6$", 3) == 0 ? h : NULL;
}

static int
password_change(struct ui_req *r, const char *old, const char *nw)
{
	static char	 file[PASSWD_MAX + 1], out[PASSWD_MAX + 256];
	char		 cur[256];
	const char	*hash, *problem, *h;
	size_t		 len, hl;
	long		 outlen;

	if (ui_read_file(PASSWD_FILE, file, sizeof(file), &len) == -1 ||
	    passwd_lookup(file, len, r->user, &hash, &hl) == -1 ||
	    hl >= sizeof(cur)) {
		ui_error(500, "The device cannot read its password file.");
		return 500;
	}
	memcpy(cur, hash, hl);
	cur[hl] = '\0';
	if ((h = crypt(old, cur)) == NULL || !same_secret(h, cur))
		return 403;
	if ((problem = ui_password_problem(nw, strlen(nw))) != NULL) {
		ui_error(422, problem);
		return 422;
	}
	if (strcmp(old, nw) == 0) {
		ui_error(422, "The new password must differ from the "
		    "current one.");
		return 422;
	}
	if ((h = new_hash(nw)) == NULL ||
	    (outlen = passwd_replace(file, len, r->user, h, out,
	    sizeof(out))) == -1 ||
	    ui_write_file(PASSWD_FILE, out, (size_t)outlen, 0600) == -1) {
		ui_log("cannot save the new password: %s", strerror(errno));
		ui_error(500, "The device could not save the new password.");
		return 500;
	}
	return 200;
}

int
ui_password(struct ui_req *r)
{
	static const char *const keys[] = { "old", "new" };
	static char		 v[2][UI_BODY_MAX + 1];
	char			 path[PATH_MAX], msg[128];
	unsigned		 fails;
	time_t			 last;
	long			 wait;
	int			 st, fd = -1;

	if ((st = body_strings(r, keys, 2, v)) != 0) {
		ui_error(st, "expected {\"old\":\"...\",\"new\":\"...\"}");
		goto out;
	}
	if ((wait = pw_backoff(&fd, &fails, &last)) != 0) {
		if (wait < 0) {
			ui_error(500, "The device cannot check passwords now.");
			goto out;
		}
		snprintf(msg, sizeof(msg), "{\"error\":\"Too many wrong "
		    "passwords. Try again in %ld s.\",\"retry_after\":%ld}",
		    wait, wait);
		ui_reply(429, msg, strlen(msg));
		goto out;
	}
	st = password_change(r, v[0], v[1]);
	if (st == 403) {
		ui_log("password change refused: wrong current password");
		pw_record(fd, fails + 1);
		sleep(1);	/* the lock is held: one guess a second */
		ui_error(403, "The current password is wrong.");
	} else if (st == 200) {
		pw_record(fd, 0);
		if (ui_path(path, sizeof(path), MUST_CHANGE) == 0)
			(void)unlink(path);
		ui_log("password of %s changed", r->user);
		ui_reply(200, "{\"ok\":true}", 11);
	}
out:
	explicit_bzero(v, sizeof(v));
	explicit_bzero(r->body, sizeof(r->body));
	if (fd != -1)
		close(fd);
	return 0;
}
