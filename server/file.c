/*
 * Static files: opened strictly beneath the document root, index files,
 * directory redirects, conditional requests, one byte range, precompressed
 * .gz siblings. Small bodies leave with their head in one writev; larger
 * ones go by sendfile after it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

#define FILE_ETAG_MAX	64
#define FILE_CACHE_SLOTS	8	/* open files a worker keeps */
#define FILE_CACHE_PATH		256	/* bytes: longer paths are not kept */

/*
 * Hot files stay open between requests: a lookup found here costs no
 * open, fstat or close. An entry (a miss too: fd -1) is trusted for the
 * wall-clock second it was checked in, then the path is opened again and
 * compared, so a replaced file is served within a second.
 */
static struct file_cache {
	char		 rel[FILE_CACHE_PATH];
	int		 fd;		/* -1: the file does not exist */
	int		 err;
	struct os_stat	 st;
	int64_t		 checked;	/* wall seconds */
	uint64_t	 used;
} fcache[FILE_CACHE_SLOTS];
static uint64_t		 fcache_clock;

struct file {
	int		 fd;
	bool		 cached;	/* fd belongs to the cache */
	struct os_stat	 st;
	const char	*type;
	bool		 gzip;		/* serving the .gz sibling */
	bool		 vary;
	char		 etag[FILE_ETAG_MAX];
	char		 mtime[HTTP_DATE_LEN + 1];
};

static bool
same_file(const struct os_stat *a, const struct os_stat *b)
{
	return a->ino == b->ino && a->size == b->size &&
	    a->mtime == b->mtime && a->mtime_ns == b->mtime_ns;
}

static struct file_cache *
fcache_slot(const char *rel)
{
	struct file_cache	*e, *victim = &fcache[0];

	for (e = fcache; e < fcache + FILE_CACHE_SLOTS; e++) {
		if (e->rel[0] != '\0' && strcmp(e->rel, rel) == 0)
			return e;
		if (e->used < victim->used)
			victim = e;
	}
	if (victim->rel[0] != '\0' && victim->fd != -1)
		os_close(victim->fd);
	memset(victim, 0, sizeof(*victim));
	victim->fd = -1;
	snprintf(victim->rel, sizeof(victim->rel), "%s", rel);
	return victim;
}

/*
 * Opens rel beneath the root, through the cache for regular files (and
 * for misses). 0 with *fd (owned by the cache when *cached) or -1/errno.
 */
static int
file_open(struct conn *c, const char *rel, int *fd, struct os_stat *st,
    bool *cached)
{
	struct file_cache	*e;
	struct os_stat		 nst;
	int64_t			 now = os_wall_time();
	int			 nfd, rc;

	*cached = false;
	if (strlen(rel) >= FILE_CACHE_PATH)
		return os_open_beneath(c->w->rootfd, rel, fd, st);
	e = fcache_slot(rel);
	e->used = ++fcache_clock;
	if (e->checked != now) {
		rc = os_open_beneath(c->w->rootfd, rel, &nfd, &nst);
		e->checked = now;
		if (rc == -1) {
			if (e->fd != -1)
				os_close(e->fd);
			e->fd = -1;
			e->err = errno;
			/* Only "not there" is remembered; EMFILE and the like
			 * must be tried again by the next request. */
			if (errno != ENOENT && errno != ENOTDIR) {
				e->rel[0] = '\0';
				e->checked = 0;
				return -1;
			}
		} else if (e->fd != -1 && same_file(&nst, &e->st))
			os_close(nfd);
		else {
			if (e->fd != -1)
				os_close(e->fd);
			e->fd = nfd;
			e->st = nst;
		}
		if (e->fd != -1 && !e->st.is_reg) {	/* directories: not kept */
			*fd = e->fd;
			*st = e->st;
			e->fd = -1;
			e->err = 0;
			e->rel[0] = '\0';
			return 0;
		}
	}
	if (e->fd == -1) {
		errno = e->err ? e->err : ENOENT;
		return -1;
	}
	*fd = e->fd;
	*st = e->st;
	*cached = true;
	return 0;
}

static void
file_close(struct file *f)
{
	if (f->fd != -1 && !f->cached)
		os_close(f->fd);
	f->fd = -1;
	f->cached = false;
}

/* The status for a failed open of a request's path. */
int
file_open_status(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return 403;
	case ENAMETOOLONG:
		return 414;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return 503;
	default:	/* ENOENT, ENOTDIR, ELOOP, EXDEV (escape attempt), ... */
		return 404;
	}
}

