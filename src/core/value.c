/* value.c: the dynamic value model (see value.h): construction, reading,
 * dicts with an open-addressing index, deep copy, and Python's equality,
 * a total order and a stable hash.
 *
 * Everything lives in an arena. Containers grow by allocating a larger
 * array in the arena and abandoning the old one: the arena frees it all at
 * once, and a value header stored elsewhere keeps pointing at the body,
 * which is never moved. */
#include "value.h"

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

static inline int key_is_str(const cbag_val *k, const char *s, size_t len) {
    return k->type == CBAG_STR && k->len == len &&
           (len == 0 || memcmp(k->u.s, s, len) == 0);
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
    size_t len = strlen(key);
    long i = cbag__dict_find_str(d, key, len);
    if (i >= 0) {
        d->u.dict->entries[i].val = *x;
        return CBAG_OK;
    }
    cbag_val k;
    int rc = cbag__str_init(c->arena, &k, key, len);
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

/* ------------------------------------------------------------------------ */
/* Equality and order                                                       */

static inline int is_intlike(const cbag_val *v) {
    return v->type == CBAG_INT || v->type == CBAG_BOOL;
}

/* 2**63 as a double: the first double above every int64. */
#define TWO63 9223372036854775808.0

/* Compares an int64 with a double exactly, never rounding the int: -1, 0,
 * 1, or 2 when d is NaN. */
static int cmp_int_double(int64_t i, double d) {
    if (isnan(d)) return 2;
    if (d >= TWO63) return -1;
    if (d < -TWO63) return 1;
    /* |d| < 2**63: its integer part is an exact int64. */
    int64_t t = (int64_t)d;
    if (i != t) return i < t ? -1 : 1;
    double frac = d - (double)t; /* exact */
    return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

/* Compares two numbers exactly: -1, 0, 1, or 2 when either is NaN. */
static int cmp_num(const cbag_val *a, const cbag_val *b) {
    if (is_intlike(a)) {
        if (is_intlike(b)) return (a->u.i > b->u.i) - (a->u.i < b->u.i);
        return cmp_int_double(a->u.i, b->u.f);
    }
    if (is_intlike(b)) {
        int r = cmp_int_double(b->u.i, a->u.f);
        return r == 2 ? 2 : -r;
    }
    double x = a->u.f, y = b->u.f;
    if (isnan(x) || isnan(y)) return 2;
    return (x > y) - (x < y);
}

bool cbag_eq(const cbag_val *a, const cbag_val *b) {
    if (!a) a = &cbag__none;
    if (!b) b = &cbag__none;
    if (cbag__is_num(a) && cbag__is_num(b)) return cmp_num(a, b) == 0;
    if (a->type != b->type) return false;
    switch (a->type) {
    case CBAG_NULL: return true;
    case CBAG_STR:
        return a->len == b->len &&
               (a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *s = a->u.seq, *t = b->u.seq;
        if (s->len != t->len) return false;
        for (uint32_t i = 0; i < s->len; i++)
            if (!cbag_eq(&s->items[i], &t->items[i])) return false;
        return true;
    }
    case CBAG_DICT: {
        const cbag__dict *s = a->u.dict, *t = b->u.dict;
        if (s->len != t->len) return false;
        /* Same keys, equal values, in any order. Equal dicts usually list
         * their keys in the same order, so try the same position first. */
        for (uint32_t i = 0; i < s->len; i++) {
            const cbag__entry *e = &s->entries[i];
            const cbag_val *other;
            if (cbag_eq(&e->key, &t->entries[i].key)) {
                other = &t->entries[i].val;
            } else {
                long j = cbag__dict_find(b, &e->key);
                if (j < 0) return false;
                other = &t->entries[j].val;
            }
            if (!cbag_eq(&e->val, other)) return false;
        }
        return true;
    }
    default: return false;
    }
}

/* The kinds in order: numbers < None < str < tuple < list < dict. */
static int kind_rank(const cbag_val *v) {
    switch (v->type) {
    case CBAG_BOOL:
    case CBAG_INT:
    case CBAG_FLOAT: return 0;
    case CBAG_NULL: return 1;
    case CBAG_STR: return 2;
    case CBAG_TUPLE: return 3;
    case CBAG_LIST: return 4;
    default: return 5;
    }
}

static inline int is_nan(const cbag_val *v) {
    return v->type == CBAG_FLOAT && isnan(v->u.f);
}

static int entry_cmp(const cbag__entry *x, const cbag__entry *y) {
    int r = cbag_cmp(&x->key, &y->key);
    return r ? r : cbag_cmp(&x->val, &y->val);
}

/* The smallest entry above prev (all when prev is NULL), and in *mult how
 * many entries compare equal to it. */
static const cbag__entry *next_entry(const cbag__dict *d,
                                     const cbag__entry *prev, uint32_t *mult) {
    const cbag__entry *best = NULL;
    uint32_t m = 0;
    for (uint32_t i = 0; i < d->len; i++) {
        const cbag__entry *e = &d->entries[i];
        if (prev && entry_cmp(e, prev) <= 0) continue;
        int r = best ? entry_cmp(e, best) : -1;
        if (r < 0) {
            best = e;
            m = 1;
        } else if (r == 0) {
            m++;
        }
    }
    *mult = m;
    return best;
}

/* Compares two dicts of equal length as their sorted lists of entries,
 * walking both in order without sorting: quadratic, for small dicts or
 * when no memory can be had for sorting. */
static int dict_cmp_walk(const cbag__dict *a, const cbag__dict *b) {
    const cbag__entry *pa = NULL, *pb = NULL;
    for (;;) {
        uint32_t ma, mb;
        const cbag__entry *ea = next_entry(a, pa, &ma);
        const cbag__entry *eb = next_entry(b, pb, &mb);
        if (!ea || !eb) return (ea != NULL) - (eb != NULL);
        int r = entry_cmp(ea, eb);
        if (r) return r;
        /* The one with fewer copies of this entry goes on with a greater
         * one where the other still repeats it (lengths are equal). */
        if (ma != mb) return ma < mb ? 1 : -1;
        pa = ea;
        pb = eb;
    }
}

/* Sorts entry numbers by entry_cmp: a bottom-up merge sort, since the C
 * library's qsort has no context argument in C11. */
static void sort_entries(const cbag__dict *d, uint32_t *p, uint32_t *tmp) {
    uint32_t n = d->len;
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n;
            uint32_t hi = mid + w < n ? mid + w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = entry_cmp(&d->entries[p[j]], &d->entries[p[i]]) < 0
                               ? p[j++]
                               : p[i++];
            while (i < mid)
                tmp[k++] = p[i++];
            while (j < hi)
                tmp[k++] = p[j++];
        }
        memcpy(p, tmp, n * sizeof *p);
        if (w > UINT32_MAX / 2) break;
    }
}

