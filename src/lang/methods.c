/* methods.c: methods of data values: str (lower, split, join, ...), dict
 * (get, keys, items, ...) and list (append, ...); more in strmethods.c
 * and mutate.c. Case mapping and character classes are Unicode's, as
 * Python has them (unicase.c). Mutating methods work only on containers
 * built by the same evaluation (see cbag__own). */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

enum {
    M_LOWER,
    M_UPPER,
    M_STRIP,
    M_LSTRIP,
    M_RSTRIP,
    M_SPLIT,
    M_RSPLIT,
    M_STARTSWITH,
    M_ENDSWITH,
    M_REPLACE,
    M_JOIN,
    M_FORMAT,
    M_FIND,
    M_COUNT,
    M_INDEX,
    M_ISDIGIT,
    M_ISALPHA,
    M_ISSPACE,
    M_TITLE,
    M_CAPITALIZE,
    M_SPLITLINES,
    M_GET,
    M_KEYS,
    M_VALUES,
    M_ITEMS,
    M_COPY,
    M_UPDATE,
    M_APPEND,
    M_EXTEND,
    M_NMETHODS
};

static const char *const names[M_NMETHODS] = {
    "lower",  "upper",      "strip",      "lstrip",  "rstrip",  "split",
    "rsplit", "startswith", "endswith",   "replace", "join",    "format",
    "find",   "count",      "index",      "isdigit", "isalpha", "isspace",
    "title",  "capitalize", "splitlines", "get",     "keys",    "values",
    "items",  "copy",       "update",     "append",  "extend"};

int cbag__method_id(const char *name) {
    for (int i = 0; i < M_NMETHODS; i++)
        if (strcmp(names[i], name) == 0) return i;
    return -1;
}

const char *cbag__method_name(int id) {
    return id >= 0 && id < M_NMETHODS ? names[id] : "?";
}

int cbag__format(cbag__st *st, const cbag__node *at, const cbag_val *fmt,
                 const cbag__args *a, cbag__lv *out);

static int ret(cbag__st *st, const cbag__node *at, const cbag_val *v,
               cbag__lv *out) {
    if (!v) return cbag__oom(st, at);
    *out = cbag__val(v);
    return 0;
}

static int nargs(cbag__st *st, const cbag__node *at, const char *m,
                 const cbag__args *a, size_t lo, size_t hi) {
    if (a->nkw && strcmp(m, "format") != 0 && strcmp(m, "split") != 0 &&
        strcmp(m, "rsplit") != 0)
        return cbag__err(st, at, E_TYPE, "%s() takes no keyword arguments", m);
    if (a->n < lo || a->n > hi)
        return cbag__err(st, at, E_TYPE,
                         "%s() takes %zu to %zu arguments (%zu given)", m, lo,
                         hi, a->n);
    return 0;
}

const char *cbag__str_arg(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                          size_t *len, const char *m) {
    const char *s = x->k == LV_VAL ? cbag_str(LVV(*x), len) : NULL;
    if (!s)
        cbag__err(st, at, E_TYPE, "%s() argument must be str, not %s", m,
                  cbag__lv_type(x));
    return s;
}

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* A string built in a malloc'd buffer, then copied into the arena. */
static int ret_buf(cbag__st *st, const cbag__node *at, char *buf, size_t n,
                   cbag__lv *out) {
    const cbag_val *v = cbag_new_str(st->c, buf ? buf : "", n);
    free(buf);
    return ret(st, at, v, out);
}

/* ------------------------------------------------------------------------ */
/* str                                                                      */

