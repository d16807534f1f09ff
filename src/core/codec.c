/* codec.c: the binary encoding of values (see codec.h). */
#include "codec.h"

#include <stdio.h>
#include <string.h>

#include "bytes.h"
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
    T_DICT,
    T_KEY
};

/* ------------------------------------------------------------------------ */
/* The key table                                                            */

#define SLOTS (2 * CBAG__CODEC_KEYS)

/* The first and last 8 bytes of a key (its bytes, for a short one). */
static inline void key_words(const char *s, size_t len, uint64_t *a,
                             uint64_t *b) {
    *a = *b = 0;
    if (len >= 8) {
        memcpy(a, s, 8);
        memcpy(b, s + len - 8, 8);
    } else {
        for (size_t i = 0; i < len; i++)
            *a |= (uint64_t)(unsigned char)s[i] << (8 * i);
    }
}

/* A cheap hash of a short key: its first and last 8 bytes and length. */
static inline uint64_t key_hash(const char *s, size_t len) {
    uint64_t a, b;
    key_words(s, len, &a, &b);
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ b * 0xC2B2AE3D27D4EB4Full ^ len;
    return h ^ (h >> 29) ^ (h >> 47);
}

static void keys_init(cbag__codec_keys *k) {
    k->n = 0;
    memset(k->slot, 0, sizeof k->slot);
}

/* The entry of the key s[0..len), or -1; base: the writer's buffer. */
static long keys_find(const cbag__codec_keys *k, const char *base,
                      const char *s, uint32_t len, uint64_t h) {
    for (uint32_t i = (uint32_t)h & (SLOTS - 1); k->slot[i];
         i = (i + 1) & (SLOTS - 1)) {
        uint32_t e = k->slot[i] - 1u;
        if (k->hash[e] != h || k->len[e] != len) continue;
        if (cbag__mem_eq(base ? base + k->at[e] : k->p[e], s, len)) return e;
    }
    return -1;
}

static void keys_add(cbag__codec_keys *k, uint64_t h, uint32_t len, size_t at,
                     const char *p) {
    uint32_t e = k->n++;
    k->len[e] = len;
    k->hash[e] = h;
    k->at[e] = at;
    k->p[e] = p;
    uint32_t i = (uint32_t)h & (SLOTS - 1);
    while (k->slot[i])
        i = (i + 1) & (SLOTS - 1);
    k->slot[i] = (uint16_t)(e + 1);
}

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

/* Room for n more bytes at the end of b, or NULL (b->oom set). */
static inline unsigned char *room(cbag__buf *b, size_t n) {
    if (b->cap - b->len <= n && cbag__buf_reserve(b, n)) return NULL;
    return (unsigned char *)b->p + b->len;
}

/* A tag and a varint in one append. */
static inline int put_tag(cbag__buf *b, int tag, uint64_t n) {
    unsigned char *o = room(b, 11);
    if (!o) return -1;
    o[0] = (unsigned char)tag;
    b->len += 1 + cbag__varint_put(o + 1, n);
    return 0;
}

/* A tag, a varint and n bytes. */
static inline int put_bytes(cbag__buf *b, int tag, const char *s, size_t n) {
    unsigned char *o = room(b, 11 + n);
    if (!o) return -1;
    o[0] = (unsigned char)tag;
    size_t k = 1 + cbag__varint_put(o + 1, n);
    if (n) memcpy(o + k, s, n);
    b->len += k + n;
    return 0;
}

static int put_val(cbag__codec_writer *w, const cbag_val *v, int level);

/* A dict key: a short string is written once per frame, then referred
 * to by its index in the key table. */
static int put_key(cbag__codec_writer *w, const cbag_val *k, int level) {
    if (k->type != CBAG_STR || k->len > CBAG__CODEC_KEY_LEN)
        return put_val(w, k, level);
    cbag__buf *b = w->b;
    uint64_t h = key_hash(k->u.s, k->len);
    long e = keys_find(&w->keys, b->p, k->u.s, k->len, h);
    if (e >= 0) return put_tag(b, T_KEY, (uint64_t)e);
    if (put_bytes(b, T_STR, k->u.s, k->len)) return -1;
    if (w->keys.n < CBAG__CODEC_KEYS)
        keys_add(&w->keys, h, k->len, b->len - k->len, NULL);
    return 0;
}

/* level: containers enclosing v. */
static int put_val(cbag__codec_writer *w, const cbag_val *v, int level) {
    cbag__buf *b = w->b;
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
    case CBAG_STR: return put_bytes(b, T_STR, v->u.s, v->len);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        if (level >= CBAG__CODEC_DEPTH) return -1;
        const cbag__seq *s = v->u.seq;
        if (put_tag(b, v->type == CBAG_LIST ? T_LIST : T_TUPLE, s->len))
            return -1;
        for (uint32_t i = 0; i < s->len; i++)
            if (put_val(w, &s->items[i], level + 1)) return -1;
        return 0;
    }
    case CBAG_DICT: {
        if (level >= CBAG__CODEC_DEPTH) return -1;
        const cbag__dict *d = v->u.dict;
        if (put_tag(b, T_DICT, d->len)) return -1;
        for (uint32_t i = 0; i < d->len; i++)
            if (put_key(w, &d->entries[i].key, level + 1) ||
                put_val(w, &d->entries[i].val, level + 1))
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
    keys_init(&w->keys);
    return cbag__buf_put(b, h, sizeof h);
}

