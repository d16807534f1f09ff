/* frame_agg.c: df.groupby(by)[column].agg(). Each partition maps its rows
 * to dense group numbers with a hash table keyed on the typed key column
 * (strings hashed by their bytes, no values built), then updates one
 * small state per group and column in a tight loop over each column.
 * The partitions' tables are combined in partition order on the calling
 * thread (so results do not depend on the worker count), sorted by key,
 * and written as a one-partition frame indexed by the keys. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "frame.h"
#include "mem.h"

enum { AG_COUNT, AG_SIZE, AG_SUM, AG_MEAN, AG_MIN, AG_MAX, AG_NUNIQUE };
static const char *const agg_names[] = {"count", "size", "sum",    "mean",
                                        "min",   "max",  "nunique"};

/* A key or a cell by reference into the frame's arrays. */
typedef union kref {
    int64_t i;
    double f;
    struct {
        const char *p;
        uint64_t len;
    } s;
    const cbag_val *v;
} kref;

/* An open-addressing table of (tag, key) pairs numbered in insertion
 * order: the groups of a partition (tag 0), or the distinct (group,
 * value) pairs that nunique counts. */
typedef struct htab {
    int type;
    uint32_t *slots; /* entry + 1; 0: empty */
    uint32_t mask, n, cap;
    uint64_t *hash;
    uint32_t *tag;
    kref *key;
} htab;

static void ht_free(htab *t) {
    cbag__free(t->slots);
    cbag__free(t->hash);
    cbag__free(t->tag);
    cbag__free(t->key);
    memset(t, 0, sizeof *t);
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static uint64_t key_hash(int t, const kref *k) {
    switch (t) {
    case F_INT:
    case F_BOOL: return mix64((uint64_t)k->i);
    case F_FLOAT: {
        double d = k->f == 0 ? 0.0 : k->f; /* -0.0 == 0.0 */
        uint64_t u;
        memcpy(&u, &d, 8);
        return mix64(u);
    }
    case F_STR: return cbag__hash_str(k->s.p, k->s.len);
    default: return cbag_hash(k->v);
    }
}

static int key_eq(int t, const kref *a, const kref *b) {
    switch (t) {
    case F_INT:
    case F_BOOL: return a->i == b->i;
    case F_FLOAT: return a->f == b->f;
    case F_STR:
        return a->s.len == b->s.len && cbag__mem_eq(a->s.p, b->s.p, a->s.len);
    default: return cbag_eq(a->v, b->v);
    }
}

static int key_cmp(int t, const kref *a, const kref *b) {
    switch (t) {
    case F_INT:
    case F_BOOL: return (a->i > b->i) - (a->i < b->i);
    case F_FLOAT: return (a->f > b->f) - (a->f < b->f);
    case F_STR: {
        size_t n = a->s.len < b->s.len ? a->s.len : b->s.len;
        int c = memcmp(a->s.p, b->s.p, n);
        if (c) return c;
        return (a->s.len > b->s.len) - (a->s.len < b->s.len);
    }
    default: return cbag_cmp(a->v, b->v);
    }
}

static int ht_grow(htab *t) {
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    uint64_t *h = cbag__realloc(t->hash, cap * sizeof *h);
    if (h) t->hash = h;
    uint32_t *g = h ? cbag__realloc(t->tag, cap * sizeof *g) : NULL;
    if (g) t->tag = g;
    kref *k = g ? cbag__realloc(t->key, cap * sizeof *k) : NULL;
    if (k) t->key = k;
    uint32_t *s = k ? cbag__calloc((size_t)cap * 2, sizeof *s) : NULL;
    if (!s) return -1;
    uint32_t mask = cap * 2 - 1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t j = (uint32_t)t->hash[i] & mask;
        while (s[j])
            j = (j + 1) & mask;
        s[j] = i + 1;
    }
    cbag__free(t->slots);
    t->slots = s;
    t->mask = mask;
    t->cap = cap;
    return 0;
}

