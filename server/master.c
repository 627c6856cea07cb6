/*
 * The master: opens the listeners, pre-forks the pool and supervises it.
 * A crashed worker is replaced after a back-off, a recycled one at once;
 * HUP starts a new generation on a fresh configuration while the old
 * workers finish their requests; TERM stops gracefully, INT at once.
 *
 * The master keeps its own table of children. It never takes a pid, an
 * index or a pointer from the shared scoreboard (CVE-2019-0211).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define MASTER_STABLE_MS	10000	/* a worker this old resets back-off */

struct child {
	int32_t		 pid;		/* 0: unused entry */
	int		 slot;
	uint32_t	 generation;
	int64_t		 started_ms;
};

struct listener {
	struct os_addr	 addr;
	int		 fd;
	bool		 tls;
};

static struct {
	struct conf			*conf;
	const char			*conf_path;
	const struct conf_override	*ov;
	size_t				 nov;
	struct scoreboard		*sb;
	struct child			 children[SB_SLOTS];
	struct listener			 listeners[CONF_LISTEN_MAX];
	int				 fds[CONF_LISTEN_MAX];
	bool				 fds_tls[CONF_LISTEN_MAX];
	int				 nlisten;
	struct tls_server		*tls;
	uint32_t			 generation;
	int64_t				 backoff_ms;
	int64_t				 respawn_at_ms;
	int64_t				 last_crash_ms;
	bool				 stopping;
	int64_t				 stop_deadline_ms;
} m;

static struct listener *
listener_find(const struct os_addr *a)
{
	int	 i;

	for (i = 0; i < m.nlisten; i++)
		if (os_addr_equal(&m.listeners[i].addr, a))
			return &m.listeners[i];
	return NULL;
}

/*
 * Makes the open listeners match cf: kept ones stay open (a reload never
 * refuses a connection), new ones are bound, dropped ones closed. On a
 * bind error nothing changes and -1 is returned.
 */
static int
listeners_apply(const struct conf *cf)
{
	struct listener	 next[CONF_LISTEN_MAX], *old;
	char		 name[OS_ADDR_TEXT + 8];
	size_t		 i;
	int		 j, n = 0;
	bool		 kept;

	for (i = 0; i < cf->nlisten; i++) {
		next[n].addr = cf->listen[i].addr;
		next[n].tls = cf->listen[i].tls;
		if ((old = listener_find(&cf->listen[i].addr)) != NULL) {
			next[n].fd = old->fd;
			(void)os_listen_adjust(old->fd, (int)cf->backlog,
			    (int)cf->header_timeout);
		} else if ((next[n].fd = os_listen(&cf->listen[i].addr,
		    (int)cf->backlog, (int)cf->header_timeout)) == -1) {
			os_addr_format(&cf->listen[i].addr, name, sizeof(name));
			log_warn("listen %s", name);
			while (n-- > 0)
				if (listener_find(&next[n].addr) == NULL)
					os_close(next[n].fd);
			return -1;
		}
		n++;
	}
	for (j = 0; j < m.nlisten; j++) {
		kept = false;
		for (i = 0; i < (size_t)n; i++)
			kept |= next[i].fd == m.listeners[j].fd;
		if (!kept)
			os_close(m.listeners[j].fd);
	}
	memcpy(m.listeners, next, sizeof(next[0]) * (size_t)n);
	m.nlisten = n;
	for (j = 0; j < n; j++) {
		m.fds[j] = m.listeners[j].fd;
		m.fds_tls[j] = m.listeners[j].tls;
	}
	return 0;
}

/* What a configuration asks of tls/; names: this host's name and addresses. */
static void
tls_settings_of(const struct conf *cf, struct tls_settings *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->cert_file = cf->tls_cert;
	ts->key_file = cf->tls_key;
	ts->autogen = cf->tls_autogen;
	ts->ticket_lifetime = cf->tls_ticket_lifetime;
}

/*
 * The TLS context of a configuration: certificate loaded (or generated)
 * in the master, before fork, so every worker shares it. prev, on a
 * reload, hands over its ticket secret. -1 on error (a bad, mismatched or
 * expired new pair), reported; the caller keeps what it had.
 */
static int
tls_prepare(const struct conf *cf, const struct tls_server *prev,
    struct tls_server **out)
{
	struct tls_settings	 ts;
	char			 err[512];

	*out = NULL;
	if (!conf_has_tls(cf))
		return 0;
	tls_settings_of(cf, &ts);
	if ((*out = tls_server_new(&ts, prev, err, sizeof(err))) == NULL) {
		log_warnx("tls: %s", err);
		return -1;
	}
	if (err[0] != '\0')
		log_warnx("tls: %s", err);
	return 0;
}

