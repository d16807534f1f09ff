/* mpi.c: the MPI transport (see mpi.h). Compiled only with CBAG_MPI. */
#ifdef CBAG_MPI

#include "mpi.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

struct cbag__mpi {
    MPI_Comm comm;
    int rank, size, local;
    uint64_t *counts; /* 2 x size */
    cbag__buf *bufs;  /* 2 x size */
    size_t most;      /* bytes one MPI call moves at most */
};

/* MPI_Finalize at exit when cbag initialised MPI: Open MPI counts a rank
 * that exits without it as a failure of the job. */
static void finalize_at_exit(void) {
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
}

cbag__mpi *cbag__mpi_open(char *err, size_t errlen) {
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (fin) {
        snprintf(err, errlen, "MPI was already finalised");
        return NULL;
    }
    if (!init) {
        int provided;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) !=
            MPI_SUCCESS) {
            snprintf(err, errlen, "MPI_Init_thread failed");
            return NULL;
        }
        atexit(finalize_at_exit);
    }
    cbag__mpi *m = cbag__calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    MPI_Comm_dup(MPI_COMM_WORLD, &m->comm);
    MPI_Comm_rank(m->comm, &m->rank);
    MPI_Comm_size(m->comm, &m->size);
    MPI_Comm local;
    MPI_Comm_split_type(m->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL,
                        &local);
    MPI_Comm_size(local, &m->local);
    MPI_Comm_free(&local);
    /* MPI counts are int. CBAG_MPI_SLICE (bytes) makes the slices small,
     * so that the tests go through the paths of transfers over 2 GiB. */
    m->most = INT_MAX;
    const char *slice = getenv("CBAG_MPI_SLICE");
    if (slice && atol(slice) >= 64 && atol(slice) < INT_MAX)
        m->most = (size_t)atol(slice);
    m->counts = cbag__calloc(2 * (size_t)m->size, sizeof *m->counts);
    m->bufs = cbag__calloc(2 * (size_t)m->size, sizeof *m->bufs);
    if (!m->counts || !m->bufs) {
        snprintf(err, errlen, "out of memory");
        cbag__mpi_close(m);
        return NULL;
    }
    return m;
}

void cbag__mpi_close(cbag__mpi *m) {
    if (!m) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Comm_free(&m->comm);
    cbag__free(m->counts);
    cbag__free(m->bufs);
    cbag__free(m);
}

int cbag__mpi_rank(const cbag__mpi *m) { return m->rank; }
int cbag__mpi_size(const cbag__mpi *m) { return m->size; }
int cbag__mpi_local_size(const cbag__mpi *m) { return m->local; }
uint64_t *cbag__mpi_counts(cbag__mpi *m, int which) {
    return m->counts + (which ? m->size : 0);
}
cbag__buf *cbag__mpi_bufs(cbag__mpi *m) { return m->bufs; }

/* Whether every rank is ok: the others learn of a local failure. */
static int all_ok(cbag__mpi *m, int ok) {
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, m->comm);
    return all;
}

static int reduce_u64(cbag__mpi *m, uint64_t *v, size_t n, MPI_Op op) {
    for (size_t done = 0; done < n;) { /* in int-sized slices */
        int k = n - done > INT_MAX ? INT_MAX : (int)(n - done);
        MPI_Allreduce(MPI_IN_PLACE, v + done, k, MPI_UINT64_T, op, m->comm);
        done += (size_t)k;
    }
    return 0;
}

int cbag__mpi_min_u64(cbag__mpi *m, uint64_t *v, size_t n) {
    return reduce_u64(m, v, n, MPI_MIN);
}
int cbag__mpi_max_u64(cbag__mpi *m, uint64_t *v, size_t n) {
    return reduce_u64(m, v, n, MPI_MAX);
}
int cbag__mpi_sum_u64(cbag__mpi *m, uint64_t *v, size_t n) {
    return reduce_u64(m, v, n, MPI_SUM);
}

/* The most bytes one rank moves per round when a transfer does not fit
 * MPI's int counts and displacements at once. */
static size_t slice_of(const cbag__mpi *m) {
    size_t s = (m->most / (size_t)m->size) & ~(size_t)7;
    return s ? s : 8;
}

