/* builtins.c: Python's builtin functions (len, sum, sorted, ...) on cbag
 * values. Each takes its arguments as a cbag__args and builds its result
 * on the state's call handle. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

/* ------------------------------------------------------------------------ */
/* Argument helpers                                                         */

const cbag__lv *cbag__kwarg(const cbag__args *a, const char *name) {
    for (size_t i = 0; i < a->nkw; i++)
        if (strcmp(a->kw[i].name, name) == 0) return &a->kw[i].v;
    return NULL;
}

int cbag__argn(cbag__st *st, const char *fname, const cbag__args *a, size_t lo,
               size_t hi) {
    if (a->n < lo || a->n > hi) {
        if (lo == hi)
            return cbag__err(st, NULL, E_TYPE,
                             "%s() takes exactly %zu argument%s (%zu given)",
                             fname, lo, lo == 1 ? "" : "s", a->n);
        return cbag__err(st, NULL, E_TYPE,
                         "%s() takes from %zu to %zu arguments (%zu given)",
                         fname, lo, hi, a->n);
    }
    return 0;
}

/* Rejects keywords other than those listed (NULL-terminated). */
static int only_kw(cbag__st *st, const char *fname, const cbag__args *a,
                   const char *const *ok) {
    for (size_t i = 0; i < a->nkw; i++) {
        bool found = false;
        for (const char *const *k = ok; k && *k; k++)
            if (strcmp(*k, a->kw[i].name) == 0) found = true;
        if (!found)
            return cbag__err(st, NULL, E_TYPE,
                             "%s() got an unexpected keyword argument '%s'",
                             fname, a->kw[i].name);
    }
    return 0;
}

/* Argument i, or the keyword name, or NULL. */
static const cbag__lv *arg(const cbag__args *a, size_t i, const char *name) {
    if (i < a->n) return &a->v[i];
    return name ? cbag__kwarg(a, name) : NULL;
}

static bool is_none(const cbag__lv *x) {
    return !x || (x->k == LV_VAL && cbag_is_null(LVV(*x)));
}

static int ret_val(cbag__st *st, const cbag_val *v, cbag__lv *out) {
    if (!v) return cbag__oom(st, NULL);
    *out = cbag__val(v);
    return 0;
}

static int ret_int(cbag__st *st, int64_t i, cbag__lv *out) {
    return ret_val(st, cbag_new_int(st->c, i), out);
}

static int need_int(cbag__st *st, const char *what, const cbag__lv *x,
                    int64_t *out) {
    if (x->k == LV_VAL) {
        cbag_type t = cbag_typeof(LVV(*x));
        if (t == CBAG_INT || t == CBAG_BOOL) {
            *out = cbag_int_value(LVV(*x));
            return 0;
        }
    }
    return cbag__err(st, NULL, E_TYPE, "%s must be an integer, not '%s'", what,
                     cbag__lv_type(x));
}

/* ------------------------------------------------------------------------ */
/* Sizes and numbers                                                        */

static int bi_len(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "len", a, 1, 1)) return -1;
    const cbag__lv *x = &a->v[0];
    if (x->k == LV_SEQ)
        return ret_int(st, (int64_t)((const cbag__lseq *)x->a)->n, out);
    if (cbag__frame_kind(x->k)) {
        int64_t n;
        if (cbag__frame_len(st, NULL, x, &n)) return -1;
        return ret_int(st, n, out);
    }
    if (x->k == LV_VAL) {
        const cbag_val *v = LVV(*x);
        switch (cbag_typeof(v)) {
        case CBAG_STR: {
            size_t l;
            const char *s = cbag_str(v, &l);
            return ret_int(st, (int64_t)cbag__utf8_len(s, l), out);
        }
        case CBAG_LIST:
        case CBAG_TUPLE:
        case CBAG_DICT: return ret_int(st, (int64_t)cbag_len(v), out);
        default: break;
        }
    }
    return cbag__err(st, NULL, E_TYPE, "object of type '%s' has no len()",
                     cbag__lv_type(x));
}