/* porch -t: the pair the next start would load, checked. 0 or -1. */
int
master_check_tls(const struct conf *cf, const char *where)
{
	struct tls_settings	 ts;
	char			 err[512];

	if (!conf_has_tls(cf))
		return 0;
	tls_settings_of(cf, &ts);
	if (tls_check(&ts, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s: tls_cert: %s\n", where, err);
	return -1;
}

/* Log files are created for the workers' user, who reopens them. */
static int
log_owner(const struct conf *cf)
{
	unsigned	 uid, gid;

	if (!os_is_root() || cf->user == NULL)
		return 0;
	if (os_lookup_user(cf->user, &uid, &gid) == -1 ||
	    (cf->group != NULL && os_lookup_group(cf->group, &gid) == -1))
		return -1;
	log_set_owner(uid, gid);
	return 0;
}

/* In the child: becomes a worker and never returns. */
static void
worker_start(int slot, uint32_t serial)
{
	const struct conf	*cf = m.conf;
	struct worker		 w;
	size_t			 i;

	log_set_role("worker");
	os_signal_worker();
	os_die_with_parent();
	memset(&w, 0, sizeof(w));
	w.conf = cf;
	w.sb = m.sb;
	w.slot = &m.sb->slots[slot];
	w.slot->pid = os_getpid();
	w.generation = m.generation;
	w.serial = serial;
	w.log_epoch = m.sb->log_epoch;
	w.listen_fds = m.fds;
	w.listen_tls = m.fds_tls;
	w.nlisten = m.nlisten;
	w.tls = m.tls;
	worker_watch_init(&w);
	/* Password files may be root's alone: open them while still root. */
	for (i = 0; i < cf->nauth; i++)
		w.auth_fd[i] = os_open_read(cf->auth[i].file);
	if (os_is_root() && cf->user != NULL &&
	    os_drop_privileges(cf->user, cf->group) == -1)
		fatal("dropping privileges to %s", cf->user);
	if ((w.rootfd = os_open_dir(cf->root)) == -1)
		fatal("open root %s", cf->root);
	w.insize = cf->max_head_size + FILE_INLINE_MAX;
	w.inbuf = malloc(w.insize);
	w.out = malloc(CONN_OUT_SIZE);
	w.filebuf = malloc(FILE_INLINE_MAX);
	w.fields = calloc(cf->max_header_fields, sizeof(*w.fields));
	if (w.inbuf == NULL || w.out == NULL || w.filebuf == NULL ||
	    w.fields == NULL)
		fatalx("out of memory for buffers");
	if ((w.accept_fd = os_accepter_open(m.fds, m.nlisten)) == -1)
		fatal("epoll for listeners");
	if (w.tls != NULL && tls_worker_init(w.tls) == -1)
		fatal("tls worker init");
	worker_run(&w);
}

static int
worker_spawn(void)
{
	struct child	*ch = NULL;
	uint32_t	 serial;
	int		 slot, i;
	pid_t		 pid;

	for (i = 0; i < SB_SLOTS && ch == NULL; i++)
		if (m.children[i].pid == 0)
			ch = &m.children[i];
	if (ch == NULL || (slot = sb_slot_take(m.sb, m.generation)) == -1) {
		log_warnx("no free scoreboard slot; old workers still busy");
		return -1;
	}
	serial = ++m.sb->forks;
	if ((pid = os_fork()) == -1) {
		log_warn("fork");
		sb_slot_release(m.sb, slot);
		return -1;
	}
	if (pid == 0)
		worker_start(slot, serial);
	m.sb->slots[slot].pid = pid;
	ch->pid = pid;
	ch->slot = slot;
	ch->generation = m.generation;
	ch->started_ms = os_now_ms();
	return 0;
}

static unsigned
workers_current(void)
{
	unsigned	 n = 0;
	int		 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0 &&
		    m.children[i].generation == m.generation)
			n++;
	return n;
}

static unsigned
workers_alive(void)
{
	unsigned	 n = 0;
	int		 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0)
			n++;
	return n;
}

static void
workers_signal(int sig, bool old_only)
{
	int	 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0 && (!old_only ||
		    m.children[i].generation != m.generation))
			(void)os_kill(m.children[i].pid, sig);
}

static void
child_exited(struct child *ch, int status)
{
	int64_t	 now = os_now_ms();
	bool	 crashed;

	crashed = !os_exited_cleanly(status);
	if (crashed && !m.stopping) {
		if (os_term_signal(status) != 0)
			log_warnx("worker %d killed by signal %d", ch->pid,
			    os_term_signal(status));
		else
			log_warnx("worker %d exited with status %d", ch->pid,
			    os_exit_code(status));
		if (ch->generation == m.generation) {
			m.sb->restarts++;
			if (now - m.last_crash_ms > MASTER_STABLE_MS)
				m.backoff_ms = 0;
			m.backoff_ms = m.backoff_ms == 0 ? BACKOFF_MIN_MS :
			    m.backoff_ms * 2;
			if (m.backoff_ms > BACKOFF_MAX_MS)
				m.backoff_ms = BACKOFF_MAX_MS;
			m.last_crash_ms = now;
			/* Quick deaths in a row: a broken setup, not bad luck. */
			if (now - ch->started_ms < 1000)
				m.respawn_at_ms = now + m.backoff_ms;
		}
	}
	sb_slot_release(m.sb, ch->slot);
	memset(ch, 0, sizeof(*ch));
}

