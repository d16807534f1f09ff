/* mem.c: allocation with optional fault injection (see mem.h). */
#include "mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown; /* 0: off; n: the n-th call fails */
static atomic_long alloc_count;
static atomic_int fail_sticky;
static atomic_size_t max_alloc; /* 0: no limit */

static int should_fail(void) {
    atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
    long c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (c == 0) return 0;
    long now = atomic_fetch_sub(&fail_countdown, 1);
    if (now == 1) {
        if (atomic_load(&fail_sticky)) atomic_store(&fail_countdown, -1);
        return 1;
    }
    if (now <= 0) {
        atomic_store(&fail_countdown, atomic_load(&fail_sticky) ? -1 : 0);
        return atomic_load(&fail_sticky);
    }
    return 0;
}

long cbag__mem_fail_after(long countdown, int sticky) {
    atomic_store(&fail_sticky, sticky);
    atomic_store(&fail_countdown, countdown);
    return atomic_exchange(&alloc_count, 0);
}

void cbag__mem_max_alloc(size_t max) { atomic_store(&max_alloc, max); }

static int too_big(size_t n) {
    size_t max = atomic_load_explicit(&max_alloc, memory_order_relaxed);
    return max && n > max;
}

void *cbag__malloc(size_t n) {
    return too_big(n) || should_fail() ? NULL : malloc(n ? n : 1);
}

void *cbag__calloc(size_t n, size_t size) {
    if (size && n > (size_t)-1 / size) return NULL;
    return too_big(n * size) || should_fail()
               ? NULL
               : calloc(n ? n : 1, size ? size : 1);
}

void *cbag__realloc(void *p, size_t n) {
    return too_big(n) || should_fail() ? NULL : realloc(p, n ? n : 1);
}

void cbag__free(void *p) { free(p); }

char *cbag__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = cbag__malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}
