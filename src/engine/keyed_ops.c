/* keyed_ops.c: dask.bag's frequencies, distinct, topk, accumulate and
 * join, each with dask 2022.12's semantics. frequencies and distinct are
 * foldbys; the others are K_OPS nodes (see cbag__ops in engine.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "engine.h"
#include "keyed.h"
#include "mem.h"
#include "table.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* Merge sort: stable, which Python's sorted and heapq.nlargest are. */
static void msort(char *v, char *tmp, size_t n, size_t size, cbag__cmp_fn cmp,
                  void *ctx) {
    if (n < 2) return;
    size_t h = n / 2;
    msort(v, tmp, h, size, cmp, ctx);
    msort(v + h * size, tmp, n - h, size, cmp, ctx);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        /* take from the right only when strictly smaller: stable */
        if (cmp(v + j * size, v + i * size, ctx) < 0)
            memcpy(tmp + k++ * size, v + j++ * size, size);
        else
            memcpy(tmp + k++ * size, v + i++ * size, size);
    }
    memcpy(tmp + k * size, v + i * size, (h - i) * size);
    k += h - i;
    memcpy(v, tmp, k * size); /* the rest of the right half is in place */
}

int cbag__stable_sort(void *v, size_t n, size_t size, cbag__cmp_fn cmp,
                      void *ctx) {
    if (n < 2) return 0;
    char *tmp = cbag__malloc(n * size);
    if (!tmp) return -1;
    msort(v, tmp, n, size, cmp, ctx);
    cbag__free(tmp);
    return 0;
}

/* A K_OPS node over in, named name (in the graph arena). */
cbag *cbag__ops_node(cbag *in, const cbag__ops *ops, size_t nparts,
                     const char *name) {
    if (!in || !name) return NULL;
    cbag_ctx *cx = in->cx;
    cbag *n = cbag__galloc(cx, sizeof *n);
    if (!n) return NULL;
    n->cx = cx;
    n->kind = K_OPS;
    n->id = cx->next_id++;
    n->nparts = nparts;
    n->name = name;
    n->in = in;
    n->ops = ops;
    return n;
}

/* A copy of v in the graph arena (NULL stays NULL); *ok cleared on error. */
const cbag_val *cbag__gcopy(cbag_ctx *cx, const cbag_val *v, int *ok) {
    if (!v || !*ok) return NULL;
    cbag_val *c = cbag__galloc(cx, sizeof *c);
    if (!c || cbag__copy_into(&cx->graph, c, v)) {
        cbag__error(cx, CBAG_NOMEM, "out of memory building the graph");
        *ok = 0;
        return NULL;
    }
    return c;
}

/* "op(field-repr or fn-name)" in the graph arena. */
static const char *key_name(cbag_ctx *cx, const char *op, const char *pre,
                            const cbag_val *field, const char *fname) {
    char *r = field ? cbag_format(field, CBAG_FMT_REPR, NULL) : NULL;
    const char *k = r ? r : fname;
    const char *s = cbag__gstrf(cx, "%s(%s%s%s)", op, pre ? pre : "",
                                pre && k ? ", " : "", k ? k : "");
    free(r);
    return s;
}

/* ------------------------------------------------------------------------ */
/* frequencies and distinct: foldbys                                        */

static const cbag_val *self_key(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return x;
}

static const cbag_val *count_incr(cbag_call *c, const cbag_val *n,
                                  const cbag_val *x, void *ud) {
    (void)x, (void)ud;
    return cbag_new_int(c, cbag_int_value(n) + 1);
}

