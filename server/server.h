/*
 * porch: the server's map. Limits and defaults first (each is a directive
 * in config.c), then the shared types, then a block per .c file.
 *
 * The layers, each including only those below it:
 *	server/		the engine: master and workers, connections (reading
 *			heads and bodies), routing, responses (framing),
 *			static files, auth, status, config, logs, and the
 *			CGI driver (cgi_serve.c, cgi_relay.c), which moves
 *			bytes between the engine's body reader, its response
 *			writer and a script's pipes
 *	cgi/		CGI/1.1 itself: the environment and the script's
 *			header block (pure), starting and stopping scripts
 *	tls/		the mbedTLS binding behind struct io
 *	http/		pure HTTP: parsing, paths, field values, Basic
 *	platform/	the only code that talks to Linux
 * A handler never touches the socket: it reads a body with conn_body_*
 * and answers with resp_*, so a later HTTP/2 layer (one stream, one
 * request) could drive the same routing, auth, files and CGI.
 */
#ifndef PORCH_SERVER_H
#define PORCH_SERVER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "../platform/os.h"
#include "../cgi/cgi.h"
#include "../http/http.h"
#include "../tls/tls.h"

#define PORCH_VERSION		"0.1.0"
#define PORCH_SERVER_NAME	"porch"

/* Defaults for a router: a small pool, short timeouts. */
#define CONF_WORKERS			2
#define CONF_WORKERS_MAX		64
#define CONF_ROOT			"/www"
#define CONF_HEADER_TIMEOUT		10	/* s: whole request head */
#define CONF_KEEPALIVE_TIMEOUT		5	/* s: idle between requests */
#define CONF_KEEPALIVE_REQUESTS		100	/* requests per connection */
#define CONF_IO_TIMEOUT			30	/* s: no progress on body/reply */
#define CONF_LINGER_TIMEOUT		2	/* s: draining after close */
#define CONF_STOP_TIMEOUT		10	/* s: graceful stop deadline */
#define CONF_MAX_REQUESTS_PER_WORKER	0	/* 0: never recycle */
#define CONF_MAX_BODY_SIZE		(1024 * 1024)	/* bytes */
/* RFC 9112 3 recommends request lines of at least 8000 octets: the
 * target may be 8 KiB, with 8 KiB more for the fields. */
#define CONF_MAX_HEAD_SIZE		16384	/* bytes: line + fields */
#define CONF_MAX_HEAD_SIZE_MAX		65536
#define CONF_MAX_TARGET_SIZE		8192	/* bytes: request-target */
#define CONF_MAX_TARGET_SIZE_MAX	CONF_MAX_HEAD_SIZE_MAX
#define CONF_MAX_HEADER_FIELDS		64
#define CONF_MAX_HEADER_FIELDS_MAX	256
#define CONF_MAX_FIELD_SIZE		4096	/* bytes: one field line */
#define CONF_BACKLOG			1024
#define CONF_CACHE_MAX_AGE		0	/* s; 0 sends no-cache */
#define CONF_STATUS_PATH		"/server-status"
#define CONF_PRESSURE_GRACE		5	/* ms: new head under pressure */
#define CONF_PRESSURE_SLICE		3	/* ms: busy connection share */
#define CONF_PRESSURE_IDLE		50	/* ms: next request, if promised */
#define CONF_PRESSURE_IO		20	/* ms: body/reply progress */
#define CONF_PRESSURE_WAIT		40	/* ms: queue drained within */
#define CONN_PROGRESS_MIN	4096	/* bytes that count as progress */