static void
reap(void)
{
	pid_t	 pid;
	int	 status, i;

	while (os_reap(&pid, &status) == 1) {
		for (i = 0; i < SB_SLOTS; i++)
			if (m.children[i].pid == pid) {
				child_exited(&m.children[i], status);
				break;
			}
	}
}

static void
reload(void)
{
	struct conf		*cf;
	log_info("reloading configuration");
	struct tls_server	*tls;

	if ((cf = conf_build(m.conf_path, m.ov, m.nov)) == NULL) {
		log_warnx("reload failed; still serving the old configuration");
		return;
	}
	/* The new pair takes over the ticket secret, so tickets issued
	 * before the reload resume after it, in any worker. */
	if (tls_prepare(cf, m.tls, &tls) == -1 || listeners_apply(cf) == -1) {
		log_warnx("reload failed; still serving the old configuration");
		tls_server_free(tls);
		conf_free(cf);
		return;
	}
	tls_server_free(m.tls);	/* old workers keep their copy after fork */
	m.tls = tls;
	if (log_owner(cf) == -1 || log_open(cf) == -1)
		log_warn("opening logs of the new configuration");
	conf_free(m.conf);
	m.conf = cf;
	m.generation++;
	m.sb->generation = m.generation;
	m.sb->reloads++;
	m.backoff_ms = 0;
	m.respawn_at_ms = 0;
	/* New workers first, so someone is always accepting. */
	while (workers_current() < m.conf->workers && worker_spawn() == 0)
		;
	workers_signal(SIGTERM, true);
}

static void
stop_begin(void)
{
	log_info("stopping gracefully");
	m.stopping = true;
	m.sb->stopping = 1;
	m.stop_deadline_ms = os_now_ms() + (int64_t)m.conf->stop_timeout * 1000;
	workers_signal(SIGTERM, false);
}

static int
master_loop(void)
{
	unsigned	 sigs;
	int64_t		 wake;

	for (;;) {
		sigs = os_signal_take();
		if (sigs & OS_SIG_CHLD)
			reap();
		if (sigs & OS_SIG_INT) {
			log_info("stopping now");
			m.stopping = true;
			m.sb->stopping = 1;
			workers_signal(SIGKILL, false);
			m.stop_deadline_ms = os_now_ms();
		} else if ((sigs & OS_SIG_TERM) && !m.stopping)
			stop_begin();
		if ((sigs & OS_SIG_HUP) && !m.stopping)
			reload();
		if (sigs & OS_SIG_USR1) {
			log_reopen(m.conf);
			m.sb->log_epoch++;
			workers_signal(SIGUSR1, false);
		}
		wake = OS_NO_DEADLINE;
		if (m.stopping) {
			if (workers_alive() == 0)
				return 0;
			if (os_now_ms() >= m.stop_deadline_ms) {
				workers_signal(SIGKILL, false);
				wake = os_now_ms() + 100;
			} else
				wake = m.stop_deadline_ms;
		} else if (workers_current() < m.conf->workers) {
			if (os_now_ms() >= m.respawn_at_ms &&
			    worker_spawn() == -1)
				m.respawn_at_ms = os_now_ms() + BACKOFF_MIN_MS;
			if (workers_current() < m.conf->workers)
				wake = m.respawn_at_ms > os_now_ms() ?
				    m.respawn_at_ms : os_now_ms();
		}
		if (wake == OS_NO_DEADLINE || wake > os_now_ms())
			(void)os_signal_wait(wake);
	}
}

int
master_run(struct conf *cf, const char *conf_path,
    const struct conf_override *ov, size_t nov, bool daemonize)
{
	int	 rc;

	m.conf = cf;
	m.conf_path = conf_path;
	m.ov = ov;
	m.nov = nov;
	if (log_owner(cf) == -1 || log_open(cf) == -1) {
		fprintf(stderr, "porch: opening logs: %s\n", strerror(errno));
		return 1;
	}
	if (os_is_root() && cf->user == NULL && !cf->allow_root) {
		fprintf(stderr, "porch: refusing to run workers as root: set "
		    "\"user NAME\" (or \"allow_root on\")\n");
		return 1;
	}
	if (tls_prepare(cf, NULL, &m.tls) == -1) {
		fprintf(stderr, "porch: TLS setup failed (see above)\n");
		return 1;
	}
	if (listeners_apply(cf) == -1)
		return 1;
	if ((m.sb = sb_create()) == NULL) {
		log_warn("scoreboard");
		return 1;
	}
	if (daemonize && os_daemonize() == -1) {
		log_warn("daemonize");
		return 1;
	}
	if (cf->pid_file != NULL && os_write_pidfile(cf->pid_file) == -1) {
		log_warn("pid file %s", cf->pid_file);
		return 1;
	}
	os_signal_master();
	conf_errors_to_log();
	m.generation = 1;
	m.sb->generation = 1;
	log_set_role("master");
	log_info("porch %s started, %u workers", PORCH_VERSION, cf->workers);
	rc = master_loop();
	if (m.conf->pid_file != NULL)
		(void)os_unlink(m.conf->pid_file);
	log_info("stopped");
	return rc;
}
