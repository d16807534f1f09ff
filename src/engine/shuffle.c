/* shuffle.c: the in-memory shuffle store of reduce_by_key, join_bags and
 * sort_by (see shuffle.h). */
#include "shuffle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dist.h"
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

/* Groups p's pairs by output partition d[i], keeping input order within
 * each: counts land in off[d + 2], so that after the prefix sums placing
 * with off[d + 1]++ leaves off[d] at the start of bucket d. */
static int route_by(cbag__part_store *p, size_t nout, const size_t *d) {
    size_t n = p->n ? p->n : 1;
    p->off = cbag__calloc(nout + 2, sizeof *p->off);
    p->order = cbag__malloc(n * sizeof *p->order);
    if (!p->off || !p->order) return -1;
    for (size_t i = 0; i < p->n; i++)
        p->off[d[i] + 2]++;
    for (size_t j = 1; j < nout + 2; j++)
        p->off[j] += p->off[j - 1];
    for (size_t i = 0; i < p->n; i++)
        p->order[p->off[d[i] + 1]++] = i;
    return 0;
}

int cbag__route(cbag__part_store *p, size_t nout, cbag__dest_fn dest,
                const void *ctx) {
    if (!nout) nout = 1; /* no output partition: no element reaches here */
    size_t *d = cbag__malloc((p->n ? p->n : 1) * sizeof *d);
    if (!d) return -1;
    for (size_t i = 0; i < p->n; i++)
        d[i] = nout > 1 ? dest(&p->e[i].key, nout, ctx) : 0;
    int rc = route_by(p, nout, d);
    cbag__free(d);
    return rc;
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
    /* with mpi, a rank fills the stores of the partitions it runs */
    cbag__xchg x = {CBAG__X_SPLIT, NULL, NULL, NULL};
    return cbag__run_stage(cx, in, 0, in->nparts, side_task, &a, &x);
}

/* ------------------------------------------------------------------------ */
/* With mpi: each bucket to the rank of its output partition               */

typedef struct {
    cbag_ctx *cx;
    const cbag *b;
    cbag__store *st, *got;
    size_t nout;
    int everywhere;
    const int *owner;
    size_t i, j, k; /* sending: partition, bucket, position in it */
    cbag__buf enc;
    size_t **dest; /* per input partition of got: output of each pair */
    size_t *dcap;
} store_x;

static int sx_next(void *ud, cbag__piece *pc, char *err, size_t errlen) {
    store_x *x = ud;
    for (; x->i < x->st->n; x->i++, x->j = 0) {
        if (x->owner[x->i] != x->cx->rank) continue;
        const cbag__part_store *p = &x->st->p[x->i];
        for (; x->j < x->nout; x->j++) {
            size_t end = p->off[x->j + 1];
            if (x->k < p->off[x->j]) x->k = p->off[x->j];
            if (x->k >= end) continue;
            cbag__codec_writer cw;
            x->enc.len = 0;
            int bad = cbag__codec_begin(&cw, &x->enc);
            for (; !bad && x->k < end && x->enc.len < CBAG__PIECE_BYTES; x->k++)
                bad = cbag__codec_put(&cw, &p->e[p->order[x->k]].key) ||
                      cbag__codec_put(&cw, &p->e[p->order[x->k]].val);
            if (bad) {
                snprintf(err, errlen,
                         "out of memory (or a value nested too "
                         "deeply)");
                return -CBAG_NOMEM;
            }
            cbag__codec_end(&cw);
            *pc = (cbag__piece){x->i, x->j, x->enc.p, x->enc.len, NULL};
            return 1;
        }
        x->k = 0;
    }
    return 0;
}

static int sx_take(void *ud, const cbag__piece *pc, int kept, char *err,
                   size_t errlen) {
    store_x *x = ud;
    (void)kept; /* decoded at once */
    if (pc->in >= x->got->n || pc->out >= x->nout ||
        (!x->everywhere && cbag__dist_home(x->cx, x->b, pc->out) != x->cx->rank)) {
        snprintf(err, errlen, "a piece for another rank");
        return -CBAG_PARSE;
    }
    cbag__part_store *p = &x->got->p[pc->in];
    cbag__codec_reader r;
    int k = cbag__codec_open(&r, pc->p, pc->n) ? -1 : 1;
    while (k > 0) {
        if (kv_reserve(p)) goto oom;
        if (x->dcap[pc->in] < p->cap) {
            size_t *d = cbag__realloc(x->dest[pc->in], p->cap * sizeof *d);
            if (!d) goto oom;
            x->dest[pc->in] = d;
            x->dcap[pc->in] = p->cap;
        }
        cbag__kv *e = &p->e[p->n];
        if ((k = cbag__codec_next(&r, &p->a, &e->key)) <= 0) break;
        if (cbag__codec_next(&r, &p->a, &e->val) != 1) {
            k = -1;
            break;
        }
        x->dest[pc->in][p->n++] = pc->out;
    }
    if (k == 0) return 0;
    snprintf(err, errlen, "%s",
             r.err[0] ? r.err : "codec: a key without value");
    return -CBAG_PARSE;
oom:
    snprintf(err, errlen, "out of memory");
    return -CBAG_NOMEM;
}

int cbag__store_exchange(cbag_ctx *cx, const cbag *b, const cbag *in,
                         cbag__store *st, size_t nout) {
    size_t n = st->n;
    store_x x = {
        cx,   b, st, NULL, nout ? nout : 1, cbag__dist_everywhere(cx, b),
        NULL, 0, 0,  0,    CBAG__BUF_INIT,  NULL,
        NULL};
    cbag__store got = {NULL, 0};
    int *owner = cbag__malloc((n ? n : 1) * sizeof *owner);
    x.dest = cbag__calloc(n ? n : 1, sizeof *x.dest);
    x.dcap = cbag__calloc(n ? n : 1, sizeof *x.dcap);
    int ok = owner && x.dest && x.dcap && !cbag__store_init(&got, n) &&
             !cbag__dist_owners(cx, in, 0, n, owner);
    x.got = &got;
    x.owner = owner;
    cbag__pieces io = {sx_next, NULL, sx_take, &x};
    int rc = cbag__dist_shuffle(cx, b, x.everywhere, ok ? &io : NULL);
    for (size_t i = 0; !rc && i < n; i++)
        if (route_by(&got.p[i], x.nout, x.dest[i])) {
            cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
            rc = CBAG_NOMEM;
        }
    if (cx->mpi) rc = cbag__dist_agree_cx(cx, rc);
    for (size_t i = 0; x.dest && i < n; i++)
        cbag__free(x.dest[i]);
    cbag__free(x.dest);
    cbag__free(x.dcap);
    cbag__free(owner);
    cbag__buf_free(&x.enc);
    cbag__store_free(st);
    if (rc)
        cbag__store_free(&got);
    else
        *st = got;
    return rc;
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
