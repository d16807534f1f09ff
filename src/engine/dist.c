/* dist.c: the mpi scheduler's side of the engine: joining the ranks,
 * placing partitions, agreeing on outcomes, moving results (dist.h). */
#ifdef CBAG_MPI

#include "dist.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "keyed.h"
#include "mem.h"
#include "sched/mpi.h"

int cbag__dist_open(cbag_ctx *cx) {
    char err[256];
    cx->mpi = cbag__mpi_open(err, sizeof err);
    if (!cx->mpi) {
        cbag__error(cx, CBAG_INVALID, "cbag_open: mpi: %s", err);
        return CBAG_INVALID;
    }
    cx->rank = cbag__mpi_rank(cx->mpi);
    cx->nranks = cbag__mpi_size(cx->mpi);
    /* The machine's cores and memory are shared by its ranks. */
    int local = cbag__mpi_local_size(cx->mpi);
    if (cx->opt.workers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        long w = (cores > 0 ? cores : 1) / local;
        cx->workers = w < 1 ? 1 : w > 256 ? 256 : (int)w;
    }
    if (cx->opt.memory_limit == 0)
        cx->opt.memory_limit = cbag__memory_budget(cx) / (size_t)local;
    return CBAG_OK;
}

void cbag__dist_close(cbag_ctx *cx) {
    cbag__mpi_close(cx->mpi);
    cx->mpi = NULL;
    cbag__free(cx->dist_marks);
    cx->dist_marks = NULL;
}

/* ------------------------------------------------------------------------ */
/* The plan of a compute                                                    */

enum { M_SINGLE = 1, M_MULTI = 2, M_SEEN = 4 };

static int is_shuffle(const cbag *b) {
    return b->kind == K_GROUPBY || (b->kind == K_OPS && b->ops->shuffle);
}

/* multi: the partition of b being read is read together with partitions
 * of other bags (or other partitions of b) in one task. A shuffle read so
 * is copied to every rank. */
static void mark(cbag_ctx *cx, const cbag *b, int multi) {
    unsigned char bit = multi ? M_MULTI : M_SINGLE;
    if (cx->dist_marks[b->id] & bit) return;
    cx->dist_marks[b->id] |= bit;
    /* Inputs read by stages of their own start afresh. */
    int own = is_shuffle(b) || b->kind == K_FOLDBY ||
              (b->kind == K_OPS && !b->ops->run);
    if (own) {
        if (b->in) mark(cx, b->in, 0);
        for (size_t i = 0; i < b->nins; i++)
            mark(cx, b->ins[i], 0);
    } else if (b->kind == K_OPS) {
        if (b->in) mark(cx, b->in, b->ops->same_parts ? multi : 1);
        for (size_t i = 0; i < b->nins; i++) /* join's other side: own */
            mark(cx, b->ins[i], b->ops->prepare ? 0 : 1);
    } else if (b->kind == K_ZIP || b->kind == K_CONCAT) {
        for (size_t i = 0; i < b->nins; i++)
            mark(cx, b->ins[i], b->kind == K_ZIP ? 1 : multi);
    } else if (b->in) {
        mark(cx, b->in, multi);
    }
}

static uint64_t mix(uint64_t h, uint64_t x) {
    h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xBF58476D1CE4E5B9ull;
}

/* A digest of the graph under b: the same on every rank that built the
 * same graph from the same inputs (partition sizes included, since they
 * decide the placement). */
static uint64_t digest(cbag_ctx *cx, const cbag *b, uint64_t h) {
    if (cx->dist_marks[b->id] & M_SEEN) return h;
    cx->dist_marks[b->id] |= M_SEEN;
    h = mix(h, (uint64_t)b->id);
    h = mix(h, (uint64_t)b->kind);
    h = mix(h, (uint64_t)b->nparts);
    h = mix(h, (uint64_t)b->range_n);
    if (b->kind == K_SEQ || b->kind == K_TEXT)
        for (size_t i = 0; i < b->nparts; i++)
            h = mix(h, cbag__part_size(b, i));
    if (b->in) h = digest(cx, b->in, h);
    for (size_t i = 0; i < b->nins; i++)
        h = digest(cx, b->ins[i], h);
    return h;
}