static const cbag_val *count_add(cbag_call *c, const cbag_val *a,
                                 const cbag_val *b, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

static int by_count_desc(const void *a, const void *b, void *ctx) {
    (void)ctx;
    return cbag_cmp(cbag_at(b, 1), cbag_at(a, 1));
}

/* sorted(pairs, key=second, reverse=True): stable, so ties keep their
 * first-seen order, as Python's. */
static const cbag_val *sort_counts(cbag_call *c, const cbag_val *p, void *ud) {
    (void)ud;
    size_t n = cbag_len(p);
    cbag_val *v = cbag__malloc((n ? n : 1) * sizeof *v);
    if (!v) return cbag__call_oom(c);
    if (n) memcpy(v, p->u.seq->items, n * sizeof *v);
    cbag_val *out = NULL;
    if (!cbag__stable_sort(v, n, sizeof *v, by_count_desc, NULL) &&
        (out = cbag_new_list(c, n)))
        for (size_t i = 0; i < n && out; i++)
            if (cbag_append(c, out, &v[i])) out = NULL;
    cbag__free(v);
    return out ? out : cbag__call_oom(c);
}

cbag *cbag_frequencies(cbag *b, bool sort) {
    if (!b) return NULL;
    cbag_val zero;
    cbag__set_int(&zero, 0);
    cbag_foldby_options o = {&zero, count_add, NULL, 0};
    cbag *f = cbag_foldby_named(b, "frequencies", NULL, self_key, count_incr,
                                &o, NULL);
    if (!f) return NULL;
    f->name = "frequencies";
    return sort ? cbag_map_partitions_named(f, "sorted", sort_counts, NULL) : f;
}

static const cbag_val *keep_first(cbag_call *c, const cbag_val *a,
                                  const cbag_val *x, void *ud) {
    (void)c, (void)x, (void)ud;
    return a;
}

static const cbag_val *seconds(cbag_call *c, const cbag_val *p, void *ud) {
    (void)ud;
    size_t n = cbag_len(p);
    cbag_val *out = cbag_new_list(c, n);
    for (size_t i = 0; i < n && out; i++)
        if (cbag_append(c, out, cbag_at(cbag_at(p, (int64_t)i), 1))) out = NULL;
    return out;
}

cbag *cbag_distinct_named(cbag *b, const char *name, const cbag_val *field,
                          cbag_map_fn key_fn, void *ud) {
    if (!b) return NULL;
    /* dask's unique(): the first element of each key, in first-seen
     * order; a foldby keeping its first value does exactly that. */
    cbag *f = cbag_foldby_named(b, "distinct", field,
                                key_fn  ? key_fn
                                : field ? NULL
                                        : self_key,
                                keep_first, NULL, ud);
    if (!f) return NULL;
    f->name = key_fn || field ? key_name(b->cx, "distinct", NULL, field, name)
                              : "distinct";
    if (!f->name) return NULL;
    return cbag_map_partitions_named(f, "distinct", seconds, NULL);
}

/* ------------------------------------------------------------------------ */
/* topk: heapq.nlargest per partition, then of the partials combined        */

typedef struct {
    size_t k;
    const cbag_val *field;
    cbag_map_fn key_fn;
    void *ud;
} topk_state;

typedef struct {
    cbag_val key, val;
} kv;

static int kv_desc(const void *a, const void *b, void *ctx) {
    (void)ctx;
    return cbag_cmp(&((const kv *)b)->key, &((const kv *)a)->key);
}

/* A partition's best elements so far, in arrival order until pruned. */
typedef struct {
    kv *e;
    size_t n, cap;
    cbag__arena a[2];
    int cur;
} topk_part;

/* Keeps the k largest (sorted, descending), copied into the other arena. */
static int topk_prune(topk_part *t, size_t k) {
    if (cbag__stable_sort(t->e, t->n, sizeof *t->e, kv_desc, NULL)) return -1;
    if (t->n > k) t->n = k;
    cbag__arena *to = &t->a[1 - t->cur];
    cbag__arena_reset(to);
    for (size_t i = 0; i < t->n; i++) {
        kv c;
        if (cbag__copy_into(to, &c.val, &t->e[i].val) ||
            cbag__copy_into(to, &c.key, &t->e[i].key))
            return -1;
        t->e[i] = c;
    }
    cbag__arena_reset(&t->a[t->cur]);
    t->cur = 1 - t->cur;
    return 0;
}

typedef struct {
    cbag__sink s;
    const topk_state *st;
    topk_part *t;
} topk_sink;

static int topk_push(cbag__sink *s, const cbag_val *x) {
    topk_sink *ts = (topk_sink *)s;
    const topk_state *st = ts->st;
    topk_part *t = ts->t;
    const cbag_val *key =
        cbag__key_of(s->w, s->node->name, st->field, st->key_fn, st->ud, x);
    if (!key) return -1;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        kv *e = cbag__realloc(t->e, cap * sizeof *e);
        if (!e) goto oom;
        t->e = e;
        t->cap = cap;
    }
    cbag__arena *a = &t->a[t->cur];
    kv *e = &t->e[t->n];
    if (cbag__copy_into(a, &e->val, x)) goto oom;
    if (key == x)
        e->key = e->val;
    else if (cbag__copy_into(a, &e->key, key))
        goto oom;
    t->n++;
    size_t limit = st->k < 512 ? 1024 : 2 * st->k;
    if (t->n >= limit && topk_prune(t, st->k)) goto oom;
    return 0;
oom:
    return cbag__fail(s->w, s->node->name, CBAG_NOMEM, "out of memory");
}

