/* bagops.c: the db module (read_text, from_sequence, ...) and the methods
 * of bags and items, mapped onto the cbag API. Language functions passed
 * to map, filter, fold, ... become C callbacks whose user data holds the
 * function; each invocation evaluates it in a fresh cbag__st on the
 * worker's call handle. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

int cbag__detach(cbag__st *st, cbag__lv *fn);
int cbag__parse_size(const char *s, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */

typedef struct cb {
    cbag__prog *p;
    cbag__lv f[3];
} cb;

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
static const cbag_val *invoke(cbag_call *c, const cb *k, int i, size_t argc,
                              const cbag_val *const *argv, int *truth) {
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

static const cbag_val *map0(cbag_call *c, const cbag_val *x, void *ud) {
    return invoke(c, ud, 0, 1, &x, NULL);
}
static const cbag_val *map1(cbag_call *c, const cbag_val *x, void *ud) {
    return invoke(c, ud, 1, 1, &x, NULL);
}
static const cbag_val *map2(cbag_call *c, const cbag_val *x, void *ud) {
    return invoke(c, ud, 2, 1, &x, NULL);
}
static int pred0(cbag_call *c, const cbag_val *x, void *ud) {
    int t = 0;
    return invoke(c, ud, 0, 1, &x, &t) ? t : -1;
}
static const cbag_val *bin0(cbag_call *c, const cbag_val *a, const cbag_val *b,
                            void *ud) {
    const cbag_val *v[2] = {a, b};
    return invoke(c, ud, 0, 2, v, NULL);
}
static const cbag_val *bin1(cbag_call *c, const cbag_val *a, const cbag_val *b,
                            void *ud) {
    const cbag_val *v[2] = {a, b};
    return invoke(c, ud, 1, 2, v, NULL);
}
static const cbag_val *star0(cbag_call *c, size_t argc,
                             const cbag_val *const *argv, void *ud) {
    return invoke(c, ud, 0, argc, argv, NULL);
}

static bool callable(const cbag__lv *f) {
    return f->k == LV_FUNC || f->k == LV_BUILTIN;
}

static const char *fn_name(const cbag__lv *f) {
    if (f->k == LV_FUNC) return ((const cbag__node *)f->a)->s;
    if (f->k == LV_BUILTIN) return ((const cbag__builtin *)f->a)->name;
    return "?";
}

/* User data for up to three functions; closures are copied off the stack
 * since the bag outlives the call that built it. */
static cb *make_cb(cbag__st *st, const cbag__node *at, const cbag__lv *f0,
                   const cbag__lv *f1, const cbag__lv *f2) {
    const cbag__lv *f[3] = {f0, f1, f2};
    cb *k = cbag__palloc(&st->p->mem, sizeof *k);
    if (!k) {
        cbag__oom(st, at);
        return NULL;
    }
    k->p = st->p;
    for (int i = 0; i < 3; i++) {
        if (!f[i]) continue;
        if (!callable(f[i])) {
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

static int engine_err(cbag__st *st, const cbag__node *at) {
    cbag_ctx *cx = st->p->cx;
    const char *m = cbag_errmsg(cx);
    int rc = cbag__err(st, at, E_ENGINE, "%s", m && *m ? m : "failed");
    cbag_clear_error(cx);
    return rc;
}

static int need_main(cbag__st *st, const cbag__node *at, const char *what) {
    if (st->main) return 0;
    return cbag__err(st, at, E_TYPE,
                     "%s inside a function that runs on the bag's workers is "
                     "not supported (bags cannot be built or computed there)",
                     what);
}

static int ret_bag(cbag__st *st, const cbag__node *at, cbag *b, cbag__lv *out) {
    if (!b) return engine_err(st, at);
    out->k = LV_BAG;
    out->a = NULL;
    out->b = b;
    return 0;
}

static int ret_item(cbag__st *st, const cbag__node *at, cbag_item *it,
                    cbag__lv *out) {
    if (!it) return engine_err(st, at);
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

static int ret_result(cbag__st *st, const cbag__node *at, cbag_result *r,
                      cbag__lv *out) {
    st->p->skipped += cbag_skipped(st->p->cx);
    if (!r) return engine_err(st, at);
    if (cbag__keep(st, at, r)) return -1;
    *out = cbag__val(cbag_result_value(r));
    return 0;
}

int cbag__compute(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  cbag__lv *out) {
    if (need_main(st, at, "compute()")) return -1;
    st->p->last_lazy = *x;
    if (x->k == LV_BAG) return ret_result(st, at, cbag_compute(x->b), out);
    if (x->k == LV_ITEM)
        return ret_result(st, at, cbag_compute_item(x->b), out);
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

static bool none(const cbag__lv *x) {
    return !x || (x->k == LV_VAL && cbag_is_null(LVV(*x)));
}

static int get_int(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const char *what, int64_t *out) {
    if (x->k == LV_VAL && (cbag_typeof(LVV(*x)) == CBAG_INT ||
                           cbag_typeof(LVV(*x)) == CBAG_BOOL)) {
        *out = cbag_int_value(LVV(*x));
        return 0;
    }
    return cbag__err(st, at, E_TYPE, "%s must be an int, not %s", what,
                     cbag__lv_type(x));
}

static int get_size(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                    const char *what, size_t *out) {
    int64_t i;
    if (none(x)) {
        *out = 0;
        return 0;
    }
    if (get_int(st, at, x, what, &i)) return -1;
    if (i < 0) return cbag__err(st, at, E_VALUE, "%s must be >= 0", what);
    *out = (size_t)i;
    return 0;
}

static const char *get_str(cbag__st *st, const cbag__node *at,
                           const cbag__lv *x, const char *what) {
    if (none(x)) return NULL;
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

/* ------------------------------------------------------------------------ */
/* The db module                                                            */

static int db_read_text(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"urlpath",
                                        "blocksize",
                                        "compression",
                                        "encoding",
                                        "errors",
                                        "linedelimiter",
                                        "collection",
                                        "storage_options",
                                        "files_per_partition",
                                        "include_path",
                                        NULL};
    const cbag__lv *v[10];
    if (need_main(st, NULL, "db.read_text") ||
        cbag__files_allowed(st, NULL, "read_text") ||
        cbag__bind_args(st, NULL, "read_text", a, names, 1, v))
        return -1;
    cbag_text_options o = {0};
    if (!none(v[1])) {
        if (v[1]->k == LV_VAL && cbag_typeof(LVV(*v[1])) == CBAG_STR) {
            const char *s = get_str(st, NULL, v[1], "blocksize");
            if (!s) return -1;
            if (cbag__parse_size(s, &o.blocksize))
                return cbag__err(st, NULL, E_VALUE, "invalid blocksize '%s'",
                                 s);
        } else {
            int64_t bs;
            if (get_int(st, NULL, v[1], "blocksize", &bs)) return -1;
            o.blocksize = bs > 0 ? (uint64_t)bs : 0;
        }
    }
    if (v[2] && !(o.compression = get_str(st, NULL, v[2], "compression")) &&
        st->err)
        return -1;
    if (v[3] && !none(v[3])) {
        const char *enc = get_str(st, NULL, v[3], "encoding");
        if (!enc) return -1;
        if (strcmp(enc, "utf-8") && strcmp(enc, "utf8") && strcmp(enc, "UTF-8"))
            return cbag__err(st, NULL, E_VALUE,
                             "encoding '%s': cbag reads UTF-8 only", enc);
    }
    if (v[4] && !(o.errors = get_str(st, NULL, v[4], "errors")) && st->err)
        return -1;
    if (v[5] && !(o.linedelimiter = get_str(st, NULL, v[5], "linedelimiter")) &&
        st->err)
        return -1;
    if (v[8] &&
        get_size(st, NULL, v[8], "files_per_partition", &o.files_per_partition))
        return -1;
    o.include_path = v[9] && cbag__truthy(v[9]);
    const cbag__lv *p = v[0];
    cbag_ctx *cx = st->p->cx;
    if (p->k == LV_VAL && cbag_typeof(LVV(*p)) == CBAG_STR) {
        const char *path = get_str(st, NULL, p, "urlpath");
        if (!path) return -1;
        return ret_bag(st, NULL, cbag_read_text(cx, path, &o), out);
    }
    if (p->k == LV_VAL && (cbag_typeof(LVV(*p)) == CBAG_LIST ||
                           cbag_typeof(LVV(*p)) == CBAG_TUPLE)) {
        size_t n = cbag_len(LVV(*p));
        const char **paths =
            cbag__palloc(&st->p->mem, (n ? n : 1) * sizeof *paths);
        if (!paths) return cbag__oom(st, NULL);
        for (size_t i = 0; i < n; i++) {
            cbag__lv e = cbag__val(cbag_at(LVV(*p), (int64_t)i));
            if (!(paths[i] = get_str(st, NULL, &e, "urlpath"))) return -1;
        }
        return ret_bag(st, NULL, cbag_read_textv(cx, n, paths, &o), out);
    }
    return cbag__err(st, NULL, E_TYPE,
                     "read_text: urlpath must be a str or a list of str, not "
                     "%s",
                     cbag__lv_type(p));
}

static int db_from_sequence(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"seq", "partition_size", "npartitions",
                                        NULL};
    const cbag__lv *v[3];
    if (need_main(st, NULL, "db.from_sequence") ||
        cbag__bind_args(st, NULL, "from_sequence", a, names, 1, v))
        return -1;
    size_t ps, np;
    if (get_size(st, NULL, v[1], "partition_size", &ps) ||
        get_size(st, NULL, v[2], "npartitions", &np))
        return -1;
    const cbag_val *seq;
    cbag_type t = v[0]->k == LV_VAL ? cbag_typeof(LVV(*v[0])) : CBAG_NULL;
    if (t == CBAG_LIST || t == CBAG_TUPLE) {
        seq = LVV(*v[0]);
    } else {
        cbag_val *l;
        if (cbag__to_list(st, NULL, v[0], &l)) return -1;
        seq = l;
    }
    return ret_bag(st, NULL, cbag_from_sequence(st->p->cx, seq, np, ps), out);
}

static int db_range(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"n", "npartitions", NULL};
    const cbag__lv *v[2];
    if (need_main(st, NULL, "db.range") ||
        cbag__bind_args(st, NULL, "range", a, names, 2, v))
        return -1;
    int64_t n;
    size_t np;
    if (get_int(st, NULL, v[0], "n", &n) ||
        get_size(st, NULL, v[1], "npartitions", &np))
        return -1;
    return ret_bag(st, NULL, cbag_range(st->p->cx, n, np), out);
}

/* Bags from an LV_SEQ or the arguments. */
static int bags_of(cbag__st *st, const cbag__lv *x, size_t n, cbag ***out) {
    cbag **bags = cbag__palloc(&st->p->mem, (n ? n : 1) * sizeof *bags);
    if (!bags) return cbag__oom(st, NULL);
    for (size_t i = 0; i < n; i++) {
        if (x[i].k != LV_BAG)
            return cbag__err(st, NULL, E_TYPE, "expected bags, got a %s",
                             cbag__lv_type(&x[i]));
        bags[i] = x[i].b;
    }
    *out = bags;
    return 0;
}

static int db_concat(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (need_main(st, NULL, "db.concat") || cbag__argn(st, "concat", a, 1, 1))
        return -1;
    if (a->v[0].k != LV_SEQ)
        return cbag__err(st, NULL, E_TYPE, "concat() needs a list of bags");
    const cbag__seq *s = a->v[0].a;
    cbag **bags;
    if (bags_of(st, s->items, s->n, &bags)) return -1;
    return ret_bag(st, NULL, cbag_concat(st->p->cx, s->n, bags), out);
}

static int db_zip(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (need_main(st, NULL, "db.zip")) return -1;
    cbag **bags;
    if (bags_of(st, a->v, a->n, &bags)) return -1;
    return ret_bag(st, NULL, cbag_zip(st->p->cx, a->n, bags), out);
}

#define F(name, fn)                                                            \
    { name, &(const cbag__builtin){name, fn, BI_OTHER}, NULL, 0 }
static const cbag__modattr db_attrs[] = {F("read_text", db_read_text),
                                         F("from_sequence", db_from_sequence),
                                         F("range", db_range),
                                         F("concat", db_concat),
                                         F("zip", db_zip),
                                         {NULL, NULL, NULL, 0}};
const cbag__module cbag__db_module = {"dask.bag", db_attrs};

/* ------------------------------------------------------------------------ */
/* Bag methods                                                              */

/* map(f): json.loads and json.dumps go straight to the engine's loaders
 * (the fused read_text + json.loads path). */
static int m_map(cbag__st *st, const cbag__node *at, cbag *b, int kind,
                 const cbag__args *a, cbag__lv *out) {
    const char *mname = kind == 0   ? "map"
                        : kind == 1 ? "filter"
                        : kind == 2 ? "remove"
                        : kind == 3 ? "starmap"
                                    : "map_partitions";
    if (a->n != 1 || a->nkw)
        return cbag__err(st, at, E_NOTIMPL,
                         "%s() takes one function (extra arguments are not "
                         "supported; use a lambda)",
                         mname);
    const cbag__lv *f = &a->v[0];
    if (kind == 0 && f->k == LV_BUILTIN) {
        int id = ((const cbag__builtin *)f->a)->id;
        if (id == BI_JSON_LOADS)
            return ret_bag(
                st, at,
                st->p->errors_skip
                    ? cbag_json_loads_skip(b)
                    : cbag_map_named(b, "json.loads", cbag_json_loads, NULL),
                out);
        if (id == BI_JSON_DUMPS)
            return ret_bag(
                st, at, cbag_map_named(b, "json.dumps", cbag_json_dumps, NULL),
                out);
    }
    cb *k = make_cb(st, at, f, NULL, NULL);
    if (!k) return -1;
    const char *name = fn_name(f);
    switch (kind) {
    case 0: return ret_bag(st, at, cbag_map_named(b, name, map0, k), out);
    case 1: return ret_bag(st, at, cbag_filter_named(b, name, pred0, k), out);
    case 2: return ret_bag(st, at, cbag_remove_named(b, name, pred0, k), out);
    case 3: return ret_bag(st, at, cbag_starmap_named(b, name, star0, k), out);
    default:
        return ret_bag(st, at, cbag_map_partitions_named(b, name, map0, k),
                       out);
    }
}

static int m_pluck(cbag__st *st, const cbag__node *at, cbag *b,
                   const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"key", "default", NULL};
    const cbag__lv *v[2];
    if (cbag__bind_args(st, at, "pluck", a, names, 1, v)) return -1;
    const cbag_val *key, *dflt = NULL;
    if (cbag__need_val(st, at, v[0], &key)) return -1;
    if (v[1] && cbag__need_val(st, at, v[1], &dflt)) return -1;
    return ret_bag(st, at, cbag_pluckv(b, key, dflt), out);
}

static int m_take(cbag__st *st, const cbag__node *at, cbag__lv *self,
                  const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"k", "npartitions", "compute", "warn",
                                        NULL};
    const cbag__lv *v[4];
    if (cbag__bind_args(st, at, "take", a, names, 1, v)) return -1;
    int64_t k, np = 1;
    if (get_int(st, at, v[0], "k", &k) ||
        (v[1] && get_int(st, at, v[1], "npartitions", &np)))
        return -1;
    if (k < 0) return cbag__err(st, at, E_VALUE, "take: k must be >= 0");
    if (np < -1 || np > INT32_MAX)
        return cbag__err(st, at, E_VALUE, "take: bad npartitions");
    st->p->last_lazy = *self;
    return ret_result(st, at, cbag_take(self->b, (size_t)k, (int)np), out);
}

static int m_fold(cbag__st *st, const cbag__node *at, cbag *b,
                  const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"binop", "combine", "initial",
                                        "split_every", NULL};
    const cbag__lv *v[4];
    if (cbag__bind_args(st, at, "fold", a, names, 1, v)) return -1;
    const cbag_val *init = NULL;
    if (v[2] && cbag__need_val(st, at, v[2], &init)) return -1;
    bool comb = v[1] && !none(v[1]);
    cb *k = make_cb(st, at, v[0], comb ? v[1] : NULL, NULL);
    if (!k) return -1;
    return ret_item(
        st, at,
        cbag_fold_named(b, fn_name(v[0]), bin0, comb ? bin1 : NULL, init, k),
        out);
}

static int m_reduction(cbag__st *st, const cbag__node *at, cbag *b,
                       const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {
        "perpartition", "aggregate", "split_every", "out_type", "name", NULL};
    const cbag__lv *v[5];
    if (cbag__bind_args(st, at, "reduction", a, names, 2, v)) return -1;
    int64_t se = 0;
    if (v[2] && !none(v[2]) && get_int(st, at, v[2], "split_every", &se))
        return -1;
    cb *k = make_cb(st, at, v[0], v[1], NULL);
    if (!k) return -1;
    return ret_item(
        st, at, cbag_reduction_named(b, fn_name(v[0]), map0, map1, (int)se, k),
        out);
}

static int m_foldby(cbag__st *st, const cbag__node *at, cbag *b,
                    const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {
        "key",         "binop", "initial", "combine", "combine_initial",
        "split_every", NULL};
    const cbag__lv *v[6];
    if (cbag__bind_args(st, at, "foldby", a, names, 2, v)) return -1;
    cbag_foldby_options o = {0};
    if (v[2] && cbag__need_val(st, at, v[2], &o.initial)) return -1;
    if (v[4] && cbag__need_val(st, at, v[4], &o.combine_initial)) return -1;
    int64_t se = 0;
    if (v[5] && !none(v[5]) && get_int(st, at, v[5], "split_every", &se))
        return -1;
    o.split_every = (int)se;
    bool comb = v[3] && !none(v[3]);
    bool keyfn = callable(v[0]);
    cb *k = make_cb(st, at, v[1], comb ? v[3] : NULL, keyfn ? v[0] : NULL);
    if (!k) return -1;
    if (comb) o.combine = bin1;
    const cbag_val *field = NULL;
    if (!keyfn && cbag__need_val(st, at, v[0], &field)) return -1;
    return ret_bag(st, at,
                   cbag_foldby_named(b, fn_name(v[1]), field,
                                     keyfn ? map2 : NULL, bin0, &o, k),
                   out);
}

static int m_groupby(cbag__st *st, const cbag__node *at, cbag *b,
                     const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {
        "grouper",    "method",  "npartitions", "blocksize",
        "max_branch", "shuffle", NULL};
    const cbag__lv *v[6];
    if (cbag__bind_args(st, at, "groupby", a, names, 1, v)) return -1;
    size_t np;
    if (get_size(st, at, v[2], "npartitions", &np)) return -1;
    if (callable(v[0])) {
        cb *k = make_cb(st, at, v[0], NULL, NULL);
        if (!k) return -1;
        return ret_bag(st, at,
                       cbag_groupby_named(b, fn_name(v[0]), NULL, map0, np, k),
                       out);
    }
    const cbag_val *field;
    if (cbag__need_val(st, at, v[0], &field)) return -1;
    return ret_bag(
        st, at, cbag_groupby_named(b, "getitem", field, NULL, np, NULL), out);
}

static int m_to_textfiles(cbag__st *st, const cbag__node *at, cbag *b,
                          const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {
        "path",    "name_function",   "compression",  "encoding",
        "compute", "storage_options", "last_endline", NULL};
    const cbag__lv *v[7];
    if (cbag__files_allowed(st, at, "to_textfiles") ||
        cbag__bind_args(st, at, "to_textfiles", a, names, 1, v))
        return -1;
    if (v[1] && !none(v[1]))
        return cbag__err(st, at, E_NOTIMPL,
                         "to_textfiles: name_function is "
                         "not supported");
    cbag_textfiles_options o = {0};
    const char *path = get_str(st, at, v[0], "path");
    if (!path) return st->err ? -1 : cbag__err(st, at, E_TYPE, "path needed");
    if (v[2] && !(o.compression = get_str(st, at, v[2], "compression")) &&
        st->err)
        return -1;
    o.last_endline = v[6] && cbag__truthy(v[6]);
    if (cbag_to_textfiles(b, path, &o)) return engine_err(st, at);
    *out = cbag__val(cbag_none());
    return 0;
}

static int m_visualize(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"filename", "format", NULL};
    const cbag__lv *v[2];
    if (cbag__files_allowed(st, at, "visualize") ||
        cbag__bind_args(st, at, "visualize", a, names, 0, v))
        return -1;
    const char *fn = v[0] ? get_str(st, at, v[0], "filename") : "mydask.dot";
    if (!fn) return st->err ? -1 : cbag__err(st, at, E_TYPE, "filename needed");
    FILE *f = fopen(fn, "w");
    if (!f) return cbag__err(st, at, E_VALUE, "cannot write %s", fn);
    int rc =
        x->k == LV_BAG ? cbag_visualize(x->b, f) : cbag_visualize_item(x->b, f);
    if (fclose(f) && rc == 0) rc = CBAG_IO;
    if (rc) return engine_err(st, at);
    *out = cbag__val(cbag_none());
    return 0;
}

