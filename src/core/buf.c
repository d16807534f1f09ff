/* buf.c: growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"

int cbag__buf_reserve(cbag__buf *b, size_t extra) {
    if (b->oom) return -1;
    if (b->cap - b->len > extra) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len <= extra) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = cbag__realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int cbag__buf_put(cbag__buf *b, const void *s, size_t n) {
    if (cbag__buf_reserve(b, n)) return -1;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

int cbag__buf_putc(cbag__buf *b, char c) {
    if (b->cap - b->len <= 1 && cbag__buf_reserve(b, 1)) return -1;
    b->p[b->len++] = c;
    return 0;
}

int cbag__buf_puts(cbag__buf *b, const char *s) {
    return cbag__buf_put(b, s, strlen(s));
}

int cbag__buf_vprintf(cbag__buf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || cbag__buf_reserve(b, (size_t)n + 1)) return -1;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int cbag__buf_printf(cbag__buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = cbag__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

char *cbag__buf_detach(cbag__buf *b, size_t *len) {
    if (cbag__buf_reserve(b, 1)) {
        cbag__buf_free(b);
        return NULL;
    }
    b->p[b->len] = '\0';
    char *p = b->p;
    if (len) *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void cbag__buf_free(cbag__buf *b) {
    cbag__free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
