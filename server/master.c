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
#define MASTER_HANDOVER_MS	10000	/* longest a reload keeps the old pool */
#define MASTER_HANDOVER_POLL_MS	10	/* how often it looks at the new one */

struct child {
	int32_t		 pid;		/* 0: unused entry */
	int		 slot;
	uint32_t	 generation;
	int64_t		 started_ms;
	int		 chan;		/* our end of its channel */
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
	int32_t				 pid;
	uint32_t			 forks;		/* worker serials */
	uint32_t			 log_epoch;
	/* the CGI launcher (cgi_user), and whom it runs CGIs as */
	pid_t				 launcher_pid;
	int				 launcher_chan;	/* -1: none */
	char				 launcher_id[2 * 64];
	struct child			 children[SB_SLOTS];
	struct listener			 listeners[CONF_LISTEN_MAX];
	int				 fds[CONF_LISTEN_MAX];
	bool				 fds_tls[CONF_LISTEN_MAX];
	int				 nlisten;
	struct tls_server		*tls;
	uint32_t			 generation;
	/* the last generation seen serving: kept until the next one is */
	uint32_t			 serving;
	int64_t				 handover_deadline_ms;
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

/*
 * In the child: the master's ends of the other workers' channels are
 * theirs, not ours (fork copied them).
 */
static void
worker_close_others(const struct child *self)
{
	int	 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0 && &m.children[i] != self)
			os_close(m.children[i].chan);
	os_close(self->chan);
}

/* In the child: becomes a worker and never returns. */
static void
worker_start(struct child *self, int slot, uint32_t serial, int chan,
    int cgi_chan)
{
	const struct conf	*cf = m.conf;
	struct worker		 w;
	size_t			 i;

	log_set_role("worker");
	os_signal_worker();
	worker_close_others(self);
	if (m.launcher_chan != -1)
		os_close(m.launcher_chan);
	memset(&w, 0, sizeof(w));
	w.chan = chan;
	w.cgi_chan = cgi_chan;
	w.conf = cf;
	w.sb = m.sb;
	w.slot = &m.sb->slots[slot];
	w.slot->pid = os_getpid();
	w.generation = m.generation;
	w.serial = serial;
	w.log_epoch = m.log_epoch;
	w.listen_fds = m.fds;
	w.listen_tls = m.fds_tls;
	w.nlisten = m.nlisten;
	w.tls = m.tls;
	worker_watch_init(&w);
	/* Password files may be root's alone: open them while still root. */
	for (i = 0; i < cf->nauth; i++)
		w.auth_fd[i] = os_open_read(cf->auth[i].file);
	for (i = 0; i < cf->nsession; i++)
		w.session_fd[i] = os_open_read(cf->session[i].file);
	if (os_is_root() && cf->user != NULL &&
	    os_drop_privileges(cf->user, cf->group) == -1)
		fatal("dropping privileges to %s", cf->user);
	/* After the uid change, which clears it; and if the master died
	 * before this line, stop now rather than serve unsupervised. */
	if (os_die_with_parent(m.pid) == -1)
		fatal("master gone before the worker started");
	/* No CGI gains privileges through a setuid file (CGIs inherit it). */
	if (os_no_new_privs() == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
	if ((w.rootfd = os_open_dir(cf->root)) == -1)
		fatal("open root %s", cf->root);
	worker_buffers(&w);
	if ((w.accept_fd = os_accepter_open(m.fds, m.nlisten)) == -1)
		fatal("epoll for listeners");
	if (w.tls != NULL && tls_worker_init(w.tls) == -1)
		fatal("tls worker init");
	worker_run(&w);
}

/* A scoreboard slot no child of ours holds: our table decides, never
 * what a worker may have written into the shared mapping. */
static int
slot_free(void)
{
	bool	 used[SB_SLOTS] = { false };
	int	 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0)
			used[m.children[i].slot] = true;
	for (i = 0; i < SB_SLOTS; i++)
		if (!used[i])
			return i;
	return -1;
}

/*
 * What the workers read from the scoreboard's header, written again from
 * the master's own state whenever it wakes: a worker that scribbled over
 * the mapping cannot make the next ones stop or misread the pool.
 */
