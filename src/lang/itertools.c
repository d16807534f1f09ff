/* itertools.c: functools.reduce and the itertools a data program uses:
 * chain, islice, product, combinations, permutations, groupby, zip_longest,
 * accumulate, repeat. They make lists (cbag has no lazy iterators): the
 * same elements in the same order, for a program that iterates them or
 * passes them to list() or sorted(). */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static int ret_list(cbag__st *st, cbag_val *l, cbag__lv *out) {
    if (!l) return cbag__oom(st, NULL);
    if (cbag__own(st, l)) return -1;
    *out = cbag__val(l);
    return 0;
}

static int append(cbag__st *st, cbag_val *l, const cbag__lv *x) {
    const cbag_val *v;
    if (cbag__need_val(st, NULL, x, &v)) return -1;
    return cbag_append(st->c, l, v) ? cbag__oom(st, NULL) : 0;
}

/* functools.reduce(f, iterable[, initial]) */
static int ft_reduce(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "reduce", a, 2, 3)) return -1;
    cbag__iter it;
    if (cbag__iter_init(st, NULL, &a->v[1], &it)) return -1;
    cbag__lv acc;
    bool have = a->n == 3;
    if (have) acc = a->v[2];
    for (;;) {
        cbag__lv e, ab[2];
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) return -1;
        if (r == 0) break;
        if (!have) {
            acc = e;
            have = true;
            continue;
        }
        ab[0] = acc;
        ab[1] = e;
        cbag__args two = {2, ab, 0, NULL};
        if (cbag__call(st, NULL, &a->v[0], &two, &acc)) return -1;
    }
    if (!have)
        return cbag__err(st, NULL, E_TYPE,
                         "reduce() of empty iterable with no initial value");
    *out = acc;
    return 0;
}

static int it_chain(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    cbag_val *l = cbag_new_list(st->c, 8);
    for (size_t i = 0; l && i < a->n; i++) {
        cbag__iter it;
        if (cbag__iter_init(st, NULL, &a->v[i], &it)) return -1;
        for (;;) {
            cbag__lv e;
            int r = cbag__iter_next(st, &it, &e);
            if (r < 0 || (r && append(st, l, &e))) return -1;
            if (r == 0) break;
        }
    }
    return ret_list(st, l, out);
}

static int int_arg(cbag__st *st, const cbag__lv *x, const char *what,
                   int64_t *out) {
    if (x->k == LV_VAL && (cbag_typeof(LVV(*x)) == CBAG_INT ||
                           cbag_typeof(LVV(*x)) == CBAG_BOOL)) {
        *out = cbag_int_value(LVV(*x));
        return 0;
    }
    return cbag__err(st, NULL, E_VALUE, "%s must be an int", what);
}

/* islice(it, stop) or islice(it, start, stop[, step]) */
static int it_islice(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "islice", a, 2, 4)) return -1;
    cbag__lv none = cbag__val(cbag_none());
    const cbag__lv *lo = a->n > 2 ? &a->v[1] : &none,
                   *hi = a->n > 2 ? &a->v[2] : &a->v[1],
                   *step = a->n > 3 ? &a->v[3] : &none;
    cbag_val *l;
    if (cbag__to_list(st, NULL, &a->v[0], &l)) return -1;
    cbag__lv lv = cbag__val(l);
    return cbag__slice(st, NULL, &lv, lo, hi, step, out);
}

/* The elements of each argument as lists (product, zip_longest). */
static int lists_of(cbag__st *st, const cbag__args *a, cbag_val **ls) {
    for (size_t i = 0; i < a->n; i++)
        if (cbag__to_list(st, NULL, &a->v[i], &ls[i])) return -1;
    return 0;
}

