/* bagops.c: what mapping the language onto bags needs everywhere (see
 * bagops.h). Language functions passed to map, filter, fold, ... become C
 * callbacks whose user data holds the function; each invocation evaluates
 * it in a fresh cbag__st on the worker's call handle. Also compute(), and
 * argument helpers. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bagops.h"

int cbag__detach(cbag__st *st, cbag__lv *fn);
int cbag__parse_size(const char *s, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */

static int status_of(int err) {
    switch (err) {
    case E_KEY:
    case E_INDEX: return CBAG_KEY;
    case E_TYPE: return CBAG_TYPE;
    case E_OVERFLOW: return CBAG_OVERFLOW;
    case E_MEMORY: return CBAG_NOMEM;
    default: return CBAG_USER;
    }
}

/* The position suffix of messages from callbacks; cbag__report finds it to
 * show the source line. */
#define POS_FMT " [program line %d, col %d]"

/* Calls f[i] on argv; the result as data, or NULL after failing c. With
 * truth, stores the truth of the result instead. */
static const cbag_val *invoke(cbag_call *c, const cbag__cb *k, int i,
                              size_t argc, const cbag_val *const *argv,
                              int *truth) {
    cbag__st st;
    cbag__st_init(&st, k->p, c, false);
    cbag__lv args[argc ? argc : 1];
    for (size_t j = 0; j < argc; j++)
        args[j] = cbag__val(argv[j]);
    cbag__args a = {argc, args, 0, NULL};
    cbag__lv out;
    const cbag_val *r = NULL;
    int rc = cbag__call(&st, NULL, &k->f[i], &a, &out);
    if (rc == 0) {
        if (truth) {
            *truth = cbag__truthy(&out);
            r = cbag_none();
        } else if (out.k != LV_VAL) {
            rc = cbag__err(&st, NULL, E_TYPE,
                           "the function returned a %s; only data values can "
                           "be elements of a bag",
                           cbag__lv_type(&out));
        } else {
            r = LVV(out);
        }
    }
    if (rc) {
        if (st.line > 0)
            cbag_failc(c, status_of(st.err), "%s" POS_FMT, st.msg, st.line,
                       st.col);
        else
            cbag_failc(c, status_of(st.err), "%s", st.msg);
        r = NULL;
    }
    cbag__st_done(&st);
    return r;
}

const cbag_val *cbag__cb_map0(cbag_call *c, const cbag_val *x, void *ud) {
    return invoke(c, ud, 0, 1, &x, NULL);
}
const cbag_val *cbag__cb_map1(cbag_call *c, const cbag_val *x, void *ud) {
    return invoke(c, ud, 1, 1, &x, NULL);
}
const cbag_val *cbag__cb_map2(cbag_call *c, const cbag_val *x, void *ud) {
    return invoke(c, ud, 2, 1, &x, NULL);
}
int cbag__cb_pred0(cbag_call *c, const cbag_val *x, void *ud) {
    int t = 0;
    return invoke(c, ud, 0, 1, &x, &t) ? t : -1;
}
const cbag_val *cbag__cb_bin0(cbag_call *c, const cbag_val *a,
                              const cbag_val *b, void *ud) {
    const cbag_val *v[2] = {a, b};
    return invoke(c, ud, 0, 2, v, NULL);
}
const cbag_val *cbag__cb_bin1(cbag_call *c, const cbag_val *a,
                              const cbag_val *b, void *ud) {
    const cbag_val *v[2] = {a, b};
    return invoke(c, ud, 1, 2, v, NULL);
}
const cbag_val *cbag__cb_star0(cbag_call *c, size_t argc,
                               const cbag_val *const *argv, void *ud) {
    return invoke(c, ud, 0, argc, argv, NULL);
}

bool cbag__callable(const cbag__lv *f) {
    return f->k == LV_FUNC || f->k == LV_BUILTIN;
}

const char *cbag__fn_name(const cbag__lv *f) {
    if (f->k == LV_FUNC) return ((const cbag__node *)f->a)->s;
    if (f->k == LV_BUILTIN) return ((const cbag__builtin *)f->a)->name;
    return "?";
}

/* User data for up to three functions; closures are copied off the stack
 * since the bag outlives the call that built it. */
