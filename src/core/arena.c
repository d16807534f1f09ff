/* arena.c: chunked bump allocator (see arena.h). */
#include "arena.h"

#include "mem.h"

struct cbag__chunk {
    cbag__chunk *next;
    size_t size; /* usable bytes after the header */
};

#define HDR ((sizeof(cbag__chunk) + 7) & ~(size_t)7)

void cbag__arena_init(cbag__arena *a, size_t chunk_size) {
    a->cur = a->end = NULL;
    a->chunks = NULL;
    a->used = 0;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
}

void *cbag__arena_alloc_slow(cbag__arena *a, size_t n) {
    if (n == 0) n = 8;
    /* Big requests get a chunk of their own so the current one is kept. */
    size_t size = n > a->chunk_size / 4 ? n : a->chunk_size;
    if (size > SIZE_MAX - HDR) return NULL;
    cbag__chunk *c = cbag__malloc(HDR + size);
    if (!c) return NULL;
    c->size = size;
    char *mem = (char *)c + HDR;
    a->used += n;
    if (size == n && a->chunks) {
        /* Keep bumping in the current chunk: put the big one second. */
        c->next = a->chunks->next;
        a->chunks->next = c;
        return mem;
    }
    c->next = a->chunks;
    a->chunks = c;
    a->cur = mem + n;
    a->end = mem + size;
    return mem;
}

void cbag__arena_reset(cbag__arena *a) {
    /* Keep one ordinary chunk to avoid malloc churn batch after batch. */
    cbag__chunk *keep = NULL, *c = a->chunks;
    while (c) {
        cbag__chunk *next = c->next;
        if (!keep && c->size == a->chunk_size)
            keep = c;
        else
            cbag__free(c);
        c = next;
    }
    a->chunks = keep;
    a->used = 0;
    if (keep) {
        keep->next = NULL;
        a->cur = (char *)keep + HDR;
        a->end = a->cur + keep->size;
    } else {
        a->cur = a->end = NULL;
    }
}

void cbag__arena_free(cbag__arena *a) {
    cbag__chunk *c = a->chunks;
    while (c) {
        cbag__chunk *next = c->next;
        cbag__free(c);
        c = next;
    }
    a->chunks = NULL;
    a->cur = a->end = NULL;
    a->used = 0;
}