#define CONF_LISTEN_MAX		8
#define CONF_AUTH_MAX		8
#define CONF_CGI_MAX		8
#define CONF_TLS_HANDSHAKE_TIMEOUT	10	/* s */
#define CONF_TLS_TICKET_LIFETIME	86400	/* s; 0 disables tickets */
#define CONF_TLS_HSTS			0	/* s; 0 sends no HSTS */
#define CONF_TLS_HSTS_MAX		63072000	/* s: two years */
#define CONF_PRESSURE_HANDSHAKE		200	/* ms: rest of a handshake */
#define CONF_CGI_TIMEOUT	30	/* s: script silent this long is killed */
#define CONF_CGI_CONTINUE_WAIT	100	/* ms: script may answer before 100 */
#define AUTH_FILE_MAX		8192	/* bytes of a password file */
#define AUTH_NAME_MAX		64	/* bytes of a user name */
#define AUTH_PASS_MAX		256	/* bytes of a password */
#define AUTH_FREE_TRIES		5	/* failures before back-off */
#define AUTH_BACKOFF_MAX	60	/* s: longest back-off */
#define AUTH_FORGET		600	/* s: failures older are forgotten */
#define AUTH_GLOBAL_FAILS	20	/* failures from all clients ... */
#define AUTH_GLOBAL_WINDOW	60	/* s: ... within this, then 429 */
#define SB_AUTHFAIL		64	/* clients (IPv6: /64s) tracked */
#define SB_SESSIONS		64	/* cookie sessions held at once */
#define SESSION_ID_LEN		16	/* bytes: 128 bits from getrandom */
#define SESSION_COOKIE		"porch_session"
#define SESSION_BODY_MAX	4096	/* bytes of a login body */
#define CONF_SESSION_IDLE	900	/* s */
#define CONF_SESSION_LIFETIME	28800	/* s */
#define CONF_SESSION_API	"/api/session"
#define CONF_SESSION_LOGIN	"/"
#define CONF_INDEX_MAX		8
#define CONF_SESSION_MAX	8
#define CONF_BODY_LIMIT_MAX	16
#define CONF_HEADER_MAX		32	/* fits struct resp's mask */
#define CONF_SERVER_NAME_MAX	16
#define CONF_ERROR_PAGE_MAX	16
#define CONF_LISTING_MAX	8
#define CONF_WORDS_MAX		48	/* words on one config line */
#define ERROR_PAGE_MAX		16384	/* bytes of an error page */
#define LISTING_ENTRIES_MAX	1024	/* names in a directory listing */
#define CONF_MIME_MAX		64
#define CONF_STRINGS_MAX	32768	/* bytes of strings per config */
#define CONF_ERRORS_MAX		64	/* reported before giving up */

#define CONN_OUT_SIZE		8192	/* bytes: a response head */
#define CONN_LOCATION_MAX	6144	/* bytes: a Location porch builds */
#define CONN_PATH_MAX		4096	/* bytes: a decoded path */
#define FILE_INLINE_MAX		16384	/* bytes: read+writev, not sendfile */
#define DISCARD_MAX		65536	/* bytes of unwanted body skipped */
#define REQUEST_REDIRECTS_MAX	4	/* CGI local redirects per request */
#define CGI_PIPE_CHUNK		16384	/* bytes moved to or from a script */
#define BACKOFF_MIN_MS		100	/* respawn back-off after a crash */
#define BACKOFF_MAX_MS		5000
#define SB_SLOTS		128	/* scoreboard: old + new generation */
#define SB_LOCK_SPINS		100000	/* tries before going on unlocked */

struct buf {
	char	*start, *pos, *last, *end;
};

struct conf_listen {
	struct os_addr	 addr;
	bool		 tls;
	int		 line;
};

struct conf_mime {
	const char	*ext;
	const char	*type;
};

struct conf_auth {
	const char	*prefix;
	const char	*realm;
	const char	*file;
};

/* session PREFIX PASSWORD_FILE */
struct conf_session {
	const char	*prefix;
	const char	*file;
	uint64_t	 realm;		/* the file's name, hashed */
};

/* body_limit PREFIX BYTES */
struct conf_body_limit {
	const char	*prefix;
	uint64_t	 bytes;
};

/* header PREFIX NAME VALUE... */
struct conf_header {
	const char	*prefix;
	const char	*name;
	const char	*value;
};

/* error_page STATUS FILE: the file's content, read with the config */
struct conf_error_page {
	int		 status;
	char		*body;
	size_t		 len;
};

enum log_target {
	LOGT_OFF,
	LOGT_STDERR,
	LOGT_SYSLOG,
	LOGT_FILE,
};