static void
sb_publish(void)
{
	uint32_t	 n = 0;
	int		 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0 &&
		    (uint32_t)m.children[i].slot + 1 > n)
			n = (uint32_t)m.children[i].slot + 1;
	m.sb->nslots = n;
	m.sb->generation = m.generation;
	m.sb->stopping = m.stopping;
	m.sb->log_epoch = m.log_epoch;
}

static int
worker_spawn(void)
{
	struct child	*ch = NULL;
	int		 slot, i, chan[2], cgi[2];
	pid_t		 pid;

	for (i = 0; i < SB_SLOTS && ch == NULL; i++)
		if (m.children[i].pid == 0)
			ch = &m.children[i];
	if (ch == NULL || (slot = slot_free()) == -1) {
		log_warnx("no free scoreboard slot; old workers still busy");
		return -1;
	}
	if (os_chan_pair(chan) == -1) {
		log_warn("socketpair for a worker");
		return -1;
	}
	/* With a launcher, a worker that got no channel to it gets a dead
	 * one: its CGIs fail, they never run as the workers' user. */
	cgi[0] = cgi[1] = -1;
	if (m.launcher_id[0] != '\0' && (os_chan_pair(cgi) == -1 ||
	    (m.launcher_chan != -1 &&
	    cgi_launch_add(m.launcher_chan, cgi[1]) == -1)))
		log_warn("a channel to the cgi launcher");
	sb_slot_take(m.sb, slot, m.generation);
	m.forks++;
	pid = os_fork();
	if (cgi[1] != -1)
		os_close(cgi[1]);	/* the launcher's now, or nobody's */
	if (pid == -1) {
		log_warn("fork");
		sb_slot_release(m.sb, slot);
		os_close(chan[0]);
		os_close(chan[1]);
		if (cgi[0] != -1)
			os_close(cgi[0]);
		return -1;
	}
	if (pid == 0) {
		ch->chan = chan[0];	/* closed by the child with the others */
		worker_start(ch, slot, m.forks, chan[1], m.launcher_id[0] ?
		    cgi[0] : -1);
	}
	os_close(chan[1]);
	if (cgi[0] != -1)
		os_close(cgi[0]);
	m.sb->slots[slot].pid = pid;
	ch->pid = pid;
	ch->slot = slot;
	ch->generation = m.generation;
	ch->started_ms = os_now_ms();
	ch->chan = chan[0];
	sb_publish();
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
workers_signal(int sig)
{
	int	 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0)
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
	os_close(ch->chan);
	memset(ch, 0, sizeof(*ch));
	sb_publish();
}


/* "user:group" of the launcher cf wants; "" when CGIs run as workers. */
static void
launcher_identity(const struct conf *cf, char *out, size_t size)
{
	if (cf->cgi_user == NULL || !os_is_root())
		out[0] = '\0';
	else
		snprintf(out, size, "%s:%s", cf->cgi_user,
		    cf->cgi_group ? cf->cgi_group : "");
}

/*
 * In the launcher's child: nothing of the master's it does not need. A
 * CGI running as the same user could read the launcher's memory, so the
 * TLS key and the scoreboard are gone before privileges drop.
 */
static void
launcher_become(int chan)
{
	const struct conf	*cf = m.conf;
	int			 i;

	log_set_role("cgi launcher");
	os_signal_worker();
	for (i = 0; i < m.nlisten; i++)
		os_close(m.fds[i]);
	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0)
			os_close(m.children[i].chan);
	tls_server_free(m.tls);
	m.tls = NULL;
	os_shm_destroy(m.sb, sizeof(*m.sb));
	m.sb = NULL;
	log_close_access();
	if (os_drop_privileges(cf->cgi_user, cf->cgi_group) == -1)
		fatal("dropping privileges to %s", cf->cgi_user);
	if (os_die_with_parent(m.pid) == -1)
		fatal("master gone before the launcher started");
	if (os_no_new_privs() == -1)
		log_warn("prctl(PR_SET_NO_NEW_PRIVS)");
	if (os_child_subreaper() == -1)
		log_debug("prctl(PR_SET_CHILD_SUBREAPER) failed");
	cgi_launch_serve(chan);
}

