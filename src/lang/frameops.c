/* frameops.c: dask.dataframe's basics on cbag frames: bag.to_dataframe(),
 * and a frame's head, columns, dtypes, len, column selection, boolean-mask
 * filtering, group-by aggregations, to_csv and to_bag, mapped onto the
 * cbag_frame API. Frames are computed when made (cbag_to_dataframe), so
 * compute() is a no-op returning the same frame, and frame values print
 * as pandas prints them (cbag_frame_print).
 *
 * Language values (lang.h): LV_FRAME holds a cbag_frame; a column handle
 * (df['c'], df.c), a mask (df.c > 0, m1 & m2) and a group-by (df.groupby(
 * 'k'), its ['c'] or .c) hold a fx in the program's pool. All of them are
 * main-thread only, as bags are. */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

typedef struct fcond {
    const char *col;
    const char *op;
    const cbag_val *v;
} fcond;

/* A column handle, a mask or a group-by. */
typedef struct fx {
    cbag_frame *f;
    const char *col; /* LV_FCOL, LV_FGROUP: the column, or NULL */
    const char *by;  /* LV_FGROUP */
    size_t nc;       /* LV_FMASK: conditions, all of which must hold */
    const fcond *c;
} fx;

bool cbag__frame_kind(int k) {
    return k == LV_FRAME || k == LV_FCOL || k == LV_FMASK || k == LV_FGROUP ||
           k == LV_FDTYPES;
}

