/* value.c: the dynamic value model (see value.h): construction, reading,
 * dicts with an open-addressing index and deep copy. Equality, order and
 * hashing are in cmp.c.
 *
 * Everything lives in an arena. Containers grow by allocating a larger
 * array in the arena and abandoning the old one: the arena frees it all at
 * once, and a value header stored elsewhere keeps pointing at the body,
 * which is never moved. */
#include "value.h"
#include "bytes.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <xxhash.h>

#include "buf.h"
#include "call.h"
#include "mem.h"
#include "repr.h"

const cbag_val cbag__none = {CBAG_NULL, {0, 0, 0}, 0, {.i = 0}};
const cbag_val cbag__true = {CBAG_BOOL, {0, 0, 0}, 0, {.i = 1}};
const cbag_val cbag__false = {CBAG_BOOL, {0, 0, 0}, 0, {.i = 0}};

/* ------------------------------------------------------------------------ */
/* Construction                                                             */

/* The body of a list or tuple and its first items, in one allocation. */
static cbag__seq *seq_body(cbag__arena *a, size_t cap) {
    if (cap > CBAG__MAX_LEN) cap = CBAG__MAX_LEN;
    if (cap > (SIZE_MAX - sizeof(cbag__seq)) / sizeof(cbag_val)) return NULL;
    cbag__seq *s =
        cbag__arena_alloc(a, sizeof(cbag__seq) + cap * sizeof(cbag_val));
    if (!s) return NULL;
    s->len = 0;
    s->cap = (uint32_t)cap;
    s->items = cap ? (cbag_val *)(s + 1) : NULL;
    return s;
}

/* Rounded up so the entries that follow stay 8-aligned. */
#define DICT_HDR ((sizeof(cbag__dict) + 7) & ~(size_t)7)

static cbag__dict *dict_body(cbag__arena *a, size_t cap) {
    if (cap > CBAG__MAX_LEN) cap = CBAG__MAX_LEN;
    if (cap > (SIZE_MAX - DICT_HDR) / sizeof(cbag__entry)) return NULL;
    char *p = cbag__arena_alloc(a, DICT_HDR + cap * sizeof(cbag__entry));
    if (!p) return NULL;
    cbag__dict *d = (cbag__dict *)p;
    d->len = 0;
    d->cap = (uint32_t)cap;
    d->entries = cap ? (cbag__entry *)(p + DICT_HDR) : NULL;
    d->index = NULL;
    d->index_mask = 0;
    d->kind = CBAG__DICT_PLAIN;
    d->tag = NULL;
    d->aux = NULL;
    return d;
}

cbag_val *cbag__val_new(cbag__arena *a, cbag_type t) {
    cbag_val *v = cbag__arena_alloc(a, sizeof *v);
    if (!v) return NULL;
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)t;
    switch (t) {
    case CBAG_STR: v->u.s = ""; break;
    case CBAG_LIST:
    case CBAG_TUPLE:
        /* Readers never meet a container without a body. */
        if (!(v->u.seq = seq_body(a, 0))) return NULL;
        break;
    case CBAG_DICT:
        if (!(v->u.dict = dict_body(a, 0))) return NULL;
        break;
    default: break;
    }
    return v;
}

int cbag__str_init(cbag__arena *a, cbag_val *v, const char *s, size_t len) {
    if (len > CBAG__MAX_LEN) return CBAG_INVALID;
    if (len == 0) {
        cbag__set_str_ref(v, "", 0);
        return CBAG_OK;
    }
    /* NUL-terminated as a convenience for debugging and C callers. */
    char *p = cbag__arena_alloc(a, len + 1);
    if (!p) return CBAG_NOMEM;
    memcpy(p, s, len);
    p[len] = '\0';
    cbag__set_str_ref(v, p, (uint32_t)len);
    return CBAG_OK;
}

int cbag__seq_init(cbag__arena *a, cbag_val *v, cbag_type t, size_t cap) {
    cbag__seq *s = seq_body(a, cap);
    if (!s) return CBAG_NOMEM;
    v->type = (uint8_t)t;
    v->len = 0;
    v->u.seq = s;
    return CBAG_OK;
}

