/* modules.c: the modules a program may use without installing anything:
 * json (loads, dumps), operator (add, ...), math (sqrt, ...), os.path
 * (join), dask.distributed (Client, accepted and ignored); dask.bag is
 * in bagops.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static int ret_val(cbag__st *st, const cbag_val *v, cbag__lv *out) {
    if (!v) return cbag__oom(st, NULL);
    *out = cbag__val(v);
    return 0;
}

static int ret_int(cbag__st *st, int64_t i, cbag__lv *out) {
    return ret_val(st, cbag_new_int(st->c, i), out);
}

/* dask.distributed.Client: cbag's scheduler is the context's; accepted so
 * the tutorial's setup cell runs. */
static int bi_client(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    (void)a;
    return ret_val(st,
                   cbag_new_strf(st->c,
                                 "<cbag: %d worker threads; Client() "
                                 "is accepted and ignored>",
                                 cbag_workers(st->p->cx)),
                   out);
}

/* ------------------------------------------------------------------------ */
/* json                                                                     */

static int bi_loads(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "json.loads", a, 1, 1)) return -1;
    const cbag_val *s;
    if (cbag__need_val(st, NULL, &a->v[0], &s)) return -1;
    const cbag_val *r = cbag_json_loads(st->c, s, NULL);
    if (!r) {
        const char *m = cbag_call_errmsg(st->c), *t;
        int rc;
        if (cbag_typeof(s) != CBAG_STR) {
            rc = cbag__err(st, NULL, E_TYPE,
                           "the JSON object must be str, not %s",
                           cbag__lv_type(&a->v[0]));
        } else {
            if (m && (t = strstr(m, "JSONDecodeError: "))) m = t + 17;
            rc =
                cbag__err(st, NULL, E_JSON, "%s", m && *m ? m : "invalid JSON");
        }
        cbag_call_clear(st->c); /* m was the call's */
        return rc;
    }
    *out = cbag__val(r);
    return 0;
}

static int bi_dumps(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "json.dumps", a, 1, 1)) return -1;
    const cbag_val *s;
    if (cbag__need_val(st, NULL, &a->v[0], &s)) return -1;
    const cbag_val *r = cbag_json_dumps(st->c, s, NULL);
    if (!r) { /* the call's message names the problem */
        const char *m = cbag_call_errmsg(st->c);
        const char *t = m ? strstr(m, "TypeError: ") : NULL;
        int kind = t ? E_TYPE : E_VALUE;
        if (t) m = t + 11;
        if (!m || !*m) m = "json.dumps failed";
        if (kind == E_TYPE && cbag__has_set(s))
            m = "Object of type set is not JSON serializable";
        int rc = cbag__err(st, NULL, kind, "%s", m);
        cbag_call_clear(st->c);
        return rc;
    }
    *out = cbag__val(r);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* operator and math                                                        */

static int op2(cbag__st *st, const cbag__args *a, cbag__lv *out, int op,
               const char *name) {
    if (cbag__argn(st, name, a, 2, 2)) return -1;
    if (op >= OP_EQ || op == '<' || op == '>') {
        int r = cbag__compare(st, NULL, op, &a->v[0], &a->v[1]);
        if (r < 0) return -1;
        *out = cbag__val(cbag_bool(r));
        return 0;
    }
    return cbag__binop(st, NULL, op, &a->v[0], &a->v[1], out);
}
#define OP2(fn, op)                                                            \
    static int op_##fn(cbag__st *st, const cbag__args *a, cbag__lv *out) {     \
        return op2(st, a, out, op, #fn);                                       \
    }
OP2(add, '+')
OP2(sub, '-')
OP2(mul, '*')
OP2(truediv, '/')
OP2(floordiv, OP_FDIV)
OP2(mod, '%')
OP2(pow, OP_POW)
OP2(and_, '&')
OP2(or_, '|')
OP2(xor, '^')
OP2(eq, OP_EQ)
OP2(ne, OP_NE)
OP2(lt, '<')
OP2(le, OP_LE)
OP2(gt, '>')
OP2(ge, OP_GE)
OP2(contains_, OP_IN)

static int op_contains(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "contains", a, 2, 2)) return -1;
    cbag__lv sw[2] = {a->v[1], a->v[0]};
    cbag__args b = {2, sw, 0, NULL};
    return op_contains_(st, &b, out);
}

static int op_neg(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "neg", a, 1, 1)) return -1;
    cbag__lv z = cbag__val(cbag_new_int(st->c, 0));
    if (!z.a) return cbag__oom(st, NULL);
    return cbag__binop(st, NULL, '-', &z, &a->v[0], out);
}

static int op_not(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "not_", a, 1, 1)) return -1;
    *out = cbag__val(cbag_bool(!cbag__truthy(&a->v[0])));
    return 0;
}

static int op_getitem(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "getitem", a, 2, 2)) return -1;
    return cbag__subscr(st, NULL, &a->v[0], &a->v[1], out);
}