const char *cbag__frame_type(int k) {
    switch (k) {
    case LV_FRAME: return "DataFrame";
    case LV_FCOL: return "Series";
    case LV_FMASK: return "Series";
    case LV_FGROUP: return "DataFrameGroupBy";
    case LV_FDTYPES: return "Series";
    default: return "?";
    }
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

static int need_main(cbag__st *st, const cbag__node *at) {
    if (st->main) return 0;
    return cbag__err(st, at, E_TYPE,
                     "dataframes cannot be used inside a function that runs "
                     "on a bag's workers");
}

static int ret_frame(cbag__st *st, const cbag__node *at, cbag_frame *f,
                     cbag__lv *out) {
    if (!f) return engine_err(st, at);
    out->k = LV_FRAME;
    out->a = NULL;
    out->b = f;
    return 0;
}

static fx *new_fx(cbag__st *st, const cbag__node *at, cbag_frame *f) {
    fx *x = cbag__palloc(&st->p->mem, sizeof *x);
    if (!x) {
        cbag__oom(st, at);
        return NULL;
    }
    memset(x, 0, sizeof *x);
    x->f = f;
    return x;
}

static int ret_fx(int k, fx *x, cbag__lv *out) {
    out->k = k;
    out->a = x;
    out->b = NULL;
    return 0;
}

static bool is_none(const cbag__lv *x) {
    return !x || (x->k == LV_VAL && cbag_is_null(LVV(*x)));
}

static bool is_str(const cbag__lv *x) {
    return x && x->k == LV_VAL && cbag_typeof(LVV(*x)) == CBAG_STR;
}

/* A NUL-terminated copy of a string value in the program's pool. */
static const char *str_of(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                          const char *what) {
    if (!is_str(x)) {
        cbag__err(st, at, E_TYPE, "%s must be a str, not %s", what,
                  cbag__lv_type(x));
        return NULL;
    }
    size_t l;
    const char *s = cbag_str(LVV(*x), &l);
    char *z = cbag__pstrndup(&st->p->mem, s, l);
    if (!z) cbag__oom(st, at);
    return z;
}

static bool has_column(cbag_frame *f, const char *name) {
    for (size_t i = 0; i < cbag_frame_ncolumns(f); i++)
        if (!strcmp(cbag_frame_column(f, i), name)) return true;
    return false;
}

/* KeyError: 'name' (columns: a, b, c) */
static int no_column(cbag__st *st, const cbag__node *at, cbag_frame *f,
                     const char *name) {
    char cols[400];
    size_t n = 0;
    cols[0] = '\0';
    for (size_t i = 0; i < cbag_frame_ncolumns(f) && n < sizeof cols - 8; i++) {
        int w = snprintf(cols + n, sizeof cols - n, "%s%s", i ? ", " : "",
                         cbag_frame_column(f, i));
        if (w < 0) break;
        n += (size_t)w;
    }
    if (n >= sizeof cols - 8) strcpy(cols + sizeof cols - 8, ", ...");
    return cbag__err(st, at, E_KEY, "'%s' is not a column (columns: %s)", name,
                     cols);
}

static const char *column_of(cbag__st *st, const cbag__node *at, cbag_frame *f,
                             const cbag__lv *k) {
    const char *name = str_of(st, at, k, "a column name");
    if (!name) return NULL;
    if (!has_column(f, name)) {
        no_column(st, at, f, name);
        return NULL;
    }
    return name;
}

/* Checks a call's arguments against names (positional, then keywords). */
static int get_count(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                     const char *what, size_t dflt, size_t *out) {
    if (is_none(x)) {
        *out = dflt;
        return 0;
    }
    cbag_type t = x->k == LV_VAL ? cbag_typeof(LVV(*x)) : CBAG_NULL;
    if (t != CBAG_INT && t != CBAG_BOOL)
        return cbag__err(st, at, E_TYPE, "%s must be an int, not %s", what,
                         cbag__lv_type(x));
    int64_t i = cbag_int_value(LVV(*x));
    if (i < 0) return cbag__err(st, at, E_VALUE, "%s must be >= 0", what);
    *out = (size_t)i;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* bag.to_dataframe(meta=None, columns=None)                                */

static const char *dtype_name(const char *s) {
    static const struct {
        const char *in, *out;
    } m[] = {{"int64", "int64"},     {"int", "int64"},     {"i8", "int64"},
             {"float64", "float64"}, {"float", "float64"}, {"f8", "float64"},
             {"bool", "bool"},       {"str", "string"},    {"string", "string"},
             {"object", "object"},   {"O", "object"},      {NULL, NULL}};
    for (size_t i = 0; m[i].in; i++)
        if (!strcmp(s, m[i].in)) return m[i].out;
    return NULL;
}

/* Column names (and dtypes) from a list of str, a dict {name: dtype} or a
 * list of (name, dtype) pairs. */
static int meta_of(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   bool with_types, cbag_frame_meta *m) {
    const char *what = with_types ? "meta" : "columns";
    if (x->k != LV_VAL)
        return cbag__err(st, at, E_TYPE,
                         "%s must be a dict or list of str (dtypes as "
                         "strings: 'int64', 'float64', 'bool', 'object'), not "
                         "%s",
                         what, cbag__lv_type(x));
    const cbag_val *v = LVV(*x);
    cbag_type t = cbag_typeof(v);
    if (t != CBAG_DICT && t != CBAG_LIST && t != CBAG_TUPLE)
        return cbag__err(st, at, E_TYPE, "%s must be a dict or a list, not %s",
                         what, cbag__lv_type(x));
    size_t n = cbag_len(v);
    const char **cols = cbag__palloc(&st->p->mem, (n ? n : 1) * sizeof *cols);
    const char **types = cbag__palloc(&st->p->mem, (n ? n : 1) * sizeof *types);
    if (!cols || !types) return cbag__oom(st, at);
    bool any_type = false;
    for (size_t i = 0; i < n; i++) {
        cbag__lv name, type = cbag__val(cbag_none());
        if (t == CBAG_DICT) {
            name = cbag__val(cbag_dict_key(v, i));
            type = cbag__val(cbag_dict_value(v, i));
        } else {
            const cbag_val *e = cbag_at(v, (int64_t)i);
            cbag_type et = cbag_typeof(e);
            if ((et == CBAG_TUPLE || et == CBAG_LIST) && cbag_len(e) == 2) {
                name = cbag__val(cbag_at(e, 0));
                type = cbag__val(cbag_at(e, 1));
            } else {
                name = cbag__val(e);
            }
        }
        if (!(cols[i] = str_of(st, at, &name, "a column name"))) return -1;
        types[i] = NULL;
        if (!is_none(&type)) {
            const char *ts = str_of(st, at, &type, "a dtype");
            if (!ts) return -1;
            if (!(types[i] = dtype_name(ts)))
                return cbag__err(st, at, E_VALUE,
                                 "column '%s': unknown dtype '%s' (cbag has "
                                 "int64, float64, bool, object and string)",
                                 cols[i], ts);
            any_type = true;
        }
    }
    m->ncolumns = n;
    m->columns = cols;
    m->dtypes = any_type ? types : NULL;
    return 0;
}

int cbag__to_dataframe(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"meta", "columns", "optimize_graph",
                                        NULL};
    const cbag__lv *v[3];
    if (need_main(st, at) ||
        cbag__bind_args(st, at, "to_dataframe", a, names, 0, v))
        return -1;
    cbag_frame_meta m = {0};
    bool has = false;
    if (!is_none(v[0])) {
        if (meta_of(st, at, v[0], true, &m)) return -1;
        has = true;
    }
    if (!is_none(v[1])) {
        cbag_frame_meta c = {0};
        if (meta_of(st, at, v[1], false, &c)) return -1;
        if (has && c.ncolumns != m.ncolumns)
            return cbag__err(st, at, E_VALUE,
                             "to_dataframe: meta has %zu columns, columns %zu",
                             m.ncolumns, c.ncolumns);
        m.ncolumns = c.ncolumns;
        m.columns = c.columns;
        has = true;
    }
    /* with columns, only those keys of each record are read */
    cbag__lv px;
    if (cbag__project(st, at, x, has ? (int)m.ncolumns : -1, m.columns, &px))
        return -1;
    st->p->last_lazy = px;
    cbag_frame *f = cbag_to_dataframe(px.b, has ? &m : NULL);
    st->p->skipped += cbag_skipped(st->p->cx);
    return ret_frame(st, at, f, out);
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                 */

/* df.dtypes as pandas prints the Series: names left-justified, dtypes
 * right-justified, four spaces between. */
static int print_dtypes(FILE *out, cbag_frame *f) {
    size_t n = cbag_frame_ncolumns(f), wn = 0, wt = 0;
    for (size_t i = 0; i < n; i++) {
        size_t a = cbag__utf8_len(cbag_frame_column(f, i),
                                  strlen(cbag_frame_column(f, i)));
        size_t b = strlen(cbag_frame_dtype(f, i));
        if (a > wn) wn = a;
        if (b > wt) wt = b;
    }
    for (size_t i = 0; i < n; i++) {
        const char *c = cbag_frame_column(f, i);
        size_t cl = cbag__utf8_len(c, strlen(c));
        if (fprintf(out, "%s%*s    %*s\n", c, (int)(wn - cl), "", (int)wt,
                    cbag_frame_dtype(f, i)) < 0)
            return -1;
    }
    return fputs("dtype: object\n", out) < 0 ? -1 : 0;
}

static const char *op_text(int op) {
    switch (op) {
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case '<': return "<";
    case '>': return ">";
    case OP_LE: return "<=";
    case OP_GE: return ">=";
    default: return NULL;
    }
}

/* Writes a frame value as the command shows it; 0, or -1 with the error
 * on st. */
int cbag__frame_print(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                      FILE *out) {
    int rc = 0;
    switch (x->k) {
    case LV_FRAME:
        if (cbag_frame_print(out, x->b)) return engine_err(st, at);
        return 0;
    case LV_FDTYPES: rc = print_dtypes(out, x->b); break;
    case LV_FCOL: {
        const fx *c = x->a;
        cbag_frame *s = cbag_frame_select(c->f, 1, &c->col);
        if (!s || cbag_frame_print(out, s)) return engine_err(st, at);
        return 0;
    }
    case LV_FMASK: {
        const fx *m = x->a;
        rc = fputs("<mask:", out) < 0 ? -1 : 0;
        for (size_t i = 0; i < m->nc && rc == 0; i++) {
            size_t vl;
            char *v = cbag_format(m->c[i].v, CBAG_FMT_REPR, &vl);
            if (fprintf(out, "%s %s %s %s", i ? " &" : "", m->c[i].col,
                        m->c[i].op, v ? v : "?") < 0)
                rc = -1;
            free(v);
        }
        if (rc == 0 && fputs(">\n", out) < 0) rc = -1;
        break;
    }
    case LV_FGROUP: {
        const fx *g = x->a;
        if (g->col)
            rc = fprintf(out, "<SeriesGroupBy by='%s', column '%s'>\n", g->by,
                         g->col) < 0;
        else
            rc = fprintf(out, "<DataFrameGroupBy by='%s'>\n", g->by) < 0;
        break;
    }
    default: break;
    }
    if (rc) return cbag__err(st, at, E_VALUE, "error writing the output");
    return 0;
}

/* repr()/str() of a frame value: its printed text without the newline. */
int cbag__frame_repr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                     char **s, size_t *len) {
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m) return cbag__oom(st, at);
    int rc = cbag__frame_print(st, at, x, m);
    if (fclose(m) && rc == 0) rc = cbag__oom(st, at);
    if (rc) {
        free(buf);
        return -1;
    }
    if (n && buf[n - 1] == '\n') buf[--n] = '\0';
    *s = buf;
    *len = n;
    return 0;
}

