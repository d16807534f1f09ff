/* value.h: the layout of cbag_val and the internal value API.
 *
 * A value is 16 bytes: a type tag and an 8-byte payload. Scalars are held
 * inline. Strings point at bytes in an arena. Lists, tuples and dicts point
 * at a body that holds the length and the element array, so a copied value
 * header (as stored inside another container) shares the body and sees
 * later appends while the container is being built. Elements are stored
 * inline (arrays of cbag_val, dict entries as key/value pairs) so walking a
 * parsed record touches few cache lines. */
#ifndef CBAG_VALUE_H
#define CBAG_VALUE_H

#include <stdint.h>
#include <string.h>

#include "cbag.h"
#include "arena.h"

typedef struct cbag__seq cbag__seq;
typedef struct cbag__dict cbag__dict;

struct cbag_val {
    uint8_t type; /* cbag_type */
    uint8_t pad[3];
    uint32_t len; /* string byte length */
    union {
        int64_t i; /* int, bool (0/1) */
        double f;
        const char *s;
        cbag__seq *seq;
        cbag__dict *dict;
    } u;
};

struct cbag__seq {
    uint32_t len, cap;
    cbag_val *items;
};

typedef struct cbag__entry {
    cbag_val key, val;
} cbag__entry;

/* Dicts of more than CBAG__DICT_LINEAR entries get an open-addressing
 * index of entry numbers + 1 (0 = empty), kept at most half full. */
#define CBAG__DICT_LINEAR 8
struct cbag__dict {
    uint32_t len, cap;
    cbag__entry *entries;
    uint32_t *index;
    uint32_t index_mask; /* slots - 1, or 0 without index */
    /* What the cbag language made: a plain dict, a set (the keys; values
     * None), a Counter or a defaultdict (printed "tag{...})", its default
     * factory in aux, opaque here). */
    uint8_t kind;
    const char *tag;
    const void *aux;
};
enum {
    CBAG__DICT_PLAIN,
    CBAG__DICT_SET,
    CBAG__DICT_COUNTER,
    CBAG__DICT_DEFAULT
};

/* The maximum length of a string, list or dict (uint32 lengths). */
#define CBAG__MAX_LEN 0xFFFFFFFFu

/* Constructors in an arena; NULL on allocation failure. */
static inline void cbag__set_int(cbag_val *v, int64_t i) {
    v->type = CBAG_INT;
    v->u.i = i;
}
static inline void cbag__set_float(cbag_val *v, double f) {
    v->type = CBAG_FLOAT;
    v->u.f = f;
}
static inline void cbag__set_bool(cbag_val *v, int b) {
    v->type = CBAG_BOOL;
    v->u.i = b != 0;
}
static inline void cbag__set_null(cbag_val *v) {
    v->type = CBAG_NULL;
    v->u.i = 0;
}
/* s points at len bytes that live at least as long as v (no copy). */
static inline void cbag__set_str_ref(cbag_val *v, const char *s, uint32_t len) {
    v->type = CBAG_STR;
    v->len = len;
    v->u.s = s;
}
cbag_val *cbag__val_new(cbag__arena *a, cbag_type t);
/* A string value holding a copy of s. */
int cbag__str_init(cbag__arena *a, cbag_val *v, const char *s, size_t len);
/* A list or tuple body with room for cap elements, len 0. */
int cbag__seq_init(cbag__arena *a, cbag_val *v, cbag_type t, size_t cap);
int cbag__seq_push(cbag__arena *a, cbag_val *seq, const cbag_val *x);
int cbag__dict_init(cbag__arena *a, cbag_val *v, size_t cap);
/* d[key] = val, replacing an equal key's value in place. */
int cbag__dict_put(cbag__arena *a, cbag_val *d, const cbag_val *key,
                   const cbag_val *val);
/* Appends without checking for an equal key: the caller knows it is new. */
int cbag__dict_put_new(cbag__arena *a, cbag_val *d, const cbag_val *key,
                       const cbag_val *val);
/* The order in which CPython iterates a set of these elements (ints and
 * bools only: other hashes are not Python's) as entry numbers into order
 * (len(s) of them); false if it does not apply. */
bool cbag__set_order(const cbag_val *s, uint32_t *order);
/* Removes entry i (later entries move down, the index is rebuilt). */
void cbag__dict_remove(cbag_val *d, uint32_t i);
static inline int cbag__is_set(const cbag_val *v) {
    return v && v->type == CBAG_DICT && v->u.dict->kind == CBAG__DICT_SET;
}
/* Index of an entry whose key equals the string, or -1. */
long cbag__dict_find_str(const cbag_val *d, const char *key, size_t len);
long cbag__dict_find(const cbag_val *d, const cbag_val *key);
/* A deep copy of v into *dst, allocated in a. */
int cbag__copy_into(cbag__arena *a, cbag_val *dst, const cbag_val *v);

static inline uint32_t cbag__len(const cbag_val *v) {
    switch (v->type) {
    case CBAG_STR: return v->len;
    case CBAG_LIST:
    case CBAG_TUPLE: return v->u.seq->len;
    case CBAG_DICT: return v->u.dict->len;
    default: return 0;
    }
}
static inline int cbag__is_seq(const cbag_val *v) {
    return v && (v->type == CBAG_LIST || v->type == CBAG_TUPLE);
}
static inline int cbag__is_num(const cbag_val *v) {
    return v && (v->type == CBAG_INT || v->type == CBAG_FLOAT ||
                 v->type == CBAG_BOOL);
}

/* Hash of a string's bytes as cbag_hash would hash the string value. */
uint64_t cbag__hash_str(const char *s, size_t len);

extern const cbag_val cbag__none;
extern const cbag_val cbag__true;
extern const cbag_val cbag__false;

#endif
