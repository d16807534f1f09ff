/* collections.c: the collections module's Counter and defaultdict, as dicts
 * marked with their kind (printed Counter({...}) and defaultdict(<class
 * 'list'>, {...}), written as JSON objects): a Counter reads a missing key
 * as 0, most_common() and update() count; a defaultdict inserts its
 * factory's value for a missing key. */
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "lang.h"
#include "value.h"

static int ret(cbag__st *st, const cbag_val *v, cbag__lv *out) {
    if (!v) return cbag__oom(st, NULL);
    *out = cbag__val(v);
    return 0;
}

/* Adds n to the count of key x in c. */
static int count(cbag__st *st, cbag_val *c, const cbag_val *x, int64_t n) {
    const cbag_val *cur = cbag_getv(c, x);
    int64_t v = n;
    if (cur && (cbag_typeof(cur) == CBAG_INT || cbag_typeof(cur) == CBAG_BOOL))
        v += cbag_int_value(cur);
    const cbag_val *nv = cbag_new_int(st->c, v);
    if (!nv || cbag_setv(st->c, c, x, nv)) return cbag__oom(st, NULL);
    return 0;
}

/* Counts the elements of x (or adds a mapping's counts) into c. */
static int count_all(cbag__st *st, cbag_val *c, const cbag__lv *x) {
    if (x->k == LV_VAL && cbag_typeof(LVV(*x)) == CBAG_DICT &&
        !cbag__is_set(LVV(*x))) {
        const cbag_val *d = LVV(*x);
        for (size_t i = 0; i < cbag_len(d); i++) {
            const cbag_val *n = cbag_dict_value(d, i);
            if (cbag_typeof(n) != CBAG_INT)
                return cbag__err(st, NULL, E_TYPE,
                                 "Counter counts must be ints here, not %s",
                                 cbag_type_name(cbag_typeof(n)));
            if (count(st, c, cbag_dict_key(d, i), cbag_int_value(n))) return -1;
        }
        return 0;
    }
    cbag__iter it;
    if (cbag__iter_init(st, NULL, x, &it)) return -1;
    for (;;) {
        cbag__lv e;
        const cbag_val *v;
        int r = cbag__iter_next(st, &it, &e);
        if (r <= 0) return r;
        if (cbag__need_val(st, NULL, &e, &v)) return -1;
        cbag_type t = cbag_typeof(v);
        if (t == CBAG_LIST || t == CBAG_DICT)
            return cbag__err(st, NULL, E_TYPE, "unhashable type: '%s'",
                             cbag__lv_type(&e));
        if (count(st, c, v, 1)) return -1;
    }
}

static cbag_val *new_kind(cbag__st *st, int kind, const char *tag) {
    cbag_val *d = cbag_new_dict(st->c, 8);
    if (!d) {
        cbag__oom(st, NULL);
        return NULL;
    }
    d->u.dict->kind = (uint8_t)kind;
    d->u.dict->tag = tag;
    return cbag__own(st, d) ? NULL : d;
}

static int bi_counter(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "Counter", a, 0, 1)) return -1;
    cbag_val *c = new_kind(st, CBAG__DICT_COUNTER, "Counter(");
    if (!c || (a->n && count_all(st, c, &a->v[0]))) return -1;
    for (size_t i = 0; i < a->nkw; i++) { /* Counter(a=1) */
        const cbag_val *n;
        if (cbag__need_val(st, NULL, &a->kw[i].v, &n)) return -1;
        const cbag_val *k = cbag_new_strz(st->c, a->kw[i].name);
        if (!k || cbag_setv(st->c, c, k, n)) return cbag__oom(st, NULL);
    }
    *out = cbag__val(c);
    return 0;
}

/* The factory of a defaultdict: a builtin type, or a function that closes
 * over nothing (it may be called on any thread, after the call that made
 * it returned). Kept in the call's arena, with the dict. */
typedef struct factory {
    int k;
    const void *a;
} factory;

