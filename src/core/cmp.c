/* cmp.c: Python's equality, a total order, and a hash that is stable
 * across processes and machines (XXH3 over explicit little-endian
 * encodings), for the value model of value.h. */
#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "bytes.h"
#include "mem.h"
#include "value.h"

/* ------------------------------------------------------------------------ */
/* Equality and order                                                       */

static inline int is_intlike(const cbag_val *v) {
    return v->type == CBAG_INT || v->type == CBAG_BOOL;
}

/* 2**63 as a double: the first double above every int64. */
#define TWO63 9223372036854775808.0

/* Compares an int64 with a double exactly, never rounding the int: -1, 0,
 * 1, or 2 when d is NaN. */
static int cmp_int_double(int64_t i, double d) {
    if (isnan(d)) return 2;
    if (d >= TWO63) return -1;
    if (d < -TWO63) return 1;
    /* |d| < 2**63: its integer part is an exact int64. */
    int64_t t = (int64_t)d;
    if (i != t) return i < t ? -1 : 1;
    double frac = d - (double)t; /* exact */
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

/* Compares two numbers exactly: -1, 0, 1, or 2 when either is NaN. */
static int cmp_num(const cbag_val *a, const cbag_val *b) {
    if (is_intlike(a)) {
        if (is_intlike(b)) return (a->u.i > b->u.i) - (a->u.i < b->u.i);
        return cmp_int_double(a->u.i, b->u.f);
    }
    if (is_intlike(b)) {
        int r = cmp_int_double(b->u.i, a->u.f);
        return r == 2 ? 2 : -r;
    }
    double x = a->u.f, y = b->u.f;
    if (isnan(x) || isnan(y)) return 2;
    return (x > y) - (x < y);
}

/* Containers: the same body is equal (as Python's identity shortcut for
 * elements; it also ends the walk of a cycle at once); below
 * CBAG__MAX_DEPTH only the same body is. */
static bool eq_d(const cbag_val *a, const cbag_val *b, int depth) {
    if (!a) a = &cbag__none;
    if (!b) b = &cbag__none;
    if (cbag__is_num(a) && cbag__is_num(b)) return cmp_num(a, b) == 0;
    if (a->type != b->type) return false;
    switch (a->type) {
    case CBAG_NULL: return true;
    case CBAG_STR:
        return a->len == b->len && cbag__mem_eq(a->u.s, b->u.s, a->len);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *s = a->u.seq, *t = b->u.seq;
        if (s == t) return true;
        if (s->len != t->len || depth >= CBAG__MAX_DEPTH) return false;
        for (uint32_t i = 0; i < s->len; i++)
            if (!eq_d(&s->items[i], &t->items[i], depth + 1)) return false;
        return true;
    }
    case CBAG_DICT: {
        const cbag__dict *s = a->u.dict, *t = b->u.dict;
        if (s == t) return true;
        if (s->len != t->len || depth >= CBAG__MAX_DEPTH) return false;
        /* Same keys, equal values, in any order. Equal dicts usually list
         * their keys in the same order, so try the same position first. */
        for (uint32_t i = 0; i < s->len; i++) {
            const cbag__entry *e = &s->entries[i];
            const cbag_val *other;
            if (eq_d(&e->key, &t->entries[i].key, depth + 1)) {
                other = &t->entries[i].val;
            } else {
                long j = cbag__dict_find(b, &e->key);
                if (j < 0) return false;
                other = &t->entries[j].val;
            }
            if (!eq_d(&e->val, other, depth + 1)) return false;
        }
        return true;
    }
    default: return false;
    }
}

bool cbag_eq(const cbag_val *a, const cbag_val *b) { return eq_d(a, b, 0); }

/* The kinds in order: numbers < None < str < tuple < list < dict. */
static int kind_rank(const cbag_val *v) {
    switch (v->type) {
    case CBAG_BOOL:
    case CBAG_INT:
    case CBAG_FLOAT: return 0;
    case CBAG_NULL: return 1;
    case CBAG_STR: return 2;
    case CBAG_TUPLE: return 3;
    case CBAG_LIST: return 4;
    default: return 5;
    }
}

static inline int is_nan(const cbag_val *v) {
    return v->type == CBAG_FLOAT && isnan(v->u.f);
}

static int cmp_d(const cbag_val *a, const cbag_val *b, int depth);

static int entry_cmp(const cbag__entry *x, const cbag__entry *y, int depth) {
    int r = cmp_d(&x->key, &y->key, depth);
    return r ? r : cmp_d(&x->val, &y->val, depth);
}

/* The smallest entry above prev (all when prev is NULL), and in *mult how
 * many entries compare equal to it. */
