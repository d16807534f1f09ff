/* pool.c: a bump allocator of malloc'd chunks for trees and scratch that
 * all die together (the program, or one callback invocation). */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

struct cbag__chunk {
    struct cbag__chunk *next;
    size_t used, cap;
    max_align_t data[];
};

void *cbag__palloc(cbag__pool *p, size_t n) {
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
        sizeof(max_align_t);
    if (n == 0) n = sizeof(max_align_t);
    struct cbag__chunk *c = p->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = p->head;
        p->head = c;
    }
    void *r = (char *)c->data + c->used;
    c->used += n;
    memset(r, 0, n);
    return r;
}

char *cbag__pstrndup(cbag__pool *p, const char *s, size_t n) {
    char *r = cbag__palloc(p, n + 1);
    if (!r) return NULL;
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

void cbag__pfree(cbag__pool *p) {
    struct cbag__chunk *c = p->head;
    while (c) {
        struct cbag__chunk *next = c->next;
        free(c);
        c = next;
    }
    p->head = NULL;
}
