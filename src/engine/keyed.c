/* keyed.c: foldby and groupby, the barrier nodes. A stage cannot run
 * through them: cbag__prepare computes them first (their inputs first),
 * keeping their output partitions in memory for the compute in flight. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    fold_arg a = {b, t};
    int rc = cbag__run_stage(cx, b->in, 0, n, fold_task, &a);
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
/* groupby: a shuffle through memory                                        */

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

/* Stage 1 appends (key, value) copies to one bucket per (input, output)
 * partition, in the input partition's arena. When the buckets held in
 * memory pass the budget, a worker writes its partition's buckets to its
 * spill file (one zstd frame per bucket) and frees them; later appends
 * start new buckets. An output partition is grouped when it is read:
 * for each input partition in order, its spilled frames in order, then
 * what stayed in memory, so groups and values come in the same order
 * whether or not anything was spilled. */

typedef struct {
    size_t out; /* output partition */
    int file;   /* worker whose spill file holds it */
    uint32_t pairs;
    uint64_t off, len;
} spill_seg;

typedef struct {
    spill_seg *s;
    size_t n, cap;
} seg_list;

typedef struct {
    cbag_val *buckets;       /* [input partition][output partition] */
    seg_list *segs;          /* per input partition, in the order written */
    cbag__spill_file *files; /* per worker */
    int nfiles;
    size_t budget, min_spill;
    atomic_size_t held; /* bytes of buckets in memory */
} group_state;

static void group_state_free(group_state *g, size_t nin) {
    if (!g) return;
    for (int i = 0; i < g->nfiles; i++)
        cbag__spill_file_close(&g->files[i]);
    for (size_t i = 0; g->segs && i < nin; i++)
        cbag__free(g->segs[i].s);
    cbag__free(g->segs);
    cbag__free(g->files);
    cbag__free(g->buckets);
    cbag__free(g);
}

/* Where a pair pushed in the batch in flight went: bucket, index of its
 * key (the value follows). */
typedef struct {
    uint32_t bucket, at;
} pending_pair;

typedef struct {
    cbag__sink s;
    const cbag *b;
    size_t part;
    cbag__arena *a;
    cbag_val *buckets; /* nout lists of key, value, key, value, ... */
    group_state *g;
    size_t mine; /* bytes of a counted in g->held */
    cbag__buf enc;
    /* The pairs of the batch in flight still point into the batch arena.
     * When the batch ends they are copied out, or, when the input may keep
     * them there (adopt) and they are most of the batch, the batch's chunks
     * are taken over whole: no copy at all. */
    int adopt;
    pending_pair *pend;
    size_t npend, cappend;
    size_t pend_bytes; /* deep size of the pending pairs */
    size_t counted;    /* bytes of mine added to g->held */
    int failed;        /* a flush failed; the worker holds the message */
} shuffle_sink;

/* Whether every value the pipeline of b pushes lives in the worker's batch
 * arena or longer (the graph, a barrier's partitions): raw text lines,
 * zip and map_partitions point into buffers that die at a flush, and
 * other barriers' outputs are not known here, so they are copied. */
static int batch_or_longer(const cbag *b) {
    for (;;) {
        switch (b->kind) {
        case K_SEQ:
        case K_RANGE: return 1;
        case K_CONCAT:
            for (size_t i = 0; i < b->nins; i++)
                if (!batch_or_longer(b->ins[i])) return 0;
            return 1;
        case K_MAP:
            if (b->fn.map == cbag_json_loads && b->in->kind == K_TEXT) return 1;
            b = b->in;
            break;
        case K_FILTER:
        case K_REMOVE:
        case K_STARMAP:
        case K_PLUCK:
        case K_FLATTEN: b = b->in; break;
        default: return 0;
        }
    }
}

/* Bytes an arena holds for v and what it points to (an estimate: enough
 * to tell whether the kept values are most of a batch). */
static size_t deep_size(const cbag_val *v) {
    switch (v->type) {
    case CBAG_STR: return (size_t)v->len + 8;
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *q = v->u.seq;
        size_t n = sizeof *q + (size_t)q->cap * sizeof(cbag_val);
        for (uint32_t i = 0; i < q->len; i++)
            n += deep_size(&q->items[i]);
        return n;
    }
    case CBAG_DICT: {
        const cbag__dict *d = v->u.dict;
        size_t n = sizeof *d + (size_t)d->cap * sizeof d->entries[0] +
                   (d->index_mask ? (d->index_mask + 1) * 4u : 0);
        for (uint32_t i = 0; i < d->len; i++)
            n += deep_size(&d->entries[i].key) + deep_size(&d->entries[i].val);
        return n;
    }
    default: return 0;
    }
}

