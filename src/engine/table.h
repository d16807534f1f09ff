/* table.h: an insertion-ordered hash table from keys to values, for foldby
 * and groupby. Keys are hashed with cbag_hash and compared with cbag_eq.
 * Entries live in a malloc'd array in first-seen order; keys are copied
 * into the table's arena when inserted. */
#ifndef CBAG_TABLE_H
#define CBAG_TABLE_H

#include "arena.h"
#include "value.h"

typedef struct cbag__tentry {
    uint64_t hash;
    cbag_val key;
    cbag_val val;        /* owned copy (or a container being built) */
    const cbag_val *ref; /* the value by reference until the next flush */
    uint32_t dirty;      /* on the dirty list */
} cbag__tentry;

typedef struct cbag__table {
    cbag__tentry *e;
    uint32_t n, cap;
    uint32_t *slots; /* entry + 1, 0 = empty; at most half full */
    uint32_t mask;
    cbag__arena keys;
    cbag__arena vals[2]; /* values alternate between two arenas */
    int cur;
    size_t live; /* bytes of values after the last compaction */
    uint32_t *dirty;
    uint32_t ndirty, dirty_cap;
} cbag__table;

void cbag__table_init(cbag__table *t);
void cbag__table_free(cbag__table *t);
/* Finds key, or inserts a copy of it with a null value. Returns the entry
 * index, or -1 when memory is exhausted. *fresh tells whether it is new. */
long cbag__table_upsert(cbag__table *t, const cbag_val *key, int *fresh);
/* The index of the entry whose key equals key, or -1. */
long cbag__table_find(const cbag__table *t, const cbag_val *key);
/* Sets entry i's value by reference (kept valid until cbag__table_flush). */
int cbag__table_set_ref(cbag__table *t, uint32_t i, const cbag_val *v);
/* Copies every value held by reference into the table's own memory (the
 * batch arena is about to be reset). 0, or -1 when memory is exhausted. */
int cbag__table_flush(cbag__table *t);
/* The current value of entry i. */
static inline const cbag_val *cbag__table_val(const cbag__table *t,
                                              uint32_t i) {
    return t->e[i].ref ? t->e[i].ref : &t->e[i].val;
}

#endif
