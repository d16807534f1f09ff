/* agg.c: reductions. Each partition streams into a sink that keeps a small
 * state and ends as a partial value; the partials are then aggregated in a
 * tree of fan-in split_every, exactly as dask's Bag.reduction lays it out
 * (empty partitions give no partial unless the bag has one partition), so
 * float sums associate as in dask and match it bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mem.h"

/* ------------------------------------------------------------------------ */
/* Building items                                                           */

static cbag_item *item_new(cbag *b, cbag__agg agg, const char *name) {
    if (!b) return NULL;
    cbag_item *it = cbag__galloc(b->cx, sizeof *it);
    if (!it) return NULL;
    it->cx = b->cx;
    it->agg = agg;
    it->id = b->cx->next_id++;
    it->name = name;
    it->in = b;
    it->split_every = b->cx->split_every;
    return it;
}

cbag_item *cbag_count(cbag *b) { return item_new(b, A_COUNT, "count"); }
cbag_item *cbag_sum(cbag *b) { return item_new(b, A_SUM, "sum"); }
cbag_item *cbag_mean(cbag *b) { return item_new(b, A_MEAN, "mean"); }
cbag_item *cbag_min(cbag *b) { return item_new(b, A_MIN, "min"); }
cbag_item *cbag_max(cbag *b) { return item_new(b, A_MAX, "max"); }
cbag_item *cbag_any(cbag *b) { return item_new(b, A_ANY, "any"); }
cbag_item *cbag_all(cbag *b) { return item_new(b, A_ALL, "all"); }

cbag_item *cbag_var(cbag *b, int ddof) {
    cbag_item *it = item_new(b, A_VAR, "var");
    if (it) it->ddof = ddof;
    return it;
}

cbag_item *cbag_std(cbag *b, int ddof) {
    cbag_item *it = item_new(b, A_STD, "std");
    if (it) it->ddof = ddof;
    return it;
}

cbag_item *cbag_fold_named(cbag *b, const char *name, cbag_binop_fn binop,
                           cbag_binop_fn combine, const cbag_val *initial,
                           void *ud) {
    if (!b) return NULL;
    if (!binop) {
        cbag__error(b->cx, CBAG_INVALID, "fold: binop is NULL");
        return NULL;
    }
    const char *label = cbag__gstrf(b->cx, "fold(%s)", name ? name : "?");
    cbag_item *it = label ? item_new(b, A_FOLD, label) : NULL;
    if (!it) return NULL;
    it->binop = binop;
    it->combine = combine ? combine : binop;
    it->ud = ud;
    if (initial) {
        cbag_val *init = cbag__galloc(b->cx, sizeof *init);
        if (!init || cbag__copy_into(&b->cx->graph, init, initial)) {
            cbag__error(b->cx, CBAG_NOMEM, "fold: out of memory");
            return NULL;
        }
        it->initial = init;
    }
    return it;
}

cbag_item *cbag_reduction_named(cbag *b, const char *name,
                                cbag_map_fn perpartition,
                                cbag_map_fn aggregate, int split_every,
                                void *ud) {
    if (!b) return NULL;
    if (!perpartition || !aggregate || split_every == 1 || split_every < 0) {
        cbag__error(b->cx, CBAG_INVALID,
                    "reduction: needs two functions and split_every >= 2 "
                    "(or 0 for the default)");
        return NULL;
    }
    const char *label =
        cbag__gstrf(b->cx, "reduction(%s)", name ? name : "?");
    cbag_item *it = label ? item_new(b, A_REDUCTION, label) : NULL;
    if (!it) return NULL;
    it->per = perpartition;
    it->aggregate = aggregate;
    it->ud = ud;
    if (split_every) it->split_every = split_every;
    return it;
}

/* ------------------------------------------------------------------------ */
/* Python arithmetic on numbers                                             */

/* a + b as Python's sum does it: ints stay exact (overflow is an error
 * where Python would grow a big int), an int meeting a float becomes one. */
