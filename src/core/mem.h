/* mem.h: the allocator every module goes through.
 *
 * One place to hook allocation lets the tests make the N-th allocation fail
 * (as SQLite's OOM tests do) and check that every caller reports it. */
#ifndef CBAG_MEM_H
#define CBAG_MEM_H

#include <stddef.h>

void *cbag__malloc(size_t n);
void *cbag__calloc(size_t n, size_t size);
void *cbag__realloc(void *p, size_t n);
void cbag__free(void *p);
char *cbag__strdup(const char *s);

/* Fault injection for tests: the countdown-th allocation from now fails
 * (and, if sticky, every later one). 0 turns it off. Returns the number of
 * allocations since the last call, so a test can learn how many to try. */
long cbag__mem_fail_after(long countdown, int sticky);

/* For the fuzzers: a single allocation of more than max bytes fails, as if
 * memory were exhausted, so that "x" * 10**9 is a clean error rather than
 * a gigabyte. 0 (the default) turns it off. */
void cbag__mem_max_alloc(size_t max);

#endif
