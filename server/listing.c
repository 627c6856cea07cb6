/*
 * Directory listings, for directories under a `listing` prefix that have
 * no index file. A name is the one thing of the filesystem a page shows
 * that an attacker may choose (an upload, a USB stick), so every name is
 * HTML-escaped where it is text and percent-encoded where it is a link;
 * dotfiles are never shown, as they are never served.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../platform/os.h"
#include "../http/http.h"
#include "server.h"

#define LISTING_FLUSH	4096	/* room kept for one entry */
#define LISTING_BUF	(2 * LISTING_FLUSH)

struct listing_out {
	struct conn	*c;
	struct request	*r;
	char		 buf[LISTING_BUF];
	size_t		 len;
	bool		 failed;
};

bool
listing_applies(const struct conf *cf, const char *path)
{
	size_t	 i;

	for (i = 0; i < cf->nlisting; i++)
		if (http_path_under(path, cf->listing[i]) > 0)
			return true;
	return false;
}

static void
listing_flush(struct listing_out *lo)
{
	if (!lo->failed && lo->len > 0 &&
	    resp_stream_write(lo->c, lo->r, lo->buf, lo->len) != SERVE_DONE)
		lo->failed = true;
	lo->len = 0;
}

static void
listing_raw(struct listing_out *lo, const char *s, size_t n)
{
	if (lo->len + n > sizeof(lo->buf))
		listing_flush(lo);
	if (n > sizeof(lo->buf))
		return;		/* never: callers write short pieces */
	memcpy(lo->buf + lo->len, s, n);
	lo->len += n;
}

static void
listing_str(struct listing_out *lo, const char *s)
{
	listing_raw(lo, s, strlen(s));
}

/* Text in an element or a quoted attribute. */
static void
listing_text(struct listing_out *lo, const char *s)
{
	static const char *const	 esc[] = {
		['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;",
		['"'] = "&quot;", ['\''] = "&#39;",
	};
	unsigned char			 ch;

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (ch < sizeof(esc) / sizeof(esc[0]) && esc[ch] != NULL)
			listing_str(lo, esc[ch]);
		else
			listing_raw(lo, s, 1);
	}
}

/* A link to a name of this directory: "./" first, so that a name such
 * as "javascript:x" is never read as a scheme. */
static void
listing_href(struct listing_out *lo, const struct os_dirent *e)
{
	char	 enc[3 * sizeof(e->name)];
	int	 n;

	listing_str(lo, "<a href=\"./");
	if ((n = http_encode_component(e->name, strlen(e->name), enc,
	    sizeof(enc))) > 0)
		listing_raw(lo, enc, (size_t)n);
	listing_str(lo, e->is_dir ? "/\">" : "\">");
	listing_text(lo, e->name);
	listing_str(lo, e->is_dir ? "/</a>" : "</a>");
}

static void
listing_entry(struct listing_out *lo, const struct os_dirent *e)
{
	char	 date[HTTP_DATE_LEN + 1], size[24];

	http_date_format(e->mtime, date);
	if (e->is_dir)
		snprintf(size, sizeof(size), "-");
	else
		snprintf(size, sizeof(size), "%llu",
		    (unsigned long long)e->size);
	listing_str(lo, "<tr><td>");
	listing_href(lo, e);
	listing_str(lo, "</td><td>");
	listing_str(lo, size);
	listing_str(lo, "</td><td>");
	listing_str(lo, date);
	listing_str(lo, "</td></tr>\n");
	if (lo->len >= LISTING_FLUSH)
		listing_flush(lo);
}

/* Directories first, then byte order: what `ls` shows in the C locale. */
static int
listing_order(const void *a, const void *b)
{
	const struct os_dirent	*x = a, *y = b;

	if (x->is_dir != y->is_dir)
		return x->is_dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The listing of the directory open as dirfd, whose request path is
 * r->path (ending in '/'). The names are read and sorted before the head
 * goes out, so a directory that cannot be read is a 500, not a cut body.
 */
enum serve
listing_serve(struct conn *c, struct request *r, int dirfd)
{
	struct listing_out	*lo;
	struct os_dirent	*ents;
	struct resp		 o;
	enum serve		 sv;
	ssize_t			 n, i;
	bool			 more;

	ents = calloc(LISTING_ENTRIES_MAX, sizeof(*ents));
	lo = malloc(sizeof(*lo));
	if (ents == NULL || lo == NULL) {
		free(ents);
		free(lo);
		return resp_error(c, r, 503);
	}
	if ((n = os_dir_list(dirfd, ents, LISTING_ENTRIES_MAX, &more)) == -1) {
		conn_log(c, r, LOG_WARNING, "list %s: %s", r->path,
		    strerror(errno));
		free(ents);
		free(lo);
		return resp_error(c, r, file_open_status(errno) == 503 ? 503 :
		    403);
	}
	qsort(ents, (size_t)n, sizeof(*ents), listing_order);
	resp_begin(&o, c, r, 200);
	resp_header(&o, "Content-Type", "text/html; charset=utf-8");
	resp_header_default(&o, "Cache-Control", "no-cache");
	if ((sv = resp_stream_begin(&o, c, r, false, 0)) != SERVE_DONE ||
	    r->fr.method == METHOD_HEAD)
		goto out;
	lo->c = c;
	lo->r = r;
	lo->len = 0;
	lo->failed = false;
	listing_str(lo, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>Index of ");
	listing_text(lo, r->path);
	listing_str(lo, "</title></head><body><h1>Index of ");
	listing_text(lo, r->path);
	listing_str(lo, "</h1>\n<table><tr><th>Name</th><th>Size</th>"
	    "<th>Modified</th></tr>\n");
	if (strcmp(r->path, "/") != 0)
		listing_str(lo, "<tr><td><a href=\"../\">../</a></td><td>-"
		    "</td><td></td></tr>\n");
	for (i = 0; i < n; i++)
		listing_entry(lo, &ents[i]);
	listing_str(lo, "</table>\n");
	if (more)
		listing_str(lo, "<p>More names than a listing shows.</p>\n");
	listing_str(lo, "</body></html>\n");
	listing_flush(lo);
	sv = lo->failed ? SERVE_CLOSE : resp_stream_end(c, r);
out:
	free(ents);
	free(lo);
	return sv;
}
