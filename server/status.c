/*
 * The status endpoint: the scoreboard as JSON, for loopback clients only.
 * Every value read from shared memory is bounds-checked before use; a
 * worker's slot is data, never trusted structure.
 */
#include <stdio.h>
#include <string.h>

#include "server.h"

static const char *const state_names[SB_STATES] = {
	"free", "starting", "accepting", "reading_head", "reading_body",
	"writing", "keepalive", "cgi", "closing",
};

struct json {
	char	*p, *end;
	bool	 overflow;
};

static void
json_add(struct json *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
json_add(struct json *j, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (j->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->p, (size_t)(j->end - j->p), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= j->end - j->p) {
		j->overflow = true;
		return;
	}
	j->p += n;
}

bool
status_matches(struct conn *c, struct request *r)
{
	const char	*sp = c->conf->status_path;

	return sp != NULL && strcmp(sp, "off") != 0 && strcmp(r->path, sp) == 0;
}

/* A slot's client address, cut at its bound and kept to address bytes. */
static void
slot_client(const struct sb_slot *s, char *out, size_t size)
{
	size_t	 i;

	for (i = 0; i + 1 < size && i < sizeof(s->client) && s->client[i]; i++)
		out[i] = strchr("0123456789abcdefABCDEF.:", s->client[i]) ?
		    s->client[i] : '?';
	out[i] = '\0';
}

static void
status_workers(struct json *j, const struct scoreboard *sb, int64_t now)
{
	const struct sb_slot	*s;
	char			 client[OS_ADDR_TEXT];
	uint32_t		 i, n = sb->nslots;
	bool			 first = true;

	if (n > SB_SLOTS)
		n = SB_SLOTS;
	json_add(j, "\"workers\":[");
	for (i = 0; i < n; i++) {
		s = &sb->slots[i];
		if (s->pid <= 0)
			continue;
		slot_client(s, client, sizeof(client));
		json_add(j, "%s{\"slot\":%u,\"pid\":%d,\"generation\":%u,"
		    "\"state\":\"%s\",\"requests\":%llu,\"connections\":%llu,"
		    "\"bytes\":%llu,\"uptime\":%lld,\"client\":\"%s\"}",
		    first ? "" : ",", i, s->pid, s->generation,
		    s->state < SB_STATES ? state_names[s->state] : "unknown",
		    (unsigned long long)s->requests,
		    (unsigned long long)s->connections,
		    (unsigned long long)s->bytes,
		    (long long)(now - s->started), client);
		first = false;
	}
	json_add(j, "]");
}

enum serve
status_serve(struct conn *c, struct request *r)
{
	const struct scoreboard	*sb = c->w->sb;
	struct json		 j = { c->w->filebuf,
				    c->w->filebuf + FILE_INLINE_MAX, false };
	struct resp		 o;
	uint64_t		 req, conns, bytes, e4, e5, dropped;
	int64_t			 now = os_wall_time();
	uint32_t		 i, n = sb->nslots;

	if (!c->peer.loopback)
		return resp_error(c, r, 404);
	if (r->fr.method != METHOD_GET && r->fr.method != METHOD_HEAD)
		return resp_simple(c, r, 405, "Allow", "GET, HEAD");
	req = sb->done_requests;
	conns = sb->done_connections;
	bytes = sb->done_bytes;
	e4 = sb->done_4xx;
	e5 = sb->done_5xx;
	dropped = sb->done_log_dropped;
	if (n > SB_SLOTS)
		n = SB_SLOTS;
	for (i = 0; i < n; i++) {
		req += sb->slots[i].requests;
		conns += sb->slots[i].connections;
		bytes += sb->slots[i].bytes;
		e4 += sb->slots[i].status_4xx;
		e5 += sb->slots[i].status_5xx;
		dropped += sb->slots[i].log_dropped;
	}
	json_add(&j, "{\"server\":\"porch/%s\",\"uptime\":%lld,"
	    "\"generation\":%u,\"reloads\":%llu,\"restarts\":%llu,"
	    "\"workers_configured\":%u,\"idle_workers\":%u,"
	    "\"requests\":%llu,\"connections\":%llu,\"bytes\":%llu,"
	    "\"status_4xx\":%llu,\"status_5xx\":%llu,\"log_dropped\":%llu,",
	    PORCH_VERSION, (long long)(now - sb->started), sb->generation,
	    (unsigned long long)sb->reloads, (unsigned long long)sb->restarts,
	    c->conf->workers, sb_idle_workers(sb), (unsigned long long)req,
	    (unsigned long long)conns, (unsigned long long)bytes,
	    (unsigned long long)e4, (unsigned long long)e5,
	    (unsigned long long)dropped);
	status_workers(&j, sb, now);
	json_add(&j, "}\n");
	if (j.overflow)
		return resp_error(c, r, 500);
	resp_begin(&o, c, r, 200);
	resp_header(&o, "Content-Type", "application/json");
	resp_header(&o, "Cache-Control", "no-store");
	resp_header_uint(&o, "Content-Length", (uint64_t)(j.p - c->w->filebuf));
	return resp_send(c, r, &o, c->w->filebuf,
	    (size_t)(j.p - c->w->filebuf));
}