cbag__cb *cbag__make_cb(cbag__st *st, const cbag__node *at, const cbag__lv *f0,
                        const cbag__lv *f1, const cbag__lv *f2) {
    const cbag__lv *f[3] = {f0, f1, f2};
    cbag__cb *k = cbag__palloc(&st->p->mem, sizeof *k);
    if (!k) {
        cbag__oom(st, at);
        return NULL;
    }
    k->p = st->p;
    for (int i = 0; i < 3; i++) {
        if (!f[i]) continue;
        if (!cbag__callable(f[i])) {
            cbag__err(st, at, E_TYPE, "'%s' object is not callable",
                      cbag__lv_type(f[i]));
            return NULL;
        }
        k->f[i] = *f[i];
        if (cbag__detach(st, &k->f[i])) return NULL;
    }
    return k;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

int cbag__engine_err(cbag__st *st, const cbag__node *at) {
    cbag_ctx *cx = st->p->cx;
    const char *m = cbag_errmsg(cx);
    int rc = cbag__err(st, at, E_ENGINE, "%s", m && *m ? m : "failed");
    st->err = cbag__exc_in_message(st->msg); /* what a callback raised */
    cbag_clear_error(cx);
    return rc;
}

int cbag__need_main(cbag__st *st, const cbag__node *at, const char *what) {
    if (st->main) return 0;
    return cbag__err(st, at, E_TYPE,
                     "%s inside a function that runs on the bag's workers is "
                     "not supported (bags cannot be built or computed there)",
                     what);
}

int cbag__ret_bag(cbag__st *st, const cbag__node *at, cbag *b, cbag__lv *out) {
    if (!b) return cbag__engine_err(st, at);
    out->k = LV_BAG;
    out->a = NULL;
    out->b = b;
    return 0;
}

int cbag__ret_item(cbag__st *st, const cbag__node *at, cbag_item *it,
                   cbag__lv *out) {
    if (!it) return cbag__engine_err(st, at);
    out->k = LV_ITEM;
    out->a = NULL;
    out->b = it;
    return 0;
}

int cbag__keep(cbag__st *st, const cbag__node *at, cbag_result *r) {
    cbag__prog *p = st->p;
    if (p->nres == p->capres) {
        size_t cap = p->capres ? p->capres * 2 : 16;
        cbag_result **n = realloc(p->res, cap * sizeof *n);
        if (!n) {
            cbag_result_free(r);
            return cbag__oom(st, at);
        }
        p->res = n;
        p->capres = cap;
    }
    p->res[p->nres++] = r;
    return 0;
}

int cbag__ret_result(cbag__st *st, const cbag__node *at, cbag_result *r,
                     cbag__lv *out) {
    st->p->skipped += cbag_skipped(st->p->cx);
    if (!r) return cbag__engine_err(st, at);
    if (cbag__keep(st, at, r)) return -1;
    *out = cbag__val(cbag_result_value(r));
    return 0;
}

int cbag__compute(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  cbag__lv *out) {
    if (cbag__need_main(st, at, "compute()")) return -1;
    st->p->last_lazy = *x;
    cbag__lv px; /* the elements of a bag are used whole; an item's chain
                    says what it reads */
    if ((x->k == LV_BAG || x->k == LV_ITEM) &&
        cbag__project(st, at, x, x->k == LV_BAG ? -1 : 0, NULL, &px))
        return -1;
    st->p->last_lazy = px;
    if (x->k == LV_BAG)
        return cbag__ret_result(st, at, cbag_compute(px.b), out);
    if (x->k == LV_ITEM)
        return cbag__ret_result(st, at, cbag_compute_item(px.b), out);
    *out = *x;
    return 0;
}

/* Checks the call's arguments against names: positional in order, or by
 * keyword; fills v (NULL when absent). */
int cbag__bind_args(cbag__st *st, const cbag__node *at, const char *fname,
                    const cbag__args *a, const char *const *names, size_t nreq,
                    const cbag__lv **v) {
    size_t n = 0;
    while (names[n])
        n++;
    if (a->n > n)
        return cbag__err(st, at, E_TYPE,
                         "%s() takes at most %zu positional arguments (%zu "
                         "given)",
                         fname, n, a->n);
    for (size_t i = 0; i < n; i++)
        v[i] = i < a->n ? &a->v[i] : NULL;
    for (size_t k = 0; k < a->nkw; k++) {
        size_t i = 0;
        while (i < n && strcmp(names[i], a->kw[k].name) != 0)
            i++;
        if (i == n)
            return cbag__err(st, at, E_TYPE,
                             "%s() got an unexpected keyword argument '%s'",
                             fname, a->kw[k].name);
        if (v[i])
            return cbag__err(st, at, E_TYPE,
                             "%s() got multiple values for argument '%s'",
                             fname, a->kw[k].name);
        v[i] = &a->kw[k].v;
    }
    for (size_t i = 0; i < nreq; i++)
        if (!v[i])
            return cbag__err(st, at, E_TYPE,
                             "%s() missing required argument: '%s'", fname,
                             names[i]);
    return 0;
}

bool cbag__no_arg(const cbag__lv *x) {
    return !x || (x->k == LV_VAL && cbag_is_null(LVV(*x)));
}

int cbag__get_int(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  const char *what, int64_t *out) {
    if (x->k == LV_VAL && (cbag_typeof(LVV(*x)) == CBAG_INT ||
                           cbag_typeof(LVV(*x)) == CBAG_BOOL)) {
        *out = cbag_int_value(LVV(*x));
        return 0;
    }
    return cbag__err(st, at, E_TYPE, "%s must be an int, not %s", what,
                     cbag__lv_type(x));
}

int cbag__get_size(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const char *what, size_t *out) {
    int64_t i;
    if (cbag__no_arg(x)) {
        *out = 0;
        return 0;
    }
    if (cbag__get_int(st, at, x, what, &i)) return -1;
    if (i < 0) return cbag__err(st, at, E_VALUE, "%s must be >= 0", what);
    *out = (size_t)i;
    return 0;
}

const char *cbag__get_str(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                          const char *what) {
    if (cbag__no_arg(x)) return NULL;
    const char *s = x->k == LV_VAL ? cbag_str(LVV(*x), NULL) : NULL;
    if (!s) {
        cbag__err(st, at, E_TYPE, "%s must be a str, not %s", what,
                  cbag__lv_type(x));
        return NULL;
    }
    /* strings from the arena are not NUL-terminated in general */
    size_t l;
    s = cbag_str(LVV(*x), &l);
    char *z = cbag__palloc(&st->p->mem, l + 1);
    if (!z) {
        cbag__oom(st, at);
        return NULL;
    }
    memcpy(z, s, l);
    z[l] = '\0';
    return z;
}

/* One string entry of a storage_options dict (None: not set). */
static int storage_str(cbag__st *st, const cbag__node *at, const cbag_val *v,
                       const char *what, const char **out) {
    cbag__lv e = cbag__val(v);
    *out = cbag__get_str(st, at, &e, what);
    return !*out && st->err ? -1 : 0;
}

int cbag__get_storage(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                      cbag_storage_options *o) {
    if (cbag__no_arg(x)) return 0;
    if (x->k != LV_VAL || cbag_typeof(LVV(*x)) != CBAG_DICT)
        return cbag__err(st, at, E_TYPE,
                         "storage_options must be a dict, not %s",
                         cbag__lv_type(x));
    const cbag_val *d = LVV(*x);
    for (size_t i = 0; i < cbag_len(d); i++) {
        const cbag_val *k = cbag_dict_key(d, i), *v = cbag_dict_value(d, i);
        double num;
        int rc = 0;
        if (cbag_str_eq(k, "anon")) {
            o->anon = cbag_truthy(v);
        } else if (cbag_str_eq(k, "key")) {
            rc = storage_str(st, at, v, "storage_options['key']", &o->key);
        } else if (cbag_str_eq(k, "secret")) {
            rc =
                storage_str(st, at, v, "storage_options['secret']", &o->secret);
        } else if (cbag_str_eq(k, "token")) {
            rc = storage_str(st, at, v, "storage_options['token']", &o->token);
        } else if (cbag_str_eq(k, "endpoint_url")) {
            rc = storage_str(st, at, v, "storage_options['endpoint_url']",
                             &o->endpoint_url);
        } else if (cbag_str_eq(k, "region")) {
            rc =
                storage_str(st, at, v, "storage_options['region']", &o->region);
        } else if (cbag_str_eq(k, "client_kwargs") &&
                   cbag_typeof(v) == CBAG_DICT) {
            const cbag_val *e = cbag_get(v, "endpoint_url");
            const cbag_val *r = cbag_get(v, "region_name");
            if (e)
                rc = storage_str(st, at, e, "client_kwargs['endpoint_url']",
                                 &o->endpoint_url);
            if (!rc && r)
                rc = storage_str(st, at, r, "client_kwargs['region_name']",
                                 &o->region);
        } else if (cbag_str_eq(k, "retries") && cbag_typeof(v) == CBAG_INT) {
            int64_t n = cbag_int_value(v);
            o->retries = n <= 0 ? -1 : n > 100 ? 100 : (int)n;
        } else if (cbag_str_eq(k, "timeout") && cbag_number(v, &num) &&
                   num > 0) {
            o->timeout = num;
        } else {
            cbag__lv kv = cbag__val(k);
            const char *name = cbag_typeof(k) == CBAG_STR
                                   ? cbag__get_str(st, at, &kv, "key")
                                   : "?";
            return cbag__err(st, at, E_VALUE,
                             "storage_options: unsupported option '%s' (cbag "
                             "knows anon, key, secret, token, endpoint_url, "
                             "region, client_kwargs, retries, timeout)",
                             name ? name : "?");
        }
        if (rc) return -1;
    }
    return 0;
}

int cbag__parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0) return -1;
    while (*end == ' ')
        end++;
    static const struct {
        const char *u;
        double m;
    } units[] = {{"", 1},
                 {"b", 1},
                 {"kb", 1e3},
                 {"mb", 1e6},
                 {"gb", 1e9},
                 {"tb", 1e12},
                 {"kib", 1024.0},
                 {"mib", 1048576.0},
                 {"gib", 1073741824.0},
                 {"tib", 1099511627776.0},
                 {"k", 1e3},
                 {"m", 1e6},
                 {"g", 1e9},
                 {"t", 1e12}};
    char u[8];
    size_t n = 0;
    while (end[n] && n < sizeof u - 1) {
        u[n] = (char)tolower((unsigned char)end[n]);
        n++;
    }
    if (end[n]) return -1;
    u[n] = '\0';
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(u, units[i].u) == 0) {
            double r = v * units[i].m;
            if (r >= 1.8e19) return -1;
            *out = (uint64_t)r;
            return 0;
        }
    return -1;
}