static int init_buckets(shuffle_sink *sh) {
    for (size_t j = 0; j < sh->b->nparts; j++)
        if (cbag__seq_init(sh->a, &sh->buckets[j], CBAG_LIST, 0)) return -1;
    return 0;
}

/* Writes every non-empty bucket of this input partition to the worker's
 * spill file and frees the memory they held. */
static int spill_buckets(shuffle_sink *sh) {
    cbag__worker *w = sh->s.w;
    group_state *g = sh->g;
    seg_list *L = &g->segs[sh->part];
    char err[256];
    for (size_t j = 0; j < sh->b->nparts; j++) {
        const cbag__seq *q = sh->buckets[j].u.seq;
        if (sh->buckets[j].type != CBAG_LIST || !q->len) continue;
        sh->enc.len = 0;
        for (uint32_t k = 0; k < q->len; k++)
            if (cbag__spill_encode(&sh->enc, &q->items[k]))
                return cbag__fail(w, sh->b->name, CBAG_NOMEM,
                                  "out of memory (or a value nested too "
                                  "deeply) spilling the shuffle");
        if (L->n == L->cap) {
            size_t cap = L->cap ? 2 * L->cap : 16;
            spill_seg *s = cbag__realloc(L->s, cap * sizeof *s);
            if (!s)
                return cbag__fail(w, sh->b->name, CBAG_NOMEM, "out of memory");
            L->s = s;
            L->cap = cap;
        }
        spill_seg *sg = &L->s[L->n];
        sg->out = j;
        sg->file = w->index;
        sg->pairs = q->len / 2;
        if (cbag__spill_write(&g->files[w->index], w->cx->temp_dir, sh->enc.p,
                              sh->enc.len, &sg->off, &sg->len, err, sizeof err))
            return cbag__fail(w, sh->b->name, CBAG_IO, "OSError: %s", err);
        L->n++;
    }
    cbag__arena_free(sh->a); /* really give the memory back */
    cbag__arena_init(sh->a, 0);
    atomic_fetch_sub(&g->held, sh->counted);
    sh->mine = sh->counted = 0;
    if (init_buckets(sh))
        return cbag__fail(w, sh->b->name, CBAG_NOMEM, "out of memory");
    return 0;
}

static int shuffle_push(cbag__sink *s, const cbag_val *x) {
    shuffle_sink *sh = (shuffle_sink *)s;
    if (sh->failed) return -1;
    const cbag_val *key = key_of(s->w, sh->b, x);
    if (!key) return -1;
    size_t j = cbag__bucket_of(key, sh->b->nparts);
    cbag_val *bk = &sh->buckets[j];
    size_t before = cbag__arena_used(sh->a);
    if (sh->npend == sh->cappend) {
        size_t cap = sh->cappend ? 2 * sh->cappend : 1024;
        pending_pair *p = cbag__realloc(sh->pend, cap * sizeof *p);
        if (!p) goto oom;
        sh->pend = p;
        sh->cappend = cap;
    }
    sh->pend[sh->npend].bucket = (uint32_t)j;
    sh->pend[sh->npend].at = bk->u.seq->len;
    if (cbag__seq_push(sh->a, bk, key) || cbag__seq_push(sh->a, bk, x))
        goto oom;
    sh->npend++;
    if (sh->adopt) sh->pend_bytes += deep_size(key) + deep_size(x);
    sh->mine += cbag__arena_used(sh->a) - before;
    return 0;
oom:
    return cbag__fail(s->w, sh->b->name, CBAG_NOMEM,
                      "out of memory in the shuffle");
}

/* The batch arena is about to be reset: the pending pairs move out of it,
 * then the memory held is checked against the budget. */
