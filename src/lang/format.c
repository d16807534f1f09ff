/* format.c: str.format with Python's format-spec mini-language
 * ([[fill]align][sign][0][width][,][.precision][type]) and printf-style
 * str % args. Widths count bytes (exact for ASCII text). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

typedef struct obuf {
    char *p;
    size_t n, cap;
    bool oom;
} obuf;

static void put(obuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* The text built in b as the string *out (rc: 0, or an error already
 * recorded); frees b. */
static int finish(cbag__st *st, const cbag__node *at, obuf *b, int rc,
                  cbag__lv *out) {
    if (rc == 0 && b->oom) rc = cbag__oom(st, at);
    if (rc == 0) {
        const cbag_val *r = cbag_new_str(st->c, b->p ? b->p : "", b->n);
        if (!r)
            rc = cbag__oom(st, at);
        else
            *out = cbag__val(r);
    }
    free(b->p);
    return rc;
}

typedef struct spec {
    char fill, align, sign, type;
    bool zero, group, alt;
    int width, prec;
} spec_t;

static const char *parse_spec(const char *s, const char *e, spec_t *sp) {
    memset(sp, 0, sizeof *sp);
    sp->fill = ' ';
    sp->prec = -1;
    if (e - s >= 2 && strchr("<>=^", s[1])) {
        sp->fill = s[0];
        sp->align = s[1];
        s += 2;
    } else if (s < e && strchr("<>=^", s[0])) {
        sp->align = *s++;
    }
    if (s < e && strchr("+- ", *s)) sp->sign = *s++;
    if (s < e && *s == '#') sp->alt = true, s++;
    if (s < e && *s == '0') sp->zero = true, s++;
    while (s < e && *s >= '0' && *s <= '9')
        sp->width = sp->width * 10 + (*s++ - '0');
    if (s < e && (*s == ',' || *s == '_')) sp->group = true, s++;
    if (s < e && *s == '.') {
        s++;
        sp->prec = 0;
        while (s < e && *s >= '0' && *s <= '9')
            sp->prec = sp->prec * 10 + (*s++ - '0');
    }
    if (s < e) sp->type = *s++;
    return s == e ? NULL : s;
}

/* Inserts ',' every three digits of the integer part of digits. */
static void group(obuf *b, const char *d, size_t n) {
    size_t intlen = 0;
    while (intlen < n && d[intlen] >= '0' && d[intlen] <= '9')
        intlen++;
    for (size_t i = 0; i < intlen; i++) {
        put(b, d + i, 1);
        if ((intlen - i - 1) % 3 == 0 && i + 1 < intlen) put(b, ",", 1);
    }
    put(b, d + intlen, n - intlen);
}

static void pad(obuf *b, const spec_t *sp, const char *sign, const char *body,
                size_t n, char dflt_align) {
    size_t len = strlen(sign) + n;
    char align = sp->align ? sp->align : (sp->zero ? '=' : dflt_align);
    char fill = sp->zero && !sp->align ? '0' : sp->fill;
    size_t w = sp->width > 0 ? (size_t)sp->width : 0;
    size_t padn = w > len ? w - len : 0;
    size_t left = align == '>' || align == '=' ? padn
                  : align == '^'               ? padn / 2
                                               : 0;
    size_t right = padn - left;
    if (align == '=') put(b, sign, strlen(sign));
    for (size_t i = 0; i < left; i++)
        put(b, &fill, 1);
    if (align != '=') put(b, sign, strlen(sign));
    put(b, body, n);
    for (size_t i = 0; i < right; i++)
        put(b, &fill, 1);
}