static int it_product(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    int64_t rep = 1;
    const cbag__lv *r = cbag__kwarg(a, "repeat");
    if (r && int_arg(st, r, "repeat", &rep)) return -1;
    if (a->n * (size_t)(rep > 0 ? rep : 0) > 32)
        return cbag__err(st, NULL, E_VALUE, "product() of too many lists");
    cbag_val *ls[32];
    if (lists_of(st, a, ls)) return -1;
    size_t k = a->n * (size_t)(rep > 0 ? rep : 0), idx[32] = {0};
    cbag_val *l = cbag_new_list(st->c, 8);
    for (size_t i = 0; i < k; i++)
        if (cbag_len(ls[i % a->n]) == 0) return ret_list(st, l, out);
    while (l) { /* odometer order, the last list fastest */
        const cbag_val *t[32];
        for (size_t i = 0; i < k; i++)
            t[i] = cbag_at(ls[i % a->n], (int64_t)idx[i]);
        if (cbag_append(st->c, l, cbag_new_tuplev(st->c, k, t))) l = NULL;
        size_t j = k;
        while (j > 0 && ++idx[j - 1] == cbag_len(ls[(j - 1) % a->n]))
            idx[--j] = 0;
        if (j == 0) break;
    }
    return ret_list(st, l, out);
}

/* combinations(it, r) and permutations(it[, r]), in Python's order. */
static int choose(cbag__st *st, const cbag__args *a, cbag__lv *out, bool perm) {
    if (cbag__argn(st, perm ? "permutations" : "combinations", a, perm ? 1 : 2,
                   2))
        return -1;
    cbag_val *src;
    if (cbag__to_list(st, NULL, &a->v[0], &src)) return -1;
    size_t n = cbag_len(src);
    int64_t r = (int64_t)n;
    if (a->n == 2 && int_arg(st, &a->v[1], "r", &r)) return -1;
    if (r < 0) return cbag__err(st, NULL, E_VALUE, "r must be non-negative");
    cbag_val *l = cbag_new_list(st->c, 8);
    if ((size_t)r > n || r > 32) return ret_list(st, l, out);
    size_t k = (size_t)r, idx[32];
    bool used[64] = {0};
    if (perm && n > 64)
        return cbag__err(st, NULL, E_VALUE, "permutations of too many items");
    /* depth-first over positions: lexicographic index order */
    size_t d = 0;
    idx[0] = 0;
    if (k == 0) {
        cbag_append(st->c, l, cbag_new_tuple(st->c, 0));
        return ret_list(st, l, out);
    }
    while (l) {
        if (idx[d] >= n) { /* back up */
            if (d == 0) break;
            d--;
            if (perm) used[idx[d]] = false;
            idx[d]++;
            continue;
        }
        if (perm && used[idx[d]]) {
            idx[d]++;
            continue;
        }
        if (d + 1 == k) {
            const cbag_val *t[32];
            for (size_t i = 0; i < k; i++)
                t[i] = cbag_at(src, (int64_t)idx[i]);
            if (cbag_append(st->c, l, cbag_new_tuplev(st->c, k, t))) l = NULL;
            idx[d]++;
            continue;
        }
        if (perm) used[idx[d]] = true;
        idx[d + 1] = perm ? 0 : idx[d] + 1;
        d++;
    }
    return ret_list(st, l, out);
}
static int it_combinations(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return choose(st, a, out, false);
}
static int it_permutations(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return choose(st, a, out, true);
}

/* groupby(it, key=None): (key, [elements]) for each run of equal keys. */
static int it_groupby(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "groupby", a, 1, 2)) return -1;
    const cbag__lv *key = a->n == 2 ? &a->v[1] : cbag__kwarg(a, "key");
    if (key && key->k == LV_VAL && cbag_is_null(LVV(*key))) key = NULL;
    cbag__iter it;
    if (cbag__iter_init(st, NULL, &a->v[0], &it)) return -1;
    cbag_val *l = cbag_new_list(st->c, 8), *grp = NULL;
    const cbag_val *cur = NULL;
    for (;;) {
        cbag__lv e, k;
        const cbag_val *kv;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) return -1;
        if (r == 0) break;
        k = e;
        if (key && cbag__call1(st, key, &e, &k)) return -1;
        if (cbag__need_val(st, NULL, &k, &kv)) return -1;
        if (!grp || !cbag_eq(cur, kv)) {
            grp = cbag_new_list(st->c, 4);
            const cbag_val *t[2] = {kv, grp};
            if (!grp || cbag__own(st, grp) ||
                cbag_append(st->c, l, cbag_new_tuplev(st->c, 2, t)))
                return st->err ? -1 : cbag__oom(st, NULL);
            /* the tuple holds a copy of grp's header: append through it */
            const cbag_val *last = cbag_at(l, (int64_t)cbag_len(l) - 1);
            grp = (cbag_val *)cbag_at(last, 1);
            cur = kv;
        }
        if (append(st, grp, &e)) return -1;
    }
    return ret_list(st, l, out);
}

