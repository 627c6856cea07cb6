/*
 * The firmware upgrade, in three requests:
 *
 *   GET  /cgi-bin/ui/upgrade	the running version, the size limit, free
 *				room, whether the device is busy, the image
 *				waiting (if any) and the last install result
 *   POST /cgi-bin/ui/upgrade	the image itself as the body: stored in RAM
 *				(/tmp/porch-ui), hashed as it streams in,
 *				then checked by "fw-upgrade check FILE"
 *   POST /cgi-bin/ui/install	{"sha256":"...","keep":true}: flashes the
 *				image with that digest, detached from the
 *				CGI ("fw-upgrade apply FILE keep|wipe"), the
 *				device reboots when done
 *
 * One upload or install at a time: a lock held from the first byte of an
 * upload to the end of its check, and by an install until fw-upgrade
 * returns; a second one gets 409 before reading its body. fw-upgrade is
 * run by path with a fixed argument vector: nothing from the request
 * reaches it but the stored file's name and keep|wipe from a boolean.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ui.h"

#define FW_UPGRADE	"/usr/sbin/fw-upgrade"
#define FW_OUT_MAX	4096	/* bytes of fw-upgrade's answer */

static char	 run_lock[PATH_MAX], run_image[PATH_MAX], run_part[PATH_MAX],
		 run_info[PATH_MAX], run_result[PATH_MAX], run_out[PATH_MAX],
		 run_busy[PATH_MAX];

static int
run_paths(void)
{
	return ui_run_dir(run_lock, sizeof(run_lock), "upgrade.lock") |
	    ui_run_dir(run_image, sizeof(run_image), "image.bin") |
	    ui_run_dir(run_part, sizeof(run_part), "image.part") |
	    ui_run_dir(run_info, sizeof(run_info), "image.json") |
	    ui_run_dir(run_result, sizeof(run_result), "install.json") |
	    ui_run_dir(run_out, sizeof(run_out), "install.out") |
	    ui_run_dir(run_busy, sizeof(run_busy), "installing");
}

/* The lock's descriptor, -2 when someone else holds it, -1 on error. */
static int
lock_take(void)
{
	int	 fd;

	fd = open(run_lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return errno == EWOULDBLOCK ? -2 : -1;
	}
	return fd;
}

static void
current_version(char *out, size_t size)
{
	size_t	 len;

	if (ui_read_file("/etc/porch-release", out, size, &len) == -1)
		out[0] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
}

static void
fw_json(struct jw *j, const struct fw_check *c)
{
	char	 cur[80];

	current_version(cur, sizeof(cur));
	jw_raw(j, c->ok ? "{\"ok\":true," : "{\"ok\":false,");
	jw_key(j, "message");
	jw_cstr(j, c->message);
	jw_next_uint(j, "size", c->size);
	jw_next_str(j, "sha256", c->sha256);
	jw_next_str(j, "version", c->version);
	jw_next_str(j, "arch", c->arch);
	jw_next_str(j, "current", cur);
	jw_raw(j, "}");
}

/* A JSON file of ours, checked again on the way out. */
static int
read_fw_file(const char *path, struct fw_check *c)
{
	char	 buf[FW_OUT_MAX];
	size_t	 len;

	if (ui_read_abs(path, buf, sizeof(buf), &len) == -1)
		return -1;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	return parse_fw_check(buf, len, c);
}

static int
write_fw_file(const char *path, const struct fw_check *c)
{
	char		 buf[FW_OUT_MAX], tmp[PATH_MAX + 8];
	struct jw	 j;
	int		 fd, rc;

	jw_init(&j, buf, sizeof(buf));
	fw_json(&j, c);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	rc = write(fd, buf, jw_len(&j)) == (ssize_t)jw_len(&j) ? 0 : -1;
	close(fd);
	return rc == 0 ? rename(tmp, path) : -1;
}

static uint64_t
free_bytes(void)
{
	struct statvfs	 s;
	char		 dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", run_lock);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (statvfs(dir, &s) == -1)
		return 0;
	return (uint64_t)s.f_bavail * s.f_frsize;
}

static uint64_t
upload_limit(uint64_t have_image)
{
	uint64_t	 room = free_bytes() + have_image;

	room = room > UI_UPLOAD_RESERVE ? room - UI_UPLOAD_RESERVE : 0;
	return room < UI_UPLOAD_MAX ? room : UI_UPLOAD_MAX;
}