int cbag__frame_len(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                    int64_t *out) {
    switch (x->k) {
    case LV_FRAME: *out = (int64_t)cbag_frame_len(x->b); return 0;
    case LV_FCOL:
        *out = (int64_t)cbag_frame_len(((const fx *)x->a)->f);
        return 0;
    case LV_FDTYPES: *out = (int64_t)cbag_frame_ncolumns(x->b); return 0;
    default:
        return cbag__err(st, at, E_TYPE, "object of type '%s' has no len()",
                         cbag__lv_type(x));
    }
}

/* ------------------------------------------------------------------------ */
/* Masks: df.c OP value, combined with &                                    */

int cbag__frame_cmp(cbag__st *st, const cbag__node *at, int op,
                    const cbag__lv *x, const cbag__lv *y, cbag__lv *out) {
    if (need_main(st, at)) return -1;
    if (x->k != LV_FCOL && y->k == LV_FCOL) { /* 0 < df.c: df.c > 0 */
        const cbag__lv *t = x;
        x = y;
        y = t;
        op = op == '<'     ? '>'
             : op == '>'   ? '<'
             : op == OP_LE ? OP_GE
             : op == OP_GE ? OP_LE
                           : op;
    }
    const char *ot = op_text(op);
    if (x->k != LV_FCOL || !ot || y->k != LV_VAL)
        return cbag__err(st, at, E_NOTIMPL,
                         "comparisons of %s with %s: cbag compares a column "
                         "with a value (==, !=, <, <=, >, >=)",
                         cbag__lv_type(x), cbag__lv_type(y));
    const fx *c = x->a;
    fx *m = new_fx(st, at, c->f);
    fcond *k = cbag__palloc(&st->p->mem, sizeof *k);
    if (!m || !k) return m ? cbag__oom(st, at) : -1;
    k->col = c->col;
    k->op = ot;
    k->v = LVV(*y);
    m->c = k;
    m->nc = 1;
    return ret_fx(LV_FMASK, m, out);
}