/* Room for one more element: the array doubles and moves, the body stays. */
static int seq_grow(cbag__arena *a, cbag__seq *s) {
    if (s->len == CBAG__MAX_LEN) return CBAG_INVALID;
    size_t cap = s->cap ? (size_t)s->cap * 2 : 4;
    if (cap > CBAG__MAX_LEN) cap = CBAG__MAX_LEN;
    if (cap > SIZE_MAX / sizeof(cbag_val)) return CBAG_NOMEM;
    cbag_val *items = cbag__arena_alloc(a, cap * sizeof(cbag_val));
    if (!items) return CBAG_NOMEM;
    if (s->len) memcpy(items, s->items, s->len * sizeof(cbag_val));
    s->items = items;
    s->cap = (uint32_t)cap;
    return CBAG_OK;
}

int cbag__seq_push(cbag__arena *a, cbag_val *seq, const cbag_val *x) {
    cbag__seq *s = seq->u.seq;
    if (s->len == s->cap) {
        int rc = seq_grow(a, s);
        if (rc) return rc;
    }
    s->items[s->len++] = *x;
    return CBAG_OK;
}

int cbag__dict_init(cbag__arena *a, cbag_val *v, size_t cap) {
    cbag__dict *d = dict_body(a, cap);
    if (!d) return CBAG_NOMEM;
    v->type = CBAG_DICT;
    v->len = 0;
    v->u.dict = d;
    return CBAG_OK;
}

/* Slot of the first probe for a hash. Linear probing: entries are few per
 * cache line and the table is at most half full. */
static inline uint32_t index_slot(const cbag__dict *d, uint64_t h) {
    return (uint32_t)(h ^ (h >> 32)) & d->index_mask;
}

static void index_insert(cbag__dict *d, uint64_t h, uint32_t entry) {
    uint32_t i = index_slot(d, h);
    while (d->index[i])
        i = (i + 1) & d->index_mask;
    d->index[i] = entry + 1;
}

/* (Re)builds the index for the dict's capacity, so it stays at most half
 * full until the entries next grow. The old index is abandoned. */
static int index_build(cbag__arena *a, cbag__dict *d) {
    size_t slots = 16;
    while (slots < (size_t)d->cap * 2) {
        if (slots > (size_t)UINT32_MAX / 2 + 1) return CBAG_NOMEM;
        slots *= 2;
    }
    if (slots > SIZE_MAX / sizeof(uint32_t)) return CBAG_NOMEM;
    uint32_t *index = cbag__arena_alloc(a, slots * sizeof(uint32_t));
    if (!index) return CBAG_NOMEM;
    memset(index, 0, slots * sizeof(uint32_t));
    d->index = index;
    d->index_mask = (uint32_t)(slots - 1);
    for (uint32_t i = 0; i < d->len; i++)
        index_insert(d, cbag_hash(&d->entries[i].key), i);
    return CBAG_OK;
}

int cbag__dict_put_new(cbag__arena *a, cbag_val *dv, const cbag_val *key,
                       const cbag_val *val) {
    cbag__dict *d = dv->u.dict;
    if (d->len == d->cap) {
        if (d->len == CBAG__MAX_LEN) return CBAG_INVALID;
        size_t cap = d->cap ? (size_t)d->cap * 2 : 4;
        if (cap > CBAG__MAX_LEN) cap = CBAG__MAX_LEN;
        if (cap > SIZE_MAX / sizeof(cbag__entry)) return CBAG_NOMEM;
        cbag__entry *e = cbag__arena_alloc(a, cap * sizeof(cbag__entry));
        if (!e) return CBAG_NOMEM;
        if (d->len) memcpy(e, d->entries, d->len * sizeof(cbag__entry));
        /* Commit the new capacity only with a matching index, so a
         * failure leaves the dict as it was. */
        cbag__entry *old_e = d->entries;
        uint32_t old_cap = d->cap;
        d->entries = e;
        d->cap = (uint32_t)cap;
        if (d->index_mask) {
            uint32_t *old_i = d->index, old_m = d->index_mask;
            if (index_build(a, d)) {
                d->entries = old_e;
                d->cap = old_cap;
                d->index = old_i;
                d->index_mask = old_m;
                return CBAG_NOMEM;
            }
        }
    }
    uint32_t n = d->len;
    d->entries[n].key = *key;
    d->entries[n].val = *val;
    if (d->index_mask) {
        d->len = n + 1;
        index_insert(d, cbag_hash(key), n);
    } else if (n + 1 > CBAG__DICT_LINEAR) {
        d->len = n + 1;
        if (index_build(a, d)) {
            d->len = n;
            d->index = NULL;
            d->index_mask = 0;
            return CBAG_NOMEM;
        }
    } else {
        d->len = n + 1;
    }
    return CBAG_OK;
}