int cbag__dist_plan(cbag_ctx *cx, const cbag *target) {
    size_t n = (size_t)cx->next_id;
    if (n > cx->ndist_marks) {
        unsigned char *m = cbag__realloc(cx->dist_marks, n);
        if (m) {
            cx->dist_marks = m;
            cx->ndist_marks = n;
        }
    }
    int ok = cx->ndist_marks >= n;
    uint64_t d[2] = {0, 0};
    if (ok) {
        memset(cx->dist_marks, 0, n);
        mark(cx, target, 0);
        uint64_t h = digest(cx, target, (uint64_t)cx->nranks);
        d[0] = h;
        d[1] = ~h;
    }
    if (!ok) d[0] = d[1] = 0; /* sorts before any digest: fails everyone */
    cbag__mpi_min_u64(cx->mpi, d, 2);
    int rc = CBAG_OK;
    if (!ok) {
        rc = CBAG_NOMEM;
        cbag__error(cx, rc, "mpi: out of memory planning the compute");
    } else if (d[0] == 0 && d[1] == 0) {
        rc = CBAG_NOMEM;
        cbag__error(cx, rc,
                    "mpi: a rank ran out of memory planning the "
                    "compute");
    } else if (d[0] != ~d[1]) {
        rc = CBAG_INVALID;
        cbag__error(cx, rc,
                    "mpi: the ranks built different graphs (every rank must "
                    "run the same program on the same inputs: are the files "
                    "on storage every rank sees?)");
    }
    return rc;
}

int cbag__dist_everywhere(const cbag_ctx *cx, const cbag *b) {
    return (size_t)b->id < cx->ndist_marks && (cx->dist_marks[b->id] & M_MULTI);
}

/* ------------------------------------------------------------------------ */
/* Placement                                                                */

/* The rank that holds what partition part of b reads from a shuffle, or
 * -1 when it may run anywhere. */
static int home_of(const cbag_ctx *cx, const cbag *b, size_t part) {
    for (;;) {
        if (is_shuffle(b))
            return cbag__dist_everywhere(cx, b) ? -1
                                                : cbag__dist_home(cx, b, part);
        if (cbag__same_parts(b)) {
            b = b->in;
        } else if (b->kind == K_CONCAT) {
            size_t j = 0;
            while (part >= b->ins[j]->nparts)
                part -= b->ins[j++]->nparts;
            b = b->ins[j];
        } else {
            return -1;
        }
    }
}