struct conf {
	const char		*file;		/* where it was read from */
	struct conf_listen	 listen[CONF_LISTEN_MAX];
	size_t			 nlisten;
	const char		*root;
	char			 root_abs[CONN_PATH_MAX];	/* resolved */
	unsigned		 workers;
	const char		*user, *group;
	const char		*cgi_user, *cgi_group;	/* the launcher's */
	bool			 allow_root;
	const char		*index[CONF_INDEX_MAX];
	size_t			 nindex;
	unsigned		 header_timeout;	/* s */
	unsigned		 keepalive_timeout;	/* s */
	unsigned		 keepalive_requests;
	unsigned		 io_timeout;		/* s */
	unsigned		 linger_timeout;	/* s */
	unsigned		 stop_timeout;		/* s */
	unsigned		 max_requests_per_worker;
	uint64_t		 max_body_size;		/* bytes */
	unsigned		 max_head_size;		/* bytes */
	unsigned		 max_target_size;	/* bytes */
	unsigned		 max_header_fields;
	unsigned		 max_field_size;	/* bytes */
	unsigned		 backlog;
	unsigned		 cache_max_age;		/* s */
	unsigned		 pressure_grace;	/* ms */
	unsigned		 pressure_slice;	/* ms */
	unsigned		 pressure_idle;		/* ms */
	unsigned		 pressure_io;		/* ms */
	unsigned		 pressure_wait;		/* ms */
	bool			 gzip_static;
	const char		*cgi[CONF_CGI_MAX];	/* path prefixes */
	size_t			 ncgi;
	const char		*cgi_ext[CONF_CGI_MAX];	/* ".cgi" ... */
	size_t			 ncgi_ext;
	unsigned		 cgi_timeout;		/* s */
	unsigned		 cgi_continue_wait;	/* ms */
	struct conf_auth	 auth[CONF_AUTH_MAX];
	size_t			 nauth;
	const char		*status_path;	/* "off" disables */
	struct conf_session	 session[CONF_SESSION_MAX];
	size_t			 nsession;
	const char		*session_api;
	const char		*session_login;
	unsigned		 session_idle;		/* s */
	unsigned		 session_lifetime;	/* s */
	struct conf_body_limit	 body_limit[CONF_BODY_LIMIT_MAX];
	size_t			 nbody_limit;
	struct conf_header	 header[CONF_HEADER_MAX];
	size_t			 nheader;
	const char		*server_name[CONF_SERVER_NAME_MAX];
	size_t			 nserver_name;
	struct conf_error_page	 error_page[CONF_ERROR_PAGE_MAX];
	size_t			 nerror_page;
	const char		*listing[CONF_LISTING_MAX];
	size_t			 nlisting;
	struct conf_mime	 mime[CONF_MIME_MAX];
	size_t			 nmime;
	const char		*tls_cert;
	const char		*tls_key;
	bool			 tls_autogen;
	bool			 tls_redirect;		/* plain -> https */
	unsigned		 tls_handshake_timeout;	/* s */
	unsigned		 tls_ticket_lifetime;	/* s */
	unsigned		 tls_hsts;		/* s; 0: off */
	unsigned		 pressure_handshake;	/* ms */
	const char		*access_log;	/* path, "syslog" or "off" */
	const char		*error_log;	/* path, "syslog" or "stderr" */
	const char		*pid_file;
	char			 strings[CONF_STRINGS_MAX];
	size_t			 strings_used;
};

/* A request body as conn_body.c reads it: de-chunked, within limits. */
struct body {
	struct http_chunk_state	 cs;
	uint64_t		 left;		/* BODY_LENGTH: still to come */
	uint64_t		 total;		/* bytes handed to the handler */
	uint64_t		 max;		/* more is a 413 */
	int64_t			 deadline_ms;	/* no progress by then: 408 */
	size_t			 progress;	/* bytes since it last moved */
	bool			 continue_sent;	/* 100 Continue */
	bool			 reading;	/* the handler reads on (a CGI) */
	bool			 done;		/* all read, or none to read */
	int			 error;		/* 400, 408, 413; 499 gone */
};

/* How a response's body is delimited (response.c). */
enum resp_framing {
	FRAME_NONE,		/* HEAD, 204, 304: no body */
	FRAME_LENGTH,		/* Content-Length */
	FRAME_CHUNKED,
	FRAME_CLOSE,		/* HTTP/1.0 without a length: the close */
	FRAME_RAW,		/* an nph- script's bytes, head included */
};

/* What a handler did; the connection's fate is in c->closing. */
enum serve {
	SERVE_DONE,		/* answered */
	SERVE_CLOSE,		/* the connection failed: close it */
	SERVE_AGAIN,		/* a local redirect: route r->redirect */
};