static void no_flush(cbag__sink *s) { (void)s; } /* push copies */

typedef struct {
    const cbag *b;
    topk_part *parts;
} topk_arg;

static int topk_task(cbag__worker *w, size_t part, void *arg) {
    topk_arg *a = arg;
    topk_part *t = &a->parts[part];
    topk_sink ts = {{topk_push, no_flush, NULL, a->b, w}, a->b->state, t};
    int r = cbag__run_part(w, a->b->in, part, &ts.s);
    if (r == 1) r = 0;
    if (!r && topk_prune(t, ((const topk_state *)a->b->state)->k))
        r = cbag__fail(w, a->b->name, CBAG_NOMEM, "out of memory");
    return r;
}

/* With mpi, every rank gets every partition's best: a frame of key,
 * value, ... */
static int topk_pack(cbag__buf *out, size_t part, void *arg) {
    const topk_part *t = &((topk_arg *)arg)->parts[part];
    cbag__codec_writer cw;
    if (cbag__codec_begin(&cw, out)) return -1;
    for (size_t i = 0; i < t->n; i++)
        if (cbag__codec_put(&cw, &t->e[i].key) ||
            cbag__codec_put(&cw, &t->e[i].val))
            return -1;
    cbag__codec_end(&cw);
    return 0;
}

static int topk_unpack(const void *p, size_t n, size_t part, void *arg,
                       char *err, size_t errlen) {
    topk_part *t = &((topk_arg *)arg)->parts[part];
    cbag__codec_reader r;
    int k = cbag__codec_open(&r, p, n) ? -1 : 1;
    size_t m = (size_t)cbag__codec_left(&r) / 2;
    if (k > 0 && !(t->e = cbag__malloc((m ? m : 1) * sizeof *t->e))) {
        snprintf(r.err, sizeof r.err, "out of memory");
        k = -1;
    }
    t->cap = m;
    for (t->n = 0; k > 0 && t->n < m; t->n++) {
        cbag__arena *a = &t->a[t->cur];
        if (cbag__codec_next(&r, a, &t->e[t->n].key) != 1 ||
            cbag__codec_next(&r, a, &t->e[t->n].val) != 1)
            k = -1;
    }
    if (k > 0 && cbag__codec_next(&r, &t->a[t->cur], &t->e[0].key) != 0) k = -1;
    if (k < 0) snprintf(err, errlen, "%s", r.err);
    return k < 0 ? -1 : 0;
}

