/* builtins_more.c: more of Python's builtins (builtins.c has the first
 * ones): set, frozenset (a set), type, divmod, pow, hex, oct, bin, chr,
 * ord, format, callable, and the type NoneType. */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static bool int_val(const cbag__lv *x, int64_t *out) {
    if (x->k != LV_VAL) return false;
    cbag_type t = cbag_typeof(LVV(*x));
    if (t != CBAG_INT && t != CBAG_BOOL) return false;
    *out = cbag_int_value(LVV(*x));
    return true;
}

static int ret_val(cbag__st *st, const cbag_val *v, cbag__lv *out) {
    if (!v) return cbag__oom(st, NULL);
    *out = cbag__val(v);
    return 0;
}

static int bi_nonetype(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "NoneType", a, 0, 0)) return -1;
    *out = cbag__val(cbag_none());
    return 0;
}

static const cbag__builtin types[] = {
    {"NoneType", bi_nonetype, BI_NONETYPE},
    {"set", cbag__bi_set, BI_SET},
};

/* type(x): the class of a data value or an exception. */
static int bi_type(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "type", a, 1, 1)) return -1;
    const cbag__lv *x = &a->v[0];
    if (cbag__exc_type(x, out) == 0) return 0;
    if (x->k == LV_SEQ) {
        const char *n = ((const cbag__lseq *)x->a)->tuple ? "tuple" : "list";
        return cbag__builtin_lookup(n, out) ? 0 : -1;
    }
    if (x->k != LV_VAL)
        return cbag__err(st, NULL, E_NOTIMPL, "type() of a %s is not supported",
                         cbag__lv_type(x));
    const cbag_val *v = LVV(*x);
    if (cbag_is_null(v)) {
        out->k = LV_BUILTIN;
        out->a = &types[0];
        out->b = NULL;
        return 0;
    }
    cbag__builtin_lookup(cbag__lv_type(x), out);
    return 0;
}

static int bi_divmod(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "divmod", a, 2, 2)) return -1;
    cbag__lv q, r;
    if (cbag__binop(st, NULL, OP_FDIV, &a->v[0], &a->v[1], &q) ||
        cbag__binop(st, NULL, '%', &a->v[0], &a->v[1], &r))
        return -1;
    const cbag_val *t[2] = {LVV(q), LVV(r)};
    return ret_val(st, cbag_new_tuplev(st->c, 2, t), out);
}

static int bi_pow(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "pow", a, 2, 3)) return -1;
    if (a->n == 2)
        return cbag__binop(st, NULL, OP_POW, &a->v[0], &a->v[1], out);
    int64_t b, e, m; /* pow(b, e, m): modular, for ints */
    if (!int_val(&a->v[0], &b) || !int_val(&a->v[1], &e) ||
        !int_val(&a->v[2], &m))
        return cbag__err(st, NULL, E_TYPE,
                         "pow() 3rd argument not allowed unless all "
                         "arguments are integers");
    if (m == 0)
        return cbag__err(st, NULL, E_VALUE, "pow() 3rd argument cannot be 0");
    if (e < 0)
        return cbag__err(st, NULL, E_NOTIMPL,
                         "pow() with a negative exponent and a modulus");
    __int128 r = 1, x = ((b % m) + m) % m;
    for (; e > 0; e >>= 1) {
        if (e & 1) r = r * x % m;
        x = x * x % m;
    }
    if (r != 0 && m < 0) r += m; /* the sign of the modulus */
    return ret_val(st, cbag_new_int(st->c, (int64_t)r), out);
}

/* hex, oct, bin: '-0x1f' */
static int radix(cbag__st *st, const cbag__args *a, cbag__lv *out,
                 const char *name, int base) {
    int64_t i;
    if (cbag__argn(st, name, a, 1, 1)) return -1;
    if (!int_val(&a->v[0], &i))
        return cbag__err(st, NULL, E_TYPE,
                         "'%s' object cannot be interpreted as an integer",
                         cbag__lv_type(&a->v[0]));
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    char buf[80], *p = buf + sizeof buf;
    *--p = '\0';
    do {
        *--p = "0123456789abcdef"[u % (unsigned)base];
        u /= (unsigned)base;
    } while (u);
    *--p = base == 16 ? 'x' : base == 8 ? 'o' : 'b';
    *--p = '0';
    if (i < 0) *--p = '-';
    return ret_val(st, cbag_new_strz(st->c, p), out);
}
static int bi_hex(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return radix(st, a, out, "hex", 16);
}
static int bi_oct(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return radix(st, a, out, "oct", 8);
}
static int bi_bin(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return radix(st, a, out, "bin", 2);
}