static int bi_sum(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const kws[] = {"start", NULL};
    if (cbag__argn(st, "sum", a, 1, 2) || only_kw(st, "sum", a, kws)) return -1;
    const cbag__lv *start = arg(a, 1, "start");
    cbag__lv acc = start ? *start : cbag__val(cbag_new_int(st->c, 0));
    if (!acc.a) return cbag__oom(st, NULL);
    if (acc.k == LV_VAL && cbag_typeof(LVV(acc)) == CBAG_STR)
        return cbag__err(st, NULL, E_TYPE,
                         "sum() can't sum strings [use ''.join(seq) instead]");
    cbag__iter it;
    if (cbag__iter_init(st, NULL, &a->v[0], &it)) return -1;
    /* ints accumulate in a register: no value per step */
    int64_t iacc = 0;
    bool in_int = acc.k == LV_VAL && cbag_typeof(LVV(acc)) == CBAG_INT;
    if (in_int) iacc = cbag_int_value(LVV(acc));
    for (;;) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) return -1;
        if (r == 0) break;
        if (in_int && e.k == LV_VAL &&
            (cbag_typeof(LVV(e)) == CBAG_INT ||
             cbag_typeof(LVV(e)) == CBAG_BOOL)) {
            if (__builtin_add_overflow(iacc, cbag_int_value(LVV(e)), &iacc))
                return cbag__err(st, NULL, E_OVERFLOW,
                                 "integer result out of range (cbag ints are "
                                 "64-bit)");
            continue;
        }
        if (in_int) {
            if (ret_int(st, iacc, &acc)) return -1;
            in_int = false;
        }
        if (cbag__binop(st, NULL, '+', &acc, &e, &acc)) return -1;
    }
    if (in_int) return ret_int(st, iacc, out);
    *out = acc;
    return 0;
}

/* min and max: over one iterable or several arguments; key=, default=. */
static int minmax(cbag__st *st, const cbag__args *a, cbag__lv *out, bool max) {
    static const char *const kws[] = {"key", "default", NULL};
    const char *name = max ? "max" : "min";
    if (only_kw(st, name, a, kws)) return -1;
    if (a->n == 0)
        return cbag__err(st, NULL, E_TYPE,
                         "%s expected at least 1 argument, got 0", name);
    const cbag__lv *key = cbag__kwarg(a, "key");
    const cbag__lv *dflt = cbag__kwarg(a, "default");
    if (key && is_none(key)) key = NULL;
    cbag__iter it;
    cbag__lseq *tmp = NULL;
    cbag__lv one;
    if (a->n == 1) {
        one = a->v[0];
    } else {
        if (dflt)
            return cbag__err(st, NULL, E_TYPE,
                             "Cannot specify a default for %s() with multiple "
                             "positional arguments",
                             name);
        tmp = malloc(sizeof *tmp + a->n * sizeof(cbag__lv));
        if (!tmp) return cbag__oom(st, NULL);
        tmp->n = a->n;
        tmp->tuple = true;
        memcpy(tmp->items, a->v, a->n * sizeof(cbag__lv));
        one.k = LV_SEQ;
        one.a = tmp;
        one.b = NULL;
    }
    int rc = cbag__iter_init(st, NULL, &one, &it);
    bool have = false;
    cbag__lv best = {0}, bestk = {0};
    while (rc == 0) {
        cbag__lv e, k;
        int r = cbag__iter_next(st, &it, &e);
        if (r <= 0) {
            rc = r;
            break;
        }
        k = e;
        if (key && cbag__call1(st, key, &e, &k)) {
            rc = -1;
            break;
        }
        if (!have) {
            best = e;
            bestk = k;
            have = true;
            continue;
        }
        int c;
        if (cbag__order(st, NULL, &k, &bestk, &c)) {
            rc = -1;
            break;
        }
        if (max ? c > 0 : c < 0) {
            best = e;
            bestk = k;
        }
    }
    free(tmp);
    if (rc) return -1;
    if (!have) {
        if (dflt) {
            *out = *dflt;
            return 0;
        }
        return cbag__err(st, NULL, E_VALUE, "%s() arg is an empty sequence",
                         name);
    }
    *out = best;
    return 0;
}
static int bi_min(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return minmax(st, a, out, false);
}
static int bi_max(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return minmax(st, a, out, true);
}

