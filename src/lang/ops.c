/* ops.c: Python's operators on cbag values: arithmetic with int64 overflow
 * checks (an OverflowError where Python would grow the int), comparisons,
 * truth, subscripts and slices, iteration, str() and repr(). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

bool cbag__truthy(const cbag__lv *v) {
    if (v->k == LV_VAL) return cbag_truthy(LVV(*v));
    if (v->k == LV_SEQ) return ((const cbag__lseq *)v->a)->n > 0;
    return v->k != LV_UNSET;
}

const char *cbag__lv_type(const cbag__lv *v) {
    switch (v->k) {
    case LV_VAL:
        if (cbag__is_set_val(LVV(*v))) return "set";
        return cbag_type_name(cbag_typeof(LVV(*v)));
    case LV_EXC: {
        cbag__lv t;
        cbag__exc_type(v, &t);
        return ((const cbag__builtin *)t.a)->name;
    }
    case LV_FUNC: return "function";
    case LV_BUILTIN: return "builtin_function_or_method";
    case LV_MOD: return "module";
    case LV_BAG: return "Bag";
    case LV_ITEM: return "Item";
    case LV_SEQ: return ((const cbag__lseq *)v->a)->tuple ? "tuple" : "list";
    case LV_FRAME:
    case LV_FCOL:
    case LV_FMASK:
    case LV_FGROUP:
    case LV_FDTYPES: return cbag__frame_type(v->k);
    default: return "unset";
    }
}

int cbag__need_val(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const cbag_val **out) {
    if (x->k == LV_VAL) {
        *out = LVV(*x);
        return 0;
    }
    return cbag__err(st, at, E_TYPE,
                     "a %s cannot be used here: only data values (None, "
                     "bool, int, float, str, list, tuple, dict) can",
                     cbag__lv_type(x));
}

size_t cbag__utf8_len(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

/* Byte offset of code point i in s (n bytes); n if past the end. */
static size_t utf8_off(const char *s, size_t n, size_t i) {
    size_t b = 0;
    while (b < n && i > 0) {
        b++;
        while (b < n && ((unsigned char)s[b] & 0xC0) == 0x80)
            b++;
        i--;
    }
    return b;
}

static bool is_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return false;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Arithmetic                                                               */

static int set_int(cbag__st *st, const cbag__node *at, int64_t i,
                   cbag__lv *out) {
    const cbag_val *v = cbag_new_int(st->c, i);
    if (!v) return cbag__oom(st, at);
    *out = cbag__val(v);
    return 0;
}

static int set_float(cbag__st *st, const cbag__node *at, double d,
                     cbag__lv *out) {
    const cbag_val *v = cbag_new_float(st->c, d);
    if (!v) return cbag__oom(st, at);
    *out = cbag__val(v);
    return 0;
}

static int overflow(cbag__st *st, const cbag__node *at) {
    return cbag__err(st, at, E_OVERFLOW,
                     "integer result out of range (cbag ints are 64-bit)");
}

static const char *opname(int op) {
    static char one[2];
    switch (op) {
    case OP_FDIV: return "//";
    case OP_POW: return "**";
    case OP_LSHIFT: return "<<";
    case OP_RSHIFT: return ">>";
    default: one[0] = (char)op; return one;
    }
}