static int topk_prepare(cbag_ctx *cx, cbag *b) {
    if (b->mat) return CBAG_OK;
    const topk_state *st = b->state;
    size_t n = b->in->nparts;
    cbag__mat *m = cbag__mat_new(cx, b, 1, 1);
    topk_part *parts = m ? cbag__calloc(n ? n : 1, sizeof *parts) : NULL;
    if (!parts) {
        cbag__mat_free(m);
        if (cx->code == CBAG_OK)
            cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return CBAG_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        cbag__arena_init(&parts[i].a[0], 0);
        cbag__arena_init(&parts[i].a[1], 0);
    }
    topk_arg arg = {b, parts};
    cbag__xchg x = {CBAG__X_ALL, topk_pack, topk_unpack, &arg};
    int rc = st->k ? cbag__run_stage(cx, b->in, 0, n, topk_task, &arg, &x) : 0;
    /* The partials concatenated in partition order, and nlargest of that:
     * equal keys stay in input order. */
    topk_part all = {0};
    for (size_t i = 0; !rc && i < n; i++) {
        if (all.n + parts[i].n > all.cap) {
            size_t cap = (all.n + parts[i].n) * 2;
            kv *e = cbag__realloc(all.e, cap * sizeof *e);
            if (!e) {
                rc = CBAG_NOMEM;
                break;
            }
            all.e = e;
            all.cap = cap;
        }
        if (parts[i].n)
            memcpy(all.e + all.n, parts[i].e, parts[i].n * sizeof *all.e);
        all.n += parts[i].n;
    }
    if (!rc && cbag__stable_sort(all.e, all.n, sizeof *all.e, kv_desc, NULL))
        rc = CBAG_NOMEM;
    size_t k = all.n < st->k ? all.n : st->k;
    cbag__arena *a = &m->arenas[0];
    if (!rc && cbag__seq_init(a, &m->parts[0], CBAG_LIST, k)) rc = CBAG_NOMEM;
    for (size_t i = 0; !rc && i < k; i++) {
        cbag_val c;
        if (cbag__copy_into(a, &c, &all.e[i].val) ||
            cbag__seq_push(a, &m->parts[0], &c))
            rc = CBAG_NOMEM;
    }
    cbag__free(all.e);
    for (size_t i = 0; i < n; i++) {
        cbag__free(parts[i].e);
        cbag__arena_free(&parts[i].a[0]);
        cbag__arena_free(&parts[i].a[1]);
    }
    cbag__free(parts);
    if (rc) {
        if (cx->code == CBAG_OK)
            cbag__error(cx, rc, "%s: out of memory", b->name);
        cbag__mat_free(m);
        return rc;
    }
    b->mat = m;
    return CBAG_OK;
}

static const cbag__ops topk_ops = {NULL, topk_prepare, NULL, 0, 0};

cbag *cbag_topk_named(cbag *b, const char *name, size_t k,
                      const cbag_val *field, cbag_map_fn key_fn, void *ud) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    if (field && key_fn) {
        cbag__error(cx, CBAG_INVALID,
                    "topk: give a key field or a key "
                    "function, not both");
        return NULL;
    }
    /* dask tests `if key:`, so a false key (0, "", None) means none */
    if (field && !cbag_truthy(field)) field = NULL;
    int ok = 1;
    topk_state *st = cbag__galloc(cx, sizeof *st);
    if (!st) return NULL;
    st->k = k;
    st->field = cbag__gcopy(cx, field, &ok);
    st->key_fn = key_fn;
    st->ud = ud;
    const char *pre = cbag__gstrf(cx, "%zu", k);
    const char *nm =
        pre ? key_name(cx, "topk", pre, st->field, key_fn ? name : NULL) : NULL;
    cbag *n = ok ? cbag__ops_node(b, &topk_ops, 1, nm) : NULL;
    if (n) n->state = st;
    return n;
}

/* ------------------------------------------------------------------------ */
/* accumulate: itertools.accumulate across partitions, in order             */

