/* mutate.c: containers changed in place: x[k] = v, del x[k], the list
 * methods pop, insert, remove, sort, reverse, clear, the dict methods pop,
 * popitem, setdefault, clear, and sets (a dict marked as a set, its keys
 * the elements): set(), {a, b}, their methods and operators. Only
 * containers built by the same evaluation may change (cbag__own): values
 * from records and other threads are shared. */
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "lang.h"
#include "value.h"

int cbag__not_owned(cbag__st *st, const cbag__node *at, const char *what) {
    return cbag__err(st, at, E_TYPE,
                     "this %s was not built here and cannot be modified; "
                     "copy it first (list(x), dict(x), set(x))",
                     what);
}

/* A copy of the header of x (an element about to leave its container) in
 * the call's arena, where the results of callbacks live. */
static int take(cbag__st *st, const cbag__node *at, const cbag_val *x,
                cbag__lv *out) {
    cbag_val *v = cbag__arena_alloc(st->c->arena, sizeof *v);
    if (!v) return cbag__oom(st, at);
    *v = *x;
    *out = cbag__val(v);
    return 0;
}

static int none_out(cbag__lv *out) {
    *out = cbag__val(cbag_none());
    return 0;
}

/* A list index as Python reads it (negative from the end); -1 when out
 * of range. */
static int64_t index_of(const cbag_val *l, int64_t i) {
    int64_t n = (int64_t)cbag_len(l);
    if (i < 0) i += n;
    return i < 0 || i >= n ? -1 : i;
}

static int int_arg(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const char *what, int64_t *out) {
    if (x->k == LV_VAL && (cbag_typeof(LVV(*x)) == CBAG_INT ||
                           cbag_typeof(LVV(*x)) == CBAG_BOOL)) {
        *out = cbag_int_value(LVV(*x));
        return 0;
    }
    return cbag__err(st, at, E_TYPE,
                     "%s indices must be integers or slices, not %s", what,
                     cbag__lv_type(x));
}

/* ------------------------------------------------------------------------ */
/* x[k] = v, del x[k]                                                       */

int cbag__setitem(cbag__st *st, const cbag__node *at, const cbag__lv *c,
                  const cbag__lv *k, const cbag__lv *v) {
    const cbag_val *cv, *kv, *vv;
    if (cbag__need_val(st, at, c, &cv) || cbag__need_val(st, at, v, &vv))
        return -1;
    cbag_type t = cbag_typeof(cv);
    if (t == CBAG_DICT && !cbag__is_set(cv)) {
        if (cbag__need_val(st, at, k, &kv)) return -1;
        if (!cbag__owned(st, cv)) return cbag__not_owned(st, at, "dict");
        if (cbag_setv(st->c, (cbag_val *)cv, kv, vv)) return cbag__oom(st, at);
        return 0;
    }
    if (t == CBAG_LIST) {
        int64_t i;
        if (int_arg(st, at, k, "list", &i)) return -1;
        if (!cbag__owned(st, cv)) return cbag__not_owned(st, at, "list");
        if ((i = index_of(cv, i)) < 0)
            return cbag__err(st, at, E_INDEX,
                             "list assignment index out of range");
        cv->u.seq->items[i] = *vv;
        return 0;
    }
    return cbag__err(st, at, E_TYPE,
                     "'%s' object does not support item assignment",
                     cbag__lv_type(c));
}