static int settle(shuffle_sink *sh) {
    cbag__worker *w = sh->s.w;
    size_t before = cbag__arena_used(sh->a);
    size_t batch = cbag__arena_used(&w->batch);
    if (sh->npend && sh->adopt && 2 * sh->pend_bytes >= batch) {
        cbag__arena_adopt(sh->a, &w->batch);
    } else {
        for (size_t i = 0; i < sh->npend; i++) {
            cbag__seq *q = sh->buckets[sh->pend[i].bucket].u.seq;
            cbag_val *kv = &q->items[sh->pend[i].at], c[2];
            if (cbag__copy_into(sh->a, &c[0], &kv[0]) ||
                cbag__copy_into(sh->a, &c[1], &kv[1]))
                return cbag__fail(w, sh->b->name, CBAG_NOMEM,
                                  "out of memory in the shuffle");
            kv[0] = c[0];
            kv[1] = c[1];
        }
    }
    sh->npend = 0;
    sh->pend_bytes = 0;
    size_t grown = cbag__arena_used(sh->a) - before;
    sh->mine += grown;
    size_t held = atomic_fetch_add(&sh->g->held, sh->mine - sh->counted) +
                  (sh->mine - sh->counted);
    sh->counted = sh->mine;
    if (held > sh->g->budget && sh->mine >= sh->g->min_spill)
        return spill_buckets(sh);
    return 0;
}

static void shuffle_flush(cbag__sink *s) {
    shuffle_sink *sh = (shuffle_sink *)s;
    if (!sh->failed && settle(sh)) sh->failed = 1;
}

typedef struct {
    cbag *b;
    cbag__mat *mat;
    group_state *g;
    int adopt; /* batch_or_longer(b->in) */
} group_arg;

static int split_task(cbag__worker *w, size_t part, void *arg) {
    group_arg *ga = arg;
    size_t nout = ga->b->nparts;
    shuffle_sink sh = {.s = {shuffle_push, shuffle_flush, NULL, ga->b, w},
                       .b = ga->b,
                       .part = part,
                       .a = &ga->mat->arenas[part],
                       .buckets = &ga->g->buckets[part * nout],
                       .g = ga->g,
                       .enc = CBAG__BUF_INIT,
                       .adopt = ga->adopt};
    if (init_buckets(&sh))
        return cbag__fail(w, ga->b->name, CBAG_NOMEM, "out of memory");
    int r = cbag__run_part(w, ga->b->in, part, &sh.s);
    if (r == 1) r = 0;
    if (!r && sh.failed) r = -1;
    if (!r) r = settle(&sh);
    /* What finished partitions keep stays under half the budget. */
    if (!r && sh.mine && atomic_load(&ga->g->held) > ga->g->budget / 2)
        r = spill_buckets(&sh);
    cbag__buf_free(&sh.enc);
    cbag__free(sh.pend);
    return r;
}

static int run_groupby(cbag_ctx *cx, cbag *b, cbag__mat *mat) {
    size_t nin = b->in->nparts, nout = b->nparts;
    size_t nb = nin * nout;
    if (cbag__ensure_workers(cx)) return cx->code;
    group_state *g = cbag__calloc(1, sizeof *g);
    if (g) {
        g->buckets = cbag__calloc(nb ? nb : 1, sizeof *g->buckets);
        g->segs = cbag__calloc(nin ? nin : 1, sizeof *g->segs);
        g->files = cbag__calloc((size_t)cx->nw, sizeof *g->files);
    }
    if (!g || !g->buckets || !g->segs || !g->files) {
        group_state_free(g, nin);
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return CBAG_NOMEM;
    }
    g->nfiles = cx->nw;
    for (int i = 0; i < g->nfiles; i++)
        cbag__spill_file_init(&g->files[i]);
    g->budget = cbag__memory_budget(cx);
    g->min_spill = g->budget / (4 * (size_t)cx->nw) + 1;
    atomic_init(&g->held, 0);
    group_arg ga = {b, mat, g, batch_or_longer(b->in)};
    int rc = cbag__run_stage(cx, b->in, 0, nin, split_task, &ga);
    if (rc) {
        group_state_free(g, nin);
        return rc;
    }
    b->prepared = g;
    return CBAG_OK;
}

/* Adds the pairs of q (key, value, ...) to the groups of t; the lists are
 * made in a and share the values' bodies. */
static int group_pairs(cbag__table *t, cbag__arena *a, const cbag_val *q,
                       size_t n) {
    for (size_t j = 0; j + 1 < n; j += 2) {
        int fresh;
        long e = cbag__table_upsert(t, &q[j], &fresh);
        if (e < 0 || (fresh && cbag__seq_init(a, &t->e[e].val, CBAG_LIST, 4)) ||
            cbag__seq_push(a, &t->e[e].val, &q[j + 1]))
            return -1;
    }
    return 0;
}

