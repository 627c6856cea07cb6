/*
 * The scoreboard: one shared mapping made before the first fork. Each
 * worker writes only its own slot; the master writes the header. The
 * master treats every slot value as untrusted input: it reads numbers and
 * states, clamps them, and never follows anything a worker wrote.
 */
#include <stdio.h>
#include <string.h>

#include "server.h"

struct scoreboard *
sb_create(void)
{
	struct scoreboard	*sb;

	if ((sb = os_shm_create(sizeof(*sb))) == NULL)
		return NULL;
	memset(sb, 0, sizeof(*sb));
	sb->started = os_wall_time();
	/* Request ids stay unique across restarts of the server too. */
	sb->boot_id = ((uint64_t)sb->started << 16) ^
	    ((uint64_t)os_getpid() & 0xffff);
	return sb;
}

/* Master: slot, chosen from its own table, for a new worker. */
void
sb_slot_take(struct scoreboard *sb, int i, uint32_t generation)
{
	struct sb_slot	*s = &sb->slots[i];

	memset(s, 0, sizeof(*s));
	s->generation = generation;
	s->state = SB_STARTING;
	s->started = os_wall_time();
}

/*
 * Master: folds a dead worker's counters into the totals and frees its
 * slot. The counters are whatever the worker wrote: numbers to add, never
 * bounds or indexes (CVE-2019-0211).
 */
void
sb_slot_release(struct scoreboard *sb, int i)
{
	struct sb_slot	*s;

	if (i < 0 || i >= SB_SLOTS)
		return;
	s = &sb->slots[i];
	sb->done_requests += s->requests;
	sb->done_bytes += s->bytes;
	sb->done_connections += s->connections;
	sb->done_4xx += s->status_4xx;
	sb->done_5xx += s->status_5xx;
	sb->done_log_dropped += s->log_dropped;
	memset(s, 0, sizeof(*s));
}

void
sb_set_state(struct sb_slot *s, enum sb_state st)
{
	s->state = (uint32_t)st;
}

void
sb_count_response(struct sb_slot *s, int status, uint64_t bytes)
{
	s->requests++;
	s->bytes += bytes;
	if (status >= 500)
		s->status_5xx++;
	else if (status >= 400)
		s->status_4xx++;
}

/* Workers of the current generation waiting in accept. */
unsigned
sb_idle_workers(const struct scoreboard *sb)
{
	uint32_t	 i, n = sb->nslots, gen = sb->generation;
	unsigned	 idle = 0;

	if (n > SB_SLOTS)
		n = SB_SLOTS;
	for (i = 0; i < n; i++)
		if (sb->slots[i].state == SB_ACCEPTING &&
		    sb->slots[i].generation == gen)
			idle++;
	return idle;
}

/*
 * A lock in the scoreboard, shared by the workers (the failed-login table,
 * the sessions). False when it could not be had: a worker died holding
 * it; the caller goes on unlocked rather than stop serving.
 */
bool
sb_lock(uint32_t *lock)
{
	int	 i;

	for (i = 0; i < SB_LOCK_SPINS; i++)
		if (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) == 0)
			return true;
	return false;
}

void
sb_unlock(uint32_t *lock, bool locked)
{
	if (locked)
		__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/*
 * Unique across workers, reloads and requests sharing a connection: the
 * run's boot id, the worker's fork serial (never reused in a run) and the
 * worker's own request count. No shared counter, so no 64-bit atomics,
 * which 32-bit MIPS lacks.
 */
void
sb_request_id(const struct scoreboard *sb, uint32_t serial, uint64_t n,
    char *out, size_t size)
{
	snprintf(out, size, "%llx-%x-%llx", (unsigned long long)sb->boot_id,
	    serial, (unsigned long long)n);
}