static int num_add(const cbag_val *a, const cbag_val *b, cbag_val *out,
                   const char **err) {
    if (!cbag__is_num(a) || !cbag__is_num(b)) {
        *err = "TypeError";
        return CBAG_TYPE;
    }
    if (a->type != CBAG_FLOAT && b->type != CBAG_FLOAT) {
        int64_t r;
        if (__builtin_add_overflow(a->u.i, b->u.i, &r)) {
            *err = "OverflowError";
            return CBAG_OVERFLOW;
        }
        cbag__set_int(out, r);
        return 0;
    }
    double x = a->type == CBAG_FLOAT ? a->u.f : (double)a->u.i;
    double y = b->type == CBAG_FLOAT ? b->u.f : (double)b->u.i;
    cbag__set_float(out, x + y);
    return 0;
}

static int add_error(cbag__worker *w, const cbag_item *it, int code,
                     const cbag_val *a, const cbag_val *b) {
    if (code == CBAG_OVERFLOW)
        return cbag__fail(w, it->name, code,
                          "OverflowError: integer sum leaves the int64 range");
    return cbag__fail(w, it->name, code,
                      "TypeError: unsupported operand type(s) for +: "
                      "'%s' and '%s'",
                      cbag_type_name(cbag_typeof(a)),
                      cbag_type_name(cbag_typeof(b)));
}

/* ------------------------------------------------------------------------ */
/* Per-partition sinks                                                      */

typedef struct {
    cbag__sink s;
    const cbag_item *it;
    uint64_t n;       /* elements seen */
    cbag_val acc;     /* sum, fold accumulator, min/max best (copied) */
    const cbag_val *ref; /* acc by reference until the next flush */
    int has;          /* acc holds something */
    double total;     /* mean */
    double mean, m2;  /* var (Welford) */
    cbag__arena keep[2]; /* acc copies that survive batch resets */
    int cur;
    int flag; /* any/all */
} part_sink;

static int part_push(cbag__sink *s, const cbag_val *x) {
    part_sink *p = (part_sink *)s;
    const cbag_item *it = p->it;
    cbag__worker *w = s->w;
    p->n++;
    switch (it->agg) {
    case A_COUNT: return 0;
    case A_SUM: {
        const char *err;
        int rc = num_add(&p->acc, x, &p->acc, &err);
        return rc ? add_error(w, it, rc, &p->acc, x) : 0;
    }
    case A_MEAN:
    case A_VAR:
    case A_STD: {
        double d;
        if (!cbag_number(x, &d))
            return cbag__fail(w, it->name, CBAG_TYPE,
                              "TypeError: unsupported operand type(s) "
                              "for +: 'float' and '%s'",
                              cbag_type_name(cbag_typeof(x)));
        if (it->agg == A_MEAN) {
            p->total += d;
        } else {
            double delta = d - p->mean;
            p->mean += delta / (double)p->n;
            p->m2 += delta * (d - p->mean);
        }
        return 0;
    }
    case A_MIN:
    case A_MAX: {
        const cbag_val *cur = p->ref ? p->ref : &p->acc;
        if (!p->has) {
            p->ref = x;
            p->has = 1;
            return 0;
        }
        int c = cbag_cmp(x, cur);
        if (it->agg == A_MIN ? c < 0 : c > 0) p->ref = x; /* ties keep first */
        return 0;
    }
    case A_ANY:
        if (cbag_truthy(x)) {
            p->flag = 1;
            return 1; /* the answer is known: stop reading */
        }
        return 0;
    case A_ALL:
        if (!cbag_truthy(x)) {
            p->flag = 0;
            return 1;
        }
        return 0;
    case A_FOLD: {
        if (!p->has) {
            p->ref = x;
            p->has = 1;
            return 0;
        }
        const cbag_val *cur = p->ref ? p->ref : &p->acc;
        const cbag_val *r = it->binop(&w->call, cur, x, it->ud);
        if (!r || w->call.code) return cbag__fail_call(w, it->name);
        p->ref = r;
        return 0;
    }
    case A_REDUCTION: return 0; /* collected instead */
    }
    return 0;
}

/* The accumulator may point into the batch arena, or into one of the keep
 * arenas: copy it into the other keep arena and drop the old one. */
