/* arena.h: bump allocation in chunks, freed all at once.
 *
 * Every value lives in an arena. A batch of records is parsed into one,
 * flows through the fused operators, and the arena is reset: no per-record
 * malloc or free. Allocation failure returns NULL. */
#ifndef CBAG_ARENA_H
#define CBAG_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct cbag__chunk cbag__chunk;

typedef struct cbag__arena {
    char *cur, *end;     /* free space in the current chunk */
    cbag__chunk *chunks; /* newest first */
    size_t used;         /* bytes handed out since the last reset */
    size_t chunk_size;   /* size of the next ordinary chunk (doubles) */
    uint64_t epoch;      /* bumped by every reset: older pointers are dead */
} cbag__arena;

void cbag__arena_init(cbag__arena *a, size_t chunk_size);
/* Frees all but the largest ordinary chunk; all allocations die. */
void cbag__arena_reset(cbag__arena *a);
void cbag__arena_free(cbag__arena *a);
void *cbag__arena_alloc_slow(cbag__arena *a, size_t n);

/* n bytes aligned to 8. */
static inline void *cbag__arena_alloc(cbag__arena *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    if ((size_t)(a->end - a->cur) >= n && n) {
        void *p = a->cur;
        a->cur += n;
        a->used += n;
        return p;
    }
    return cbag__arena_alloc_slow(a, n);
}

/* Moves every chunk of src into dst, so that what was allocated in src
 * lives as long as dst; src is left empty (as after a reset: its epoch is
 * bumped). A sink that keeps most of a batch takes the batch's memory
 * instead of copying each value out of it. */
void cbag__arena_adopt(cbag__arena *dst, cbag__arena *src);
/* Bytes handed out since the last reset. */
static inline size_t cbag__arena_used(const cbag__arena *a) { return a->used; }

#endif
