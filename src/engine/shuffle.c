/* shuffle.c: the in-memory shuffle store of reduce_by_key, join_bags and
 * sort_by (see shuffle.h). */
#include "shuffle.h"

#include <stdlib.h>
#include <string.h>

#include "keyed.h"
#include "mem.h"

/* ------------------------------------------------------------------------ */
/* The store                                                                */

void cbag__store_free(cbag__store *s) {
    for (size_t i = 0; s->p && i < s->n; i++) {
        cbag__part_store *p = &s->p[i];
        cbag__arena_free(&p->a);
        cbag__table_free(&p->t);
        cbag__free(p->e);
        cbag__free(p->order);
        cbag__free(p->off);
    }
    cbag__free(s->p);
    s->p = NULL;
    s->n = 0;
}

int cbag__store_init(cbag__store *s, size_t n) {
    s->p = cbag__calloc(n ? n : 1, sizeof *s->p);
    if (!s->p) return -1;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        cbag__arena_init(&s->p[i].a, 0);
        cbag__table_init(&s->p[i].t);
    }
    return 0;
}

static int kv_reserve(cbag__part_store *p) {
    if (p->n < p->cap) return 0;
    size_t cap = p->cap ? 2 * p->cap : 64;
    cbag__kv *e = cbag__realloc(p->e, cap * sizeof *e);
    if (!e) return -1;
    p->e = e;
    p->cap = cap;
    return 0;
}

size_t cbag__hash_dest(const cbag_val *key, size_t nout, const void *ctx) {
    (void)ctx;
    return cbag__bucket_of(key, nout); /* groupby's, so buckets agree */
}

/* Groups p's pairs by output partition, keeping input order within each:
 * counts land in off[d + 2], so that after the prefix sums placing with
 * off[d + 1]++ leaves off[d] at the start of bucket d. */
int cbag__route(cbag__part_store *p, size_t nout, cbag__dest_fn dest,
                const void *ctx) {
    if (!nout) nout = 1; /* no output partition: no element reaches here */
    size_t n = p->n ? p->n : 1;
    size_t *d = cbag__malloc(n * sizeof *d);
    p->off = cbag__calloc(nout + 2, sizeof *p->off);
    p->order = cbag__malloc(n * sizeof *p->order);
    if (!d || !p->off || !p->order) {
        cbag__free(d);
        return -1;
    }
    for (size_t i = 0; i < p->n; i++) {
        d[i] = nout > 1 ? dest(&p->e[i].key, nout, ctx) : 0;
        p->off[d[i] + 2]++;
    }
    for (size_t j = 1; j < nout + 2; j++)
        p->off[j] += p->off[j - 1];
    for (size_t i = 0; i < p->n; i++)
        p->order[p->off[d[i] + 1]++] = i;
    cbag__free(d);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Stage 1: (key, element) pairs of every input partition                   */

typedef struct {
    cbag__sink s;
    const cbag_val *field;
    cbag_map_fn key_fn;
    void *ud;
    cbag__part_store *p;
} pair_sink;

static int pair_push(cbag__sink *s, const cbag_val *x) {
    pair_sink *ps = (pair_sink *)s;
    const cbag_val *key =
        cbag__key_of(s->w, s->node->name, ps->field, ps->key_fn, ps->ud, x);
    if (!key) return -1;
    cbag__part_store *p = ps->p;
    if (kv_reserve(p)) goto oom;
    cbag__kv *e = &p->e[p->n];
    if (cbag__copy_into(&p->a, &e->val, x)) goto oom;
    if (key == x)
        e->key = e->val; /* sorting by the element: one copy */
    else if (cbag__copy_into(&p->a, &e->key, key))
        goto oom;
    p->n++;
    return 0;
oom:
    return cbag__fail(s->w, s->node->name, CBAG_NOMEM,
                      "out of memory in the shuffle");
}

static void no_flush(cbag__sink *s) { (void)s; } /* push copies */

typedef struct {
    const cbag *b;  /* the node: its name for errors */
    const cbag *in; /* the side read */
    const cbag_val *field;
    cbag_map_fn key_fn;
    void *ud;
    cbag__store *st;
    int hash; /* route by hash at once (else sort_by routes later) */
} side_arg;

static int side_task(cbag__worker *w, size_t part, void *arg) {
    side_arg *a = arg;
    cbag__part_store *p = &a->st->p[part];
    pair_sink ps = {
        {pair_push, no_flush, NULL, a->b, w}, a->field, a->key_fn, a->ud, p};
    int r = cbag__run_part(w, a->in, part, &ps.s);
    if (r == 1) r = 0;
    if (!r && a->hash && cbag__route(p, a->b->nparts, cbag__hash_dest, NULL))
        r = cbag__fail(w, a->b->name, CBAG_NOMEM, "out of memory");
    return r;
}

/* Runs stage 1 over every partition of in into st (made here). */
int cbag__read_side(cbag_ctx *cx, const cbag *b, const cbag *in,
                    const cbag_val *field, cbag_map_fn key_fn, void *ud,
                    cbag__store *st, int hash) {
    if (cbag__store_init(st, in->nparts)) {
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return CBAG_NOMEM;
    }
    side_arg a = {b, in, field, key_fn, ud, st, hash};
    return cbag__run_stage(cx, in, 0, in->nparts, side_task, &a);
}

/* Output partition part: pushes its elements built by emit, between them
 * letting the batch arena go and the compute stop. */
int cbag__emit_done(cbag__worker *w, cbag__sink *out, uint64_t i) {
    w->elem = i;
    return cbag__between(w, out);
}

/* A (a, b) tuple in the batch arena, or NULL. */
cbag_val *cbag__pair_of(cbag__worker *w, const cbag_val *a, const cbag_val *b) {
    cbag_val *t = cbag__arena_alloc(&w->batch, sizeof *t);
    if (!t || cbag__seq_init(&w->batch, t, CBAG_TUPLE, 2) ||
        cbag__seq_push(&w->batch, t, a) || cbag__seq_push(&w->batch, t, b))
        return NULL;
    return t;
}

/* "op(field-repr or fn-name[, extra])" in the graph arena. */
const char *cbag__op_name(cbag_ctx *cx, const char *op, const cbag_val *field,
                          const char *fname, const char *extra) {
    char *r = field ? cbag_format(field, CBAG_FMT_REPR, NULL) : NULL;
    const char *k = r ? r : fname;
    const char *s = cbag__gstrf(cx, "%s(%s%s%s)", op, k ? k : "",
                                k && extra ? ", " : "", extra ? extra : "");
    free(r);
    return s;
}
