/*
 * mbedTLS's heap. Its bignum code allocates and frees a few thousand small
 * blocks per handshake (nearly all of 32 bytes: the limbs of one number),
 * so a general-purpose allocator's bookkeeping becomes a visible share of
 * the handshake: 6% of the instructions with glibc, 14% with musl's.
 * Here blocks of up to TLS_HEAP_CLASS_MAX bytes come from per-size free
 * lists that are filled once and then reused; larger ones (record buffers,
 * contexts) go to malloc. A process is single-threaded and fork() gives
 * each worker its own copy, so nothing here is shared or locked.
 *
 * Every block carries a header naming its class, so free() needs no
 * size. Cached blocks are never given back: the working set of one
 * handshake is a few KiB, reached on the first one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform.h>

#include "tls_internal.h"

#define HEAP_CLASSES		6	/* 16, 32, ... TLS_HEAP_CLASS_MAX */
#define HEAP_LARGE		HEAP_CLASSES

union heap_header {
	struct {
		size_t	 cls;		/* 0..HEAP_CLASSES-1, or HEAP_LARGE */
		size_t	 len;		/* bytes asked for */
	}		 b;
	max_align_t	 align;		/* keeps the block aligned */
};

struct heap_free {
	union heap_header	 h;
	struct heap_free	*next;
};

static struct {
	struct heap_free	*free[HEAP_CLASSES];
	struct tls_heap_stats	 st;
	bool			 installed;
} heap;

static size_t
heap_class_size(size_t cls)
{
	return (size_t)16 << cls;
}

static void *
heap_calloc(size_t n, size_t size)
{
	union heap_header	*h;
	size_t			 len, cls = 0;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	len = n * size;
	while (cls < HEAP_CLASSES && heap_class_size(cls) < len)
		cls++;
	if (cls < HEAP_CLASSES && heap.free[cls] != NULL) {
		h = &heap.free[cls]->h;
		heap.free[cls] = heap.free[cls]->next;
		heap.st.cached_bytes -= heap_class_size(cls);
		memset(h + 1, 0, len);
	} else {
		/* calloc: fresh pages come zeroed without being touched, so
		 * the untouched end of a 16 KiB record buffer costs no RAM. */
		if (len > SIZE_MAX - sizeof(*h) - TLS_HEAP_CLASS_MAX)
			return NULL;
		if ((h = calloc(1, sizeof(*h) + (cls < HEAP_CLASSES ?
		    heap_class_size(cls) : len))) == NULL)
			return NULL;
	}
	h->b.cls = cls;
	h->b.len = len;
	heap.st.live_blocks++;
	heap.st.live_bytes += len;
	if (heap.st.live_bytes > heap.st.peak_bytes)
		heap.st.peak_bytes = heap.st.live_bytes;
	return h + 1;
}

static void
heap_free(void *p)
{
	union heap_header	*h;
	struct heap_free	*f;

	if (p == NULL)
		return;
	h = (union heap_header *)p - 1;
	heap.st.live_blocks--;
	heap.st.live_bytes -= h->b.len;
	if (h->b.cls == HEAP_LARGE) {
		free(h);
		return;
	}
	f = (struct heap_free *)h;
	f->next = heap.free[h->b.cls];
	heap.free[h->b.cls] = f;
	heap.st.cached_bytes += heap_class_size(h->b.cls);
}

/* Before mbedTLS allocates anything in this process; then a no-op. */
void
tls_heap_install(void)
{
	if (heap.installed)
		return;
	mbedtls_platform_set_calloc_free(heap_calloc, heap_free);
	heap.installed = true;
}

void
tls_heap_stats(struct tls_heap_stats *st)
{
	*st = heap.st;
}

void
tls_heap_peak_reset(void)
{
	heap.st.peak_bytes = heap.st.live_bytes;
}
