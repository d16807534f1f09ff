/* compute.c: running a stage (every partition of a bag) over the workers,
 * and the public compute, take and foreach. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist.h"
#include "engine.h"
#include "mem.h"
#include "sched/pool.h"

typedef struct {
    cbag_ctx *cx;
    cbag__part_fn fn;
    void *arg;
    size_t first, n;
    const char *name;
    uint64_t bytes_total;
    struct timespec start;
} stage;

static void report(stage *st, int done) {
    cbag_ctx *cx = st->cx;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    cbag_progress p = {st->name,
                       atomic_load(&cx->parts_done),
                       st->n,
                       atomic_load(&cx->bytes_read),
                       st->bytes_total,
                       (double)(t.tv_sec - st->start.tv_sec) +
                           (double)(t.tv_nsec - st->start.tv_nsec) * 1e-9,
                       done != 0};
    cx->opt.on_progress(&p, cx->opt.progress_ud);
}

static void tick(void *arg) { report(arg, 0); }

static void run_task(void *arg, size_t task, int worker) {
    stage *st = arg;
    size_t part = st->first + task;
    cbag_ctx *cx = st->cx;
    if (atomic_load(&cx->stop)) return;
    cbag__worker *w = &cx->w[worker];
    w->part = part;
    w->elem = 0;
    w->lines = NULL;
    w->code = CBAG_OK;
    cbag__call_clear(&w->call);
    int r = st->fn(w, part, st->arg);
    cbag__arena_reset(&w->batch);
    atomic_fetch_add(&cx->parts_done, 1);
    if (r >= 0 || r == CBAG__CANCELLED) return;
    if (w->code == CBAG_OK) cbag__fail(w, NULL, CBAG_ERROR, "unknown failure");
    atomic_store(&cx->stop, 1);
    /* Keep the failure of the lowest partition, so that which error is
     * reported depends as little as possible on timing. */
    pthread_mutex_lock(&cx->err_mu);
    if (cx->err_code == CBAG_OK || part < cx->err_part) {
        cx->err_code = w->code;
        cx->err_part = part;
        cx->err_msg.len = 0;
        cx->err_msg.oom = 0;
        if (w->msg.oom || !w->msg.p)
            cbag__buf_puts(&cx->err_msg, "out of memory");
        else
            cbag__buf_put(&cx->err_msg, w->msg.p, w->msg.len);
    }
    pthread_mutex_unlock(&cx->err_mu);
}

int cbag__by_size_desc(const void *a, const void *b) {
    const cbag__sized *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return x->part < y->part ? -1 : x->part > y->part;
}

/* The partitions of [first, first + n) this rank runs, relative to first,
 * largest first when there is a choice: *order (NULL: all, ascending) and
 * *count. -1 when memory is exhausted. */
static int plan_tasks(cbag_ctx *cx, const cbag *b, size_t first, size_t n,
                      const int *owner, size_t **order, size_t *count) {
    *order = NULL;
    *count = n;
    int sort = b && n > 1 && cx->nw > 1;
    if (!owner && !sort) return 0;
    cbag__sized *s = cbag__malloc((n ? n : 1) * sizeof *s);
    *order = cbag__malloc((n ? n : 1) * sizeof **order);
    if (!s || !*order) {
        cbag__free(s);
        cbag__free(*order);
        *order = NULL;
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!owner || owner[i] == cx->rank)
            s[k++] = (cbag__sized){sort ? cbag__part_size(b, first + i) : 0, i};
    /* Largest partitions first, so the last ones to finish are short. */
    if (sort) qsort(s, k, sizeof *s, cbag__by_size_desc);
    for (size_t i = 0; i < k; i++)
        (*order)[i] = s[i].part;
    *count = k;
    cbag__free(s);
    return 0;
}

