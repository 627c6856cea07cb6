/*
 * A tiny unit-test harness: CHECK macros that record file and line, guarded
 * copies of inputs that end exactly at a PROT_NONE page (a one-byte
 * over-read crashes even without a sanitizer), seed dumping for the
 * fuzzers, and a summary whose last line is "N passed, N failed".
 *
 * Each test binary is one translation unit that includes this header once,
 * so the state below is per binary.
 *
 *	int
 *	main(int argc, char **argv)
 *	{
 *		unit_init(argc, argv);
 *		CHECK(1 + 1 == 2);
 *		return unit_summary();
 *	}
 *
 * "test_x --seed DIR" also writes every input passed to unit_seed() into
 * DIR/<target>/, for the fuzzers' seed corpora.
 */
#ifndef PORCH_UNIT_H
#define PORCH_UNIT_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Case tables (style.md 11) list only the fields a case needs, leaving the
 * rest zero: { __LINE__, "GET / HTTP/1.1\r\n...", 400 }. -Wextra would
 * flag every such row.
 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define UNIT_FAIL_SHOWN	200	/* failures printed in full; the rest counted */

static unsigned long	 unit_passed, unit_failed;
static const char	*unit_seed_dir;

static unsigned long	 unit_shown;

static inline void
unit_vreport(const char *file, int line, const char *fmt, va_list ap)
{
	if (++unit_shown <= UNIT_FAIL_SHOWN) {
		fprintf(stderr, "%s:%d: FAIL: ", file, line);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else if (unit_shown == UNIT_FAIL_SHOWN + 1)
		fprintf(stderr, "(further failures not shown)\n");
}

/* Records one check; prints file:line and the message when it fails. */
static inline bool
unit_check(const char *file, int line, bool ok, const char *fmt, ...)
{
	va_list	 ap;

	if (ok) {
		unit_passed++;
		return true;
	}
	unit_failed++;
	va_start(ap, fmt);
	unit_vreport(file, line, fmt, ap);
	va_end(ap);
	return false;
}

static inline bool
unit_check_int(const char *file, int line, long long got, long long want,
    const char *what)
{
	return unit_check(file, line, got == want, "%s: got %lld, want %lld",
	    what, got, want);
}

/*
 * Prints a failure's detail without counting it, for loops (every split
 * offset, every day of a century) that end in one counted check.
 */
static inline void
unit_note(const char *file, int line, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	unit_vreport(file, line, fmt, ap);
	va_end(ap);
}

#define NOTE_AT(line, ...)	unit_note(__FILE__, (line), __VA_ARGS__)

#define CHECK(cond)							\
	unit_check(__FILE__, __LINE__, (cond) != 0, "%s", #cond)
/* A check that reports a table case's line and a message of its own. */
#define CHECK_AT(line, cond, ...)					\
	unit_check(__FILE__, (line), (cond) != 0, __VA_ARGS__)
/* got and want are evaluated once: got may be a call with effects. */
#define CHECK_INT_AT(line, got, want, what)				\
	unit_check_int(__FILE__, (line), (long long)(got),		\
	    (long long)(want), (what))
#define CHECK_INT(got, want)	CHECK_INT_AT(__LINE__, got, want, #got)
/* p[0..len) equals the NUL-terminated want; p may be NULL when len is 0. */
#define CHECK_MEM_AT(line, p, len, want, what)				\
	unit_check(__FILE__, (line), unit_mem_eq((p), (len), (want)),	\
	    "%s: got \"%.*s\", want \"%s\"", (what), (int)(len),	\
	    (len) ? (const char *)(p) : "", (want))

static inline bool
unit_mem_eq(const void *p, size_t len, const char *want)
{
	return strlen(want) == len && (len == 0 || memcmp(p, want, len) == 0);
}

/*
 * A mapping whose last usable byte is followed by a PROT_NONE page.
 * unit_guard_put() copies bytes so that they end exactly at that page.
 */
struct unit_guard {
	char	*base;
	size_t	 size;		/* usable bytes before the guard page */
};

static inline void
unit_guard_init(struct unit_guard *g, size_t max)
{
	size_t	 page = (size_t)sysconf(_SC_PAGESIZE);

	g->size = (max + page - 1) / page * page;
	if (g->size == 0)
		g->size = page;
	g->base = mmap(NULL, g->size + page, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->base == MAP_FAILED ||
	    mprotect(g->base + g->size, page, PROT_NONE) == -1) {
		perror("unit_guard_init: mmap/mprotect");
		exit(2);
	}
}

static inline void
unit_guard_free(struct unit_guard *g)
{
	munmap(g->base, g->size + (size_t)sysconf(_SC_PAGESIZE));
	g->base = NULL;
}

/* Places src[0..n) so that its last byte is the last before the guard. */
static inline char *
unit_guard_put(struct unit_guard *g, const void *src, size_t n)
{
	char	*p;

	if (n > g->size) {
		fprintf(stderr, "unit_guard_put: %zu > %zu bytes\n", n,
		    g->size);
		exit(2);
	}
	p = g->base + g->size - n;
	if (n > 0)
		memmove(p, src, n);
	return p;
}

/* An output buffer of exactly n bytes ending at the guard page. */
static inline char *
unit_guard_space(struct unit_guard *g, size_t n)
{
	if (n > g->size) {
		fprintf(stderr, "unit_guard_space: %zu > %zu bytes\n", n,
		    g->size);
		exit(2);
	}
	return g->base + g->size - n;
}

/*
 * The shape the brief names: two pages, the second PROT_NONE, the bytes at
 * the end of the first. Inputs larger than a page get as many pages as
 * they need. Free with unit_guarded_free(p, n).
 */
static inline char *
unit_guarded(const void *src, size_t n)
{
	struct unit_guard	 g;

	unit_guard_init(&g, n);
	return unit_guard_put(&g, src, n);
}

static inline void
unit_guarded_free(char *p, size_t n)
{
	size_t			 page = (size_t)sysconf(_SC_PAGESIZE);
	struct unit_guard	 g;

	g.size = (n + page - 1) / page * page;
	if (g.size == 0)
		g.size = page;
	g.base = p + n - g.size;
	unit_guard_free(&g);
}

static inline void
unit_init(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--seed") == 0)
		unit_seed_dir = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [--seed DIR]\n", argv[0]);
		exit(2);
	}
}

/*
 * With --seed DIR, writes p[0..n) to DIR/<target>/unit-<hash>: named by
 * content (FNV-1a), so regenerating is idempotent and order-independent.
 */
static inline void
unit_seed(const char *target, const void *p, size_t n)
{
	const unsigned char	*s = p;
	uint64_t		 h = UINT64_C(14695981039346656037);
	char			 path[4096];
	FILE			*f;
	size_t			 i;

	if (unit_seed_dir == NULL)
		return;
	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * UINT64_C(1099511628211);
	snprintf(path, sizeof(path), "%s/%s", unit_seed_dir, target);
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		perror(path);
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/%s/unit-%016llx", unit_seed_dir,
	    target, (unsigned long long)h);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* Prints the totals; the last line is exactly "N passed, N failed". */
static inline int
unit_summary(void)
{
	fflush(stdout);
	printf("%lu passed, %lu failed\n", unit_passed, unit_failed);
	fflush(stdout);
	return unit_failed == 0 ? 0 : 1;
}

#endif
