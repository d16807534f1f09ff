/*
 * cbag.h: parallel lists for messy, semi-structured data.
 *
 * cbag is the C counterpart of Python's dask.bag: a lazy, partitioned
 * collection of dynamic values (JSON-like), transformed by map, filter,
 * pluck, flatten, ... and reduced by count, sum, mean, fold, ..., executed
 * in parallel and streaming through bounded memory.
 *
 * This is the whole public API. Every public name starts with cbag_.
 *
 * OWNERSHIP AND LIFETIMES (read this once)
 *
 *  - A cbag_ctx owns every bag and item made on it. Bags and items are never
 *    freed one by one; cbag_close() frees them all. They are immutable
 *    descriptions of work: building one runs nothing.
 *  - A cbag_result owns the values it holds. cbag_result_value() stays valid
 *    until cbag_result_free(). A result is self-contained: it may be freed
 *    before or after cbag_close() of the context that computed it.
 *  - Values (cbag_val) are immutable once a callback returns them or once
 *    they are handed to a cbag_ function that stores them. They live in an
 *    arena owned by a cbag_call handle:
 *      * inside a callback, the arena of the current batch: valid until the
 *        callback's caller (the engine) is done with the batch. Returning a
 *        value built on the call handle, or any value received as an
 *        argument, is always safe; the engine copies what it keeps.
 *      * outside callbacks, the context's own call handle, cbag_main(cx):
 *        values built there live until cbag_close().
 *  - Strings passed in are copied unless stated otherwise. Strings returned
 *    (cbag_errmsg, cbag_str) are owned by the object they came from.
 *
 * ERRORS
 *
 *  Functions that make something return NULL on failure; functions that do
 *  something return CBAG_OK (0) or an error code. The message is kept on the
 *  context: cbag_errmsg(cx). Passing NULL where a bag or item is expected is
 *  allowed and yields NULL again, so a chain of calls can be checked once at
 *  the end (the first error's message is the one kept). The library never
 *  aborts or exits; allocation failure is reported like any other error.
 *
 * THREADS
 *
 *  A context and its bags are used from one thread at a time. Callbacks run
 *  on worker threads, concurrently with each other: they must not share
 *  mutable state through their user-data pointer without their own locking.
 */
#ifndef CBAG_H
#define CBAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CBAG_VERSION "0.1.0"

/* ------------------------------------------------------------------------ */
/* Types                                                                    */

typedef struct cbag_ctx cbag_ctx;       /* the engine: scheduler, errors */
typedef struct cbag cbag;               /* a lazy partitioned collection */
typedef struct cbag_item cbag_item;     /* a lazy single value */
typedef struct cbag_val cbag_val;       /* an immutable dynamic value */
typedef struct cbag_call cbag_call;     /* a callback's handle: arena, errors */
typedef struct cbag_result cbag_result; /* a computed value with its memory */

/* Result codes. */
typedef enum cbag_status {
    CBAG_OK = 0,
    CBAG_ERROR = 1,     /* generic failure */
    CBAG_NOMEM = 2,     /* an allocation failed */
    CBAG_INVALID = 3,   /* bad argument: wrong type, out of range, misuse */
    CBAG_USER = 4,      /* a user callback failed (cbag_fail) */
    CBAG_PARSE = 5,     /* malformed input data (JSON, UTF-8, ...) */
    CBAG_IO = 6,        /* a file or stream could not be read or written */
    CBAG_TYPE = 7,      /* an operation met a value of the wrong type */
    CBAG_KEY = 8,       /* a missing dict key or sequence index */
    CBAG_EMPTY = 9,     /* a reduction without identity met no element */
    CBAG_OVERFLOW = 10, /* integer arithmetic left the int64 range */
    CBAG_INTERRUPTED = 11
} cbag_status;

/* Value types. Python's None, bool, int, float, str, list, tuple, dict. */
typedef enum cbag_type {
    CBAG_NULL = 0,
    CBAG_BOOL,
    CBAG_INT,   /* int64 */
    CBAG_FLOAT, /* double */
    CBAG_STR,   /* UTF-8 bytes with a length (may contain NUL) */
    CBAG_LIST,
    CBAG_TUPLE, /* prints as (a, b); JSON array on output */
    CBAG_DICT   /* insertion-ordered; keys are any values, usually strings.
                   The cbag language's sets are dicts whose values are None,
                   marked as sets: printed {1, 2}, not written as JSON; its
                   Counter and defaultdict are dicts printed as Python
                   prints them */
} cbag_type;

/* ------------------------------------------------------------------------ */
/* Context                                                                  */

/* A progress report (valid only during the on_progress call). */
typedef struct cbag_progress {
    const char *stage; /* the operation: "compute", "foldby(...)", ... */
    size_t parts_done; /* partitions finished in this stage */
    size_t parts_total;
    uint64_t bytes_read;  /* input bytes read (compressed) in this stage */
    uint64_t bytes_total; /* input bytes of the stage, 0 if unknown */
    double elapsed;       /* seconds since the stage started */
    bool done;            /* the last report of the stage */
} cbag_progress;

typedef struct cbag_options {
    /* "threads" (default: a pool of `workers` threads), "sync" (every
     * task on the calling thread, for debugging) or "mpi" (the program runs
     * on every rank of `mpirun -np N`, each rank with `workers` threads;
     * see docs/distributed.md; an error when cbag was built without MPI). */
    const char *scheduler;
    /* threads for "threads" and per rank for "mpi"; 0 = number of cores
     * (for mpi: shared by the ranks on the machine) */
    int workers;
    size_t memory_limit;  /* bytes for buffers and spills; 0 = default */
    const char *temp_dir; /* where spills go; NULL = $TMPDIR or /tmp */
    int split_every;      /* reduction tree fan-in; 0 = 8, as dask */
    /* Called for warnings (e.g. take() found fewer elements than asked).
     * NULL prints "cbag: warning: MSG" on stderr. The message is valid
     * only during the call. */
    void (*on_warning)(const char *msg, void *ud);
    void *warning_ud;
    /* Called on the thread that runs a compute, about every
     * progress_interval_ms (0: 200) while a stage runs and once when it
     * ends, with what is done so far. NULL: no reports. */
    void (*on_progress)(const cbag_progress *p, void *ud);
    void *progress_ud;
    int progress_interval_ms;
    /* mpi: compute, take and foreach deliver their results on every rank,
     * not only on rank 0 (elsewhere compute's value is None and foreach
     * calls nothing). Reductions (items) are on every rank always. */
    bool results_everywhere;
} cbag_options;

