/* codec.c: the binary encoding of values (see codec.h). */
#include "codec.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "utf8.h"

enum {
    T_NONE,
    T_FALSE,
    T_TRUE,
    T_INT,
    T_FLOAT,
    T_STR,
    T_LIST,
    T_TUPLE,
    T_DICT
};

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

size_t cbag__varint_put(unsigned char *o, uint64_t x) {
    size_t n = 0;
    while (x >= 0x80) {
        o[n++] = (unsigned char)(x | 0x80);
        x >>= 7;
    }
    o[n++] = (unsigned char)x;
    return n;
}

void cbag__le64_put(unsigned char *o, uint64_t x) {
    for (int i = 0; i < 8; i++)
        o[i] = (unsigned char)(x >> (8 * i));
}

uint64_t cbag__le64_get(const unsigned char *p) {
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)p[i] << (8 * i);
    return x;
}

/* A tag and a varint in one append. */
static int put_tag(cbag__buf *b, int tag, uint64_t n) {
    unsigned char t[11];
    t[0] = (unsigned char)tag;
    return cbag__buf_put(b, t, 1 + cbag__varint_put(t + 1, n));
}

/* level: containers enclosing v. */
static int put_val(cbag__buf *b, const cbag_val *v, int level) {
    switch (v->type) {
    case CBAG_NULL: return cbag__buf_putc(b, T_NONE);
    case CBAG_BOOL: return cbag__buf_putc(b, v->u.i ? T_TRUE : T_FALSE);
    case CBAG_INT: {
        uint64_t u = (uint64_t)v->u.i;
        return put_tag(b, T_INT, (u << 1) ^ (v->u.i < 0 ? ~(uint64_t)0 : 0));
    }
    case CBAG_FLOAT: {
        unsigned char t[9];
        uint64_t u;
        memcpy(&u, &v->u.f, 8);
        t[0] = T_FLOAT;
        cbag__le64_put(t + 1, u);
        return cbag__buf_put(b, t, 9);
    }
    case CBAG_STR:
        return put_tag(b, T_STR, v->len) || cbag__buf_put(b, v->u.s, v->len);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        if (level >= CBAG__CODEC_DEPTH) return -1;
        const cbag__seq *s = v->u.seq;
        if (put_tag(b, v->type == CBAG_LIST ? T_LIST : T_TUPLE, s->len))
            return -1;
        for (uint32_t i = 0; i < s->len; i++)
            if (put_val(b, &s->items[i], level + 1)) return -1;
        return 0;
    }
    case CBAG_DICT: {
        if (level >= CBAG__CODEC_DEPTH) return -1;
        const cbag__dict *d = v->u.dict;
        if (put_tag(b, T_DICT, d->len)) return -1;
        for (uint32_t i = 0; i < d->len; i++)
            if (put_val(b, &d->entries[i].key, level + 1) ||
                put_val(b, &d->entries[i].val, level + 1))
                return -1;
        return 0;
    }
    }
    return -1;
}

int cbag__codec_begin(cbag__codec_writer *w, cbag__buf *b) {
    static const unsigned char h[CBAG__CODEC_HEADER] = {'C', 'B',
                                                        CBAG__CODEC_VERSION};
    w->b = b;
    w->start = b->len;
    w->count = 0;
    return cbag__buf_put(b, h, sizeof h);
}

int cbag__codec_put(cbag__codec_writer *w, const cbag_val *v) {
    if (put_val(w->b, v, 0) || w->b->oom) return -1;
    w->count++;
    return 0;
}

void cbag__codec_end(cbag__codec_writer *w) {
    unsigned char *h = (unsigned char *)w->b->p + w->start;
    cbag__le64_put(h + 3, w->count);
    cbag__le64_put(h + 11, w->b->len - w->start - CBAG__CODEC_HEADER);
}

