/* keyed.h: what keyed.c shares with keyed_ops.c (private to the engine). */
#ifndef CBAG_KEYED_H
#define CBAG_KEYED_H

#include "engine.h"

/* The key of x for a node keyed by field (a dict key or sequence index) or
 * key_fn; with neither, x itself. NULL after recording the failure on w. */
const cbag_val *cbag__key_of(cbag__worker *w, const char *op,
                             const cbag_val *field, cbag_map_fn key_fn,
                             void *ud, const cbag_val *x);

/* A cbag__mat of nparts empty partitions and narenas arenas, or NULL after
 * an error on cx. */
cbag__mat *cbag__mat_new(cbag_ctx *cx, const cbag *b, size_t nparts,
                         size_t narenas);
void cbag__mat_free(cbag__mat *m);

/* Output partition of a key in a hash shuffle of n partitions (Python's
 * hash for numbers, as dask; cbag_hash for the rest). */
size_t cbag__bucket_of(const cbag_val *k, size_t n);

/* keyed_ops.c: sorts n elements of size bytes stably (merge sort) by cmp;
 * -1 when memory is exhausted. */
typedef int (*cbag__cmp_fn)(const void *a, const void *b, void *ctx);
int cbag__stable_sort(void *v, size_t n, size_t size, cbag__cmp_fn cmp,
                      void *ctx);
/* A K_OPS node reading in, with nparts partitions and name (in the graph
 * arena); NULL if in or name is NULL. */
cbag *cbag__ops_node(cbag *in, const cbag__ops *ops, size_t nparts,
                     const char *name);
/* A copy of v in the graph arena (NULL stays NULL); on failure an error on
 * cx, *ok cleared and NULL. Does nothing once *ok is 0. */
const cbag_val *cbag__gcopy(cbag_ctx *cx, const cbag_val *v, int *ok);

/* groupby.c: the shuffle of groupby. prepare runs its first stage (every
 * input partition into buckets, spilled past the budget; with mpi, the
 * buckets then go to their output partition's rank) into b->prepared and
 * mat's arenas (one per input partition); run groups output partition
 * part when it is read; release frees what prepare made. */
int cbag__groupby_prepare(cbag_ctx *cx, cbag *b, cbag__mat *mat);
int cbag__groupby_run(cbag__worker *w, const cbag *b, size_t part,
                      cbag__sink *out);
void cbag__groupby_release(cbag *b);

/* The spill budget of cx in bytes (cbag_options.memory_limit, else a
 * quarter of physical memory). */
size_t cbag__memory_budget(const cbag_ctx *cx);

#endif