/* RFC 9110 12.5.3: gzip (or *) listed, and not with q=0. */
static bool
accepts_gzip(const struct str *v)
{
	const char	*p, *end, *semi, *comma;
	struct str	 name, q;

	if (v == NULL)
		return false;
	for (p = v->p, end = v->p + v->len; p < end; p = comma + 1) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		semi = memchr(p, ';', (size_t)(comma - p));
		name.p = p;
		name.len = (size_t)((semi ? semi : comma) - p);
		while (name.len > 0 && (name.p[name.len - 1] == ' ' ||
		    name.p[name.len - 1] == '\t'))
			name.len--;
		if (!str_eq_nocase(name, "gzip") && !str_eq_nocase(name, "*"))
			continue;
		if (semi == NULL)
			return true;
		q.p = semi + 1;
		q.len = (size_t)(comma - q.p);
		while (q.len > 0 && (*q.p == ' ' || *q.p == '\t')) {
			q.p++;
			q.len--;
		}
		/* q=0, q=0.0, q=0.00, q=0.000 refuse it */
		if (q.len >= 3 && (q.p[0] == 'q' || q.p[0] == 'Q') &&
		    q.p[1] == '=' && q.p[2] == '0' &&
		    strspn(q.p + 3, ".0") >= q.len - 3)
			return false;
		return true;
	}
	return false;
}

/* Prefers the precompressed sibling when the client takes gzip. */
static void
file_try_gzip(struct conn *c, struct request *r, const char *rel,
    struct file *f)
{
	char		 gz[CONN_PATH_MAX + 8];
	struct os_stat	 st;
	size_t		 n;
	bool		 cached;
	int		 fd;

	if (!c->conf->gzip_static || !mime_compressible(f->type))
		return;
	f->vary = true;
	if (!accepts_gzip(http_field_get(&r->head, "Accept-Encoding")))
		return;
	if ((n = strlen(rel)) + sizeof(".gz") > sizeof(gz))
		return;
	memcpy(gz, rel, n);
	memcpy(gz + n, ".gz", sizeof(".gz"));
	if (file_open(c, gz, &fd, &st, &cached) == -1)
		return;
	if (!st.is_reg) {
		if (!cached)
			os_close(fd);
		return;
	}
	file_close(f);
	f->fd = fd;
	f->cached = cached;
	f->st = st;
	f->gzip = true;
}