int cbag__frame_binop(cbag__st *st, const cbag__node *at, int op,
                      const cbag__lv *x, const cbag__lv *y, cbag__lv *out) {
    if (need_main(st, at)) return -1;
    if (op == '&' && x->k == LV_FMASK && y->k == LV_FMASK) {
        const fx *a = x->a, *b = y->a;
        fx *m = new_fx(st, at, a->f);
        fcond *k = cbag__palloc(&st->p->mem, (a->nc + b->nc) * sizeof *k);
        if (!m || !k) return m ? cbag__oom(st, at) : -1;
        memcpy(k, a->c, a->nc * sizeof *k);
        memcpy(k + a->nc, b->c, b->nc * sizeof *k);
        m->c = k;
        m->nc = a->nc + b->nc;
        return ret_fx(LV_FMASK, m, out);
    }
    char o[4] = {0};
    if (op < 256) o[0] = (char)op;
    return cbag__err(st, at, E_NOTIMPL,
                     "operator %s between %s and %s is not supported on "
                     "frames (masks combine with &)",
                     o[0] ? o : "this", cbag__lv_type(x), cbag__lv_type(y));
}

static cbag_frame *apply_mask(cbag__st *st, const cbag__node *at, cbag_frame *f,
                              const fx *m) {
    for (size_t i = 0; i < m->nc && f; i++) {
        if (!has_column(f, m->c[i].col)) {
            no_column(st, at, f, m->c[i].col);
            return NULL;
        }
        f = cbag_frame_filter(f, m->c[i].col, m->c[i].op, m->c[i].v);
        if (!f) engine_err(st, at);
    }
    return f;
}