static const cbag__entry *next_entry(const cbag__dict *d,
                                     const cbag__entry *prev, uint32_t *mult,
                                     int depth) {
    const cbag__entry *best = NULL;
    uint32_t m = 0;
    for (uint32_t i = 0; i < d->len; i++) {
        const cbag__entry *e = &d->entries[i];
        if (prev && entry_cmp(e, prev, depth) <= 0) continue;
        int r = best ? entry_cmp(e, best, depth) : -1;
        if (r < 0) {
            best = e;
            m = 1;
        } else if (r == 0) {
            m++;
        }
    }
    *mult = m;
    return best;
}

/* Compares two dicts of equal length as their sorted lists of entries,
 * walking both in order without sorting: quadratic, for small dicts or
 * when no memory can be had for sorting. */
static int dict_cmp_walk(const cbag__dict *a, const cbag__dict *b, int depth) {
    const cbag__entry *pa = NULL, *pb = NULL;
    for (;;) {
        uint32_t ma, mb;
        const cbag__entry *ea = next_entry(a, pa, &ma, depth);
        const cbag__entry *eb = next_entry(b, pb, &mb, depth);
        if (!ea || !eb) return (ea != NULL) - (eb != NULL);
        int r = entry_cmp(ea, eb, depth);
        if (r) return r;
        /* The one with fewer copies of this entry goes on with a greater
         * one where the other still repeats it (lengths are equal). */
        if (ma != mb) return ma < mb ? 1 : -1;
        pa = ea;
        pb = eb;
    }
}

/* Sorts entry numbers by entry_cmp: a bottom-up merge sort, since the C
 * library's qsort has no context argument in C11. */
static void sort_entries(const cbag__dict *d, uint32_t *p, uint32_t *tmp,
                         int depth) {
    uint32_t n = d->len;
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n;
            uint32_t hi = mid + w < n ? mid + w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] =
                    entry_cmp(&d->entries[p[j]], &d->entries[p[i]], depth) < 0
                        ? p[j++]
                        : p[i++];
            while (i < mid)
                tmp[k++] = p[i++];
            while (j < hi)
                tmp[k++] = p[j++];
        }
        memcpy(p, tmp, n * sizeof *p);
        if (w > UINT32_MAX / 2) break;
    }
}

/* Dicts order by length, then as their entries sorted by (key, value):
 * arbitrary but total, and consistent with the order-independent
 * equality (equal dicts compare 0 whatever their insertion order). */
static int dict_cmp(const cbag__dict *a, const cbag__dict *b, int depth) {
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    uint32_t n = a->len;
    /* Same entries in the same order: equal, the common case. */
    uint32_t i = 0;
    while (i < n && entry_cmp(&a->entries[i], &b->entries[i], depth) == 0)
        i++;
    if (i == n) return 0;
    if (n <= 32) return dict_cmp_walk(a, b, depth);
    /* No overflow: the entries already take 32 bytes each. */
    uint32_t *p = cbag__malloc(4 * (size_t)n * sizeof *p);
    if (!p) return dict_cmp_walk(a, b, depth);
    uint32_t *pa = p, *pb = p + n, *tmp = p + 2 * (size_t)n;
    for (i = 0; i < n; i++)
        pa[i] = pb[i] = i;
    sort_entries(a, pa, tmp, depth);
    sort_entries(b, pb, tmp, depth);
    int r = 0;
    for (i = 0; i < n && !r; i++)
        r = entry_cmp(&a->entries[pa[i]], &b->entries[pb[i]], depth);
    cbag__free(p);
    return r;
}

/* Containers: the same body compares 0. Distinct ones below
 * CBAG__MAX_DEPTH (code-built, or cyclic) are ordered by address, which
 * ends the walk at once, as Python's RecursionError would, though not the
 * same way in every run. */
static int cmp_d(const cbag_val *a, const cbag_val *b, int depth) {
    if (!a) a = &cbag__none;
    if (!b) b = &cbag__none;
    int ra = kind_rank(a), rb = kind_rank(b);
    if (ra != rb) return ra < rb ? -1 : 1;
    switch (a->type) {
    case CBAG_BOOL:
    case CBAG_INT:
    case CBAG_FLOAT: {
        int r = cmp_num(a, b);
        if (r != 2) return r;
        /* NaN after every number, equal to itself for ordering. */
        return is_nan(a) - is_nan(b);
    }
    case CBAG_NULL: return 0;
    case CBAG_STR: {
        /* UTF-8 byte order is code point order. */
        uint32_t n = a->len < b->len ? a->len : b->len;
        int r = n ? memcmp(a->u.s, b->u.s, n) : 0;
        if (r) return r < 0 ? -1 : 1;
        return (a->len > b->len) - (a->len < b->len);
    }
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *s = a->u.seq, *t = b->u.seq;
        uint32_t n = s->len < t->len ? s->len : t->len;
        if (s == t) return 0;
        if (depth >= CBAG__MAX_DEPTH)
            return (uintptr_t)s < (uintptr_t)t ? -1 : 1;
        for (uint32_t i = 0; i < n; i++) {
            int r = cmp_d(&s->items[i], &t->items[i], depth + 1);
            if (r) return r;
        }
        return (s->len > t->len) - (s->len < t->len);
    }
    default:
        if (a->u.dict == b->u.dict) return 0;
        if (depth >= CBAG__MAX_DEPTH)
            return (uintptr_t)a->u.dict < (uintptr_t)b->u.dict ? -1 : 1;
        return dict_cmp(a->u.dict, b->u.dict, depth + 1);
    }
}

