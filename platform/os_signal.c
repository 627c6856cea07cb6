/*
 * Signals. Handlers only record which signal came; the master and the
 * workers keep every handled signal blocked and unblock them only while
 * sleeping (ppoll/epoll_pwait with a wait mask), so no signal can slip in
 * between checking the flags and going to sleep.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <poll.h>
#include <time.h>

#include "os.h"
#include "os_internal.h"

static volatile sig_atomic_t	 pending;
static sigset_t			 waitmask;

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		pending |= OS_SIG_HUP;
		break;
	case SIGTERM:
		pending |= OS_SIG_TERM;
		break;
	case SIGINT:
		pending |= OS_SIG_INT;
		break;
	case SIGUSR1:
		pending |= OS_SIG_USR1;
		break;
	case SIGCHLD:
		pending |= OS_SIG_CHLD;
		break;
	}
}

static void
install(const int *sigs, size_t n)
{
	struct sigaction	 sa;
	sigset_t		 block;
	size_t			 i;

	sigemptyset(&block);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < n; i++) {
		sigaddset(&block, sigs[i]);
		(void)sigaction(sigs[i], &sa, NULL);
	}
	(void)sigprocmask(SIG_BLOCK, &block, NULL);
	sigprocmask(SIG_SETMASK, NULL, &waitmask);
	for (i = 0; i < n; i++)
		sigdelset(&waitmask, sigs[i]);
}

static void
ignore_sigpipe(void)
{
	struct sigaction	 sa;

	/* A client that goes away mid-write is an EPIPE, not a death. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
}

void
os_signal_master(void)
{
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1,
	    SIGCHLD };

	ignore_sigpipe();
	install(sigs, sizeof(sigs) / sizeof(sigs[0]));
}

/*
 * Workers: TERM asks for a graceful stop, USR1 wakes a sleeping worker;
 * the decisions themselves come from the scoreboard. HUP and INT are the
 * master's and are ignored here (a terminal's ^C reaches the whole group).
 */
void
os_signal_worker(void)
{
	static const int	 sigs[] = { SIGTERM, SIGUSR1, SIGCHLD };
	struct sigaction	 sa;

	pending = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	ignore_sigpipe();
	install(sigs, sizeof(sigs) / sizeof(sigs[0]));
}

unsigned
os_signal_take(void)
{
	unsigned	 got = (unsigned)pending;

	pending = 0;
	return got;
}

const sigset_t *
os_signal_waitmask(void)
{
	return &waitmask;
}

/* Sleeps until a handled signal arrives or the deadline passes. */
int
os_signal_wait(int64_t deadline_ms)
{
	struct timespec	 ts, *tsp = NULL;
	int		 ms;

	if (pending != 0)
		return 0;
	ms = os_poll_timeout(deadline_ms);
	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		tsp = &ts;
	}
	if (ppoll(NULL, 0, tsp, &waitmask) == -1 && errno != EINTR)
		return -1;
	return 0;
}

int
os_signal_send(pid_t pid, enum os_sig which)
{
	int	 sig;

	switch (which) {
	case OS_SIG_HUP:
		sig = SIGHUP;
		break;
	case OS_SIG_TERM:
		sig = SIGTERM;
		break;
	case OS_SIG_INT:
		sig = SIGINT;
		break;
	case OS_SIG_USR1:
		sig = SIGUSR1;
		break;
	default:
		sig = SIGCHLD;
		break;
	}
	return kill(pid, sig);
}