/* The number of (tag, k), added if new (*fresh); -1 when out of memory. */
static long ht_put(htab *t, uint32_t tag, const kref *k, uint64_t h,
                   int *fresh) {
    *fresh = 0;
    if (t->slots) {
        for (uint32_t j = (uint32_t)h & t->mask, e; (e = t->slots[j]);
             j = (j + 1) & t->mask)
            if (t->hash[e - 1] == h && t->tag[e - 1] == tag &&
                key_eq(t->type, &t->key[e - 1], k))
                return e - 1;
    }
    if (t->n == t->cap && ht_grow(t)) return -1;
    uint32_t i = t->n++;
    t->hash[i] = h;
    t->tag[i] = tag;
    t->key[i] = *k;
    uint32_t j = (uint32_t)h & t->mask;
    while (t->slots[j])
        j = (j + 1) & t->mask;
    t->slots[j] = i + 1;
    *fresh = 1;
    return i;
}

/* ------------------------------------------------------------------------ */
/* States                                                                   */

typedef struct agst {
    int64_t count; /* cells holding a value */
    int64_t isum;
    double fsum, comp; /* Kahan-compensated float sum */
    int overflow;
    int has; /* best holds a min or max */
    kref best;
} agst;

typedef struct plan {
    const cbag_frame *f;
    int agg;
    long by;
    size_t ncols; /* aggregated columns */
    long *cols;
} plan;

/* What one partition leaves for the combine (malloc'd). */
typedef struct ppart {
    htab groups;
    int64_t *size; /* rows per group */
    agst *st;      /* groups.n x ncols */
    htab *uniq;    /* ncols pair sets (nunique) */
} ppart;

typedef struct agg_arg {
    plan *pl;
    ppart *pp;
} agg_arg;

static void ppart_free(ppart *p, size_t ncols) {
    ht_free(&p->groups);
    cbag__free(p->size);
    cbag__free(p->st);
    if (p->uniq)
        for (size_t c = 0; c < ncols; c++)
            ht_free(&p->uniq[c]);
    cbag__free(p->uniq);
    memset(p, 0, sizeof *p);
}

static inline void cell_ref(const cbag__fcol *c, int t, size_t r, kref *k) {
    switch (t) {
    case F_INT: k->i = ((const int64_t *)c->data)[r]; break;
    case F_FLOAT: k->f = ((const double *)c->data)[r]; break;
    case F_BOOL: k->i = ((const uint8_t *)c->data)[r]; break;
    case F_STR: {
        size_t len;
        k->s.p = cbag__fstr(c, r, &len);
        k->s.len = len;
        break;
    }
    default: k->v = &((const cbag_val *)c->data)[r]; break;
    }
}

/* A cell that counts as missing: no value, NaN, an object None. */
static inline int cell_missing(const cbag__fcol *c, int t, size_t r) {
    if (!cbag__fvalid(c, r)) return 1;
    if (t == F_FLOAT) return isnan(((const double *)c->data)[r]);
    if (t == F_OBJ) return ((const cbag_val *)c->data)[r].type == CBAG_NULL;
    return 0;
}

static void kahan(agst *s, double x) {
    double y = x - s->comp, t = s->fsum + y;
    s->comp = (t - s->fsum) - y;
    s->fsum = t;
}

static void isum_add(agst *s, int64_t x) {
    if (__builtin_add_overflow(s->isum, x, &s->isum)) s->overflow = 1;
}

static void minmax(agst *s, int t, const kref *k, int max) {
    if (!s->has) {
        s->best = *k;
        s->has = 1;
        return;
    }
    int c = key_cmp(t, k, &s->best);
    if (max ? c > 0 : c < 0) s->best = *k;
}

/* The group number of each row of part (-1: key missing). */
static int assign_groups(const plan *pl, const cbag__fpart *part, ppart *pp,
                         int32_t *gid) {
    const cbag__fcol *kc = &part->cols[pl->by];
    int t = pl->f->types[pl->by];
    pp->groups.type = t;
    size_t cap = 0;
    long last = -1;
    kref lastk = {0};
    for (size_t r = 0; r < part->n; r++) {
        if (cell_missing(kc, t, r)) {
            if (gid) gid[r] = -1;
            continue;
        }
        kref k;
        cell_ref(kc, t, r, &k);
        /* Keys often come in runs (rows of one record): skip the hash.
         * String keys, the usual case, are compared inline. */
        if (last >= 0 &&
            (t == F_STR ? k.s.len == lastk.s.len &&
                              cbag__mem_eq(k.s.p, lastk.s.p, k.s.len)
                        : key_eq(t, &k, &lastk))) {
            if (gid) gid[r] = (int32_t)last;
            pp->size[last]++;
            continue;
        }
        int fresh;
        long g = ht_put(&pp->groups, 0, &k, key_hash(t, &k), &fresh);
        if (g < 0 || g > INT32_MAX) return -1;
        if ((size_t)g >= cap) {
            size_t nc = cap ? cap * 2 : 64;
            int64_t *s = cbag__realloc(pp->size, nc * sizeof *s);
            if (!s) return -1;
            memset(s + cap, 0, (nc - cap) * sizeof *s);
            pp->size = s;
            cap = nc;
        }
        if (gid) gid[r] = (int32_t)g;
        pp->size[g]++;
        last = g;
        lastk = k;
    }
    return 0;
}