int cbag__run_stage(cbag_ctx *cx, const cbag *b, size_t first, size_t n,
                    cbag__part_fn fn, void *arg, const cbag__xchg *x) {
    if (cbag__ensure_workers(cx)) return cx->code;
    /* With mpi every rank goes through the stage, so that none waits for
     * another in a collective; an interrupt is agreed on at the end. */
    if (!cx->mpi && atomic_load(&cx->interrupted)) { /* an earlier stage */
        cbag__error(cx, CBAG_INTERRUPTED, "interrupted");
        return CBAG_INTERRUPTED;
    }
    atomic_store(&cx->stop, atomic_load(&cx->interrupted));
    if (first == 0) atomic_store(&cx->skipped, 0);
    cx->err_code = CBAG_OK;
    int *owner = NULL;
    if (cx->mpi && x && x->mode != CBAG__X_LOCAL) {
        owner = cbag__malloc((n ? n : 1) * sizeof *owner);
        if (owner && cbag__dist_owners(cx, b, first, n, owner)) {
            cbag__free(owner);
            owner = NULL;
        }
    }
    size_t *order = NULL, count = n;
    int planned = (!cx->mpi || !x || x->mode == CBAG__X_LOCAL || owner) &&
                  !plan_tasks(cx, b, first, n, owner, &order, &count);
    uint64_t bytes_total = 0;
    if (planned && b && cx->opt.on_progress && cbag__sized_in_bytes(b))
        for (size_t i = 0; i < count; i++)
            bytes_total += cbag__part_size(b, first + (order ? order[i] : i));
    stage st = {cx,          fn,    arg,
                first,       count, b && b->name ? b->name : "compute",
                bytes_total, {0, 0}};
    clock_gettime(CLOCK_MONOTONIC, &st.start);
    atomic_store(&cx->parts_done, 0);
    atomic_store(&cx->bytes_read, 0);
    int ms =
        cx->opt.progress_interval_ms > 0 ? cx->opt.progress_interval_ms : 200;
    if (planned) {
        cbag__pool_run(cx->pool, count, order, run_task, &st,
                       cx->opt.on_progress ? tick : NULL, &st, ms);
        if (cx->opt.on_progress) report(&st, 1);
    }
    cbag__free(order);
    /* The outcome: the failure of the lowest partition, over all ranks. */
    int code = cx->err_code;
    uint64_t key = cx->err_part;
    if (!planned) {
        code = CBAG_NOMEM;
        key = 0;
        cx->err_msg.len = 0;
        cx->err_msg.oom = 0;
        cbag__buf_printf(&cx->err_msg, "out of memory scheduling %zu tasks", n);
    }
    if (atomic_load(&cx->interrupted)) {
        code = CBAG_INTERRUPTED;
        key = 0;
        cx->err_msg.len = 0;
        cx->err_msg.oom = 0;
        cbag__buf_puts(&cx->err_msg, "interrupted");
    }
    if (cx->mpi) code = cbag__dist_agree(cx, code, key, &cx->err_msg);
    if (code != CBAG_OK) {
        if (cx->err_msg.oom || !cx->err_msg.p)
            cbag__error(cx, code, "out of memory");
        else
            cbag__error(cx, code, "%.*s", (int)cx->err_msg.len, cx->err_msg.p);
    } else if (owner) {
        code = cbag__dist_exchange(cx, x, owner, first, n);
    }
    cbag__free(owner);
    return code;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                  */

cbag_result *cbag__result_new(size_t narenas) {
    cbag_result *r = cbag__calloc(1, sizeof *r);
    if (!r) return NULL;
    r->arenas = cbag__calloc(narenas, sizeof *r->arenas);
    if (!r->arenas) {
        cbag__free(r);
        return NULL;
    }
    r->narenas = narenas;
    for (size_t i = 0; i < narenas; i++) cbag__arena_init(&r->arenas[i], 0);
    return r;
}

const cbag_val *cbag_result_value(const cbag_result *r) {
    return r ? &r->value : NULL;
}

void cbag_result_free(cbag_result *r) {
    if (!r) return;
    for (size_t i = 0; i < r->narenas; i++) cbag__arena_free(&r->arenas[i]);
    cbag__free(r->arenas);
    cbag__free(r);
}

/* ------------------------------------------------------------------------ */
/* compute and take                                                         */

typedef struct {
    const cbag *b;
    cbag__arena *arenas; /* indexed by partition - first */
    cbag_val *lists;
    size_t limit;
    size_t first;
} collect_arg;

static int collect_task(cbag__worker *w, size_t part, void *arg) {
    collect_arg *a = arg;
    size_t i = part - a->first;
    return cbag__collect(w, a->b, part, &a->arenas[i], &a->lists[i], a->limit);
}

cbag *cbag__materialize(cbag *b, cbag__arena **arenas) {
    cbag_ctx *cx = b->cx;
    size_t n = b->nparts;
    cbag *m = cbag__galloc(cx, sizeof *m);
    cbag_val *lists = cbag__galloc(cx, (n ? n : 1) * sizeof *lists);
    *arenas = cbag__calloc(n ? n : 1, sizeof **arenas);
    for (size_t i = 0; *arenas && i < n; i++)
        cbag__arena_init(&(*arenas)[i], 0);
    collect_arg a = {b, *arenas, lists, 0, 0};
    cbag__xvals xv = {lists, *arenas, 0, NULL};
    cbag__xchg x = cbag__xchg_vals(CBAG__X_ALL, &xv);
    /* (a rank short of memory still runs the stage, with nothing to do) */
    int ok = m && lists && *arenas;
    if (cbag__run_stage(cx, ok ? b : NULL, 0, ok ? n : 0, collect_task, &a,
                        &x) ||
        (cx->mpi ? cbag__dist_agree_cx(cx, ok ? 0 : CBAG_NOMEM) : !ok)) {
        if (!ok) cbag__error(cx, CBAG_NOMEM, "out of memory");
        cbag__materialized_free(*arenas, n);
        *arenas = NULL;
        return NULL;
    }
    m->cx = cx;
    m->kind = K_SEQ;
    m->id = b->id;
    m->nparts = n;
    m->name = b->name;
    m->parts = lists;
    return m;
}

void cbag__materialized_free(cbag__arena *arenas, size_t n) {
    for (size_t i = 0; arenas && i < n; i++)
        cbag__arena_free(&arenas[i]);
    cbag__free(arenas);
}

/* Collects partitions [0, n) of b (at most limit elements each, 0: all)
 * and concatenates them (at most total elements, 0: all) into a result
 * holding a list or tuple. */
static cbag_result *gather(cbag *b, size_t n, size_t limit, size_t total,
                           cbag_type type) {
    cbag_ctx *cx = b->cx;
    cbag_result *res = cbag__result_new(n + 1);
    cbag_val *lists = cbag__calloc(n ? n : 1, sizeof *lists);
    if (!res || !lists) {
        cbag_result_free(res);
        cbag__free(lists);
        cbag__error(cx, CBAG_NOMEM, "out of memory starting compute");
        return NULL;
    }
    collect_arg a = {b, res->arenas, lists, limit, 0};
    cbag__xvals xv = {lists, res->arenas, 0, NULL};
    cbag__xchg x = cbag__xchg_vals(CBAG__X_ROOT, &xv);
    if (cbag__run_stage(cx, b, 0, n, collect_task, &a, &x)) goto fail;
    if (!cbag__has_results(cx)) { /* they went to rank 0 */
        cbag__set_null(&res->value);
        cbag__free(lists);
        return res;
    }
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += lists[i].u.seq->len;
    if (total && count > total) count = total;
    if (count > CBAG__MAX_LEN) {
        cbag__error(cx, CBAG_INVALID, "compute: %zu elements exceed the limit",
                    count);
        goto fail;
    }
    /* The top-level list shares the element values held in the partition
     * arenas: only their 16-byte headers are copied. */
    cbag__arena *top = &res->arenas[n];
    if (cbag__seq_init(top, &res->value, type, count)) {
        cbag__error(cx, CBAG_NOMEM, "out of memory gathering results");
        goto fail;
    }
    cbag__seq *out = res->value.u.seq;
    for (size_t i = 0; i < n && out->len < count; i++) {
        const cbag__seq *s = lists[i].u.seq;
        size_t m = s->len;
        if (m > count - out->len) m = count - out->len;
        if (m) memcpy(out->items + out->len, s->items, m * sizeof *s->items);
        out->len += (uint32_t)m;
    }
    cbag__free(lists);
    return res;
fail:
    cbag__free(lists);
    cbag_result_free(res);
    return NULL;
}

cbag_result *cbag_compute(cbag *b) {
    if (!b) return NULL;
    if (cbag__prepare(b->cx, b)) return NULL;
    cbag_result *r = gather(b, b->nparts, 0, 0, CBAG_LIST);
    cbag__release(b);
    return r;
}

cbag_result *cbag_take(cbag *b, size_t k, int npartitions) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    size_t np = npartitions < 0 ? b->nparts : (size_t)npartitions;
    if (npartitions == 0 || np > b->nparts) {
        cbag__error(cx, CBAG_INVALID,
                    "take: only %zu partitions, take received %d", b->nparts,
                    npartitions);
        return NULL;
    }
    if (k == 0) { /* nothing to run */
        cbag_result *r = cbag__result_new(1);
        if (!r || cbag__seq_init(&r->arenas[0], &r->value, CBAG_TUPLE, 0)) {
            cbag_result_free(r);
            cbag__error(cx, CBAG_NOMEM, "out of memory");
            return NULL;
        }
        return r;
    }
    if (cbag__prepare(cx, b)) return NULL;
    cbag_result *r = gather(b, np, k, k, CBAG_TUPLE);
    cbag__release(b);
    if (r && r->value.type == CBAG_TUPLE && r->value.u.seq->len < k)
        cbag__warn(cx,
                   "Insufficient elements for `take`. %zu elements requested, "
                   "only %u elements available. Try passing larger "
                   "`npartitions` to `take`.",
                   k, r->value.u.seq->len);
    return r;
}

