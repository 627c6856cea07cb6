/*
 * Watched waits (os_poll with a struct io_watch, and the connection IO
 * built on it): pipes stand in for the client and for a listener whose
 * queue fills. Timings have wide margins; what they check is which of
 * the deadlines ended the wait.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "unit.h"

#include "../../platform/os.h"
#include "../../platform/os_internal.h"

struct cutter {
	int64_t		 cut_ms;	/* 0: no pressure */
	int		 calls;
};

static int64_t
cutter_cut(void *arg)
{
	struct cutter	*k = arg;

	k->calls++;
	return k->cut_ms == 0 ? OS_NO_DEADLINE : os_now_ms() + k->cut_ms;
}

struct rig {
	int		 client[2];	/* [0] is what we wait on */
	int		 listener[2];	/* readable once [1] is written */
	struct cutter	 k;
	struct io_watch	 watch;
};

static void
rig_open(struct rig *g, int64_t cut_ms)
{
	memset(g, 0, sizeof(*g));
	if (pipe2(g->client, O_NONBLOCK) == -1 ||
	    pipe2(g->listener, O_NONBLOCK) == -1) {
		perror("pipe2");
		exit(2);
	}
	g->k.cut_ms = cut_ms;
	g->watch.fds[0] = g->listener[0];
	g->watch.nfds = 1;
	g->watch.cut = cutter_cut;
	g->watch.arg = &g->k;
}

static void
rig_queue(struct rig *g)
{
	if (write(g->listener[1], "c", 1) != 1)
		exit(2);
}

static void
rig_close(struct rig *g)
{
	close(g->client[0]);
	close(g->client[1]);
	close(g->listener[0]);
	close(g->listener[1]);
}

/* Returns the wait's result; *took is its duration in ms. */
static int
rig_wait(struct rig *g, int64_t *deadline, const struct io_watch *w,
    int64_t *took)
{
	struct os_pollfd	 pf = { .fd = g->client[0], .events = OS_POLL_IN };
	int64_t			 t0 = os_now_ms();
	int			 n;

	n = os_poll(&pf, 1, deadline, w);
	*took = os_now_ms() - t0;
	return n;
}

static void
test_no_watch_waits_to_the_deadline(void)
{
	struct rig	 g;
	int64_t		 dl, took;

	rig_open(&g, 20);
	rig_queue(&g);
	dl = os_now_ms() + 150;
	CHECK_INT(rig_wait(&g, &dl, NULL, &took), 0);
	CHECK(took >= 140);
	CHECK_INT(g.k.calls, 0);
	rig_close(&g);
}

static void
test_queue_under_pressure_cuts_the_deadline(void)
{
	struct rig	 g;
	int64_t		 dl, before, took;

	rig_open(&g, 20);
	dl = before = os_now_ms() + 5000;
	rig_queue(&g);
	CHECK_INT(rig_wait(&g, &dl, &g.watch, &took), 0);
	CHECK(took >= 15 && took < 1000);
	CHECK(dl < before);
	/* Cut once; then only the client counts, the listener is not
	 * polled again (it stays readable). */
	CHECK_INT(g.k.calls, 1);
	rig_close(&g);
}

static void
test_queue_without_pressure_rests_instead_of_spinning(void)
{
	struct rig	 g;
	int64_t		 dl, before, took;

	rig_open(&g, 0);
	rig_queue(&g);
	dl = before = os_now_ms() + 200;
	CHECK_INT(rig_wait(&g, &dl, &g.watch, &took), 0);
	CHECK(took >= 190);
	CHECK(dl == before);
	/* About one look per 10 ms rest, never a busy loop. */
	CHECK(g.k.calls >= 2 && g.k.calls <= 40);
	rig_close(&g);
}

static void
test_a_cut_never_extends_the_deadline(void)
{
	struct rig	 g;
	int64_t		 dl, before, took;

	rig_open(&g, 5000);
	rig_queue(&g);
	dl = before = os_now_ms() + 100;
	CHECK_INT(rig_wait(&g, &dl, &g.watch, &took), 0);
	CHECK(took >= 90 && took < 1000);
	CHECK(dl == before);
	rig_close(&g);
}

static void
test_a_ready_client_wins_over_the_queue(void)
{
	struct rig	 g;
	int64_t		 dl, took;

	rig_open(&g, 20);
	rig_queue(&g);
	if (write(g.client[1], "x", 1) != 1)
		exit(2);
	dl = os_now_ms() + 5000;
	CHECK_INT(rig_wait(&g, &dl, &g.watch, &took), 1);
	CHECK(took < 1000);
	rig_close(&g);
}

static void
test_watched_read_times_out_at_the_cut(void)
{
	struct rig	 g;
	char		 buf[16];
	int64_t		 t0;
	ssize_t		 n;

	rig_open(&g, 20);
	rig_queue(&g);
	t0 = os_now_ms();
	n = os_read_watched(g.client[0], buf, sizeof(buf), t0 + 5000,
	    &g.watch);
	CHECK_INT(n, -1);
	CHECK_INT(errno, ETIMEDOUT);
	CHECK(os_now_ms() - t0 < 1000);
	/* Data that is there is read without looking at the queue. */
	if (write(g.client[1], "abc", 3) != 3)
		exit(2);
	g.k.calls = 0;
	CHECK_INT(os_read_watched(g.client[0], buf, sizeof(buf),
	    os_now_ms() + 5000, &g.watch), 3);
	CHECK_INT(g.k.calls, 0);
	rig_close(&g);
}

/*
 * A reader that drains 4 KB every 10 ms: each wait of the write ends in
 * progress, yet the cut deadline holds for the whole call, so a trickle
 * cannot earn a fresh one per partial write.
 */
static void
test_watched_write_keeps_its_cut(void)
{
	struct rig	 g;
	struct iovec	 iov;
	static char	 big[1 << 20];
	char		 sink[4096];
	int64_t		 t0;
	pid_t		 pid;
	int		 status;

	rig_open(&g, 30);
	rig_queue(&g);
	if ((pid = fork()) == 0) {
		close(g.client[1]);
		for (;;) {
			if (read(g.client[0], sink, sizeof(sink)) == 0)
				_exit(0);
			usleep(10000);
		}
	}
	iov.iov_base = big;
	iov.iov_len = sizeof(big);
	t0 = os_now_ms();
	CHECK_INT(os_writev_watched(g.client[1], &iov, 1, t0 + 5000, &g.watch),
	    -1);
	CHECK_INT(errno, ETIMEDOUT);
	CHECK(os_now_ms() - t0 < 1000);
	rig_close(&g);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

int
main(int argc, char **argv)
{
	unit_init(argc, argv);
	test_no_watch_waits_to_the_deadline();
	test_queue_under_pressure_cuts_the_deadline();
	test_queue_without_pressure_rests_instead_of_spinning();
	test_a_cut_never_extends_the_deadline();
	test_a_ready_client_wins_over_the_queue();
	test_watched_read_times_out_at_the_cut();
	test_watched_write_keeps_its_cut();
	return unit_summary();
}