/* Updates the states of column c (aggregated column j) for every row. */
static int fold_col(const plan *pl, const cbag__fpart *part, ppart *pp,
                    const int32_t *gid, size_t j) {
    long ci = pl->cols[j];
    const cbag__fcol *c = &part->cols[ci];
    int t = pl->f->types[ci];
    size_t nc = pl->ncols;
    agst *st = pp->st;
    htab *u = pp->uniq ? &pp->uniq[j] : NULL;
    if (u) u->type = t;
    for (size_t r = 0; r < part->n; r++) {
        int32_t g = gid[r];
        if (g < 0 || cell_missing(c, t, r)) continue;
        agst *s = &st[(size_t)g * nc + j];
        s->count++;
        kref k;
        switch (pl->agg) {
        case AG_SUM:
        case AG_MEAN:
            if (t == F_FLOAT) {
                kahan(s, ((const double *)c->data)[r]);
            } else {
                int64_t x = t == F_INT ? ((const int64_t *)c->data)[r]
                                       : ((const uint8_t *)c->data)[r];
                isum_add(s, x);
                if (pl->agg == AG_MEAN) kahan(s, (double)x);
            }
            break;
        case AG_MIN:
        case AG_MAX:
            cell_ref(c, t, r, &k);
            minmax(s, t, &k, pl->agg == AG_MAX);
            break;
        case AG_NUNIQUE: {
            cell_ref(c, t, r, &k);
            int fresh;
            uint64_t h = key_hash(t, &k) ^ mix64((uint64_t)g + 1);
            if (ht_put(u, (uint32_t)g, &k, h, &fresh) < 0) return -1;
            break;
        }
        default: break;
        }
    }
    return 0;
}

static int agg_task(cbag__worker *w, size_t part, void *arg) {
    agg_arg *a = arg;
    const plan *pl = a->pl;
    const cbag__fpart *p = &pl->f->parts[part];
    ppart *pp = &a->pp[part];
    /* Row-to-group numbers are needed only to fold column values; a size,
     * or a count over columns without missing cells, is the group sizes. */
    int need_rows = pl->agg != AG_SIZE;
    if (pl->agg == AG_COUNT) {
        need_rows = 0;
        for (size_t j = 0; j < pl->ncols; j++) {
            const cbag__fcol *c = &p->cols[pl->cols[j]];
            int t = pl->f->types[pl->cols[j]];
            if (c->valid || t == F_FLOAT || t == F_OBJ) need_rows = 1;
        }
    }
    int32_t *gid =
        need_rows ? cbag__malloc((p->n ? p->n : 1) * sizeof *gid) : NULL;
    int rc = gid || !need_rows ? assign_groups(pl, p, pp, gid) : -1;
    size_t ng = pp->groups.n, nc = pl->ncols;
    if (!rc) {
        pp->st = cbag__calloc(ng * nc + 1, sizeof *pp->st);
        if (pl->agg == AG_NUNIQUE)
            pp->uniq = cbag__calloc(nc + 1, sizeof *pp->uniq);
        if (!pp->st || (pl->agg == AG_NUNIQUE && !pp->uniq)) rc = -1;
    }
    for (size_t j = 0; j < nc && !rc && pl->agg != AG_SIZE; j++) {
        const cbag__fcol *c = &p->cols[pl->cols[j]];
        int t = pl->f->types[pl->cols[j]];
        if (pl->agg == AG_COUNT && !c->valid && t != F_FLOAT && t != F_OBJ) {
            /* No missing cell: the count is the group's size. */
            for (size_t g = 0; g < ng; g++)
                pp->st[g * nc + j].count = pp->size[g];
            continue;
        }
        rc = fold_col(pl, p, pp, gid, j);
    }
    cbag__free(gid);
    return rc ? cbag__fail(w, "groupby", CBAG_NOMEM, "out of memory") : 0;
}