static int it_zip_longest(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (a->n > 32) return cbag__err(st, NULL, E_VALUE, "too many lists");
    const cbag__lv *fv = cbag__kwarg(a, "fillvalue");
    const cbag_val *fill = cbag_none();
    if (fv && cbag__need_val(st, NULL, fv, &fill)) return -1;
    cbag_val *ls[32];
    if (lists_of(st, a, ls)) return -1;
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        if (cbag_len(ls[i]) > n) n = cbag_len(ls[i]);
    cbag_val *l = cbag_new_list(st->c, n);
    for (size_t k = 0; l && k < n; k++) {
        const cbag_val *t[32];
        for (size_t i = 0; i < a->n; i++)
            t[i] = k < cbag_len(ls[i]) ? cbag_at(ls[i], (int64_t)k) : fill;
        if (cbag_append(st->c, l, cbag_new_tuplev(st->c, a->n, t))) l = NULL;
    }
    return ret_list(st, l, out);
}

/* accumulate(it[, func], initial=None): running results. */
static int it_accumulate(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "accumulate", a, 1, 2)) return -1;
    const cbag__lv *f = a->n == 2 ? &a->v[1] : cbag__kwarg(a, "func");
    const cbag__lv *init = cbag__kwarg(a, "initial");
    if (f && f->k == LV_VAL && cbag_is_null(LVV(*f))) f = NULL;
    cbag__iter it;
    if (cbag__iter_init(st, NULL, &a->v[0], &it)) return -1;
    cbag_val *l = cbag_new_list(st->c, 8);
    cbag__lv acc;
    bool have = init && !(init->k == LV_VAL && cbag_is_null(LVV(*init)));
    if (have) {
        acc = *init;
        if (append(st, l, &acc)) return -1;
    }
    for (;;) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) return -1;
        if (r == 0) break;
        if (!have) {
            acc = e;
            have = true;
        } else if (f) {
            cbag__lv ab[2] = {acc, e};
            cbag__args two = {2, ab, 0, NULL};
            if (cbag__call(st, NULL, f, &two, &acc)) return -1;
        } else if (cbag__binop(st, NULL, '+', &acc, &e, &acc)) {
            return -1;
        }
        if (append(st, l, &acc)) return -1;
    }
    return ret_list(st, l, out);
}

static int it_repeat(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    int64_t n;
    if (cbag__argn(st, "repeat", a, 2, 2) || int_arg(st, &a->v[1], "times", &n))
        return -1;
    cbag_val *l = cbag_new_list(st->c, n > 0 ? (size_t)n : 0);
    for (int64_t i = 0; l && i < n; i++)
        if (append(st, l, &a->v[0])) return -1;
    return ret_list(st, l, out);
}

#define F(name, fn)                                                            \
    { name, &(const cbag__builtin){name, fn, BI_OTHER}, NULL, 0 }
static const cbag__modattr functools_attrs[] = {F("reduce", ft_reduce),
                                                {NULL, NULL, NULL, 0}};
const cbag__module cbag__functools_module = {"functools", functools_attrs};
static const cbag__modattr itertools_attrs[] = {
    F("chain", it_chain),
    F("islice", it_islice),
    F("product", it_product),
    F("combinations", it_combinations),
    F("permutations", it_permutations),
    F("groupby", it_groupby),
    F("zip_longest", it_zip_longest),
    F("accumulate", it_accumulate),
    F("repeat", it_repeat),
    {NULL, NULL, NULL, 0}};
const cbag__module cbag__itertools_module = {"itertools", itertools_attrs};