static int format_one(cbag__st *st, const cbag__node *at, obuf *b,
                      const cbag__lv *x, const spec_t *sp) {
    const cbag_val *v = x->k == LV_VAL ? LVV(*x) : NULL;
    cbag_type t = cbag_typeof(v);
    bool num =
        x->k == LV_VAL && (t == CBAG_INT || t == CBAG_FLOAT || t == CBAG_BOOL);
    char type = sp->type;
    if (!num || (t == CBAG_BOOL && !type)) {
        if (type && type != 's')
            return cbag__err(st, at, E_VALUE,
                             "Unknown format code '%c' for object of type "
                             "'%s'",
                             type, cbag__lv_type(x));
        cbag__lv s;
        if (cbag__str(st, at, x, false, &s)) return -1;
        size_t l;
        const char *p = cbag_str(LVV(s), &l);
        if (sp->prec >= 0 && (size_t)sp->prec < l) l = (size_t)sp->prec;
        pad(b, sp, "", p, l, '<');
        return 0;
    }
    char digits[512];
    int n;
    bool neg;
    if ((t == CBAG_INT || t == CBAG_BOOL) &&
        (!type || type == 'd' || type == 'x' || type == 'X' || type == 'o' ||
         type == 'b' || type == 'n')) {
        int64_t i = cbag_int_value(v);
        neg = i < 0;
        uint64_t u = neg ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        if (type == 'x' || type == 'X' || type == 'o') {
            n = snprintf(digits, sizeof digits,
                         type == 'x'   ? "%llx"
                         : type == 'X' ? "%llX"
                                       : "%llo",
                         (unsigned long long)u);
        } else if (type == 'b') {
            char tmp[80];
            int k = 0;
            do
                tmp[k++] = (char)('0' + (u & 1)), u >>= 1;
            while (u);
            for (n = 0; n < k; n++)
                digits[n] = tmp[k - 1 - n];
            digits[n] = '\0';
        } else {
            n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
        }
    } else {
        double d = cbag_float_value(v);
        neg = signbit(d) && !isnan(d);
        double ad = fabs(d);
        int prec = sp->prec >= 0 ? sp->prec : 6;
        if (prec > 300) prec = 300;
        if (!type && sp->prec < 0) { /* str(float) */
            cbag__lv s;
            cbag__lv pos = cbag__val(cbag_new_float(st->c, ad));
            if (!pos.a) return cbag__oom(st, at);
            if (cbag__str(st, at, &pos, false, &s)) return -1;
            size_t l;
            const char *p = cbag_str(LVV(s), &l);
            n = snprintf(digits, sizeof digits, "%.*s", (int)l, p);
        } else if (type == '%') {
            n = snprintf(digits, sizeof digits, "%.*f%%", prec, ad * 100);
        } else {
            char f[8] = "%.*g";
            if (type && strchr("fFeEgG", type)) f[3] = type;
            if (!type && sp->prec >= 0) { /* like g, at least one digit */
                n = snprintf(digits, sizeof digits, "%.*g", prec ? prec : 1,
                             ad);
            } else {
                if (!type || !strchr("fFeEgG", type))
                    return cbag__err(st, at, E_VALUE,
                                     "Unknown format code '%c' for object of "
                                     "type 'float'",
                                     type);
                n = snprintf(digits, sizeof digits, f, prec, ad);
            }
        }
        if (isnan(d)) n = snprintf(digits, sizeof digits, "nan");
        if (isinf(d)) n = snprintf(digits, sizeof digits, "inf");
    }
    if (n < 0) n = 0;
    const char *sign = neg               ? "-"
                       : sp->sign == '+' ? "+"
                       : sp->sign == ' ' ? " "
                                         : "";
    char signp[8]; /* the sign, then 0x, 0o, 0b with '#' */
    if (sp->alt && type && strchr("xXob", type) &&
        (t == CBAG_INT || t == CBAG_BOOL)) {
        snprintf(signp, sizeof signp, "%s0%c", sign, type);
        sign = signp;
    }
    obuf body = {0};
    if (sp->group)
        group(&body, digits, (size_t)n);
    else
        put(&body, digits, (size_t)n);
    if (body.oom) {
        free(body.p);
        return cbag__oom(st, at);
    }
    pad(b, sp, sign, body.p ? body.p : "", body.n, '>');
    free(body.p);
    return 0;
}

int cbag__format_value(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const char *spec, size_t n, cbag__lv *out) {
    spec_t sp;
    if (parse_spec(spec, spec + n, &sp))
        return cbag__err(st, at, E_VALUE, "Invalid format specifier '%.*s'",
                         (int)(n < 100 ? n : 100), spec);
    obuf b = {0};
    int rc = format_one(st, at, &b, x, &sp);
    return finish(st, at, &b, rc, out);
}

