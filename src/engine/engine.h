/* engine.h: the graph of bags and items, and how partitions run.
 *
 * A bag is a node: a source (a materialised sequence, a range, text files)
 * or an operation on other bags. Element-wise operations are fused: running
 * partition i of a map node runs partition i of its input with a sink that
 * applies the map and pushes into the next sink. A source pushes values one
 * at a time; values are built in the worker's batch arena, which the source
 * resets between elements once it has grown past CBAG__BATCH_BYTES, after
 * telling the sinks (flush) to copy anything they keep. */
#ifndef CBAG_ENGINE_H
#define CBAG_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>

#include "arena.h"
#include "buf.h"
#include "call.h"
#include "cbag.h"
#include "value.h"

#define CBAG__BATCH_BYTES (1u << 20)

struct cbag__pool;
struct cbag__text_part;
struct cbag__mpi;

typedef enum cbag__kind {
    K_SEQ,   /* materialised partitions (from_sequence) */
    K_RANGE, /* integers */
    K_TEXT,  /* lines of text files */
    K_CONCAT,
    K_ZIP,
    K_MAP,
    K_FILTER,
    K_REMOVE,
    K_STARMAP,
    K_PLUCK,
    K_FLATTEN,
    K_MAP_PARTITIONS,
    K_OPS,    /* keyed_ops.c: runs through b->ops (see cbag__ops) */
    K_FOLDBY, /* barriers: materialised by cbag__prepare before a stage */
    K_GROUPBY
} cbag__kind;

/* How a keyed operation finds keys and folds values. */
typedef struct cbag__keyed {
    const cbag_val *field; /* a dict key or index, or NULL with key_fn */
    cbag_map_fn key_fn;
    cbag_binop_fn binop, combine;
    const cbag_val *initial, *combine_initial; /* NULL: none */
    int split_every;
    void *ud;
} cbag__keyed;

struct cbag__worker;
struct cbag__sink;

/* A node implemented outside pipeline.c (keyed_ops.c, keyed.c). */
typedef struct cbag__ops {
    /* Runs partition part into out; NULL: pushes b->mat->parts[part]. */
    int (*run)(struct cbag__worker *w, const struct cbag *b, size_t part,
               struct cbag__sink *out);
    /* Work done by cbag__prepare before a stage (a barrier), once per
     * compute even when the node is reached twice; NULL: none. */
    int (*prepare)(cbag_ctx *cx, struct cbag *b);
    void (*release)(struct cbag *b); /* undoes prepare; NULL: frees mat */
    int same_parts; /* partition i reads partition i of b->in only */
    /* Output partitions come from a shuffle: with the mpi scheduler each
     * lives on one rank, and partitions reading it run there (dist.h). */
    int shuffle;
} cbag__ops;

/* The partitions of a barrier node, computed for the compute in flight. */
typedef struct cbag__mat {
    cbag_val *parts; /* list values */
    cbag__arena *arenas;
    size_t narenas;
} cbag__mat;

struct cbag {
    cbag_ctx *cx;
    cbag__kind kind;
    int id;           /* for visualize */
    size_t nparts;
    const char *name; /* "map(count_transactions)", in the graph arena */
    cbag *in;         /* input of element-wise operations */
    cbag **ins;       /* inputs of concat and zip */
    size_t nins;
    union {
        cbag_map_fn map;
        cbag_pred_fn pred;
        cbag_star_fn star;
    } fn;
    void *ud;
    const cbag_val *key, *dflt; /* pluck */
    const cbag_val *parts;      /* K_SEQ: nparts list values */
    int64_t range_n;            /* K_RANGE */
    struct cbag__text_part *text; /* K_TEXT */
    cbag__keyed *keyed;           /* K_FOLDBY, K_GROUPBY */
    cbag__mat *mat;               /* barriers, during a compute */
    const cbag__ops *ops;         /* K_OPS */
    void *state;                  /* K_OPS: its parameters */
    void *prepared;               /* K_OPS: what prepare made */
    int flags; /* K_TEXT: include_path; K_MAP: 1 = skip parse errors */
};

typedef enum cbag__agg {
    A_COUNT,
    A_SUM,
    A_MEAN,
    A_MIN,
    A_MAX,
    A_VAR,
    A_STD,
    A_ANY,
    A_ALL,
    A_FOLD,
    A_REDUCTION
} cbag__agg;