int cbag__mpi_gather(cbag__mpi *m, const void *send, size_t n, int root,
                     cbag__buf *recv, uint64_t *counts) {
    uint64_t mine = n;
    MPI_Allgather(&mine, 1, MPI_UINT64_T, counts, 1, MPI_UINT64_T, m->comm);
    int receive = root < 0 || root == m->rank;
    uint64_t total = 0;
    for (int r = 0; r < m->size; r++)
        total += counts[r];
    recv->len = 0;
    int ok = !receive || total > SIZE_MAX - 1 ||
             cbag__buf_reserve(recv, (size_t)total + 1) == 0;
    if (!all_ok(m, ok)) return -1;
    int *cnt = cbag__malloc((size_t)m->size * 2 * sizeof *cnt);
    char *tmp = NULL;
    size_t S = slice_of(m);
    int direct = total <= (uint64_t)m->most;
    if (cnt && !direct && receive) tmp = cbag__malloc(S * (size_t)m->size);
    if (!all_ok(m, cnt && (direct || !receive || tmp))) {
        cbag__free(cnt);
        cbag__free(tmp);
        return -1;
    }
    int *displ = cnt + m->size;
    uint64_t most = 0;
    for (int r = 0; r < m->size; r++)
        if (counts[r] > most) most = counts[r];
    size_t rounds = direct ? 1 : (size_t)((most + S - 1) / S);
    for (size_t k = 0; k < rounds; k++) {
        /* rank r's bytes [k * S, ...) of this round */
        size_t at = 0;
        for (int r = 0; r < m->size; r++) {
            uint64_t from = direct ? 0 : k * S;
            uint64_t c = counts[r] > from ? counts[r] - from : 0;
            if (!direct && c > S) c = S;
            cnt[r] = (int)c;
            displ[r] = (int)at;
            at += c;
        }
        const char *s = (const char *)send + (direct ? 0 : k * S);
        char *dst = direct ? recv->p : tmp;
        if (root < 0)
            MPI_Allgatherv(s, cnt[m->rank], MPI_BYTE, dst, cnt, displ, MPI_BYTE,
                           m->comm);
        else
            MPI_Gatherv(s, cnt[m->rank], MPI_BYTE, dst, cnt, displ, MPI_BYTE,
                        root, m->comm);
        if (!direct && receive) { /* to each rank's place in recv */
            uint64_t base = 0;
            for (int r = 0; r < m->size; r++) {
                if (cnt[r])
                    memcpy(recv->p + base + k * S, tmp + displ[r],
                           (size_t)cnt[r]);
                base += counts[r];
            }
        }
    }
    cbag__free(cnt);
    cbag__free(tmp);
    if (receive) {
        recv->len = (size_t)total;
    } else {
        for (int r = 0; r < m->size; r++)
            counts[r] = 0;
    }
    return 0;
}

int cbag__mpi_exchange(cbag__mpi *m, const cbag__buf *to, cbag__buf *from) {
    uint64_t *sc = m->counts, *rc = m->counts + m->size;
    for (int r = 0; r < m->size; r++)
        sc[r] = r == m->rank ? 0 : to[r].len;
    MPI_Alltoall(sc, 1, MPI_UINT64_T, rc, 1, MPI_UINT64_T, m->comm);
    /* messages of at most S bytes: MPI counts are int */
    const uint64_t S = m->most < ((size_t)1 << 30) ? m->most : (size_t)1 << 30;
    size_t nreq = 0;
    int ok = 1;
    for (int r = 0; r < m->size; r++) {
        if (r == m->rank) continue;
        nreq += (size_t)((sc[r] + S - 1) / S + (rc[r] + S - 1) / S);
        from[r].len = 0;
        if (rc[r] >= SIZE_MAX || cbag__buf_reserve(&from[r], (size_t)rc[r] + 1))
            ok = 0;
    }
    MPI_Request *req = cbag__malloc((nreq ? nreq : 1) * sizeof *req);
    if (!all_ok(m, ok && req)) {
        cbag__free(req);
        return -1;
    }
    size_t k = 0;
    for (int r = 0; r < m->size; r++) {
        if (r == m->rank) continue;
        for (uint64_t off = 0, t = 0; off < rc[r]; off += S, t++)
            MPI_Irecv(from[r].p + off, (int)(rc[r] - off < S ? rc[r] - off : S),
                      MPI_BYTE, r, (int)t, m->comm, &req[k++]);
        for (uint64_t off = 0, t = 0; off < sc[r]; off += S, t++)
            MPI_Isend(to[r].p + off, (int)(sc[r] - off < S ? sc[r] - off : S),
                      MPI_BYTE, r, (int)t, m->comm, &req[k++]);
    }
    MPI_Waitall((int)k, req, MPI_STATUSES_IGNORE);
    cbag__free(req);
    for (int r = 0; r < m->size; r++)
        if (r != m->rank) from[r].len = (size_t)rc[r];
    return 0;
}

int cbag__mpi_bcast(cbag__mpi *m, cbag__buf *b, int root) {
    uint64_t n = b->len;
    MPI_Bcast(&n, 1, MPI_UINT64_T, root, m->comm);
    int ok = 1;
    if (m->rank != root) {
        b->len = 0;
        ok = n < SIZE_MAX && cbag__buf_reserve(b, (size_t)n + 1) == 0;
    }
    if (!all_ok(m, ok)) return -1;
    for (uint64_t done = 0; done < n;) {
        int k = n - done > m->most ? (int)m->most : (int)(n - done);
        MPI_Bcast(b->p + done, k, MPI_BYTE, root, m->comm);
        done += (uint64_t)k;
    }
    b->len = (size_t)n;
    return 0;
}

#endif
