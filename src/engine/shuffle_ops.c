/* shuffle_ops.c: reduce_by_key (Spark's reduceByKey) and join_bags (a
 * join of two partitioned bags), K_OPS nodes whose output partitions come
 * from a shuffle of their whole input, held in memory (shuffle.h). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "keyed.h"
#include "mem.h"
#include "shuffle.h"
#include "table.h"

/* ------------------------------------------------------------------------ */
/* reduce_by_key                                                            */

typedef struct {
    const cbag_val *field;
    cbag_map_fn key_fn;
    cbag_binop_fn binop;
    void *ud;
    cbag__store st; /* during a compute: one table per input partition */
} reduce_state;

typedef struct {
    cbag__sink s;
    const reduce_state *rs;
    cbag__table *t;
    int oom;
} fold_sink;

/* As foldby without initial: a key's first element seeds it. */
static int fold_push(cbag__sink *s, const cbag_val *x) {
    fold_sink *f = (fold_sink *)s;
    cbag__worker *w = s->w;
    const reduce_state *rs = f->rs;
    const cbag_val *key =
        cbag__key_of(w, s->node->name, rs->field, rs->key_fn, rs->ud, x);
    if (!key) return -1;
    int fresh;
    long i = cbag__table_upsert(f->t, key, &fresh);
    if (i < 0) return cbag__fail(w, s->node->name, CBAG_NOMEM, "out of memory");
    const cbag_val *acc = x;
    if (!fresh) {
        const cbag_val *cur = cbag__table_val(f->t, (uint32_t)i);
        acc = rs->binop(&w->call, cur, x, rs->ud);
        if (!acc || w->call.code) return cbag__fail_call(w, s->node->name);
        if (acc == cur) return 0; /* unchanged: no copy */
    }
    if (cbag__table_set_ref(f->t, (uint32_t)i, acc))
        return cbag__fail(w, s->node->name, CBAG_NOMEM, "out of memory");
    return 0;
}

static void fold_flush(cbag__sink *s) {
    fold_sink *f = (fold_sink *)s;
    if (cbag__table_flush(f->t)) f->oom = 1;
}

static int fold_task(cbag__worker *w, size_t part, void *arg) {
    const cbag *b = arg;
    const reduce_state *rs = b->state;
    cbag__part_store *p = &rs->st.p[part];
    fold_sink f = {{fold_push, fold_flush, NULL, b, w}, rs, &p->t, 0};
    int r = cbag__run_part(w, b->in, part, &f.s);
    if (r == 1) r = 0;
    if (!r) fold_flush(&f.s); /* the table owns every value from now on */
    if (!r && f.oom) return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    if (r) return r;
    /* The entries, in first-seen order, are this partition's pairs. */
    p->e = cbag__malloc((p->t.n ? p->t.n : 1) * sizeof *p->e);
    if (!p->e) return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    for (uint32_t i = 0; i < p->t.n; i++) {
        p->e[i].key = p->t.e[i].key;
        p->e[i].val = *cbag__table_val(&p->t, i);
    }
    p->n = p->cap = p->t.n;
    if (cbag__route(p, b->nparts, cbag__hash_dest, NULL))
        return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    return 0;
}

static void reduce_release(cbag *b) {
    reduce_state *rs = b->state;
    if (!b->prepared) return;
    cbag__store_free(&rs->st);
    b->prepared = NULL;
}

static int reduce_prepare(cbag_ctx *cx, cbag *b) {
    if (b->prepared) return CBAG_OK;
    reduce_state *rs = b->state;
    if (cbag__store_init(&rs->st, b->in->nparts)) {
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return CBAG_NOMEM;
    }
    b->prepared = &rs->st;
    cbag__xchg x = {CBAG__X_SPLIT, NULL, NULL, NULL};
    int rc = cbag__run_stage(cx, b->in, 0, b->in->nparts, fold_task, b, &x);
    if (!rc && cx->mpi)
        rc = cbag__store_exchange(cx, b, b->in, &rs->st, b->nparts);
    if (rc) reduce_release(b);
    return rc;
}

/* Merges bucket part of every input table, in input order, with binop:
 * keys in first-seen order, as foldby's tree would give them. */
