/* table.c: insertion-ordered hash table (see table.h). */
#include "table.h"

#include <string.h>

#include "mem.h"

void cbag__table_init(cbag__table *t) {
    memset(t, 0, sizeof *t);
    cbag__arena_init(&t->keys, 0);
    cbag__arena_init(&t->vals[0], 0);
    cbag__arena_init(&t->vals[1], 0);
}

void cbag__table_free(cbag__table *t) {
    cbag__free(t->e);
    cbag__free(t->slots);
    cbag__free(t->dirty);
    cbag__arena_free(&t->keys);
    cbag__arena_free(&t->vals[0]);
    cbag__arena_free(&t->vals[1]);
    memset(t, 0, sizeof *t);
}

static void slot_put(uint32_t *slots, uint32_t mask, uint64_t h, uint32_t i) {
    uint32_t s = (uint32_t)h & mask;
    while (slots[s])
        s = (s + 1) & mask;
    slots[s] = i + 1;
}

static int grow(cbag__table *t) {
    uint32_t cap = t->cap ? t->cap * 2 : 16;
    cbag__tentry *e = cbag__realloc(t->e, (size_t)cap * sizeof *e);
    if (!e) return -1;
    t->e = e;
    uint32_t nslots = cap * 2;
    uint32_t *slots = cbag__calloc(nslots, sizeof *slots);
    if (!slots) return -1;
    for (uint32_t i = 0; i < t->n; i++)
        slot_put(slots, nslots - 1, t->e[i].hash, i);
    cbag__free(t->slots);
    t->slots = slots;
    t->mask = nslots - 1;
    t->cap = cap;
    return 0;
}

long cbag__table_find(const cbag__table *t, const cbag_val *key) {
    if (!t->slots) return -1;
    uint64_t h = cbag_hash(key);
    for (uint32_t s = (uint32_t)h & t->mask; t->slots[s];
         s = (s + 1) & t->mask) {
        uint32_t i = t->slots[s] - 1;
        if (t->e[i].hash == h && cbag_eq(&t->e[i].key, key)) return i;
    }
    return -1;
}

long cbag__table_upsert(cbag__table *t, const cbag_val *key, int *fresh) {
    uint64_t h = cbag_hash(key);
    if (t->slots) {
        for (uint32_t s = (uint32_t)h & t->mask; t->slots[s];
             s = (s + 1) & t->mask) {
            uint32_t i = t->slots[s] - 1;
            if (t->e[i].hash == h && cbag_eq(&t->e[i].key, key)) {
                *fresh = 0;
                return i;
            }
        }
    }
    if (t->n == t->cap && grow(t)) return -1;
    cbag__tentry *e = &t->e[t->n];
    if (cbag__copy_into(&t->keys, &e->key, key)) return -1;
    e->hash = h;
    cbag__set_null(&e->val);
    e->ref = NULL;
    e->dirty = 0;
    slot_put(t->slots, t->mask, h, t->n);
    *fresh = 1;
    return t->n++;
}

int cbag__table_set_ref(cbag__table *t, uint32_t i, const cbag_val *v) {
    cbag__tentry *e = &t->e[i];
    e->ref = v;
    if (!e->dirty) {
        if (t->ndirty == t->dirty_cap) {
            uint32_t cap = t->dirty_cap ? t->dirty_cap * 2 : 64;
            uint32_t *d = cbag__realloc(t->dirty, (size_t)cap * sizeof *d);
            if (!d) return -1;
            t->dirty = d;
            t->dirty_cap = cap;
        }
        t->dirty[t->ndirty++] = i;
        e->dirty = 1;
    }
    return 0;
}

/* Values replaced since the last compaction are garbage in the current
 * arena; once it holds much more than the live values, every value moves
 * to the other arena and the old one is dropped. */
static int compact(cbag__table *t) {
    int next = 1 - t->cur;
    cbag__arena_reset(&t->vals[next]);
    for (uint32_t i = 0; i < t->n; i++) {
        cbag_val copy;
        if (cbag__copy_into(&t->vals[next], &copy, &t->e[i].val)) return -1;
        t->e[i].val = copy;
    }
    cbag__arena_reset(&t->vals[t->cur]);
    t->cur = next;
    t->live = cbag__arena_used(&t->vals[next]);
    return 0;
}

int cbag__table_flush(cbag__table *t) {
    cbag__arena *a = &t->vals[t->cur];
    for (uint32_t k = 0; k < t->ndirty; k++) {
        cbag__tentry *e = &t->e[t->dirty[k]];
        e->dirty = 0;
        if (!e->ref) continue;
        if (cbag__copy_into(a, &e->val, e->ref)) return -1;
        e->ref = NULL;
    }
    t->ndirty = 0;
    if (cbag__arena_used(a) > 4 * t->live + (4u << 20)) return compact(t);
    return 0;
}
