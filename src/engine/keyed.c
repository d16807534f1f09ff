/* keyed.c: foldby and groupby, the barrier nodes (groupby's shuffle is in
 * groupby.c). A stage cannot run
 * through them: cbag__prepare computes them first (their inputs first),
 * keeping their output partitions in memory for the compute in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "dist.h"
#include "engine.h"
#include "keyed.h"
#include "mem.h"
#include "spill.h"
#include "table.h"

/* ------------------------------------------------------------------------ */
/* Building the nodes                                                       */

static cbag *keyed_node(cbag *b, cbag__kind kind, const char *op,
                        const char *name, const cbag_val *field,
                        cbag_map_fn key_fn, size_t nparts) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    if (!field == !key_fn) {
        cbag__error(cx, CBAG_INVALID, "%s: give a key field or a key function",
                    op);
        return NULL;
    }
    cbag *n = cbag__galloc(cx, sizeof *n);
    cbag__keyed *k = n ? cbag__galloc(cx, sizeof *k) : NULL;
    if (!k) return NULL;
    if (field) {
        cbag_val *f = cbag__galloc(cx, sizeof *f);
        if (!f || cbag__copy_into(&cx->graph, f, field)) {
            cbag__error(cx, CBAG_NOMEM, "%s: out of memory", op);
            return NULL;
        }
        k->field = f;
    }
    k->key_fn = key_fn;
    k->split_every = cx->split_every;
    n->cx = cx;
    n->kind = kind;
    n->id = cx->next_id++;
    n->nparts = nparts;
    n->in = b;
    n->keyed = k;
    char *krepr = field ? cbag_format(field, CBAG_FMT_REPR, NULL) : NULL;
    n->name = cbag__gstrf(cx, "%s(%s%s%s)", op, krepr ? krepr : "",
                          name && krepr ? ", " : "", name ? name : "");
    free(krepr);
    return n->name ? n : NULL;
}

static const cbag_val *copy_opt(cbag_ctx *cx, const cbag_val *v) {
    if (!v) return NULL;
    cbag_val *c = cbag__galloc(cx, sizeof *c);
    if (c && cbag__copy_into(&cx->graph, c, v)) {
        cbag__error(cx, CBAG_NOMEM, "foldby: out of memory");
        return NULL;
    }
    return c;
}

cbag *cbag_foldby_named(cbag *b, const char *name, const cbag_val *field,
                        cbag_map_fn key_fn, cbag_binop_fn binop,
                        const cbag_foldby_options *opt, void *ud) {
    if (b && !binop) {
        cbag__error(b->cx, CBAG_INVALID, "foldby: binop is NULL");
        return NULL;
    }
    if (b && opt && (opt->split_every == 1 || opt->split_every < 0)) {
        cbag__error(b->cx, CBAG_INVALID, "foldby: split_every must be >= 2");
        return NULL;
    }
    cbag *n = keyed_node(b, K_FOLDBY, "foldby", name, field, key_fn, 1);
    if (!n) return NULL;
    cbag__keyed *k = n->keyed;
    k->binop = binop;
    k->combine = opt && opt->combine ? opt->combine : binop;
    k->ud = ud;
    if (opt) {
        if (opt->split_every) k->split_every = opt->split_every;
        if ((opt->initial && !(k->initial = copy_opt(b->cx, opt->initial))) ||
            (opt->combine_initial &&
             !(k->combine_initial = copy_opt(b->cx, opt->combine_initial))))
            return NULL;
    }
    return n;
}

cbag *cbag_foldby_str(cbag *b, const char *field, const char *name,
                      cbag_binop_fn binop, const cbag_foldby_options *opt,
                      void *ud) {
    if (!b) return NULL;
    if (!field) {
        cbag__error(b->cx, CBAG_INVALID, "foldby: the key field is NULL");
        return NULL;
    }
    cbag_val f;
    cbag__set_str_ref(&f, field, (uint32_t)strlen(field));
    return cbag_foldby_named(b, name, &f, NULL, binop, opt, ud);
}

cbag *cbag_groupby_named(cbag *b, const char *name, const cbag_val *field,
                         cbag_map_fn key_fn, size_t npartitions, void *ud) {
    if (!b) return NULL;
    cbag *n = keyed_node(b, K_GROUPBY, "groupby", field ? NULL : name, field,
                         key_fn, npartitions ? npartitions : b->nparts);
    if (n) n->keyed->ud = ud;
    return n;
}

cbag *cbag_groupby(cbag *b, const char *field, size_t npartitions) {
    if (!b) return NULL;
    if (!field) {
        cbag__error(b->cx, CBAG_INVALID, "groupby: the key field is NULL");
        return NULL;
    }
    cbag_val f;
    cbag__set_str_ref(&f, field, (uint32_t)strlen(field));
    return cbag_groupby_named(b, NULL, &f, NULL, npartitions, NULL);
}