/* ------------------------------------------------------------------------ */
/* Subscripts and attributes                                                */

int cbag__frame_subscr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const cbag__lv *k, cbag__lv *out) {
    if (need_main(st, at)) return -1;
    if (x->k == LV_FRAME) {
        cbag_frame *f = x->b;
        if (k->k == LV_FMASK) {
            cbag_frame *r = apply_mask(st, at, f, k->a);
            if (!r) return -1;
            return ret_frame(st, at, r, out);
        }
        if (is_str(k)) {
            fx *c = new_fx(st, at, f);
            if (!c || !(c->col = column_of(st, at, f, k))) return -1;
            return ret_fx(LV_FCOL, c, out);
        }
        if (k->k == LV_VAL && (cbag_typeof(LVV(*k)) == CBAG_LIST ||
                               cbag_typeof(LVV(*k)) == CBAG_TUPLE)) {
            const cbag_val *l = LVV(*k);
            size_t n = cbag_len(l);
            const char **names =
                cbag__palloc(&st->p->mem, (n ? n : 1) * sizeof *names);
            if (!names) return cbag__oom(st, at);
            for (size_t i = 0; i < n; i++) {
                cbag__lv e = cbag__val(cbag_at(l, (int64_t)i));
                if (!(names[i] = column_of(st, at, f, &e))) return -1;
            }
            return ret_frame(st, at, cbag_frame_select(f, n, names), out);
        }
        return cbag__err(st, at, E_TYPE,
                         "a DataFrame is indexed by a column name, a list of "
                         "names or a mask (df[df.c > 0]), not %s",
                         cbag__lv_type(k));
    }
    if (x->k == LV_FGROUP) {
        const fx *g = x->a;
        const cbag__lv *key = k;
        cbag__lv one;
        if (k->k == LV_VAL && cbag_typeof(LVV(*k)) == CBAG_LIST &&
            cbag_len(LVV(*k)) == 1) {
            one = cbag__val(cbag_at(LVV(*k), 0));
            key = &one;
        }
        if (!is_str(key))
            return cbag__err(st, at, E_NOTIMPL,
                             "a group-by is indexed by one column name, not "
                             "%s",
                             cbag__lv_type(k));
        fx *r = new_fx(st, at, g->f);
        if (!r || !(r->col = column_of(st, at, g->f, key))) return -1;
        r->by = g->by;
        return ret_fx(LV_FGROUP, r, out);
    }
    if (x->k == LV_FDTYPES) {
        cbag_frame *f = x->b;
        const char *name = str_of(st, at, k, "a column name");
        if (!name) return -1;
        for (size_t i = 0; i < cbag_frame_ncolumns(f); i++)
            if (!strcmp(cbag_frame_column(f, i), name)) {
                const char *d = cbag_frame_dtype(f, i);
                const cbag_val *s = cbag_new_str(st->c, d, strlen(d));
                if (!s) return cbag__oom(st, at);
                *out = cbag__val(s);
                return 0;
            }
        return no_column(st, at, f, name);
    }
    return cbag__err(st, at, E_NOTIMPL, "'%s' object is not subscriptable here",
                     cbag__lv_type(x));
}

static int columns_list(cbag__st *st, const cbag__node *at, cbag_frame *f,
                        cbag__lv *out) {
    size_t n = cbag_frame_ncolumns(f);
    cbag_val *l = cbag_new_list(st->c, n);
    if (!l) return cbag__oom(st, at);
    for (size_t i = 0; i < n; i++) {
        const char *c = cbag_frame_column(f, i);
        const cbag_val *s = cbag_new_str(st->c, c, strlen(c));
        if (!s || cbag_append(st->c, l, s)) return cbag__oom(st, at);
    }
    if (cbag__own(st, l)) return -1;
    *out = cbag__val(l);
    return 0;
}