/* v in lower-case hex at p; returns the end. p has room for 16 digits. */
static char *
file_hex(char *p, uint64_t v)
{
	char	 digits[16];
	int	 n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* ETag "MTIME-SIZE" in hex, "-gz" for the sibling: on every response,
 * so no printf. */
static void
file_validators(struct file *f)
{
	char	*p = f->etag;

	_Static_assert(FILE_ETAG_MAX >= 2 * 16 + 7, "etag room");
	*p++ = '"';
	p = file_hex(p, (uint64_t)f->st.mtime);
	*p++ = '-';
	p = file_hex(p, f->st.size);
	if (f->gzip) {
		memcpy(p, "-gz", 3);
		p += 3;
	}
	*p++ = '"';
	*p = '\0';
	http_date_format(f->st.mtime, f->mtime);
}

/* RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since. */
static bool
file_not_modified(struct request *r, struct file *f)
{
	const struct str	*v;
	int64_t			 t;

	if ((v = http_field_get(&r->head, "If-None-Match")) != NULL)
		return http_etag_match(*v, f->etag);
	if ((v = http_field_get(&r->head, "If-Modified-Since")) != NULL &&
	    http_date_parse(*v, &t) == 0)
		return f->st.mtime <= t;
	return false;
}

/* RFC 9110 13.1.5: a Range applies only while If-Range still matches. */
static bool
file_range_applies(struct request *r, struct file *f)
{
	const struct str	*v;
	int64_t			 t;

	if ((v = http_field_get(&r->head, "If-Range")) == NULL)
		return true;
	if (v->len > 0 && v->p[0] == '"')
		return str_eq(*v, f->etag);
	return http_date_parse(*v, &t) == 0 && t == f->st.mtime;
}

static void
file_common_headers(struct conn *c, struct resp *o, struct file *f)
{
	char	 cc[32];

	resp_header(o, "ETag", f->etag);
	resp_header(o, "Last-Modified", f->mtime);
	if (c->conf->cache_max_age == 0)
		resp_header_default(o, "Cache-Control", "no-cache");
	else {
		snprintf(cc, sizeof(cc), "max-age=%u", c->conf->cache_max_age);
		resp_header_default(o, "Cache-Control", cc);
	}
	if (f->vary)
		resp_header(o, "Vary", "Accept-Encoding");
}

/* Reads len bytes at off fully; -1 if the file changed under us. */
static int
file_read_all(int fd, char *dst, size_t len, uint64_t off)
{
	ssize_t	 n;

	while (len > 0) {
		n = os_pread(fd, dst, len, (off_t)off);
		if (n <= 0)
			return -1;
		dst += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static enum serve
file_send_body(struct conn *c, struct request *r, struct resp *o,
    struct file *f, uint64_t first, uint64_t len)
{
	if (r->fr.method == METHOD_HEAD || len <= FILE_INLINE_MAX) {
		if (r->fr.method != METHOD_HEAD &&
		    file_read_all(f->fd, c->w->filebuf, (size_t)len, first) == -1)
			return resp_error(c, r, 500);
		return resp_send(c, r, o, c->w->filebuf, (size_t)len);
	}
	if (resp_send(c, r, o, NULL, 0) != SERVE_DONE)	/* the head */
		return SERVE_CLOSE;
	return resp_sendfile(c, r, f->fd, first, len);
}

static enum serve
file_send(struct conn *c, struct request *r, struct file *f)
{
	struct resp	 o;
	const struct str *range;
	uint64_t	 first = 0, last = 0, size = f->st.size;
	char		 cr[80];
	int		 rc = -1;

	file_validators(f);
	if (file_not_modified(r, f)) {
		resp_begin(&o, c, r, 304);
		file_common_headers(c, &o, f);
		return resp_send(c, r, &o, NULL, 0);
	}
	range = r->fr.method == METHOD_GET ?
	    http_field_get(&r->head, "Range") : NULL;
	if (range != NULL && file_range_applies(r, f))
		rc = http_range_parse(*range, size, &first, &last);
	if (rc == 416) {
		snprintf(cr, sizeof(cr), "bytes */%llu",
		    (unsigned long long)size);
		return resp_simple(c, r, 416, "Content-Range", cr);
	}
	resp_begin(&o, c, r, rc == 0 ? 206 : 200);
	resp_header(&o, "Content-Type", f->type);
	if (f->gzip)
		resp_header(&o, "Content-Encoding", "gzip");
	file_common_headers(c, &o, f);
	resp_header(&o, "Accept-Ranges", "bytes");
	if (rc == 0) {
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)size);
		resp_header(&o, "Content-Range", cr);
		size = last - first + 1;
	} else
		first = 0;
	resp_header_uint(&o, "Content-Length", size);
	return file_send_body(c, r, &o, f, first, size);
}

/*
 * A directory: redirect to its slash form, serve its index file (true: f
 * is it now), list it under a `listing` prefix, or refuse (*sv).
 */
static bool
file_directory(struct conn *c, struct request *r, struct file *f,
    char *rel, size_t relsize, enum serve *sv)
{
	struct file	 idx;
	char		 loc[CONN_LOCATION_MAX];
	size_t		 len = strlen(rel), i;
	int		 n;

	if (r->path[strlen(r->path) - 1] != '/') {
		file_close(f);
		/* From the decoded, normalised path, never the raw target:
		 * "//evil.example/../dir" must not become "//evil.example/
		 * ../dir/", a redirect to another host. */
		if ((n = http_path_encode(r->path, loc, sizeof(loc))) == -1 ||
		    snprintf(loc + n, sizeof(loc) - (size_t)n, "/%s%.*s",
		    r->fr.has_query ? "?" : "", (int)r->fr.query.len,
		    r->fr.query.p) >= (int)(sizeof(loc) - (size_t)n))
			*sv = resp_error(c, r, 414);
		else
			*sv = resp_simple(c, r, 301, "Location", loc);
		return false;
	}
	memset(&idx, 0, sizeof(idx));
	for (i = 0; i < c->conf->nindex; i++) {
		if (snprintf(rel + len, relsize - len, "%s",
		    c->conf->index[i]) >= (int)(relsize - len))
			continue;
		if (file_open(c, rel, &idx.fd, &idx.st, &idx.cached) == -1)
			continue;
		if (idx.st.is_reg) {
			file_close(f);
			*f = idx;
			return true;
		}
		file_close(&idx);
	}
	rel[len] = '\0';
	if (listing_applies(c->conf, r->path))
		*sv = listing_serve(c, r, f->fd);
	else
		*sv = resp_error(c, r, 403);
	file_close(f);
	return false;
}

enum serve
file_serve(struct conn *c, struct request *r)
{
	struct file	 f;
	char		 rel[CONN_PATH_MAX + 64];
	enum serve	 sv;
	size_t		 n;

	if (http_path_has_dotfile(r->path))
		return resp_error(c, r, 404);
	memset(&f, 0, sizeof(f));
	n = strlen(r->path + 1);
	if (n >= sizeof(rel))
		return resp_error(c, r, 414);
	memcpy(rel, r->path + 1, n + 1);
	if (file_open(c, rel, &f.fd, &f.st, &f.cached) == -1) {
		if (file_open_status(errno) == 503)
			conn_log(c, r, LOG_WARNING, "open %s: %s", r->path,
			    strerror(errno));
		return resp_error(c, r, file_open_status(errno));
	}
	if (f.st.is_dir && !file_directory(c, r, &f, rel, sizeof(rel), &sv))
		return sv;
	f.type = mime_type(c->conf, rel);
	file_try_gzip(c, r, rel, &f);
	sv = file_send(c, r, &f);
	file_close(&f);
	return sv;
}
