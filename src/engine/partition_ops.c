/* partition_ops.c: random_sample, repartition and product: K_OPS nodes
 * that sample or rearrange partitions, with dask 2022.12's boundaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "keyed.h"
#include "mem.h"
#include "rng.h"

/* ------------------------------------------------------------------------ */
/* random_sample                                                            */

typedef struct {
    double prob;
    uint64_t seed;
} sample_state;

typedef struct {
    cbag__sink s;
    uint64_t rng[4];
    double prob;
} sample_sink;

static int sample_push(cbag__sink *s, const cbag_val *x) {
    sample_sink *ss = (sample_sink *)s;
    double u = cbag__uniform(ss->rng);
    return u < ss->prob ? s->next->push(s->next, x) : 0;
}

static void sample_flush(cbag__sink *s) { s->next->flush(s->next); }

/* Each partition draws from its own generator, seeded from (seed, index),
 * so the sample does not depend on which worker runs what. */
static int sample_run(cbag__worker *w, const cbag *b, size_t part,
                      cbag__sink *out) {
    const sample_state *st = b->state;
    sample_sink ss = {{sample_push, sample_flush, out, b, w}, {0}, st->prob};
    uint64_t x = st->seed;
    uint64_t mix = cbag__splitmix64(&x) ^ (uint64_t)part * 0xD1B54A32D192ED03ull;
    for (int i = 0; i < 4; i++)
        ss.rng[i] = cbag__splitmix64(&mix);
    return cbag__run_part(w, b->in, part, &ss.s);
}

static const cbag__ops sample_ops = {sample_run, NULL, NULL, 1, 0};

cbag *cbag_random_sample(cbag *b, double prob, uint64_t seed) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    if (!(prob >= 0 && prob <= 1)) {
        cbag__error(cx, CBAG_INVALID,
                    "random_sample: ValueError: prob must "
                    "be a number in the interval [0, 1]");
        return NULL;
    }
    sample_state *st = cbag__galloc(cx, sizeof *st);
    if (!st) return NULL;
    st->prob = prob;
    st->seed = seed;
    cbag *n = cbag__ops_node(b, &sample_ops, b->nparts,
                             cbag__gstrf(cx, "random_sample(%g)", prob));
    if (n) n->state = st;
    return n;
}

/* ------------------------------------------------------------------------ */
/* repartition                                                              */

/* Fewer partitions: output j concatenates inputs [bounds[j], bounds[j+1]),
 * streaming them in order. */
static int merge_run(cbag__worker *w, const cbag *b, size_t part,
                     cbag__sink *out) {
    const size_t *bounds = b->state;
    for (size_t i = bounds[part]; i < bounds[part + 1]; i++) {
        int r = cbag__run_part(w, b->in, i, out);
        if (r) return r;
    }
    return 0;
}

static const cbag__ops merge_ops = {merge_run, NULL, NULL, 0, 0};

/* More partitions: each input partition is computed once and cut into
 * nsplits pieces as dask's split(seq, n). */
typedef struct {
    const cbag *b;
    cbag__mat *m;
    cbag_val *lists; /* the input partitions, whole */
} split_arg;

/* Input partition part's list cut into its outputs' parts (sharing its
 * elements); -1 when memory is exhausted. */
static int cut(split_arg *a, size_t part) {
    const size_t *first = a->b->state; /* first output of each input */
    cbag__arena *ar = &a->m->arenas[part];
    const cbag_val list = a->lists[part];
    size_t k = first[part + 1] - first[part], len = list.u.seq->len;
    double piece = (double)len / (double)k;
    cbag__seq *bodies = cbag__arena_alloc(ar, k * sizeof *bodies);
    if (!bodies) return -1;
    for (size_t t = 0; t < k; t++) {
        size_t lo = (size_t)(piece * (double)t);
        size_t hi = t + 1 == k ? len : (size_t)(piece * (double)(t + 1));
        bodies[t].len = bodies[t].cap = (uint32_t)(hi - lo);
        bodies[t].items = list.u.seq->items + lo;
        cbag_val *p = &a->m->parts[first[part] + t];
        p->type = CBAG_LIST;
        p->u.seq = &bodies[t];
    }
    return 0;
}

static int split_collect(cbag__worker *w, size_t part, void *arg) {
    split_arg *a = arg;
    int r = cbag__collect(w, a->b->in, part, &a->m->arenas[part],
                          &a->lists[part], 0);
    if (!r && cut(a, part))
        r = cbag__fail(w, a->b->name, CBAG_NOMEM, "out of memory");
    return r;
}