static int s_strip(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                   int id, const cbag__args *a, cbag__lv *out) {
    const char *chars = NULL;
    size_t nc = 0;
    if (a->n == 1 && !(a->v[0].k == LV_VAL && cbag_is_null(LVV(a->v[0]))))
        if (!(chars = cbag__str_arg(st, at, &a->v[0], &nc, names[id])))
            return -1;
    size_t b = 0, e = l;
#define STRIPS(c) (chars ? memchr(chars, (c), nc) != NULL : is_ws(c))
    if (id != M_RSTRIP)
        while (b < e && STRIPS(s[b]))
            b++;
    if (id != M_LSTRIP)
        while (e > b && STRIPS(s[e - 1]))
            e--;
#undef STRIPS
    return ret(st, at, cbag_new_str(st->c, s + b, e - b), out);
}

static int s_split(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                   int id, const cbag__args *a, cbag__lv *out) {
    const cbag__lv *sepv = a->n > 0 ? &a->v[0] : cbag__kwarg(a, "sep");
    const cbag__lv *maxv = a->n > 1 ? &a->v[1] : cbag__kwarg(a, "maxsplit");
    const char *sep = NULL;
    size_t sl = 0;
    int64_t max = -1;
    if (sepv && !(sepv->k == LV_VAL && cbag_is_null(LVV(*sepv)))) {
        if (!(sep = cbag__str_arg(st, at, sepv, &sl, names[id]))) return -1;
        if (sl == 0) return cbag__err(st, at, E_VALUE, "empty separator");
    }
    if (maxv) {
        if (maxv->k != LV_VAL || cbag_typeof(LVV(*maxv)) != CBAG_INT)
            return cbag__err(st, at, E_TYPE, "maxsplit must be an integer");
        max = cbag_int_value(LVV(*maxv));
    }
    /* pieces as (start, end) byte offsets, collected left to right; rsplit
     * with a limit splits from the right: collected reversed */
    cbag_val *r = cbag_new_list(st->c, 8);
    if (!r) return cbag__oom(st, at);
    size_t cap = 16, n = 0;
    size_t *pc = malloc(cap * 2 * sizeof *pc);
    if (!pc) return cbag__oom(st, at);
    bool rev = id == M_RSPLIT && max >= 0;
    int64_t splits = 0;
    int rc = 0;
#define PUSH(b, e)                                                             \
    do {                                                                       \
        if (n == cap) {                                                        \
            size_t *np = realloc(pc, cap * 4 * sizeof *pc);                    \
            if (!np) {                                                         \
                rc = cbag__oom(st, at);                                        \
                goto done;                                                     \
            }                                                                  \
            pc = np;                                                           \
            cap *= 2;                                                          \
        }                                                                      \
        pc[2 * n] = (b);                                                       \
        pc[2 * n + 1] = (e);                                                   \
        n++;                                                                   \
    } while (0)
    if (!rev) {
        size_t i = 0;
        if (!sep) {
            for (;;) {
                while (i < l && is_ws(s[i]))
                    i++;
                if (i >= l) break;
                if (max >= 0 && splits >= max) {
                    size_t e = l;
                    while (e > i && is_ws(s[e - 1]))
                        e--;
                    PUSH(i, e);
                    break;
                }
                size_t b = i;
                while (i < l && !is_ws(s[i]))
                    i++;
                PUSH(b, i);
                splits++;
            }
        } else {
            size_t b = 0;
            for (;;) {
                const char *f = (max < 0 || splits < max)
                                    ? memmem(s + b, l - b, sep, sl)
                                    : NULL;
                if (!f) {
                    PUSH(b, l);
                    break;
                }
                PUSH(b, (size_t)(f - s));
                b = (size_t)(f - s) + sl;
                splits++;
            }
        }
    } else {
        size_t e = l;
        if (!sep) {
            for (;;) {
                while (e > 0 && is_ws(s[e - 1]))
                    e--;
                if (e == 0) break;
                if (splits >= max) {
                    size_t b = 0;
                    while (b < e && is_ws(s[b]))
                        b++;
                    PUSH(b, e);
                    break;
                }
                size_t k = e;
                while (k > 0 && !is_ws(s[k - 1]))
                    k--;
                PUSH(k, e);
                e = k;
                splits++;
            }
        } else {
            for (;;) {
                const char *f = NULL;
                if (splits < max && e >= sl)
                    for (size_t k = e - sl + 1; k-- > 0;)
                        if (memcmp(s + k, sep, sl) == 0) {
                            f = s + k;
                            break;
                        }
                if (!f) {
                    PUSH(0, e);
                    break;
                }
                PUSH((size_t)(f - s) + sl, e);
                e = (size_t)(f - s);
                splits++;
            }
        }
    }
#undef PUSH
    for (size_t k = 0; k < n; k++) {
        size_t j = rev ? n - 1 - k : k;
        if (cbag_append(st->c, r,
                        cbag_new_str(st->c, s + pc[2 * j],
                                     pc[2 * j + 1] - pc[2 * j]))) {
            rc = cbag__oom(st, at);
            break;
        }
    }
done:
    free(pc);
    if (rc) return -1;
    if (cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

static int s_affix(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                   int id, const cbag__args *a, cbag__lv *out) {
    if (nargs(st, at, names[id], a, 1, 1)) return -1;
    const cbag__lv *x = &a->v[0];
    size_t cnt = 1;
    bool tuple = x->k == LV_VAL && cbag_typeof(LVV(*x)) == CBAG_TUPLE;
    if (tuple) cnt = cbag_len(LVV(*x));
    for (size_t i = 0; i < cnt; i++) {
        cbag__lv p = tuple ? cbag__val(cbag_at(LVV(*x), (int64_t)i)) : *x;
        size_t pl;
        const char *ps = cbag__str_arg(st, at, &p, &pl, names[id]);
        if (!ps) return -1;
        bool hit =
            pl <= l && memcmp(id == M_STARTSWITH ? s : s + l - pl, ps, pl) == 0;
        if (hit) {
            *out = cbag__val(cbag_bool(true));
            return 0;
        }
    }
    *out = cbag__val(cbag_bool(false));
    return 0;
}

static int s_replace(cbag__st *st, const cbag__node *at, const char *s,
                     size_t l, const cbag__args *a, cbag__lv *out) {
    if (nargs(st, at, "replace", a, 2, 3)) return -1;
    size_t ol, nl;
    const char *o = cbag__str_arg(st, at, &a->v[0], &ol, "replace");
    const char *nw = o ? cbag__str_arg(st, at, &a->v[1], &nl, "replace") : NULL;
    if (!nw) return -1;
    int64_t count = -1;
    if (a->n == 3) {
        if (a->v[2].k != LV_VAL || cbag_typeof(LVV(a->v[2])) != CBAG_INT)
            return cbag__err(st, at, E_TYPE, "count must be an integer");
        count = cbag_int_value(LVV(a->v[2]));
    }
    size_t cap = l + 16, n = 0;
    char *b = malloc(cap);
    if (!b) return cbag__oom(st, at);
    size_t i = 0;
    int64_t done = 0;
    while (i <= l) {
        const char *f = NULL;
        if (count < 0 || done < count) {
            if (ol == 0)
                f = s + i;
            else
                f = memmem(s + i, l - i, o, ol);
        }
        size_t upto = f ? (size_t)(f - s) : l;
        size_t need =
            n + (upto - i) + (f ? nl : 0) + (ol == 0 && f && i < l ? 4 : 0) + 1;
        if (need > cap) {
            while (need > cap)
                cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                return cbag__oom(st, at);
            }
            b = nb;
        }
        memcpy(b + n, s + i, upto - i);
        n += upto - i;
        if (!f) break;
        memcpy(b + n, nw, nl);
        n += nl;
        done++;
        if (ol == 0) { /* between every character */
            if (upto >= l) break;
            size_t e = upto + 1;
            while (e < l && ((unsigned char)s[e] & 0xC0) == 0x80)
                e++;
            memcpy(b + n, s + upto, e - upto);
            n += e - upto;
            i = e;
        } else {
            i = upto + ol;
        }
    }
    return ret_buf(st, at, b, n, out);
}

static int s_join(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                  const cbag__args *a, cbag__lv *out) {
    if (nargs(st, at, "join", a, 1, 1)) return -1;
    cbag__iter it;
    if (cbag__iter_init(st, at, &a->v[0], &it)) return -1;
    size_t cap = 64, n = 0;
    char *b = malloc(cap);
    if (!b) return cbag__oom(st, at);
    for (size_t k = 0;; k++) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) {
            free(b);
            return -1;
        }
        if (r == 0) break;
        size_t el;
        const char *es = e.k == LV_VAL ? cbag_str(LVV(e), &el) : NULL;
        if (!es) {
            free(b);
            return cbag__err(st, at, E_TYPE,
                             "sequence item %zu: expected str instance, %s "
                             "found",
                             k, cbag__lv_type(&e));
        }
        size_t need = n + el + (k ? l : 0) + 1;
        if (need > cap) {
            while (need > cap)
                cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                return cbag__oom(st, at);
            }
            b = nb;
        }
        if (k) {
            memcpy(b + n, s, l);
            n += l;
        }
        memcpy(b + n, es, el);
        n += el;
    }
    return ret_buf(st, at, b, n, out);
}