/* Starts the launcher cf wants (none: CGIs run as the workers). */
static int
launcher_start(const struct conf *cf)
{
	int	 chan[2];
	pid_t	 pid;

	launcher_identity(cf, m.launcher_id, sizeof(m.launcher_id));
	if (m.launcher_id[0] == '\0')
		return 0;
	if (os_chan_pair(chan) == -1) {
		log_warn("socketpair for the cgi launcher");
		return -1;
	}
	if ((pid = os_fork()) == -1) {
		log_warn("fork of the cgi launcher");
		os_close(chan[0]);
		os_close(chan[1]);
		return -1;
	}
	if (pid == 0) {
		os_close(chan[0]);
		launcher_become(chan[1]);
	}
	os_close(chan[1]);
	m.launcher_pid = pid;
	m.launcher_chan = chan[0];
	return 0;
}

/* The launcher goes; workers that hold its channel can run no CGI. */
static void
launcher_stop(void)
{
	if (m.launcher_pid > 0)
		(void)os_kill(m.launcher_pid, SIGTERM);
	if (m.launcher_chan != -1)
		os_close(m.launcher_chan);
	m.launcher_pid = 0;
	m.launcher_chan = -1;
}

/*
 * True when every worker of the current generation has started serving
 * (left SB_STARTING). The state is a worker's word, read from our own
 * table's slot index: a worker that lies only keeps the old pool up to
 * MASTER_HANDOVER_MS longer.
 */
static bool
generation_ready(void)
{
	unsigned	 n = 0;
	int		 i;

	for (i = 0; i < SB_SLOTS; i++) {
		if (m.children[i].pid == 0 ||
		    m.children[i].generation != m.generation)
			continue;
		if (!sb_slot_started(m.sb, m.children[i].slot))
			return false;
		n++;
	}
	return n >= m.conf->workers;
}

/* Generations older than the current one end (SIGTERM): except, with
 * keep_serving, the one still serving until the current one is ready. */
static void
generations_retire(bool keep_serving)
{
	int	 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0 &&
		    m.children[i].generation != m.generation &&
		    !(keep_serving && m.children[i].generation == m.serving))
			(void)os_kill(m.children[i].pid, SIGTERM);
}

/*
 * A new generation of workers takes over from the running one, which
 * serves until the new workers do (a worker under qemu, or on a slow
 * board, takes a while to start): reloads in a row never leave the
 * listeners without a worker in accept. A generation that never became
 * ready is replaced at once.
 */
static void
pool_renew(void)
{
	m.generation++;
	sb_publish();
	m.backoff_ms = 0;
	m.respawn_at_ms = 0;
	while (workers_current() < m.conf->workers && worker_spawn() == 0)
		;
	generations_retire(true);
	m.handover_deadline_ms = os_now_ms() + MASTER_HANDOVER_MS;
}

/* In the master's loop: 0, or when to look again. */
static int64_t
pool_handover(void)
{
	if (m.serving == m.generation)
		return OS_NO_DEADLINE;
	if (generation_ready() || os_now_ms() >= m.handover_deadline_ms) {
		m.serving = m.generation;
		generations_retire(false);
		return OS_NO_DEADLINE;
	}
	return os_now_ms() + MASTER_HANDOVER_POLL_MS;
}

/* The launcher died: a new one, and workers with channels to it. */
static void
launcher_lost(int status)
{
	log_warnx("cgi launcher %d ended (status %d); starting another",
	    m.launcher_pid, status);
	m.launcher_pid = 0;
	launcher_stop();
	if (launcher_start(m.conf) == -1)
		log_warnx("no cgi launcher: CGIs fail until a reload");
	if (!m.stopping)
		pool_renew();
}

