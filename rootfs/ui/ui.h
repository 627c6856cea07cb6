/*
 * The admin UI's CGI program (rootfs/ui/README.md): one static binary,
 * /cgi-bin/ui, whose PATH_INFO names the action. This header is the map.
 *
 * Pure parts (no IO, no globals; unit-tested in tests/ui/ and safe to
 * fuzz): the JSON writer and reader (ui_json.c), SHA-256 (ui_sha256.c),
 * the validators and the parsers of /proc, password files and porch's
 * status answer (ui_parse.c). Everything that touches the system is in
 * ui_sys.c and the action files.
 */
#ifndef PORCH_UI_H
#define PORCH_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../http/http.h"

/* --- ui_json.c: writing ---------------------------------------------- */

struct jw {
	char	*start, *p, *end;
	bool	 overflow;		/* something did not fit: discard */
};

void	 jw_init(struct jw *, char *buf, size_t size);
void	 jw_raw(struct jw *, const char *s);
/* A JSON string: quotes added; ", \, controls, <, >, & and invalid UTF-8
 * (as U+FFFD) escaped, so device text is inert in any context. */
void	 jw_str(struct jw *, const char *s, size_t len);
void	 jw_cstr(struct jw *, const char *s);
void	 jw_uint(struct jw *, uint64_t);
/* "key": */
void	 jw_key(struct jw *, const char *key);
/* ,"key":"text" and ,"key":N: a member after an object's first. */
void	 jw_next_str(struct jw *, const char *key, const char *);
void	 jw_next_uint(struct jw *, const char *key, uint64_t);
size_t	 jw_len(const struct jw *);

/* --- ui_json.c: reading ---------------------------------------------- */

enum json_type {
	JSON_STRING = 1, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL,
	JSON_OBJECT, JSON_ARRAY
};

struct json_member {
	const char	*key;		/* raw, between the quotes */
	size_t		 keylen;
	enum json_type	 type;
	const char	*val;		/* string: raw, between the quotes;
					 * others: the value's text */
	size_t		 vallen;
};

#define JSON_DEPTH_MAX	16	/* nesting skipped inside a member */

/*
 * One JSON object (RFC 8259), members in order into out[0..max). Nested
 * values are checked and returned whole. Duplicate keys, trailing bytes
 * other than whitespace, and invalid UTF-8 in strings are rejected.
 * 0 and *n set; -1 malformed or more than max members.
 */
int	 json_object(const char *buf, size_t len, struct json_member *out,
	    size_t max, size_t *n);
/* The member called key, or NULL. */
const struct json_member *json_get(const struct json_member *, size_t n,
	    const char *key);
/* Decodes a string member's raw text into out (NUL-terminated). Rejects
 * escaped NUL and lone surrogates. 0, or -1 (bad, or over outsize - 1). */
int	 json_unescape(const char *raw, size_t len, char *out, size_t outsize,
	    size_t *outlen);
/* A number member that is a plain non-negative integer up to max. */
int	 json_uint(const struct json_member *, uint64_t max, uint64_t *out);

/* --- ui_sha256.c ------------------------------------------------------ */

struct sha256 {
	uint32_t	 h[8];
	uint64_t	 len;		/* bytes hashed */
	unsigned char	 buf[64];
	size_t		 nbuf;
};

void	 sha256_init(struct sha256 *);
void	 sha256_update(struct sha256 *, const void *, size_t);
void	 sha256_final(struct sha256 *, unsigned char out[32]);
void	 sha256_hex(const unsigned char in[32], char out[65]);

/* --- ui_parse.c (pure) ------------------------------------------------ */

#define UI_HOSTNAME_MAX		63	/* bytes; also one label's limit */
#define UI_PASSWORD_MIN		8	/* characters (NIST SP 800-63B) */
#define UI_PASSWORD_MAX		128	/* bytes */

/* RFC 1123 2.1 host name: labels of letters, digits and '-', not
 * starting or ending with '-', 1-63 bytes each, dot-separated, at most
 * UI_HOSTNAME_MAX in all, and not all-numeric at the end (no name that
 * reads as an IPv4 address). */
bool	 ui_hostname_valid(const char *, size_t);
/* NULL when acceptable as a new password, else why not (for the user). */
const char *ui_password_problem(const char *pw, size_t len);

/* 0 and *out on success; -1 on malformed input. */
/* /proc/uptime: whole seconds. */
int	 parse_uptime(const char *, size_t, uint64_t *secs);
/* /proc/loadavg: the three averages as text ("0.15"), checked to be
 * decimal numbers, into out[3][16]. */
