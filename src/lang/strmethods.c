/* strmethods.c: more str methods (methods.c has the first ones): partition,
 * rpartition, zfill, ljust, rjust, center, rfind, rindex, swapcase,
 * casefold, removeprefix, removesuffix and the class tests isupper,
 * islower, istitle, isalnum, isdecimal, isnumeric. Widths and positions
 * count code points, as Python's do. */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static int ret_str(cbag__st *st, const cbag__node *at, const char *s, size_t n,
                   cbag__lv *out) {
    const cbag_val *v = cbag_new_str(st->c, s, n);
    if (!v) return cbag__oom(st, at);
    *out = cbag__val(v);
    return 0;
}

/* partition(sep) and rpartition(sep): (before, sep, after). */
static int partition(cbag__st *st, const cbag__node *at, const char *s,
                     size_t l, bool right, const cbag__args *a, cbag__lv *out) {
    size_t sl;
    const char *sep;
    if (cbag__argn(st, right ? "rpartition" : "partition", a, 1, 1) ||
        !(sep = cbag__str_arg(st, at, &a->v[0], &sl, "partition")))
        return -1;
    if (sl == 0) return cbag__err(st, at, E_VALUE, "empty separator");
    const char *f = NULL;
    if (!right) {
        f = memmem(s, l, sep, sl);
    } else {
        for (size_t k = l >= sl ? l - sl + 1 : 0; k-- > 0 && !f;)
            if (memcmp(s + k, sep, sl) == 0) f = s + k;
    }
    const cbag_val *p[3];
    if (!f) { /* (s, '', '') or ('', '', s) */
        const cbag_val *e = cbag_new_str(st->c, "", 0);
        const cbag_val *w = cbag_new_str(st->c, s, l);
        p[0] = right ? e : w;
        p[1] = e;
        p[2] = right ? w : e;
    } else {
        p[0] = cbag_new_str(st->c, s, (size_t)(f - s));
        p[1] = cbag_new_str(st->c, sep, sl);
        p[2] = cbag_new_str(st->c, f + sl, l - (size_t)(f - s) - sl);
    }
    const cbag_val *t =
        p[0] && p[1] && p[2] ? cbag_new_tuplev(st->c, 3, p) : NULL;
    if (!t) return cbag__oom(st, at);
    *out = cbag__val(t);
    return 0;
}

/* ljust, rjust, center (fill: one character) and zfill. */
static int justify(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                   const char *m, const cbag__args *a, cbag__lv *out) {
    bool zfill = m[0] == 'z';
    if (cbag__argn(st, m, a, 1, zfill ? 1 : 2)) return -1;
    if (a->v[0].k != LV_VAL || (cbag_typeof(LVV(a->v[0])) != CBAG_INT &&
                                cbag_typeof(LVV(a->v[0])) != CBAG_BOOL))
        return cbag__err(st, at, E_TYPE,
                         "'%s' object cannot be interpreted "
                         "as an integer",
                         cbag__lv_type(&a->v[0]));
    int64_t width = cbag_int_value(LVV(a->v[0]));
    const char *fill = zfill ? "0" : " ";
    size_t fl = 1;
    if (a->n == 2) {
        if (!(fill = cbag__str_arg(st, at, &a->v[1], &fl, m))) return -1;
        if (cbag__utf8_len(fill, fl) != 1)
            return cbag__err(st, at, E_TYPE,
                             "The fill character must be exactly one "
                             "character long");
    }
    int64_t n = (int64_t)cbag__utf8_len(s, l);
    if (width <= n) return ret_str(st, at, s, l, out);
    int64_t marg = width - n, left;
    if (m[0] == 'l')
        left = 0;
    else if (m[0] == 'c')
        left = marg / 2 + (marg & width & 1);
    else
        left = marg;
    char *buf = malloc(l + (size_t)marg * fl);
    if (!buf) return cbag__oom(st, at);
    size_t o = 0, skip = 0;
    if (zfill && l && (s[0] == '+' || s[0] == '-')) { /* the sign first */
        buf[o++] = s[0];
        skip = 1;
    }
    for (int64_t i = 0; i < left; i++, o += fl)
        memcpy(buf + o, fill, fl);
    memcpy(buf + o, s + skip, l - skip);
    o += l - skip;
    for (int64_t i = left; i < marg; i++, o += fl)
        memcpy(buf + o, fill, fl);
    int rc = ret_str(st, at, buf, o, out);
    free(buf);
    return rc;
}