/* One request on a connection, from its head to its access-log line. */
struct request {
	struct http_head	 head;
	struct http_framing	 fr;
	size_t			 head_len;	/* bytes of head in the buffer */
	char			 path[CONN_PATH_MAX];
	char			 id[32];	/* unique request id */
	char			 user[AUTH_NAME_MAX];	/* authenticated */
	const char		*auth_type;	/* "Basic", "Cookie" */
	int			 status;
	uint64_t		 body_bytes;	/* response body bytes sent */
	struct body		 body;
	enum resp_framing	 framing;
	uint64_t		 length_left;	/* FRAME_LENGTH */
	bool			 keepalive;	/* connection stays open */
	bool			 head_sent;
	char			 redirect[CONN_PATH_MAX];	/* SERVE_AGAIN */
	unsigned		 redirects;
	int64_t			 started_ms;
	int64_t			 started_wall;
};

struct worker;

struct conn {
	struct worker		*w;
	const struct conf	*conf;
	struct io		 io;
	struct buf		 in;
	struct os_peer		 peer;
	unsigned		 nreq;		/* requests begun here */
	int64_t			 accepted_ms;
	int64_t			 idle_since_ms;
	bool			 closing;	/* no more requests */
	bool			 linger;	/* input may follow: drain on close */
	bool			 eof;		/* client finished sending */
	bool			 pressure_at_accept;
	bool			 tls;
	int64_t			 pressure_checked_ms;
};

/* The scoreboard: one shared mapping; a worker writes only its slot. */
enum sb_state {
	SB_FREE,
	SB_STARTING,
	SB_ACCEPTING,
	SB_READING_HEAD,
	SB_READING_BODY,
	SB_WRITING,
	SB_KEEPALIVE,
	SB_CGI,
	SB_CLOSING,
	SB_STATES
};

struct sb_slot {
	int32_t		 pid;
	uint32_t	 generation;
	uint32_t	 state;		/* enum sb_state */
	uint32_t	 pad;
	int64_t		 started;	/* wall seconds */
	uint64_t	 requests, bytes, connections;
	uint64_t	 status_4xx, status_5xx, log_dropped;
	char		 client[OS_ADDR_TEXT];
};

/* Failed logins per client and in all, in the scoreboard (authfail.c). */
struct authfail_entry {
	char		 key[OS_ADDR_TEXT];	/* os_peer.group */
	uint32_t	 fails;		/* attempts not yet proven right */
	int64_t		 last_ms;	/* monotonic */
};

struct authfail_table {
	uint32_t		 global_fails;	/* in the current window */
	int64_t			 global_start_ms;
	struct authfail_entry	 e[SB_AUTHFAIL];
};

/* A cookie session (session_table.c), in the scoreboard. */
struct session {
	uint8_t		 id[SESSION_ID_LEN];
	uint8_t		 csrf[SESSION_ID_LEN];
	char		 user[AUTH_NAME_MAX];
	uint64_t	 realm;		/* which password file */
	uint64_t	 secret;	/* of the user's hash at login */
	int64_t		 created_ms, last_ms;	/* monotonic */
	bool		 used;
};

struct session_table {
	struct session	 s[SB_SESSIONS];
};

struct scoreboard {
	uint32_t	 generation;	/* current; master writes */
	uint32_t	 stopping;	/* master writes */
	uint32_t	 log_epoch;	/* master bumps on USR1 */
	uint32_t	 nslots;	/* slots in use, for workers' scans */
	int64_t		 started;	/* wall seconds */
	uint64_t	 boot_id;	/* request-id prefix for this run */
	uint32_t	 pad[2];
	uint64_t	 reloads, restarts;
	/* totals carried over from workers that exited; master writes */
	uint64_t	 done_requests, done_bytes, done_connections;
	uint64_t	 done_4xx, done_5xx, done_log_dropped;
	struct sb_slot	 slots[SB_SLOTS];
	/* failed logins, shared by all workers (auth.c, authfail.c) */
	uint32_t		 authfail_lock;
	struct authfail_table	 authfail;
	/* cookie sessions (session.c, session_table.c) */
	uint32_t		 session_lock;
	struct session_table	 sessions;
};

struct tls_server;