typedef struct {
    cbag_binop_fn binop;
    const cbag_val *initial; /* NULL: none */
    void *ud;
} acc_state;

typedef struct {
    const cbag *b;
    cbag__mat *m;
    size_t nin;
    const cbag_val *carry; /* the last value of the partitions before */
} acc_arg;

static int acc_collect(cbag__worker *w, size_t part, void *arg) {
    acc_arg *a = arg;
    cbag_val *in = &a->m->parts[part];
    return cbag__collect(w, a->b->in, part, &a->m->arenas[a->nin + part], in,
                         0);
}

/* Partition part from the carry, as dask's accumulate_part: the first one
 * starts from initial (kept in the output) or its first element; the
 * others from the carry (not repeated). The input list is replaced. */
static int acc_task(cbag__worker *w, size_t part, void *arg) {
    acc_arg *a = arg;
    const acc_state *st = a->b->state;
    cbag__arena *ar = &a->m->arenas[part];
    const cbag__seq *in = a->m->parts[part].u.seq;
    cbag_val out;
    if (cbag__seq_init(ar, &out, CBAG_LIST, in->len + 1)) goto oom;
    const cbag_val *acc = part ? a->carry : st->initial;
    uint32_t i = 0;
    cbag_val first; /* copied: the input's arena is freed below */
    if (!part && !acc && in->len) acc = &in->items[i++];
    if (!part && acc &&
        (cbag__copy_into(ar, &first, acc) || cbag__seq_push(ar, &out, &first)))
        goto oom;
    if (out.u.seq->len) acc = &out.u.seq->items[out.u.seq->len - 1];
    for (; i < in->len; i++) {
        w->elem = i;
        const cbag_val *r = st->binop(&w->call, acc, &in->items[i], st->ud);
        if (!r || w->call.code) return cbag__fail_call(w, a->b->name);
        cbag_val c;
        if (cbag__copy_into(ar, &c, r) || cbag__seq_push(ar, &out, &c))
            goto oom;
        acc = &out.u.seq->items[out.u.seq->len - 1];
        if (cbag__arena_used(&w->batch) >= CBAG__BATCH_BYTES)
            cbag__arena_reset(&w->batch); /* acc lives in ar */
    }
    if (!part && !acc) { /* dask carries [] from an empty first partition */
        cbag_val *e = cbag__arena_alloc(ar, sizeof *e);
        if (!e || cbag__seq_init(ar, e, CBAG_LIST, 0)) goto oom;
        acc = e;
    }
    a->carry = acc;
    a->m->parts[part] = out;
    cbag__arena_free(&a->m->arenas[a->nin + part]); /* the input */
    return 0;
oom:
    return cbag__fail(w, a->b->name, CBAG_NOMEM, "out of memory");
}

static int acc_prepare(cbag_ctx *cx, cbag *b) {
    if (b->mat) return CBAG_OK;
    size_t n = b->nparts;
    cbag__mat *m = cbag__mat_new(cx, b, n, 2 * n);
    if (!m) return CBAG_NOMEM;
    acc_arg a = {b, m, n, NULL};
    /* With mpi, the partitions are collected where they are computed and
     * go to every rank, which then runs the (sequential) scan. */
    cbag__xvals xv = {m->parts, m->arenas + n, 0, NULL};
    cbag__xchg x = cbag__xchg_vals(CBAG__X_ALL, &xv);
    int rc = cbag__run_stage(cx, b->in, 0, n, acc_collect, &a, &x);
    for (size_t i = 0; !rc && i < n; i++)
        rc = cbag__run_stage(cx, NULL, i, 1, acc_task, &a, NULL);
    if (rc) {
        cbag__mat_free(m);
        return rc;
    }
    b->mat = m;
    return CBAG_OK;
}

static const cbag__ops acc_ops = {NULL, acc_prepare, NULL, 0, 0};