int cbag__dict_put(cbag__arena *a, cbag_val *d, const cbag_val *key,
                   const cbag_val *val) {
    long i = cbag__dict_find(d, key);
    if (i >= 0) {
        /* Python keeps the first key and its position: d[1.0] = x after
         * d[1] = y leaves the key 1 with the value x. */
        d->u.dict->entries[i].val = *val;
        return CBAG_OK;
    }
    return cbag__dict_put_new(a, d, key, val);
}

/* CPython's hash of an int: its value modulo 2^61 - 1, the sign kept, -1
 * made -2. */
static uint64_t py_int_hash(int64_t i) {
    const uint64_t m = ((uint64_t)1 << 61) - 1;
    uint64_t a = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    uint64_t h = a % m;
    if (i < 0) h = h ? (uint64_t)0 - h : 0;
    if (h == (uint64_t)-1) h = (uint64_t)-2;
    return h;
}

/* One insertion into CPython's set table (set_insert_clean: linear probes,
 * then perturbation). */
static void py_set_put(int32_t *table, size_t mask, uint64_t hash,
                       int32_t entry) {
    size_t perturb = (size_t)hash, i = (size_t)hash & mask;
    for (;;) {
        if (table[i] < 0) {
            table[i] = entry;
            return;
        }
        if (i + 9 <= mask)
            for (size_t j = 1; j <= 9; j++)
                if (table[i + j] < 0) {
                    table[i + j] = entry;
                    return;
                }
        perturb >>= 5;
        i = (i * 5 + 1 + perturb) & mask;
    }
}

bool cbag__set_order(const cbag_val *s, uint32_t *order) {
    const cbag__dict *d = s->u.dict;
    uint64_t *h = cbag__malloc((d->len ? d->len : 1) * sizeof *h);
    if (!h) return false;
    for (uint32_t i = 0; i < d->len; i++) {
        const cbag_val *k = &d->entries[i].key;
        if (k->type != CBAG_INT && k->type != CBAG_BOOL) {
            cbag__free(h);
            return false; /* other hashes are not Python's */
        }
        h[i] = py_int_hash(k->u.i);
    }
    /* insert in order, growing as CPython does (fill * 5 >= mask * 3: to
     * the smallest power of two above used * 4), then read the table */
    size_t mask = 7, old = 0, cap = 1u << 20;
    int32_t *t = NULL;
    bool ok = true;
    for (uint32_t n = 0; n <= d->len && ok; n++) {
        if (n == 0 || (size_t)n * 5 >= mask * 3) {
            if (n) {
                size_t size = 8;
                while (size <= (size_t)n * (n > 50000 ? 2 : 4))
                    size <<= 1;
                mask = size - 1;
            }
            int32_t *nt =
                mask + 1 <= cap ? cbag__malloc((mask + 1) * sizeof *nt) : NULL;
            if (!nt) {
                ok = false;
                break;
            }
            memset(nt, 0xFF, (mask + 1) * sizeof *nt); /* -1: empty */
            for (size_t k = 0; t && k <= old;
                 k++) /* in the old table's order */
                if (t[k] >= 0) py_set_put(nt, mask, h[t[k]], t[k]);
            cbag__free(t);
            t = nt;
            old = mask;
        }
        if (n < d->len) py_set_put(t, mask, h[n], (int32_t)n);
    }
    if (ok) {
        size_t o = 0;
        for (size_t i = 0; i <= mask; i++)
            if (t[i] >= 0) order[o++] = (uint32_t)t[i];
    }
    cbag__free(t);
    cbag__free(h);
    return ok;
}

void cbag__dict_remove(cbag_val *dv, uint32_t i) {
    cbag__dict *d = dv->u.dict;
    if (i >= d->len) return;
    memmove(&d->entries[i], &d->entries[i + 1],
            (d->len - i - 1) * sizeof *d->entries);
    d->len--;
    if (!d->index_mask) return;
    memset(d->index, 0, ((size_t)d->index_mask + 1) * sizeof *d->index);
    for (uint32_t k = 0; k < d->len; k++)
        index_insert(d, cbag_hash(&d->entries[k].key), k);
}