struct cbag_item {
    cbag_ctx *cx;
    cbag__agg agg;
    int id;
    const char *name;
    cbag *in;
    int ddof;
    int split_every;
    cbag_binop_fn binop, combine;
    cbag_map_fn per, aggregate;
    const cbag_val *initial; /* NULL: none */
    void *ud;
};

/* One per worker thread: the batch arena and the call handle callbacks
 * get, and where the element in flight came from (for error messages). */
typedef struct cbag__worker {
    cbag_ctx *cx;
    int index;
    cbag__arena batch;
    cbag_call call;
    size_t part;       /* partition being run */
    uint64_t elem;     /* index of the source element in its partition */
    unsigned ticks;    /* elements since the stop flag was last read */
    void *lines;       /* the text reader in flight, for file and line */
    /* The first failure seen by this worker in the current task. */
    int code;
    cbag__buf msg;
} cbag__worker;

struct cbag_ctx {
    cbag_options opt;
    char *temp_dir;
    int workers;
    int sync;
    int split_every;
    int code;
    cbag__buf msg;
    cbag__arena graph; /* nodes, names, copied sequences */
    cbag__arena main_arena;
    cbag_call main;
    int next_id;
    struct cbag__pool *pool;
    cbag__worker *w; /* workers (pool threads, or one for sync) */
    int nw;
    /* The mpi scheduler (dist.h): the transport, this rank and how many;
     * rank 0 of 1 otherwise. dist_marks: per node id, what the compute in
     * flight decided (shuffles copied to every rank). */
    struct cbag__mpi *mpi;
    int rank, nranks;
    unsigned char *dist_marks;
    size_t ndist_marks;
    /* The compute in flight. */
    atomic_int stop; /* set on the first failure: everyone winds down */
    atomic_int interrupted; /* cbag_interrupt was called */
    atomic_uint_least64_t skipped; /* records dropped by errors="skip" */
    atomic_size_t parts_done;       /* progress of the stage in flight */
    atomic_uint_least64_t bytes_read;
    pthread_mutex_t err_mu;
    int err_code;
    size_t err_part; /* the failure kept is the one of the lowest partition */
    cbag__buf err_msg;
};

/* A sink receives the values of a partition one at a time. push returns
 * 0 to go on, 1 when it wants no more (take), <0 on failure (the worker
 * holds the message). flush is called before the batch arena is reset. */
typedef struct cbag__sink cbag__sink;
struct cbag__sink {
    int (*push)(cbag__sink *s, const cbag_val *x);
    void (*flush)(cbag__sink *s);
    cbag__sink *next;
    const cbag *node;
    cbag__worker *w;
};