int cbag__delitem(cbag__st *st, const cbag__node *at, const cbag__lv *c,
                  const cbag__lv *k) {
    const cbag_val *cv, *kv;
    if (cbag__need_val(st, at, c, &cv)) return -1;
    cbag_type t = cbag_typeof(cv);
    if (t == CBAG_DICT && !cbag__is_set(cv)) {
        if (cbag__need_val(st, at, k, &kv)) return -1;
        if (!cbag__owned(st, cv)) return cbag__not_owned(st, at, "dict");
        long i = cbag__dict_find(cv, kv);
        if (i < 0) return cbag__subscr(st, at, c, k, &(cbag__lv){0});
        cbag__dict_remove((cbag_val *)cv, (uint32_t)i);
        return 0;
    }
    if (t == CBAG_LIST) {
        int64_t i;
        if (int_arg(st, at, k, "list", &i)) return -1;
        if (!cbag__owned(st, cv)) return cbag__not_owned(st, at, "list");
        if ((i = index_of(cv, i)) < 0)
            return cbag__err(st, at, E_INDEX,
                             "list assignment index out of range");
        cbag__seq *s = cv->u.seq;
        memmove(&s->items[i], &s->items[i + 1],
                (s->len - (size_t)i - 1) * sizeof *s->items);
        s->len--;
        return 0;
    }
    return cbag__err(st, at, E_TYPE,
                     "'%s' object doesn't support item deletion",
                     cbag__lv_type(c));
}

/* ------------------------------------------------------------------------ */
/* Lists                                                                    */

static int list_sort(cbag__st *st, const cbag__node *at, cbag_val *l,
                     const cbag__args *a, cbag__lv *out) {
    if (a->n)
        return cbag__err(st, at, E_TYPE,
                         "sort() takes no positional arguments");
    cbag__lv sorted, r;
    cbag__builtin_lookup("sorted", &sorted);
    cbag__lv self = cbag__val(l);
    cbag__args sa = {1, &self, a->nkw, a->kw};
    if (cbag__call(st, at, &sorted, &sa, &r)) return -1;
    memcpy(l->u.seq->items, LVV(r)->u.seq->items,
           l->u.seq->len * sizeof *l->u.seq->items);
    return none_out(out);
}

int cbag__list_method(cbag__st *st, const cbag__node *at, cbag_val *l,
                      const char *m, const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"pop",     "insert", "remove", "sort",
                                        "reverse", "clear",  NULL};
    int id = 0;
    while (names[id] && strcmp(names[id], m) != 0)
        id++;
    if (!names[id]) return 1;
    if (!cbag__owned(st, l)) return cbag__not_owned(st, at, "list");
    if (id != 3 && a->nkw)
        return cbag__err(st, at, E_TYPE, "%s() takes no keyword arguments", m);
    cbag__seq *s = l->u.seq;
    switch (id) {
    case 0: { /* pop([i]) */
        if (cbag__argn(st, "pop", a, 0, 1)) return -1;
        int64_t i = -1;
        if (a->n && int_arg(st, at, &a->v[0], "list", &i)) return -1;
        if (s->len == 0)
            return cbag__err(st, at, E_INDEX, "pop from empty list");
        if ((i = index_of(l, i)) < 0)
            return cbag__err(st, at, E_INDEX, "pop index out of range");
        if (take(st, at, &s->items[i], out)) return -1;
        memmove(&s->items[i], &s->items[i + 1],
                (s->len - (size_t)i - 1) * sizeof *s->items);
        s->len--;
        return 0;
    }
    case 1: { /* insert(i, x): i clamped as Python does */
        if (cbag__argn(st, "insert", a, 2, 2)) return -1;
        int64_t i, n = (int64_t)s->len;
        const cbag_val *x;
        if (int_arg(st, at, &a->v[0], "list", &i) ||
            cbag__need_val(st, at, &a->v[1], &x))
            return -1;
        if (i < 0) i = i + n < 0 ? 0 : i + n;
        if (i > n) i = n;
        cbag_val xv = *x; /* x may be an element of l, which may move */
        if (cbag_append(st->c, l, &xv)) return cbag__oom(st, at);
        s = l->u.seq;
        memmove(&s->items[i + 1], &s->items[i],
                (size_t)(n - i) * sizeof *s->items);
        s->items[i] = xv;
        return none_out(out);
    }
    case 2: { /* remove(x) */
        if (cbag__argn(st, "remove", a, 1, 1)) return -1;
        const cbag_val *x;
        if (cbag__need_val(st, at, &a->v[0], &x)) return -1;
        for (uint32_t i = 0; i < s->len; i++)
            if (cbag_eq(&s->items[i], x)) {
                memmove(&s->items[i], &s->items[i + 1],
                        (s->len - i - 1) * sizeof *s->items);
                s->len--;
                return none_out(out);
            }
        return cbag__err(st, at, E_VALUE, "list.remove(x): x not in list");
    }
    case 3: return list_sort(st, at, l, a, out);
    case 4: /* reverse() */
        if (cbag__argn(st, "reverse", a, 0, 0)) return -1;
        for (uint32_t i = 0, j = s->len; i + 1 < j; i++, j--) {
            cbag_val t = s->items[i];
            s->items[i] = s->items[j - 1];
            s->items[j - 1] = t;
        }
        return none_out(out);
    default: /* clear() */
        if (cbag__argn(st, "clear", a, 0, 0)) return -1;
        s->len = 0;
        return none_out(out);
    }
}