static inline int key_is_str(const cbag_val *k, const char *s, size_t len) {
    return k->type == CBAG_STR && k->len == len && cbag__mem_eq(k->u.s, s, len);
}

long cbag__dict_find_str(const cbag_val *dv, const char *key, size_t len) {
    if (!dv || dv->type != CBAG_DICT) return -1;
    const cbag__dict *d = dv->u.dict;
    if (!d->index_mask) {
        for (uint32_t i = 0; i < d->len; i++)
            if (key_is_str(&d->entries[i].key, key, len)) return i;
        return -1;
    }
    uint32_t i = index_slot(d, cbag__hash_str(key, len));
    for (uint32_t e; (e = d->index[i]); i = (i + 1) & d->index_mask)
        if (key_is_str(&d->entries[e - 1].key, key, len)) return e - 1;
    return -1;
}

long cbag__dict_find(const cbag_val *dv, const cbag_val *key) {
    if (!dv || dv->type != CBAG_DICT) return -1;
    if (!key) key = &cbag__none;
    if (key->type == CBAG_STR)
        return cbag__dict_find_str(dv, key->u.s, key->len);
    const cbag__dict *d = dv->u.dict;
    if (!d->index_mask) {
        for (uint32_t i = 0; i < d->len; i++)
            if (cbag_eq(&d->entries[i].key, key)) return i;
        return -1;
    }
    uint32_t i = index_slot(d, cbag_hash(key));
    for (uint32_t e; (e = d->index[i]); i = (i + 1) & d->index_mask)
        if (cbag_eq(&d->entries[e - 1].key, key)) return e - 1;
    return -1;
}

int cbag__copy_into(cbag__arena *a, cbag_val *dst, const cbag_val *v) {
    if (!v) v = &cbag__none;
    switch (v->type) {
    case CBAG_STR: return cbag__str_init(a, dst, v->u.s, v->len);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *s = v->u.seq;
        cbag__seq *t = seq_body(a, s->len);
        if (!t) return CBAG_NOMEM;
        for (uint32_t i = 0; i < s->len; i++) {
            int rc = cbag__copy_into(a, &t->items[i], &s->items[i]);
            if (rc) return rc;
        }
        t->len = s->len;
        *dst = *v;
        dst->u.seq = t;
        return CBAG_OK;
    }
    case CBAG_DICT: {
        const cbag__dict *s = v->u.dict;
        cbag__dict *t = dict_body(a, s->len);
        if (!t) return CBAG_NOMEM;
        for (uint32_t i = 0; i < s->len; i++) {
            int rc = cbag__copy_into(a, &t->entries[i].key, &s->entries[i].key);
            if (!rc)
                rc = cbag__copy_into(a, &t->entries[i].val, &s->entries[i].val);
            if (rc) return rc;
        }
        t->len = s->len;
        t->kind = s->kind;
        t->tag = s->tag;
        t->aux = s->aux;
        /* Entry numbers are unchanged, so the index can be copied as is
         * when it is no bigger than the copy needs. */
        if (s->index_mask && s->index_mask < 2 * (size_t)t->cap + 16) {
            size_t n = ((size_t)s->index_mask + 1) * sizeof(uint32_t);
            if (!(t->index = cbag__arena_alloc(a, n))) return CBAG_NOMEM;
            memcpy(t->index, s->index, n);
            t->index_mask = s->index_mask;
        } else if (t->len > CBAG__DICT_LINEAR && index_build(a, t)) {
            return CBAG_NOMEM;
        }
        *dst = *v;
        dst->u.dict = t;
        return CBAG_OK;
    }
    default: *dst = *v; return CBAG_OK;
    }
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */

cbag_type cbag_typeof(const cbag_val *v) {
    return v ? (cbag_type)v->type : CBAG_NULL;
}

const char *cbag_type_name(cbag_type t) {
    switch (t) {
    case CBAG_NULL: return "NoneType";
    case CBAG_BOOL: return "bool";
    case CBAG_INT: return "int";
    case CBAG_FLOAT: return "float";
    case CBAG_STR: return "str";
    case CBAG_LIST: return "list";
    case CBAG_TUPLE: return "tuple";
    case CBAG_DICT: return "dict";
    }
    return "unknown";
}

bool cbag_is_null(const cbag_val *v) { return !v || v->type == CBAG_NULL; }