/* ctx.c */
void cbag__error(cbag_ctx *cx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cbag__warn(cbag_ctx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *cbag__galloc(cbag_ctx *cx, size_t n); /* graph arena; error on NULL */
const char *cbag__gstrf(cbag_ctx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cbag__ensure_workers(cbag_ctx *cx);

/* pipeline.c */
/* Runs partition part of b into out. 0 done, 1 stopped by a sink, <0 failed
 * (message recorded on w). */
int cbag__run_part(cbag__worker *w, const cbag *b, size_t part,
                   cbag__sink *out);
/* Records a failure on w: "OP failed in partition P (WHERE): MSG". */
int cbag__fail(cbag__worker *w, const char *op, int code, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));
/* The same for a callback that returned NULL or failed its call. */
int cbag__fail_call(cbag__worker *w, const char *op);
/* Whether partition i of b is made from partition i of b->in alone. */
int cbag__same_parts(const cbag *b);
/* Whether partition sizes of b are input bytes (a text source). */
int cbag__sized_in_bytes(const cbag *b);
/* The map function of cbag_json_loads_project (ud: its cbag__json_keys);
 * read_text + this map are fused as read_text + cbag_json_loads are. */
const cbag_val *cbag__json_loads_keys(cbag_call *c, const cbag_val *x,
                                      void *ud);
/* Returned by sources when another worker failed and the compute stops. */
#define CBAG__CANCELLED (-1000)
/* The input bytes behind a partition, to schedule the largest first. */
uint64_t cbag__part_size(const cbag *b, size_t part);
/* Runs partition part of b and collects its values, deep-copied, into a
 * list *out allocated in a. Same returns as cbag__run_part. */
int cbag__collect(cbag__worker *w, const cbag *b, size_t part, cbag__arena *a,
                  cbag_val *out, size_t limit);
/* A source calls this between elements: flushes and resets the batch arena
 * when it is big; returns CBAG__CANCELLED once the compute is stopping. */
int cbag__between(cbag__worker *w, cbag__sink *out);

/* keyed.c: computes every barrier node under b (inputs first) so that a
 * stage over b can run; cbag__release frees what prepare made. */
int cbag__prepare(cbag_ctx *cx, cbag *b);
void cbag__release(cbag *b);
/* keyed.c: runs partition part of a barrier node (K_FOLDBY, K_GROUPBY,
 * K_OPS) into out. */
int cbag__run_barrier(cbag__worker *w, const cbag *b, size_t part,
                      cbag__sink *out);
/* pipeline.c: x[key] as Python's getitem (dict key, or sequence index);
 * NULL when missing, with *err set when the types do not allow it. */
const cbag_val *cbag__getitem(const cbag_val *x, const cbag_val *key,
                              const char **err);
/* Fails with Python's KeyError, IndexError or TypeError for x[key]. */
int cbag__key_error(cbag__worker *w, const char *op, const cbag_val *x,
                    const cbag_val *key, const char *err);
/* pipeline.c: pushes the elements of a list value (a source). */
int cbag__run_list(cbag__worker *w, const cbag_val *list, cbag__sink *out);

/* bag.c */
void cbag__range_bounds(const cbag *b, size_t part, int64_t *lo, int64_t *hi);

/* How a stage runs with the mpi scheduler, and where the partitions'
 * results go (see dist.h). Without MPI every mode runs every partition. */
typedef enum cbag__xmode {
    CBAG__X_LOCAL, /* every rank runs every partition (its inputs are on
                      every rank already, and so are the results) */
    CBAG__X_SPLIT, /* each partition runs on one rank; results stay there */
    CBAG__X_ALL,   /* ... then every rank gets every partition's result */
    CBAG__X_ROOT   /* ... then rank 0 gets them (every rank with
                      cbag_options.results_everywhere) */
} cbag__xmode;

typedef struct cbag__xchg {
    cbag__xmode mode;
    /* Appends partition part's result to out as codec frames: 0, or -1
     * when memory is exhausted. Called on the rank that ran it. */
    int (*pack)(cbag__buf *out, size_t part, void *arg);
    /* Rebuilds partition part's result from the n bytes pack made, on a
     * rank that did not run it: 0, or -1 with the reason in err. */
    int (*unpack)(const void *p, size_t n, size_t part, void *arg, char *err,
                  size_t errlen);
    void *arg;
} cbag__xchg;

/* xchg.c: the common case, one value per partition: vals[part - first]
 * in arenas[part - first]; present (NULL: always) flags partitions that
 * have a value. */
typedef struct cbag__xvals {
    cbag_val *vals;
    cbag__arena *arenas;
    size_t first;
    unsigned char *present;
} cbag__xvals;
int cbag__xvals_pack(cbag__buf *out, size_t part, void *arg);
int cbag__xvals_unpack(const void *p, size_t n, size_t part, void *arg,
                       char *err, size_t errlen);
/* A cbag__xchg of mode for the values described by xv. */
cbag__xchg cbag__xchg_vals(cbag__xmode mode, cbag__xvals *xv);

/* compute.c: a partition and its size, and qsort's order for largest
 * first (then by partition). */
typedef struct cbag__sized {
    uint64_t size;
    size_t part;
} cbag__sized;
int cbag__by_size_desc(const void *a, const void *b);

/* compute.c: runs fn for every partition in [first, first + n) over the
 * workers, largest first, and puts the failure of the lowest failing
 * partition on the context. x says how the stage runs with the mpi
 * scheduler (NULL: CBAG__X_LOCAL). Returns CBAG_OK or the error code. */
typedef int (*cbag__part_fn)(cbag__worker *w, size_t part, void *arg);
int cbag__run_stage(cbag_ctx *cx, const cbag *b, size_t first, size_t n,
                    cbag__part_fn fn, void *arg, const cbag__xchg *x);

/* compute.c: every partition of b collected into a list, with mpi on
 * the rank that computes it and then copied to every rank; returns a
 * node (in the graph, id and name of b) reading those lists, which live
 * in *arenas (made here, one per partition; free them with
 * cbag__materialized_free once the node is not read). NULL after an
 * error on cx. Call between cbag__prepare(b) and cbag__release(b). */
cbag *cbag__materialize(cbag *b, cbag__arena **arenas);
void cbag__materialized_free(cbag__arena *arenas, size_t n);

/* A result is a value plus the arenas holding it. */
struct cbag_result {
    cbag_val value;
    cbag__arena *arenas;
    size_t narenas;
};
cbag_result *cbag__result_new(size_t narenas);

#endif