/* ------------------------------------------------------------------------ */
/* foreach: partitions run in parallel, a window at a time, and are handed
 * to f in order, so memory stays bounded by the window. */

int cbag_foreach(cbag *b, int (*f)(const cbag_val *x, void *ud), void *ud) {
    if (!b) return CBAG_INVALID;
    cbag_ctx *cx = b->cx;
    if (!f) {
        cbag__error(cx, CBAG_INVALID, "foreach: the function is NULL");
        return CBAG_INVALID;
    }
    if (cbag__ensure_workers(cx) || cbag__prepare(cx, b)) return cx->code;
    size_t window = (size_t)cx->nw * 2 * (size_t)cx->nranks;
    cbag__arena *arenas = cbag__calloc(window, sizeof *arenas);
    cbag_val *lists = cbag__calloc(window, sizeof *lists);
    if (!arenas || !lists) {
        cbag__free(arenas);
        cbag__free(lists);
        cbag__release(b);
        cbag__error(cx, CBAG_NOMEM, "out of memory in foreach");
        return CBAG_NOMEM;
    }
    for (size_t i = 0; i < window; i++) cbag__arena_init(&arenas[i], 0);
    int rc = CBAG_OK, stop = 0;
    int here = cbag__has_results(cx); /* f runs where the results are */
    for (size_t lo = 0; lo < b->nparts && !rc && !stop; lo += window) {
        size_t n = b->nparts - lo < window ? b->nparts - lo : window;
        collect_arg a = {b, arenas, lists, 0, lo};
        cbag__xvals xv = {lists, arenas, lo, NULL};
        cbag__xchg x = cbag__xchg_vals(CBAG__X_ROOT, &xv);
        rc = cbag__run_stage(cx, b, lo, n, collect_task, &a, &x);
        for (size_t i = 0; i < n && !rc && !stop && here; i++) {
            const cbag__seq *s = lists[i].u.seq;
            for (uint32_t j = 0; j < s->len; j++) {
                int r = f(&s->items[j], ud);
                if (r > 0) {
                    stop = 1;
                    break;
                }
                if (r < 0) {
                    cbag__error(cx, CBAG_USER,
                                "foreach: the function failed on element %u "
                                "of partition %zu",
                                j, lo + i);
                    rc = CBAG_USER;
                    break;
                }
            }
        }
        for (size_t i = 0; i < window; i++)
            cbag__arena_reset(&arenas[i]);
        if (cx->mpi) { /* every rank stops where rank 0 did */
            rc = cbag__dist_agree_cx(cx, rc);
            cbag__dist_bcast_int(cx, &stop, 0);
        }
    }
    for (size_t i = 0; i < window; i++) cbag__arena_free(&arenas[i]);
    cbag__free(arenas);
    cbag__free(lists);
    cbag__release(b);
    return rc;
}
