/* ctx.c: the context: options, the error message, the main call handle and
 * the workers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist.h"
#include "engine.h"
#include "mem.h"
#include "sched/pool.h"

static int default_workers(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n > 256 ? 256 : n) : 1;
}

cbag_ctx *cbag_open(const cbag_options *opt) {
    cbag_ctx *cx = cbag__calloc(1, sizeof *cx);
    if (!cx) return NULL;
    if (pthread_mutex_init(&cx->err_mu, NULL)) {
        cbag__free(cx);
        return NULL;
    }
    cbag__arena_init(&cx->graph, 16 * 1024);
    cbag__arena_init(&cx->main_arena, 64 * 1024);
    cbag__call_init(&cx->main, &cx->main_arena);
    if (opt) cx->opt = *opt;
    cx->opt.scheduler = NULL; /* not kept: the caller owns the string */
    cx->opt.temp_dir = NULL;
    const char *sched = opt && opt->scheduler ? opt->scheduler : "threads";
    cx->workers = opt && opt->workers > 0 ? opt->workers : default_workers();
    cx->nranks = 1;
    if (strcmp(sched, "sync") == 0) {
        cx->sync = 1;
        cx->workers = 1;
    } else if (strcmp(sched, "mpi") == 0) {
        cbag__dist_open(cx);
    } else if (strcmp(sched, "threads") != 0) {
        cbag__error(cx, CBAG_INVALID,
                    "cbag_open: unknown scheduler '%s' (use threads, sync or "
                    "mpi)",
                    sched);
    }
    if (opt && opt->workers < 0)
        cbag__error(cx, CBAG_INVALID, "cbag_open: workers must be >= 0, got %d",
                    opt->workers);
    cx->split_every = opt && opt->split_every > 0 ? opt->split_every : 8;
    if (opt && opt->split_every == 1)
        cbag__error(cx, CBAG_INVALID, "cbag_open: split_every must be >= 2");
    const char *tmp = opt && opt->temp_dir ? opt->temp_dir : getenv("TMPDIR");
    cx->temp_dir = cbag__strdup(tmp && *tmp ? tmp : "/tmp");
    if (!cx->temp_dir) {
        cbag_close(cx);
        return NULL;
    }
    return cx;
}

void cbag_close(cbag_ctx *cx) {
    if (!cx) return;
    if (cx->mpi) cbag__dist_close(cx);
    cbag__pool_free(cx->pool);
    for (int i = 0; i < cx->nw; i++) {
        cbag__arena_free(&cx->w[i].batch);
        cbag__buf_free(&cx->w[i].msg);
    }
    cbag__free(cx->w);
    cbag__arena_free(&cx->graph);
    cbag__arena_free(&cx->main_arena);
    cbag__buf_free(&cx->msg);
    cbag__buf_free(&cx->err_msg);
    cbag__free(cx->temp_dir);
    pthread_mutex_destroy(&cx->err_mu);
    cbag__free(cx);
}

int cbag_errcode(const cbag_ctx *cx) { return cx ? cx->code : CBAG_NOMEM; }

const char *cbag_errmsg(const cbag_ctx *cx) {
    if (!cx) return "out of memory";
    if (cx->code == CBAG_OK) return "";
    if (cx->msg.oom || !cx->msg.p) return "out of memory";
    return cx->msg.p;
}

void cbag_clear_error(cbag_ctx *cx) {
    if (!cx) return;
    atomic_store(&cx->interrupted, 0);
    cx->code = CBAG_OK;
    cx->msg.len = 0;
    cx->msg.oom = 0;
}

int cbag_workers(const cbag_ctx *cx) { return cx->workers; }
int cbag_rank(const cbag_ctx *cx) { return cx ? cx->rank : 0; }
int cbag_ranks(const cbag_ctx *cx) { return cx ? cx->nranks : 1; }

void cbag_interrupt(cbag_ctx *cx) {
    if (!cx) return;
    atomic_store(&cx->interrupted, 1);
    atomic_store(&cx->stop, 1);
}

cbag_call *cbag_main(cbag_ctx *cx) { return cx ? &cx->main : NULL; }

/* The first error is kept: later ones are usually its consequences. */
void cbag__error(cbag_ctx *cx, int code, const char *fmt, ...) {
    if (cx->code != CBAG_OK) return;
    cx->code = code ? code : CBAG_ERROR;
    cx->msg.len = 0;
    cx->msg.oom = 0;
    va_list ap;
    va_start(ap, fmt);
    cbag__buf_vprintf(&cx->msg, fmt, ap);
    va_end(ap);
    if (!cx->msg.oom && cbag__buf_putc(&cx->msg, '\0') == 0) cx->msg.len--;
}

void cbag__warn(cbag_ctx *cx, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cx->opt.on_warning)
        cx->opt.on_warning(msg, cx->opt.warning_ud);
    else
        fprintf(stderr, "cbag: warning: %s\n", msg);
}

void *cbag__galloc(cbag_ctx *cx, size_t n) {
    void *p = cbag__arena_alloc(&cx->graph, n);
    if (!p) cbag__error(cx, CBAG_NOMEM, "out of memory building the graph");
    else memset(p, 0, n);
    return p;
}

const char *cbag__gstrf(cbag_ctx *cx, const char *fmt, ...) {
    cbag__buf b = CBAG__BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cbag__buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *s = b.oom ? NULL : cbag__galloc(cx, b.len + 1);
    if (s) {
        memcpy(s, b.p, b.len);
        s[b.len] = '\0';
    } else if (b.oom) {
        cbag__error(cx, CBAG_NOMEM, "out of memory building the graph");
    }
    cbag__buf_free(&b);
    return s;
}

/* Workers and threads are made on the first compute, not at open, so a
 * context that only builds graphs costs nothing. */
int cbag__ensure_workers(cbag_ctx *cx) {
    if (cx->w) return CBAG_OK;
    int n = cx->sync ? 1 : cx->workers;
    cbag__worker *w = cbag__calloc((size_t)n, sizeof *w);
    if (!w) goto oom;
    for (int i = 0; i < n; i++) {
        w[i].cx = cx;
        w[i].index = i;
        cbag__arena_init(&w[i].batch, 256 * 1024);
        cbag__call_init(&w[i].call, &w[i].batch);
        w[i].call.engine = &w[i];
    }
    cx->pool = cbag__pool_new(cx->sync ? 0 : n);
    if (!cx->pool) {
        cbag__free(w);
        goto oom;
    }
    cx->w = w;
    cx->nw = n;
    return CBAG_OK;
oom:
    cbag__error(cx, CBAG_NOMEM, "out of memory starting %d workers", n);
    return CBAG_NOMEM;
}