int cbag__codec_encode(cbag__buf *b, const cbag_val *v) {
    cbag__codec_writer w;
    if (cbag__codec_begin(&w, b) || cbag__codec_put(&w, v)) return -1;
    cbag__codec_end(&w);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading: iterative, so that the nesting limit, not the thread's stack,   */
/* bounds what a frame may hold                                             */

static int bad(cbag__codec_reader *r, const unsigned char *at,
               const char *what) {
    snprintf(r->err, sizeof r->err, "codec: %s at byte %zu", what,
             (size_t)(at - r->start));
    return -1;
}

int cbag__codec_open(cbag__codec_reader *r, const void *data, size_t n) {
    const unsigned char *p = data;
    r->start = r->p = p;
    r->end = p + n;
    r->left = 0;
    r->err[0] = '\0';
    if (n < CBAG__CODEC_HEADER) {
        snprintf(r->err, sizeof r->err,
                 "codec: %zu bytes, shorter than a frame header", n);
        return -1;
    }
    if (p[0] != 'C' || p[1] != 'B') return bad(r, p, "not a cbag frame");
    if (p[2] != CBAG__CODEC_VERSION) {
        snprintf(r->err, sizeof r->err,
                 "codec: frame version %u, this build reads version %d", p[2],
                 CBAG__CODEC_VERSION);
        return -1;
    }
    uint64_t count = cbag__le64_get(p + 3), body = cbag__le64_get(p + 11);
    if (body != n - CBAG__CODEC_HEADER) {
        snprintf(r->err, sizeof r->err,
                 "codec: the header says %llu body bytes, the frame has %zu",
                 (unsigned long long)body, n - CBAG__CODEC_HEADER);
        return -1;
    }
    if (count > body) /* every value takes a byte at least */
        return bad(r, p + 3, "more values than bytes");
    r->p = p + CBAG__CODEC_HEADER;
    r->left = count;
    return 0;
}

int cbag__varint_get(const unsigned char **p, const unsigned char *end,
                     uint64_t *x) {
    uint64_t v = 0;
    for (int i = 0; i < 10 && *p < end; i++) {
        unsigned c = *(*p)++;
        if (i == 9 && c > 1) return -1;
        v |= (uint64_t)(c & 0x7F) << (7 * i);
        if (!(c & 0x80)) {
            *x = v;
            return 0;
        }
    }
    return -1;
}

/* A canonical LEB128 of at most 64 bits, with the reason when not. */
static int get_varint(cbag__codec_reader *r, uint64_t *x) {
    const unsigned char *at = r->p;
    if (cbag__varint_get(&r->p, r->end, x))
        return bad(r, at, "truncated varint, or beyond 64 bits");
    if (r->p - at > 1 && r->p[-1] == 0)
        return bad(r, at, "non-canonical varint");
    return 0;
}

/* A container being filled. c points at its header, which stays put: it
 * is in its parent's element array (made at its final size), or the
 * caller's out, or key (a slot of its own for dict keys). */
typedef struct {
    cbag_val *c;
    uint32_t left; /* elements (dict: entries) still to read */
    uint8_t dict, have_key;
    cbag_val *key; /* dict: where the next key is decoded */
} dframe;

typedef struct {
    dframe *f;
    size_t n, cap;
    dframe local[32];
} dstack;

static int push_frame(cbag__codec_reader *r, dstack *s, const dframe *f,
                      const unsigned char *at) {
    if (s->n >= CBAG__CODEC_DEPTH)
        return bad(r, at, "containers nested too deeply");
    if (s->n == s->cap) {
        size_t cap = s->cap * 2;
        dframe *g = cbag__malloc(cap * sizeof *g);
        if (!g) return bad(r, at, "out of memory");
        memcpy(g, s->f, s->n * sizeof *g);
        if (s->f != s->local) cbag__free(s->f);
        s->f = g;
        s->cap = cap;
    }
    s->f[s->n++] = *f;
    return 0;
}

/* One item (a scalar, or the start of a container) into *slot; *opened
 * tells whether it left a container open on the stack. */
static int get_item(cbag__codec_reader *r, cbag__arena *a, dstack *s,
                    cbag_val *slot, int *opened) {
    const unsigned char *at = r->p;
    *opened = 0;
    if (r->p >= r->end) return bad(r, at, "truncated value");
    int tag = *r->p++;
    uint64_t n;
    size_t avail;
    switch (tag) {
    case T_NONE: cbag__set_null(slot); return 0;
    case T_FALSE:
    case T_TRUE: cbag__set_bool(slot, tag == T_TRUE); return 0;
    case T_INT:
        if (get_varint(r, &n)) return -1;
        cbag__set_int(slot, (int64_t)((n >> 1) ^ (0 - (n & 1))));
        return 0;
    case T_FLOAT: {
        if (r->end - r->p < 8) return bad(r, at, "truncated float");
        uint64_t u = cbag__le64_get(r->p);
        double d;
        memcpy(&d, &u, 8);
        r->p += 8;
        cbag__set_float(slot, d);
        return 0;
    }
    case T_STR:
        if (get_varint(r, &n)) return -1;
        if (n > (uint64_t)(r->end - r->p) || n > CBAG__MAX_LEN)
            return bad(r, at, "string longer than the bytes left");
        if (cbag__utf8_valid_prefix(r->p, (size_t)n) != n)
            return bad(r, at, "string not UTF-8");
        if (cbag__str_init(a, slot, (const char *)r->p, (size_t)n))
            return bad(r, at, "out of memory");
        r->p += n;
        return 0;
    case T_LIST:
    case T_TUPLE:
    case T_DICT: {
        if (get_varint(r, &n)) return -1;
        avail = (size_t)(r->end - r->p);
        int dict = tag == T_DICT;
        /* each element takes a byte at least, each entry two */
        if (n > (dict ? avail / 2 : avail) || n > CBAG__MAX_LEN)
            return bad(r, at, "more elements than the bytes left");
        if (dict ? cbag__dict_init(a, slot, (size_t)n)
                 : cbag__seq_init(a, slot,
                                  tag == T_LIST ? CBAG_LIST : CBAG_TUPLE,
                                  (size_t)n))
            return bad(r, at, "out of memory");
        if (!n) return 0;
        dframe f = {slot, (uint32_t)n, (uint8_t)dict, 0, NULL};
        if (dict && !(f.key = cbag__arena_alloc(a, sizeof *f.key)))
            return bad(r, at, "out of memory");
        if (push_frame(r, s, &f, at)) return -1;
        *opened = 1;
        return 0;
    }
    default: {
        char m[48];
        snprintf(m, sizeof m, "unknown tag %d", tag);
        return bad(r, at, m);
    }
    }
}

/* A value just finished in the top frame's slot: close what it completes.
 * 1 when the outermost value is done. */
static int finish(cbag__codec_reader *r, cbag__arena *a, dstack *s,
                  const unsigned char *at) {
    while (s->n) {
        dframe *f = &s->f[s->n - 1];
        if (f->dict && !f->have_key) { /* the key is done: add the entry */
            if (cbag__dict_find(f->c, f->key) >= 0)
                return bad(r, at, "duplicate key in a dict");
            if (cbag__dict_put_new(a, f->c, f->key, &cbag__none))
                return bad(r, at, "out of memory");
            f->have_key = 1;
            return 0;
        }
        f->have_key = 0;
        if (--f->left) return 0;
        s->n--; /* the container is complete: a value of its parent */
    }
    return 1;
}

static int get_value(cbag__codec_reader *r, cbag__arena *a, cbag_val *out) {
    dstack s;
    s.f = s.local;
    s.n = 0;
    s.cap = sizeof s.local / sizeof *s.local;
    cbag_val *slot = out;
    int rc;
    for (;;) {
        const unsigned char *at = r->p;
        int opened;
        if ((rc = get_item(r, a, &s, slot, &opened))) break;
        if (!opened && (rc = finish(r, a, &s, at))) {
            rc = rc > 0 ? 0 : -1;
            break;
        }
        /* where the next item goes */
        dframe *f = &s.f[s.n - 1];
        if (!f->dict) {
            cbag__seq *q = f->c->u.seq;
            slot = &q->items[q->len++];
        } else if (!f->have_key) {
            slot = f->key;
        } else {
            cbag__dict *d = f->c->u.dict;
            slot = &d->entries[d->len - 1].val;
        }
    }
    if (s.f != s.local) cbag__free(s.f);
    return rc;
}

int cbag__codec_next(cbag__codec_reader *r, cbag__arena *a, cbag_val *out) {
    if (!r->left) {
        if (r->p != r->end) return bad(r, r->p, "bytes after the last value");
        return 0;
    }
    if (get_value(r, a, out)) return -1;
    r->left--;
    return 1;
}

int cbag__codec_decode(cbag__arena *a, const void *data, size_t n,
                       cbag_val *out, char *err, size_t errlen) {
    cbag__codec_reader r;
    int rc = cbag__codec_open(&r, data, n);
    if (!rc && r.left != 1) {
        snprintf(r.err, sizeof r.err, "codec: %llu values, one expected",
                 (unsigned long long)r.left);
        rc = -1;
    }
    if (!rc && cbag__codec_next(&r, a, out) != 1) rc = -1;
    if (!rc && cbag__codec_next(&r, a, out) != 0) rc = -1;
    if (rc && err && errlen) snprintf(err, errlen, "%s", r.err);
    return rc;
}