static void part_flush(cbag__sink *s) {
    part_sink *p = (part_sink *)s;
    if (!p->ref) return;
    int next = 1 - p->cur;
    cbag__arena_reset(&p->keep[next]);
    if (cbag__copy_into(&p->keep[next], &p->acc, p->ref)) {
        /* Out of memory: remember it; the partition fails at the end. */
        p->has = -1;
        return;
    }
    p->ref = NULL;
    cbag__arena_reset(&p->keep[p->cur]);
    p->cur = next;
}

/* The partial of one partition, and whether there is one. */
typedef struct {
    const cbag_item *it;
    cbag__arena *arenas;
    cbag_val *partials;
    unsigned char *present;
    int single; /* the bag has one partition: empty ones still count */
} agg_arg;

static int make_tuple(cbag__arena *a, cbag_val *out, size_t n,
                      const cbag_val *items) {
    if (cbag__seq_init(a, out, CBAG_TUPLE, n)) return -1;
    for (size_t i = 0; i < n; i++)
        if (cbag__seq_push(a, out, &items[i])) return -1;
    return 0;
}

static int reduction_partial(cbag__worker *w, const cbag_item *it,
                             size_t part, cbag__arena *a, cbag_val *out,
                             int single, int *present) {
    cbag_val list;
    int r = cbag__collect(w, it->in, part, a, &list, 0);
    if (r) return r;
    if (list.u.seq->len == 0 && !single) {
        *present = 0;
        return 0;
    }
    const cbag_val *v = it->per(&w->call, &list, it->ud);
    if (!v || w->call.code) {
        return cbag__fail_call(w, it->name);
    }
    if (cbag__copy_into(a, out, v))
        return cbag__fail(w, it->name, CBAG_NOMEM, "out of memory");
    *present = 1;
    return 0;
}

static int agg_task(cbag__worker *w, size_t part, void *arg) {
    agg_arg *g = arg;
    const cbag_item *it = g->it;
    cbag__arena *a = &g->arenas[part];
    cbag_val *out = &g->partials[part];
    int present = 0, r;
    if (it->agg == A_REDUCTION) {
        r = reduction_partial(w, it, part, a, out, g->single, &present);
        g->present[part] = (unsigned char)present;
        return r;
    }
    part_sink p;
    memset(&p, 0, sizeof p);
    p.s = (cbag__sink){part_push, part_flush, NULL, NULL, w};
    p.it = it;
    cbag__arena_init(&p.keep[0], 0);
    cbag__arena_init(&p.keep[1], 0);
    cbag__set_int(&p.acc, 0); /* sum starts at int 0, as Python's sum */
    p.flag = it->agg == A_ALL;
    if (it->agg == A_FOLD && it->initial) {
        p.ref = it->initial;
        p.has = 1;
    }
    r = cbag__run_part(w, it->in, part, &p.s);
    if (r == 1) r = 0;
    if (!r && p.has < 0)
        r = cbag__fail(w, it->name, CBAG_NOMEM, "out of memory");
    const cbag_val *acc = p.ref ? p.ref : &p.acc;
    if (!r && (p.n > 0 || g->single)) {
        present = 1;
        switch (it->agg) {
        case A_COUNT: cbag__set_int(out, (int64_t)p.n); break;
        case A_SUM: *out = p.acc; break;
        case A_MEAN: {
            cbag_val t[2];
            cbag__set_float(&t[0], p.total);
            cbag__set_int(&t[1], (int64_t)p.n);
            if (make_tuple(a, out, 2, t)) r = -2;
            break;
        }
        case A_VAR:
        case A_STD: {
            cbag_val t[3];
            cbag__set_int(&t[0], (int64_t)p.n);
            cbag__set_float(&t[1], p.mean);
            cbag__set_float(&t[2], p.m2);
            if (make_tuple(a, out, 3, t)) r = -2;
            break;
        }
        case A_MIN:
        case A_MAX:
        case A_FOLD:
            if (!p.has) {
                present = 0;
                if (it->agg != A_FOLD)
                    r = cbag__fail(w, it->name, CBAG_EMPTY,
                                   "ValueError: %s() arg is an empty "
                                   "sequence",
                                   it->name);
                else
                    r = cbag__fail(w, it->name, CBAG_EMPTY,
                                   "TypeError: reduce() of empty "
                                   "sequence with no initial value");
            } else if (cbag__copy_into(a, out, acc))
                r = -2;
            break;
        case A_ANY:
        case A_ALL: cbag__set_bool(out, p.flag); break;
        case A_REDUCTION: break;
        }
        if (r == -2) r = cbag__fail(w, it->name, CBAG_NOMEM, "out of memory");
    }
    cbag__arena_free(&p.keep[0]);
    cbag__arena_free(&p.keep[1]);
    g->present[part] = (unsigned char)present;
    return r;
}