int cbag__codec_put(cbag__codec_writer *w, const cbag_val *v) {
    if (put_val(w, v, 0) || w->b->oom) return -1;
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
    keys_init(&r->keys);
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
static inline int get_varint(cbag__codec_reader *r, uint64_t *x) {
    const unsigned char *at = r->p;
    if (at < r->end && *at < 0x80) { /* one byte: most lengths and keys */
        *x = *r->p++;
        return 0;
    }
    if (cbag__varint_get(&r->p, r->end, x))
        return bad(r, at, "truncated varint, or beyond 64 bits");
    if (r->p - at > 1 && r->p[-1] == 0)
        return bad(r, at, "non-canonical varint");
    return 0;
}

/* A container being filled. c points at its header, which stays put: it
 * is in its parent's element or entry array (made at its final size), or
 * the caller's out. A dict's next key is decoded in place, in the entry
 * after its last one, and becomes an entry once checked. */
typedef struct {
    cbag_val *c;
    uint32_t left; /* elements (dict: entries) still to read */
    uint8_t dict, have_key;
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

/* A string (of n bytes at r->p, checked) into *slot; a dict key goes to
 * the key table, and may not be there already. */
static int get_str(cbag__codec_reader *r, cbag__arena *a, cbag_val *slot,
                   uint64_t n, int is_key, const unsigned char *at) {
    if (n > (uint64_t)(r->end - r->p) || n > CBAG__MAX_LEN)
        return bad(r, at, "string longer than the bytes left");
    if (cbag__utf8_valid_prefix(r->p, (size_t)n) != n)
        return bad(r, at, "string not UTF-8");
    const char *s = (const char *)r->p;
    uint64_t h = 0;
    int table = is_key && n <= CBAG__CODEC_KEY_LEN;
    if (table) {
        h = key_hash(s, (size_t)n);
        if (keys_find(&r->keys, NULL, s, (uint32_t)n, h) >= 0)
            return bad(r, at, "a key written out again, not referred to");
    }
    if (cbag__str_init(a, slot, s, (size_t)n))
        return bad(r, at, "out of memory");
    if (table && r->keys.n < CBAG__CODEC_KEYS) {
        keys_add(&r->keys, h, (uint32_t)n, 0, slot->u.s);
        r->key_shared = 1;
    }
    r->p += n;
    return 0;
}

/* One item (a scalar, or the start of a container) into *slot; *opened
 * tells whether it left a container open on the stack. is_key: slot is a
 * dict's key. */
static int get_item(cbag__codec_reader *r, cbag__arena *a, dstack *s,
                    cbag_val *slot, int is_key, int *opened) {
    const unsigned char *at = r->p;
    *opened = 0;
    if (is_key) r->key_shared = 0;
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
        return get_str(r, a, slot, n, is_key, at);
    case T_KEY:
        if (!is_key) return bad(r, at, "a key reference outside a dict key");
        if (get_varint(r, &n)) return -1;
        if (n >= r->keys.n) return bad(r, at, "a key reference past the table");
        cbag__set_str_ref(slot, r->keys.p[n], r->keys.len[n]);
        r->key_shared = 1;
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
        dframe f = {slot, (uint32_t)n, (uint8_t)dict, 0};
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

/* Whether dict d has key k already. A key from the table is the table's
 * string, bytes and all: it can only equal a key with the same bytes
 * pointer, so small dicts of records need no string comparison. */
static int dup_key(const cbag__codec_reader *r, const cbag_val *d,
                   const cbag_val *k) {
    const cbag__dict *dd = d->u.dict;
    if (r->key_shared && dd->len <= CBAG__DICT_LINEAR) {
        for (uint32_t i = 0; i < dd->len; i++)
            if (dd->entries[i].key.type == CBAG_STR &&
                dd->entries[i].key.u.s == k->u.s)
                return 1;
        return 0;
    }
    return cbag__dict_find(d, k) >= 0;
}

/* The key decoded in place (entry len) becomes an entry. */
static int add_key(cbag__codec_reader *r, cbag__arena *a, cbag_val *d,
                   const unsigned char *at) {
    cbag__dict *dd = d->u.dict;
    cbag_val k = dd->entries[dd->len].key;
    if (dup_key(r, d, &k)) return bad(r, at, "duplicate key in a dict");
    if (dd->cap <= CBAG__DICT_LINEAR) { /* never indexed: no call */
        dd->entries[dd->len++].val = cbag__none;
        return 0;
    }
    if (cbag__dict_put_new(a, d, &k, &cbag__none))
        return bad(r, at, "out of memory");
    return 0;
}

/* A value just finished in the top frame's slot: close what it completes.
 * 1 when the outermost value is done. */
static int finish(cbag__codec_reader *r, cbag__arena *a, dstack *s,
                  const unsigned char *at) {
    while (s->n) {
        dframe *f = &s->f[s->n - 1];
        if (f->dict && !f->have_key) { /* the key is done: add the entry */
            if (add_key(r, a, f->c, at)) return -1;
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
    int rc, is_key = 0;
    for (;;) {
        const unsigned char *at = r->p;
        int opened;
        if ((rc = get_item(r, a, &s, slot, is_key, &opened))) break;
        if (!opened && (rc = finish(r, a, &s, at))) {
            rc = rc > 0 ? 0 : -1;
            break;
        }
        /* where the next item goes */
        dframe *f = &s.f[s.n - 1];
        is_key = f->dict && !f->have_key;
        if (!f->dict) {
            cbag__seq *q = f->c->u.seq;
            slot = &q->items[q->len++];
        } else if (is_key) {
            cbag__dict *d = f->c->u.dict;
            slot = &d->entries[d->len].key;
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
