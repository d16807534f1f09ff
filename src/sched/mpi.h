/* mpi.h: the MPI transport of the "mpi" scheduler (built with CBAG_MPI).
 *
 * A thin layer over Open MPI: a communicator of its own per context (a
 * duplicate of MPI_COMM_WORLD, so cbag's messages never meet the user's)
 * and collectives on byte buffers of any size (MPI counts are int: big
 * transfers go in slices). Every function here is collective: every rank
 * calls it, in the same order, from the thread that opened the transport
 * (MPI_THREAD_FUNNELED: the pool's threads never call MPI). A rank that
 * runs out of memory does not leave the others waiting: the functions
 * agree on failure, so all ranks return -1 together. */
#ifndef CBAG_SCHED_MPI_H
#define CBAG_SCHED_MPI_H

#ifdef CBAG_MPI

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct cbag__mpi cbag__mpi;

/* Initialises MPI if the program has not (finalised at exit), and makes a
 * communicator over every rank. NULL on failure, with the reason in err.
 * Free with cbag__mpi_close. */
cbag__mpi *cbag__mpi_open(char *err, size_t errlen);
void cbag__mpi_close(cbag__mpi *m);
int cbag__mpi_rank(const cbag__mpi *m);
int cbag__mpi_size(const cbag__mpi *m);
/* Ranks on this machine (shared memory), to share its cores. */
int cbag__mpi_local_size(const cbag__mpi *m);
/* Two arrays of size counts (which 0 or 1), made at open, for the callers
 * of gather and alltoall: no allocation that could fail on one rank only
 * before a collective. Valid until close. */
uint64_t *cbag__mpi_counts(cbag__mpi *m, int which);
/* 2 x size empty buffers made at open, for the callers of exchange (the
 * caller frees what it puts in them). Valid until close. */
cbag__buf *cbag__mpi_bufs(cbag__mpi *m);

/* Element-wise minimum, maximum or sum of v[0..n) over the ranks, in
 * place. 0, or -1 when memory is exhausted somewhere. */
int cbag__mpi_min_u64(cbag__mpi *m, uint64_t *v, size_t n);
int cbag__mpi_max_u64(cbag__mpi *m, uint64_t *v, size_t n);
int cbag__mpi_sum_u64(cbag__mpi *m, uint64_t *v, size_t n);

/* Every rank's n bytes, concatenated in rank order into recv (replacing
 * its contents); counts[r] (size entries, caller's) gets rank r's length.
 * With root >= 0 only that rank receives (a gather): the others' recv and
 * counts are left empty. 0, or -1 when memory is exhausted on any rank. */
int cbag__mpi_gather(cbag__mpi *m, const void *send, size_t n, int root,
                     cbag__buf *recv, uint64_t *counts);
/* to[r] to rank r, for every other rank r, with point-to-point messages
 * (the counts first, with MPI_Alltoall): from[r] gets what rank r sent
 * (replacing its contents); to[self] and from[self] are left alone. 0, or
 * -1 when memory is exhausted on any rank. */
int cbag__mpi_exchange(cbag__mpi *m, const cbag__buf *to, cbag__buf *from);
/* root's b to every rank (replacing b's contents elsewhere). 0 or -1. */
int cbag__mpi_bcast(cbag__mpi *m, cbag__buf *b, int root);

#endif
#endif
