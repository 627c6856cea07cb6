/*
 * CGI/1.1 (RFC 3875) itself, below the engine: the environment a script
 * gets and the header block it writes (cgi_env.c, cgi_header.c: pure,
 * unit-tested and fuzzed alone), and starting and stopping a script
 * (cgi_spawn.c: platform only). Which requests run a script and the
 * moving of bytes to and from it are the engine's (server/cgi_serve.c,
 * server/cgi_relay.c). Includes http/ and platform/ only.
 */
#ifndef PORCH_CGI_H
#define PORCH_CGI_H

#include "../platform/os.h"
#include "../http/http.h"

#define CGI_ENV_SIZE		32768	/* bytes: URI and query, 8 KiB each */
#define CGI_ENV_VARS		128	/* variables, NULL included */
#define CGI_HEADER_MAX		8192	/* bytes of a CGI's header block */
#define CGI_COOKIE_MAX		4096	/* bytes of the Cookie passed on */
#define CGI_HEADER_FIELDS	32	/* fields passed through */
#define CGI_PATH		"/usr/sbin:/usr/bin:/sbin:/bin"

/* What the environment is built from: the request and the script. */
struct cgi_env_input {
	const struct http_head	*head;
	const char		*method;
	const char		*script_name;	/* URL path of the script */
	const char		*path_info;	/* "" when none */
	const char		*script_filename;
	const char		*document_root;
	struct str		 query;
	const char		*remote_addr;
	unsigned		 remote_port;
	const char		*server_name;	/* Host without port */
	const char		*server_addr;
	unsigned		 server_port;
	const char		*server_software;
	bool			 https;
	const char		*remote_user;	/* NULL unless authenticated */
	const char		*auth_type;	/* "Basic", "Cookie" */
	const char		*hide_cookie;	/* a cookie the script must not
						 * see (the session's), or NULL */
	const char		*request_id;
	bool			 has_body;
	bool			 length_known;	/* not chunked */
	uint64_t		 content_length;
};

/* A parsed CGI header block (RFC 3875 6.2). */
struct cgi_header {
	int			 status;	/* 0: none given */
	struct str		 content_type;
	struct str		 location;
	bool			 has_length;
	uint64_t		 content_length;
	struct http_field	*fields;	/* passed-through fields */
	size_t			 nfields;	/* in: capacity; out: used */
};

/* cgi_env.c */
int	 cgi_env_build(const struct cgi_env_input *, char *buf, size_t size,
	    char **envp, size_t nenv, int *status);
bool	 cgi_field_is_hop(const struct http_head *, struct str name);

/* cgi_header.c */
int	 cgi_header_parse(const char *, size_t, struct cgi_header *,
	    int *status);

/* cgi_spawn.c */
struct cgi_proc {
	pid_t		 pid;		/* also the process group */
	int		 in;		/* its stdin (ours to write), or -1 */
	int		 out;		/* its stdout */
	int		 err;		/* its stderr */
	int		 chan;		/* the launcher's, or -1: our child */
	bool		 exited;	/* the launcher said so */
};
int	 cgi_spawn(int chan, const char *path, int fd, int dir, char **envp,
	    bool with_stdin, struct cgi_proc *);
bool	 cgi_running(struct cgi_proc *);
void	 cgi_kill(struct cgi_proc *, int64_t grace_ms);
void	 cgi_close(struct cgi_proc *);

/* cgi_launch.c */
void	 cgi_launch_serve(int master_chan) __attribute__((noreturn));
int	 cgi_launch_add(int master_chan, int worker_chan);

#endif