/* rfind and rindex: the last position of sub, in code points. */
static int rfind(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                 const char *m, const cbag__args *a, cbag__lv *out) {
    size_t nl;
    const char *nd;
    if (cbag__argn(st, m, a, 1, 1) ||
        !(nd = cbag__str_arg(st, at, &a->v[0], &nl, m)))
        return -1;
    const char *f = NULL;
    for (size_t k = l >= nl ? l - nl + 1 : 0; k-- > 0 && !f;)
        if (memcmp(s + k, nd, nl) == 0) f = s + k;
    if (!f && m[1] == 'i')
        return cbag__err(st, at, E_VALUE, "substring not found");
    const cbag_val *v = cbag_new_int(
        st->c, f ? (int64_t)cbag__utf8_len(s, (size_t)(f - s)) : -1);
    if (!v) return cbag__oom(st, at);
    *out = cbag__val(v);
    return 0;
}

static int affix(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                 const char *m, const cbag__args *a, cbag__lv *out) {
    size_t pl;
    const char *p;
    if (cbag__argn(st, m, a, 1, 1) ||
        !(p = cbag__str_arg(st, at, &a->v[0], &pl, m)))
        return -1;
    bool pre = m[6] == 'p'; /* removeprefix */
    if (pl <= l && memcmp(pre ? s : s + l - pl, p, pl) == 0)
        return ret_str(st, at, pre ? s + pl : s, l - pl, out);
    return ret_str(st, at, s, l, out);
}

int cbag__str_method2(cbag__st *st, const cbag__node *at, const cbag_val *v,
                      const char *m, const cbag__args *a, cbag__lv *out) {
    size_t l;
    const char *s = cbag_str(v, &l);
    if (a->nkw)
        return cbag__err(st, at, E_TYPE, "%s() takes no keyword arguments", m);
    if (!strcmp(m, "partition") || !strcmp(m, "rpartition"))
        return partition(st, at, s, l, m[0] == 'r', a, out);
    if (!strcmp(m, "ljust") || !strcmp(m, "rjust") || !strcmp(m, "center") ||
        !strcmp(m, "zfill"))
        return justify(st, at, s, l, m, a, out);
    if (!strcmp(m, "rfind") || !strcmp(m, "rindex"))
        return rfind(st, at, s, l, m, a, out);
    if (!strcmp(m, "removeprefix") || !strcmp(m, "removesuffix"))
        return affix(st, at, s, l, m, a, out);
    static const struct {
        const char *name;
        int how;
    } cases[] = {{"swapcase", CASE_SWAP}, {"casefold", CASE_FOLD}},
      classes[] = {{"isupper", IS_UPPER},     {"islower", IS_LOWER},
                   {"istitle", IS_TITLE},     {"isalnum", IS_ALNUM},
                   {"isdecimal", IS_DECIMAL}, {"isnumeric", IS_NUMERIC}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!strcmp(m, cases[i].name)) {
            if (cbag__argn(st, m, a, 0, 0)) return -1;
            return cbag__str_case(st, at, s, l, cases[i].how, out);
        }
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (!strcmp(m, classes[i].name)) {
            if (cbag__argn(st, m, a, 0, 0)) return -1;
            *out = cbag__val(cbag_bool(cbag__str_is(s, l, classes[i].how)));
            return 0;
        }
    return 1;
}
