/* sort_ops.c: sort_by, a K_OPS node: the input shuffled into ranges of
 * keys chosen from a sample, each range then sorted stably (shuffle.h). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "keyed.h"
#include "mem.h"
#include "shuffle.h"

/* ------------------------------------------------------------------------ */
/* sort_by: range partitioning from a sample of keys, then a stable sort    */
/* per output partition                                                     */

/* Keys sampled per output partition (when the bag has more elements). */
#define SORT_SAMPLES 64

typedef struct {
    const cbag_val *field;
    cbag_map_fn key_fn;
    void *ud;
    bool reverse;
    cbag__store st;         /* during a compute */
    const cbag_val **bound; /* nparts - 1 upper bounds; NULL: below all */
    cbag__arena *samples;   /* per input partition: its count, its keys */
    size_t nsamples;
} sort_state;

static int kcmp(const cbag_val *a, const cbag_val *b, bool rev) {
    return rev ? cbag_cmp(b, a) : cbag_cmp(a, b);
}

static int ptr_cmp(const void *a, const void *b, void *ctx) {
    return kcmp(*(const cbag_val *const *)a, *(const cbag_val *const *)b,
                *(const bool *)ctx);
}

static int kvp_cmp(const void *a, const void *b, void *ctx) {
    return kcmp(&(*(const cbag__kv *const *)a)->key,
                &(*(const cbag__kv *const *)b)->key, *(const bool *)ctx);
}

/* The first partition whose upper bound is not below key: partition j
 * holds (bound[j - 1], bound[j]], so equal keys share a partition. */