const cbag_val *cbag__key_of(cbag__worker *w, const char *op,
                             const cbag_val *field, cbag_map_fn key_fn,
                             void *ud, const cbag_val *x) {
    if (key_fn) {
        const cbag_val *key = key_fn(&w->call, x, ud);
        if (!key || w->call.code) {
            cbag__fail_call(w, op);
            return NULL;
        }
        return key;
    }
    if (!field) return x;
    const char *err;
    const cbag_val *key = cbag__getitem(x, field, &err);
    if (!key) cbag__key_error(w, op, x, field, err);
    return key;
}

/* The key of x, or NULL after recording the failure on w. */
static const cbag_val *key_of(cbag__worker *w, const cbag *b,
                              const cbag_val *x) {
    const cbag__keyed *k = b->keyed;
    return cbag__key_of(w, b->name, k->field, k->key_fn, k->ud, x);
}

/* ------------------------------------------------------------------------ */
/* foldby                                                                   */

typedef struct {
    cbag__sink s;
    const cbag *b;
    cbag__table *t;
    int oom;
} fold_sink;

static int fold_push(cbag__sink *s, const cbag_val *x) {
    fold_sink *f = (fold_sink *)s;
    cbag__worker *w = s->w;
    const cbag__keyed *k = f->b->keyed;
    const cbag_val *key = key_of(w, f->b, x);
    if (!key) return -1;
    int fresh;
    long i = cbag__table_upsert(f->t, key, &fresh);
    if (i < 0) return cbag__fail(w, f->b->name, CBAG_NOMEM, "out of memory");
    const cbag_val *acc;
    if (fresh && !k->initial) {
        acc = x; /* the first element seeds the accumulator */
    } else {
        const cbag_val *cur =
            fresh ? k->initial : cbag__table_val(f->t, (uint32_t)i);
        acc = k->binop(&w->call, cur, x, k->ud);
        if (!acc || w->call.code) return cbag__fail_call(w, f->b->name);
        if (!fresh && acc == cur) return 0; /* unchanged: no copy */
    }
    if (cbag__table_set_ref(f->t, (uint32_t)i, acc))
        return cbag__fail(w, f->b->name, CBAG_NOMEM, "out of memory");
    return 0;
}

static void fold_flush(cbag__sink *s) {
    fold_sink *f = (fold_sink *)s;
    if (cbag__table_flush(f->t)) f->oom = 1;
}

typedef struct {
    cbag *b;
    cbag__table *tables;
    cbag__arena scratch; /* values being moved into a table */
} fold_arg;

static int fold_task(cbag__worker *w, size_t part, void *arg) {
    fold_arg *a = arg;
    fold_sink f = {
        {fold_push, fold_flush, NULL, a->b, w}, a->b, &a->tables[part], 0};
    int r = cbag__run_part(w, a->b->in, part, &f.s);
    if (r == 1) r = 0;
    if (!r) fold_flush(&f.s); /* the batch arena is reset after the task */
    if (!r && f.oom) r = cbag__fail(w, a->b->name, CBAG_NOMEM, "out of memory");
    return r;
}

/* With mpi, each rank's tables go to every rank, so that every rank runs
 * the same tree as one process would: a frame of key, value, ... */
static int fold_pack(cbag__buf *out, size_t part, void *arg) {
    const cbag__table *t = &((fold_arg *)arg)->tables[part];
    cbag__codec_writer cw;
    if (cbag__codec_begin(&cw, out)) return -1;
    for (uint32_t i = 0; i < t->n; i++)
        if (cbag__codec_put(&cw, &t->e[i].key) ||
            cbag__codec_put(&cw, cbag__table_val(t, i)))
            return -1;
    cbag__codec_end(&cw);
    return 0;
}

static int fold_unpack(const void *p, size_t n, size_t part, void *arg,
                       char *err, size_t errlen) {
    fold_arg *a = arg;
    cbag__table *t = &a->tables[part];
    cbag__codec_reader r;
    int rc = cbag__codec_open(&r, p, n);
    while (!rc) {
        cbag_val key, *val = cbag__arena_alloc(&a->scratch, sizeof *val);
        int fresh, k = val ? cbag__codec_next(&r, &a->scratch, &key) : -1;
        if (k == 0) break;
        long i = -1;
        if (k < 0 || cbag__codec_next(&r, &a->scratch, val) != 1 ||
            (i = cbag__table_upsert(t, &key, &fresh)) < 0 || !fresh ||
            cbag__table_set_ref(t, (uint32_t)i, val)) {
            if (k > 0 && i >= 0 && !fresh)
                snprintf(r.err, sizeof r.err, "codec: a key twice");
            rc = -1;
        }
    }
    if (!rc && cbag__table_flush(t)) rc = -1;
    cbag__arena_reset(&a->scratch);
    if (rc) snprintf(err, errlen, "%s", r.err[0] ? r.err : "out of memory");
    return rc;
}