/* ------------------------------------------------------------------------ */
/* Dicts                                                                    */

int cbag__dict_method(cbag__st *st, const cbag__node *at, cbag_val *d,
                      const char *m, const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"pop", "popitem", "setdefault", "clear",
                                        NULL};
    int id = 0;
    while (names[id] && strcmp(names[id], m) != 0)
        id++;
    if (!names[id]) return 1;
    if (a->nkw)
        return cbag__err(st, at, E_TYPE, "%s() takes no keyword arguments", m);
    if (!cbag__owned(st, d)) return cbag__not_owned(st, at, "dict");
    switch (id) {
    case 0: { /* pop(k[, default]) */
        if (cbag__argn(st, "pop", a, 1, 2)) return -1;
        const cbag_val *k;
        if (cbag__need_val(st, at, &a->v[0], &k)) return -1;
        long i = cbag__dict_find(d, k);
        if (i < 0) {
            if (a->n == 2) {
                *out = a->v[1];
                return 0;
            }
            cbag__lv dl = cbag__val(d);
            return cbag__subscr(st, at, &dl, &a->v[0], out);
        }
        if (take(st, at, &d->u.dict->entries[i].val, out)) return -1;
        cbag__dict_remove(d, (uint32_t)i);
        return 0;
    }
    case 1: { /* popitem(): the last pair */
        if (cbag__argn(st, "popitem", a, 0, 0)) return -1;
        uint32_t n = d->u.dict->len;
        if (n == 0)
            return cbag__err(st, at, E_KEY, "'popitem(): dictionary is empty'");
        const cbag_val *kv[2] = {&d->u.dict->entries[n - 1].key,
                                 &d->u.dict->entries[n - 1].val};
        cbag_val *t = cbag_new_tuplev(st->c, 2, kv);
        if (!t) return cbag__oom(st, at);
        cbag__dict_remove(d, n - 1);
        *out = cbag__val(t);
        return 0;
    }
    case 2: { /* setdefault(k[, default]) */
        if (cbag__argn(st, "setdefault", a, 1, 2)) return -1;
        const cbag_val *k, *v = cbag_none();
        if (cbag__need_val(st, at, &a->v[0], &k) ||
            (a->n == 2 && cbag__need_val(st, at, &a->v[1], &v)))
            return -1;
        const cbag_val *cur = cbag_getv(d, k);
        if (!cur) {
            if (cbag_setv(st->c, d, k, v)) return cbag__oom(st, at);
            cur = v;
        }
        *out = cbag__val(cur);
        return 0;
    }
    default: /* clear() */
        if (cbag__argn(st, "clear", a, 0, 0)) return -1;
        d->u.dict->len = 0;
        if (d->u.dict->index_mask)
            memset(d->u.dict->index, 0,
                   ((size_t)d->u.dict->index_mask + 1) *
                       sizeof *d->u.dict->index);
        return none_out(out);
    }
}

/* ------------------------------------------------------------------------ */
/* Sets                                                                     */

bool cbag__is_set_val(const cbag_val *v) { return cbag__is_set(v); }

