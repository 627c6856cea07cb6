/*
 * /cgi-bin/ui/ACTION: the admin UI's CGI program. The table below is the
 * whole interface: which method each action takes, whether it changes
 * state, and whether it runs while the initial password must be changed.
 *
 * porch runs it only for a logged-in session (the session directive over
 * /cgi-bin/); state-changing actions also require AUTH_TYPE=Cookie, the
 * proof that porch's CSRF check ran (Basic auth would have none).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui.h"

struct action {
	const char	*path, *method;
	int		(*fn)(struct ui_req *);
	bool		 changes;	/* state-changing: session and CSRF */
	bool		 first_run;	/* allowed before the password change */
};

static const struct action actions[] = {
	{ "/status",	"GET",	ui_status,	 false, true },
	{ "/hostname",	"POST",	ui_hostname,	 true,	false },
	{ "/password",	"POST",	ui_password,	 true,	true },
	{ "/upgrade",	"GET",	ui_upgrade_get,	 false, false },
	{ "/upgrade",	"POST",	ui_upgrade_post, true,	false },
	{ "/install",	"POST",	ui_install,	 true,	false },
};

static void
not_allowed(const char *path)
{
	char	 allow[64] = "";
	size_t	 i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].path, path) == 0) {
			if (allow[0])
				strcat(allow, ", ");
			strcat(allow, actions[i].method);
		}
	/* ui_reply writes its own head; Allow goes in front of it. */
	(void)!write(1, "Allow: ", 7);
	(void)!write(1, allow, strlen(allow));
	(void)!write(1, "\r\n", 2);
	ui_error(405, "method not allowed");
}

int
main(void)
{
	static struct ui_req	 r;
	const char		*path = getenv("PATH_INFO"),
				*auth = getenv("AUTH_TYPE");
	const struct action	*a = NULL;
	bool			 known = false;
	size_t			 i;

	r.method = getenv("REQUEST_METHOD");
	r.user = getenv("REMOTE_USER");
	r.session = auth != NULL && strcmp(auth, "Cookie") == 0;
	if (path == NULL || r.method == NULL) {
		ui_error(400, "not run as a CGI");
		return 0;
	}
	if (ui_root_init() == -1) {
		ui_error(500, "cannot tell the system root (make run: the "
		    "document root must be below a state directory)");
		return 0;
	}
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(actions[i].path, path) != 0)
			continue;
		known = true;
		if (strcmp(actions[i].method, r.method) == 0)
			a = &actions[i];
	}
	if (!known) {
		ui_error(404, "no such action");
		return 0;
	}
	if (r.user == NULL || r.user[0] == '\0') {
		ui_error(401, "login required");
		return 0;
	}
	if (a == NULL) {
		not_allowed(path);
		return 0;
	}
	if (a->changes && !r.session) {
		ui_error(403, "this action needs a login session (porch's "
		    "session directive over /cgi-bin/)");
		return 0;
	}
	if (!a->first_run && ui_must_change()) {
		ui_reply(403, "{\"error\":\"password change required\","
		    "\"must_change\":true}", 55);
		return 0;
	}
	(void)a->fn(&r);
	return 0;
}