static int bi_abs(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "abs", a, 1, 1)) return -1;
    const cbag__lv *x = &a->v[0];
    if (x->k == LV_VAL) {
        const cbag_val *v = LVV(*x);
        cbag_type t = cbag_typeof(v);
        if (t == CBAG_INT || t == CBAG_BOOL) {
            int64_t i = cbag_int_value(v);
            if (i == INT64_MIN)
                return cbag__err(st, NULL, E_OVERFLOW,
                                 "integer result out of range (cbag ints are "
                                 "64-bit)");
            return ret_int(st, i < 0 ? -i : i, out);
        }
        if (t == CBAG_FLOAT)
            return ret_val(st, cbag_new_float(st->c, fabs(cbag_float_value(v))),
                           out);
    }
    return cbag__err(st, NULL, E_TYPE, "bad operand type for abs(): '%s'",
                     cbag__lv_type(x));
}

/* Text to a number as Python's int() and float() accept it. */
static int parse_int(cbag__st *st, const char *s, size_t l, int base,
                     int64_t *out) {
    char buf[128];
    size_t n = 0, i = 0;
    while (i < l && strchr(" \t\n\r\f\v", s[i]))
        i++;
    while (l > i && strchr(" \t\n\r\f\v", s[l - 1]))
        l--;
    for (; i < l && n + 1 < sizeof buf; i++) {
        if (s[i] == '_' && n > 0 && i + 1 < l && s[i + 1] != '_') continue;
        buf[n++] = s[i];
    }
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, base);
    if (n == 0 || *end != '\0' || i < l || strchr(buf, ' ') || buf[0] == ' ')
        return cbag__err(st, NULL, E_VALUE,
                         "invalid literal for int() with base %d: '%.*s'", base,
                         (int)(l < 100 ? l : 100), s);
    if (errno == ERANGE)
        return cbag__err(st, NULL, E_OVERFLOW,
                         "int too large for cbag (64-bit): '%.*s'",
                         (int)(l < 100 ? l : 100), s);
    *out = v;
    return 0;
}

static int bi_int(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const kws[] = {"base", NULL};
    if (cbag__argn(st, "int", a, 0, 2) || only_kw(st, "int", a, kws)) return -1;
    if (a->n == 0) return ret_int(st, 0, out);
    const cbag__lv *x = &a->v[0];
    const cbag__lv *bl = arg(a, 1, "base");
    int64_t base = 10;
    if (bl && need_int(st, "base", bl, &base)) return -1;
    if (x->k == LV_VAL) {
        const cbag_val *v = LVV(*x);
        switch (cbag_typeof(v)) {
        case CBAG_BOOL:
        case CBAG_INT: return ret_int(st, cbag_int_value(v), out);
        case CBAG_FLOAT: {
            double d = cbag_float_value(v);
            if (isnan(d))
                return cbag__err(st, NULL, E_VALUE,
                                 "cannot convert float NaN to integer");
            if (isinf(d))
                return cbag__err(st, NULL, E_OVERFLOW,
                                 "cannot convert float infinity to integer");
            d = trunc(d);
            if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
                return cbag__err(st, NULL, E_OVERFLOW,
                                 "int too large for cbag (64-bit)");
            return ret_int(st, (int64_t)d, out);
        }
        case CBAG_STR: {
            size_t l;
            const char *s = cbag_str(v, &l);
            int64_t i = 0;
            if (base < 2 || base > 36)
                return cbag__err(st, NULL, E_VALUE,
                                 "int() base must be >= 2 and <= 36");
            if (parse_int(st, s, l, (int)base, &i)) return -1;
            return ret_int(st, i, out);
        }
        default: break;
        }
    }
    return cbag__err(
        st, NULL, E_TYPE,
        "int() argument must be a string, a bytes-like object or a "
        "real number, not "
        "'%s'",
        cbag__lv_type(x));
}

static int bi_float(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "float", a, 0, 1)) return -1;
    if (a->n == 0) return ret_val(st, cbag_new_float(st->c, 0), out);
    const cbag__lv *x = &a->v[0];
    if (x->k == LV_VAL) {
        const cbag_val *v = LVV(*x);
        cbag_type t = cbag_typeof(v);
        if (t == CBAG_BOOL || t == CBAG_INT || t == CBAG_FLOAT)
            return ret_val(st, cbag_new_float(st->c, cbag_float_value(v)), out);
        if (t == CBAG_STR) {
            size_t l;
            const char *s = cbag_str(v, &l);
            char buf[128];
            size_t n = 0;
            for (size_t i = 0; i < l && n + 1 < sizeof buf; i++)
                if (s[i] != '_') buf[n++] = s[i];
            buf[n] = '\0';
            char *end;
            double d = strtod(buf, &end);
            while (*end && strchr(" \t\n\r\f\v", *end))
                end++;
            bool hex = strchr(buf, 'x') || strchr(buf, 'X');
            if (end == buf || *end || l >= sizeof buf || hex)
                return cbag__err(st, NULL, E_VALUE,
                                 "could not convert string to float: '%.*s'",
                                 (int)(l < 100 ? l : 100), s);
            return ret_val(st, cbag_new_float(st->c, d), out);
        }
    }
    return cbag__err(st, NULL, E_TYPE,
                     "float() argument must be a string or a real number, "
                     "not '%s'",
                     cbag__lv_type(x));
}

