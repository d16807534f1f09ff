/* call.h: the call handle given to user callbacks.
 *
 * A call carries the arena that builders allocate in and the failure state
 * of the current callback. The engine gives each worker one handle and
 * points it at the arena of the batch in flight. The message buffer is
 * fixed so that reporting an allocation failure needs no allocation. */
#ifndef CBAG_CALL_H
#define CBAG_CALL_H

#include "arena.h"
#include "cbag.h"

#define CBAG__MSG_MAX 1024

/* cbag_set's keys are usually the same few C string literals, call after
 * call: their arena copies are remembered until the arena is reset. */
#define CBAG__KEY_CACHE 8
typedef struct cbag__key_cache {
    const char *ptr;  /* the caller's string */
    const char *copy; /* its copy in the arena, NUL-terminated */
    uint32_t len;
    uint64_t epoch; /* the arena's epoch when copied */
} cbag__key_cache;

struct cbag_call {
    cbag__arena *arena; /* where builders allocate */
    cbag__key_cache keys[CBAG__KEY_CACHE];
    int code;           /* CBAG_OK, or why the call failed */
    char msg[CBAG__MSG_MAX];
    void *engine; /* the worker running the call; NULL for cbag_main */
};

void cbag__call_init(cbag_call *c, cbag__arena *a);
/* Forgets a failure (before the next callback). */
static inline void cbag__call_clear(cbag_call *c) {
    c->code = CBAG_OK;
    c->msg[0] = '\0';
}
/* Records a failure unless one is recorded already (the first one wins). */
void cbag__call_fail(cbag_call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cbag__call_vfail(cbag_call *c, int code, const char *fmt, va_list ap);
/* Records an allocation failure; returns NULL for `return` convenience. */
void *cbag__call_oom(cbag_call *c);

#endif