int cbag__format(cbag__st *st, const cbag__node *at, const cbag_val *fmt,
                 const cbag__args *a, cbag__lv *out);
int cbag__format(cbag__st *st, const cbag__node *at, const cbag_val *fmt,
                 const cbag__args *a, cbag__lv *out) {
    size_t l;
    const char *s = cbag_str(fmt, &l), *e = s + l;
    obuf b = {0};
    size_t autoi = 0;
    int rc = 0;
    while (s < e && rc == 0) {
        if (*s == '}') {
            if (s + 1 < e && s[1] == '}') s++;
            put(&b, s++, 1);
            continue;
        }
        if (*s != '{') {
            put(&b, s++, 1);
            continue;
        }
        if (s + 1 < e && s[1] == '{') {
            put(&b, "{", 1);
            s += 2;
            continue;
        }
        const char *close = memchr(s, '}', (size_t)(e - s));
        if (!close) {
            rc = cbag__err(st, at, E_VALUE,
                           "Single '{' encountered in format string");
            break;
        }
        const char *f = s + 1, *fe = f;
        while (fe < close && *fe != '!' && *fe != ':' && *fe != '[' &&
               *fe != '.')
            fe++;
        cbag__lv x;
        if (fe == f) {
            if (autoi >= a->n) {
                rc = cbag__err(st, at, E_INDEX,
                               "Replacement index %zu out of range for "
                               "positional args tuple",
                               autoi);
                break;
            }
            x = a->v[autoi++];
        } else if (*f >= '0' && *f <= '9') {
            size_t i = (size_t)strtoul(f, NULL, 10);
            if (i >= a->n) {
                rc = cbag__err(st, at, E_INDEX,
                               "Replacement index %zu out of range for "
                               "positional args tuple",
                               i);
                break;
            }
            x = a->v[i];
        } else {
            bool found = false;
            for (size_t i = 0; i < a->nkw; i++)
                if (strlen(a->kw[i].name) == (size_t)(fe - f) &&
                    memcmp(a->kw[i].name, f, (size_t)(fe - f)) == 0) {
                    x = a->kw[i].v;
                    found = true;
                }
            if (!found) {
                rc = cbag__err(st, at, E_KEY, "'%.*s'", (int)(fe - f), f);
                break;
            }
        }
        while (fe < close && *fe == '[') { /* {0[name]} */
            const char *ke = memchr(fe, ']', (size_t)(close - fe));
            if (!ke) {
                rc = cbag__err(st, at, E_VALUE, "Missing ']' in format string");
                break;
            }
            const cbag_val *k;
            bool digit = fe + 1 < ke && fe[1] >= '0' && fe[1] <= '9';
            k = digit ? cbag_new_int(st->c, strtoll(fe + 1, NULL, 10))
                      : cbag_new_str(st->c, fe + 1, (size_t)(ke - fe - 1));
            cbag__lv kv = cbag__val(k);
            if (!k || cbag__subscr(st, at, &x, &kv, &x)) {
                rc = k ? -1 : cbag__oom(st, at);
                break;
            }
            fe = ke + 1;
        }
        if (rc) break;
        char conv = 0;
        if (fe < close && *fe == '!') {
            conv = fe[1];
            fe += 2;
        }
        spec_t sp;
        const char *ss = fe < close && *fe == ':' ? fe + 1 : close;
        if (parse_spec(ss, close, &sp)) {
            rc = cbag__err(st, at, E_VALUE, "Invalid format specifier");
            break;
        }
        if (conv == 'r' || conv == 's') {
            if (cbag__str(st, at, &x, conv == 'r', &x)) {
                rc = -1;
                break;
            }
        }
        rc = format_one(st, at, &b, &x, &sp);
        s = close + 1;
    }
    return finish(st, at, &b, rc, out);
}

/* printf-style: "%s and %d" % (a, b), "%(name)s" % d. */
int cbag__fmt_percent(cbag__st *st, const cbag__node *at, const cbag_val *f,
                      const cbag_val *args, cbag__lv *out);