static int bi_str(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "str", a, 0, 1)) return -1;
    if (a->n == 0) return ret_val(st, cbag_new_str(st->c, "", 0), out);
    return cbag__str(st, NULL, &a->v[0], false, out);
}

static int bi_repr(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "repr", a, 1, 1)) return -1;
    return cbag__str(st, NULL, &a->v[0], true, out);
}

static int bi_bool(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "bool", a, 0, 1)) return -1;
    *out = cbag__val(cbag_bool(a->n && cbag__truthy(&a->v[0])));
    return 0;
}

static int bi_round(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const kws[] = {"ndigits", NULL};
    if (cbag__argn(st, "round", a, 1, 2) || only_kw(st, "round", a, kws))
        return -1;
    const cbag__lv *x = &a->v[0];
    const cbag__lv *nd = arg(a, 1, "ndigits");
    if (x->k != LV_VAL || !(cbag_typeof(LVV(*x)) == CBAG_INT ||
                            cbag_typeof(LVV(*x)) == CBAG_BOOL ||
                            cbag_typeof(LVV(*x)) == CBAG_FLOAT))
        return cbag__err(st, NULL, E_TYPE,
                         "type %s doesn't define __round__ method",
                         cbag__lv_type(x));
    const cbag_val *v = LVV(*x);
    if (cbag_typeof(v) != CBAG_FLOAT) {
        if (is_none(nd)) return ret_int(st, cbag_int_value(v), out);
        *out = *x; /* round(int, n): the int (negative n not handled) */
        return 0;
    }
    double d = cbag_float_value(v);
    if (is_none(nd)) { /* half to even, as Python */
        if (isnan(d))
            return cbag__err(st, NULL, E_VALUE,
                             "cannot convert float NaN to integer");
        if (isinf(d))
            return cbag__err(st, NULL, E_OVERFLOW,
                             "cannot convert float infinity to integer");
        double r = nearbyint(d);
        if (r < -9223372036854775808.0 || r >= 9223372036854775808.0)
            return cbag__err(st, NULL, E_OVERFLOW,
                             "int too large for cbag (64-bit)");
        return ret_int(st, (int64_t)r, out);
    }
    int64_t n;
    if (need_int(st, "ndigits", nd, &n)) return -1;
    if (!isfinite(d) || n > 300)
        return ret_val(st, cbag_new_float(st->c, d), out);
    double r;
    if (n >= 0) { /* correctly rounded through decimal text, as CPython */
        char buf[512];
        snprintf(buf, sizeof buf, "%.*f", (int)n, d);
        r = strtod(buf, NULL);
    } else {
        double p = pow(10.0, (double)-n);
        r = nearbyint(d / p) * p;
    }
    return ret_val(st, cbag_new_float(st->c, r), out);
}

/* ------------------------------------------------------------------------ */
/* Sorting                                                                  */

typedef struct sortctx {
    cbag__st *st;
    bool reverse;
    int err;
} sortctx;

/* Stable merge sort of items by keys; comparisons may fail. */
static int msort(sortctx *sc, cbag__lv *k, cbag__lv *v, cbag__lv *tk,
                 cbag__lv *tv, size_t n) {
    if (n < 2) return 0;
    size_t h = n / 2;
    if (msort(sc, k, v, tk, tv, h) || msort(sc, k + h, v + h, tk, tv, n - h))
        return -1;
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) {
        int c;
        if (cbag__order(sc->st, NULL, &k[j], &k[i], &c)) return -1;
        /* take from the right only when strictly before the left */
        bool right = sc->reverse ? c > 0 : c < 0;
        if (right) {
            tk[o] = k[j];
            tv[o++] = v[j++];
        } else {
            tk[o] = k[i];
            tv[o++] = v[i++];
        }
    }
    while (i < h)
        tk[o] = k[i], tv[o++] = v[i++];
    while (j < n)
        tk[o] = k[j], tv[o++] = v[j++];
    memcpy(k, tk, n * sizeof *k);
    memcpy(v, tv, n * sizeof *v);
    return 0;
}

