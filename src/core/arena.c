/* arena.c: chunked bump allocator (see arena.h).
 *
 * Chunks start small and double up to CBAG__ARENA_MAX_CHUNK, so an arena
 * per partition costs little for small partitions and few mallocs for big
 * ones. A request larger than a quarter of the current chunk size gets a
 * chunk of its own, so the chunk being filled is not abandoned. */
#include "arena.h"

#include "mem.h"

#define CBAG__ARENA_MAX_CHUNK (1u << 20)

struct cbag__chunk {
    cbag__chunk *next;
    size_t size; /* usable bytes after the header */
    int own;     /* holds one big request */
};

#define HDR ((sizeof(cbag__chunk) + 7) & ~(size_t)7)

void cbag__arena_init(cbag__arena *a, size_t chunk_size) {
    a->cur = a->end = NULL;
    a->chunks = NULL;
    a->used = 0;
    a->epoch = 0;
    a->chunk_size = chunk_size ? chunk_size : 4096;
}

void *cbag__arena_alloc_slow(cbag__arena *a, size_t n) {
    if (n == 0) n = 8;
    int own = n > a->chunk_size / 4;
    size_t size = own ? n : a->chunk_size;
    if (size > SIZE_MAX - HDR) return NULL;
    cbag__chunk *c = cbag__malloc(HDR + size);
    if (!c) return NULL;
    c->size = size;
    c->own = own;
    char *mem = (char *)c + HDR;
    a->used += n;
    if (own && a->chunks) {
        /* Keep bumping in the current chunk: put the big one second. */
        c->next = a->chunks->next;
        a->chunks->next = c;
        return mem;
    }
    if (!own && a->chunk_size < CBAG__ARENA_MAX_CHUNK) a->chunk_size *= 2;
    c->next = a->chunks;
    a->chunks = c;
    a->cur = mem + n;
    a->end = mem + size;
    return mem;
}

void cbag__arena_reset(cbag__arena *a) {
    /* Keep the largest ordinary chunk: the next batch will likely need as
     * much, and this saves a malloc/free pair per batch. */
    cbag__chunk *keep = NULL, *c;
    for (c = a->chunks; c; c = c->next)
        if (!c->own && (!keep || c->size > keep->size)) keep = c;
    c = a->chunks;
    while (c) {
        cbag__chunk *next = c->next;
        if (c != keep) cbag__free(c);
        c = next;
    }
    a->chunks = keep;
    a->used = 0;
    a->epoch++;
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
    a->epoch++;
}

void cbag__arena_adopt(cbag__arena *dst, cbag__arena *src) {
    cbag__chunk *c = src->chunks;
    if (!c) return;
    /* dst keeps bumping in its current chunk: src's chunks go behind it. */
    cbag__chunk *last = c;
    while (last->next)
        last = last->next;
    if (dst->chunks) {
        last->next = dst->chunks->next;
        dst->chunks->next = c;
    } else {
        last->next = NULL;
        dst->chunks = c;
        dst->cur = src->cur;
        dst->end = src->end;
    }
    dst->used += src->used;
    src->chunks = NULL;
    src->cur = src->end = NULL;
    src->used = 0;
    src->epoch++;
}