cbag *cbag_accumulate_named(cbag *b, const char *name, cbag_binop_fn binop,
                            const cbag_val *initial, void *ud) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    if (!binop) {
        cbag__error(cx, CBAG_INVALID, "accumulate: binop is NULL");
        return NULL;
    }
    int ok = 1;
    acc_state *st = cbag__galloc(cx, sizeof *st);
    if (!st) return NULL;
    st->binop = binop;
    st->initial = cbag__gcopy(cx, initial, &ok);
    st->ud = ud;
    const char *nm = cbag__gstrf(cx, "accumulate(%s)", name ? name : "?");
    cbag *n = ok ? cbag__ops_node(b, &acc_ops, b->nparts, nm) : NULL;
    if (n) n->state = st;
    return n;
}

/* ------------------------------------------------------------------------ */
/* join: toolz.join(on_other, other, on_self, partition), an inner hash    */
/* join yielding (other_element, self_element)                              */

typedef struct {
    const cbag_val *other; /* a list or tuple, or NULL with b->ins[0] */
    const cbag_val *on_self, *on_other;
    cbag_map_fn self_fn, other_fn;
    void *ud;
} join_state;

/* The other side grouped by key: entry values are lists, in order. */
typedef struct {
    cbag__table t;
    cbag__arena a;
    cbag_val other; /* the other bag's elements */
} join_index;

static int join_collect(cbag__worker *w, size_t part, void *arg) {
    const cbag *b = arg;
    join_index *ix = b->prepared;
    return cbag__collect(w, b->ins[0], part, &ix->a, &ix->other, 0);
}

static int join_build(cbag__worker *w, size_t part, void *arg) {
    (void)part;
    cbag *b = arg;
    const join_state *st = b->state;
    join_index *ix = b->prepared;
    const cbag_val *src = st->other ? st->other : &ix->other;
    const char *op = b->name;
    for (uint32_t i = 0; i < src->u.seq->len; i++) {
        const cbag_val *x = &src->u.seq->items[i];
        w->elem = i;
        const cbag_val *key =
            cbag__key_of(w, op, st->on_other, st->other_fn, st->ud, x);
        if (!key) return -1;
        int fresh;
        long e = cbag__table_upsert(&ix->t, key, &fresh);
        if (e < 0 ||
            (fresh && cbag__seq_init(&ix->a, &ix->t.e[e].val, CBAG_LIST, 1)) ||
            cbag__seq_push(&ix->a, &ix->t.e[e].val, x))
            return cbag__fail(w, op, CBAG_NOMEM, "out of memory");
        if (cbag__arena_used(&w->batch) >= CBAG__BATCH_BYTES)
            cbag__arena_reset(&w->batch); /* the table copied the key */
    }
    return 0;
}

static void join_release(cbag *b) {
    join_index *ix = b->prepared;
    if (!ix) return;
    cbag__table_free(&ix->t);
    cbag__arena_free(&ix->a);
    cbag__free(ix);
    b->prepared = NULL;
}

static int join_prepare(cbag_ctx *cx, cbag *b) {
    if (b->prepared) return CBAG_OK;
    join_index *ix = cbag__calloc(1, sizeof *ix);
    if (!ix) {
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return CBAG_NOMEM;
    }
    cbag__table_init(&ix->t);
    cbag__arena_init(&ix->a, 0);
    b->prepared = ix;
    /* The other bag (one partition) is collected once, and with mpi goes
     * to every rank; every rank indexes it. */
    cbag__xvals xv = {&ix->other, &ix->a, 0, NULL};
    cbag__xchg x = cbag__xchg_vals(CBAG__X_ALL, &xv);
    const join_state *st = b->state;
    int rc = st->other
                 ? CBAG_OK
                 : cbag__run_stage(cx, b->ins[0], 0, 1, join_collect, b, &x);
    if (!rc) rc = cbag__run_stage(cx, NULL, 0, 1, join_build, b, NULL);
    if (rc) join_release(b);
    return rc;
}