struct worker {
	const struct conf	*conf;
	struct tls_server	*tls;		/* NULL without TLS listeners */
	const bool		*listen_tls;	/* per listener */
	struct scoreboard	*sb;
	struct sb_slot		*slot;
	uint32_t		 generation;
	const int		*listen_fds;
	int			 nlisten;
	int			 accept_fd;
	int			 chan;		/* to the master */
	int			 cgi_chan;	/* to the launcher, or -1 */
	int			 rootfd;
	/* buffers, allocated once by worker_buffers */
	char			*inbuf;		/* heads, and bodies behind */
	size_t			 insize;
	char			*out;		/* response head */
	char			*filebuf;	/* small bodies */
	struct http_field	*fields;
	char			*cgi_out;	/* a script's output */
	char			*cgi_body;	/* body bytes for its stdin */
	char			*cgi_env;	/* its environment */
	char			**cgi_envp;
	uint64_t		 served;	/* requests, for recycling */
	uint32_t		 serial;	/* fork serial, for request ids */
	bool			 term;		/* SIGTERM seen: stop */
	bool			 pressure;	/* last answer, and when */
	int64_t			 pressure_ms;
	unsigned		 queued;	/* connections it counted */
	struct io_watch		 watch_io;	/* cuts to pressure_io */
	struct io_watch		 watch_head;	/* cuts to pressure_grace */
	struct io_watch		 watch_handshake; /* to pressure_handshake */
	int			 auth_fd[CONF_AUTH_MAX];	/* opened as root */
	int			 session_fd[CONF_SESSION_MAX];	/* too */
	char			 date[HTTP_DATE_LEN + 1];
	int64_t			 date_sec;
	uint32_t		 log_epoch;
};

/* A directive given on the command line, applied after the file. */
struct conf_override {
	const char	*name;
	const char	*value;
};

/* config.c */
struct conf	*conf_build(const char *path, const struct conf_override *,
		    size_t);
struct conf	*conf_new(void);
void		 conf_free(struct conf *);
int		 conf_load(struct conf *, const char *path);
int		 conf_set(struct conf *, const char *name, const char *value,
		    const char *where);
int		 conf_finish(struct conf *, const char *where);
void		 conf_usage(void);
bool		 conf_has_tls(const struct conf *);
void		 conf_errors_to_log(void);

/* log.c */
void	 log_init(const char *progname, bool foreground);
int	 log_open(const struct conf *, const char **failed);
void	 log_reopen(const struct conf *);
int	 log_send_fds(int chan);
void	 log_close_access(void);
void	 log_take_fds(int chan);
void	 log_set_role(const char *);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 log_access(struct conn *, struct request *);
void	 log_escape(const char *, size_t, char *, size_t);

/* master.c */
int	 master_run(struct conf *, const char *conf_path,
	    const struct conf_override *, size_t, bool daemonize);
int	 master_check_tls(const struct conf *, const char *where);

/* worker.c */
void	 worker_buffers(struct worker *);
void	 worker_run(struct worker *) __attribute__((noreturn));
bool	 worker_should_close(struct worker *);
bool	 worker_pool_pressure(struct worker *);
void	 worker_pool_calm(struct worker *);
void	 worker_watch_init(struct worker *);
int64_t	 worker_pressure_slice(struct worker *);
void	 worker_reap(void);
void	 worker_signals(struct worker *);
void	 worker_check_logs(struct worker *);
const char *worker_date(struct worker *);

/* conn.c */
void	 conn_serve(struct worker *, int fd, const struct os_peer *, bool tls);
int	 conn_read_head(struct conn *, struct request *);
void	 conn_lingering_close(struct conn *);
void	 conn_log(struct conn *, struct request *, int prio, const char *,
	    ...) __attribute__((format(printf, 4, 5)));
int64_t	 conn_io_deadline(struct conn *);

/* conn_body.c: the one reader of request bodies */
void	 conn_body_begin(struct conn *, struct request *, uint64_t max);
bool	 conn_body_ready(struct conn *, struct request *);
ssize_t	 conn_body_read(struct conn *, struct request *, char *, size_t,
	    bool wait);
int	 conn_body_continue(struct conn *, struct request *);
int	 conn_body_discard(struct conn *, struct request *);
const struct io_watch *conn_body_watch(struct conn *, int *fd);

/* request.c */
enum serve request_serve(struct conn *, struct request *);
void	 request_host_name(struct conn *, struct request *, char *, size_t);

/* response.c: the one writer of responses */
struct resp {
	char			*p, *start, *end;
	bool			 overflow;
	const struct conf	*conf;
	uint32_t		 configured;	/* header directives to write */
};
const char	*resp_reason(int);
void	 resp_begin(struct resp *, struct conn *, struct request *, int);
void	 resp_header(struct resp *, const char *, const char *);
void	 resp_header_str(struct resp *, struct str, struct str);
void	 resp_header_uint(struct resp *, const char *, uint64_t);
void	 resp_header_default(struct resp *, const char *, const char *);
int	 resp_finish(struct resp *, struct conn *, struct request *);
enum serve resp_send(struct conn *, struct request *, struct resp *,
	    const void *body, size_t len);