bool cbag_bool_value(const cbag_val *v) {
    return v && v->type == CBAG_BOOL && v->u.i;
}

int64_t cbag_int_value(const cbag_val *v) {
    return v && (v->type == CBAG_INT || v->type == CBAG_BOOL) ? v->u.i : 0;
}

double cbag_float_value(const cbag_val *v) {
    double d;
    return cbag_number(v, &d) ? d : NAN;
}

bool cbag_number(const cbag_val *v, double *out) {
    if (!v) return false;
    switch (v->type) {
    case CBAG_BOOL:
    case CBAG_INT: *out = (double)v->u.i; return true;
    case CBAG_FLOAT: *out = v->u.f; return true;
    default: return false;
    }
}

bool cbag_truthy(const cbag_val *v) {
    if (!v) return false;
    switch (v->type) {
    case CBAG_BOOL:
    case CBAG_INT: return v->u.i != 0;
    case CBAG_FLOAT: return v->u.f != 0.0; /* NaN is true, as in Python */
    case CBAG_STR:
    case CBAG_LIST:
    case CBAG_TUPLE:
    case CBAG_DICT: return cbag__len(v) != 0;
    default: return false;
    }
}

const char *cbag_str(const cbag_val *v, size_t *len) {
    if (!v || v->type != CBAG_STR) return NULL;
    if (len) *len = v->len;
    return v->u.s;
}

bool cbag_str_eq(const cbag_val *v, const char *s) {
    return v && s && key_is_str(v, s, strlen(s));
}

size_t cbag_len(const cbag_val *v) { return v ? cbag__len(v) : 0; }

const cbag_val *cbag_at(const cbag_val *v, int64_t i) {
    if (!cbag__is_seq(v)) return NULL;
    const cbag__seq *s = v->u.seq;
    if (i < 0) i += s->len;
    if (i < 0 || i >= (int64_t)s->len) return NULL;
    return &s->items[i];
}

const cbag_val *cbag_getn(const cbag_val *v, const char *key, size_t keylen) {
    long i = key ? cbag__dict_find_str(v, key, keylen) : -1;
    return i < 0 ? NULL : &v->u.dict->entries[i].val;
}

const cbag_val *cbag_get(const cbag_val *v, const char *key) {
    return key ? cbag_getn(v, key, strlen(key)) : NULL;
}

const cbag_val *cbag_getv(const cbag_val *v, const cbag_val *key) {
    long i = cbag__dict_find(v, key);
    return i < 0 ? NULL : &v->u.dict->entries[i].val;
}

const cbag_val *cbag_dict_key(const cbag_val *v, size_t i) {
    if (!v || v->type != CBAG_DICT || i >= v->u.dict->len) return NULL;
    return &v->u.dict->entries[i].key;
}