static int int_op(cbag__st *st, const cbag__node *at, int op, int64_t a,
                  int64_t b, cbag__lv *out) {
    int64_t r;
    switch (op) {
    case '+':
        if (__builtin_add_overflow(a, b, &r)) return overflow(st, at);
        return set_int(st, at, r, out);
    case '-':
        if (__builtin_sub_overflow(a, b, &r)) return overflow(st, at);
        return set_int(st, at, r, out);
    case '*':
        if (__builtin_mul_overflow(a, b, &r)) return overflow(st, at);
        return set_int(st, at, r, out);
    case '/':
        if (b == 0) return cbag__err(st, at, E_ZERODIV, "division by zero");
        return set_float(st, at, (double)a / (double)b, out);
    case OP_FDIV:
    case '%': {
        if (b == 0)
            return cbag__err(st, at, E_ZERODIV,
                             "integer division or modulo by zero");
        if (b == -1) {
            if (op == '%') return set_int(st, at, 0, out);
            if (a == INT64_MIN) return overflow(st, at);
            return set_int(st, at, -a, out);
        }
        int64_t q = a / b, m = a % b;
        if (m != 0 && ((m < 0) != (b < 0))) {
            q--;
            m += b;
        }
        return set_int(st, at, op == '%' ? m : q, out);
    }
    case OP_POW: {
        if (b < 0) {
            if (a == 0)
                return cbag__err(st, at, E_ZERODIV,
                                 "0.0 cannot be raised to a negative power");
            return set_float(st, at, pow((double)a, (double)b), out);
        }
        int64_t acc = 1, base = a;
        while (b > 0) {
            if (b & 1)
                if (__builtin_mul_overflow(acc, base, &acc))
                    return overflow(st, at);
            b >>= 1;
            if (b && __builtin_mul_overflow(base, base, &base))
                return overflow(st, at);
        }
        return set_int(st, at, acc, out);
    }
    case '&': return set_int(st, at, a & b, out);
    case '|': return set_int(st, at, a | b, out);
    case '^': return set_int(st, at, a ^ b, out);
    case OP_LSHIFT:
        if (b < 0) return cbag__err(st, at, E_VALUE, "negative shift count");
        if (a == 0) return set_int(st, at, 0, out);
        if (b >= 63 || (a > 0 ? a > (INT64_MAX >> b) : a < (INT64_MIN >> b)))
            return overflow(st, at);
        return set_int(st, at, (int64_t)((uint64_t)a << b), out);
    case OP_RSHIFT:
        if (b < 0) return cbag__err(st, at, E_VALUE, "negative shift count");
        return set_int(st, at, b >= 63 ? (a < 0 ? -1 : 0) : a >> b, out);
    default: return -2;
    }
}

static int float_op(cbag__st *st, const cbag__node *at, int op, double a,
                    double b, cbag__lv *out) {
    switch (op) {
    case '+': return set_float(st, at, a + b, out);
    case '-': return set_float(st, at, a - b, out);
    case '*': return set_float(st, at, a * b, out);
    case '/':
        if (b == 0)
            return cbag__err(st, at, E_ZERODIV, "float division by zero");
        return set_float(st, at, a / b, out);
    case OP_FDIV:
    case '%': {
        if (b == 0)
            return cbag__err(st, at, E_ZERODIV,
                             op == '%' ? "float modulo"
                                       : "float floor "
                                         "division by zero");
        /* CPython's float_divmod */
        double mod = fmod(a, b), div = (a - mod) / b, fl;
        if (mod) {
            if ((b < 0) != (mod < 0)) {
                mod += b;
                div -= 1.0;
            }
        } else {
            mod = copysign(0.0, b);
        }
        if (div) {
            fl = floor(div);
            if (div - fl > 0.5) fl += 1.0;
        } else {
            fl = copysign(0.0, a / b);
        }
        return set_float(st, at, op == '%' ? mod : fl, out);
    }
    case OP_POW: {
        if (a == 0 && b < 0)
            return cbag__err(st, at, E_ZERODIV,
                             "0.0 cannot be raised to a negative power");
        if (a < 0 && b != floor(b) && isfinite(b))
            return cbag__err(st, at, E_VALUE,
                             "negative number cannot be raised to a "
                             "fractional power (no complex numbers in cbag)");
        double r = pow(a, b);
        if (isinf(r) && isfinite(a) && isfinite(b))
            return cbag__err(st, at, E_OVERFLOW,
                             "(34, 'Numerical result out of range')");
        return set_float(st, at, r, out);
    }
    default: return -2;
    }
}

