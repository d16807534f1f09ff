/* buf.h: a growable byte buffer (malloc'd), for output and messages. */
#ifndef CBAG_BUF_H
#define CBAG_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct cbag__buf {
    char *p;
    size_t len, cap;
    int oom; /* an append failed; the contents are incomplete */
} cbag__buf;

#define CBAG__BUF_INIT {NULL, 0, 0, 0}

int cbag__buf_reserve(cbag__buf *b, size_t extra);
int cbag__buf_put(cbag__buf *b, const void *s, size_t n);
int cbag__buf_putc(cbag__buf *b, char c);
int cbag__buf_puts(cbag__buf *b, const char *s);
int cbag__buf_printf(cbag__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cbag__buf_vprintf(cbag__buf *b, const char *fmt, va_list ap);
/* NUL-terminates and hands the memory over (caller frees); NULL on oom. */
char *cbag__buf_detach(cbag__buf *b, size_t *len);
void cbag__buf_free(cbag__buf *b);

#endif