static int bi_sorted(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const kws[] = {"key", "reverse", NULL};
    if (cbag__argn(st, "sorted", a, 1, 1) || only_kw(st, "sorted", a, kws))
        return -1;
    const cbag__lv *key = cbag__kwarg(a, "key");
    const cbag__lv *rev = cbag__kwarg(a, "reverse");
    if (key && is_none(key)) key = NULL;
    cbag_val *l;
    if (cbag__to_list(st, NULL, &a->v[0], &l)) return -1;
    size_t n = cbag_len(l);
    cbag__lv *buf = malloc((n ? n : 1) * 4 * sizeof *buf);
    if (!buf) return cbag__oom(st, NULL);
    cbag__lv *k = buf, *v = buf + n, *tk = buf + 2 * n, *tv = buf + 3 * n;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        v[i] = cbag__val(cbag_at(l, (int64_t)i));
        k[i] = v[i];
        if (key) rc = cbag__call1(st, key, &v[i], &k[i]);
    }
    sortctx sc = {st, rev && cbag__truthy(rev), 0};
    if (rc == 0) rc = msort(&sc, k, v, tk, tv, n);
    cbag_val *r = rc == 0 ? cbag_new_list(st->c, n) : NULL;
    if (rc == 0 && !r) rc = cbag__oom(st, NULL);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (cbag_append(st->c, r, LVV(v[i]))) rc = cbag__oom(st, NULL);
    free(buf);
    if (rc) return -1;
    if (cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Containers                                                               */

static int bi_list(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "list", a, 0, 1)) return -1;
    cbag_val *l;
    if (a->n == 0) {
        l = cbag_new_list(st->c, 0);
        if (!l) return cbag__oom(st, NULL);
        if (cbag__own(st, l)) return -1;
    } else if (a->v[0].k == LV_SEQ) {
        const cbag__lseq *s = a->v[0].a;
        cbag__lseq *c = cbag__alloc(st, sizeof *c + s->n * sizeof(cbag__lv));
        if (!c) return cbag__oom(st, NULL);
        memcpy(c, s, sizeof *c + s->n * sizeof(cbag__lv));
        c->tuple = false;
        out->k = LV_SEQ;
        out->a = c;
        out->b = NULL;
        return 0;
    } else if (cbag__to_list(st, NULL, &a->v[0], &l)) {
        return -1;
    }
    *out = cbag__val(l);
    return 0;
}

static int bi_tuple(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "tuple", a, 0, 1)) return -1;
    if (a->n && a->v[0].k == LV_VAL &&
        cbag_typeof(LVV(a->v[0])) == CBAG_TUPLE) {
        *out = a->v[0];
        return 0;
    }
    cbag_val *l = NULL;
    if (a->n && cbag__to_list(st, NULL, &a->v[0], &l)) return -1;
    size_t n = cbag_len(l);
    cbag_val *t = cbag_new_tuple(st->c, n);
    if (!t) return cbag__oom(st, NULL);
    for (size_t i = 0; i < n; i++)
        if (cbag_append(st->c, t, cbag_at(l, (int64_t)i)))
            return cbag__oom(st, NULL);
    *out = cbag__val(t);
    return 0;
}

