/* pool.h: a small fixed thread pool that runs one batch of tasks at a time.
 *
 * Like libuv's pool: a few threads, one queue. Here the queue is an array
 * of task numbers handed out with an atomic counter, because a stage of a
 * compute is a known list of partitions and nothing else is queued. */
#ifndef CBAG_POOL_H
#define CBAG_POOL_H

#include <stddef.h>

typedef struct cbag__pool cbag__pool;

/* The function run for each task: task is order[i]; worker in [0, n). */
typedef void (*cbag__task_fn)(void *arg, size_t task, int worker);

/* Starts nthreads threads (0 threads: every task runs on the caller).
 * NULL on failure. */
cbag__pool *cbag__pool_new(int nthreads);
/* Runs fn for every task in order[0..n) (order NULL: 0..n-1 ascending),
 * spreading them over the threads, and returns when all have run. While it
 * waits, the calling thread calls tick(tick_arg) every tick_ms (if tick is
 * not NULL), for progress reports. */
void cbag__pool_run(cbag__pool *p, size_t n, const size_t *order,
                    cbag__task_fn fn, void *arg, void (*tick)(void *),
                    void *tick_arg, int tick_ms);
int cbag__pool_threads(const cbag__pool *p);
void cbag__pool_free(cbag__pool *p);

#endif