static int s_find(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                  int id, const cbag__args *a, cbag__lv *out) {
    if (nargs(st, at, names[id], a, 1, 1)) return -1;
    size_t nl;
    const char *nd = cbag__str_arg(st, at, &a->v[0], &nl, names[id]);
    if (!nd) return -1;
    if (id == M_COUNT) {
        int64_t c = 0;
        if (nl == 0) {
            c = (int64_t)cbag__utf8_len(s, l) + 1;
        } else {
            for (size_t i = 0; i + nl <= l;) {
                const char *f = memmem(s + i, l - i, nd, nl);
                if (!f) break;
                c++;
                i = (size_t)(f - s) + nl;
            }
        }
        return ret(st, at, cbag_new_int(st->c, c), out);
    }
    const char *f = nl ? memmem(s, l, nd, nl) : s;
    if (!f && id == M_INDEX)
        return cbag__err(st, at, E_VALUE, "substring not found");
    int64_t pos = f ? (int64_t)cbag__utf8_len(s, (size_t)(f - s)) : -1;
    return ret(st, at, cbag_new_int(st->c, pos), out);
}

static int s_splitlines(cbag__st *st, const cbag__node *at, const char *s,
                        size_t l, cbag__lv *out) {
    cbag_val *r = cbag_new_list(st->c, 8);
    if (!r) return cbag__oom(st, at);
    size_t b = 0;
    for (size_t i = 0; i < l; i++) {
        if (s[i] != '\n' && s[i] != '\r') continue;
        if (cbag_append(st->c, r, cbag_new_str(st->c, s + b, i - b)))
            return cbag__oom(st, at);
        if (s[i] == '\r' && i + 1 < l && s[i + 1] == '\n') i++;
        b = i + 1;
    }
    if (b < l && cbag_append(st->c, r, cbag_new_str(st->c, s + b, l - b)))
        return cbag__oom(st, at);
    if (cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

static int str_method(cbag__st *st, const cbag__node *at, const cbag_val *v,
                      int id, const cbag__args *a, cbag__lv *out) {
    size_t l;
    const char *s = cbag_str(v, &l);
    switch (id) {
    case M_LOWER:
    case M_UPPER:
    case M_TITLE:
    case M_CAPITALIZE:
        if (nargs(st, at, names[id], a, 0, 0)) return -1;
        return cbag__str_case(st, at, s, l,
                              id == M_LOWER   ? CASE_LOWER
                              : id == M_UPPER ? CASE_UPPER
                              : id == M_TITLE ? CASE_TITLE
                                              : CASE_CAPITALIZE,
                              out);
    case M_STRIP:
    case M_LSTRIP:
    case M_RSTRIP:
        if (nargs(st, at, names[id], a, 0, 1)) return -1;
        return s_strip(st, at, s, l, id, a, out);
    case M_SPLIT:
    case M_RSPLIT:
        if (nargs(st, at, names[id], a, 0, 2)) return -1;
        return s_split(st, at, s, l, id, a, out);
    case M_STARTSWITH:
    case M_ENDSWITH: return s_affix(st, at, s, l, id, a, out);
    case M_REPLACE: return s_replace(st, at, s, l, a, out);
    case M_JOIN: return s_join(st, at, s, l, a, out);
    case M_FORMAT: return cbag__format(st, at, v, a, out);
    case M_FIND:
    case M_COUNT:
    case M_INDEX: return s_find(st, at, s, l, id, a, out);
    case M_ISDIGIT:
    case M_ISALPHA:
    case M_ISSPACE:
        if (nargs(st, at, names[id], a, 0, 0)) return -1;
        *out = cbag__val(cbag_bool(cbag__str_is(s, l,
                                                id == M_ISDIGIT   ? IS_DIGIT
                                                : id == M_ISALPHA ? IS_ALPHA
                                                                  : IS_SPACE)));
        return 0;
    case M_SPLITLINES:
        if (nargs(st, at, names[id], a, 0, 0)) return -1;
        return s_splitlines(st, at, s, l, out);
    default: return 1; /* not a str method */
    }
}

/* ------------------------------------------------------------------------ */
/* dict and list                                                            */

static int dict_view(cbag__st *st, const cbag__node *at, const cbag_val *d,
                     int id, cbag__lv *out) {
    size_t n = cbag_len(d);
    cbag_val *r = cbag_new_list(st->c, n);
    if (!r) return cbag__oom(st, at);
    for (size_t i = 0; i < n; i++) {
        const cbag_val *x;
        if (id == M_KEYS) {
            x = cbag_dict_key(d, i);
        } else if (id == M_VALUES) {
            x = cbag_dict_value(d, i);
        } else {
            const cbag_val *t[2] = {cbag_dict_key(d, i), cbag_dict_value(d, i)};
            x = cbag_new_tuplev(st->c, 2, t);
        }
        if (cbag_append(st->c, r, x)) return cbag__oom(st, at);
    }
    if (cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

static int dict_method(cbag__st *st, const cbag__node *at, const cbag_val *d,
                       int id, const cbag__args *a, cbag__lv *out) {
    switch (id) {
    case M_GET: {
        if (nargs(st, at, "get", a, 1, 2)) return -1;
        const cbag_val *k;
        if (cbag__need_val(st, at, &a->v[0], &k)) return -1;
        const cbag_val *r = cbag_getv(d, k);
        if (r)
            *out = cbag__val(r);
        else
            *out = a->n == 2 ? a->v[1] : cbag__val(cbag_none());
        return 0;
    }
    case M_KEYS:
    case M_VALUES:
    case M_ITEMS:
        if (nargs(st, at, names[id], a, 0, 0)) return -1;
        return dict_view(st, at, d, id, out);
    case M_COPY: {
        if (nargs(st, at, "copy", a, 0, 0)) return -1;
        cbag__args one = {1, &(cbag__lv){LV_VAL, d, NULL}, 0, NULL};
        cbag__lv dictfn;
        cbag__builtin_lookup("dict", &dictfn);
        return cbag__call(st, at, &dictfn, &one, out);
    }
    case M_UPDATE: {
        if (nargs(st, at, "update", a, 1, 1)) return -1;
        if (!cbag__owned(st, d)) return cbag__not_owned(st, at, "dict");
        const cbag_val *o;
        if (cbag__need_val(st, at, &a->v[0], &o)) return -1;
        if (cbag_typeof(o) != CBAG_DICT)
            return cbag__err(st, at, E_TYPE, "update() needs a dict");
        for (size_t i = 0; i < cbag_len(o); i++)
            if (cbag_setv(st->c, (cbag_val *)d, cbag_dict_key(o, i),
                          cbag_dict_value(o, i)))
                return cbag__oom(st, at);
        *out = cbag__val(cbag_none());
        return 0;
    }
    default: return 1;
    }
}

static int seq_method(cbag__st *st, const cbag__node *at, const cbag_val *l,
                      int id, const cbag__args *a, cbag__lv *out) {
    bool list = cbag_typeof(l) == CBAG_LIST;
    switch (id) {
    case M_APPEND:
    case M_EXTEND: {
        if (!list) return 1;
        if (nargs(st, at, names[id], a, 1, 1)) return -1;
        if (!cbag__owned(st, l)) return cbag__not_owned(st, at, "list");
        if (id == M_APPEND) {
            const cbag_val *x;
            if (cbag__need_val(st, at, &a->v[0], &x)) return -1;
            if (cbag_append(st->c, (cbag_val *)l, x)) return cbag__oom(st, at);
        } else {
            cbag_val *src;
            if (cbag__to_list(st, at, &a->v[0], &src)) return -1;
            for (size_t i = 0; i < cbag_len(src); i++)
                if (cbag_append(st->c, (cbag_val *)l, cbag_at(src, (int64_t)i)))
                    return cbag__oom(st, at);
        }
        *out = cbag__val(cbag_none());
        return 0;
    }
    case M_COPY: {
        if (!list) return 1;
        cbag_val *r;
        cbag__lv x = cbag__val(l);
        if (cbag__to_list(st, at, &x, &r)) return -1;
        *out = cbag__val(r);
        return 0;
    }
    case M_COUNT:
    case M_INDEX: {
        if (nargs(st, at, names[id], a, 1, 1)) return -1;
        const cbag_val *x;
        if (cbag__need_val(st, at, &a->v[0], &x)) return -1;
        int64_t c = 0;
        for (size_t i = 0; i < cbag_len(l); i++)
            if (cbag_eq(cbag_at(l, (int64_t)i), x)) {
                if (id == M_INDEX)
                    return ret(st, at, cbag_new_int(st->c, (int64_t)i), out);
                c++;
            }
        if (id == M_INDEX)
            return cbag__err(st, at, E_VALUE, "value is not in %s",
                             list ? "list" : "tuple");
        return ret(st, at, cbag_new_int(st->c, c), out);
    }
    default: return 1;
    }
}

int cbag__method(cbag__st *st, const cbag__node *at, const cbag__lv *x, int id,
                 const char *name, const cbag__args *a, cbag__lv *out) {
    int r = 1;
    if (x->k == LV_VAL) {
        const cbag_val *v = LVV(*x);
        cbag_val *mv = (cbag_val *)v; /* changed only if owned */
        switch (cbag_typeof(v)) {
        case CBAG_STR:
            r = id >= 0 ? str_method(st, at, v, id, a, out) : 1;
            if (r == 1) r = cbag__str_method2(st, at, v, name, a, out);
            break;
        case CBAG_DICT:
            if (cbag__is_set_val(v)) {
                r = cbag__set_method(st, at, mv, name, a, out);
                break;
            }
            r = cbag__is_counter(v)
                    ? cbag__counter_method(st, at, mv, name, a, out)
                    : 1;
            if (r == 1) r = id >= 0 ? dict_method(st, at, v, id, a, out) : 1;
            if (r == 1) r = cbag__dict_method(st, at, mv, name, a, out);
            break;
        case CBAG_LIST:
        case CBAG_TUPLE:
            r = id >= 0 ? seq_method(st, at, v, id, a, out) : 1;
            if (r == 1 && cbag_typeof(v) == CBAG_LIST)
                r = cbag__list_method(st, at, mv, name, a, out);
            break;
        default: break;
        }
    }
    if (r <= 0) return r;
    return cbag__err(st, at, E_ATTR, "'%s' object has no attribute '%s'",
                     cbag__lv_type(x), name);
}
