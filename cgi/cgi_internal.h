/* Shared between cgi/ files only: the launcher's messages. */
#ifndef PORCH_CGI_INTERNAL_H
#define PORCH_CGI_INTERNAL_H

#include <stdint.h>

#include "cgi.h"

enum cgi_msg_type {
	CGI_MSG_SPAWN = 1,	/* worker: run this (with fds) */
	CGI_MSG_SPAWNED,	/* launcher: its pid, or -errno */
	CGI_MSG_SIGNAL,		/* worker: signal a script's group */
	CGI_MSG_EXITED,		/* launcher: a script ended */
	CGI_MSG_WORKER,		/* master: a new worker's channel (an fd) */
};

/*
 * Every message starts so. SPAWN: arg is 1 when a stdin pipe comes, then
 * path (pathlen bytes, NUL included) and the environment's strings, each
 * NUL-terminated; its descriptors are the script, its directory, stdout,
 * stderr and, with arg 1, stdin. SPAWNED: pid, or -errno. SIGNAL: pid
 * and arg the signal. EXITED: pid and arg the wait status.
 */
struct cgi_msg {
	uint32_t	 type;
	int32_t		 pid;
	int32_t		 arg;
	uint32_t	 pathlen;
};

#define CGI_MSG_MAX	(sizeof(struct cgi_msg) + 2 * 4096 + CGI_ENV_SIZE)

#endif