int cbag__frame_attr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                     const char *name, cbag__lv *out) {
    if (need_main(st, at)) return -1;
    if (x->k == LV_FRAME) {
        cbag_frame *f = x->b;
        if (!strcmp(name, "columns")) return columns_list(st, at, f, out);
        if (!strcmp(name, "dtypes")) {
            out->k = LV_FDTYPES;
            out->a = NULL;
            out->b = f;
            return 0;
        }
        if (!strcmp(name, "npartitions")) {
            const cbag_val *v =
                cbag_new_int(st->c, (int64_t)cbag_frame_npartitions(f));
            if (!v) return cbag__oom(st, at);
            *out = cbag__val(v);
            return 0;
        }
        if (has_column(f, name)) {
            fx *c = new_fx(st, at, f);
            if (!c ||
                !(c->col = cbag__pstrndup(&st->p->mem, name, strlen(name))))
                return c ? cbag__oom(st, at) : -1;
            return ret_fx(LV_FCOL, c, out);
        }
        return cbag__err(st, at, E_ATTR,
                         "'DataFrame' object has no attribute '%s' (not a "
                         "column either)",
                         name);
    }
    if (x->k == LV_FGROUP) {
        const fx *g = x->a;
        if (g->col)
            return cbag__err(st, at, E_ATTR,
                             "'SeriesGroupBy' object has no attribute '%s'",
                             name);
        if (!has_column(g->f, name))
            return cbag__err(st, at, E_ATTR,
                             "'DataFrameGroupBy' object has no attribute '%s' "
                             "(not a column either)",
                             name);
        fx *r = new_fx(st, at, g->f);
        if (!r || !(r->col = cbag__pstrndup(&st->p->mem, name, strlen(name))))
            return r ? cbag__oom(st, at) : -1;
        r->by = g->by;
        return ret_fx(LV_FGROUP, r, out);
    }
    if (x->k == LV_FCOL) {
        const fx *c = x->a;
        if (!strcmp(name, "name")) {
            const cbag_val *s = cbag_new_str(st->c, c->col, strlen(c->col));
            if (!s) return cbag__oom(st, at);
            *out = cbag__val(s);
            return 0;
        }
        if (!strcmp(name, "dtype"))
            for (size_t i = 0; i < cbag_frame_ncolumns(c->f); i++)
                if (!strcmp(cbag_frame_column(c->f, i), c->col)) {
                    const char *d = cbag_frame_dtype(c->f, i);
                    const cbag_val *s = cbag_new_str(st->c, d, strlen(d));
                    if (!s) return cbag__oom(st, at);
                    *out = cbag__val(s);
                    return 0;
                }
    }
    return cbag__err(st, at, E_ATTR, "'%s' object has no attribute '%s'",
                     cbag__lv_type(x), name);
}

/* ------------------------------------------------------------------------ */
/* Methods                                                                  */

static const char *const aggs[] = {"count", "size", "sum",     "mean",
                                   "min",   "max",  "nunique", NULL};

static bool is_agg(const char *name) {
    for (size_t i = 0; aggs[i]; i++)
        if (!strcmp(name, aggs[i])) return true;
    return false;
}

static int no_args(cbag__st *st, const cbag__node *at, const char *name,
                   const cbag__args *a) {
    if (a->n || a->nkw)
        return cbag__err(st, at, E_NOTIMPL,
                         "%s() with arguments is not supported", name);
    return 0;
}

static int m_head(cbag__st *st, const cbag__node *at, cbag_frame *f,
                  const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"n", "npartitions", "compute", NULL};
    const cbag__lv *v[3];
    size_t n = 5;
    if (cbag__bind_args(st, at, "head", a, names, 0, v) ||
        get_count(st, at, v[0], "n", 5, &n))
        return -1;
    return ret_frame(st, at, cbag_frame_head(f, n), out);
}