bool cbag__set_order_of(const cbag_val *s, uint32_t *order) {
    return cbag__set_order(s, order);
}

cbag_val *cbag__new_set(cbag__st *st, const cbag__node *at) {
    cbag_val *s = cbag_new_dict(st->c, 8);
    if (!s) {
        cbag__oom(st, at);
        return NULL;
    }
    s->u.dict->kind = CBAG__DICT_SET;
    return cbag__own(st, s) ? NULL : s;
}

int cbag__set_add(cbag__st *st, const cbag__node *at, cbag_val *s,
                  const cbag__lv *x) {
    const cbag_val *v;
    if (cbag__need_val(st, at, x, &v)) return -1;
    cbag_type t = cbag_typeof(v);
    if (t == CBAG_LIST || t == CBAG_DICT)
        return cbag__err(st, at, E_TYPE, "unhashable type: '%s'",
                         cbag__lv_type(x));
    if (cbag_getv(s, v)) return 0;
    return cbag_setv(st->c, s, v, cbag_none()) ? cbag__oom(st, at) : 0;
}

/* A new set of the elements of x. */
static cbag_val *set_of(cbag__st *st, const cbag__node *at, const cbag__lv *x) {
    cbag_val *s = cbag__new_set(st, at);
    cbag__iter it;
    if (!s || cbag__iter_init(st, at, x, &it)) return NULL;
    for (;;) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0 || (r && cbag__set_add(st, at, s, &e))) return NULL;
        if (r == 0) return s;
    }
}

int cbag__bi_set(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "set", a, 0, 1)) return -1;
    cbag_val *s = a->n ? set_of(st, NULL, &a->v[0]) : cbag__new_set(st, NULL);
    if (!s) return -1;
    *out = cbag__val(s);
    return 0;
}

static bool has(const cbag_val *s, const cbag_val *x) {
    return cbag_getv(s, x) != NULL;
}

/* a op b for sets: '|', '&', '-', '^' a new set; comparisons (subset,
 * superset) into *cmp as 0/1 for OP_LE, OP_GE, '<', '>'. */
int cbag__set_op(cbag__st *st, const cbag__node *at, int op, const cbag_val *a,
                 const cbag_val *b, cbag__lv *out) {
    size_t na = cbag_len(a), nb = cbag_len(b);
    if (op == OP_LE || op == OP_GE || op == '<' || op == '>') {
        const cbag_val *x = op == OP_LE || op == '<' ? a : b;
        const cbag_val *y = x == a ? b : a;
        bool sub = true;
        for (size_t i = 0; i < cbag_len(x) && sub; i++)
            sub = has(y, cbag_dict_key(x, i));
        bool strict = op == '<' || op == '>';
        *out = cbag__val(cbag_bool(sub && (!strict || na != nb)));
        return 0;
    }
    cbag_val *r = cbag__new_set(st, at);
    if (!r) return -1;
    for (int side = 0; side < 2; side++) {
        const cbag_val *x = side ? b : a, *y = side ? a : b;
        for (size_t i = 0; i < (side ? nb : na); i++) {
            const cbag_val *e = cbag_dict_key(x, i);
            bool in = has(y, e);
            bool keep = op == '|'   ? true
                        : op == '&' ? !side && in
                        : op == '-' ? !side && !in
                                    : !in; /* '^' */
            if (keep && cbag_setv(st->c, r, e, cbag_none()))
                return cbag__oom(st, at);
        }
    }
    *out = cbag__val(r);
    return 0;
}