enum serve resp_stream_begin(struct resp *, struct conn *, struct request *,
	    bool has_length, uint64_t length);
enum serve resp_stream_write(struct conn *, struct request *, const void *,
	    size_t);
enum serve resp_stream_end(struct conn *, struct request *);
enum serve resp_sendfile(struct conn *, struct request *, int fd,
	    uint64_t off, uint64_t len);
enum serve resp_raw_write(struct conn *, struct request *, const void *,
	    size_t);
int	 resp_continue(struct conn *, struct request *);
enum serve resp_error(struct conn *, struct request *, int status);
enum serve resp_simple(struct conn *, struct request *, int status,
	    const char *extra_name, const char *extra_value);

/* authfail.c: pure; callers hold the scoreboard's authfail_lock */
unsigned authfail_begin(struct authfail_table *, const char *key,
	    int64_t now_ms);
void	 authfail_end(struct authfail_table *, const char *key, bool ok);

/* session_table.c: pure; callers hold the scoreboard's session_lock */
struct session *session_find(struct session_table *, const uint8_t *id,
	    int64_t now, int64_t idle_ms, int64_t life_ms, bool *expired);
struct session *session_add(struct session_table *, const uint8_t *id,
	    const uint8_t *csrf, const char *user, uint64_t realm,
	    uint64_t secret, int64_t now);
void	 session_drop(struct session *);
bool	 session_csrf_ok(const struct session *, const uint8_t *token);

/* passwd.c: pure */
const char *passwd_hash_refused(const char *hash, size_t len);
int	 passwd_check(const char *, void (*)(int, struct str, const char *,
	    void *), void *);
bool	 passwd_lookup(const char *, const char *user, char *, size_t);
bool	 passwd_decoy(const char *, char *, size_t);

/* auth.c */
struct auth_verdict {
	const char	*realm;		/* of the 401 challenge */
	unsigned	 retry_after;	/* s, of a 429 */
};
int	 auth_check(struct conn *, struct request *, struct auth_verdict *);
int	 auth_password(struct conn *, struct request *, const char *data,
	    const char *user, const char *pass, unsigned *wait);
const char *auth_file_load(const char *path, int fd);

/* session.c */
struct session_verdict {
	const char	*error;		/* "login required", "csrf", ... */
	bool		 navigate;	/* a page: redirect to the login */
};
bool	 session_api_matches(struct conn *, struct request *);
enum serve session_api(struct conn *, struct request *);
int	 session_check(struct conn *, struct request *,
	    struct session_verdict *);
enum serve session_refused(struct conn *, struct request *, int status,
	    const struct session_verdict *);

/* status.c */
bool	 status_matches(struct conn *, struct request *);
enum serve status_serve(struct conn *, struct request *);

/* cgi_serve.c: which requests run a script, and which script */
bool	 cgi_matches(const struct conf *, const char *path);
enum serve cgi_serve(struct conn *, struct request *);

/* cgi_relay.c: a script's run, its body in and its output out */
enum serve cgi_relay(struct conn *, struct request *, const char *script,
	    int fd, int dir, char **envp, bool nph);

/* file.c */
enum serve file_serve(struct conn *, struct request *);
int	 file_open_status(int err);

/* listing.c */
bool	 listing_applies(const struct conf *, const char *path);
enum serve listing_serve(struct conn *, struct request *, int dirfd);

/* mime.c */
const char	*mime_type(const struct conf *, const char *path);
bool		 mime_compressible(const char *type);

/* scoreboard.c */
struct scoreboard *sb_create(void);
void	 sb_slot_take(struct scoreboard *, int, uint32_t generation);
void	 sb_slot_release(struct scoreboard *, int);
void	 sb_set_state(struct sb_slot *, enum sb_state);
bool	 sb_slot_started(const struct scoreboard *, int slot);
void	 sb_count_response(struct sb_slot *, int status, uint64_t bytes);
unsigned sb_idle_workers(const struct scoreboard *);
void	 sb_request_id(const struct scoreboard *, uint32_t serial, uint64_t,
	    char *, size_t);
bool	 sb_lock(uint32_t *);
void	 sb_unlock(uint32_t *, bool locked);

#endif