static int math1(cbag__st *st, const cbag__args *a, cbag__lv *out,
                 double (*f)(double), const char *name, bool domain_pos) {
    if (cbag__argn(st, name, a, 1, 1)) return -1;
    double d;
    if (a->v[0].k != LV_VAL || !cbag_number(LVV(a->v[0]), &d))
        return cbag__err(st, NULL, E_TYPE, "must be real number, not %s",
                         cbag__lv_type(&a->v[0]));
    if (domain_pos && (d < 0 || (d == 0 && f != sqrt)))
        return cbag__err(st, NULL, E_VALUE, "math domain error");
    double r = f(d);
    if (isnan(r) && !isnan(d))
        return cbag__err(st, NULL, E_VALUE, "math domain error");
    return ret_val(st, cbag_new_float(st->c, r), out);
}
#define MATH1(fn, pos)                                                         \
    static int m_##fn(cbag__st *st, const cbag__args *a, cbag__lv *out) {      \
        return math1(st, a, out, fn, #fn, pos);                                \
    }
MATH1(sqrt, true)
MATH1(exp, false)
MATH1(log10, true)
MATH1(log2, true)
MATH1(sin, false)
MATH1(cos, false)
MATH1(tan, false)
MATH1(atan, false)
MATH1(fabs, false)

static int m_log(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (a->n == 2) {
        cbag__args one = {1, a->v, 0, NULL};
        cbag__lv x, b;
        if (math1(st, &one, &x, log, "log", true)) return -1;
        one.v = &a->v[1];
        if (math1(st, &one, &b, log, "log", true)) return -1;
        return ret_val(st,
                       cbag_new_float(st->c, cbag_float_value(LVV(x)) /
                                                 cbag_float_value(LVV(b))),
                       out);
    }
    return math1(st, a, out, log, "log", true);
}

/* floor and ceil give ints, as Python */
static int floorceil(cbag__st *st, const cbag__args *a, cbag__lv *out,
                     bool up) {
    if (cbag__argn(st, up ? "ceil" : "floor", a, 1, 1)) return -1;
    double d;
    const cbag__lv *x = &a->v[0];
    if (x->k == LV_VAL &&
        (cbag_typeof(LVV(*x)) == CBAG_INT || cbag_typeof(LVV(*x)) == CBAG_BOOL))
        return ret_int(st, cbag_int_value(LVV(*x)), out);
    if (x->k != LV_VAL || !cbag_number(LVV(*x), &d))
        return cbag__err(st, NULL, E_TYPE, "must be real number, not %s",
                         cbag__lv_type(x));
    if (!isfinite(d))
        return cbag__err(st, NULL, isnan(d) ? E_VALUE : E_OVERFLOW,
                         "cannot convert float %s to integer",
                         isnan(d) ? "NaN" : "infinity");
    d = up ? ceil(d) : floor(d);
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return cbag__err(st, NULL, E_OVERFLOW,
                         "int too large for cbag (64-bit)");
    return ret_int(st, (int64_t)d, out);
}
static int m_floor(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return floorceil(st, a, out, false);
}
static int m_ceil(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    return floorceil(st, a, out, true);
}

static int m_isnan(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    double d;
    if (cbag__argn(st, "isnan", a, 1, 1)) return -1;
    if (a->v[0].k != LV_VAL || !cbag_number(LVV(a->v[0]), &d))
        return cbag__err(st, NULL, E_TYPE, "must be real number");
    *out = cbag__val(cbag_bool(isnan(d)));
    return 0;
}