/* ------------------------------------------------------------------------ */
/* Aggregation                                                              */

/* Combines n partials (n may be 0 at the last level) into *out. */
static int aggregate(cbag_ctx *cx, const cbag_item *it, cbag_call *c,
                     const cbag_val *v, size_t n, cbag_val *out, int last) {
    cbag__arena *a = c->arena;
    switch (it->agg) {
    case A_COUNT:
    case A_SUM: {
        cbag_val acc;
        cbag__set_int(&acc, 0);
        for (size_t i = 0; i < n; i++) {
            const char *err;
            int rc = num_add(&acc, &v[i], &acc, &err);
            if (rc) {
                cbag__error(cx, rc, "%s: %s: integer sum leaves the int64 range",
                            it->name, err);
                return rc;
            }
        }
        *out = acc;
        return 0;
    }
    case A_MEAN: {
        double total = 0;
        int64_t count = 0;
        for (size_t i = 0; i < n; i++) {
            total += v[i].u.seq->items[0].u.f;
            count += v[i].u.seq->items[1].u.i;
        }
        if (count == 0) {
            cbag__error(cx, CBAG_EMPTY,
                        "mean: ZeroDivisionError: mean of an empty bag");
            return CBAG_EMPTY;
        }
        cbag__set_float(out, total / (double)count);
        return 0;
    }
    case A_VAR:
    case A_STD: {
        /* Chan et al.'s pairwise update: stable, unlike E[x^2] - E[x]^2. */
        double n_a = 0, mean = 0, m2 = 0;
        for (size_t i = 0; i < n; i++) {
            const cbag_val *t = v[i].u.seq->items;
            double n_b = (double)t[0].u.i, mean_b = t[1].u.f, m2_b = t[2].u.f;
            if (n_b == 0) continue;
            double tot = n_a + n_b, delta = mean_b - mean;
            mean += delta * n_b / tot;
            m2 += m2_b + delta * delta * n_a * n_b / tot;
            n_a = tot;
        }
        if (!last) { /* not reached: var aggregates in one level */
            cbag_val t[3];
            cbag__set_int(&t[0], (int64_t)n_a);
            cbag__set_float(&t[1], mean);
            cbag__set_float(&t[2], m2);
            return make_tuple(a, out, 3, t) ? CBAG_NOMEM : 0;
        }
        if (n_a - it->ddof == 0) {
            cbag__error(cx, CBAG_EMPTY,
                        "%s: ZeroDivisionError: %s of %.0f elements with "
                        "ddof=%d",
                        it->name, it->name, n_a, it->ddof);
            return CBAG_EMPTY;
        }
        double var = m2 / (n_a - it->ddof);
        cbag__set_float(out, it->agg == A_STD ? sqrt(var) : var);
        return 0;
    }
    case A_MIN:
    case A_MAX: {
        if (n == 0) {
            cbag__error(cx, CBAG_EMPTY,
                        "%s: ValueError: %s() arg is an empty sequence",
                        it->name, it->name);
            return CBAG_EMPTY;
        }
        const cbag_val *best = &v[0];
        for (size_t i = 1; i < n; i++) {
            int k = cbag_cmp(&v[i], best);
            if (it->agg == A_MIN ? k < 0 : k > 0) best = &v[i];
        }
        *out = *best;
        return 0;
    }
    case A_ANY:
    case A_ALL: {
        int r = it->agg == A_ALL;
        for (size_t i = 0; i < n; i++)
            if (cbag_truthy(&v[i]) != (it->agg == A_ALL)) r = !r, i = n;
        cbag__set_bool(out, r);
        return 0;
    }
    case A_FOLD: {
        /* dask: reduce(combine, partials) without initial: initial only
         * starts each partition's reduce(binop, ...). */
        const cbag_val *acc = NULL;
        for (size_t i = 0; i < n; i++) {
            if (!acc) {
                acc = &v[i];
                continue;
            }
            acc = it->combine(c, acc, &v[i], it->ud);
            if (!acc || c->code) goto callback_failed;
        }
        if (!acc) {
            cbag__error(cx, CBAG_EMPTY,
                        "%s: TypeError: reduce() of empty sequence with no "
                        "initial value",
                        it->name);
            return CBAG_EMPTY;
        }
        *out = *acc;
        return 0;
    }
    case A_REDUCTION: {
        cbag_val list;
        if (cbag__seq_init(a, &list, CBAG_LIST, n)) return CBAG_NOMEM;
        for (size_t i = 0; i < n; i++) cbag__seq_push(a, &list, &v[i]);
        const cbag_val *r = it->aggregate(c, &list, it->ud);
        if (!r || c->code) goto callback_failed;
        *out = *r;
        return 0;
    }
    }
    return 0;
callback_failed:
    cbag__error(cx, c->code ? c->code : CBAG_USER, "%s aggregate failed: %s",
                it->name,
                c->code ? c->msg
                        : "the function returned NULL without cbag_fail()");
    cbag__call_clear(c);
    return cx->code;
}