static void
reap(void)
{
	pid_t	 pid;
	int	 status, i;

	while (os_reap(&pid, &status) == 1) {
		if (pid == m.launcher_pid) {
			launcher_lost(status);
			continue;
		}
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
	struct tls_server	*tls;
	const char		*failed;
	char			 id[sizeof(m.launcher_id)];

	log_info("reloading configuration");
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
	if (log_open(cf, &failed) == -1)
		log_warn("opening log %s of the new configuration", failed);
	conf_free(m.conf);
	m.conf = cf;
	launcher_identity(cf, id, sizeof(id));
	if (strcmp(id, m.launcher_id) != 0) {
		launcher_stop();
		if (launcher_start(cf) == -1)
			log_warnx("no cgi launcher: CGIs fail until a reload");
	}
	m.sb->reloads++;
	pool_renew();
}


/* USR1: every worker gets the files the master just reopened. */
static void
logs_hand_over(void)
{
	int	 i;

	for (i = 0; i < SB_SLOTS; i++)
		if (m.children[i].pid != 0 &&
		    log_send_fds(m.children[i].chan) == -1)
			log_warn("handing the logs to worker %d",
			    m.children[i].pid);
}

static void
stop_begin(void)
{
	log_info("stopping gracefully");
	m.stopping = true;
	sb_publish();
	m.stop_deadline_ms = os_now_ms() + (int64_t)m.conf->stop_timeout * 1000;
	workers_signal(SIGTERM);
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
			sb_publish();
			workers_signal(SIGKILL);
			m.stop_deadline_ms = os_now_ms();
		} else if ((sigs & OS_SIG_TERM) && !m.stopping)
			stop_begin();
		if ((sigs & OS_SIG_HUP) && !m.stopping)
			reload();
		if (sigs & OS_SIG_USR1) {
			log_reopen(m.conf);
			logs_hand_over();
			m.log_epoch++;
			sb_publish();
			workers_signal(SIGUSR1);
			/* After the epoch moved: whoever reads this line knows
			 * every worker writes to the new files from now on. */
			log_info("logs reopened");
		}
		wake = OS_NO_DEADLINE;
		if (!m.stopping)
			wake = pool_handover();
		if (m.stopping) {
			if (workers_alive() == 0) {
				launcher_stop();
				return 0;
			}
			if (os_now_ms() >= m.stop_deadline_ms) {
				workers_signal(SIGKILL);
				wake = os_now_ms() + 100;
			} else
				wake = m.stop_deadline_ms;
		} else if (workers_current() < m.conf->workers) {
			if (os_now_ms() >= m.respawn_at_ms &&
			    worker_spawn() == -1)
				m.respawn_at_ms = os_now_ms() + BACKOFF_MIN_MS;
			if (workers_current() < m.conf->workers &&
			    m.respawn_at_ms < wake)
				wake = m.respawn_at_ms > os_now_ms() ?
				    m.respawn_at_ms : os_now_ms();
		}
		sb_publish();
		if (wake == OS_NO_DEADLINE || wake > os_now_ms())
			(void)os_signal_wait(wake);
	}
}

int
master_run(struct conf *cf, const char *conf_path,
    const struct conf_override *ov, size_t nov, bool daemonize)
{
	const char	*failed;
	int		 rc;

	m.conf = cf;
	m.conf_path = conf_path;
	m.ov = ov;
	m.nov = nov;
	if (log_open(cf, &failed) == -1) {
		fprintf(stderr, "porch: opening log %s: %s\n", failed,
		    strerror(errno));
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
	if (cf->cgi_user != NULL && !os_is_root()) {
		fprintf(stderr, "porch: cgi_user needs porch started as root\n");
		return 1;
	}
	if ((m.sb = sb_create()) == NULL) {
		log_warn("scoreboard");
		return 1;
	}
	if (daemonize && os_daemonize() == -1) {
		log_warn("daemonize");
		return 1;
	}
	m.pid = os_getpid();
	if (cf->pid_file != NULL && os_write_pidfile(cf->pid_file) == -1) {
		log_warn("pid file %s", cf->pid_file);
		return 1;
	}
	os_signal_master();
	m.launcher_chan = -1;
	if (launcher_start(cf) == -1)
		return 1;
	conf_errors_to_log();
	m.generation = m.serving = 1;
	sb_publish();
	log_set_role("master");
	log_info("porch %s started, %u workers", PORCH_VERSION, cf->workers);
	rc = master_loop();
	if (m.conf->pid_file != NULL)
		(void)os_unlink(m.conf->pid_file);
	log_info("stopped");
	return rc;
}