static int bi_dict(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "dict", a, 0, 1)) return -1;
    cbag_val *d = cbag_new_dict(st->c, 8);
    if (!d) return cbag__oom(st, NULL);
    if (a->n) {
        const cbag__lv *x = &a->v[0];
        if (x->k == LV_VAL && cbag_typeof(LVV(*x)) == CBAG_DICT) {
            const cbag_val *s = LVV(*x);
            for (size_t i = 0; i < cbag_len(s); i++)
                if (cbag_setv(st->c, d, cbag_dict_key(s, i),
                              cbag_dict_value(s, i)))
                    return cbag__oom(st, NULL);
        } else {
            cbag__iter it;
            if (cbag__iter_init(st, NULL, x, &it)) return -1;
            for (size_t i = 0;; i++) {
                cbag__lv e;
                int r = cbag__iter_next(st, &it, &e);
                if (r < 0) return -1;
                if (r == 0) break;
                const cbag_val *p = e.k == LV_VAL ? LVV(e) : NULL;
                cbag_type t = cbag_typeof(p);
                if ((t != CBAG_LIST && t != CBAG_TUPLE) || cbag_len(p) != 2)
                    return cbag__err(st, NULL, E_VALUE,
                                     "dictionary update sequence element #%zu "
                                     "is not a pair",
                                     i);
                if (cbag_setv(st->c, d, cbag_at(p, 0), cbag_at(p, 1)))
                    return cbag__oom(st, NULL);
            }
        }
    }
    for (size_t i = 0; i < a->nkw; i++) {
        const cbag_val *v;
        if (cbag__need_val(st, NULL, &a->kw[i].v, &v)) return -1;
        if (cbag_set(st->c, d, a->kw[i].name, v)) return cbag__oom(st, NULL);
    }
    if (cbag__own(st, d)) return -1;
    *out = cbag__val(d);
    return 0;
}

static int bi_range(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "range", a, 1, 3)) return -1;
    int64_t lo = 0, hi, step = 1;
    if (a->n == 1) {
        if (need_int(st, "range() argument", &a->v[0], &hi)) return -1;
    } else {
        if (need_int(st, "range() argument", &a->v[0], &lo) ||
            need_int(st, "range() argument", &a->v[1], &hi))
            return -1;
        if (a->n == 3 && need_int(st, "range() argument", &a->v[2], &step))
            return -1;
    }
    if (step == 0)
        return cbag__err(st, NULL, E_VALUE, "range() arg 3 must not be zero");
    /* a list: cbag has no lazy range object */
    double count = step > 0 ? ((double)hi - (double)lo) / (double)step
                            : ((double)lo - (double)hi) / (double)-step;
    if (count > 1e8)
        return cbag__err(st, NULL, E_MEMORY,
                         "range() of more than 10^8 elements (cbag builds it "
                         "as a list; use db.range for bags)");
    cbag_val *l = cbag_new_list(st->c, count > 0 ? (size_t)count + 1 : 0);
    if (!l) return cbag__oom(st, NULL);
    for (int64_t i = lo; step > 0 ? i < hi : i > hi;) {
        if (cbag_append(st->c, l, cbag_new_int(st->c, i)))
            return cbag__oom(st, NULL);
        if (__builtin_add_overflow(i, step, &i)) break;
    }
    if (cbag__own(st, l)) return -1;
    *out = cbag__val(l);
    return 0;
}