/* With mpi the input partitions go whole to every rank, cut there. */
static int split_unpack(const void *p, size_t n, size_t part, void *arg,
                        char *err, size_t errlen) {
    split_arg *a = arg;
    cbag__xvals xv = {a->lists, a->m->arenas, 0, NULL};
    if (cbag__xvals_unpack(p, n, part, &xv, err, errlen)) return -1;
    if (!cut(a, part)) return 0;
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int split_pack(cbag__buf *out, size_t part, void *arg) {
    split_arg *a = arg;
    cbag__xvals xv = {a->lists, a->m->arenas, 0, NULL};
    return cbag__xvals_pack(out, part, &xv);
}

static int split_prepare(cbag_ctx *cx, cbag *b) {
    if (b->mat) return CBAG_OK;
    size_t n = b->in->nparts;
    cbag__mat *m = cbag__mat_new(cx, b, b->nparts, n);
    if (!m) return CBAG_NOMEM;
    split_arg a = {b, m, cbag__calloc(n ? n : 1, sizeof *a.lists)};
    cbag__xchg x = {CBAG__X_ALL, split_pack, split_unpack, &a};
    /* (a rank short of memory runs no partition: the stage fails) */
    int rc = cbag__run_stage(cx, a.lists ? b->in : NULL, 0, a.lists ? n : 0,
                             split_collect, &a, &x);
    if (!rc && !a.lists) {
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        rc = CBAG_NOMEM;
    }
    cbag__free(a.lists);
    if (rc) {
        cbag__mat_free(m);
        return rc;
    }
    b->mat = m;
    return CBAG_OK;
}

static const cbag__ops split_ops = {NULL, split_prepare, NULL, 0, 0};

cbag *cbag_repartition(cbag *b, size_t npartitions) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    size_t n = b->nparts;
    if (npartitions == 0) {
        cbag__error(cx, CBAG_INVALID,
                    "repartition: npartitions must be at least 1");
        return NULL;
    }
    if (npartitions == n) return b; /* as dask: the same bag */
    const char *nm = cbag__gstrf(cx, "repartition(%zu)", npartitions);
    if (npartitions < n) {
        /* dask: int(i * (n / npartitions)) for i in 0..npartitions, in
         * doubles, then 0 and n added at the ends if missing. */
        size_t *bounds = cbag__galloc(cx, (npartitions + 3) * sizeof *bounds);
        if (!bounds) return NULL;
        double ratio = (double)n / (double)npartitions;
        size_t nb = 0;
        for (size_t i = 0; i <= npartitions; i++)
            bounds[nb++] = (size_t)((double)i * ratio);
        if (bounds[0] > 0) {
            memmove(bounds + 1, bounds, nb * sizeof *bounds);
            bounds[0] = 0;
            nb++;
        }
        if (bounds[nb - 1] < n) bounds[nb++] = n;
        cbag *r = cbag__ops_node(b, &merge_ops, nb - 1, nm);
        if (r) r->state = bounds;
        return r;
    }
    /* dask: divmod(npartitions, n) splits per partition, the last one
     * taking the remainder. first[i]: the first output of input i. */
    size_t *first = cbag__galloc(cx, (n + 1) * sizeof *first);
    if (!first) return NULL;
    size_t div = npartitions / n, mod = npartitions % n;
    for (size_t i = 0; i <= n; i++)
        first[i] = i * div;
    first[n] += mod;
    cbag *r = cbag__ops_node(b, &split_ops, npartitions, nm);
    if (r) r->state = first;
    return r;
}

/* ------------------------------------------------------------------------ */
/* product                                                                  */

typedef struct {
    cbag__sink s;
    const cbag_val *right; /* a list */
} product_sink;

static int product_push(cbag__sink *s, const cbag_val *x) {
    const cbag__seq *r = ((product_sink *)s)->right->u.seq;
    cbag__worker *w = s->w;
    for (uint32_t i = 0; i < r->len; i++) {
        cbag_val *t = cbag__arena_alloc(&w->batch, sizeof *t);
        if (!t || cbag__seq_init(&w->batch, t, CBAG_TUPLE, 2) ||
            cbag__seq_push(&w->batch, t, x) ||
            cbag__seq_push(&w->batch, t, &r->items[i]))
            return cbag__fail(w, s->node->name, CBAG_NOMEM, "out of memory");
        int rc = s->next->push(s->next, t);
        if (rc) return rc;
    }
    return 0;
}

static void product_flush(cbag__sink *s) { s->next->flush(s->next); }

/* Partition i * m + j: itertools.product(a_i, b_j). b_j is collected (it
 * is iterated once per element of a_i); a_i streams. */
static int product_run(cbag__worker *w, const cbag *b, size_t part,
                       cbag__sink *out) {
    size_t m = b->ins[1]->nparts;
    cbag__arena a;
    cbag__arena_init(&a, 64 * 1024);
    cbag_val right;
    int r = cbag__collect(w, b->ins[1], part % m, &a, &right, 0);
    if (!r) {
        product_sink ps = {{product_push, product_flush, out, b, w}, &right};
        r = cbag__run_part(w, b->ins[0], part / m, &ps.s);
    }
    out->flush(out); /* what the sinks keep may point into a */
    cbag__arena_free(&a);
    return r;
}

static const cbag__ops product_ops = {product_run, NULL, NULL, 0, 0};

cbag *cbag_product(cbag *a, cbag *b) {
    if (!a || !b) return NULL;
    cbag_ctx *cx = a->cx;
    if (b->cx != cx) {
        cbag__error(cx, CBAG_INVALID,
                    "product: the bags are from different "
                    "contexts");
        return NULL;
    }
    cbag **ins = cbag__galloc(cx, 2 * sizeof *ins);
    if (!ins) return NULL;
    ins[0] = a;
    ins[1] = b;
    cbag *n = cbag__ops_node(a, &product_ops, a->nparts * b->nparts, "product");
    if (!n) return NULL;
    n->in = NULL; /* the inputs are ins, for prepare and release */
    n->ins = ins;
    n->nins = 2;
    return n;
}