static int bi_defaultdict(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "defaultdict", a, 0, 2)) return -1;
    const cbag__lv *f = a->n ? &a->v[0] : NULL;
    if (f && f->k == LV_VAL && cbag_is_null(LVV(*f))) f = NULL;
    if (f && !(f->k == LV_BUILTIN || (f->k == LV_FUNC && !f->b)))
        return cbag__err(st, NULL, E_TYPE,
                         f->k == LV_FUNC
                             ? "defaultdict: a function defined inside "
                               "another one is not supported as the factory"
                             : "first argument must be callable or None");
    const char *tag = "defaultdict(None, ";
    if (f) {
        const char *name = f->k == LV_BUILTIN
                               ? ((const cbag__builtin *)f->a)->name
                               : ((const cbag__node *)f->a)->s;
        const cbag_val *t =
            cbag_new_strf(st->c,
                          f->k == LV_BUILTIN ? "defaultdict(<class '%s'>, "
                                             : "defaultdict(<function %s>, ",
                          name);
        if (!t) return cbag__oom(st, NULL);
        tag = cbag_str(t, NULL);
    }
    cbag_val *d = new_kind(st, CBAG__DICT_DEFAULT, tag);
    if (!d) return -1;
    if (f) {
        factory *fx = cbag__arena_alloc(st->c->arena, sizeof *fx);
        if (!fx) return cbag__oom(st, NULL);
        fx->k = f->k;
        fx->a = f->a;
        d->u.dict->aux = fx;
    }
    if (a->n == 2) { /* initial items */
        cbag__lv dictfn, init;
        cbag__builtin_lookup("dict", &dictfn);
        cbag__args one = {1, &a->v[1], 0, NULL};
        if (cbag__call(st, NULL, &dictfn, &one, &init)) return -1;
        const cbag_val *s = LVV(init);
        for (size_t i = 0; i < cbag_len(s); i++)
            if (cbag_setv(st->c, d, cbag_dict_key(s, i), cbag_dict_value(s, i)))
                return cbag__oom(st, NULL);
    }
    *out = cbag__val(d);
    return 0;
}

int cbag__dict_missing(cbag__st *st, const cbag__node *at, const cbag_val *d,
                       const cbag_val *key, cbag__lv *out) {
    const cbag__dict *b = d->u.dict;
    if (b->kind == CBAG__DICT_COUNTER)
        return ret(st, cbag_new_int(st->c, 0), out);
    if (b->kind != CBAG__DICT_DEFAULT || !b->aux) return 1;
    if (!cbag__owned(st, d))
        return cbag__err(st, at, E_TYPE,
                         "this defaultdict was not built here and cannot be "
                         "modified; copy it first (dict(d))");
    const factory *fx = b->aux;
    cbag__lv f = {fx->k, fx->a, NULL}, v;
    cbag__args none = {0, NULL, 0, NULL};
    const cbag_val *vv;
    if (cbag__call(st, at, &f, &none, &v) || cbag__need_val(st, at, &v, &vv))
        return -1;
    if (cbag_setv(st->c, (cbag_val *)d, key, vv)) return cbag__oom(st, at);
    *out = cbag__val(cbag_getv(d, key)); /* the stored one: changes stay */
    return 0;
}

/* most_common([n]): (key, count) pairs, largest first, ties in order. */
typedef struct mc {
    const cbag_val *v;
    size_t i;
} mc;