static size_t range_dest(const cbag_val *key, size_t nout, const void *ctx) {
    const sort_state *ss = ctx;
    size_t lo = 0, hi = nout - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const cbag_val *bd = ss->bound[mid];
        if (!bd || kcmp(bd, key, ss->reverse) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The sample is taken by two small stages over the input's partitions,
 * so that with mpi each rank reads the stores it filled and every rank
 * gets the whole sample, in partition order: first each partition's
 * count, then every stride-th key of it (copied). */
typedef struct {
    sort_state *ss;
    cbag_val *vals;
    size_t stride;
} sample_arg;

static int count_task(cbag__worker *w, size_t part, void *arg) {
    sample_arg *a = arg;
    (void)w;
    cbag__set_int(&a->vals[part], (int64_t)a->ss->st.p[part].n);
    return 0;
}

static int sample_task(cbag__worker *w, size_t part, void *arg) {
    sample_arg *a = arg;
    const cbag__part_store *p = &a->ss->st.p[part];
    cbag__arena *ar = &a->ss->samples[part];
    cbag_val *list = &a->vals[part];
    if (cbag__seq_init(ar, list, CBAG_LIST, p->n / a->stride + 1)) goto oom;
    for (size_t k = 0; k < p->n; k += a->stride) {
        cbag_val c;
        if (cbag__copy_into(ar, &c, &p->e[k].key) ||
            cbag__seq_push(ar, list, &c))
            goto oom;
    }
    return 0;
oom:
    return cbag__fail(w, "sort_by", CBAG_NOMEM, "out of memory");
}

/* Every stride-th key of each partition, sorted; the bounds at the
 * quantiles. Deterministic: it depends on the data only. */
static int choose_bounds(cbag_ctx *cx, const cbag *b, sort_state *ss) {
    size_t nin = ss->st.n, nout = b->nparts, total = 0, ns = 0;
    cbag_val *vals = cbag__calloc(nin ? nin : 1, sizeof *vals);
    ss->samples = cbag__calloc(nin ? nin : 1, sizeof *ss->samples);
    if (!vals || !ss->samples) {
        cbag__free(vals);
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return CBAG_NOMEM;
    }
    ss->nsamples = nin;
    for (size_t i = 0; i < nin; i++)
        cbag__arena_init(&ss->samples[i], 0);
    sample_arg a = {ss, vals, 1};
    cbag__xvals xv = {vals, ss->samples, 0, NULL};
    cbag__xchg x = cbag__xchg_vals(CBAG__X_ALL, &xv);
    int rc = cbag__run_stage(cx, b->in, 0, nin, count_task, &a, &x);
    for (size_t i = 0; !rc && i < nin; i++)
        total += (size_t)vals[i].u.i;
    const cbag_val **s = NULL;
    if (!rc && nout > 1 && total) {
        size_t want = SORT_SAMPLES * nout;
        a.stride = total > want ? total / want : 1;
        rc = cbag__run_stage(cx, b->in, 0, nin, sample_task, &a, &x);
        s = rc ? NULL : cbag__malloc((total / a.stride + nin) * sizeof *s);
        ss->bound = cbag__calloc(nout - 1, sizeof *ss->bound);
        for (size_t i = 0; s && i < nin; i++)
            for (uint32_t k = 0; k < vals[i].u.seq->len; k++)
                s[ns++] = &vals[i].u.seq->items[k];
        if (!rc &&
            (!s || !ss->bound ||
             cbag__stable_sort(s, ns, sizeof *s, ptr_cmp, &ss->reverse))) {
            cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
            rc = CBAG_NOMEM;
        }
    }
    for (size_t j = 0; !rc && s && j + 1 < nout; j++) {
        size_t q = (j + 1) * ns / nout; /* samples in partitions 0..j */
        ss->bound[j] = q ? s[q - 1] : NULL;
    }
    cbag__free(s);
    cbag__free(vals);
    return rc;
}

static int sort_route_task(cbag__worker *w, size_t part, void *arg) {
    const cbag *b = arg;
    sort_state *ss = b->state;
    if (cbag__route(&ss->st.p[part], b->nparts, range_dest, ss))
        return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    return 0;
}

static void sort_release(cbag *b) {
    sort_state *ss = b->state;
    if (!b->prepared) return;
    cbag__store_free(&ss->st);
    cbag__free(ss->bound);
    ss->bound = NULL;
    for (size_t i = 0; i < ss->nsamples; i++)
        cbag__arena_free(&ss->samples[i]);
    cbag__free(ss->samples);
    ss->samples = NULL;
    ss->nsamples = 0;
    b->prepared = NULL;
}

static int sort_prepare(cbag_ctx *cx, cbag *b) {
    if (b->prepared) return CBAG_OK;
    sort_state *ss = b->state;
    b->prepared = ss;
    int rc = cbag__read_side(cx, b, b->in, ss->field, ss->key_fn, ss->ud,
                             &ss->st, 0);
    if (!rc) rc = choose_bounds(cx, b, ss);
    cbag__xchg x = {CBAG__X_SPLIT, NULL, NULL, NULL};
    if (!rc)
        rc = cbag__run_stage(cx, b->in, 0, b->in->nparts, sort_route_task, b,
                             &x);
    if (!rc && cx->mpi)
        rc = cbag__store_exchange(cx, b, b->in, &ss->st, b->nparts);
    if (rc) sort_release(b);
    return rc;
}

/* Bucket part of every input partition, in input order, sorted stably. */
static int sort_run(cbag__worker *w, const cbag *b, size_t part,
                    cbag__sink *out) {
    sort_state *ss = b->state;
    size_t n = 0;
    for (size_t i = 0; i < ss->st.n; i++)
        n += ss->st.p[i].off[part + 1] - ss->st.p[i].off[part];
    const cbag__kv **v = cbag__malloc((n ? n : 1) * sizeof *v);
    if (!v) return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < ss->st.n; i++) {
        const cbag__part_store *p = &ss->st.p[i];
        for (size_t k = p->off[part]; k < p->off[part + 1]; k++)
            v[m++] = &p->e[p->order[k]];
    }
    int r = 0;
    if (cbag__stable_sort(v, n, sizeof *v, kvp_cmp, &ss->reverse))
        r = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    void *saved = w->lines;
    w->lines = NULL;
    for (size_t i = 0; !r && i < n; i++) {
        w->elem = i;
        if ((r = out->push(out, &v[i]->val))) break;
        r = cbag__emit_done(w, out, i);
    }
    w->lines = saved;
    cbag__free(v);
    return r;
}

static const cbag__ops sort_ops = {sort_run, sort_prepare, sort_release, 0, 1};

cbag *cbag_sort_by_named(cbag *b, const char *name, const cbag_val *field,
                         cbag_map_fn key_fn, size_t npartitions, bool reverse,
                         void *ud) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    if (field && key_fn) {
        cbag__error(cx, CBAG_INVALID,
                    "sort_by: give a key field or a key function, not both");
        return NULL;
    }
    int ok = 1;
    sort_state *ss = cbag__galloc(cx, sizeof *ss);
    if (!ss) return NULL;
    memset(ss, 0, sizeof *ss);
    ss->field = cbag__gcopy(cx, field, &ok);
    ss->key_fn = key_fn;
    ss->ud = ud;
    ss->reverse = reverse;
    const char *nm = cbag__op_name(
        cx, field || key_fn ? "sort_by" : "sort", ss->field,
        key_fn ? (name ? name : "?") : NULL, reverse ? "reverse=True" : NULL);
    cbag *n = ok ? cbag__ops_node(b, &sort_ops,
                                  npartitions ? npartitions : b->nparts, nm)
                 : NULL;
    if (n) n->state = ss;
    return n;
}