static int reduce_merge(cbag__worker *w, const cbag *b, size_t part,
                        cbag__table *t, cbag__sink *out) {
    const reduce_state *rs = b->state;
    uint64_t seen = 0;
    for (size_t i = 0; i < rs->st.n; i++) {
        const cbag__part_store *p = &rs->st.p[i];
        for (size_t k = p->off[part]; k < p->off[part + 1]; k++) {
            const cbag__kv *e = &p->e[p->order[k]];
            w->elem = seen++;
            int fresh;
            long x = cbag__table_upsert(t, &e->key, &fresh);
            if (x < 0) goto oom;
            const cbag_val *acc = &e->val;
            if (!fresh) {
                const cbag_val *cur = cbag__table_val(t, (uint32_t)x);
                acc = rs->binop(&w->call, cur, &e->val, rs->ud);
                if (!acc || w->call.code) return cbag__fail_call(w, b->name);
            }
            if (cbag__table_set_ref(t, (uint32_t)x, acc)) goto oom;
            /* binop's results live in the batch arena: copy them before
             * cbag__between resets it (nothing is pushed to out yet). */
            if (cbag__arena_used(&w->batch) >= CBAG__BATCH_BYTES &&
                cbag__table_flush(t))
                goto oom;
            int r = cbag__between(w, out);
            if (r) return r;
        }
    }
    if (cbag__table_flush(t)) goto oom;
    return 0;
oom:
    return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
}

static int reduce_run(cbag__worker *w, const cbag *b, size_t part,
                      cbag__sink *out) {
    cbag__table t;
    cbag__table_init(&t);
    void *saved = w->lines;
    w->lines = NULL;
    int r = reduce_merge(w, b, part, &t, out);
    for (uint32_t i = 0; !r && i < t.n; i++) {
        cbag_val *pair = cbag__pair_of(w, &t.e[i].key, cbag__table_val(&t, i));
        if (!pair) {
            r = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
            break;
        }
        if ((r = out->push(out, pair))) break;
        r = cbag__emit_done(w, out, i);
    }
    w->lines = saved;
    out->flush(out); /* the sinks may keep values that live in t */
    cbag__table_free(&t);
    return r;
}

static const cbag__ops reduce_ops = {reduce_run, reduce_prepare, reduce_release,
                                     0, 1};

cbag *cbag_reduce_by_key_named(cbag *b, const char *name, const cbag_val *field,
                               cbag_map_fn key_fn, cbag_binop_fn binop,
                               size_t npartitions, void *ud) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    const char *why = !binop              ? "binop is NULL"
                      : !field == !key_fn ? "give a key field or a key function"
                                          : NULL;
    if (why) {
        cbag__error(cx, CBAG_INVALID, "reduce_by_key: %s", why);
        return NULL;
    }
    int ok = 1;
    reduce_state *rs = cbag__galloc(cx, sizeof *rs);
    if (!rs) return NULL;
    memset(rs, 0, sizeof *rs);
    rs->field = cbag__gcopy(cx, field, &ok);
    rs->key_fn = key_fn;
    rs->binop = binop;
    rs->ud = ud;
    const char *nm = cbag__op_name(cx, "reduce_by_key", rs->field, NULL, name);
    cbag *n = ok ? cbag__ops_node(b, &reduce_ops,
                                  npartitions ? npartitions : b->nparts, nm)
                 : NULL;
    if (n) n->state = rs;
    return n;
}

cbag *cbag_reduce_by_key_str(cbag *b, const char *field, const char *name,
                             cbag_binop_fn binop, size_t npartitions,
                             void *ud) {
    if (!b) return NULL;
    if (!field) {
        cbag__error(b->cx, CBAG_INVALID,
                    "reduce_by_key: the key field is NULL");
        return NULL;
    }
    cbag_val f;
    cbag__set_str_ref(&f, field, (uint32_t)strlen(field));
    return cbag_reduce_by_key_named(b, name, &f, NULL, binop, npartitions, ud);
}

/* ------------------------------------------------------------------------ */
/* join_bags: both sides hash-partitioned by key, then a hash join per      */
/* output partition                                                         */

typedef struct {
    const cbag_val *left_on, *right_on;
    cbag_map_fn left_fn, right_fn;
    void *ud;
    cbag__store left, right; /* during a compute */
} join_state;

static void join_release(cbag *b) {
    join_state *js = b->state;
    if (!b->prepared) return;
    cbag__store_free(&js->left);
    cbag__store_free(&js->right);
    b->prepared = NULL;
}

static int join_prepare(cbag_ctx *cx, cbag *b) {
    if (b->prepared) return CBAG_OK;
    join_state *js = b->state;
    b->prepared = js;
    int rc = cbag__read_side(cx, b, b->ins[0], js->left_on, js->left_fn, js->ud,
                             &js->left, 1);
    if (!rc)
        rc = cbag__read_side(cx, b, b->ins[1], js->right_on, js->right_fn,
                             js->ud, &js->right, 1);
    if (!rc && cx->mpi)
        rc = cbag__store_exchange(cx, b, b->ins[0], &js->left, b->nparts);
    if (!rc && cx->mpi)
        rc = cbag__store_exchange(cx, b, b->ins[1], &js->right, b->nparts);
    if (rc) join_release(b);
    return rc;
}