const cbag_val *cbag_dict_value(const cbag_val *v, size_t i) {
    if (!v || v->type != CBAG_DICT || i >= v->u.dict->len) return NULL;
    return &v->u.dict->entries[i].val;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                 */

const cbag_val *cbag_none(void) { return &cbag__none; }

const cbag_val *cbag_bool(bool b) { return b ? &cbag__true : &cbag__false; }

/* Reports a failed internal call on c; NULL for `return` convenience. */
static void *fail_rc(cbag_call *c, int rc, const char *what) {
    if (rc == CBAG_NOMEM) return cbag__call_oom(c);
    cbag__call_fail(c, rc, "%s: longer than %u elements", what,
                    (unsigned)CBAG__MAX_LEN);
    return NULL;
}

/* A NULL value handed to a builder: normally the result of an earlier
 * failure, already recorded; otherwise a misuse worth naming. */
static int null_arg(cbag_call *c, const char *what) {
    if (c->code == CBAG_OK)
        cbag__call_fail(c, CBAG_INVALID, "%s: NULL value", what);
    return c->code;
}

cbag_val *cbag_new_int(cbag_call *c, int64_t i) {
    cbag_val *v = cbag__arena_alloc(c->arena, sizeof *v);
    if (!v) return cbag__call_oom(c);
    memset(v, 0, sizeof *v);
    cbag__set_int(v, i);
    return v;
}

cbag_val *cbag_new_float(cbag_call *c, double d) {
    cbag_val *v = cbag__arena_alloc(c->arena, sizeof *v);
    if (!v) return cbag__call_oom(c);
    memset(v, 0, sizeof *v);
    cbag__set_float(v, d);
    return v;
}

cbag_val *cbag_new_str(cbag_call *c, const char *s, size_t len) {
    if (!s && len) {
        null_arg(c, "cbag_new_str");
        return NULL;
    }
    cbag_val *v = cbag__arena_alloc(c->arena, sizeof *v);
    if (!v) return cbag__call_oom(c);
    memset(v, 0, sizeof *v);
    int rc = cbag__str_init(c->arena, v, s, len);
    return rc ? fail_rc(c, rc, "cbag_new_str") : v;
}

cbag_val *cbag_new_strz(cbag_call *c, const char *s) {
    if (!s) {
        null_arg(c, "cbag_new_strz");
        return NULL;
    }
    return cbag_new_str(c, s, strlen(s));
}

cbag_val *cbag_new_strf(cbag_call *c, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    cbag_val *v = NULL;
    if (n < 0) {
        cbag__call_fail(c, CBAG_INVALID, "cbag_new_strf: bad format '%s'", fmt);
    } else if (!(v = cbag__arena_alloc(c->arena, sizeof *v))) {
        cbag__call_oom(c);
    } else {
        char *p = n ? cbag__arena_alloc(c->arena, (size_t)n + 1) : NULL;
        memset(v, 0, sizeof *v);
        if (n == 0) {
            cbag__set_str_ref(v, "", 0);
        } else if (!p) {
            v = cbag__call_oom(c);
        } else {
            vsnprintf(p, (size_t)n + 1, fmt, ap2);
            cbag__set_str_ref(v, p, (uint32_t)n);
        }
    }
    va_end(ap2);
    return v;
}

static cbag_val *new_seq(cbag_call *c, cbag_type t, size_t cap) {
    cbag_val *v = cbag__arena_alloc(c->arena, sizeof *v);
    if (!v) return cbag__call_oom(c);
    memset(v, 0, sizeof *v);
    if (cbag__seq_init(c->arena, v, t, cap)) return cbag__call_oom(c);
    return v;
}

cbag_val *cbag_new_list(cbag_call *c, size_t cap) {
    return new_seq(c, CBAG_LIST, cap);
}

cbag_val *cbag_new_tuple(cbag_call *c, size_t cap) {
    return new_seq(c, CBAG_TUPLE, cap);
}

cbag_val *cbag_new_dict(cbag_call *c, size_t cap) {
    cbag_val *v = cbag__arena_alloc(c->arena, sizeof *v);
    if (!v) return cbag__call_oom(c);
    memset(v, 0, sizeof *v);
    if (cbag__dict_init(c->arena, v, cap)) return cbag__call_oom(c);
    return v;
}

cbag_val *cbag_new_tuplev(cbag_call *c, size_t n,
                          const cbag_val *const *items) {
    if (n && !items) {
        null_arg(c, "cbag_new_tuplev");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!items[i]) {
            null_arg(c, "cbag_new_tuplev");
            return NULL;
        }
    }
    if (n > CBAG__MAX_LEN) return fail_rc(c, CBAG_INVALID, "cbag_new_tuplev");
    cbag_val *v = new_seq(c, CBAG_TUPLE, n);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++)
        v->u.seq->items[i] = *items[i];
    v->u.seq->len = (uint32_t)n;
    return v;
}

int cbag_append(cbag_call *c, cbag_val *seq, const cbag_val *x) {
    if (!seq || !x) return null_arg(c, "cbag_append");
    if (!cbag__is_seq(seq)) {
        cbag__call_fail(c, CBAG_INVALID, "cbag_append: %s is not a list",
                        cbag_type_name((cbag_type)seq->type));
        return CBAG_INVALID;
    }
    /* A list holding its own body could never be printed, compared or
     * copied: the walks would not end. */
    if (cbag__is_seq(x) && x->u.seq == seq->u.seq) {
        cbag__call_fail(c, CBAG_INVALID,
                        "cbag_append: a list cannot contain itself");
        return CBAG_INVALID;
    }
    int rc = cbag__seq_push(c->arena, seq, x);
    if (rc) fail_rc(c, rc, "cbag_append");
    return rc;
}

static int dict_check(cbag_call *c, const cbag_val *d, const char *what) {
    if (d->type == CBAG_DICT) return CBAG_OK;
    cbag__call_fail(c, CBAG_INVALID, "%s: %s is not a dict", what,
                    cbag_type_name((cbag_type)d->type));
    return CBAG_INVALID;
}