static int m_groupby(cbag__st *st, const cbag__node *at, cbag_frame *f,
                     const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"by", "sort", "dropna", NULL};
    const cbag__lv *v[3];
    if (cbag__bind_args(st, at, "groupby", a, names, 1, v)) return -1;
    const cbag__lv *by = v[0];
    cbag__lv one;
    if (by->k == LV_FCOL) {
        const char *c = ((const fx *)by->a)->col;
        one = cbag__val(cbag_new_str(st->c, c, strlen(c)));
        if (!LVV(one)) return cbag__oom(st, at);
        by = &one;
    } else if (by->k == LV_VAL && cbag_typeof(LVV(*by)) == CBAG_LIST &&
               cbag_len(LVV(*by)) == 1) {
        one = cbag__val(cbag_at(LVV(*by), 0));
        by = &one;
    }
    if (!is_str(by))
        return cbag__err(st, at, E_NOTIMPL,
                         "groupby: cbag groups by one column name, not %s",
                         cbag__lv_type(v[0]));
    if (v[1] && !cbag__truthy(v[1]))
        return cbag__err(st, at, E_NOTIMPL,
                         "groupby: sort=False is not supported (groups come "
                         "sorted)");
    if (v[2] && !cbag__truthy(v[2]))
        return cbag__err(st, at, E_NOTIMPL,
                         "groupby: dropna=False is not supported");
    fx *g = new_fx(st, at, f);
    if (!g || !(g->by = column_of(st, at, f, by))) return -1;
    return ret_fx(LV_FGROUP, g, out);
}

static int m_to_csv(cbag__st *st, const cbag__node *at, cbag_frame *f,
                    const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"filename", "single_file", "index",
                                        "header",   "sep",         NULL};
    const cbag__lv *v[5];
    if (cbag__bind_args(st, at, "to_csv", a, names, 1, v)) return -1;
    const char *path = str_of(st, at, v[0], "filename");
    if (!path) return -1;
    cbag_frame_csv_options o = {0};
    o.single_file = v[1] && cbag__truthy(v[1]);
    o.no_index = v[2] && !cbag__truthy(v[2]);
    o.no_header = v[3] && !cbag__truthy(v[3]);
    if (v[4] && !is_none(v[4])) {
        size_t l = 0;
        const char *s = is_str(v[4]) ? cbag_str(LVV(*v[4]), &l) : NULL;
        if (!s || l != 1)
            return cbag__err(st, at, E_TYPE,
                             "to_csv: sep must be a 1-character string");
        o.sep = s[0];
    }
    if (!o.single_file && !strchr(path, '*'))
        return cbag__err(st, at, E_VALUE,
                         "to_csv: the filename needs a '*' (replaced by the "
                         "partition number) unless single_file=True");
    if (cbag_frame_to_csv(f, path, &o)) return engine_err(st, at);
    *out = cbag__val(cbag_none());
    return 0;
}

static int m_to_bag(cbag__st *st, const cbag__node *at, cbag_frame *f,
                    const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"index", "format", NULL};
    const cbag__lv *v[2];
    if (cbag__bind_args(st, at, "to_bag", a, names, 0, v)) return -1;
    int flags = CBAG_FRAME_TUPLES;
    if (v[0] && cbag__truthy(v[0])) flags |= CBAG_FRAME_INDEX;
    if (v[1] && !is_none(v[1])) {
        const char *fm = str_of(st, at, v[1], "format");
        if (!fm) return -1;
        if (!strcmp(fm, "dict"))
            flags &= ~CBAG_FRAME_TUPLES;
        else if (strcmp(fm, "tuple"))
            return cbag__err(st, at, E_VALUE,
                             "to_bag: format must be 'tuple' or 'dict', not "
                             "'%s'",
                             fm);
    }
    cbag *b = cbag_frame_to_bag(f, flags);
    if (!b) return engine_err(st, at);
    out->k = LV_BAG;
    out->a = NULL;
    out->b = b;
    return 0;
}

