/* alloc.c: libbz2's and liblzma's allocator hooks, routed through cbag's
 * allocator so allocation failures are injected and reported like any
 * other (shared by the readers in decomp.c and the writers in out.c). */
#include <lzma.h>

#include "mem.h"
#include "src.h"

void *cbag__bz_alloc(void *op, int n, int m) {
    (void)op;
    return cbag__malloc((size_t)n * (size_t)m);
}

void cbag__bz_free(void *op, void *p) {
    (void)op;
    cbag__free(p);
}

static void *xz_alloc(void *op, size_t n, size_t m) {
    (void)op;
    return cbag__malloc(n * m);
}

static void xz_free(void *op, void *p) {
    (void)op;
    cbag__free(p);
}

const lzma_allocator cbag__xz_allocator = {xz_alloc, xz_free, NULL};