/* Dicts order by length, then as their entries sorted by (key, value):
 * arbitrary but total, and consistent with the order-independent
 * equality (equal dicts compare 0 whatever their insertion order). */
static int dict_cmp(const cbag__dict *a, const cbag__dict *b) {
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    uint32_t n = a->len;
    /* Same entries in the same order: equal, the common case. */
    uint32_t i = 0;
    while (i < n && entry_cmp(&a->entries[i], &b->entries[i]) == 0)
        i++;
    if (i == n) return 0;
    if (n <= 32) return dict_cmp_walk(a, b);
    /* No overflow: the entries already take 32 bytes each. */
    uint32_t *p = cbag__malloc(4 * (size_t)n * sizeof *p);
    if (!p) return dict_cmp_walk(a, b);
    uint32_t *pa = p, *pb = p + n, *tmp = p + 2 * (size_t)n;
    for (i = 0; i < n; i++)
        pa[i] = pb[i] = i;
    sort_entries(a, pa, tmp);
    sort_entries(b, pb, tmp);
    int r = 0;
    for (i = 0; i < n && !r; i++)
        r = entry_cmp(&a->entries[pa[i]], &b->entries[pb[i]]);
    cbag__free(p);
    return r;
}

int cbag_cmp(const cbag_val *a, const cbag_val *b) {
    if (!a) a = &cbag__none;
    if (!b) b = &cbag__none;
    int ra = kind_rank(a), rb = kind_rank(b);
    if (ra != rb) return ra < rb ? -1 : 1;
    switch (a->type) {
    case CBAG_BOOL:
    case CBAG_INT:
    case CBAG_FLOAT: {
        int r = cmp_num(a, b);
        if (r != 2) return r;
        /* NaN after every number, equal to itself for ordering. */
        return is_nan(a) - is_nan(b);
    }
    case CBAG_NULL: return 0;
    case CBAG_STR: {
        /* UTF-8 byte order is code point order. */
        uint32_t n = a->len < b->len ? a->len : b->len;
        int r = n ? memcmp(a->u.s, b->u.s, n) : 0;
        if (r) return r < 0 ? -1 : 1;
        return (a->len > b->len) - (a->len < b->len);
    }
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *s = a->u.seq, *t = b->u.seq;
        uint32_t n = s->len < t->len ? s->len : t->len;
        for (uint32_t i = 0; i < n; i++) {
            int r = cbag_cmp(&s->items[i], &t->items[i]);
            if (r) return r;
        }
        return (s->len > t->len) - (s->len < t->len);
    }
    default: return dict_cmp(a->u.dict, b->u.dict);
    }
}