/* Applies aggregate over levels of split_every partials, as dask does;
 * absent partials (empty partitions) are left out. */
static int tree(cbag_ctx *cx, const cbag_item *it, cbag_call *c, cbag_val *v,
                unsigned char *present, size_t k, cbag_val *out) {
    size_t split = it->split_every;
    if (it->agg == A_MEAN || it->agg == A_VAR || it->agg == A_STD)
        split = k > 1 ? k : 2; /* split_every=False in dask */
    cbag_val *tmp = cbag__arena_alloc(c->arena, (k ? k : 1) * sizeof *tmp);
    if (!tmp) return CBAG_NOMEM;
    while (k > split) {
        size_t groups = 0;
        for (size_t lo = 0; lo < k; lo += split, groups++) {
            size_t m = 0;
            for (size_t j = lo; j < lo + split && j < k; j++)
                if (present[j]) tmp[m++] = v[j];
            if (m == 0) {
                present[groups] = 0;
                continue;
            }
            int rc = aggregate(cx, it, c, tmp, m, &v[groups], 0);
            if (rc) return rc;
            present[groups] = 1;
        }
        k = groups;
    }
    size_t m = 0;
    for (size_t j = 0; j < k; j++)
        if (present[j]) tmp[m++] = v[j];
    return aggregate(cx, it, c, tmp, m, out, 1);
}

cbag_result *cbag_compute_item(cbag_item *it) {
    if (!it) return NULL;
    cbag_ctx *cx = it->cx;
    size_t n = it->in->nparts;
    cbag_result *res = cbag__result_new(n + 1);
    cbag_val *partials = cbag__calloc(n, sizeof *partials);
    unsigned char *present = cbag__calloc(n, 1);
    if (!res || !partials || !present) {
        cbag__error(cx, CBAG_NOMEM, "out of memory starting %s", it->name);
        goto fail;
    }
    agg_arg g = {it, res->arenas, partials, present, n == 1};
    if (cbag__prepare(cx, it->in)) goto fail;
    /* With mpi every rank gets every partial and runs the same tree. */
    cbag__xvals xv = {partials, res->arenas, 0, present};
    cbag__xchg x = cbag__xchg_vals(CBAG__X_ALL, &xv);
    int staged = cbag__run_stage(cx, it->in, 0, n, agg_task, &g, &x);
    cbag__release(it->in);
    if (staged) goto fail;
    /* The tree runs on this thread with worker 0's call handle, allocating
     * in the result's last arena. */
    cbag_call c;
    cbag__call_init(&c, &res->arenas[n]);
    cbag_val out;
    int rc = tree(cx, it, &c, partials, present, n, &out);
    if (rc == CBAG_NOMEM && cx->code == CBAG_OK)
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", it->name);
    if (rc) goto fail;
    /* The value may point into any partition's arena: all are kept. */
    res->value = out;
    cbag__free(partials);
    cbag__free(present);
    return res;
fail:
    cbag__free(partials);
    cbag__free(present);
    cbag_result_free(res);
    return NULL;
}