int cbag__fmt_percent(cbag__st *st, const cbag__node *at, const cbag_val *f,
                      const cbag_val *args, cbag__lv *out) {
    size_t l;
    const char *s = cbag_str(f, &l), *e = s + l;
    bool tuple = cbag_typeof(args) == CBAG_TUPLE;
    bool dict = cbag_typeof(args) == CBAG_DICT;
    size_t ai = 0, na = tuple ? cbag_len(args) : 1;
    obuf b = {0};
    int rc = 0;
    while (s < e && rc == 0) {
        if (*s != '%') {
            put(&b, s++, 1);
            continue;
        }
        s++;
        if (s < e && *s == '%') {
            put(&b, "%", 1);
            s++;
            continue;
        }
        const cbag_val *v = NULL;
        if (s < e && *s == '(' && dict) {
            const char *ke = memchr(s, ')', (size_t)(e - s));
            if (!ke) {
                rc = cbag__err(st, at, E_VALUE, "incomplete format key");
                break;
            }
            v = cbag_getn(args, s + 1, (size_t)(ke - s - 1));
            if (!v) {
                rc = cbag__err(st, at, E_KEY, "'%.*s'", (int)(ke - s - 1),
                               s + 1);
                break;
            }
            s = ke + 1;
        }
        spec_t sp;
        memset(&sp, 0, sizeof sp);
        sp.fill = ' ';
        sp.prec = -1;
        for (; s < e && strchr("-+ 0#", *s); s++) {
            if (*s == '-') sp.align = '<';
            if (*s == '+' || *s == ' ') sp.sign = *s;
            if (*s == '0') sp.zero = true;
        }
        while (s < e && *s >= '0' && *s <= '9')
            sp.width = sp.width * 10 + (*s++ - '0');
        if (s < e && *s == '.') {
            s++;
            sp.prec = 0;
            while (s < e && *s >= '0' && *s <= '9')
                sp.prec = sp.prec * 10 + (*s++ - '0');
        }
        if (s >= e) {
            rc = cbag__err(st, at, E_VALUE, "incomplete format");
            break;
        }
        char c = *s++;
        if (sp.align == '<') sp.zero = false;
        if (!v) {
            if (ai >= na) {
                rc = cbag__err(st, at, E_TYPE,
                               "not enough arguments for format string");
                break;
            }
            v = tuple ? cbag_at(args, (int64_t)ai) : args;
            ai++;
        }
        cbag__lv x = cbag__val(v);
        if (c == 's' || c == 'r') {
            if (cbag__str(st, at, &x, c == 'r', &x)) {
                rc = -1;
                break;
            }
            sp.type = 0;
            sp.zero = false;
        } else if (c == 'd' || c == 'i' || c == 'u') {
            cbag_type t = cbag_typeof(v);
            if (t == CBAG_FLOAT) {
                double d = trunc(cbag_float_value(v));
                x = cbag__val(cbag_new_int(st->c, (int64_t)d));
            } else if (t != CBAG_INT && t != CBAG_BOOL) {
                rc = cbag__err(st, at, E_TYPE,
                               "%%%c format: a real number is required, not "
                               "%s",
                               c, cbag_type_name(t));
                break;
            }
            sp.type = 'd';
        } else if (strchr("feEgGxXo", c)) {
            sp.type = c;
            if (strchr("fFeEgG", c) && sp.prec < 0) sp.prec = 6;
            if (strchr("fFeEgG", c) && cbag_typeof(v) != CBAG_FLOAT) {
                double d;
                if (!cbag_number(v, &d)) {
                    rc =
                        cbag__err(st, at, E_TYPE, "must be real number, not %s",
                                  cbag_type_name(cbag_typeof(v)));
                    break;
                }
                x = cbag__val(cbag_new_float(st->c, d));
            }
        } else {
            rc = cbag__err(st, at, E_VALUE, "unsupported format character '%c'",
                           c);
            break;
        }
        if (!x.a) {
            rc = cbag__oom(st, at);
            break;
        }
        if (!sp.align) sp.align = sp.zero ? '=' : '>';
        if (sp.zero) sp.fill = '0';
        rc = format_one(st, at, &b, &x, &sp);
    }
    if (rc == 0 && !dict && ai < na)
        rc = cbag__err(st, at, E_TYPE,
                       "not all arguments converted during string formatting");
    return finish(st, at, &b, rc, out);
}
