/* dist.h: running a compute over MPI ranks (the "mpi" scheduler), as the
 * engine sees it. Built with CBAG_MPI; without it every function below is
 * an inline no-op and cx->mpi is always NULL.
 *
 * SPMD: every rank builds the same graph and runs the same computes, so
 * every rank reaches the same stages in the same order; each stage is a
 * collective step.
 *
 * - Placement: a stage's partitions are spread over the ranks by their
 *   input size (largest first, to the least loaded rank), the same on
 *   every rank, so each partition runs exactly once (no file is read
 *   twice). A partition that reads the output of a shuffle runs where that
 *   output partition lives: output partition j of a shuffle goes to rank
 *   (j + the node's id) % ranks.
 * - Results: after a stage, the ranks agree on its outcome (the failure of
 *   the lowest failing partition, its message broadcast) and move the
 *   per-partition results as the stage's cbag__xchg says: to every rank
 *   (reductions, foldby tables, barriers), to rank 0 (compute), or not at
 *   all (to_textfiles).
 * - Shuffles (groupby, reduce_by_key, join_bags, sort_by) send each
 *   (input partition, output partition) bucket to the output's rank with
 *   MPI_Alltoallv, in rounds bounded by the memory budget.
 * - A shuffle whose output partitions are read together with other
 *   partitions (under zip, product or repartition) is copied to every rank
 *   instead, so that any rank can read any of its partitions. */
#ifndef CBAG_DIST_H
#define CBAG_DIST_H

#include "engine.h"

/* A piece of a shuffle: pairs of input partition `in` bound for output
 * partition `out`, as a codec frame of key, value, key, value... at p.
 * own: NULL, or the buffer holding exactly those bytes, which the
 * receiver may keep. */
typedef struct cbag__piece {
    size_t in, out;
    const void *p;
    size_t n;
    cbag__buf *own;
} cbag__piece;

/* Where a shuffle's pieces come from and go to.
 * next: the next piece this rank sends (the pieces of one (in, out) in
 *   order; its bytes valid until the next call): 1, 0 when there are no
 *   more, or minus a cbag_status with a reason in err.
 * keep (may be NULL): offered a buffer of received pieces before they are
 *   taken; 1 when it takes the buffer over (b is left empty), so that the
 *   pieces' bytes stay valid; 0 to leave it.
 * take: a piece received; kept: its bytes stay valid (keep took them),
 *   else they are valid during the call only. 0, or minus a cbag_status
 *   with a reason in err.
 * A piece for this rank's own output partitions does not cross MPI: it is
 * offered to keep (when it has an own buffer) and taken at once. */
typedef struct cbag__pieces {
    int (*next)(void *ud, cbag__piece *pc, char *err, size_t errlen);
    int (*keep)(void *ud, cbag__buf *b);
    int (*take)(void *ud, const cbag__piece *pc, int kept, char *err,
                size_t errlen);
    void *ud;
} cbag__pieces;

/* The most bytes of pairs a piece holds (pieces are cut between pairs). */
#define CBAG__PIECE_BYTES (4u << 20)

#ifdef CBAG_MPI

/* At cbag_open: joins the ranks (initialising MPI if needed). 0, or an
 * error on cx. */
int cbag__dist_open(cbag_ctx *cx);
void cbag__dist_close(cbag_ctx *cx);
/* Before a compute over target: checks that every rank built the same
 * graph, and decides which shuffles are copied to every rank. Collective. */
int cbag__dist_plan(cbag_ctx *cx, const cbag *target);
/* The rank that runs each partition [first, first + n) of a stage over b
 * (b NULL: by index). The same on every rank. 0, or -1 (out of memory). */
int cbag__dist_owners(cbag_ctx *cx, const cbag *b, size_t first, size_t n,
                      int *owner);
/* Whether b is a shuffle whose output is on every rank this compute. */
int cbag__dist_everywhere(const cbag_ctx *cx, const cbag *b);
/* Agrees on a step's outcome: the failure with the lowest key (a
 * partition, or a rank) wins; every rank returns its code with its
 * message in *msg. code 0: this rank did fine. Collective. */