/* The right side's bucket part grouped by key: lists of elements in
 * input order, made in a. */
static int join_build(cbag__worker *w, const cbag *b, size_t part,
                      cbag__table *t, cbag__arena *a, cbag__sink *out) {
    const join_state *js = b->state;
    for (size_t i = 0; i < js->right.n; i++) {
        const cbag__part_store *p = &js->right.p[i];
        for (size_t k = p->off[part]; k < p->off[part + 1]; k++) {
            const cbag__kv *e = &p->e[p->order[k]];
            int fresh;
            long x = cbag__table_upsert(t, &e->key, &fresh);
            if (x < 0 ||
                (fresh && cbag__seq_init(a, &t->e[x].val, CBAG_LIST, 1)) ||
                cbag__seq_push(a, &t->e[x].val, &e->val))
                return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
            int r = cbag__between(w, out); /* lets the compute stop */
            if (r) return r;
        }
    }
    return 0;
}

/* Probes with the left side's bucket part, in input order. */
static int join_probe(cbag__worker *w, const cbag *b, size_t part,
                      const cbag__table *t, cbag__sink *out) {
    const join_state *js = b->state;
    uint64_t n = 0;
    for (size_t i = 0; i < js->left.n; i++) {
        const cbag__part_store *p = &js->left.p[i];
        for (size_t k = p->off[part]; k < p->off[part + 1]; k++) {
            const cbag__kv *e = &p->e[p->order[k]];
            long x = cbag__table_find(t, &e->key);
            const cbag__seq *m = x < 0 ? NULL : t->e[x].val.u.seq;
            for (uint32_t j = 0; m && j < m->len; j++) {
                cbag_val *pair = cbag__pair_of(w, &e->val, &m->items[j]);
                if (!pair)
                    return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
                int r = out->push(out, pair);
                if (!r) r = cbag__emit_done(w, out, n++);
                if (r) return r;
            }
        }
    }
    return 0;
}

static int join_run(cbag__worker *w, const cbag *b, size_t part,
                    cbag__sink *out) {
    cbag__table t;
    cbag__table_init(&t);
    cbag__arena a;
    cbag__arena_init(&a, 0);
    void *saved = w->lines;
    w->lines = NULL;
    int r = join_build(w, b, part, &t, &a, out);
    if (!r && t.n) r = join_probe(w, b, part, &t, out);
    w->lines = saved;
    out->flush(out); /* what the sinks keep may point into a */
    cbag__table_free(&t);
    cbag__arena_free(&a);
    return r;
}

static const cbag__ops join_ops = {join_run, join_prepare, join_release, 0, 1};

cbag *cbag_join_bags_named(cbag *left, cbag *right, const char *name,
                           const cbag_val *left_on, cbag_map_fn left_fn,
                           const cbag_val *right_on, cbag_map_fn right_fn,
                           size_t npartitions, void *ud) {
    if (!left || !right) return NULL;
    cbag_ctx *cx = left->cx;
    const char *why = NULL;
    if (right->cx != cx)
        why = "the bags are from different contexts";
    else if (!left_on == !left_fn)
        why = "give the left key as a field or a function";
    else if (right_on && right_fn)
        why = "give the right key as a field or a function, not both";
    if (why) {
        cbag__error(cx, CBAG_INVALID, "join_bags: %s", why);
        return NULL;
    }
    if (!right_on && !right_fn) { /* as dask's join: on_other = on_self */
        right_on = left_on;
        right_fn = left_fn;
    }
    int ok = 1;
    join_state *js = cbag__galloc(cx, sizeof *js);
    cbag **ins = js ? cbag__galloc(cx, 2 * sizeof *ins) : NULL;
    if (!ins) return NULL;
    memset(js, 0, sizeof *js);
    js->left_on = cbag__gcopy(cx, left_on, &ok);
    js->right_on = cbag__gcopy(cx, right_on, &ok);
    js->left_fn = left_fn;
    js->right_fn = right_fn;
    js->ud = ud;
    ins[0] = left;
    ins[1] = right;
    const char *nm = cbag__op_name(cx, "join_bags", js->left_on,
                                   left_fn ? (name ? name : "?") : NULL, NULL);
    cbag *n = ok ? cbag__ops_node(left, &join_ops,
                                  npartitions ? npartitions : left->nparts, nm)
                 : NULL;
    if (!n) return NULL;
    n->in = NULL; /* the inputs are ins, for prepare and release */
    n->ins = ins;
    n->nins = 2;
    n->state = js;
    return n;
}