static int reduce0(cbag__st *st, const cbag__node *at, cbag *b,
                   const char *name, const cbag__args *a, cbag__lv *out) {
    if (a->n || a->nkw)
        return cbag__err(st, at, E_TYPE, "%s() takes no arguments here", name);
    cbag_item *it = NULL;
    if (!strcmp(name, "count"))
        it = cbag_count(b);
    else if (!strcmp(name, "sum"))
        it = cbag_sum(b);
    else if (!strcmp(name, "mean"))
        it = cbag_mean(b);
    else if (!strcmp(name, "min"))
        it = cbag_min(b);
    else if (!strcmp(name, "max"))
        it = cbag_max(b);
    else if (!strcmp(name, "any"))
        it = cbag_any(b);
    else if (!strcmp(name, "all"))
        it = cbag_all(b);
    return ret_item(st, at, it, out);
}

int cbag__bag_method(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                     const char *name, const cbag__args *a, cbag__lv *out) {
    if (need_main(st, at, "a bag method")) return -1;
    cbag__lv self = *x;
    if (!strcmp(name, "compute")) {
        if (a->n || a->nkw)
            return cbag__err(st, at, E_TYPE, "compute() takes no arguments");
        return cbag__compute(st, at, x, out);
    }
    if (!strcmp(name, "visualize")) return m_visualize(st, at, x, a, out);
    if (x->k == LV_ITEM)
        return cbag__err(st, at, E_ATTR, "'Item' object has no attribute '%s'",
                         name);
    cbag *b = x->b;
    static const char *const maps[] = {"map", "filter", "remove", "starmap",
                                       "map_partitions"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, maps[i])) return m_map(st, at, b, i, a, out);
    if (!strcmp(name, "pluck")) return m_pluck(st, at, b, a, out);
    if (!strcmp(name, "flatten") || !strcmp(name, "concat")) {
        if (a->n || a->nkw)
            return cbag__err(st, at, E_TYPE, "%s() takes no arguments", name);
        return ret_bag(st, at, cbag_flatten(b), out);
    }
    if (!strcmp(name, "take")) return m_take(st, at, &self, a, out);
    if (!strcmp(name, "var") || !strcmp(name, "std")) {
        static const char *const names[] = {"ddof", NULL};
        const cbag__lv *v[1];
        int64_t ddof = 0;
        if (cbag__bind_args(st, at, name, a, names, 0, v) ||
            (v[0] && get_int(st, at, v[0], "ddof", &ddof)))
            return -1;
        return ret_item(st, at,
                        name[0] == 'v' ? cbag_var(b, (int)ddof)
                                       : cbag_std(b, (int)ddof),
                        out);
    }
    static const char *const reds[] = {"count", "sum", "mean", "min",
                                       "max",   "any", "all"};
    for (int i = 0; i < 7; i++)
        if (!strcmp(name, reds[i])) return reduce0(st, at, b, name, a, out);
    if (!strcmp(name, "fold")) return m_fold(st, at, b, a, out);
    if (!strcmp(name, "reduction")) return m_reduction(st, at, b, a, out);
    if (!strcmp(name, "foldby")) return m_foldby(st, at, b, a, out);
    if (!strcmp(name, "groupby")) return m_groupby(st, at, b, a, out);
    if (!strcmp(name, "to_textfiles")) return m_to_textfiles(st, at, b, a, out);
    if (!strcmp(name, "to_dataframe"))
        return cbag__to_dataframe(st, at, b, a, out);
    return cbag__err(st, at, E_ATTR,
                     "'Bag' object has no attribute '%s' (cbag supports map, "
                     "filter, remove, starmap, pluck, flatten, map_partitions, "
                     "take, compute, count, sum, mean, min, max, var, std, "
                     "any, all, fold, reduction, foldby, groupby, "
                     "to_textfiles, to_dataframe, visualize)",
                     name);
}

int cbag__bag_attr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const char *name, cbag__lv *out) {
    if (x->k == LV_BAG && !strcmp(name, "npartitions")) {
        const cbag_val *v =
            cbag_new_int(st->c, (int64_t)cbag_npartitions(x->b));
        if (!v) return cbag__oom(st, at);
        *out = cbag__val(v);
        return 0;
    }
    return cbag__err(st, at, E_NOTIMPL,
                     "'%s.%s' as a value is not supported; call it: x.%s(...)",
                     cbag__lv_type(x), name, name);
}
