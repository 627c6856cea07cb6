/* crypt(3): musl has it in libc; glibc needs libcrypt (-lcrypt). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <crypt.h>
#endif

#include "os.h"

/* The hash of key with setting's salt, or NULL (unknown method). */
const char *
os_crypt(const char *key, const char *setting)
{
	const char	*h;

	errno = 0;
	h = crypt(key, setting);
	/* Some libcs return "*0"/"*1" instead of NULL for a bad setting. */
	if (h == NULL || h[0] == '*')
		return NULL;
	return h;
}
