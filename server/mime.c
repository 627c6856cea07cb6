/* MIME types by file extension: the built-in table, then mime_type lines. */
#include <string.h>
#include <strings.h>

#include "server.h"

static const struct conf_mime	 builtin[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "xml", "application/xml" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "ico", "image/x-icon" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "wasm", "application/wasm" },
	{ "pdf", "application/pdf" },
	{ "gz", "application/gzip" },
	{ "tar", "application/x-tar" },
	{ "bin", "application/octet-stream" },
	{ "img", "application/octet-stream" },
	{ "manifest", "application/manifest+json" },
	{ "webmanifest", "application/manifest+json" },
};

const char *
mime_type(const struct conf *cf, const char *path)
{
	const char	*dot, *slash;
	size_t		 i;

	dot = strrchr(path, '.');
	slash = strrchr(path, '/');
	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	dot++;
	for (i = 0; i < cf->nmime; i++)
		if (strcasecmp(cf->mime[i].ext, dot) == 0)
			return cf->mime[i].type;
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strcasecmp(builtin[i].ext, dot) == 0)
			return builtin[i].type;
	return "application/octet-stream";
}

/* Worth looking for a precompressed .gz sibling. */
bool
mime_compressible(const char *type)
{
	return strncmp(type, "text/", 5) == 0 ||
	    strncmp(type, "application/json", 16) == 0 ||
	    strncmp(type, "application/xml", 15) == 0 ||
	    strncmp(type, "application/wasm", 16) == 0 ||
	    strncmp(type, "application/manifest", 20) == 0 ||
	    strncmp(type, "image/svg", 9) == 0;
}
