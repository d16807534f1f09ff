/* dist_shuffle.c: a shuffle's pieces to the ranks of their output
 * partitions, in rounds (see dist.h).
 *
 * Each round, every rank packs pieces until it has about `limit` bytes
 * (at least one piece) in one buffer per rank; the counts go first
 * (MPI_Alltoall), then the bytes (point-to-point, all at once), and each
 * rank hands what it received to take(). A rank's pieces for itself never
 * cross MPI: they are taken as they are made, their buffers kept rather
 * than copied where the receiver can. So a rank holds at most about
 * ranks x limit bytes in flight, whatever the size of the shuffle; limit
 * comes from the memory budget. The rounds end when no rank has pieces
 * left, or when one failed: the ranks agree on the failure (its message)
 * and all return it. */
#ifdef CBAG_MPI

#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "dist.h"
#include "keyed.h"
#include "mem.h"
#include "sched/mpi.h"

static size_t round_limit(const cbag_ctx *cx) {
    size_t l = cbag__memory_budget(cx) / (4 * (size_t)cx->nranks);
    if (l < ((size_t)4 << 10)) l = (size_t)4 << 10;
    if (l > ((size_t)256 << 20)) l = (size_t)256 << 20;
    return l;
}

/* A piece as a record: in, out, length (varints), then its bytes. */
static int put_piece(cbag__buf *b, const cbag__piece *pc) {
    unsigned char h[30];
    size_t k = cbag__varint_put(h, pc->in);
    k += cbag__varint_put(h + k, pc->out);
    k += cbag__varint_put(h + k, pc->n);
    return cbag__buf_put(b, h, k) || cbag__buf_put(b, pc->p, pc->n);
}

/* A piece for this rank: its own buffer kept if the receiver wants it. */
static int take_own(const cbag__pieces *io, const cbag__piece *pc, char *err,
                    size_t errlen) {
    int kept = pc->own && io->keep && io->keep(io->ud, pc->own);
    return io->take(io->ud, pc, kept, err, errlen);
}

/* Hands the records rank r sent (in recv) to take; a negative status on
 * failure. */
static int take_all(const cbag__pieces *io, cbag__buf *recv, char *err,
                    size_t errlen) {
    if (!recv->len) return 0;
    const unsigned char *p = (const unsigned char *)recv->p;
    const unsigned char *end = p + recv->len;
    int kept = io->keep && io->keep(io->ud, recv); /* recv emptied then */
    while (p < end) {
        uint64_t in, out, n;
        if (cbag__varint_get(&p, end, &in) || cbag__varint_get(&p, end, &out) ||
            cbag__varint_get(&p, end, &n) || n > (uint64_t)(end - p)) {
            snprintf(err, errlen, "a malformed shuffle record");
            return -CBAG_PARSE;
        }
        cbag__piece pc = {(size_t)in, (size_t)out, p, (size_t)n, NULL};
        int rc = io->take(io->ud, &pc, kept, err, errlen);
        if (rc < 0) return rc;
        p += n;
    }
    return 0;
}

/* One round's packing: pieces into per-rank buffers until limit, this
 * rank's own taken at once. Sets *done when this rank has no pieces left;
 * a negative status on failure. */
static int pack_round(cbag_ctx *cx, const cbag *b, const cbag__pieces *io,
                      int everywhere, size_t limit, cbag__buf *to, int *done,
                      char *err, size_t errlen) {
    size_t total = 0;
    while (total < limit) {
        cbag__piece pc;
        int k = io->next(io->ud, &pc, err, errlen);
        if (k <= 0) {
            *done = k == 0;
            return k;
        }
        int lo = everywhere ? 0 : cbag__dist_home(cx, b, pc.out);
        int hi = everywhere ? cx->nranks - 1 : lo;
        for (int r = lo; r <= hi; r++) {
            if (r == cx->rank) continue; /* last: keep may take the bytes */
            if (put_piece(&to[r], &pc) || to[r].oom) {
                snprintf(err, errlen, "out of memory");
                return -CBAG_NOMEM;
            }
            total += pc.n;
        }
        if (lo <= cx->rank && cx->rank <= hi &&
            (k = take_own(io, &pc, err, errlen)) < 0)
            return k;
    }
    return 0;
}

int cbag__dist_shuffle(cbag_ctx *cx, const cbag *b, int everywhere,
                       const cbag__pieces *io) {
    int R = cx->nranks;
    size_t limit = round_limit(cx);
    cbag__buf *to = cbag__mpi_bufs(cx->mpi), *from = to + R;
    char err[512] = "out of memory";
    int done = 0, status = io ? 0 : -CBAG_NOMEM;
    for (;;) {
        for (int r = 0; r < R; r++)
            to[r].len = 0;
        if (!status && !done)
            status = pack_round(cx, b, io, everywhere, limit, to, &done, err,
                                sizeof err);
        for (int r = 0; status && r < R; r++) /* nothing sent after a failure */
            to[r].len = 0;
        if (cbag__mpi_exchange(cx->mpi, to, from)) {
            if (!status) status = -CBAG_NOMEM;
        } else {
            for (int r = 0; !status && r < R; r++)
                if (r != cx->rank)
                    status = take_all(io, &from[r], err, sizeof err);
        }
        /* go on while anyone has pieces, stop everyone on a failure */
        uint64_t flags[2] = {!done && !status, status != 0};
        cbag__mpi_max_u64(cx->mpi, flags, 2);
        if (flags[1] || !flags[0]) break;
    }
    for (int r = 0; r < 2 * R; r++) /* the memory goes back */
        cbag__buf_free(&to[r]);
    cbag__buf m = CBAG__BUF_INIT;
    if (status) cbag__buf_printf(&m, "%s: mpi shuffle: %s", b->name, err);
    int rc = cbag__dist_agree(cx, -status, (uint64_t)cx->rank, &m);
    if (rc) cbag__error(cx, rc, "%.*s", (int)m.len, m.p ? m.p : "");
    cbag__buf_free(&m);
    return rc;
}

#endif