int
ui_upgrade_get(struct ui_req *r)
{
	static char	 buf[2 * FW_OUT_MAX];
	struct fw_check	 c;
	struct stat	 st;
	struct jw	 j;
	char		 cur[80];
	int		 fd;
	bool		 busy;

	(void)r;
	if (run_paths() != 0) {
		ui_error(500, "The device has no room for uploads.");
		return -1;
	}
	fd = lock_take();
	busy = fd == -2;
	if (fd >= 0)
		close(fd);
	current_version(cur, sizeof(cur));
	jw_init(&j, buf, sizeof(buf));
	jw_raw(&j, "{");
	jw_key(&j, "current");
	jw_cstr(&j, cur);
	jw_raw(&j, ",\"limit\":");
	jw_uint(&j, UI_UPLOAD_MAX);
	jw_raw(&j, ",\"room\":");
	jw_uint(&j, upload_limit(stat(run_image, &st) == 0 ?
	    (uint64_t)st.st_size : 0));
	jw_raw(&j, busy ? ",\"busy\":true" : ",\"busy\":false");
	jw_raw(&j, access(run_busy, F_OK) == 0 ? ",\"installing\":true" :
	    ",\"installing\":false");
	jw_raw(&j, ui_is_dev() ? ",\"simulated\":true" : ",\"simulated\":false");
	jw_raw(&j, ",\"image\":");
	if (read_fw_file(run_info, &c) == 0)
		fw_json(&j, &c);
	else
		jw_raw(&j, "null");
	jw_raw(&j, ",\"install\":");
	if (read_fw_file(run_result, &c) == 0)
		fw_json(&j, &c);
	else
		jw_raw(&j, "null");
	jw_raw(&j, "}");
	ui_reply(200, buf, jw_len(&j));
	return 0;
}

/*
 * Runs fw-upgrade with argv, its stdout into out (at most FW_OUT_MAX),
 * stdin and stderr on /dev/null. Returns its exit status, or -1.
 */
/* execv with a vector of constant strings (up to 7). */
static void
exec_tool(const char *tool, const char *const *argv)
{
	char	*v[8];
	size_t	 n = 0;

	while (n < 7 && argv[n] != NULL)
		n++;
	memcpy(v, argv, n * sizeof(v[0]));
	v[n] = NULL;
	execv(tool, v);
}