static int mc_cmp(const void *pa, const void *pb) {
    const mc *a = pa, *b = pb;
    int c = cbag_cmp(b->v, a->v);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

static int most_common(cbag__st *st, const cbag__node *at, const cbag_val *c,
                       const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "most_common", a, 0, 1)) return -1;
    size_t n = cbag_len(c), k = n;
    if (a->n && !(a->v[0].k == LV_VAL && cbag_is_null(LVV(a->v[0])))) {
        if (a->v[0].k != LV_VAL || cbag_typeof(LVV(a->v[0])) != CBAG_INT)
            return cbag__err(st, at, E_TYPE, "most_common() needs an int");
        int64_t want = cbag_int_value(LVV(a->v[0]));
        k = want < 0 ? 0 : (size_t)want < n ? (size_t)want : n;
    }
    mc *m = malloc((n ? n : 1) * sizeof *m);
    if (!m) return cbag__oom(st, at);
    for (size_t i = 0; i < n; i++)
        m[i] = (mc){cbag_dict_value(c, i), i};
    qsort(m, n, sizeof *m, mc_cmp);
    cbag_val *l = cbag_new_list(st->c, k);
    for (size_t i = 0; l && i < k; i++) {
        const cbag_val *p[2] = {cbag_dict_key(c, m[i].i), m[i].v};
        if (cbag_append(st->c, l, cbag_new_tuplev(st->c, 2, p))) l = NULL;
    }
    free(m);
    if (!l || cbag__own(st, l)) return st->err ? -1 : cbag__oom(st, at);
    return ret(st, l, out);
}

int cbag__counter_method(cbag__st *st, const cbag__node *at, cbag_val *c,
                         const char *m, const cbag__args *a, cbag__lv *out) {
    if (!strcmp(m, "most_common")) return most_common(st, at, c, a, out);
    if (!strcmp(m, "update")) {
        if (cbag__argn(st, "update", a, 0, 1)) return -1;
        if (!cbag__owned(st, c))
            return cbag__err(st, at, E_TYPE,
                             "this Counter was not built here and cannot be "
                             "modified");
        if (a->n && count_all(st, c, &a->v[0])) return -1;
        return ret(st, cbag_none(), out);
    }
    if (!strcmp(m, "total")) {
        int64_t t = 0;
        for (size_t i = 0; i < cbag_len(c); i++)
            t += cbag_int_value(cbag_dict_value(c, i));
        return ret(st, cbag_new_int(st->c, t), out);
    }
    if (!strcmp(m, "elements")) {
        cbag_val *l = cbag_new_list(st->c, 8);
        for (size_t i = 0; l && i < cbag_len(c); i++)
            for (int64_t k = cbag_int_value(cbag_dict_value(c, i)); k > 0; k--)
                if (cbag_append(st->c, l, cbag_dict_key(c, i))) l = NULL;
        if (!l || cbag__own(st, l)) return st->err ? -1 : cbag__oom(st, at);
        return ret(st, l, out);
    }
    return 1;
}

/* c + d, c - d for Counters: positive counts only. */
int cbag__counter_op(cbag__st *st, const cbag__node *at, int op,
                     const cbag_val *x, const cbag_val *y, cbag__lv *out) {
    cbag_val *r = new_kind(st, CBAG__DICT_COUNTER, "Counter(");
    if (!r) return -1;
    for (int side = 0; side < 2; side++) {
        const cbag_val *s = side ? y : x;
        for (size_t i = 0; i < cbag_len(s); i++)
            if (count(st, r, cbag_dict_key(s, i),
                      (side && op == '-' ? -1 : 1) *
                          cbag_int_value(cbag_dict_value(s, i))))
                return -1;
    }
    for (size_t i = cbag_len(r); i-- > 0;)
        if (cbag_int_value(cbag_dict_value(r, i)) <= 0)
            cbag__dict_remove(r, (uint32_t)i);
    (void)at;
    return ret(st, r, out);
}

bool cbag__is_counter(const cbag_val *v) {
    return v && cbag_typeof(v) == CBAG_DICT &&
           v->u.dict->kind == CBAG__DICT_COUNTER;
}

#define F(name, fn)                                                            \
    { name, &(const cbag__builtin){name, fn, BI_OTHER}, NULL, 0 }
static const cbag__modattr collections_attrs[] = {
    F("Counter", bi_counter),
    F("defaultdict", bi_defaultdict),
    {NULL, NULL, NULL, 0}};
const cbag__module cbag__collections_module = {"collections",
                                               collections_attrs};
