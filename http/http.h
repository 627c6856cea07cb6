/*
 * http: pure HTTP/1.1, functions over a caller's bytes: request heads,
 * framing and chunked bodies (http_parse.c), paths (http_path.c), field
 * values (http_value.c), Basic credentials (http_basic.c). No IO, no
 * allocation, no globals, standard headers only, so each builds alone
 * into the unit tests and the fuzzers; nothing of porch's is included.
 *
 * Return convention of the parsers: >0 bytes consumed, HTTP_PARSE_INCOMPLETE
 * when the input ends too early (never an error), HTTP_PARSE_ERROR with
 * *status set to the HTTP status to answer. Outputs are views into the
 * caller's buffer: nothing is copied or NUL-terminated.
 */
#ifndef PORCH_HTTP_H
#define PORCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_PARSE_ERROR	(-1)
#define HTTP_PARSE_INCOMPLETE	(-2)

#define HTTP_CHUNK_LINE_MAX	4096	/* bytes: chunk size + extensions */
#define HTTP_TRAILER_MAX	8192	/* bytes: all trailer fields */
#define HTTP_CHUNK_SIZE_MAX	(UINT64_C(1) << 62)	/* no wrap when summed */
#define HTTP_DATE_LEN		29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */

struct str {
	const char	*p;
	size_t		 len;
};

struct http_field {
	struct str	 name, value;
};

struct http_head {
	struct str		 method, target;
	int			 minor;		/* HTTP/1.<minor>, 0 or 1 */
	struct http_field	*fields;	/* caller's array */
	size_t			 nfields;	/* in: capacity; out: used */
	size_t			 field_max;	/* in: bytes per field line, 0 any */
};

enum http_method {
	METHOD_UNKNOWN,
	METHOD_GET,
	METHOD_HEAD,
	METHOD_POST,
	METHOD_PUT,
	METHOD_DELETE,
	METHOD_OPTIONS,
	METHOD_TRACE,
	METHOD_CONNECT,
	METHOD_PATCH,
};

enum http_body {
	BODY_NONE,
	BODY_LENGTH,
	BODY_CHUNKED,
};

/* What the head says about framing, routing and the connection. */
struct http_framing {
	enum http_method	 method;
	enum http_body		 body;
	uint64_t		 length;	/* BODY_LENGTH: bytes */
	struct str		 host;		/* Host, or the absolute-form's */
	struct str		 path;		/* still percent-encoded */
	struct str		 query;		/* after '?', without it */
	bool			 has_query;
	bool			 asterisk;	/* OPTIONS * */
	bool			 conn_close;	/* Connection: close */
	bool			 conn_keepalive;	/* Connection: keep-alive */
	bool			 expect_continue;
};

/* Incremental chunked-body decoder; all-zero is the start state. */
struct http_chunk_state {
	unsigned		 state;
	uint64_t		 left;		/* data bytes left in this chunk */
	size_t			 line;		/* bytes of the current line */
	size_t			 trailer;	/* bytes of trailer section */
	bool			 done;		/* last chunk and trailers read */
};

/* http_parse.c */
int	 http_parse_head(const char *, size_t, size_t seen, struct http_head *,
	    int *status);
int	 http_head_too_large(const char *, size_t, size_t target_max);
int	 http_parse_framing(const struct http_head *, struct http_framing *,
	    int *status);
int	 http_chunk_parse(struct http_chunk_state *, const char *, size_t,
	    struct str *data, int *status);
enum http_method http_method_lookup(struct str);
const char	*http_method_name(enum http_method);
const struct str *http_field_get(const struct http_head *, const char *);
bool	 http_list_has(struct str list, const char *token);
bool	 str_eq_nocase(struct str, const char *);
bool	 str_eq(struct str, const char *);
int	 parse_uint(const char *, size_t, uint64_t max, uint64_t *out);
#define FMT_UINT_MAX	20	/* digits of UINT64_MAX */
size_t	 fmt_uint(uint64_t, char out[FMT_UINT_MAX]);
bool	 http_is_tchar(unsigned char);
int	 http_hexval(unsigned char);

/* http_path.c */
int	 http_path_decode(struct str raw, char *out, size_t outsize,
	    int *status);
bool	 http_path_has_dotfile(const char *path);
size_t	 http_path_under(const char *path, const char *prefix);
int	 http_path_encode(const char *path, char *out, size_t size);
int	 http_encode_component(const char *, size_t, char *, size_t);

/* http_value.c: field values that handlers interpret */
int	 http_range_parse(struct str, uint64_t size, uint64_t *first,
	    uint64_t *last);
int	 http_date_parse(struct str, int64_t *out);
size_t	 http_date_format(int64_t, char out[HTTP_DATE_LEN + 1]);
bool	 http_etag_match(struct str if_none_match, const char *etag);

/* http_cookie.c */
int	 http_cookie_get(struct str, const char *name, struct str *value);
int	 http_cookie_strip(struct str, const char *name, char *, size_t);

/* http_form.c */
int	 http_form_get(struct str body, const char *key, char *, size_t);
int	 http_json_get(struct str body, const char *key, char *, size_t);
int	 http_json_escape(const char *, size_t, char *, size_t);

/* http_basic.c */
int	 http_basic_decode(struct str, char *user, size_t, char *pass, size_t);

#endif