static int group_agg(cbag__st *st, const cbag__node *at, const fx *g,
                     const char *agg, cbag__lv *out) {
    if (!is_agg(agg))
        return cbag__err(st, at, E_NOTIMPL,
                         "group-by aggregation '%s' is not supported (cbag "
                         "has count, size, sum, mean, min, max, nunique)",
                         agg);
    return ret_frame(st, at, cbag_frame_groupby(g->f, g->by, g->col, agg), out);
}

/* Series aggregations: the column's non-missing values as a bag. */
static const cbag_val *first(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c;
    (void)ud;
    return cbag_at(x, 0);
}
static int present(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c;
    (void)ud;
    return !cbag_is_null(cbag_at(x, 0));
}

static int column_agg(cbag__st *st, const cbag__node *at, const fx *c,
                      const char *name, cbag__lv *out) {
    cbag_frame *s = cbag_frame_select(c->f, 1, &c->col);
    cbag *b = s ? cbag_frame_to_bag(s, CBAG_FRAME_TUPLES) : NULL;
    if (b) b = cbag_filter_named(b, "notna", present, NULL);
    if (b) b = cbag_map_named(b, c->col, first, NULL);
    if (!b) return engine_err(st, at);
    cbag_item *it = !strcmp(name, "count")  ? cbag_count(b)
                    : !strcmp(name, "sum")  ? cbag_sum(b)
                    : !strcmp(name, "mean") ? cbag_mean(b)
                    : !strcmp(name, "min")  ? cbag_min(b)
                                            : cbag_max(b);
    if (!it) return engine_err(st, at);
    cbag__lv item = {LV_ITEM, NULL, it};
    return cbag__compute(st, at, &item, out);
}

int cbag__frame_method(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const char *name, const cbag__args *a, cbag__lv *out) {
    if (need_main(st, at)) return -1;
    if (!strcmp(name, "compute") || !strcmp(name, "persist")) {
        if (no_args(st, at, name, a)) return -1;
        if (x->k == LV_FCOL) {
            const fx *c = x->a;
            return ret_frame(st, at, cbag_frame_select(c->f, 1, &c->col), out);
        }
        *out = *x;
        return 0;
    }
    if (x->k == LV_FRAME) {
        cbag_frame *f = x->b;
        if (!strcmp(name, "head")) return m_head(st, at, f, a, out);
        if (!strcmp(name, "groupby")) return m_groupby(st, at, f, a, out);
        if (!strcmp(name, "to_csv")) return m_to_csv(st, at, f, a, out);
        if (!strcmp(name, "to_bag")) return m_to_bag(st, at, f, a, out);
        return cbag__err(st, at, E_ATTR,
                         "'DataFrame' object has no attribute '%s' (cbag "
                         "supports head, groupby, to_csv, to_bag, compute, "
                         "columns, dtypes, npartitions, len(), df[...])",
                         name);
    }
    if (x->k == LV_FGROUP) {
        const fx *g = x->a;
        if (!strcmp(name, "agg") || !strcmp(name, "aggregate")) {
            if (a->n != 1 || a->nkw || !is_str(&a->v[0]))
                return cbag__err(st, at, E_NOTIMPL,
                                 "%s() takes one aggregation name here", name);
            const char *agg = str_of(st, at, &a->v[0], "agg");
            if (!agg) return -1;
            return group_agg(st, at, g, agg, out);
        }
        if (no_args(st, at, name, a)) return -1;
        return group_agg(st, at, g, name, out);
    }
    if (x->k == LV_FCOL) {
        const fx *c = x->a;
        if (!strcmp(name, "head")) {
            cbag_frame *s = cbag_frame_select(c->f, 1, &c->col);
            if (!s) return engine_err(st, at);
            return m_head(st, at, s, a, out);
        }
        static const char *const sa[] = {"count", "sum", "mean",
                                         "min",   "max", NULL};
        for (size_t i = 0; sa[i]; i++)
            if (!strcmp(name, sa[i])) {
                if (no_args(st, at, name, a)) return -1;
                return column_agg(st, at, c, name, out);
            }
    }
    return cbag__err(st, at, E_ATTR, "'%s' object has no attribute '%s'",
                     cbag__lv_type(x), name);
}