/* Folds the entries of src into dst with combine, as dask's foldby tree
 * does: a new key starts from combine_initial, or from src's value. */
static int merge(cbag_ctx *cx, const cbag *b, cbag_call *c, cbag__table *dst,
                 cbag__table *src) {
    const cbag__keyed *k = b->keyed;
    for (uint32_t j = 0; j < src->n; j++) {
        const cbag_val *v = cbag__table_val(src, j);
        int fresh;
        long i = cbag__table_upsert(dst, &src->e[j].key, &fresh);
        if (i < 0) goto oom;
        const cbag_val *acc = v;
        if (!fresh || k->combine_initial) {
            const cbag_val *cur =
                fresh ? k->combine_initial : cbag__table_val(dst, (uint32_t)i);
            acc = k->combine(c, cur, v, k->ud);
            if (!acc || c->code) {
                cbag__error(cx, c->code ? c->code : CBAG_USER,
                            "%s combine failed: %s", b->name,
                            c->code ? c->msg
                                    : "the function returned NULL without "
                                      "cbag_fail()");
                cbag__call_clear(c);
                return cx->code;
            }
        }
        if (cbag__table_set_ref(dst, (uint32_t)i, acc)) goto oom;
    }
    /* dst may refer into src and into the call's arena: make it own all. */
    if (cbag__table_flush(dst)) goto oom;
    cbag__arena_reset(c->arena);
    return CBAG_OK;
oom:
    cbag__error(cx, CBAG_NOMEM, "%s: out of memory combining", b->name);
    return CBAG_NOMEM;
}

