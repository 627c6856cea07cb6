/*
 * platform: the only code that talks to Linux directly. Sockets and
 * listener options, connection IO with deadlines, processes and signals,
 * shared memory, time, and files opened strictly beneath a root.
 *
 * Conventions: functions return 0 (or a count) on success and -1 with errno
 * set on failure. They retry EINTR themselves, except the interruptible
 * waits (accept, keep-alive idle) which return -1/EINTR so the caller can
 * look at its flags. Deadlines are absolute CLOCK_MONOTONIC milliseconds.
 */
#ifndef PORCH_OS_H
#define PORCH_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define OS_ADDR_TEXT	48	/* bytes: "[ffff:...:ffff]" plus NUL */
#define OS_NO_DEADLINE	INT64_MAX

/* A listening address as parsed from "ADDR:PORT", "[V6]:PORT" or "PORT". */
struct os_addr {
	int		 family;	/* 4 or 6 */
	uint8_t		 bytes[16];	/* network order; v4 uses 4 */
	uint16_t	 port;
};

/* The far end of an accepted connection, in text for logs and CGI. */
struct os_peer {
	char		 addr[OS_ADDR_TEXT];
	char		 group[OS_ADDR_TEXT];	/* addr, an IPv6 one by its /64 */
	unsigned	 port;
	bool		 loopback;
	char		 local_addr[OS_ADDR_TEXT];
	unsigned	 local_port;
};

#define OS_WATCH_MAX	8	/* descriptors an IO wait also watches */

/*
 * What a connection's IO waits watch besides the connection: the
 * listeners. When one turns readable (a connection waits for a worker),
 * cut() may bring the wait's deadline nearer, so a slow client whose wait
 * began before the pool came under pressure cannot keep its long one.
 */
struct io_watch {
	int		  fds[OS_WATCH_MAX];
	int		  nfds;
	/* the nearer deadline, or OS_NO_DEADLINE: no need to hurry */
	int64_t		(*cut)(void *arg);
	void		 *arg;
};

/*
 * One connection's byte stream. Plain TCP and TLS both provide it, so the
 * HTTP engine never knows which it talks to. Every call blocks until it
 * made progress or the deadline passed (-1/ETIMEDOUT); watch, when set,
 * may bring that deadline nearer while the call waits.
 */
struct io {
	/* >0 bytes read; 0 end of stream; -1 error or timeout */
	ssize_t	(*read)(struct io *, void *, size_t, int64_t deadline_ms);
	/* writes every byte of iov or fails; returns 0 or -1 */
	int	(*writev)(struct io *, const struct iovec *, int, int64_t);
	/* >0 bytes of file fd sent from *off (advanced), up to len: what
	 * went after at most one wait for room; -1 error or timeout. The
	 * caller loops, so each step of progress can earn a fresh deadline
	 * while a big file goes out in as few calls as the socket allows. */
	ssize_t	(*sendfile)(struct io *, int, off_t *, size_t, int64_t);
	/* true when bytes already received wait to be read */
	bool	(*pending)(struct io *);
	/* half-close the write side; the peer sees end of stream */
	void	(*shutdown)(struct io *, int64_t deadline_ms);
	void	(*close)(struct io *);
	int			 fd;
	void			*ctx;
	const struct io_watch	*watch;		/* or NULL */
	uint64_t		 bytes_out;	/* payload bytes written */
};

/* os_net.c */
int	 os_addr_parse(const char *, struct os_addr *);
void	 os_addr_format(const struct os_addr *, char *, size_t);
bool	 os_addr_equal(const struct os_addr *, const struct os_addr *);
void	 os_addr_host(const struct os_addr *, char *, size_t);
bool	 os_addr_is_any(const struct os_addr *);
int	 os_listen(const struct os_addr *, int backlog, int defer_secs);
int	 os_listen_adjust(int fd, int backlog, int defer_secs);
int	 os_listen_queue(int fd);
int	 os_accepter_open(const int *fds, int nfds);
int	 os_accept(int epfd, const int *fds, int nfds, struct os_peer *,
	    int *which);
void	 os_io_plain(struct io *, int fd);
void	 os_peer_local(int fd, struct os_peer *);
bool	 os_input_waiting(int fd);
int	 os_set_nonblock(int fd, bool on);

/* os_ifaddr.c */
int	 os_ip_parse(const char *, struct os_addr *);
void	 os_ip_format(const struct os_addr *, char *, size_t);
int	 os_local_addrs(struct os_addr *, int max);

/* os_io.c */
#define OS_POLL_MAX	8	/* descriptors os_poll takes, besides a watch */
#define OS_POLL_IN	0x001
#define OS_POLL_OUT	0x004
#define OS_POLL_ERR	0x008
#define OS_POLL_HUP	0x010
struct os_pollfd {
	int		 fd;
	short		 events, revents;
};
int	 os_poll(struct os_pollfd *, int, int64_t *deadline_ms,
	    const struct io_watch *);