static int bi_chr(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    int64_t c;
    if (cbag__argn(st, "chr", a, 1, 1)) return -1;
    if (!int_val(&a->v[0], &c))
        return cbag__err(st, NULL, E_TYPE,
                         "'%s' object cannot be interpreted as an integer",
                         cbag__lv_type(&a->v[0]));
    if (c < 0 || c > 0x10FFFF)
        return cbag__err(st, NULL, E_VALUE, "chr() arg not in range(0x110000)");
    if (c >= 0xD800 && c <= 0xDFFF)
        return cbag__err(st, NULL, E_VALUE,
                         "chr() of a surrogate: cbag strings are UTF-8");
    char b[4];
    size_t n;
    uint32_t u = (uint32_t)c;
    if (u < 0x80) {
        b[0] = (char)u;
        n = 1;
    } else if (u < 0x800) {
        b[0] = (char)(0xC0 | u >> 6);
        b[1] = (char)(0x80 | (u & 0x3F));
        n = 2;
    } else if (u < 0x10000) {
        b[0] = (char)(0xE0 | u >> 12);
        b[1] = (char)(0x80 | (u >> 6 & 0x3F));
        b[2] = (char)(0x80 | (u & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | u >> 18);
        b[1] = (char)(0x80 | (u >> 12 & 0x3F));
        b[2] = (char)(0x80 | (u >> 6 & 0x3F));
        b[3] = (char)(0x80 | (u & 0x3F));
        n = 4;
    }
    return ret_val(st, cbag_new_str(st->c, b, n), out);
}

static int bi_ord(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "ord", a, 1, 1)) return -1;
    size_t l;
    const char *s = a->v[0].k == LV_VAL ? cbag_str(LVV(a->v[0]), &l) : NULL;
    if (!s)
        return cbag__err(st, NULL, E_TYPE,
                         "ord() expected string of length 1, but %s found",
                         cbag__lv_type(&a->v[0]));
    size_t n = cbag__utf8_len(s, l);
    if (n != 1)
        return cbag__err(st, NULL, E_TYPE,
                         "ord() expected a character, but string of length "
                         "%zu found",
                         n);
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = u[0] < 0x80   ? u[0]
                 : u[0] < 0xE0 ? (u[0] & 0x1Fu) << 6 | (u[1] & 0x3Fu)
                 : u[0] < 0xF0 ? (u[0] & 0x0Fu) << 12 | (u[1] & 0x3Fu) << 6 |
                                     (u[2] & 0x3Fu)
                               : (u[0] & 0x07u) << 18 | (u[1] & 0x3Fu) << 12 |
                                     (u[2] & 0x3Fu) << 6 | (u[3] & 0x3Fu);
    return ret_val(st, cbag_new_int(st->c, c), out);
}

static int bi_format(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "format", a, 1, 2)) return -1;
    size_t n = 0;
    const char *spec = "";
    if (a->n == 2 &&
        !(spec = a->v[1].k == LV_VAL ? cbag_str(LVV(a->v[1]), &n) : NULL))
        return cbag__err(st, NULL, E_TYPE,
                         "format() argument 2 must be str, not %s",
                         cbag__lv_type(&a->v[1]));
    return cbag__format_value(st, NULL, &a->v[0], spec, n, out);
}

static int bi_callable(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "callable", a, 1, 1)) return -1;
    int k = a->v[0].k;
    *out = cbag__val(cbag_bool(k == LV_FUNC || k == LV_BUILTIN));
    return 0;
}

static const cbag__builtin more[] = {
    {"frozenset", cbag__bi_set, BI_SET}, {"type", bi_type, BI_OTHER},
    {"divmod", bi_divmod, BI_OTHER},     {"pow", bi_pow, BI_OTHER},
    {"hex", bi_hex, BI_OTHER},           {"oct", bi_oct, BI_OTHER},
    {"bin", bi_bin, BI_OTHER},           {"chr", bi_chr, BI_OTHER},
    {"ord", bi_ord, BI_OTHER},           {"format", bi_format, BI_OTHER},
    {"callable", bi_callable, BI_OTHER},
};

bool cbag__builtin_lookup_more(const char *name, cbag__lv *out) {
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, name) == 0) {
            out->k = LV_BUILTIN;
            out->a = &types[i];
            out->b = NULL;
            return strcmp(name, "NoneType") != 0; /* not a builtin name */
        }
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        if (strcmp(more[i].name, name) == 0) {
            out->k = LV_BUILTIN;
            out->a = &more[i];
            out->b = NULL;
            return true;
        }
    return cbag__exc_lookup(name, out);
}
