/* call.c: failure reporting from callbacks (see call.h). */
#include "call.h"

#include <stdio.h>
#include <string.h>

void cbag__call_init(cbag_call *c, cbag__arena *a) {
    c->arena = a;
    memset(c->keys, 0, sizeof c->keys);
    c->code = CBAG_OK;
    c->msg[0] = '\0';
    c->engine = NULL;
}

void cbag__call_vfail(cbag_call *c, int code, const char *fmt, va_list ap) {
    if (c->code != CBAG_OK) return;
    c->code = code ? code : CBAG_ERROR;
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
}

void cbag__call_fail(cbag_call *c, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cbag__call_vfail(c, code, fmt, ap);
    va_end(ap);
}

void *cbag__call_oom(cbag_call *c) {
    cbag__call_fail(c, CBAG_NOMEM, "out of memory");
    return NULL;
}

const cbag_val *cbag_fail(cbag_call *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cbag__call_vfail(c, CBAG_USER, fmt, ap);
    va_end(ap);
    return NULL;
}

const cbag_val *cbag_failc(cbag_call *c, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cbag__call_vfail(c, code, fmt, ap);
    va_end(ap);
    return NULL;
}

bool cbag_failed(const cbag_call *c) { return c->code != CBAG_OK; }

const char *cbag_call_errmsg(const cbag_call *c) {
    return c && c->code != CBAG_OK ? c->msg : "";
}

void cbag_call_clear(cbag_call *c) {
    if (c) cbag__call_clear(c);
}