/* ------------------------------------------------------------------------ */
/* Combining and the result                                                 */

static int merge_state(agst *d, const agst *s, int t, int agg) {
    d->count += s->count;
    if (agg == AG_SUM || agg == AG_MEAN) {
        if (s->overflow) d->overflow = 1;
        isum_add(d, s->isum);
        kahan(d, s->fsum);
        kahan(d, -s->comp);
    } else if ((agg == AG_MIN || agg == AG_MAX) && s->has) {
        minmax(d, t, &s->best, agg == AG_MAX);
    }
    return 0;
}

typedef struct combined {
    htab keys;
    int64_t *size;
    agst *st;
    int64_t *nuniq; /* groups x ncols */
    size_t cap;
} combined;

static int combined_room(combined *c, size_t ng, size_t nc) {
    if (ng <= c->cap) return 0;
    size_t cap = c->cap ? c->cap * 2 : 64;
    if (cap < ng) cap = ng;
    int64_t *s = cbag__realloc(c->size, cap * sizeof *s);
    if (!s) return -1;
    c->size = s;
    agst *st = cbag__realloc(c->st, cap * nc * sizeof *st + 1);
    if (!st) return -1;
    c->st = st;
    int64_t *u = cbag__realloc(c->nuniq, cap * nc * sizeof *u + 1);
    if (!u) return -1;
    c->nuniq = u;
    memset(c->size + c->cap, 0, (cap - c->cap) * sizeof *s);
    memset(c->st + c->cap * nc, 0, (cap - c->cap) * nc * sizeof *st);
    memset(c->nuniq + c->cap * nc, 0, (cap - c->cap) * nc * sizeof *u);
    c->cap = cap;
    return 0;
}

static int combine(const plan *pl, ppart *pp, combined *cb, htab *uniq) {
    const cbag_frame *f = pl->f;
    size_t nc = pl->ncols;
    cb->keys.type = f->types[pl->by];
    for (size_t p = 0; p < f->nparts; p++) {
        ppart *q = &pp[p];
        uint32_t *map = cbag__malloc((q->groups.n + 1) * sizeof *map);
        if (!map) return -1;
        for (uint32_t g = 0; g < q->groups.n; g++) {
            int fresh;
            long gg = ht_put(&cb->keys, 0, &q->groups.key[g], q->groups.hash[g],
                             &fresh);
            if (gg < 0 || combined_room(cb, (size_t)gg + 1, nc)) {
                cbag__free(map);
                return -1;
            }
            map[g] = (uint32_t)gg;
            cb->size[gg] += q->size[g];
            for (size_t j = 0; j < nc; j++)
                merge_state(&cb->st[(size_t)gg * nc + j], &q->st[g * nc + j],
                            f->types[pl->cols[j]], pl->agg);
        }
        for (size_t j = 0; q->uniq && j < nc; j++) {
            const htab *u = &q->uniq[j];
            uniq[j].type = u->type;
            for (uint32_t e = 0; e < u->n; e++) {
                uint32_t gg = map[u->tag[e]];
                uint64_t h =
                    key_hash(u->type, &u->key[e]) ^ mix64((uint64_t)gg + 1);
                int fresh;
                if (ht_put(&uniq[j], gg, &u->key[e], h, &fresh) < 0) {
                    cbag__free(map);
                    return -1;
                }
                if (fresh) cb->nuniq[(size_t)gg * nc + j]++;
            }
        }
        cbag__free(map);
        ppart_free(q, nc);
    }
    return 0;
}

static int by_key(const void *a, const void *b, void *arg) {
    const htab *t = arg;
    return key_cmp(t->type, &t->key[*(const uint32_t *)a],
                   &t->key[*(const uint32_t *)b]);
}

/* Column type of the result of agg over a column of type t. */
static int result_type(int agg, int t) {
    switch (agg) {
    case AG_MEAN: return F_FLOAT;
    case AG_SUM: return t == F_FLOAT ? F_FLOAT : F_INT;
    case AG_MIN:
    case AG_MAX: return t;
    default: return F_INT;
    }
}