int cbag_set(cbag_call *c, cbag_val *d, const char *key, const cbag_val *x) {
    if (!d || !key || !x) return null_arg(c, "cbag_set");
    if (dict_check(c, d, "cbag_set")) return CBAG_INVALID;
    /* The same key string as recently, and still the same bytes: reuse
     * its copy instead of measuring and copying it again. */
    cbag__key_cache *kc = &c->keys[((uintptr_t)key >> 3) % CBAG__KEY_CACHE];
    size_t len;
    int hit = kc->ptr == key && kc->epoch == c->arena->epoch &&
              cbag__mem_eq(kc->copy, key, kc->len) && key[kc->len] == '\0';
    len = hit ? kc->len : strlen(key);
    long i = cbag__dict_find_str(d, key, len);
    if (i >= 0) {
        d->u.dict->entries[i].val = *x;
        return CBAG_OK;
    }
    cbag_val k;
    int rc = CBAG_OK;
    if (hit) {
        cbag__set_str_ref(&k, kc->copy, (uint32_t)len);
    } else {
        rc = cbag__str_init(c->arena, &k, key, len);
        if (!rc && len <= 64) {
            kc->ptr = key;
            kc->copy = k.u.s;
            kc->len = (uint32_t)len;
            kc->epoch = c->arena->epoch;
        }
    }
    if (!rc) rc = cbag__dict_put_new(c->arena, d, &k, x);
    if (rc) fail_rc(c, rc, "cbag_set");
    return rc;
}

int cbag_setv(cbag_call *c, cbag_val *d, const cbag_val *key,
              const cbag_val *x) {
    if (!d || !key || !x) return null_arg(c, "cbag_setv");
    if (dict_check(c, d, "cbag_setv")) return CBAG_INVALID;
    int rc = cbag__dict_put(c->arena, d, key, x);
    if (rc) fail_rc(c, rc, "cbag_setv");
    return rc;
}

const cbag_val *cbag_copy(cbag_call *c, const cbag_val *v) {
    if (!v) {
        null_arg(c, "cbag_copy");
        return NULL;
    }
    if (v->type == CBAG_NULL) return &cbag__none;
    if (v->type == CBAG_BOOL) return cbag_bool(v->u.i);
    cbag_val *d = cbag__arena_alloc(c->arena, sizeof *d);
    if (!d) return cbag__call_oom(c);
    int rc = cbag__copy_into(c->arena, d, v);
    return rc ? fail_rc(c, rc, "cbag_copy") : d;
}

const cbag_val *cbag_key(cbag_call *c, const cbag_val *d, const char *key) {
    if (!key) {
        null_arg(c, "cbag_key");
        return NULL;
    }
    if (!d || d->type != CBAG_DICT) {
        if (!d && c->code != CBAG_OK) return NULL; /* an earlier failure */
        cbag_type t = cbag_typeof(d);
        if (t == CBAG_LIST || t == CBAG_TUPLE)
            cbag__call_fail(c, CBAG_TYPE,
                            "TypeError: %s indices must be integers or "
                            "slices, not str",
                            cbag_type_name(t));
        else if (t == CBAG_STR)
            cbag__call_fail(c, CBAG_TYPE,
                            "TypeError: string indices must be integers, "
                            "not 'str'");
        else
            cbag__call_fail(c, CBAG_TYPE,
                            "TypeError: '%s' object is not subscriptable",
                            cbag_type_name(t));
        return NULL;
    }
    size_t len = strlen(key);
    long i = cbag__dict_find_str(d, key, len);
    if (i >= 0) return &d->u.dict->entries[i].val;
    /* The key as Python's KeyError shows it: its repr. */
    cbag_val k;
    cbag__set_str_ref(&k, key, len > CBAG__MAX_LEN ? 200 : (uint32_t)len);
    cbag__buf b = CBAG__BUF_INIT;
    if (cbag__repr(&b, &k) == CBAG_OK && cbag__buf_putc(&b, '\0') == 0)
        cbag__call_fail(c, CBAG_KEY, "KeyError: %s", b.p);
    else
        cbag__call_fail(c, CBAG_KEY, "KeyError: '%s'", key);
    cbag__buf_free(&b);
    return NULL;
}