int cbag__set_method(cbag__st *st, const cbag__node *at, cbag_val *s,
                     const char *m, const cbag__args *a, cbag__lv *out) {
    static const struct {
        const char *name;
        int op; /* the operator it is, or 0 */
        bool mut;
    } ms[] = {{"add", 0, true},           {"discard", 0, true},
              {"remove", 0, true},        {"pop", 0, true},
              {"clear", 0, true},         {"update", '|', true},
              {"union", '|', false},      {"intersection", '&', false},
              {"difference", '-', false}, {"symmetric_difference", '^', false},
              {"issubset", OP_LE, false}, {"issuperset", OP_GE, false},
              {"isdisjoint", 'd', false}, {"copy", 'c', false}};
    size_t id = 0, nms = sizeof ms / sizeof ms[0];
    while (id < nms && strcmp(ms[id].name, m) != 0)
        id++;
    if (id == nms) return 1;
    if (a->nkw)
        return cbag__err(st, at, E_TYPE, "%s() takes no keyword arguments", m);
    if (ms[id].mut && !cbag__owned(st, s))
        return cbag__not_owned(st, at, "set");
    int op = ms[id].op;
    if (op == 'c') {
        cbag__lv x = cbag__val(s);
        cbag_val *r = set_of(st, at, &x);
        if (!r) return -1;
        *out = cbag__val(r);
        return 0;
    }
    if (op) { /* with any iterables: union(a, b), update(x) */
        cbag__lv acc = cbag__val(s);
        if (op == 'd' || op == OP_LE || op == OP_GE) {
            if (cbag__argn(st, m, a, 1, 1)) return -1;
        }
        for (size_t i = 0; i < a->n; i++) {
            cbag_val *o = set_of(st, at, &a->v[i]);
            if (!o) return -1;
            if (op == 'd') {
                cbag__lv both;
                if (cbag__set_op(st, at, '&', s, o, &both)) return -1;
                *out = cbag__val(cbag_bool(cbag_len(LVV(both)) == 0));
                return 0;
            }
            if (cbag__set_op(st, at, op, LVV(acc), o, &acc)) return -1;
        }
        if (!ms[id].mut) {
            if (a->n == 0) { /* s.union(): a copy */
                cbag_val *r = set_of(st, at, &acc);
                if (!r) return -1;
                acc = cbag__val(r);
            }
            *out = acc;
            return 0;
        }
        for (size_t i = 0; i < cbag_len(LVV(acc)); i++)
            if (cbag_setv(st->c, s, cbag_dict_key(LVV(acc), i), cbag_none()))
                return cbag__oom(st, at);
        return none_out(out);
    }
    if (!strcmp(m, "clear") || !strcmp(m, "pop")) {
        if (cbag__argn(st, m, a, 0, 0)) return -1;
        uint32_t n = s->u.dict->len;
        if (m[0] == 'c') {
            while (n)
                cbag__dict_remove(s, --n);
            return none_out(out);
        }
        if (n == 0) return cbag__err(st, at, E_KEY, "'pop from an empty set'");
        if (take(st, at, &s->u.dict->entries[0].key, out)) return -1;
        cbag__dict_remove(s, 0);
        return 0;
    }
    if (cbag__argn(st, m, a, 1, 1)) return -1;
    if (m[0] == 'a') {
        if (cbag__set_add(st, at, s, &a->v[0])) return -1;
        return none_out(out);
    }
    const cbag_val *x;
    if (cbag__need_val(st, at, &a->v[0], &x)) return -1;
    long i = cbag__dict_find(s, x);
    if (i >= 0) cbag__dict_remove(s, (uint32_t)i);
    if (i < 0 && m[0] == 'r') {
        char *rep = cbag_format(x, CBAG_FMT_REPR, NULL);
        int rc = cbag__err(st, at, E_KEY, "%.200s", rep ? rep : "?");
        st->err_key = x;
        free(rep);
        return rc;
    }
    return none_out(out);
}

bool cbag__has_set(const cbag_val *v) {
    if (cbag__is_set(v)) return true;
    cbag_type t = cbag_typeof(v);
    for (size_t i = 0; i < cbag_len(v) && t != CBAG_STR; i++)
        if ((t == CBAG_DICT && cbag__has_set(cbag_dict_value(v, i))) ||
            (t != CBAG_DICT && cbag__has_set(cbag_at(v, (int64_t)i))))
            return true;
    return false;
}
