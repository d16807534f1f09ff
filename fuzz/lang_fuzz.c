/* lang_fuzz.c: libFuzzer target for the cbag language (src/lang): the
 * input is a program, compiled, run and its last value shown as the cbag
 * command does, in the sandbox (cbag__progopt): no file is read or written,
 * every evaluation stops after 20000 loop iterations and calls, and no
 * single allocation may exceed 64 MB (an error, not a crash). Bags are
 * computed by the sync scheduler; a watchdog interrupts a compute that runs
 * for more than 2 seconds (db.range(10**12).sum() is not a bug). Any
 * program must end with a value or an error message: never a crash, a
 * sanitizer report or a leak. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cbag.h"
#include "lang/lang.h"
#include "mem.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static cbag_ctx *running; /* the context of the input in flight */
static struct timespec started;

static void *watchdog(void *arg) {
    (void)arg;
    for (;;) {
        usleep(100 * 1000);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_mutex_lock(&mu);
        if (running && now.tv_sec - started.tv_sec >= 2)
            cbag_interrupt(running);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void quiet(const char *msg, void *ud) { (void)msg, (void)ud; }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    cbag__mem_max_alloc((size_t)64 << 20);
    pthread_t t;
    if (pthread_create(&t, NULL, watchdog, NULL) != 0) abort();
    pthread_detach(t);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *null;
    if (!null && !(null = fopen("/dev/null", "w"))) abort();
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0'; /* the program is the text up to a NUL */

    cbag_options o = {0};
    o.scheduler = "sync";
    o.on_warning = quiet;
    cbag_ctx *cx = cbag_open(&o);
    if (!cx) abort();
    cbag__progopt po = {0};
    po.no_files = true;
    po.max_steps = 20000;
    cbag__prog *p = cbag__prog_new(cx, &po);
    if (!p) abort();
    pthread_mutex_lock(&mu);
    running = cx;
    clock_gettime(CLOCK_MONOTONIC, &started);
    pthread_mutex_unlock(&mu);

    cbag__src src = {"<fuzz>", text};
    cbag__lv last;
    if (cbag__prog_run(p, &src, &last, null) == RUN_OK)
        cbag__prog_show(p, &last, CBAG_FMT_REPR, null, null, 0);

    pthread_mutex_lock(&mu);
    running = NULL;
    pthread_mutex_unlock(&mu);
    cbag__prog_free(p);
    cbag_close(cx);
    free(text);
    return 0;
}