/* Reads the spilled frame sg into pairs decoded in a, and groups them. */
static int group_spilled(cbag__worker *w, const cbag *b, group_state *g,
                         const spill_seg *sg, cbag__table *t, cbag__arena *a,
                         cbag__buf *raw) {
    char err[256];
    raw->len = 0;
    if (cbag__spill_read(&g->files[sg->file], sg->off, sg->len, raw, err,
                         sizeof err))
        return cbag__fail(w, b->name, CBAG_IO, "OSError: %s", err);
    const unsigned char *p = (const unsigned char *)raw->p, *end = p + raw->len;
    cbag_val pair[2];
    for (uint32_t k = 0; k < sg->pairs; k++) {
        if (cbag__spill_decode(a, &p, end, &pair[0]) ||
            cbag__spill_decode(a, &p, end, &pair[1]))
            return cbag__fail(w, b->name, CBAG_IO,
                              "OSError: a spill file is corrupt");
        if (group_pairs(t, a, pair, 2))
            return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    }
    if (p != end)
        return cbag__fail(w, b->name, CBAG_IO,
                          "OSError: a spill file is corrupt");
    return 0;
}

static int group_run(cbag__worker *w, const cbag *b, size_t part,
                     cbag__sink *out) {
    group_state *g = b->prepared;
    size_t nout = b->nparts, nin = b->in->nparts;
    cbag__arena a;
    cbag__arena_init(&a, 0);
    cbag__table t;
    cbag__table_init(&t);
    cbag__buf raw = CBAG__BUF_INIT;
    int r = 0;
    for (size_t i = 0; i < nin && !r; i++) {
        const seg_list *L = &g->segs[i];
        for (size_t k = 0; k < L->n && !r; k++)
            if (L->s[k].out == part)
                r = group_spilled(w, b, g, &L->s[k], &t, &a, &raw);
        const cbag_val *bk = &g->buckets[i * nout + part];
        if (!r && bk->type == CBAG_LIST &&
            group_pairs(&t, &a, bk->u.seq->items, bk->u.seq->len))
            r = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    }
    cbag__buf_free(&raw);
    void *saved = w->lines;
    w->lines = NULL;
    for (uint32_t i = 0; !r && i < t.n; i++) {
        cbag_val *pair = cbag__arena_alloc(&a, sizeof *pair);
        cbag_val key; /* the table's copy of the key dies with it */
        if (!pair || cbag__copy_into(&a, &key, &t.e[i].key) ||
            cbag__seq_init(&a, pair, CBAG_TUPLE, 2) ||
            cbag__seq_push(&a, pair, &key) ||
            cbag__seq_push(&a, pair, &t.e[i].val)) {
            r = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
            break;
        }
        w->elem = i;
        if ((r = out->push(out, pair))) break;
        r = cbag__between(w, out);
    }
    w->lines = saved;
    out->flush(out); /* the sinks may keep values that live in a */
    cbag__table_free(&t);
    cbag__arena_free(&a);
    return r;
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
    int rc = b->kind == K_FOLDBY ? run_foldby(cx, b, m) : run_groupby(cx, b, m);
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
    int rc = prepare(cx, b);
    if (rc) cbag__release(b); /* nothing half-made stays for the next one */
    return rc;
}

void cbag__release(cbag *b) {
    if (b->in) cbag__release(b->in);
    for (size_t i = 0; i < b->nins; i++)
        cbag__release(b->ins[i]);
    if (b->kind == K_OPS && b->ops->release) b->ops->release(b);
    if (b->kind == K_GROUPBY && b->prepared) {
        group_state_free(b->prepared, b->in->nparts);
        b->prepared = NULL;
    }
    if (b->mat) {
        cbag__mat_free(b->mat);
        b->mat = NULL;
    }
}

int cbag__run_barrier(cbag__worker *w, const cbag *b, size_t part,
                      cbag__sink *out) {
    if (b->kind == K_OPS && b->ops->run) return b->ops->run(w, b, part, out);
    if (b->kind == K_GROUPBY) return group_run(w, b, part, out);
    return cbag__run_list(w, &b->mat->parts[part], out);
}
