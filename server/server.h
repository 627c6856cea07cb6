/*
 * porch: the server's map. Limits and defaults first (each is a directive
 * in config.c), then the shared types, then a block per .c file.
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
#include "../tls/tls.h"
#include "http_parse.h"

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
#define CONF_MAX_HEAD_SIZE		8192	/* bytes: line + fields */
#define CONF_MAX_HEAD_SIZE_MAX		65536
#define CONF_MAX_TARGET_SIZE		4096	/* bytes: request-target */
#define CONF_MAX_TARGET_SIZE_MAX	CONN_PATH_MAX
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
#define AUTH_FREE_TRIES		5	/* failures before back-off */
#define AUTH_BACKOFF_MAX	60	/* s: longest back-off */
#define AUTH_FORGET		600	/* s: failures older are forgotten */
#define SB_AUTHFAIL		64	/* client addresses tracked */
#define CONF_INDEX_MAX		8
#define CONF_MIME_MAX		64
#define CONF_STRINGS_MAX	16384	/* bytes of strings per config */
#define CONF_ERRORS_MAX		64	/* reported before giving up */

#define CONN_OUT_SIZE		4096	/* bytes: a response head */
#define CONN_PATH_MAX		4096	/* bytes: a decoded path */
#define FILE_INLINE_MAX		16384	/* bytes: read+writev, not sendfile */
#define DISCARD_MAX		65536	/* bytes of unwanted body skipped */
#define BACKOFF_MIN_MS		100	/* respawn back-off after a crash */
#define BACKOFF_MAX_MS		5000
#define SB_SLOTS		128	/* scoreboard: old + new generation */

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

/* One request on a connection, from its head to its access-log line. */
struct request {
	struct http_head	 head;
	struct http_framing	 fr;
	size_t			 head_len;	/* bytes of head in the buffer */
	char			 path[CONN_PATH_MAX];
	char			 id[32];	/* unique request id */
	char			 user[AUTH_NAME_MAX];	/* authenticated */
	int			 status;
	uint64_t		 body_bytes;	/* response body bytes sent */
	bool			 keepalive;	/* connection stays open */
	bool			 body_unread;	/* request body left on wire */
	bool			 head_sent;
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

struct scoreboard {
	uint32_t	 generation;	/* current; master writes */
	uint32_t	 stopping;	/* master writes */
	uint32_t	 log_epoch;	/* master bumps on USR1 */
	uint32_t	 nslots;	/* high-water mark of used slots */
	int64_t		 started;	/* wall seconds */
	uint64_t	 boot_id;	/* request-id prefix for this run */
	uint32_t	 forks;		/* worker serials handed out */
	uint32_t	 pad;
	uint64_t	 reloads, restarts;
	/* totals carried over from workers that exited; master writes */
	uint64_t	 done_requests, done_bytes, done_connections;
	uint64_t	 done_4xx, done_5xx, done_log_dropped;
	struct sb_slot	 slots[SB_SLOTS];
	/* failed logins per client, shared by all workers (auth.c) */
	uint32_t	 authfail_lock;
	struct sb_authfail {
		char		 addr[OS_ADDR_TEXT];
		uint32_t	 fails;
		int64_t		 last_ms;	/* monotonic */
	}		 authfail[SB_AUTHFAIL];
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
	int			 rootfd;
	char			*inbuf;
	size_t			 insize;
	char			*out;		/* response head */
	char			*filebuf;	/* small bodies */
	struct http_field	*fields;
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
int	 log_open(const struct conf *);
void	 log_reopen(const struct conf *);
void	 log_set_role(const char *);
void	 log_set_owner(unsigned uid, unsigned gid);
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 log_access(struct conn *, struct request *);

/* master.c */
int	 master_run(struct conf *, const char *conf_path,
	    const struct conf_override *, size_t, bool daemonize);
int	 master_check_tls(const struct conf *, const char *where);

/* worker.c */
void	 worker_run(struct worker *) __attribute__((noreturn));
bool	 worker_should_close(struct worker *);
bool	 worker_pool_pressure(struct worker *);
void	 worker_watch_init(struct worker *);
int64_t	 worker_pressure_slice(struct worker *);
void	 worker_reap(void);
void	 worker_signals(struct worker *);
void	 worker_check_logs(struct worker *);
const char *worker_date(struct worker *);

/* conn.c */
void	 conn_serve(struct worker *, int fd, const struct os_peer *, bool tls);
int	 conn_read_head(struct conn *, struct request *);
ssize_t	 conn_read_body(struct conn *, char *, size_t, int64_t deadline_ms);
int	 conn_discard_body(struct conn *, struct request *);
void	 conn_lingering_close(struct conn *);
void	 conn_log(struct conn *, struct request *, int prio, const char *,
	    ...) __attribute__((format(printf, 4, 5)));
int64_t	 conn_io_deadline(struct conn *);

/* http_request.c */
int	 request_serve(struct conn *, struct request *);
void	 request_host_name(struct conn *, struct request *, char *, size_t);

/* http_response.c */
struct resp {
	char	*p, *start, *end;
	bool	 overflow;
};
const char	*response_reason(int);
void	 resp_begin(struct resp *, struct conn *, struct request *, int);
void	 resp_header(struct resp *, const char *, const char *);
void	 resp_header_uint(struct resp *, const char *, uint64_t);
void	 resp_raw(struct resp *, const char *, size_t);
int	 resp_finish(struct resp *, struct conn *, struct request *);
int	 resp_send(struct conn *, struct request *, struct resp *,
	    const void *body, size_t len);
int	 response_error(struct conn *, struct request *, int status);
int	 response_simple(struct conn *, struct request *, int status,
	    const char *extra_name, const char *extra_value);

/* auth.c */
int	 auth_check(struct conn *, struct request *);

/* status.c */
bool	 status_matches(struct conn *, struct request *);
int	 status_serve(struct conn *, struct request *);

/* cgi_route.c, cgi_relay.c (in cgi/) */
bool	 cgi_matches(const struct conf *, const char *path);
int	 cgi_serve(struct conn *, struct request *);
int	 cgi_relay(struct conn *, struct request *, const char *script,
	    char **envp, bool nph);

/* file.c */
int	 file_serve(struct conn *, struct request *);
int	 file_open_status(int err);

/* mime.c */
const char	*mime_type(const struct conf *, const char *path);
bool		 mime_compressible(const char *type);

/* scoreboard.c */
struct scoreboard *sb_create(void);
int	 sb_slot_take(struct scoreboard *, uint32_t generation);
void	 sb_slot_release(struct scoreboard *, int);
void	 sb_set_state(struct sb_slot *, enum sb_state);
void	 sb_count_response(struct sb_slot *, int status, uint64_t bytes);
unsigned sb_idle_workers(const struct scoreboard *);
void	 sb_request_id(const struct scoreboard *, uint32_t serial, uint64_t,
	    char *, size_t);
int	 sb_slot_of_pid(const struct scoreboard *, int32_t pid);

#endif