typedef struct {
    cbag__sink s;
    const join_index *ix;
} join_sink;

static int join_push(cbag__sink *s, const cbag_val *x) {
    const join_state *st = s->node->state;
    const join_index *ix = ((join_sink *)s)->ix;
    cbag__worker *w = s->w;
    const cbag_val *key =
        cbag__key_of(w, s->node->name, st->on_self, st->self_fn, st->ud, x);
    if (!key) return -1;
    long e = cbag__table_find(&ix->t, key);
    if (e < 0) return 0;
    const cbag__seq *m = ix->t.e[e].val.u.seq;
    for (uint32_t i = 0; i < m->len; i++) {
        cbag_val *t = cbag__arena_alloc(&w->batch, sizeof *t);
        if (!t || cbag__seq_init(&w->batch, t, CBAG_TUPLE, 2) ||
            cbag__seq_push(&w->batch, t, &m->items[i]) ||
            cbag__seq_push(&w->batch, t, x))
            return cbag__fail(w, s->node->name, CBAG_NOMEM, "out of memory");
        int r = s->next->push(s->next, t);
        if (r) return r;
    }
    return 0;
}

static void join_flush(cbag__sink *s) { s->next->flush(s->next); }

static int join_run(cbag__worker *w, const cbag *b, size_t part,
                    cbag__sink *out) {
    join_sink js = {{join_push, join_flush, out, b, w}, b->prepared};
    return cbag__run_part(w, b->in, part, &js.s);
}

static const cbag__ops join_ops = {join_run, join_prepare, join_release, 1, 0};

cbag *cbag_join_named(cbag *b, const char *name, const cbag_val *other,
                      cbag *other_bag, const cbag_val *on_self,
                      cbag_map_fn on_self_fn, const cbag_val *on_other,
                      cbag_map_fn on_other_fn, void *ud) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    if (!other && !other_bag && cx->main.code) {
        cbag__error(cx, cx->main.code, "join: %s", cx->main.msg);
        return NULL;
    }
    const char *why = NULL;
    if (!other == !other_bag)
        why = "give the other collection as a list or as a bag";
    else if (other && !cbag__is_seq(other))
        why = "TypeError: the other collection must be a list or tuple";
    else if (other_bag && other_bag->cx != cx)
        why = "the other bag is from another context";
    else if (other_bag && other_bag->nparts != 1)
        why = "NotImplementedError: Multi-bag joins are not implemented. "
              "We recommend Dask dataframe if appropriate";
    else if (!on_self == !on_self_fn)
        why = "give on_self as a key field or a key function";
    else if (on_other && on_other_fn)
        why = "give on_other as a key field or a key function, not both";
    if (why) {
        cbag__error(cx, CBAG_INVALID, "join: %s", why);
        return NULL;
    }
    if (!on_other && !on_other_fn) { /* dask: on_other defaults to on_self */
        on_other = on_self;
        on_other_fn = on_self_fn;
    }
    int ok = 1;
    join_state *st = cbag__galloc(cx, sizeof *st);
    if (!st) return NULL;
    st->other = cbag__gcopy(cx, other, &ok);
    st->on_self = cbag__gcopy(cx, on_self, &ok);
    st->on_other = cbag__gcopy(cx, on_other, &ok);
    st->self_fn = on_self_fn;
    st->other_fn = on_other_fn;
    st->ud = ud;
    cbag *n = ok ? cbag__ops_node(b, &join_ops, b->nparts,
                                  key_name(cx, "join", NULL, st->on_self,
                                           on_self_fn ? name : NULL))
                 : NULL;
    if (!n) return NULL;
    n->state = st;
    if (other_bag) {
        cbag **ins = cbag__galloc(cx, sizeof *ins);
        if (!ins) return NULL;
        ins[0] = other_bag;
        n->ins = ins;
        n->nins = 1;
    }
    return n;
}
