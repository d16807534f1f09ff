/* bag.c: the public bag constructors and element-wise operations. Each
 * makes a graph node in the context's graph arena; nothing runs here. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static cbag *node_new(cbag_ctx *cx, cbag__kind kind, size_t nparts) {
    cbag *b = cbag__galloc(cx, sizeof *b);
    if (!b) return NULL;
    b->cx = cx;
    b->kind = kind;
    b->id = cx->next_id++;
    b->nparts = nparts;
    return b;
}

/* A node applying an element-wise operation to in. */
static cbag *unary(cbag *in, cbag__kind kind, const char *op,
                   const char *fname) {
    if (!in) return NULL;
    cbag *b = node_new(in->cx, kind, in->nparts);
    if (!b) return NULL;
    b->in = in;
    b->name = fname ? cbag__gstrf(in->cx, "%s(%s)", op, fname)
                    : cbag__gstrf(in->cx, "%s", op);
    return b->name ? b : NULL;
}

size_t cbag_npartitions(const cbag *b) { return b ? b->nparts : 0; }
cbag_ctx *cbag_context(const cbag *b) { return b ? b->cx : NULL; }

cbag *cbag_from_sequence(cbag_ctx *cx, const cbag_val *seq,
                         size_t npartitions, size_t partition_size) {
    if (!cx) return NULL;
    if (!seq && cx->main.code) { /* building it on cbag_main(cx) failed */
        cbag__error(cx, cx->main.code, "from_sequence: %s", cx->main.msg);
        return NULL;
    }
    if (!cbag__is_seq(seq)) {
        cbag__error(cx, CBAG_TYPE,
                    "from_sequence: expected a list or tuple, got %s",
                    cbag_type_name(cbag_typeof(seq)));
        return NULL;
    }
    cbag_val *copy = cbag__galloc(cx, sizeof *copy);
    if (!copy) return NULL;
    int rc = cbag__copy_into(&cx->graph, copy, seq);
    if (rc) {
        cbag__error(cx, rc, "from_sequence: %s",
                    rc == CBAG_INVALID ? CBAG__TOO_DEEP : "out of memory");
        return NULL;
    }
    size_t n = copy->u.seq->len;
    /* dask 2022.12: ceil(len / npartitions), else 1 below 100, else len/100 */
    size_t size = partition_size;
    if (npartitions && !size) size = (n + npartitions - 1) / npartitions;
    if (!npartitions && !size) size = n < 100 ? 1 : n / 100;
    size_t nparts = size ? (n + size - 1) / size : 0;
    if (nparts == 0) nparts = 1;
    cbag *b = node_new(cx, K_SEQ, nparts);
    cbag_val *parts = b ? cbag__galloc(cx, nparts * sizeof *parts) : NULL;
    cbag__seq *bodies = parts ? cbag__galloc(cx, nparts * sizeof *bodies) : NULL;
    if (!bodies) return NULL;
    for (size_t i = 0; i < nparts; i++) {
        size_t lo = i * size, hi = lo + size > n ? n : lo + size;
        if (lo > n) lo = n;
        bodies[i].len = bodies[i].cap = (uint32_t)(hi - lo);
        /* an empty sequence may have no items array at all */
        bodies[i].items = n ? copy->u.seq->items + lo : NULL;
        parts[i].type = CBAG_LIST;
        parts[i].u.seq = &bodies[i];
    }
    b->parts = parts;
    b->name = "from_sequence";
    return b;
}

cbag *cbag_range(cbag_ctx *cx, int64_t n, size_t npartitions) {
    if (!cx) return NULL;
    if (n < 0 || npartitions == 0) {
        cbag__error(cx, CBAG_INVALID,
                    "range: need n >= 0 and npartitions >= 1 (got %lld, %zu)",
                    (long long)n, npartitions);
        return NULL;
    }
    cbag *b = node_new(cx, K_RANGE, npartitions);
    if (!b) return NULL;
    b->range_n = n;
    b->name = cbag__gstrf(cx, "range-%lld", (long long)n);
    return b->name ? b : NULL;
}

/* Partition part of range(n, npartitions), as dask lays it out: chunks of
 * n // npartitions, the last one running to n. With fewer elements than
 * partitions (where dask fails) each of the first n partitions gets one. */
void cbag__range_bounds(const cbag *b, size_t part, int64_t *lo, int64_t *hi) {
    uint64_t n = (uint64_t)b->range_n, np = b->nparts;
    uint64_t size = n / np;
    if (size == 0) {
        *lo = part < n ? (int64_t)part : (int64_t)n;
        *hi = part < n ? (int64_t)part + 1 : (int64_t)n;
        return;
    }
    *lo = (int64_t)(part * size);
    *hi = part + 1 == np ? (int64_t)n : (int64_t)((part + 1) * size);
}

