/* pool.c: fixed thread pool (see pool.h). */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "mem.h"

struct cbag__pool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a new batch, or shutdown */
    pthread_cond_t done; /* a thread finished its share of the batch */
    pthread_t *threads;
    int nthreads;
    int started; /* threads actually created */
    /* The current batch. */
    unsigned long generation;
    int shutdown;
    size_t n;
    const size_t *order;
    cbag__task_fn fn;
    void *arg;
    atomic_size_t next;
    int busy; /* threads still working on the batch */
};

typedef struct {
    cbag__pool *p;
    int index;
} thread_arg;

static void drain(cbag__pool *p, int worker) {
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) break;
        p->fn(p->arg, p->order ? p->order[i] : i, worker);
    }
}

static void *thread_main(void *arg) {
    cbag__pool *p = ((thread_arg *)arg)->p;
    int index = ((thread_arg *)arg)->index;
    cbag__free(arg);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->shutdown && p->generation == seen)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->shutdown) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p, index);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

cbag__pool *cbag__pool_new(int nthreads) {
    cbag__pool *p = cbag__calloc(1, sizeof *p);
    if (!p) return NULL;
    if (pthread_mutex_init(&p->mu, NULL)) goto fail_mu;
    if (pthread_cond_init(&p->work, NULL)) goto fail_work;
    if (pthread_cond_init(&p->done, NULL)) goto fail_done;
    atomic_init(&p->next, 0);
    p->nthreads = nthreads > 0 ? nthreads : 0;
    if (p->nthreads) {
        p->threads = cbag__calloc((size_t)p->nthreads, sizeof *p->threads);
        if (!p->threads) goto fail;
    }
    for (int i = 0; i < p->nthreads; i++) {
        thread_arg *ta = cbag__malloc(sizeof *ta);
        if (!ta) goto fail;
        ta->p = p;
        ta->index = i;
        if (pthread_create(&p->threads[i], NULL, thread_main, ta)) {
            cbag__free(ta);
            goto fail;
        }
        p->started++;
    }
    return p;
fail:
    cbag__pool_free(p);
    return NULL;
fail_done:
    pthread_cond_destroy(&p->work);
fail_work:
    pthread_mutex_destroy(&p->mu);
fail_mu:
    cbag__free(p);
    return NULL;
}

int cbag__pool_threads(const cbag__pool *p) {
    return p->nthreads ? p->nthreads : 1;
}

void cbag__pool_run(cbag__pool *p, size_t n, const size_t *order,
                    cbag__task_fn fn, void *arg, void (*tick)(void *),
                    void *tick_arg, int tick_ms) {
    if (n == 0) return;
    if (p->nthreads == 0) { /* sync: ticks between tasks */
        struct timespec last;
        clock_gettime(CLOCK_MONOTONIC, &last);
        for (size_t i = 0; i < n; i++) {
            fn(arg, order ? order[i] : i, 0);
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (tick && (t.tv_sec - last.tv_sec) * 1000 +
                                (t.tv_nsec - last.tv_nsec) / 1000000 >=
                            tick_ms) {
                tick(tick_arg);
                last = t;
            }
        }
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->n = n;
    p->order = order;
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->next, 0);
    p->busy = p->nthreads;
    p->generation++;
    pthread_cond_broadcast(&p->work);
    while (p->busy > 0) {
        if (!tick) {
            pthread_cond_wait(&p->done, &p->mu);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + (long)tick_ms * 1000000L;
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        if (pthread_cond_timedwait(&p->done, &p->mu, &until) == ETIMEDOUT &&
            p->busy > 0) {
            pthread_mutex_unlock(&p->mu); /* the callback may take time */
            tick(tick_arg);
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
}

void cbag__pool_free(cbag__pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++) pthread_join(p->threads[i], NULL);
    cbag__free(p->threads);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    cbag__free(p);
}