/* Writes cell i of a result column from a kref of type t. */
static void put_ref(cbag__fcol *c, int t, size_t i, const kref *k) {
    switch (t) {
    case F_INT: ((int64_t *)c->data)[i] = k->i; break;
    case F_FLOAT: ((double *)c->data)[i] = k->f; break;
    case F_BOOL: ((uint8_t *)c->data)[i] = (uint8_t)k->i; break;
    case F_STR: {
        /* The caller sized bytes for every string put. */
        uint64_t *off = c->data;
        off[i + 1] = off[i] + k->s.len;
        memcpy((char *)c->bytes + off[i], k->s.p, k->s.len);
        break;
    }
    default: ((cbag_val *)c->data)[i] = *k->v; break;
    }
}

/* Allocates a result column of type t for n rows; strings get room for
 * bytes bytes. */
static int alloc_col(cbag_ctx *cx, cbag__fcol *c, int t, size_t n, size_t bytes,
                     int with_valid) {
    size_t es = t == F_BOOL ? 1 : t == F_OBJ ? sizeof(cbag_val) : 8;
    c->data = cbag__galloc(cx, (n + 1) * es);
    if (!c->data) return -1;
    if (t == F_STR && !(c->bytes = cbag__galloc(cx, bytes + 1))) return -1;
    if (with_valid && !(c->valid = cbag__galloc(cx, (n + 63) / 64 * 8 + 8)))
        return -1;
    return 0;
}

static void set_valid(cbag__fcol *c, size_t i) {
    if (c->valid) ((uint64_t *)c->valid)[i >> 6] |= (uint64_t)1 << (i & 63);
}

static cbag_frame *build_result(cbag_ctx *cx, const plan *pl, combined *cb,
                                const char *column) {
    const cbag_frame *f = pl->f;
    size_t ng = cb->keys.n, nc = pl->ncols;
    int kt = f->types[pl->by];
    uint32_t *order = cbag__malloc((ng + 1) * sizeof *order);
    if (!order) return NULL;
    for (uint32_t g = 0; g < ng; g++)
        order[g] = g;
    qsort_r(order, ng, sizeof *order, by_key, &cb->keys);
    size_t outc = pl->agg == AG_SIZE ? 1 : nc;
    cbag_frame *r = cbag__frame_new(cx, outc, 1);
    if (!r) goto fail;
    r->index_type = (uint8_t)kt;
    r->index_name = f->names[pl->by];
    r->series = column != NULL || pl->agg == AG_SIZE;
    r->series_name = column;
    cbag__fpart *p = &r->parts[0];
    p->n = ng;
    /* The index: the keys, sorted. */
    size_t kbytes = 0;
    if (kt == F_STR)
        for (size_t g = 0; g < ng; g++)
            kbytes += cb->keys.key[g].s.len;
    if (alloc_col(cx, &p->index, kt, ng, kbytes, 0)) goto fail;
    for (size_t i = 0; i < ng; i++)
        put_ref(&p->index, kt, i, &cb->keys.key[order[i]]);
    for (size_t j = 0; j < outc; j++) {
        int t = pl->agg == AG_SIZE ? F_INT : f->types[pl->cols[j]];
        int rt = result_type(pl->agg, t);
        r->names[j] = pl->agg == AG_SIZE ? (column ? column : "size")
                                         : f->names[pl->cols[j]];
        r->types[j] = (uint8_t)rt;
        cbag__fcol *c = &p->cols[j];
        int nullable =
            pl->agg == AG_MEAN || pl->agg == AG_MIN || pl->agg == AG_MAX;
        size_t bytes = 0;
        if (rt == F_STR)
            for (size_t g = 0; g < ng; g++)
                if (cb->st[g * nc + j].has)
                    bytes += cb->st[g * nc + j].best.s.len;
        if (alloc_col(cx, c, rt, ng, bytes, nullable)) goto fail;
        for (size_t i = 0; i < ng; i++) {
            size_t g = order[i];
            agst *s = &cb->st[g * nc + j];
            switch (pl->agg) {
            case AG_SIZE: ((int64_t *)c->data)[i] = cb->size[g]; break;
            case AG_COUNT: ((int64_t *)c->data)[i] = s->count; break;
            case AG_NUNIQUE:
                ((int64_t *)c->data)[i] = cb->nuniq[g * nc + j];
                break;
            case AG_SUM:
                if (rt == F_FLOAT) {
                    ((double *)c->data)[i] = s->fsum;
                } else if (s->overflow) {
                    cbag__error(cx, CBAG_OVERFLOW,
                                "groupby: OverflowError: the sum of column "
                                "'%s' leaves the int64 range",
                                r->names[j]);
                    goto fail;
                } else {
                    ((int64_t *)c->data)[i] = s->isum;
                }
                break;
            case AG_MEAN:
                if (s->count) {
                    double tot =
                        t == F_FLOAT || s->overflow ? s->fsum : (double)s->isum;
                    ((double *)c->data)[i] = tot / (double)s->count;
                    set_valid(c, i);
                }
                break;
            default: /* min, max */
                if (s->has) {
                    put_ref(c, rt, i, &s->best);
                    set_valid(c, i);
                } else if (rt == F_STR) {
                    uint64_t *off = c->data;
                    off[i + 1] = off[i];
                }
                break;
            }
        }
    }
    cbag__free(order);
    return r;
fail:
    cbag__free(order);
    if (cx->code == CBAG_OK)
        cbag__error(cx, CBAG_NOMEM, "groupby: out of memory");
    return NULL;
}