static int m_isinf(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    double d;
    if (cbag__argn(st, "isinf", a, 1, 1)) return -1;
    if (a->v[0].k != LV_VAL || !cbag_number(LVV(a->v[0]), &d))
        return cbag__err(st, NULL, E_TYPE, "must be real number");
    *out = cbag__val(cbag_bool(isinf(d)));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* os.path                                                                  */

static int path_join(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (a->n == 0) return cbag__argn(st, "join", a, 1, 1);
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    if (!buf) return cbag__oom(st, NULL);
    for (size_t i = 0; i < a->n; i++) {
        size_t l;
        const char *s = a->v[i].k == LV_VAL ? cbag_str(LVV(a->v[i]), &l) : NULL;
        if (!s) {
            free(buf);
            return cbag__err(st, NULL, E_TYPE,
                             "join() argument must be str, not '%s'",
                             cbag__lv_type(&a->v[i]));
        }
        if (l && s[0] == '/') n = 0; /* an absolute part restarts */
        if (n + l + 2 > cap) {
            while (n + l + 2 > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return cbag__oom(st, NULL);
            }
            buf = nb;
        }
        if (n && buf[n - 1] != '/') buf[n++] = '/';
        memcpy(buf + n, s, l);
        n += l;
    }
    const cbag_val *r = cbag_new_str(st->c, buf, n);
    free(buf);
    return ret_val(st, r, out);
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */

#define B(name, fn, id)                                                        \
    { name, fn, id }
const cbag__builtin cbag__bi_json_loads = B("loads", bi_loads, BI_JSON_LOADS);
static const cbag__builtin bi_json_dumps = B("dumps", bi_dumps, BI_JSON_DUMPS);
static const cbag__builtin bi_client_ = B("Client", bi_client, BI_OTHER);

#define F(name, fn)                                                            \
    { name, &(const cbag__builtin){name, fn, BI_OTHER}, NULL, 0 }
static const cbag__modattr json_attrs[] = {
    {"loads", &cbag__bi_json_loads, NULL, 0},
    {"dumps", &bi_json_dumps, NULL, 0},
    {"JSONDecodeError", &cbag__bi_json_error, NULL, 0},
    {NULL, NULL, NULL, 0}};
static const cbag__modattr operator_attrs[] = {F("add", op_add),
                                               F("sub", op_sub),
                                               F("mul", op_mul),
                                               F("truediv", op_truediv),
                                               F("floordiv", op_floordiv),
                                               F("mod", op_mod),
                                               F("pow", op_pow),
                                               F("and_", op_and_),
                                               F("or_", op_or_),
                                               F("xor", op_xor),
                                               F("eq", op_eq),
                                               F("ne", op_ne),
                                               F("lt", op_lt),
                                               F("le", op_le),
                                               F("gt", op_gt),
                                               F("ge", op_ge),
                                               F("neg", op_neg),
                                               F("not_", op_not),
                                               F("contains", op_contains),
                                               F("getitem", op_getitem),
                                               {NULL, NULL, NULL, 0}};
static const cbag__modattr math_attrs[] = {
    F("sqrt", m_sqrt),
    F("exp", m_exp),
    F("log", m_log),
    F("log10", m_log10),
    F("log2", m_log2),
    F("sin", m_sin),
    F("cos", m_cos),
    F("tan", m_tan),
    F("atan", m_atan),
    F("fabs", m_fabs),
    F("floor", m_floor),
    F("ceil", m_ceil),
    F("isnan", m_isnan),
    F("isinf", m_isinf),
    {"pi", NULL, NULL, 3.141592653589793},
    {"e", NULL, NULL, 2.718281828459045},
    {"inf", NULL, NULL, HUGE_VAL},
    {NULL, NULL, NULL, 0}};
static const cbag__modattr path_attrs[] = {F("join", path_join),
                                           {NULL, NULL, NULL, 0}};
static const cbag__module path_mod = {"os.path", path_attrs};
static const cbag__modattr os_attrs[] = {{"path", NULL, &path_mod, 0},
                                         {NULL, NULL, NULL, 0}};
static const cbag__modattr distributed_attrs[] = {
    {"Client", &bi_client_, NULL, 0}, {NULL, NULL, NULL, 0}};

extern const cbag__module cbag__db_module;
extern const cbag__module cbag__collections_module;
extern const cbag__module cbag__functools_module;
extern const cbag__module cbag__itertools_module;
static const cbag__module json_mod = {"json", json_attrs};
static const cbag__module operator_mod = {"operator", operator_attrs};
static const cbag__module math_mod = {"math", math_attrs};
static const cbag__module os_mod = {"os", os_attrs};
static const cbag__module distributed_mod = {"dask.distributed",
                                             distributed_attrs};
static const cbag__modattr dask_attrs[] = {
    {"bag", NULL, &cbag__db_module, 0},
    {"distributed", NULL, &distributed_mod, 0},
    {NULL, NULL, NULL, 0}};
static const cbag__module dask_mod = {"dask", dask_attrs};

static const struct {
    const char *name;
    const cbag__module *mod;
} modules[] = {
    {"json", &json_mod},
    {"operator", &operator_mod},
    {"math", &math_mod},
    {"os", &os_mod},
    {"os.path", &path_mod},
    {"dask", &dask_mod},
    {"dask.bag", &cbag__db_module},
    {"dask.distributed", &distributed_mod},
    {"collections", &cbag__collections_module},
    {"functools", &cbag__functools_module},
    {"itertools", &cbag__itertools_module},
};

const cbag__module *cbag__module_lookup(const char *name) {
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        if (strcmp(modules[i].name, name) == 0) return modules[i].mod;
    return NULL;
}

int cbag__mod_getattr(cbag__st *st, const cbag__node *at, const cbag__module *m,
                      const char *name, cbag__lv *out) {
    for (const cbag__modattr *x = m->attrs; x->name; x++) {
        if (strcmp(x->name, name) != 0) continue;
        if (x->fn) {
            out->k = LV_BUILTIN;
            out->a = x->fn;
        } else if (x->mod) {
            out->k = LV_MOD;
            out->a = x->mod;
        } else {
            return ret_val(st, cbag_new_float(st->c, x->num), out);
        }
        out->b = NULL;
        return 0;
    }
    return cbag__err(st, at, E_ATTR, "module '%s' has no attribute '%s'",
                     m->name, name);
}