static int
run_fw(const char *verb, const char *file, const char *mode, char *out,
    size_t *outlen)
{
	char		 tool[PATH_MAX];
	const char	*argv[] = { "fw-upgrade", verb, file, mode, NULL };
	int		 p[2], nul, status;
	pid_t		 pid;
	ssize_t		 n;

	*outlen = 0;
	if (ui_path(tool, sizeof(tool), FW_UPGRADE) == -1 ||
	    pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		nul = open("/dev/null", O_RDWR);
		if (nul == -1 || dup2(nul, 0) == -1 || dup2(p[1], 1) == -1 ||
		    dup2(nul, 2) == -1)
			_exit(127);
		exec_tool(tool, argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		n = read(p[0], out + *outlen, FW_OUT_MAX - 1 - *outlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || (*outlen += (size_t)n) >= FW_OUT_MAX - 1)
			break;
	}
	close(p[0]);
	out[*outlen] = '\0';
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The body into run_part, hashed on the way. 0, or the status. */
static int
receive(uint64_t want, bool known, char hex[65], uint64_t *got)
{
	static char		 buf[65536];
	unsigned char		 d[32];
	struct sha256		 s;
	ssize_t			 n, w;
	size_t			 off;
	int			 fd;

	sha256_init(&s);
	*got = 0;
	(void)unlink(run_part);
	fd = open(run_part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return 500;
	for (;;) {
		n = read(0, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return 400;
		}
		if (n == 0)
			break;
		if (*got + (uint64_t)n > UI_UPLOAD_MAX) {
			close(fd);
			return 413;
		}
		sha256_update(&s, buf, (size_t)n);
		for (off = 0; off < (size_t)n; off += (size_t)w)
			if ((w = write(fd, buf + off, (size_t)n - off)) <= 0) {
				close(fd);
				return 507;	/* /tmp filled up */
			}
		*got += (uint64_t)n;
	}
	close(fd);
	if (known && *got != want)
		return 400;
	sha256_final(&s, d);
	sha256_hex(d, hex);
	return rename(run_part, run_image) == 0 ? 0 : 500;
}

static void
upload_refused(int status, uint64_t size, uint64_t room)
{
	char	 msg[256];

	switch (status) {
	case 413:
		snprintf(msg, sizeof(msg), "The file is too large: this device "
		    "accepts images up to %llu bytes.",
		    (unsigned long long)UI_UPLOAD_MAX);
		break;
	case 507:
		snprintf(msg, sizeof(msg), "Not enough free memory on the "
		    "device for this image: it needs %llu bytes, %llu are "
		    "free.", (unsigned long long)size,
		    (unsigned long long)room);
		break;
	case 400:
		snprintf(msg, sizeof(msg), "The upload was cut short; "
		    "nothing was kept.");
		break;
	default:
		snprintf(msg, sizeof(msg), "The device could not store the "
		    "upload.");
	}
	ui_error(status, msg);
}

/* Checks the stored image and answers with what the device found. */
static void
check_image(const char *hex, uint64_t size)
{
	static char	 out[FW_OUT_MAX], buf[FW_OUT_MAX];
	struct fw_check	 c;
	struct jw	 j;
	size_t		 len;
	int		 rc;

	rc = run_fw("check", run_image, NULL, out, &len);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		len--;
	if (rc == -1 || rc == 127 || parse_fw_check(out, len, &c) == -1) {
		memset(&c, 0, sizeof(c));
		snprintf(c.message, sizeof(c.message), "The device could not "
		    "check the image (fw-upgrade %s).", rc == 127 ?
		    "is missing" : "gave no answer");
	} else if (c.sha256[0] != '\0' && strcmp(c.sha256, hex) != 0) {
		c.ok = false;
		snprintf(c.message, sizeof(c.message), "The stored file "
		    "changed while it was checked: upload it again.");
	} else if (rc != 0)
		c.ok = false;
	snprintf(c.sha256, sizeof(c.sha256), "%s", hex);
	c.size = size;
	if (!c.ok)
		(void)unlink(run_image);	/* RAM is scarce */
	(void)write_fw_file(run_info, &c);
	ui_log("firmware upload of %llu bytes, sha256 %s: %s",
	    (unsigned long long)size, hex, c.message);
	jw_init(&j, buf, sizeof(buf));
	fw_json(&j, &c);
	ui_reply(200, buf, jw_len(&j));
}

int
ui_upgrade_post(struct ui_req *r)
{
	const char	*cl = getenv("CONTENT_LENGTH");
	uint64_t	 want = 0, got, room;
	char		 hex[65];
	int		 lock, st;

	(void)r;
	if (run_paths() != 0) {
		ui_error(500, "The device has no room for uploads.");
		return -1;
	}
	if (cl != NULL && parse_uint(cl, strlen(cl), UINT64_MAX, &want) == -1) {
		ui_error(400, "bad Content-Length");
		return -1;
	}
	if ((lock = lock_take()) < 0) {
		if (lock == -2)
			ui_error(409, "Another upload or installation is in "
			    "progress. Wait for it to finish.");
		else
			ui_error(500, "The device cannot take uploads now.");
		return -1;
	}
	/* The previous image goes first: RAM holds one at a time. */
	(void)unlink(run_image);
	(void)unlink(run_info);
	(void)unlink(run_result);
	room = upload_limit(0);
	if (cl != NULL && want > UI_UPLOAD_MAX)
		st = 413;
	else if (cl != NULL && want > room)
		st = 507;
	else
		st = receive(want, cl != NULL, hex, &got);
	if (st != 0) {
		(void)unlink(run_part);
		upload_refused(st, want, room);
		close(lock);
		return -1;
	}
	check_image(hex, got);
	close(lock);
	return 0;
}

static bool
is_hex64(const char *s)
{
	size_t	 i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/*
 * The detached side of an install: its own session (porch kills the
 * CGI's process group when the request ends), the lock inherited so
 * nothing else starts until fw-upgrade returns, the result kept for
 * GET /upgrade when the device does not reboot.
 */
static void
install_detached(int lock, bool keep)
{
	const char	*argv[] = { "fw-upgrade", "apply", run_image,
			    keep ? "keep" : "wipe", NULL };
	char		 tool[PATH_MAX], out[FW_OUT_MAX];
	struct fw_check	 c;
	size_t		 len;
	int		 nul, fd, status;
	pid_t		 pid;

	nul = open("/dev/null", O_RDWR);
	if (nul == -1 || dup2(nul, 0) == -1 || dup2(nul, 1) == -1 ||
	    dup2(nul, 2) == -1)
		_exit(1);
	setsid();
	signal(SIGHUP, SIG_IGN);
	if (ui_path(tool, sizeof(tool), FW_UPGRADE) == -1)
		_exit(1);
	fd = open(run_out, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		_exit(1);
	if ((pid = fork()) == 0) {
		dup2(fd, 1);
		exec_tool(tool, argv);
		_exit(127);
	}
	close(fd);
	while (pid > 0 && waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	/* Still here: fw-upgrade did not reboot the device. */
	if (ui_read_abs(run_out, out, sizeof(out), &len) == -1 ||
	    (out[strcspn(out, "\n")] = '\0',
	    parse_fw_check(out, strlen(out), &c)) == -1) {
		memset(&c, 0, sizeof(c));
		snprintf(c.message, sizeof(c.message), "The installation "
		    "failed without a message.");
	}
	if (pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		c.ok = false;
	if (c.ok) {
		/* Installed (and a reboot under way): the RAM back. */
		(void)unlink(run_image);
		(void)unlink(run_info);
	}
	(void)write_fw_file(run_result, &c);
	ui_log("firmware install finished: %s", c.message);
	(void)unlink(run_busy);
	close(lock);
	_exit(0);
}

int
ui_install(struct ui_req *r)
{
	struct json_member		 m[4];
	const struct json_member	*sha, *keep;
	struct fw_check			 c;
	char				 want[80], buf[512];
	struct jw			 j;
	size_t				 n, l;
	int				 st, lock, fd;
	pid_t				 pid;

	if ((st = ui_read_body(r)) != 0 ||
	    json_object(r->body, r->bodylen, m, 4, &n) == -1 || n != 2 ||
	    (sha = json_get(m, n, "sha256")) == NULL ||
	    sha->type != JSON_STRING ||
	    json_unescape(sha->val, sha->vallen, want, sizeof(want), &l) ||
	    !is_hex64(want) || (keep = json_get(m, n, "keep")) == NULL ||
	    (keep->type != JSON_TRUE && keep->type != JSON_FALSE)) {
		ui_error(st ? st : 400,
		    "expected {\"sha256\":\"<64 hex>\",\"keep\":true|false}");
		return -1;
	}
	if (run_paths() != 0 || (lock = lock_take()) == -1) {
		ui_error(500, "The device cannot install now.");
		return -1;
	}
	if (lock == -2) {
		ui_error(409, "Another upload or installation is in progress.");
		return -1;
	}
	if (read_fw_file(run_info, &c) == -1 || !c.ok ||
	    strcmp(c.sha256, want) != 0 || access(run_image, R_OK) != 0) {
		close(lock);
		ui_error(409, "No checked image with this SHA-256 is waiting "
		    "on the device: upload it again.");
		return -1;
	}
	(void)unlink(run_result);
	if ((fd = open(run_busy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) != -1)
		close(fd);
	ui_log("installing firmware %s (sha256 %s), %s settings", c.version,
	    want, keep->type == JSON_TRUE ? "keeping" : "erasing");
	if ((pid = fork()) == -1) {
		(void)unlink(run_busy);
		close(lock);
		ui_error(500, "The device cannot install now.");
		return -1;
	}
	if (pid == 0) {
		/* A grandchild: nothing left for the CGI to wait on. */
		if (fork() == 0)
			install_detached(lock, keep->type == JSON_TRUE);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	close(lock);
	jw_init(&j, buf, sizeof(buf));
	jw_raw(&j, "{\"ok\":true,");
	jw_key(&j, "version");
	jw_cstr(&j, c.version);
	jw_raw(&j, keep->type == JSON_TRUE ? ",\"keep\":true" :
	    ",\"keep\":false");
	jw_raw(&j, ui_is_dev() ? ",\"simulated\":true" : ",\"simulated\":false");
	jw_raw(&j, "}");
	ui_reply(202, buf, jw_len(&j));
	return 0;
}
