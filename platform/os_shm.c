/* Shared memory: one anonymous mapping made before the first fork. */
#include <stddef.h>
#include <sys/mman.h>

#include "os.h"

void *
os_shm_create(size_t size)
{
	void	*p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
os_shm_destroy(void *p, size_t size)
{
	if (p != NULL)
		(void)munmap(p, size);
}