/* ------------------------------------------------------------------------ */
/* Hashing                                                                  */
/*
 * XXH3 over explicit little-endian encodings, with one seed per kind, so
 * hashes are the same on every machine and in every run. Equal values hash
 * equal: bools and integral floats hash as the int of the same value.
 */

#define SEED_NUM 0x6e756d6265722121ull   /* ints, integral floats */
#define SEED_FLOAT 0x666c6f6174212121ull /* other floats */
#define SEED_STR 0x7374722121212121ull
#define SEED_LIST 0x6c69737421212121ull
#define SEED_TUPLE 0x7475706c65212121ull
#define SEED_DICT 0x6469637421212121ull
#define SEED_ENTRY 0x656e747279212121ull
#define HASH_NONE 0x9e3779b97f4a7c15ull
#define HASH_NAN 0x7ff8000000000000ull

static inline void put_le64(unsigned char *p, uint64_t x) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

static inline uint64_t hash_u64(uint64_t x, uint64_t seed) {
    unsigned char b[8];
    put_le64(b, x);
    return XXH3_64bits_withSeed(b, sizeof b, seed);
}

static inline uint64_t hash_pair(uint64_t x, uint64_t y, uint64_t seed) {
    unsigned char b[16];
    put_le64(b, x);
    put_le64(b + 8, y);
    return XXH3_64bits_withSeed(b, sizeof b, seed);
}

static uint64_t hash_double(double d) {
    if (isnan(d)) return HASH_NAN;
    if (d >= -TWO63 && d < TWO63 && d == (double)(int64_t)d)
        return hash_u64((uint64_t)(int64_t)d, SEED_NUM); /* -0.0 too */
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return hash_u64(bits, SEED_FLOAT);
}

uint64_t cbag__hash_str(const char *s, size_t len) {
    return XXH3_64bits_withSeed(len ? s : "", len, SEED_STR);
}

uint64_t cbag_hash(const cbag_val *v) {
    if (!v) return HASH_NONE;
    switch (v->type) {
    case CBAG_BOOL:
    case CBAG_INT: return hash_u64((uint64_t)v->u.i, SEED_NUM);
    case CBAG_FLOAT: return hash_double(v->u.f);
    case CBAG_STR: return cbag__hash_str(v->u.s, v->len);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        uint64_t seed = v->type == CBAG_LIST ? SEED_LIST : SEED_TUPLE;
        const cbag__seq *s = v->u.seq;
        uint64_t h = seed;
        for (uint32_t i = 0; i < s->len; i++)
            h = hash_pair(h, cbag_hash(&s->items[i]), seed);
        return hash_pair(h, s->len, seed);
    }
    case CBAG_DICT: {
        /* A sum of entry hashes does not depend on the order. */
        const cbag__dict *d = v->u.dict;
        uint64_t sum = 0;
        for (uint32_t i = 0; i < d->len; i++)
            sum += hash_pair(cbag_hash(&d->entries[i].key),
                             cbag_hash(&d->entries[i].val), SEED_ENTRY);
        return hash_pair(sum, d->len, SEED_DICT);
    }
    default: return HASH_NONE;
    }
}