/* Makes a context. opt may be NULL for the defaults; it is copied.
 * Returns NULL only when memory is exhausted. Invalid options give a
 * context whose cbag_errcode() is not CBAG_OK; it must still be closed. */
cbag_ctx *cbag_open(const cbag_options *opt);

/* Frees the context, every bag and item made on it, and every value built
 * on cbag_main(cx). Results are not freed (see cbag_result_free). NULL ok. */
void cbag_close(cbag_ctx *cx);

/* The last error on the context: code, and a message naming what failed
 * and where. The message is owned by the context and valid until the next
 * call that fails or cbag_clear_error(). "" when there is no error. */
int cbag_errcode(const cbag_ctx *cx);
const char *cbag_errmsg(const cbag_ctx *cx);
void cbag_clear_error(cbag_ctx *cx);

/* Stops the compute in flight on cx within about a thousand elements per
 * worker: it returns NULL (or an error code) with CBAG_INTERRUPTED, and so
 * does every compute after it until cbag_clear_error(cx). Safe to call
 * from a signal handler or another thread: it only sets flags. */
void cbag_interrupt(cbag_ctx *cx);

/* Number of worker threads the context runs (per rank with mpi). */
int cbag_workers(const cbag_ctx *cx);

/* With the mpi scheduler, this process's rank and the number of ranks;
 * otherwise 0 and 1. */
int cbag_rank(const cbag_ctx *cx);
int cbag_ranks(const cbag_ctx *cx);

/* The context's own call handle, for building values outside callbacks
 * (for cbag_from_sequence, initial values, ...). Values built on it live
 * until cbag_close(cx). Owned by the context. */
cbag_call *cbag_main(cbag_ctx *cx);

/* ------------------------------------------------------------------------ */
/* Values: reading                                                          */
/*
 * All readers accept NULL and treat it as "missing": cbag_typeof(NULL) is
 * CBAG_NULL, cbag_len(NULL) is 0, cbag_get(NULL, k) is NULL.
 */

cbag_type cbag_typeof(const cbag_val *v);
const char *cbag_type_name(cbag_type t); /* "NoneType", "int", "dict", ... */

bool cbag_is_null(const cbag_val *v);
bool cbag_bool_value(const cbag_val *v);    /* the value of a bool */
int64_t cbag_int_value(const cbag_val *v);  /* ints and bools; else 0 */
double cbag_float_value(const cbag_val *v); /* any number; else NaN */
/* Python truthiness: None, False, 0, 0.0, "", [], (), {} are false. */
bool cbag_truthy(const cbag_val *v);
/* Numbers only: stores the value as double and returns true. */
bool cbag_number(const cbag_val *v, double *out);

/* A string's bytes (not NUL-terminated in general) and length; NULL when v
 * is not a string. Valid as long as v. */
const char *cbag_str(const cbag_val *v, size_t *len);
/* True when v is a string equal to the NUL-terminated s. */
bool cbag_str_eq(const cbag_val *v, const char *s);

/* Elements of a list or tuple, entries of a dict, bytes of a string. */
size_t cbag_len(const cbag_val *v);
/* Element i of a list or tuple (i < 0 counts from the end); NULL if out of
 * range or not a sequence. Valid as long as v. */
const cbag_val *cbag_at(const cbag_val *v, int64_t i);
/* A dict's value for a string key; NULL if absent or v is not a dict. */
const cbag_val *cbag_get(const cbag_val *v, const char *key);
const cbag_val *cbag_getn(const cbag_val *v, const char *key, size_t keylen);
/* A dict's value for any key (Python equality: 1 and 1.0 are one key). */
const cbag_val *cbag_getv(const cbag_val *v, const cbag_val *key);
/* The i-th key and value of a dict, in insertion order. */
const cbag_val *cbag_dict_key(const cbag_val *v, size_t i);
const cbag_val *cbag_dict_value(const cbag_val *v, size_t i);

/* Python semantics: 1 == 1.0 == True; "a" != b"a" does not arise; a list
 * never equals a tuple. NaN is not equal to itself. */
bool cbag_eq(const cbag_val *a, const cbag_val *b);
/* A total order, documented in docs/ARCHITECTURE.md: numbers (bool, int,
 * float, compared exactly) < None < strings (by code point) < tuples <
 * lists < dicts; NaN after every other number. Returns <0, 0, >0. Within
 * one Python-comparable kind it agrees with Python's <. */
int cbag_cmp(const cbag_val *a, const cbag_val *b);
/* A 64-bit hash, equal for equal values (hash(1) == hash(1.0)), stable
 * across processes, runs and machines (XXH3 based). */
uint64_t cbag_hash(const cbag_val *v);

/* ------------------------------------------------------------------------ */
/* Values: building                                                         */
/*
 * Builders allocate in the call handle's arena. On allocation failure they
 * return NULL (or CBAG_NOMEM) and mark the call failed, so a callback may
 * simply return NULL when a builder did.
 *
 * Containers are built by appending; a container that has been stored in
 * another container may still be appended to (both see the change) until
 * the callback returns it. After that it is immutable.
 */