static int concat(cbag__st *st, const cbag__node *at, const cbag_val *x,
                  const cbag_val *y, cbag__lv *out) {
    cbag_type t = cbag_typeof(x);
    if (t == CBAG_STR) {
        size_t lx, ly;
        const char *sx = cbag_str(x, &lx), *sy = cbag_str(y, &ly);
        char *buf = malloc(lx + ly + 1);
        if (!buf) return cbag__oom(st, at);
        memcpy(buf, sx, lx);
        memcpy(buf + lx, sy, ly);
        const cbag_val *r = cbag_new_str(st->c, buf, lx + ly);
        free(buf);
        if (!r) return cbag__oom(st, at);
        *out = cbag__val(r);
        return 0;
    }
    size_t nx = cbag_len(x), ny = cbag_len(y);
    cbag_val *r = t == CBAG_TUPLE ? cbag_new_tuple(st->c, nx + ny)
                                  : cbag_new_list(st->c, nx + ny);
    if (!r) return cbag__oom(st, at);
    for (size_t i = 0; i < nx; i++)
        if (cbag_append(st->c, r, cbag_at(x, (int64_t)i)))
            return cbag__oom(st, at);
    for (size_t i = 0; i < ny; i++)
        if (cbag_append(st->c, r, cbag_at(y, (int64_t)i)))
            return cbag__oom(st, at);
    if (t == CBAG_LIST && cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

static int repeat(cbag__st *st, const cbag__node *at, const cbag_val *x,
                  int64_t n, cbag__lv *out) {
    cbag_type t = cbag_typeof(x);
    if (n < 0) n = 0;
    if (t == CBAG_STR) {
        size_t l;
        const char *s = cbag_str(x, &l);
        if (l && (uint64_t)n > (uint64_t)(SIZE_MAX / 4) / l)
            return cbag__err(st, at, E_MEMORY, "repeated string is too long");
        size_t total = l * (size_t)n;
        char *buf = malloc(total + 1);
        if (!buf) return cbag__oom(st, at);
        for (int64_t i = 0; i < n; i++)
            memcpy(buf + l * (size_t)i, s, l);
        const cbag_val *r = cbag_new_str(st->c, buf, total);
        free(buf);
        if (!r) return cbag__oom(st, at);
        *out = cbag__val(r);
        return 0;
    }
    size_t len = cbag_len(x);
    if (len && (uint64_t)n > (uint64_t)(1u << 30) / len)
        return cbag__err(st, at, E_MEMORY, "repeated sequence is too long");
    cbag_val *r = t == CBAG_TUPLE ? cbag_new_tuple(st->c, len * (size_t)n)
                                  : cbag_new_list(st->c, len * (size_t)n);
    if (!r) return cbag__oom(st, at);
    for (int64_t k = 0; k < n; k++)
        for (size_t i = 0; i < len; i++)
            if (cbag_append(st->c, r, cbag_at(x, (int64_t)i)))
                return cbag__oom(st, at);
    if (t == CBAG_LIST && cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

static bool is_intlike(cbag_type t) { return t == CBAG_INT || t == CBAG_BOOL; }
static bool is_num(cbag_type t) { return is_intlike(t) || t == CBAG_FLOAT; }

int cbag__fmt_percent(cbag__st *st, const cbag__node *at, const cbag_val *f,
                      const cbag_val *args, cbag__lv *out);

int cbag__binop(cbag__st *st, const cbag__node *at, int op, const cbag__lv *x,
                const cbag__lv *y, cbag__lv *out) {
    if (cbag__frame_kind(x->k) || cbag__frame_kind(y->k))
        return cbag__frame_binop(st, at, op, x, y, out);
    if (x->k != LV_VAL || y->k != LV_VAL) goto unsupported;
    const cbag_val *a = LVV(*x), *b = LVV(*y);
    cbag_type ta = cbag_typeof(a), tb = cbag_typeof(b);
    if (is_intlike(ta) && is_intlike(tb)) {
        int r = int_op(st, at, op, cbag_int_value(a), cbag_int_value(b), out);
        if (r != -2) return r;
        goto unsupported;
    }
    if (is_num(ta) && is_num(tb)) {
        int r =
            float_op(st, at, op, cbag_float_value(a), cbag_float_value(b), out);
        if (r != -2) return r;
        goto unsupported;
    }
    if (op == '+' && ta == tb &&
        (ta == CBAG_STR || ta == CBAG_LIST || ta == CBAG_TUPLE))
        return concat(st, at, a, b, out);
    if (cbag__is_counter(a) && cbag__is_counter(b) && (op == '+' || op == '-'))
        return cbag__counter_op(st, at, op, a, b, out);
    if (cbag__is_set_val(a) && cbag__is_set_val(b) &&
        (op == '|' || op == '&' || op == '-' || op == '^'))
        return cbag__set_op(st, at, op, a, b, out);
    if (op == '*' && is_intlike(tb) &&
        (ta == CBAG_STR || ta == CBAG_LIST || ta == CBAG_TUPLE))
        return repeat(st, at, a, cbag_int_value(b), out);
    if (op == '*' && is_intlike(ta) &&
        (tb == CBAG_STR || tb == CBAG_LIST || tb == CBAG_TUPLE))
        return repeat(st, at, b, cbag_int_value(a), out);
    if (op == '%' && ta == CBAG_STR)
        return cbag__fmt_percent(st, at, a, b, out);
unsupported:
    return cbag__err(st, at, E_TYPE,
                     "unsupported operand type(s) for %s: '%s' and '%s'",
                     opname(op), cbag__lv_type(x), cbag__lv_type(y));
}

/* ------------------------------------------------------------------------ */
/* Comparisons                                                              */

static bool same(const cbag__lv *x, const cbag__lv *y) {
    return x->k == y->k && x->a == y->a && x->b == y->b;
}

static bool kind_comparable(cbag_type a, cbag_type b) {
    if (is_num(a) && is_num(b)) return true;
    return a == b && (a == CBAG_STR || a == CBAG_LIST || a == CBAG_TUPLE);
}

int cbag__order(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                const cbag__lv *y, int *res) {
    if (x->k == LV_VAL && y->k == LV_VAL) {
        cbag_type a = cbag_typeof(LVV(*x)), b = cbag_typeof(LVV(*y));
        if (kind_comparable(a, b)) {
            *res = cbag_cmp(LVV(*x), LVV(*y));
            return 0;
        }
    }
    return cbag__err(st, at, E_TYPE,
                     "'<' not supported between instances of '%s' and '%s'",
                     cbag__lv_type(x), cbag__lv_type(y));
}

static bool is_nan(const cbag__lv *x) {
    return x->k == LV_VAL && cbag_typeof(LVV(*x)) == CBAG_FLOAT &&
           isnan(cbag_float_value(LVV(*x)));
}

static int contains(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                    const cbag__lv *c) {
    if (c->k == LV_SEQ) {
        const cbag__lseq *s = c->a;
        for (size_t i = 0; i < s->n; i++) {
            const cbag__lv *e = &s->items[i];
            if (same(e, x) ||
                (e->k == LV_VAL && x->k == LV_VAL && cbag_eq(LVV(*e), LVV(*x))))
                return 1;
        }
        return 0;
    }
    if (c->k != LV_VAL)
        return cbag__err(st, at, E_TYPE,
                         "argument of type '%s' is not iterable",
                         cbag__lv_type(c));
    const cbag_val *cv = LVV(*c);
    if (x->k != LV_VAL) return 0;
    const cbag_val *xv = LVV(*x);
    switch (cbag_typeof(cv)) {
    case CBAG_DICT: return cbag_getv(cv, xv) != NULL;
    case CBAG_LIST:
    case CBAG_TUPLE:
        for (size_t i = 0; i < cbag_len(cv); i++)
            if (cbag_eq(cbag_at(cv, (int64_t)i), xv)) return 1;
        return 0;
    case CBAG_STR: {
        if (cbag_typeof(xv) != CBAG_STR)
            return cbag__err(st, at, E_TYPE,
                             "'in <string>' requires string as left operand, "
                             "not %s",
                             cbag__lv_type(x));
        size_t ln, lh;
        const char *nd = cbag_str(xv, &ln), *hs = cbag_str(cv, &lh);
        if (ln == 0) return 1;
        return memmem(hs, lh, nd, ln) != NULL;
    }
    default:
        return cbag__err(st, at, E_TYPE,
                         "argument of type '%s' is not iterable",
                         cbag__lv_type(c));
    }
}

int cbag__compare(cbag__st *st, const cbag__node *at, int op, const cbag__lv *x,
                  const cbag__lv *y) {
    switch (op) {
    case OP_EQ:
    case OP_NE: {
        bool eq = (x->k == LV_VAL && y->k == LV_VAL) ? cbag_eq(LVV(*x), LVV(*y))
                                                     : same(x, y);
        return op == OP_EQ ? eq : !eq;
    }
    case OP_IS:
    case OP_ISNOT: {
        bool is;
        if (x->k == LV_VAL && y->k == LV_VAL) {
            const cbag_val *a = LVV(*x), *b = LVV(*y);
            cbag_type ta = cbag_typeof(a), tb = cbag_typeof(b);
            if (ta == CBAG_NULL || tb == CBAG_NULL || ta == CBAG_BOOL ||
                tb == CBAG_BOOL)
                is = ta == tb && (ta == CBAG_NULL ||
                                  cbag_bool_value(a) == cbag_bool_value(b));
            else
                is = a == b;
        } else {
            is = same(x, y);
        }
        return op == OP_IS ? is : !is;
    }
    case OP_IN:
    case OP_NOTIN: {
        int r = contains(st, at, x, y);
        if (r < 0) return -1;
        return op == OP_IN ? r : !r;
    }
    default: break;
    }
    if (x->k == LV_VAL && y->k == LV_VAL && cbag__is_set_val(LVV(*x)) &&
        cbag__is_set_val(LVV(*y))) { /* subset and superset */
        cbag__lv r;
        if (cbag__set_op(st, at, op, LVV(*x), LVV(*y), &r)) return -1;
        return cbag_bool_value(LVV(r));
    }
    int r;
    if (cbag__order(st, at, x, y, &r)) {
        /* fix the operator in the message */
        const char *o = op == '<'     ? "<"
                        : op == '>'   ? ">"
                        : op == OP_LE ? "<="
                                      : ">=";
        st->err = 0;
        return cbag__err(st, at, E_TYPE,
                         "'%s' not supported between instances of '%s' and "
                         "'%s'",
                         o, cbag__lv_type(x), cbag__lv_type(y));
    }
    if (is_nan(x) || is_nan(y)) return 0;
    switch (op) {
    case '<': return r < 0;
    case '>': return r > 0;
    case OP_LE: return r <= 0;
    case OP_GE: return r >= 0;
    default: return cbag__err(st, at, E_TYPE, "bad comparison");
    }
}

/* ------------------------------------------------------------------------ */
/* Subscripts and slices                                                    */

static int str_char(cbag__st *st, const cbag__node *at, const cbag_val *s,
                    int64_t i, cbag__lv *out) {
    size_t l;
    const char *p = cbag_str(s, &l);
    bool ascii = is_ascii(p, l);
    size_t n = ascii ? l : cbag__utf8_len(p, l);
    if (i < 0) i += (int64_t)n;
    if (i < 0 || (size_t)i >= n)
        return cbag__err(st, at, E_INDEX, "string index out of range");
    size_t b = ascii ? (size_t)i : utf8_off(p, l, (size_t)i);
    size_t e = ascii ? b + 1 : utf8_off(p, l, (size_t)i + 1);
    const cbag_val *r = cbag_new_str(st->c, p + b, e - b);
    if (!r) return cbag__oom(st, at);
    *out = cbag__val(r);
    return 0;
}

int cbag__subscr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                 const cbag__lv *k, cbag__lv *out) {
    if (cbag__frame_kind(x->k)) return cbag__frame_subscr(st, at, x, k, out);
    if (x->k == LV_SEQ) {
        const cbag__lseq *s = x->a;
        if (k->k != LV_VAL || !is_intlike(cbag_typeof(LVV(*k))))
            return cbag__err(st, at, E_TYPE, "indices must be integers");
        int64_t i = cbag_int_value(LVV(*k));
        if (i < 0) i += (int64_t)s->n;
        if (i < 0 || (size_t)i >= s->n)
            return cbag__err(st, at, E_INDEX, "index out of range");
        *out = s->items[i];
        return 0;
    }
    const cbag_val *v, *key;
    if (x->k != LV_VAL)
        return cbag__err(st, at, E_TYPE, "'%s' object is not subscriptable",
                         cbag__lv_type(x));
    v = LVV(*x);
    if (cbag__need_val(st, at, k, &key)) return -1;
    cbag_type t = cbag_typeof(v);
    if (t == CBAG_DICT) {
        const cbag_val *r = cbag_getv(v, key);
        int m = r ? 1 : cbag__dict_missing(st, at, v, key, out);
        if (m <= 0) return m; /* Counter, defaultdict */
        if (!r) {
            char *rep = cbag_format(key, CBAG_FMT_REPR, NULL);
            int rc = cbag__err(st, at, E_KEY, "%.200s", rep ? rep : "?");
            st->err_key = key;
            free(rep);
            return rc;
        }
        *out = cbag__val(r);
        return 0;
    }
    if (t == CBAG_LIST || t == CBAG_TUPLE || t == CBAG_STR) {
        if (!is_intlike(cbag_typeof(key)))
            return cbag__err(
                st, at, E_TYPE, "%s indices must be integers or slices, not %s",
                cbag_type_name(t), cbag_type_name(cbag_typeof(key)));
        int64_t i = cbag_int_value(key);
        if (t == CBAG_STR) return str_char(st, at, v, i, out);
        const cbag_val *r = cbag_at(v, i);
        if (!r)
            return cbag__err(st, at, E_INDEX, "%s index out of range",
                             cbag_type_name(t));
        *out = cbag__val(r);
        return 0;
    }
    return cbag__err(st, at, E_TYPE, "'%s' object is not subscriptable",
                     cbag__lv_type(x));
}

static int slice_bound(cbag__st *st, const cbag__node *at, const cbag__lv *b,
                       int64_t *out, bool *given) {
    *given = false;
    if (!b) return 0;
    if (b->k == LV_VAL && cbag_is_null(LVV(*b))) return 0;
    if (b->k != LV_VAL || !is_intlike(cbag_typeof(LVV(*b))))
        return cbag__err(st, at, E_TYPE,
                         "slice indices must be integers or None");
    *out = cbag_int_value(LVV(*b));
    *given = true;
    return 0;
}

int cbag__slice(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                const cbag__lv *lo, const cbag__lv *hi, const cbag__lv *step,
                cbag__lv *out) {
    const cbag_val *v;
    if (x->k != LV_VAL)
        return cbag__err(st, at, E_TYPE, "'%s' object is not subscriptable",
                         cbag__lv_type(x));
    v = LVV(*x);
    cbag_type t = cbag_typeof(v);
    if (t != CBAG_LIST && t != CBAG_TUPLE && t != CBAG_STR)
        return cbag__err(st, at, E_TYPE, "'%s' object is not subscriptable",
                         cbag__lv_type(x));
    int64_t a = 0, b = 0, s = 1;
    bool ga, gb, gs;
    if (slice_bound(st, at, lo, &a, &ga) || slice_bound(st, at, hi, &b, &gb) ||
        slice_bound(st, at, step, &s, &gs))
        return -1;
    if (s == 0) return cbag__err(st, at, E_VALUE, "slice step cannot be zero");
    size_t l = 0;
    const char *p = NULL;
    bool ascii = true;
    int64_t n;
    if (t == CBAG_STR) {
        p = cbag_str(v, &l);
        ascii = is_ascii(p, l);
        n = (int64_t)(ascii ? l : cbag__utf8_len(p, l));
    } else {
        n = (int64_t)cbag_len(v);
    }
    /* Python's PySlice_AdjustIndices */
    if (!ga)
        a = s < 0 ? n - 1 : 0;
    else if (a < 0)
        a = a + n < 0 ? (s < 0 ? -1 : 0) : a + n;
    else if (a >= n)
        a = s < 0 ? n - 1 : n;
    if (!gb)
        b = s < 0 ? -1 : n;
    else if (b < 0)
        b = b + n < 0 ? (s < 0 ? -1 : 0) : b + n;
    else if (b >= n)
        b = s < 0 ? n - 1 : n;
    if (t == CBAG_STR && s == 1) {
        if (b < a) b = a;
        size_t ba = ascii ? (size_t)a : utf8_off(p, l, (size_t)a);
        size_t bb = ascii ? (size_t)b : utf8_off(p, l, (size_t)b);
        const cbag_val *r = cbag_new_str(st->c, p + ba, bb - ba);
        if (!r) return cbag__oom(st, at);
        *out = cbag__val(r);
        return 0;
    }
    if (t == CBAG_STR) { /* stepped string slices, char by char */
        char *buf = malloc(l + 1);
        size_t bl = 0;
        if (!buf) return cbag__oom(st, at);
        for (int64_t i = a; s > 0 ? i < b : i > b; i += s) {
            size_t o = ascii ? (size_t)i : utf8_off(p, l, (size_t)i);
            size_t e = ascii ? o + 1 : utf8_off(p, l, (size_t)i + 1);
            memcpy(buf + bl, p + o, e - o);
            bl += e - o;
        }
        const cbag_val *r = cbag_new_str(st->c, buf, bl);
        free(buf);
        if (!r) return cbag__oom(st, at);
        *out = cbag__val(r);
        return 0;
    }
    cbag_val *r =
        t == CBAG_TUPLE ? cbag_new_tuple(st->c, 0) : cbag_new_list(st->c, 0);
    if (!r) return cbag__oom(st, at);
    for (int64_t i = a; s > 0 ? i < b : i > b; i += s)
        if (cbag_append(st->c, r, cbag_at(v, i))) return cbag__oom(st, at);
    if (t == CBAG_LIST && cbag__own(st, r)) return -1;
    *out = cbag__val(r);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Iteration                                                                */

int cbag__iter_init(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                    cbag__iter *it) {
    memset(it, 0, sizeof *it);
    cbag__lv v = *x;
    if (v.k == LV_BAG) { /* iterating a bag computes it */
        if (cbag__compute(st, at, x, &v)) return -1;
    }
    if (v.k == LV_SEQ) {
        it->seq = v.a;
        it->n = it->seq->n;
        it->kind = 3;
        return 0;
    }
    if (v.k != LV_VAL)
        return cbag__err(st, at, E_TYPE, "'%s' object is not iterable",
                         cbag__lv_type(&v));
    it->v = LVV(v);
    switch (cbag_typeof(it->v)) {
    case CBAG_LIST:
    case CBAG_TUPLE: it->kind = 0; break;
    case CBAG_DICT:
        it->kind = 1;
        if (cbag__is_set_val(it->v) && cbag_len(it->v)) {
            uint32_t *o = cbag__alloc(st, cbag_len(it->v) * sizeof *o);
            if (o && cbag__set_order_of(it->v, o)) it->order = o;
        }
        break;
    case CBAG_STR: it->kind = 2; break;
    default:
        return cbag__err(st, at, E_TYPE, "'%s' object is not iterable",
                         cbag__lv_type(&v));
    }
    it->n = cbag_len(it->v);
    return 0;
}

int cbag__iter_next(cbag__st *st, cbag__iter *it, cbag__lv *out) {
    if (it->i >= it->n) return 0;
    switch (it->kind) {
    case 0: *out = cbag__val(cbag_at(it->v, (int64_t)it->i++)); return 1;
    case 1:
        *out = cbag__val(
            cbag_dict_key(it->v, it->order ? it->order[it->i++] : it->i++));
        return 1;
    case 3: *out = it->seq->items[it->i++]; return 1;
    default: {
        size_t l;
        const char *p = cbag_str(it->v, &l);
        size_t e = it->i + 1;
        while (e < l && ((unsigned char)p[e] & 0xC0) == 0x80)
            e++;
        const cbag_val *r = cbag_new_str(st->c, p + it->i, e - it->i);
        if (!r) return cbag__oom(st, NULL);
        it->i = e;
        *out = cbag__val(r);
        return 1;
    }
    }
}

int cbag__to_list(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  cbag_val **out) {
    cbag__iter it;
    if (cbag__iter_init(st, at, x, &it)) return -1;
    cbag_val *l = cbag_new_list(st->c, it.n);
    if (!l) return cbag__oom(st, at);
    for (;;) {
        cbag__lv e;
        const cbag_val *ev;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) return -1;
        if (r == 0) break;
        if (cbag__need_val(st, at, &e, &ev)) return -1;
        if (cbag_append(st->c, l, ev)) return cbag__oom(st, at);
    }
    if (cbag__own(st, l)) return -1;
    *out = l;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* str() and repr()                                                         */

int cbag__str(cbag__st *st, const cbag__node *at, const cbag__lv *x, bool repr,
              cbag__lv *out) {
    char *s = NULL;
    size_t len = 0;
    if (x->k == LV_VAL) {
        const cbag_val *v = LVV(*x);
        if (!repr && cbag_typeof(v) == CBAG_STR) {
            *out = *x;
            return 0;
        }
        s = cbag_format(v, CBAG_FMT_REPR, &len);
        if (!s) return cbag__oom(st, at);
    } else {
        char buf[256];
        switch (x->k) {
        case LV_FUNC:
            snprintf(buf, sizeof buf, "<function %s>",
                     ((const cbag__node *)x->a)->s);
            break;
        case LV_BUILTIN: {
            const cbag__builtin *b = x->a;
            snprintf(buf, sizeof buf,
                     b->id != BI_OTHER && b->id != BI_JSON_LOADS &&
                             b->id != BI_JSON_DUMPS
                         ? "<class '%s'>"
                         : "<built-in function %s>",
                     b->name);
            break;
        }
        case LV_EXC: return cbag__exc_str(st, at, x, repr, out);
        case LV_MOD:
            snprintf(buf, sizeof buf, "<module '%s'>",
                     ((const cbag__module *)x->a)->name);
            break;
        case LV_BAG:
            snprintf(buf, sizeof buf, "cbag.Bag<npartitions=%zu>",
                     cbag_npartitions(x->b));
            break;
        case LV_ITEM: snprintf(buf, sizeof buf, "cbag.Item"); break;
        case LV_FRAME:
        case LV_FCOL:
        case LV_FMASK:
        case LV_FGROUP:
        case LV_FDTYPES:
            if (cbag__frame_repr(st, at, x, &s, &len)) return -1;
            break;
        case LV_SEQ: {
            const cbag__lseq *q = x->a;
            size_t cap = 64, n = 0;
            char *acc = malloc(cap);
            if (!acc) return cbag__oom(st, at);
            acc[n++] = q->tuple ? '(' : '[';
            for (size_t i = 0; i < q->n; i++) {
                cbag__lv e;
                if (cbag__str(st, at, &q->items[i], true, &e)) {
                    free(acc);
                    return -1;
                }
                size_t el;
                const char *es = cbag_str(LVV(e), &el);
                if (n + el + 8 > cap) {
                    while (n + el + 8 > cap)
                        cap *= 2;
                    char *na = realloc(acc, cap);
                    if (!na) {
                        free(acc);
                        return cbag__oom(st, at);
                    }
                    acc = na;
                }
                if (i) acc[n++] = ',', acc[n++] = ' ';
                memcpy(acc + n, es, el);
                n += el;
            }
            if (q->tuple && q->n == 1) acc[n++] = ',';
            acc[n++] = q->tuple ? ')' : ']';
            s = acc;
            len = n;
            break;
        }
        default: snprintf(buf, sizeof buf, "<unset>"); break;
        }
        if (!s) {
            len = strlen(buf);
            s = malloc(len + 1);
            if (!s) return cbag__oom(st, at);
            memcpy(s, buf, len + 1);
        }
    }
    const cbag_val *r = cbag_new_str(st->c, s, len);
    free(s);
    if (!r) return cbag__oom(st, at);
    *out = cbag__val(r);
    return 0;
}