static int bi_enumerate(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const kws[] = {"start", NULL};
    if (cbag__argn(st, "enumerate", a, 1, 2) ||
        only_kw(st, "enumerate", a, kws))
        return -1;
    int64_t i = 0;
    const cbag__lv *s = arg(a, 1, "start");
    if (s && need_int(st, "start", s, &i)) return -1;
    cbag_val *l;
    if (cbag__to_list(st, NULL, &a->v[0], &l)) return -1;
    size_t n = cbag_len(l);
    cbag_val *r = cbag_new_list(st->c, n);
    if (!r) return cbag__oom(st, NULL);
    for (size_t k = 0; k < n; k++, i++) {
        const cbag_val *t[2] = {cbag_new_int(st->c, i), cbag_at(l, (int64_t)k)};
        if (!t[0] || cbag_append(st->c, r, cbag_new_tuplev(st->c, 2, t)))
            return cbag__oom(st, NULL);
    }
    if (cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

static int bi_zip(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (a->n > 32)
        return cbag__err(st, NULL, E_TYPE, "zip() of too many lists");
    cbag_val *ls[32];
    size_t n = SIZE_MAX;
    for (size_t i = 0; i < a->n; i++) {
        if (cbag__to_list(st, NULL, &a->v[i], &ls[i])) return -1;
        if (cbag_len(ls[i]) < n) n = cbag_len(ls[i]);
    }
    if (a->n == 0) n = 0;
    cbag_val *r = cbag_new_list(st->c, n);
    if (!r) return cbag__oom(st, NULL);
    for (size_t k = 0; k < n; k++) {
        const cbag_val *t[32];
        for (size_t i = 0; i < a->n; i++)
            t[i] = cbag_at(ls[i], (int64_t)k);
        if (cbag_append(st->c, r, cbag_new_tuplev(st->c, a->n, t)))
            return cbag__oom(st, NULL);
    }
    if (cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

static int anyall(cbag__st *st, const cbag__args *a, cbag__lv *out, bool any) {
    if (cbag__argn(st, any ? "any" : "all", a, 1, 1)) return -1;
    cbag__iter it;
    if (cbag__iter_init(st, NULL, &a->v[0], &it)) return -1;
    for (;;) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) return -1;
        if (r == 0) break;
        if (cbag__truthy(&e) == any) {
            *out = cbag__val(cbag_bool(any));
            return 0;
        }
    }
    *out = cbag__val(cbag_bool(!any));
    return 0;
}
static int bi_any(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return anyall(st, a, out, true);
}
static int bi_all(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return anyall(st, a, out, false);
}

static int bi_reversed(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "reversed", a, 1, 1)) return -1;
    cbag_val *l;
    if (cbag__to_list(st, NULL, &a->v[0], &l)) return -1;
    size_t n = cbag_len(l);
    cbag_val *r = cbag_new_list(st->c, n);
    if (!r) return cbag__oom(st, NULL);
    for (size_t i = n; i > 0; i--)
        if (cbag_append(st->c, r, cbag_at(l, (int64_t)i - 1)))
            return cbag__oom(st, NULL);
    if (cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

/* Python's map and filter over one iterable, as lists. */
static int mapfilter(cbag__st *st, const cbag__args *a, cbag__lv *out,
                     bool filter) {
    if (cbag__argn(st, filter ? "filter" : "map", a, 2, 2)) return -1;
    cbag__iter it;
    if (cbag__iter_init(st, NULL, &a->v[1], &it)) return -1;
    cbag_val *r = cbag_new_list(st->c, it.n);
    if (!r) return cbag__oom(st, NULL);
    bool identity = filter && is_none(&a->v[0]);
    for (;;) {
        cbag__lv e, y;
        const cbag_val *v;
        int rc = cbag__iter_next(st, &it, &e);
        if (rc < 0) return -1;
        if (rc == 0) break;
        if (identity)
            y = e;
        else if (cbag__call1(st, &a->v[0], &e, &y))
            return -1;
        if (filter && !cbag__truthy(&y)) continue;
        if (cbag__need_val(st, NULL, filter ? &e : &y, &v)) return -1;
        if (cbag_append(st->c, r, v)) return cbag__oom(st, NULL);
    }
    if (cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}
static int bi_map(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return mapfilter(st, a, out, false);
}
static int bi_filter(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return mapfilter(st, a, out, true);
}

/* ------------------------------------------------------------------------ */
/* Types, printing                                                          */

static bool is_type(const cbag__lv *x, int id) {
    return x->k == LV_BUILTIN && ((const cbag__builtin *)x->a)->id == id;
}

static bool instance_of(const cbag__lv *x, const cbag__lv *t) {
    if (t->k == LV_SEQ) {
        const cbag__lseq *s = t->a;
        for (size_t i = 0; i < s->n; i++)
            if (instance_of(x, &s->items[i])) return true;
        return false;
    }
    if (x->k == LV_EXC) return cbag__exc_isinstance(x, t);
    if (x->k != LV_VAL) return false;
    if (cbag__is_set_val(LVV(*x))) return is_type(t, BI_SET);
    switch (cbag_typeof(LVV(*x))) {
    case CBAG_NULL: return is_type(t, BI_NONETYPE);
    case CBAG_BOOL: return is_type(t, BI_BOOL) || is_type(t, BI_INT);
    case CBAG_INT: return is_type(t, BI_INT);
    case CBAG_FLOAT: return is_type(t, BI_FLOAT);
    case CBAG_STR: return is_type(t, BI_STR);
    case CBAG_LIST: return is_type(t, BI_LIST);
    case CBAG_TUPLE: return is_type(t, BI_TUPLE);
    case CBAG_DICT: return is_type(t, BI_DICT);
    }
    return false;
}

static int bi_isinstance(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "isinstance", a, 2, 2)) return -1;
    const cbag__lv *t = &a->v[1];
    bool ok =
        t->k == LV_SEQ ||
        (t->k == LV_BUILTIN && ((const cbag__builtin *)t->a)->id != BI_OTHER &&
         ((const cbag__builtin *)t->a)->id < BI_JSON_LOADS);
    if (t->k == LV_BUILTIN && ((const cbag__builtin *)t->a)->id >= BI_NONETYPE)
        ok = true; /* NoneType, set, the exception classes */
    if (!ok)
        return cbag__err(st, NULL, E_TYPE,
                         "isinstance() arg 2 must be a type or tuple of types "
                         "(int, float, str, bool, list, tuple, dict)");
    *out = cbag__val(cbag_bool(instance_of(&a->v[0], t)));
    return 0;
}

static int bi_print(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const kws[] = {"sep", "end", "flush", NULL};
    if (only_kw(st, "print", a, kws)) return -1;
    const cbag__lv *sepv = cbag__kwarg(a, "sep"), *endv = cbag__kwarg(a, "end");
    const char *sep = " ", *end = "\n";
    size_t sepl = 1, endl = 1;
    if (sepv && !is_none(sepv)) {
        if (sepv->k != LV_VAL || !(sep = cbag_str(LVV(*sepv), &sepl)))
            return cbag__err(st, NULL, E_TYPE, "sep must be None or a string");
    }
    if (endv && !is_none(endv)) {
        if (endv->k != LV_VAL || !(end = cbag_str(LVV(*endv), &endl)))
            return cbag__err(st, NULL, E_TYPE, "end must be None or a string");
    }
    /* one write per call, so lines from worker threads do not mix */
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    if (!buf) return cbag__oom(st, NULL);
    for (size_t i = 0; i <= a->n; i++) {
        const char *s;
        size_t l;
        cbag__lv sv;
        if (i == a->n) {
            s = end;
            l = endl;
        } else {
            if (cbag__str(st, NULL, &a->v[i], false, &sv)) {
                free(buf);
                return -1;
            }
            s = cbag_str(LVV(sv), &l);
        }
        size_t extra = l + (i && i < a->n ? sepl : 0);
        if (n + extra > cap) {
            while (n + extra > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return cbag__oom(st, NULL);
            }
            buf = nb;
        }
        if (i && i < a->n) {
            memcpy(buf + n, sep, sepl);
            n += sepl;
        }
        memcpy(buf + n, s, l);
        n += l;
    }
    fwrite(buf, 1, n, stdout);
    fflush(stdout);
    free(buf);
    *out = cbag__val(cbag_none());
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */

#define B(name, fn, id)                                                        \
    { name, fn, id }
static const cbag__builtin builtins[] = {
    B("len", bi_len, BI_OTHER),
    B("sum", bi_sum, BI_OTHER),
    B("min", bi_min, BI_OTHER),
    B("max", bi_max, BI_OTHER),
    B("abs", bi_abs, BI_OTHER),
    B("int", bi_int, BI_INT),
    B("float", bi_float, BI_FLOAT),
    B("str", bi_str, BI_STR),
    B("repr", bi_repr, BI_OTHER),
    B("bool", bi_bool, BI_BOOL),
    B("round", bi_round, BI_OTHER),
    B("sorted", bi_sorted, BI_OTHER),
    B("list", bi_list, BI_LIST),
    B("tuple", bi_tuple, BI_TUPLE),
    B("dict", bi_dict, BI_DICT),
    B("range", bi_range, BI_OTHER),
    B("enumerate", bi_enumerate, BI_OTHER),
    B("zip", bi_zip, BI_OTHER),
    B("any", bi_any, BI_OTHER),
    B("all", bi_all, BI_OTHER),
    B("reversed", bi_reversed, BI_OTHER),
    B("map", bi_map, BI_OTHER),
    B("filter", bi_filter, BI_OTHER),
    B("isinstance", bi_isinstance, BI_OTHER),
    B("print", bi_print, BI_OTHER),
};

const cbag__builtin cbag__bi_print = B("print", bi_print, BI_OTHER);

bool cbag__builtin_lookup(const char *name, cbag__lv *out) {
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].name, name) == 0) {
            out->k = LV_BUILTIN;
            out->a = &builtins[i];
            out->b = NULL;
            return true;
        }
    if (cbag__builtin_lookup_more(name, out)) return true;
    /* db, json, operator, math, os need no import */
    static const char *const pre[][2] = {{"db", "dask.bag"},
                                         {"json", "json"},
                                         {"operator", "operator"},
                                         {"math", "math"},
                                         {"os", "os"}};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (strcmp(pre[i][0], name) == 0) {
            out->k = LV_MOD;
            out->a = cbag__module_lookup(pre[i][1]);
            out->b = NULL;
            return true;
        }
    return false;
}