/* Which columns agg applies to in df.groupby(by).agg(). */
static int applies(int agg, int t, int named) {
    if (agg == AG_SUM || agg == AG_MEAN)
        return t == F_INT || t == F_FLOAT || t == F_BOOL;
    if (agg == AG_MIN || agg == AG_MAX) return named || t != F_OBJ;
    return 1;
}

cbag_frame *cbag_frame_groupby(cbag_frame *f, const char *by,
                               const char *column, const char *agg) {
    if (!f) return NULL;
    cbag_ctx *cx = f->cx;
    plan pl = {f, -1, -1, 0, NULL};
    for (int i = 0; agg && i < 7; i++)
        if (!strcmp(agg, agg_names[i])) pl.agg = i;
    if (pl.agg < 0) {
        cbag__error(cx, CBAG_INVALID,
                    "groupby: unknown aggregation '%s' (use count, size, "
                    "sum, mean, min, max or nunique)",
                    agg ? agg : "(null)");
        return NULL;
    }
    pl.by = by ? cbag__frame_find(f, by) : -1;
    long col = column ? cbag__frame_find(f, column) : -1;
    if (pl.by < 0 || (column && col < 0)) {
        cbag__error(cx, CBAG_KEY, "groupby: KeyError: '%s'",
                    pl.by < 0 ? (by ? by : "(null)") : column);
        return NULL;
    }
    pl.cols = cbag__galloc(cx, (f->ncols + 1) * sizeof *pl.cols);
    if (!pl.cols) return NULL;
    if (column) {
        if (!applies(pl.agg, f->types[col], 1)) {
            cbag__error(cx, CBAG_TYPE,
                        "groupby: TypeError: %s needs a numeric column, and "
                        "'%s' is %s",
                        agg, column, cbag__ftype_name(f->types[col]));
            return NULL;
        }
        pl.cols[pl.ncols++] = col;
    } else if (pl.agg != AG_SIZE) {
        for (size_t i = 0; i < f->ncols; i++)
            if ((long)i != pl.by && applies(pl.agg, f->types[i], 0))
                pl.cols[pl.ncols++] = (long)i;
    }
    agg_arg a = {&pl, cbag__calloc(f->nparts + 1, sizeof(ppart))};
    htab *uniq = cbag__calloc(pl.ncols + 1, sizeof *uniq);
    combined cb;
    memset(&cb, 0, sizeof cb);
    cbag_frame *r = NULL;
    if (!a.pp || !uniq) {
        cbag__error(cx, CBAG_NOMEM, "groupby: out of memory");
        goto done;
    }
    /* (with mpi the frame is on every rank, and so is this) */
    if (cbag__run_stage(cx, NULL, 0, f->nparts, agg_task, &a, NULL)) goto done;
    if (combine(&pl, a.pp, &cb, uniq)) {
        cbag__error(cx, CBAG_NOMEM, "groupby: out of memory");
        goto done;
    }
    r = build_result(cx, &pl, &cb, column);
done:
    for (size_t p = 0; a.pp && p < f->nparts; p++)
        ppart_free(&a.pp[p], pl.ncols);
    cbag__free(a.pp);
    for (size_t j = 0; uniq && j < pl.ncols; j++)
        ht_free(&uniq[j]);
    cbag__free(uniq);
    ht_free(&cb.keys);
    cbag__free(cb.size);
    cbag__free(cb.st);
    cbag__free(cb.nuniq);
    return r;
}