static int run_foldby(cbag_ctx *cx, cbag *b, cbag__mat *mat) {
    size_t n = b->in->nparts;
    cbag__table *t = cbag__calloc(n, sizeof *t);
    if (!t) {
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return CBAG_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        cbag__table_init(&t[i]);
    fold_arg a = {b, t, {0}};
    cbag__arena_init(&a.scratch, 0);
    cbag__xchg x = {CBAG__X_ALL, fold_pack, fold_unpack, &a};
    int rc = cbag__run_stage(cx, b->in, 0, n, fold_task, &a, &x);
    cbag__arena_free(&a.scratch);
    cbag__arena scratch;
    cbag__arena_init(&scratch, 0);
    cbag_call c;
    cbag__call_init(&c, &scratch);
    /* The tree: groups of split_every tables merged into a new one, down
     * to one; a single table still goes through one merge, as in dask
     * (combine_initial applies to it). */
    size_t k = n, split = (size_t)b->keyed->split_every;
    for (int level = 0; !rc && (k > 1 || level == 0); level++) {
        size_t groups = 0;
        size_t step = k > split ? split : k;
        for (size_t lo = 0; lo < k && !rc; lo += step, groups++) {
            cbag__table dst;
            cbag__table_init(&dst);
            for (size_t j = lo; j < lo + step && j < k && !rc; j++)
                rc = merge(cx, b, &c, &dst, &t[j]);
            for (size_t j = lo; j < lo + step && j < k; j++)
                cbag__table_free(&t[j]);
            t[groups] = dst;
        }
        k = groups;
        if (rc) {
            for (size_t j = 0; j < k; j++)
                cbag__table_free(&t[j]);
            k = 0;
        }
    }
    /* The result: one partition of (key, accumulator) tuples. */
    if (!rc && n > 0) {
        cbag__arena *a = &mat->arenas[0];
        cbag__table *r = &t[0];
        if (cbag__seq_init(a, &mat->parts[0], CBAG_LIST, r->n)) rc = CBAG_NOMEM;
        for (uint32_t i = 0; !rc && i < r->n; i++) {
            cbag_val pair;
            if (cbag__seq_init(a, &pair, CBAG_TUPLE, 2) ||
                cbag__copy_into(a, &pair.u.seq->items[0], &r->e[i].key) ||
                cbag__copy_into(a, &pair.u.seq->items[1],
                                cbag__table_val(r, i)) ||
                (pair.u.seq->len = 2, cbag__seq_push(a, &mat->parts[0], &pair)))
                rc = CBAG_NOMEM;
        }
        if (rc) cbag__error(cx, rc, "%s: out of memory", b->name);
    }
    for (size_t j = 0; j < k; j++)
        cbag__table_free(&t[j]);
    if (!rc && n == 0)
        rc = cbag__seq_init(&mat->arenas[0], &mat->parts[0], CBAG_LIST, 0);
    cbag__arena_free(&scratch);
    cbag__free(t);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* groupby's buckets (the shuffle itself is in groupby.c)                   */

/* Which output partition a key goes to: Python's hash for numbers (so the
 * order of groups matches dask's), the stable cbag_hash for the rest. */
size_t cbag__bucket_of(const cbag_val *k, size_t n) {
    int64_t i;
    if (k->type == CBAG_INT || k->type == CBAG_BOOL)
        i = k->u.i;
    else if (k->type == CBAG_FLOAT && k->u.f == (double)(int64_t)k->u.f &&
             k->u.f >= -9.2e18 && k->u.f <= 9.2e18)
        i = (int64_t)k->u.f;
    else
        return (size_t)(cbag_hash(k) % n);
    const uint64_t m = (1ull << 61) - 1; /* Python's hash modulus */
    uint64_t a = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    uint64_t h = a % m;
    if (i < 0 && h == 1) h = 2; /* hash(-1) == -2 */
    return (size_t)(h % n);     /* abs(hash(k)) % n */
}

size_t cbag__memory_budget(const cbag_ctx *cx) {
    if (cx->opt.memory_limit) return cx->opt.memory_limit;
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || size <= 0) return (size_t)1 << 30;
    return (size_t)pages / 4 * (size_t)size;
}

/* ------------------------------------------------------------------------ */
/* Preparing barriers                                                       */

void cbag__mat_free(cbag__mat *m) {
    if (!m) return;
    for (size_t i = 0; i < m->narenas; i++)
        cbag__arena_free(&m->arenas[i]);
    cbag__free(m->arenas);
    cbag__free(m->parts);
    cbag__free(m);
}

cbag__mat *cbag__mat_new(cbag_ctx *cx, const cbag *b, size_t nparts,
                         size_t narenas) {
    cbag__mat *m = cbag__calloc(1, sizeof *m);
    if (m) {
        m->parts = cbag__calloc(nparts ? nparts : 1, sizeof *m->parts);
        m->arenas = cbag__calloc(narenas ? narenas : 1, sizeof *m->arenas);
        m->narenas = m->arenas ? narenas : 0;
    }
    if (!m || !m->parts || !m->arenas) {
        cbag__mat_free(m);
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return NULL;
    }
    for (size_t i = 0; i < narenas; i++)
        cbag__arena_init(&m->arenas[i], 0);
    for (size_t i = 0; i < nparts; i++)
        cbag__set_null(&m->parts[i]);
    return m;
}

static int prepare(cbag_ctx *cx, cbag *b) {
    if (b->in && prepare(cx, b->in)) return cx->code;
    for (size_t i = 0; i < b->nins; i++)
        if (prepare(cx, b->ins[i])) return cx->code;
    if (b->kind == K_OPS) {
        int rc = b->ops->prepare ? b->ops->prepare(cx, b) : CBAG_OK;
        if (rc && cx->code == CBAG_OK)
            cbag__error(cx, rc, "%s: out of memory", b->name);
        return rc;
    }
    if ((b->kind != K_FOLDBY && b->kind != K_GROUPBY) || b->mat) return CBAG_OK;
    /* foldby: one arena for its partition; groupby: one per input */
    size_t narenas = b->kind == K_GROUPBY ? b->in->nparts : b->nparts;
    cbag__mat *m = cbag__mat_new(cx, b, b->nparts, narenas);
    if (!m) return CBAG_NOMEM;
    int rc = b->kind == K_FOLDBY ? run_foldby(cx, b, m)
                                 : cbag__groupby_prepare(cx, b, m);
    if (rc) {
        if (cx->code == CBAG_OK)
            cbag__error(cx, rc, "%s: out of memory", b->name);
        cbag__mat_free(m);
        return rc;
    }
    b->mat = m;
    return CBAG_OK;
}

int cbag__prepare(cbag_ctx *cx, cbag *b) {
    int rc = cx->mpi ? cbag__dist_plan(cx, b) : CBAG_OK;
    if (!rc) rc = prepare(cx, b);
    if (rc) cbag__release(b); /* nothing half-made stays for the next one */
    return rc;
}

void cbag__release(cbag *b) {
    if (b->in) cbag__release(b->in);
    for (size_t i = 0; i < b->nins; i++)
        cbag__release(b->ins[i]);
    if (b->kind == K_OPS && b->ops->release) b->ops->release(b);
    if (b->kind == K_GROUPBY) cbag__groupby_release(b);
    if (b->mat) {
        cbag__mat_free(b->mat);
        b->mat = NULL;
    }
}

int cbag__run_barrier(cbag__worker *w, const cbag *b, size_t part,
                      cbag__sink *out) {
    if (b->kind == K_OPS && b->ops->run) return b->ops->run(w, b, part, out);
    if (b->kind == K_GROUPBY) return cbag__groupby_run(w, b, part, out);
    return cbag__run_list(w, &b->mat->parts[part], out);
}
