/* shuffle.h: the in-memory shuffle store shared by shuffle_ops.c and
 * sort_ops.c (private to the engine).
 *
 * Stage 1 keeps, per input partition, its (key, element) pairs copied
 * into a store of its own (for reduce_by_key, its table of partial
 * results) and orders them by output partition with a counting sort.
 * Reading output partition j takes bucket j of every input partition in
 * input order, so results do not depend on the worker count or on which
 * worker ran what. */
#ifndef CBAG_SHUFFLE_H
#define CBAG_SHUFFLE_H

#include "engine.h"
#include "table.h"

typedef struct {
    cbag_val key, val;
} cbag__kv;

/* One input partition's pairs, in a (or in t for reduce_by_key). Bucket j
 * is e[order[k]] for k in [off[j], off[j + 1]), in input order. */
typedef struct {
    cbag__arena a;
    cbag__table t;
    cbag__kv *e;
    size_t n, cap;
    size_t *order, *off;
} cbag__part_store;

typedef struct {
    cbag__part_store *p;
    size_t n; /* input partitions */
} cbag__store;

/* n empty partition stores; -1 when memory is exhausted. */
int cbag__store_init(cbag__store *s, size_t n);
void cbag__store_free(cbag__store *s); /* leaves it empty; NULL p ok */

/* Where a key goes among nout (> 1) output partitions. */
typedef size_t (*cbag__dest_fn)(const cbag_val *key, size_t nout,
                                const void *ctx);
/* groupby's hash partitioning (cbag__bucket_of); ctx unused. */
size_t cbag__hash_dest(const cbag_val *key, size_t nout, const void *ctx);
/* Fills p->order and p->off: p's pairs grouped by dest, input order kept
 * within each bucket. -1 when memory is exhausted. */
int cbag__route(cbag__part_store *p, size_t nout, cbag__dest_fn dest,
                const void *ctx);

/* Stage 1 over every partition of in, into st (initialised here): pairs
 * (key, element) keyed by field or key_fn (neither: the element), failures
 * named after node b; routed by hash into b->nparts buckets when hash is
 * set. Returns CBAG_OK or the error code (message on cx). */
int cbag__read_side(cbag_ctx *cx, const cbag *b, const cbag *in,
                    const cbag_val *field, cbag_map_fn key_fn, void *ud,
                    cbag__store *st, int hash);

/* With mpi, after stage 1 (st routed into nout buckets, filled for the
 * partitions of `in` this rank ran): sends every bucket to the rank of its
 * output partition (to every rank when b's output is copied everywhere)
 * and leaves in st, for every input partition, the pairs this rank
 * received, routed; the rest empty. CBAG_OK or the error (on every rank;
 * st is then empty). */
int cbag__store_exchange(cbag_ctx *cx, const cbag *b, const cbag *in,
                         cbag__store *st, size_t nout);

/* After pushing output element i: lets the batch arena go and the compute
 * stop (cbag__between). */
int cbag__emit_done(cbag__worker *w, cbag__sink *out, uint64_t i);
/* An (a, b) tuple in the worker's batch arena, or NULL. */
cbag_val *cbag__pair_of(cbag__worker *w, const cbag_val *a, const cbag_val *b);
/* "op(field-repr or fname[, extra])" in the graph arena, or NULL. */
const char *cbag__op_name(cbag_ctx *cx, const char *op, const cbag_val *field,
                          const char *fname, const char *extra);

#endif