static cbag *multi(cbag_ctx *cx, cbag__kind kind, size_t n, cbag *const *bags,
                   const char *op) {
    if (!cx) return NULL;
    if (n == 0) {
        cbag__error(cx, CBAG_INVALID, "%s: needs at least one bag", op);
        return NULL;
    }
    size_t nparts = 0;
    for (size_t i = 0; i < n; i++) {
        if (!bags[i]) return NULL; /* an earlier call failed */
        if (bags[i]->cx != cx) {
            cbag__error(cx, CBAG_INVALID, "%s: bag %zu is from another context",
                        op, i);
            return NULL;
        }
        if (kind == K_ZIP && bags[i]->nparts != bags[0]->nparts) {
            cbag__error(cx, CBAG_INVALID,
                        "zip: bags must have the same number of partitions "
                        "(bag 0 has %zu, bag %zu has %zu)",
                        bags[0]->nparts, i, bags[i]->nparts);
            return NULL;
        }
        nparts = kind == K_ZIP ? bags[0]->nparts : nparts + bags[i]->nparts;
    }
    cbag *b = node_new(cx, kind, nparts);
    cbag **ins = b ? cbag__galloc(cx, n * sizeof *ins) : NULL;
    if (!ins) return NULL;
    memcpy(ins, bags, n * sizeof *ins);
    b->ins = ins;
    b->nins = n;
    b->name = op;
    return b;
}

cbag *cbag_concat(cbag_ctx *cx, size_t n, cbag *const *bags) {
    return multi(cx, K_CONCAT, n, bags, "concat");
}

cbag *cbag_zip(cbag_ctx *cx, size_t n, cbag *const *bags) {
    return multi(cx, K_ZIP, n, bags, "zip");
}

static cbag *with_fn(cbag *in, cbag__kind kind, const char *op,
                     const char *name, void *fn, void *ud) {
    if (in && !fn) {
        cbag__error(in->cx, CBAG_INVALID, "%s: the function is NULL", op);
        return NULL;
    }
    cbag *b = unary(in, kind, op, name ? name : "?");
    if (!b) return NULL;
    b->ud = ud;
    return b;
}

cbag *cbag_map_named(cbag *b, const char *name, cbag_map_fn f, void *ud) {
    if (f == cbag_json_loads) name = "json.loads";
    else if (f == cbag_json_dumps) name = "json.dumps";
    cbag *m = with_fn(b, K_MAP, "map", name, (void *)f, ud);
    if (m) m->fn.map = f;
    return m;
}

cbag *cbag_filter_named(cbag *b, const char *name, cbag_pred_fn p, void *ud) {
    cbag *m = with_fn(b, K_FILTER, "filter", name, (void *)p, ud);
    if (m) m->fn.pred = p;
    return m;
}

cbag *cbag_remove_named(cbag *b, const char *name, cbag_pred_fn p, void *ud) {
    cbag *m = with_fn(b, K_REMOVE, "remove", name, (void *)p, ud);
    if (m) m->fn.pred = p;
    return m;
}

cbag *cbag_starmap_named(cbag *b, const char *name, cbag_star_fn f, void *ud) {
    cbag *m = with_fn(b, K_STARMAP, "starmap", name, (void *)f, ud);
    if (m) m->fn.star = f;
    return m;
}

cbag *cbag_map_partitions_named(cbag *b, const char *name, cbag_map_fn f,
                                void *ud) {
    cbag *m = with_fn(b, K_MAP_PARTITIONS, "map_partitions", name, (void *)f,
                      ud);
    if (m) m->fn.map = f;
    return m;
}

cbag *cbag_pluckv(cbag *b, const cbag_val *key, const cbag_val *dflt) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    if (!key) {
        cbag__error(cx, CBAG_INVALID, "pluck: the key is NULL");
        return NULL;
    }
    cbag_val *k = cbag__galloc(cx, sizeof *k);
    cbag_val *d = dflt && k ? cbag__galloc(cx, sizeof *d) : NULL;
    if (!k || (dflt && !d)) return NULL;
    if (cbag__copy_into(&cx->graph, k, key) ||
        (dflt && cbag__copy_into(&cx->graph, d, dflt))) {
        cbag__error(cx, CBAG_NOMEM, "pluck: out of memory");
        return NULL;
    }
    char *krepr = cbag_format(k, CBAG_FMT_REPR, NULL);
    cbag *p = unary(b, K_PLUCK, "pluck", krepr ? krepr : "?");
    free(krepr);
    if (!p) return NULL;
    p->key = k;
    p->dflt = d;
    return p;
}

cbag *cbag_pluck(cbag *b, const char *key) {
    if (!b) return NULL;
    cbag_val k;
    if (!key) {
        cbag__error(b->cx, CBAG_INVALID, "pluck: the key is NULL");
        return NULL;
    }
    cbag__set_str_ref(&k, key, (uint32_t)strlen(key));
    return cbag_pluckv(b, &k, NULL);
}

cbag *cbag_flatten(cbag *b) { return unary(b, K_FLATTEN, "flatten", NULL); }