int	 os_wait(const int *fds, int nfds, int64_t deadline_ms,
	    bool interruptible, int *nready);
int	 os_wait_fds(struct os_pollfd *, int, int64_t deadline_ms);
ssize_t	 os_read_deadline(int fd, void *, size_t, int64_t deadline_ms);
int	 os_write_all(int fd, const void *, size_t, int64_t deadline_ms);
int	 os_writev_all(int fd, const struct iovec *, int, int64_t);
ssize_t	 os_read_some(int fd, void *, size_t);
ssize_t	 os_pread(int fd, void *, size_t, off_t);
int	 os_close(int fd);
int	 os_pipe(int fds[2]);

/* os_chan.c */
#define OS_CHAN_FDS_MAX	6	/* descriptors one message carries */
int	 os_chan_pair(int fds[2]);
int	 os_chan_send(int fd, const void *, size_t, const int *fds, int nfds);
ssize_t	 os_chan_recv(int fd, void *, size_t, int *fds, int *nfds);

/* os_proc.c */
pid_t	 os_fork(void);
int	 os_reap(pid_t *, int *status_out);
bool	 os_exited_cleanly(int status);
int	 os_exit_code(int status);
int	 os_term_signal(int status);
int	 os_kill(pid_t, int sig);
int	 os_kill_group(pid_t, int sig);
int	 os_die_with_parent(pid_t parent);
int	 os_no_new_privs(void);
int	 os_child_subreaper(void);
int	 os_drop_privileges(const char *user, const char *group);
int	 os_lookup_user(const char *, unsigned *uid, unsigned *gid);
int	 os_lookup_group(const char *, unsigned *gid);
bool	 os_is_root(void);
int	 os_daemonize(void);
pid_t	 os_getpid(void);
int	 os_hostname(char *, size_t);
int	 os_write_pidfile(const char *path);
int	 os_devnull_stdin(void);

/* os_spawn.c */
struct os_spawn {
	int		 exec_fd;	/* the checked file, executed as it is */
	char *const	*argv;
	char *const	*envp;
	int		 dir_fd;	/* working directory, or -1 */
	int		 stdin_fd;	/* -1: /dev/null */
	int		 stdout_fd;
	int		 stderr_fd;
};
pid_t	 os_spawn(const struct os_spawn *);
int	 os_waitpid(pid_t, int *status, bool block);
ssize_t	 os_write_some(int fd, const void *, size_t);
int	 os_ensure_stdio(void);
void	 os_close_inherited(void);

/* os_signal.c */
enum os_sig {
	OS_SIG_HUP = 1 << 0,
	OS_SIG_TERM = 1 << 1,
	OS_SIG_INT = 1 << 2,
	OS_SIG_USR1 = 1 << 3,
	OS_SIG_CHLD = 1 << 4,
};
void	 os_signal_master(void);
void	 os_signal_worker(void);
unsigned os_signal_take(void);
int	 os_signal_wait(int64_t deadline_ms);
int	 os_signal_send(pid_t, enum os_sig);

/* os_random.c */
int	 os_random(void *, size_t);

/* os_shm.c */
void	*os_shm_create(size_t);
void	 os_shm_destroy(void *, size_t);

/* os_syslog.c */
int	 os_syslog_open(void);
int	 os_syslog_send(int fd, int facility_prio, const char *tag,
	    const char *msg);

/* os_time.c */
int64_t	 os_now_ms(void);
int64_t	 os_wall_time(void);
void	 os_sleep_ms(int64_t);

/* os_fs.c */
struct os_stat {
	uint64_t	 size;
	int64_t		 mtime;		/* seconds since the epoch */
	uint64_t	 ino;
	int64_t		 mtime_ns;	/* sub-second part, for caches */
	bool		 is_dir, is_reg, exec;
};
int	 os_open_dir(const char *);
int	 os_open_beneath(int rootfd, const char *rel, int *fd_out,
	    struct os_stat *);
int	 os_fstat(int fd, struct os_stat *);
int	 os_open_log(const char *path);
int	 os_readable_file(const char *path);
int	 os_is_dir(const char *path);
int	 os_unlink(const char *path);
ssize_t	 os_read_small_file(const char *, char *, size_t, struct os_stat *);
ssize_t	 os_read_small_fd(int, char *, size_t, struct os_stat *);
int	 os_open_read(const char *);
int	 os_write_file_atomic(const char *path, const void *, size_t,
	    unsigned mode);
int	 os_stat_path(const char *, struct os_stat *);
int	 os_realpath(const char *, char *, size_t);
int	 os_getcwd(char *, size_t);
struct os_dirent {
	char		 name[256];
	uint64_t	 size;
	int64_t		 mtime;
	bool		 is_dir;
};
ssize_t	 os_dir_list(int dirfd, struct os_dirent *, size_t max, bool *more);

/* os_crypt.c */
const char	*os_crypt(const char *key, const char *setting);

#endif