const cbag_val *cbag_none(void);   /* static; never freed */
const cbag_val *cbag_bool(bool b); /* static; never freed */
cbag_val *cbag_new_int(cbag_call *c, int64_t i);
cbag_val *cbag_new_float(cbag_call *c, double d);
/* Copies len bytes. The bytes must be UTF-8 (not checked here). */
cbag_val *cbag_new_str(cbag_call *c, const char *s, size_t len);
cbag_val *cbag_new_strz(cbag_call *c, const char *s);
cbag_val *cbag_new_strf(cbag_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cap is a hint; containers grow as needed. */
cbag_val *cbag_new_list(cbag_call *c, size_t cap);
cbag_val *cbag_new_tuple(cbag_call *c, size_t cap);
cbag_val *cbag_new_dict(cbag_call *c, size_t cap);
/* A tuple of n values, as Python's (a, b, ...). */
cbag_val *cbag_new_tuplev(cbag_call *c, size_t n, const cbag_val *const *items);
/* Appends x to a list or tuple under construction. */
int cbag_append(cbag_call *c, cbag_val *seq, const cbag_val *x);
/* Sets d[key] = x (replacing an equal key in place, as Python does). */
int cbag_set(cbag_call *c, cbag_val *d, const char *key, const cbag_val *x);
int cbag_setv(cbag_call *c, cbag_val *d, const cbag_val *key,
              const cbag_val *x);
/* A deep copy of v in c's arena (to keep a value across batches). */
const cbag_val *cbag_copy(cbag_call *c, const cbag_val *v);

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */

/* Ends the current callback with an error: records the message (printf
 * format) on the call and returns NULL, so `return cbag_fail(c, ...)`.
 * The engine reports it with the operation, partition, file and line. */
const cbag_val *cbag_fail(cbag_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like cbag_fail with a status other than CBAG_USER (CBAG_KEY, ...). */
const cbag_val *cbag_failc(cbag_call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* d[key], or fails the call with "KeyError: 'key'" (NULL returned). */
const cbag_val *cbag_key(cbag_call *c, const cbag_val *d, const char *key);
/* Whether the call has failed (a builder ran out of memory, cbag_fail). */
bool cbag_failed(const cbag_call *c);
/* The failure message of the call ("" if none); owned by the call, valid
 * until the call is cleared or fails again. */
const char *cbag_call_errmsg(const cbag_call *c);
/* Forgets a failure, so the handle can be used again (for cbag_main(cx)
 * after a failed build; the engine clears worker handles itself). */
void cbag_call_clear(cbag_call *c);

/* f(x): a new value (or x itself, or any value reachable from x); NULL on
 * failure after cbag_fail. */
typedef const cbag_val *(*cbag_map_fn)(cbag_call *c, const cbag_val *x,
                                       void *ud);
/* p(x): 1 true, 0 false, -1 failure after cbag_fail. */
typedef int (*cbag_pred_fn)(cbag_call *c, const cbag_val *x, void *ud);
/* f(a, b): binary operators of fold, foldby, accumulate. */
typedef const cbag_val *(*cbag_binop_fn)(cbag_call *c, const cbag_val *a,
                                         const cbag_val *b, void *ud);
/* f(*args): the elements of a tuple or list as arguments. */
typedef const cbag_val *(*cbag_star_fn)(cbag_call *c, size_t argc,
                                        const cbag_val *const *argv, void *ud);

/* ------------------------------------------------------------------------ */
/* Bags: constructors                                                       */

/* A bag of the elements of seq (a list or tuple, deep-copied). Partitions
 * as dask: npartitions > 0 gives partitions of ceil(len/npartitions);
 * partition_size > 0 gives partitions of that length; with neither, one
 * element per partition below 100 elements, else len/100 per partition. */
cbag *cbag_from_sequence(cbag_ctx *cx, const cbag_val *seq, size_t npartitions,
                         size_t partition_size);
/* The integers 0 .. n-1 in npartitions partitions (dask's db.range). */
cbag *cbag_range(cbag_ctx *cx, int64_t n, size_t npartitions);
/* The partitions of every bag, in order. */
cbag *cbag_concat(cbag_ctx *cx, size_t n, cbag *const *bags);
/* Tuples of the i-th elements of bags with equal partitioning. */
cbag *cbag_zip(cbag_ctx *cx, size_t n, cbag *const *bags);

size_t cbag_npartitions(const cbag *b);
cbag_ctx *cbag_context(const cbag *b);

/* ------------------------------------------------------------------------ */
/* Bags: element-wise operations (fused; nothing runs until compute)        */
/*
 * The macros pass the function's name, used in error messages and by
 * cbag_visualize ("map(count_transactions) failed in partition 3 ...").
 */

cbag *cbag_map_named(cbag *b, const char *name, cbag_map_fn f, void *ud);
cbag *cbag_filter_named(cbag *b, const char *name, cbag_pred_fn p, void *ud);
cbag *cbag_remove_named(cbag *b, const char *name, cbag_pred_fn p, void *ud);
cbag *cbag_starmap_named(cbag *b, const char *name, cbag_star_fn f, void *ud);
/* f(partition as a list) returns the new partition (a list or tuple). */
cbag *cbag_map_partitions_named(cbag *b, const char *name, cbag_map_fn f,
                                void *ud);
#define cbag_map(b, f, ud) cbag_map_named((b), #f, (f), (ud))
#define cbag_filter(b, p, ud) cbag_filter_named((b), #p, (p), (ud))
#define cbag_remove(b, p, ud) cbag_remove_named((b), #p, (p), (ud))
#define cbag_starmap(b, f, ud) cbag_starmap_named((b), #f, (f), (ud))
#define cbag_map_partitions(b, f, ud)                                          \
    cbag_map_partitions_named((b), #f, (f), (ud))

/* x[key] for dicts. A missing key fails the compute with a KeyError. */
cbag *cbag_pluck(cbag *b, const char *key);
/* x[key] for any key: a string or other value for dicts, an int for lists
 * and tuples (negative from the end), or a list of keys giving a tuple per
 * element. dflt (copied; NULL for none) replaces missing keys. */
cbag *cbag_pluckv(cbag *b, const cbag_val *key, const cbag_val *dflt);
/* Concatenates the elements of each element (lists, tuples; a dict gives
 * its keys, a string its characters, as Python iterates them). */
cbag *cbag_flatten(cbag *b);

/* ------------------------------------------------------------------------ */
/* Keyed operations                                                         */
/*
 * The key of an element is a field: a dict key (usually a string) or a
 * sequence index (an int), given as a value, or the result of a function
 * of the element. Keys are compared with Python equality (1 == 1.0) and
 * hashed with the stable cbag_hash, so groups never split across threads,
 * processes or machines.
 */

typedef struct cbag_foldby_options {
    /* The accumulator of a new key within a partition. NULL: the key's
     * first element is its accumulator (dask's default). Copied. */
    const cbag_val *initial;
    /* Combines the accumulators of two partitions; NULL: binop. */
    cbag_binop_fn combine;
    /* The start of combine for a new key; NULL: the first partial. */
    const cbag_val *combine_initial;
    int split_every; /* tree fan-in; 0: the context's (8) */
} cbag_foldby_options;

/* dask's Bag.foldby: per partition, acc[key(x)] = binop(acc, x) in a hash
 * table; the tables combined with combine in a split_every tree. The result
 * is a one-partition bag of (key, accumulator) tuples in first-seen key
 * order. field is a key value (copied) or NULL with key_fn given. */
cbag *cbag_foldby_named(cbag *b, const char *name, const cbag_val *field,
                        cbag_map_fn key_fn, cbag_binop_fn binop,
                        const cbag_foldby_options *opt, void *ud);
/* By a string field (a dict key): cbag_foldby(js, "name", incr, &o, NULL). */
cbag *cbag_foldby_str(cbag *b, const char *field, const char *name,
                      cbag_binop_fn binop, const cbag_foldby_options *opt,
                      void *ud);
#define cbag_foldby(b, field, binop, opt, ud)                                  \
    cbag_foldby_str((b), (field), #binop, (binop), (opt), (ud))
#define cbag_foldby_fn(b, key_fn, binop, opt, ud)                              \
    cbag_foldby_named((b), #binop, NULL, (key_fn), (binop), (opt), (ud))

/* dask's Bag.groupby: a shuffle. Elements are hash-partitioned by key into
 * npartitions (0: as many as b has) output partitions, then grouped: each
 * element of the result is (key, [elements in input order]), groups in
 * first-seen order within their partition. Numeric keys go to partition
 * abs(hash(key)) % npartitions with Python's int hash, as dask does, so
 * the output order matches dask's for them. */
cbag *cbag_groupby_named(cbag *b, const char *name, const cbag_val *field,
                         cbag_map_fn key_fn, size_t npartitions, void *ud);
/* By a string field: cbag_groupby(js, "name", 0). */
cbag *cbag_groupby(cbag *b, const char *field, size_t npartitions);
#define cbag_groupby_fn(b, key_fn, npartitions, ud)                            \
    cbag_groupby_named((b), #key_fn, NULL, (key_fn), (npartitions), (ud))

/* dask's Bag.frequencies: a one-partition bag of (value, count) tuples in
 * first-seen order; sort: by count, largest first, ties in first-seen
 * order (Python's stable sorted). */
cbag *cbag_frequencies(cbag *b, bool sort);

/* dask's Bag.distinct: the first element of each key, in first-seen order,
 * in one partition. The key is field (a dict key or index, copied), or
 * key_fn(x), or with neither the element itself. */
cbag *cbag_distinct_named(cbag *b, const char *name, const cbag_val *field,
                          cbag_map_fn key_fn, void *ud);
#define cbag_distinct(b) cbag_distinct_named((b), NULL, NULL, NULL, NULL)
#define cbag_distinct_fn(b, key_fn, ud)                                        \
    cbag_distinct_named((b), #key_fn, NULL, (key_fn), (ud))

/* dask's Bag.topk: the k largest elements (by cbag_cmp of their key: field
 * or key_fn(x), or the element), largest first, equal keys in input order
 * (heapq.nlargest), in one partition. As dask tests `if key:`, a false
 * field (0, "", None) means no key. */
cbag *cbag_topk_named(cbag *b, const char *name, size_t k,
                      const cbag_val *field, cbag_map_fn key_fn, void *ud);
#define cbag_topk(b, k) cbag_topk_named((b), NULL, (k), NULL, NULL, NULL)
#define cbag_topk_fn(b, k, key_fn, ud)                                         \
    cbag_topk_named((b), #key_fn, (k), NULL, (key_fn), (ud))

/* dask's Bag.accumulate: itertools.accumulate over the whole bag in order,
 * keeping its partitions. initial (copied; NULL: none) is the first
 * element of the result. As dask, an empty first partition without initial
 * makes [] the value the next partition starts from. The input is held in
 * memory and the partitions run one after the other. */
cbag *cbag_accumulate_named(cbag *b, const char *name, cbag_binop_fn binop,
                            const cbag_val *initial, void *ud);
#define cbag_accumulate(b, binop, initial, ud)                                 \
    cbag_accumulate_named((b), #binop, (binop), (initial), (ud))

/* dask's Bag.random_sample: each element kept with probability prob (in
 * [0, 1], else CBAG_INVALID). Partition i draws from a xoshiro256**
 * generator seeded from (seed, i), so the sample is the same for a seed
 * whatever the scheduler or worker count; it differs from Python's
 * random.Random. */
cbag *cbag_random_sample(cbag *b, double prob, uint64_t seed);

/* dask's Bag.repartition(npartitions), with dask's boundaries: fewer
 * partitions concatenate neighbours (int(i * n / npartitions)); more split
 * each partition into npartitions // n pieces (the last one also takes the
 * remainder) as dask's split(). The same bag when npartitions equals its
 * count. Splitting computes the input once and holds it in memory. */
cbag *cbag_repartition(cbag *b, size_t npartitions);

/* dask's Bag.product: (x, y) tuples of the cartesian product, partition
 * i * npartitions(b) + j being a_i x b_j (b_j is collected in memory). */
cbag *cbag_product(cbag *a, cbag *b);

/* dask's Bag.join: for each element x of b (streaming, partitions kept),
 * in order, a tuple (y, x) for every y of the other collection, in its
 * order, whose key equals x's. The other collection is a list or tuple
 * value (other, copied) or a bag of one partition (other_bag), held in
 * memory as a hash table. Keys: on_self (a field, copied) or on_self_fn
 * for x; on_other / on_other_fn for y (both NULL: as on_self). */
cbag *cbag_join_named(cbag *b, const char *name, const cbag_val *other,
                      cbag *other_bag, const cbag_val *on_self,
                      cbag_map_fn on_self_fn, const cbag_val *on_other,
                      cbag_map_fn on_other_fn, void *ud);
#define cbag_join_fn(b, other, on_self_fn, on_other_fn, ud)                    \
    cbag_join_named((b), #on_self_fn, (other), NULL, NULL, (on_self_fn), NULL, \
                    (on_other_fn), (ud))

/* Shuffles beyond dask (Spark's reduceByKey, a join of two partitioned bags,
 * a distributed sort). Their output is partitioned, and the same whatever
 * the worker count. The shuffle is held in memory (it does not spill as
 * groupby's does): reduce_by_key keeps one table of partial results per
 * input partition, join_bags and sort_by a copy of every element. */

/* Spark's reduceByKey: per input partition a table of key -> accumulator
 * as foldby's (a key's first element seeds it, then acc = binop(acc, x));
 * the entries are hash-partitioned by key as groupby's elements are into
 * npartitions (0: as many as b has) output partitions, each of which
 * merges the tables of the input partitions in input order with binop.
 * Elements are (key, accumulator) tuples, keys in first-seen order within
 * their partition: together, the pairs of foldby(key, binop). The key is
 * field (a dict key or index, copied) or key_fn(x), not both. */
cbag *cbag_reduce_by_key_named(cbag *b, const char *name, const cbag_val *field,
                               cbag_map_fn key_fn, cbag_binop_fn binop,
                               size_t npartitions, void *ud);
/* By a string field: cbag_reduce_by_key(js, "name", add, 8, NULL). */
cbag *cbag_reduce_by_key_str(cbag *b, const char *field, const char *name,
                             cbag_binop_fn binop, size_t npartitions, void *ud);
#define cbag_reduce_by_key(b, field, binop, npartitions, ud)                   \
    cbag_reduce_by_key_str((b), (field), #binop, (binop), (npartitions), (ud))
#define cbag_reduce_by_key_fn(b, key_fn, binop, npartitions, ud)               \
    cbag_reduce_by_key_named((b), #binop, NULL, (key_fn), (binop),             \
                             (npartitions), (ud))

/* An inner join of two partitioned bags by key, shuffling both: each side
 * is hash-partitioned by key as groupby's elements are into npartitions
 * (0: as many as left has) output partitions; output partition j is a hash
 * join of the two sides' bucket j (built on the right's, probed with the
 * left's), a (left_element, right_element) tuple for every pair of equal
 * keys (Python equality: 1 == 1.0), in left input order, then right input
 * order. Keys: left_on (a field, copied) or left_fn for left elements;
 * right_on or right_fn for right ones (both NULL: as left's). */
cbag *cbag_join_bags_named(cbag *left, cbag *right, const char *name,
                           const cbag_val *left_on, cbag_map_fn left_fn,
                           const cbag_val *right_on, cbag_map_fn right_fn,
                           size_t npartitions, void *ud);
#define cbag_join_bags(left, right, left_on, right_on, npartitions)            \
    cbag_join_bags_named((left), (right), NULL, (left_on), NULL, (right_on),   \
                         NULL, (npartitions), NULL)
#define cbag_join_bags_fn(left, right, left_fn, right_fn, npartitions, ud)     \
    cbag_join_bags_named((left), (right), #left_fn, NULL, (left_fn), NULL,     \
                         (right_fn), (npartitions), (ud))

/* The bag sorted by key (cbag_cmp's total order; reverse: largest first)
 * in npartitions (0: as many as b has) partitions whose concatenation is
 * sorted, as Python's sorted(key=..., reverse=...): stable, equal keys in
 * input order. Every k-th key of each partition is sampled to choose range
 * boundaries, each element goes to its range's partition (equal keys to
 * the same one, so sizes follow the data), and each partition is merge
 * sorted. The key is field (copied), or key_fn(x), or with neither the
 * element itself. */
cbag *cbag_sort_by_named(cbag *b, const char *name, const cbag_val *field,
                         cbag_map_fn key_fn, size_t npartitions, bool reverse,
                         void *ud);
#define cbag_sort(b, npartitions, reverse)                                     \
    cbag_sort_by_named((b), NULL, NULL, NULL, (npartitions), (reverse), NULL)
#define cbag_sort_by(b, field, npartitions, reverse)                           \
    cbag_sort_by_named((b), NULL, (field), NULL, (npartitions), (reverse), NULL)
#define cbag_sort_by_fn(b, key_fn, npartitions, reverse, ud)                   \
    cbag_sort_by_named((b), #key_fn, NULL, (key_fn), (npartitions), (reverse), \
                       (ud))

/* ------------------------------------------------------------------------ */
/* Items: reductions (lazy single values)                                   */

cbag_item *cbag_count(cbag *b);
cbag_item *cbag_sum(cbag *b);  /* ints stay exact; overflow is an error */
cbag_item *cbag_mean(cbag *b); /* empty bag: CBAG_EMPTY error */
cbag_item *cbag_min(cbag *b);
cbag_item *cbag_max(cbag *b);
/* Variance and standard deviation with ddof (numerically stable). */
cbag_item *cbag_var(cbag *b, int ddof);
cbag_item *cbag_std(cbag *b, int ddof);
cbag_item *cbag_any(cbag *b);
cbag_item *cbag_all(cbag *b);
/* dask's Bag.fold: reduce(binop, partition[, initial]) per non-empty
 * partition (every partition when the bag has one), then the partials
 * reduced with combine (NULL: binop) in a split_every tree, without
 * initial. With no partial at all (every partition empty, or one empty
 * partition and no initial) it is a CBAG_EMPTY error, as dask's TypeError.
 * initial NULL: no initial value. */
cbag_item *cbag_fold_named(cbag *b, const char *name, cbag_binop_fn binop,
                           cbag_binop_fn combine, const cbag_val *initial,
                           void *ud);
#define cbag_fold(b, binop, combine, initial, ud)                              \
    cbag_fold_named((b), #binop, (binop), (combine), (initial), (ud))
/* dask's Bag.reduction: perpartition(partition list) gives a partial per
 * non-empty partition; aggregate(list of partials) combines them in a
 * tree of fan-in split_every (0: the context's, default 8). */
cbag_item *cbag_reduction_named(cbag *b, const char *name,
                                cbag_map_fn perpartition, cbag_map_fn aggregate,
                                int split_every, void *ud);
#define cbag_reduction(b, per, agg, split_every, ud)                           \
    cbag_reduction_named((b), #per, (per), (agg), (split_every), (ud))

/* ------------------------------------------------------------------------ */
/* Computing                                                                */

/* Runs the graph and returns every element as a list value.
 * NULL on failure (message on the context). Free with cbag_result_free. */
cbag_result *cbag_compute(cbag *b);
/* Computes an item to its value. */
cbag_result *cbag_compute_item(cbag_item *it);
/* The first k elements as a tuple, looking in the first npartitions
 * partitions (-1: all). Warns, as dask does, when fewer were found. */
cbag_result *cbag_take(cbag *b, size_t k, int npartitions);
/* Calls f on every element in order, streaming (nothing is collected).
 * f returns 0 to go on, >0 to stop early, <0 on failure. */
int cbag_foreach(cbag *b, int (*f)(const cbag_val *x, void *ud), void *ud);

/* The value of a result: owned by r, valid until cbag_result_free(r). */
const cbag_val *cbag_result_value(const cbag_result *r);
void cbag_result_free(cbag_result *r);

/* Writes the task graph of b or it as Graphviz DOT. */
int cbag_visualize(cbag *b, FILE *out);
int cbag_visualize_item(cbag_item *it, FILE *out);

/* ------------------------------------------------------------------------ */
/* Text files                                                               */

/* Where and how remote data is reached (dask's storage_options), for
 * read_text and to_textfiles paths that are URLs: http://, https:// (read
 * only) and s3://bucket/key. Zero-initialised fields take their defaults
 * from the environment when the read or write is planned: key from
 * AWS_ACCESS_KEY_ID, secret from AWS_SECRET_ACCESS_KEY, token from
 * AWS_SESSION_TOKEN, region from AWS_REGION or AWS_DEFAULT_REGION (else
 * us-east-1), endpoint_url from AWS_ENDPOINT_URL. Strings are copied. */
typedef struct cbag_storage_options {
    bool anon; /* unsigned requests (public buckets) */
    /* Access key id: S3 requests are signed with it and the secret (AWS
     * SigV4); without both they go unsigned, as with anon. */
    const char *key;
    const char *secret; /* secret access key */
    const char *token;  /* session token (x-amz-security-token) */
    /* An S3-compatible endpoint such as "http://127.0.0.1:9000": objects
     * are then addressed path-style, ENDPOINT/BUCKET/KEY. NULL: AWS,
     * https://BUCKET.s3.REGION.amazonaws.com/KEY. */
    const char *endpoint_url;
    const char *region;
    /* Retries of a transient failure (5xx, a dropped connection, a
     * timeout, a refused connection), with exponential backoff from 50 ms;
     * a broken download resumes at the byte reached. 0: 5; <0: none. */
    int retries;
    /* Seconds without a byte (or to connect) before a request counts as
     * timed out. 0: 30. */
    double timeout;
} cbag_storage_options;

typedef struct cbag_text_options {
    /* Split uncompressed files into byte ranges of about this size, at line
     * boundaries (dask's blocksize). 0: one partition per file. */
    uint64_t blocksize;
    /* NULL or "infer": from each file's extension (.gz .bz2 .xz .zst .lz4);
     * or "gzip", "bz2", "xz", "zstd", "lz4", "none". */
    const char *compression;
    /* NULL: universal newlines ("\n", "\r\n", "\r" end a line, which is
     * yielded ending in "\n"), as dask. Else lines end at this string. */
    const char *linedelimiter;
    size_t files_per_partition; /* 0: one file per partition */
    bool include_path;          /* elements are (line, path) tuples */
    /* Bytes that are not UTF-8: NULL or "strict" (an error naming the file
     * and line), "replace" (U+FFFD) or "ignore" (dropped), as Python. */
    const char *errors;
    /* For URLs: http(s)://... (a single object) or s3://bucket/key, where
     * the key may be a glob ("s3://b/logs/2015-*.json.gz": the bucket is
     * listed). Remote files are streamed, never downloaded whole:
     * compressed ones decompress as they arrive, uncompressed ones split
     * into blocksize ranges (HTTP Range requests) as local files do. */
    cbag_storage_options storage;
} cbag_text_options;

/* The lines of the files matching a glob or path (each line with its line
 * ending, as dask's read_text), in file order. opt may be NULL. The files
 * are listed now (no match is an error naming the pattern) and read at
 * compute. */
cbag *cbag_read_text(cbag_ctx *cx, const char *pattern,
                     const cbag_text_options *opt);
/* The same for a list of globs or paths, in list order. */
cbag *cbag_read_textv(cbag_ctx *cx, size_t n, const char *const *patterns,
                      const cbag_text_options *opt);

typedef struct cbag_textfiles_options {
    /* NULL or "infer": from the name's extension; else as read_text. */
    const char *compression;
    bool last_endline; /* end the last line with a newline too */
    /* The file name's part for partition i (replaces '*'); NULL: dask's
     * zero-padded numbers. Must return a malloc'd string. */
    char *(*name_function)(size_t i, void *ud);
    void *name_ud;
    /* For a pattern "s3://bucket/prefix/N.json.gz" (N written as a star):
     * each partition is one PUT, or a multipart upload (8 MB parts) when
     * larger, aborted on failure, so a key holds a whole file or nothing. */
    cbag_storage_options storage;
} cbag_textfiles_options;

/* Writes each partition of b (strings) to one file: pattern "out/N.json.gz"
 * (N written as a star) gives out/0.json.gz, out/1.json.gz, ... as dask's
 * to_textfiles (a pattern without '*' is a directory of N.part files). Each
 * line is the element followed by "\n" (the last one only with last_endline).
 * Files are written under a temporary name and renamed when complete, so a
 * failure never leaves a partial file under a final name. Runs now. */
int cbag_to_textfiles(cbag *b, const char *pattern,
                      const cbag_textfiles_options *opt);

/* json.loads over a bag of strings that skips malformed records instead of
 * failing (dask has no such option; cbag's errors="skip"). The count of
 * skipped records is in cbag_skipped(cx) after compute. */
cbag *cbag_json_loads_skip(cbag *lines);
/* json.loads over a bag of strings that builds only the listed top-level
 * keys of each record (projection), for pipelines that read nothing else:
 * in a line holding a JSON object, the values of other keys are checked by
 * the parser's grammar but not built, which is faster and keeps records
 * small. Results are those of cbag_json_loads whenever only the listed keys
 * are read: malformed JSON anywhere in a line (under a dropped key too) is
 * the same error, a listed key that is missing stays missing, of duplicate
 * keys the last wins, and lines that are not objects are built whole. keys
 * (nkeys NUL-terminated strings) are copied. skip_errors: skip malformed
 * lines as cbag_json_loads_skip does. */
cbag *cbag_json_loads_project(cbag *lines, size_t nkeys,
                              const char *const *keys, bool skip_errors);
/* Records skipped by the last compute on cx. */
uint64_t cbag_skipped(const cbag_ctx *cx);

/* ------------------------------------------------------------------------ */
/* The tutorial's data set                                                  */

typedef struct cbag_prep_options {
    int nfiles;        /* 0: 50 */
    int naccounts;     /* 0: 500 */
    int ntransactions; /* per file; 0: 100000 */
    uint64_t seed;     /* 0: 42 */
    int threads;       /* 0: one per core */
} cbag_prep_options;

/* Writes dir/accounts.00.json.gz, ... as the dask tutorial's prep.py does
 * (one JSON line per account per file with its transactions). dir is
 * created if missing. CBAG_OK, or an error code with a message in err. */
int cbag_prep_accounts(const char *dir, const cbag_prep_options *opt, char *err,
                       size_t errlen);

/* ------------------------------------------------------------------------ */
/* Output                                                                   */

enum {
    CBAG_FMT_REPR = 0,         /* Python repr: {'a': 1}, (1, 2), 0.1 */
    CBAG_FMT_JSON = 1,         /* Python json.dumps: {"a": 1} (ASCII) */
    CBAG_FMT_JSON_COMPACT = 2, /* json.dumps(separators=(",", ":")) */
    CBAG_FMT_UTF8 = 4          /* with JSON: ensure_ascii=False */
};
/* Writes v formatted (CBAG_FMT_*) to f; no newline. 0 or an error code. */
int cbag_fprint(FILE *f, const cbag_val *v, int fmt);
/* v formatted into a NUL-terminated string malloc'd for the caller (free()
 * it); *len gets its length if len is not NULL. NULL on allocation failure
 * or a value JSON cannot hold (NaN is written as NaN, as Python does). */
char *cbag_format(const cbag_val *v, int fmt, size_t *len);

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */

/* Parses one JSON text (RFC 8259, strict UTF-8, surrounding whitespace
 * allowed) into c's arena. Integers outside int64 are a CBAG_PARSE error
 * (never wrapped); nesting deeper than 10000 is an error. NULL on failure,
 * with a message naming the byte offset and what was expected. */
const cbag_val *cbag_json_parse(cbag_call *c, const char *s, size_t len);
/* As map functions: json.loads of a string element, json.dumps of any. */
const cbag_val *cbag_json_loads(cbag_call *c, const cbag_val *x, void *ud);
const cbag_val *cbag_json_dumps(cbag_call *c, const cbag_val *x, void *ud);

/* --- frames --- */
/* ------------------------------------------------------------------------ */
/* Frames: columnar tables (dask's Bag.to_dataframe)                        */
/*
 * A frame is a partitioned table with typed columns: int64, float64, bool,
 * string, and object (any value, as pandas' object dtype). It has one
 * partition per partition of the bag it was made from, each with its own
 * row index 0 .. n-1 (as dask's to_dataframe). Frames are computed when
 * made and kept in memory; they are immutable and owned by the context:
 * cbag_close() frees them with the bags. Functions taking a frame accept
 * NULL and return NULL (or an error code), so a chain can be checked once;
 * errors go to the context (cbag_errmsg).
 *
 * Differences from pandas: an int64 or bool column with missing values
 * stays int64 or bool (pandas makes it float64 or object); missing cells
 * print as NaN. Group-by aggregations skip missing cells and groups whose
 * key is missing, as pandas does by default.
 */
typedef struct cbag_frame cbag_frame;

typedef struct cbag_frame_meta {
    /* The columns, in order (copied): elements that are dicts give each
     * column the value of its key; tuples and lists by position. Keys not
     * named are left out. 0 / NULL: every key seen, in first-seen order (or
     * "0", "1", ... for tuples). */
    size_t ncolumns;
    const char *const *columns;
    /* NULL, or per column NULL (infer) or "int64", "float64", "bool",
     * "string" or "object". */
    const char *const *dtypes;
} cbag_frame_meta;

/* Computes b into a frame, streaming each partition into column arrays in
 * parallel. Columns come from the elements' dict keys (or tuple positions)
 * and types from the values unless meta gives them: int, float, bool and
 * str values make int64, float64, bool and string columns; lists, tuples
 * and dicts make object columns. A column's type is that of the first
 * partition holding a value in it (empty partitions do not count). An
 * int64 column meeting a float becomes float64 (the one promotion); any
 * other value that does not fit its column is a CBAG_TYPE error naming the
 * column, the partition and the row. A missing key or None is a missing
 * cell. meta may be NULL. NULL on failure. */
cbag_frame *cbag_to_dataframe(cbag *b, const cbag_frame_meta *meta);

size_t cbag_frame_ncolumns(const cbag_frame *f);
/* Column i's name, or NULL past the end. Owned by the frame. */
const char *cbag_frame_column(const cbag_frame *f, size_t i);
/* Column i's pandas dtype name: "int64", "float64", "bool" or "object"
 * (strings and values, as pandas shows them); NULL past the end. */
const char *cbag_frame_dtype(const cbag_frame *f, size_t i);
/* Number of rows (len(df)), and of partitions. */
uint64_t cbag_frame_len(const cbag_frame *f);
size_t cbag_frame_npartitions(const cbag_frame *f);

/* The first n rows (from the first partitions, as many as needed). */
cbag_frame *cbag_frame_head(cbag_frame *f, size_t n);
/* Writes the frame as pandas prints it (repr(df)): index column, aligned
 * columns, values over 50 characters shortened with "...", more than 60
 * rows shown as the first and last 5. A group-by result prints as a
 * Series, with its "Name: ..., dtype: ..." footer. Ends with a newline. */
int cbag_frame_print(FILE *out, cbag_frame *f);
/* cbag_frame_print(out, cbag_frame_head(f, n)): df.head(n). */
int cbag_frame_print_head(FILE *out, cbag_frame *f, size_t n);

/* df[[names...]]: the columns named, in that order (the arrays are
 * shared). An unknown name is a CBAG_KEY error. */
cbag_frame *cbag_frame_select(cbag_frame *f, size_t n,
                              const char *const *names);
/* df[df[column] OP value] with op "==", "!=", "<", "<=", ">", ">=": the
 * rows for which the comparison is true, keeping their index. Numbers
 * compare with numbers, strings with strings (by code point), bools with
 * bools; a missing cell compares false (true for "!="). Ordering a column
 * against a value of another kind is a CBAG_TYPE error. value is copied. */
cbag_frame *cbag_frame_filter(cbag_frame *f, const char *column, const char *op,
                              const cbag_val *value);

/* df.groupby(by)[column].AGG(): agg is "count", "size", "sum", "mean",
 * "min", "max" or "nunique"; column NULL: every other column (sum and mean:
 * the numeric ones only; min and max: not the object ones), as
 * df.groupby(by).AGG(). Computed per partition in parallel, keyed on the
 * column's typed values (strings by their bytes), then combined. The
 * result is a one-partition frame indexed by the group keys in sorted
 * order (pandas' default sort=True), named after by; with one column (or
 * size) it prints as a pandas Series. count, size and nunique give int64;
 * mean float64; sum int64 for int and bool columns (overflow is an error),
 * float64 for floats; min and max the column's type. */
cbag_frame *cbag_frame_groupby(cbag_frame *f, const char *by,
                               const char *column, const char *agg);

typedef struct cbag_frame_csv_options {
    bool single_file; /* one file, the header once (dask's single_file) */
    bool no_index;    /* leave the index column out (index=False) */
    bool no_header;   /* no header line (header=False) */
    char sep;         /* 0: ',' */
} cbag_frame_csv_options;

/* dask's to_csv: pandas' CSV text (header line with the index column,
 * missing cells empty, fields holding the separator, quotes or newlines
 * quoted) for each partition into the file named by path's '*' replaced by
 * the partition number (as cbag_to_textfiles; compression from the
 * extension), or into the file path with single_file. Files are written
 * under a temporary name and renamed when complete. opt may be NULL. */
int cbag_frame_to_csv(cbag_frame *f, const char *path,
                      const cbag_frame_csv_options *opt);

enum {
    CBAG_FRAME_TUPLES = 1, /* rows as tuples, not dicts */
    CBAG_FRAME_INDEX = 2   /* with the index: first in tuples, or under its
                              name ("index" if unnamed) in dicts */
};
/* dask's DataFrame.to_bag: one element per row, one partition per frame
 * partition; dicts {column: value} (format='dict') or tuples (CBAG_FRAME_*
 * flags). Missing cells are None. The bag reads the frame: use it while
 * the context is open, as any bag. */
cbag *cbag_frame_to_bag(cbag_frame *f, int flags);
/* --- end frames --- */

#ifdef __cplusplus
}
#endif
#endif /* CBAG_H */