int cbag__dist_owners(cbag_ctx *cx, const cbag *b, size_t first, size_t n,
                      int *owner) {
    int R = cx->nranks;
    uint64_t *load = cbag__calloc((size_t)R, sizeof *load);
    cbag__sized *s = cbag__malloc((n ? n : 1) * sizeof *s);
    if (!load || !s) {
        cbag__free(load);
        cbag__free(s);
        return -1;
    }
    size_t nfree = 0;
    for (size_t i = 0; i < n; i++) {
        /* +1: empty partitions still spread over the ranks */
        uint64_t size = (b ? cbag__part_size(b, first + i) : 0) + 1;
        owner[i] = b ? home_of(cx, b, first + i) : -1;
        if (owner[i] >= 0)
            load[owner[i]] += size;
        else
            s[nfree++] = (cbag__sized){size, i};
    }
    /* The rest: largest first, each to the least loaded rank. */
    qsort(s, nfree, sizeof *s, cbag__by_size_desc);
    for (size_t k = 0; k < nfree; k++) {
        int best = 0;
        for (int r = 1; r < R; r++)
            if (load[r] < load[best]) best = r;
        owner[s[k].part] = best;
        load[best] += s[k].size;
    }
    cbag__free(load);
    cbag__free(s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Agreeing                                                                 */

int cbag__dist_agree(cbag_ctx *cx, int code, uint64_t key, cbag__buf *msg) {
    if (code && key == UINT64_MAX) key--;
    uint64_t v = code ? key : UINT64_MAX;
    cbag__mpi_min_u64(cx->mpi, &v, 1);
    if (v == UINT64_MAX) return CBAG_OK;
    /* The lowest rank holding the winning key tells the others. */
    uint64_t who = code && key == v ? (uint64_t)cx->rank : UINT64_MAX;
    cbag__mpi_min_u64(cx->mpi, &who, 1);
    cbag__buf b = CBAG__BUF_INIT;
    if ((uint64_t)cx->rank == who) {
        unsigned char c[4] = {(unsigned char)code, (unsigned char)(code >> 8),
                              (unsigned char)(code >> 16),
                              (unsigned char)(code >> 24)};
        cbag__buf_put(&b, c, 4);
        if (msg->oom || !msg->p)
            cbag__buf_puts(&b, "out of memory");
        else
            cbag__buf_put(&b, msg->p, msg->len);
        if (b.oom) { /* sends what fits: the code at least */
            b.oom = 0;
            if (b.len < 4) b.len = 0;
        }
    }
    int rc = CBAG_NOMEM;
    msg->len = 0;
    msg->oom = 0;
    if (cbag__mpi_bcast(cx->mpi, &b, (int)who) == 0 && b.len >= 4) {
        const unsigned char *c = (const unsigned char *)b.p;
        rc = (int)(c[0] | c[1] << 8 | c[2] << 16 | (unsigned)c[3] << 24);
        cbag__buf_put(msg, b.p + 4, b.len - 4);
    } else {
        cbag__buf_puts(msg, "out of memory agreeing on an error");
    }
    cbag__buf_free(&b);
    return rc ? rc : CBAG_ERROR;
}

int cbag__dist_agree_cx(cbag_ctx *cx, int code) {
    cbag__buf m = CBAG__BUF_INIT;
    if (code) cbag__buf_puts(&m, cbag_errmsg(cx));
    int rc = cbag__dist_agree(cx, code, (uint64_t)cx->rank, &m);
    if (rc) {
        cx->code = CBAG_OK; /* the agreed error replaces this rank's own */
        cbag__error(cx, rc, "%.*s", (int)m.len, m.p ? m.p : "");
    }
    cbag__buf_free(&m);
    return rc;
}

int cbag__dist_bcast_int(cbag_ctx *cx, int *v, int root) {
    uint64_t x = cx->rank == root ? (uint64_t)(uint32_t)*v : 0;
    /* a sum over ranks where only root adds: a broadcast */
    cbag__mpi_sum_u64(cx->mpi, &x, 1);
    *v = (int)(uint32_t)x;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Moving stage results                                                     */

/* This rank's results: records of (partition, length, what pack made). */
static int pack_all(cbag_ctx *cx, const cbag__xchg *x, const int *owner,
                    size_t first, size_t n, cbag__buf *out) {
    for (size_t i = 0; i < n; i++) {
        if (owner[i] != cx->rank) continue;
        size_t at = out->len;
        unsigned char h[16] = {0};
        if (cbag__buf_put(out, h, 16) || x->pack(out, first + i, x->arg) ||
            out->oom)
            return -1;
        cbag__le64_put((unsigned char *)out->p + at, first + i);
        cbag__le64_put((unsigned char *)out->p + at + 8, out->len - at - 16);
    }
    return 0;
}

/* The records of rank r in p[0..len): every one must be a partition that
 * rank ran. */
static int unpack_all(cbag_ctx *cx, const cbag__xchg *x, const int *owner,
                      size_t first, size_t n, int r, const unsigned char *p,
                      size_t len, char *err, size_t errlen) {
    while (len) {
        uint64_t part, k;
        if (len < 16 || (part = cbag__le64_get(p)) < first ||
            part - first >= n || owner[part - first] != r ||
            (k = cbag__le64_get(p + 8)) > len - 16) {
            snprintf(err, errlen, "malformed results from rank %d", r);
            return CBAG_PARSE;
        }
        if (x->unpack(p + 16, (size_t)k, (size_t)part, x->arg, err, errlen))
            return strstr(err, "out of memory") ? CBAG_NOMEM : CBAG_PARSE;
        p += 16 + k;
        len -= 16 + (size_t)k;
    }
    return CBAG_OK;
}

int cbag__dist_exchange(cbag_ctx *cx, const cbag__xchg *x, const int *owner,
                        size_t first, size_t n) {
    if (!x || (x->mode != CBAG__X_ALL && x->mode != CBAG__X_ROOT))
        return CBAG_OK;
    int root = x->mode == CBAG__X_ALL || cx->opt.results_everywhere ? -1 : 0;
    cbag__buf send = CBAG__BUF_INIT, recv = CBAG__BUF_INIT;
    uint64_t *counts = cbag__mpi_counts(cx->mpi, 0);
    char err[512] = "out of memory";
    int code = CBAG_OK;
    if (pack_all(cx, x, owner, first, n, &send)) {
        code = CBAG_NOMEM;
        send.len = 0; /* still takes part, empty-handed */
    }
    if (cbag__mpi_gather(cx->mpi, send.p, send.len, root, &recv, counts) &&
        !code)
        code = CBAG_NOMEM;
    const unsigned char *p = (const unsigned char *)recv.p;
    for (int r = 0; !code && r < cx->nranks; r++) {
        if (r != cx->rank)
            code = unpack_all(cx, x, owner, first, n, r, p, (size_t)counts[r],
                              err, sizeof err);
        p += counts[r];
    }
    cbag__buf_free(&send);
    cbag__buf_free(&recv);
    cbag__buf m = CBAG__BUF_INIT;
    if (code) cbag__buf_printf(&m, "mpi: exchanging results: %s", err);
    code = cbag__dist_agree(cx, code, (uint64_t)cx->rank, &m);
    if (code) cbag__error(cx, code, "%.*s", (int)m.len, m.p ? m.p : "");
    cbag__buf_free(&m);
    return code;
}

#endif