int cbag__dist_agree(cbag_ctx *cx, int code, uint64_t key, cbag__buf *msg);
/* The same for a step whose failure is already the error on cx (or none):
 * afterwards every rank has the same error on cx. Returns it. */
int cbag__dist_agree_cx(cbag_ctx *cx, int code);
/* After a stage run on the partitions owner[] gave this rank: moves the
 * results as x says. CBAG_OK or the error (on cx, on every rank). */
int cbag__dist_exchange(cbag_ctx *cx, const cbag__xchg *x, const int *owner,
                        size_t first, size_t n);
/* Moves a shuffle's pieces to the rank of their output partition (every
 * rank with everywhere). io NULL: this rank could not start (out of
 * memory): it takes part, and the shuffle fails on every rank. CBAG_OK or
 * the error, named after b. */
int cbag__dist_shuffle(cbag_ctx *cx, const cbag *b, int everywhere,
                       const cbag__pieces *io);
/* root's value of *v on every rank. */
int cbag__dist_bcast_int(cbag_ctx *cx, int *v, int root);
/* The rank of output partition j of shuffle b: round robin, starting at
 * a rank that depends on the node, so that small shuffles do not all
 * land on rank 0. */
static inline int cbag__dist_home(const cbag_ctx *cx, const cbag *b, size_t j) {
    return (int)((j + (size_t)b->id) % (size_t)cx->nranks);
}

#else

static inline int cbag__dist_open(cbag_ctx *cx) {
    cbag__error(cx, CBAG_INVALID, "cbag was built without MPI");
    return CBAG_INVALID;
}
static inline void cbag__dist_close(cbag_ctx *cx) { (void)cx; }
static inline int cbag__dist_plan(cbag_ctx *cx, const cbag *t) {
    (void)cx, (void)t;
    return 0;
}
static inline int cbag__dist_owners(cbag_ctx *cx, const cbag *b, size_t first,
                                    size_t n, int *owner) {
    (void)cx, (void)b, (void)first;
    for (size_t i = 0; i < n; i++)
        owner[i] = 0;
    return 0;
}
static inline int cbag__dist_everywhere(const cbag_ctx *cx, const cbag *b) {
    (void)cx, (void)b;
    return 0;
}
static inline int cbag__dist_agree(cbag_ctx *cx, int code, uint64_t key,
                                   cbag__buf *msg) {
    (void)cx, (void)key, (void)msg;
    return code;
}
static inline int cbag__dist_agree_cx(cbag_ctx *cx, int code) {
    (void)cx;
    return code;
}
static inline int cbag__dist_exchange(cbag_ctx *cx, const cbag__xchg *x,
                                      const int *owner, size_t first,
                                      size_t n) {
    (void)cx, (void)x, (void)owner, (void)first, (void)n;
    return 0;
}
static inline int cbag__dist_shuffle(cbag_ctx *cx, const cbag *b,
                                     int everywhere, const cbag__pieces *io) {
    (void)cx, (void)b, (void)everywhere, (void)io;
    return 0;
}
static inline int cbag__dist_bcast_int(cbag_ctx *cx, int *v, int root) {
    (void)cx, (void)v, (void)root;
    return 0;
}
static inline int cbag__dist_home(const cbag_ctx *cx, const cbag *b, size_t j) {
    (void)cx, (void)b, (void)j;
    return 0;
}

#endif

/* Whether this rank runs partition-free work that one rank does for all
 * (writing a single file): rank 0, or the only process. */
static inline int cbag__dist_root(const cbag_ctx *cx) { return cx->rank == 0; }

/* Whether the results of a compute arrive on this rank. */
static inline int cbag__has_results(const cbag_ctx *cx) {
    return !cx->mpi || cx->rank == 0 || cx->opt.results_everywhere;
}

#endif