int	 parse_loadavg(const char *, size_t, char out[3][16]);
/* /proc/meminfo: MemTotal and MemAvailable in kB (MemFree when the
 * kernel predates MemAvailable). */
int	 parse_meminfo(const char *, size_t, uint64_t *total,
	    uint64_t *avail);

struct netdev {
	char		 name[16];
	uint64_t	 rx, tx;		/* bytes */
};
/* /proc/net/dev: up to max interfaces in file order. 0 and *n, or -1. */
int	 parse_netdev(const char *, size_t, struct netdev *, size_t max,
	    size_t *n);

/* Password file (user:hash lines): the hash of user, or -1. */
int	 passwd_lookup(const char *buf, size_t len, const char *user,
	    const char **hash, size_t *hashlen);
/* The file with user's hash replaced by hash, into out. Other lines are
 * kept as they are. Returns the length, or -1 (no such user, no room). */
long	 passwd_replace(const char *buf, size_t len, const char *user,
	    const char *hash, char *out, size_t outsize);

/* An HTTP/1.x response: 0 and its body when the status is 200, else -1. */
int	 http_body_200(const char *, size_t, const char **body,
	    size_t *bodylen);

/* porch's /server-status JSON, the counters the dashboard shows. */
struct porch_status {
	char		 server[48];
	uint64_t	 uptime, requests, connections, bytes, s4xx, s5xx;
	uint64_t	 workers, idle, reloads, restarts;
};
int	 parse_porch_status(const char *, size_t, struct porch_status *);

/* A firmware check's answer (fw-upgrade check|apply prints one JSON
 * object): the fields the UI passes on, each checked. */
struct fw_check {
	bool		 ok;
	char		 message[256];
	char		 version[65];
	char		 arch[16];
	char		 sha256[65];
	uint64_t	 size;
};
int	 parse_fw_check(const char *, size_t, struct fw_check *);

/* --- ui_sys.c and the actions ------------------------------------------ */

#define UI_BODY_MAX		4096	/* bytes: a form (porch-ui.conf says 16k) */
#define UI_UPLOAD_MAX		(32ULL << 20)	/* bytes: porch-ui.conf's body_limit */
#define UI_UPLOAD_RESERVE	(1ULL << 20)	/* bytes left free in /tmp */
#define UI_STATUS_MAX		2000	/* bytes: the dashboard's JSON */
#define UI_STATUS_TIMEOUT_MS	250	/* asking porch for its counters */

struct ui_req {
	const char	*method;
	const char	*user;		/* REMOTE_USER */
	bool		 session;	/* AUTH_TYPE=Cookie: porch checked CSRF */
	char		 body[UI_BODY_MAX + 1];
	size_t		 bodylen;
};

/* Paths below the system root: "/" on the device; under make run the
 * throw-away state directory (the document root's parent). */
extern char	 ui_root[];
int	 ui_root_init(void);
int	 ui_path(char *out, size_t size, const char *rel);
bool	 ui_is_dev(void);

int	 ui_read_file(const char *rel, char *buf, size_t size, size_t *len);
/* An absolute path, outside the system root (/proc is the machine's). */
int	 ui_read_abs(const char *path, char *buf, size_t size, size_t *len);
/* Replaces rel whole (temporary file, fsync, rename; a symlink at rel is
 * followed to the file it names, so /etc/hostname may point into a
 * directory of the UI's user). */
int	 ui_write_file(const char *rel, const char *data, size_t len,
	    unsigned mode);
/* The system log: syslog on the device, the state's messages file under
 * make run. */
void	 ui_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* /tmp/porch-ui (the device's RAM), made 0700 and checked to be ours. */
int	 ui_run_dir(char *out, size_t size, const char *name);
int	 ui_random(void *, size_t);

/* One JSON answer: "Status", no caching, the body. */
void	 ui_reply(int status, const char *json, size_t len);
void	 ui_error(int status, const char *message);
/* Reads the form body (JSON, at most UI_BODY_MAX): 0, or the status. */
int	 ui_read_body(struct ui_req *);

int	 ui_status(struct ui_req *);
int	 ui_hostname(struct ui_req *);
int	 ui_password(struct ui_req *);
int	 ui_upgrade_get(struct ui_req *);
int	 ui_upgrade_post(struct ui_req *);
int	 ui_install(struct ui_req *);

bool	 ui_must_change(void);

#endif