int cbag_cmp(const cbag_val *a, const cbag_val *b) { return cmp_d(a, b, 0); }

/* ------------------------------------------------------------------------ */
/* Hashing                                                                  */
/*
 * XXH3 over explicit little-endian encodings, with one seed per kind, so
 * hashes are the same on every machine and in every run. Equal values hash
 * equal: bools and integral floats hash as the int of the same value.
 */

#define SEED_NUM 0x6e756d6265722121ull   /* ints, integral floats */
#define SEED_FLOAT 0x666c6f6174212121ull /* other floats */
#define SEED_STR 0x7374722121212121ull
#define SEED_LIST 0x6c69737421212121ull
#define SEED_TUPLE 0x7475706c65212121ull
#define SEED_DICT 0x6469637421212121ull
#define SEED_ENTRY 0x656e747279212121ull
#define HASH_NONE 0x9e3779b97f4a7c15ull
#define HASH_NAN 0x7ff8000000000000ull

static inline void put_le64(unsigned char *p, uint64_t x) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static inline uint64_t hash_u64(uint64_t x, uint64_t seed) {
    unsigned char b[8];
    put_le64(b, x);
    return XXH3_64bits_withSeed(b, sizeof b, seed);
}

static inline uint64_t hash_pair(uint64_t x, uint64_t y, uint64_t seed) {
    unsigned char b[16];
    put_le64(b, x);
    put_le64(b + 8, y);
    return XXH3_64bits_withSeed(b, sizeof b, seed);
}

static uint64_t hash_double(double d) {
    if (isnan(d)) return HASH_NAN;
    if (d >= -TWO63 && d < TWO63 && d == (double)(int64_t)d)
        return hash_u64((uint64_t)(int64_t)d, SEED_NUM); /* -0.0 too */
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return hash_u64(bits, SEED_FLOAT);
}

uint64_t cbag__hash_str(const char *s, size_t len) {
    return XXH3_64bits_withSeed(len ? s : "", len, SEED_STR);
}

/* A value with a container below CBAG__MAX_DEPTH (code-built, or cyclic)
 * hashes as HASH_DEEP: the first one met sets *deep and ends the walk
 * (values equal to it have the same shape, so they meet one too). */
#define HASH_DEEP 0x646565702121212full

static uint64_t hash_d(const cbag_val *v, int depth, int *deep) {
    if (!v) return HASH_NONE;
    if ((v->type == CBAG_LIST || v->type == CBAG_TUPLE ||
         v->type == CBAG_DICT) &&
        depth >= CBAG__MAX_DEPTH) {
        *deep = 1;
        return 0;
    }
    switch (v->type) {
    case CBAG_BOOL:
    case CBAG_INT: return hash_u64((uint64_t)v->u.i, SEED_NUM);
    case CBAG_FLOAT: return hash_double(v->u.f);
    case CBAG_STR: return cbag__hash_str(v->u.s, v->len);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        uint64_t seed = v->type == CBAG_LIST ? SEED_LIST : SEED_TUPLE;
        const cbag__seq *s = v->u.seq;
        uint64_t h = seed;
        for (uint32_t i = 0; i < s->len && !*deep; i++)
            h = hash_pair(h, hash_d(&s->items[i], depth + 1, deep), seed);
        return hash_pair(h, s->len, seed);
    }
    case CBAG_DICT: {
        /* A sum of entry hashes does not depend on the order. */
        const cbag__dict *d = v->u.dict;
        uint64_t sum = 0;
        for (uint32_t i = 0; i < d->len && !*deep; i++)
            sum += hash_pair(hash_d(&d->entries[i].key, depth + 1, deep),
                             hash_d(&d->entries[i].val, depth + 1, deep),
                             SEED_ENTRY);
        return hash_pair(sum, d->len, SEED_DICT);
    }
    default: return HASH_NONE;
    }
}

uint64_t cbag_hash(const cbag_val *v) {
    int deep = 0;
    uint64_t h = hash_d(v, 0, &deep);
    return deep ? HASH_DEEP : h;
}
