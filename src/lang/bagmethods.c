/* bagmethods.c: the methods and attributes of bags and items (map,
 * filter, pluck, fold, foldby, groupby, take, compute, reductions,
 * to_textfiles, to_dataframe, visualize; more in bagmore.c), mapped onto
 * the cbag API. Bags and items they return keep how they were built, for
 * projection (project.c). */
#include <stdlib.h>
#include <string.h>

#include "bagops.h"

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
            return cbag__ret_bag(
                st, at,
                st->p->errors_skip
                    ? cbag_json_loads_skip(b)
                    : cbag_map_named(b, "json.loads", cbag_json_loads, NULL),
                out);
        if (id == BI_JSON_DUMPS)
            return cbag__ret_bag(
                st, at, cbag_map_named(b, "json.dumps", cbag_json_dumps, NULL),
                out);
    }
    cbag__cb *k = cbag__make_cb(st, at, f, NULL, NULL);
    if (!k) return -1;
    const char *name = cbag__fn_name(f);
    switch (kind) {
    case 0:
        return cbag__ret_bag(st, at, cbag_map_named(b, name, cbag__cb_map0, k),
                             out);
    case 1:
        return cbag__ret_bag(
            st, at, cbag_filter_named(b, name, cbag__cb_pred0, k), out);
    case 2:
        return cbag__ret_bag(
            st, at, cbag_remove_named(b, name, cbag__cb_pred0, k), out);
    case 3:
        return cbag__ret_bag(
            st, at, cbag_starmap_named(b, name, cbag__cb_star0, k), out);
    default:
        return cbag__ret_bag(
            st, at, cbag_map_partitions_named(b, name, cbag__cb_map0, k), out);
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
    return cbag__ret_bag(st, at, cbag_pluckv(b, key, dflt), out);
}

static int m_take(cbag__st *st, const cbag__node *at, cbag__lv *self,
                  const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"k", "npartitions", "compute", "warn",
                                        NULL};
    const cbag__lv *v[4];
    if (cbag__bind_args(st, at, "take", a, names, 1, v)) return -1;
    int64_t k, np = 1;
    if (cbag__get_int(st, at, v[0], "k", &k) ||
        (v[1] && cbag__get_int(st, at, v[1], "npartitions", &np)))
        return -1;
    if (k < 0) return cbag__err(st, at, E_VALUE, "take: k must be >= 0");
    if (np < -1 || np > INT32_MAX)
        return cbag__err(st, at, E_VALUE, "take: bad npartitions");
    st->p->last_lazy = *self;
    cbag__lv px;
    if (cbag__project(st, at, self, -1, NULL, &px)) return -1;
    st->p->last_lazy = px;
    return cbag__ret_result(st, at, cbag_take(px.b, (size_t)k, (int)np), out);
}

static int m_fold(cbag__st *st, const cbag__node *at, cbag *b,
                  const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"binop", "combine", "initial",
                                        "split_every", NULL};
    const cbag__lv *v[4];
    if (cbag__bind_args(st, at, "fold", a, names, 1, v)) return -1;
    const cbag_val *init = NULL;
    if (v[2] && cbag__need_val(st, at, v[2], &init)) return -1;
    bool comb = v[1] && !cbag__no_arg(v[1]);
    cbag__cb *k = cbag__make_cb(st, at, v[0], comb ? v[1] : NULL, NULL);
    if (!k) return -1;
    return cbag__ret_item(st, at,
                          cbag_fold_named(b, cbag__fn_name(v[0]), cbag__cb_bin0,
                                          comb ? cbag__cb_bin1 : NULL, init, k),
                          out);
}

static int m_reduction(cbag__st *st, const cbag__node *at, cbag *b,
                       const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {
        "perpartition", "aggregate", "split_every", "out_type", "name", NULL};
    const cbag__lv *v[5];
    if (cbag__bind_args(st, at, "reduction", a, names, 2, v)) return -1;
    int64_t se = 0;
    if (v[2] && !cbag__no_arg(v[2]) &&
        cbag__get_int(st, at, v[2], "split_every", &se))
        return -1;
    cbag__cb *k = cbag__make_cb(st, at, v[0], v[1], NULL);
    if (!k) return -1;
    return cbag__ret_item(st, at,
                          cbag_reduction_named(b, cbag__fn_name(v[0]),
                                               cbag__cb_map0, cbag__cb_map1,
                                               (int)se, k),
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
    if (v[5] && !cbag__no_arg(v[5]) &&
        cbag__get_int(st, at, v[5], "split_every", &se))
        return -1;
    o.split_every = (int)se;
    bool comb = v[3] && !cbag__no_arg(v[3]);
    bool keyfn = cbag__callable(v[0]);
    cbag__cb *k =
        cbag__make_cb(st, at, v[1], comb ? v[3] : NULL, keyfn ? v[0] : NULL);
    if (!k) return -1;
    if (comb) o.combine = cbag__cb_bin1;
    const cbag_val *field = NULL;
    if (!keyfn && cbag__need_val(st, at, v[0], &field)) return -1;
    return cbag__ret_bag(st, at,
                         cbag_foldby_named(b, cbag__fn_name(v[1]), field,
                                           keyfn ? cbag__cb_map2 : NULL,
                                           cbag__cb_bin0, &o, k),
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
    if (cbag__get_size(st, at, v[2], "npartitions", &np)) return -1;
    if (cbag__callable(v[0])) {
        cbag__cb *k = cbag__make_cb(st, at, v[0], NULL, NULL);
        if (!k) return -1;
        return cbag__ret_bag(st, at,
                             cbag_groupby_named(b, cbag__fn_name(v[0]), NULL,
                                                cbag__cb_map0, np, k),
                             out);
    }
    const cbag_val *field;
    if (cbag__need_val(st, at, v[0], &field)) return -1;
    return cbag__ret_bag(
        st, at, cbag_groupby_named(b, "getitem", field, NULL, np, NULL), out);
}

static int m_to_textfiles(cbag__st *st, const cbag__node *at,
                          const cbag__lv *self, const cbag__args *a,
                          cbag__lv *out) {
    static const char *const names[] = {
        "path",    "name_function",   "compression",  "encoding",
        "compute", "storage_options", "last_endline", NULL};
    const cbag__lv *v[7];
    if (cbag__bind_args(st, at, "to_textfiles", a, names, 1, v)) return -1;
    if (v[1] && !cbag__no_arg(v[1]))
        return cbag__err(st, at, E_NOTIMPL,
                         "to_textfiles: name_function is "
                         "not supported");
    cbag_textfiles_options o = {0};
    const char *path = cbag__get_str(st, at, v[0], "path");
    if (!path) return st->err ? -1 : cbag__err(st, at, E_TYPE, "path needed");
    if (v[2] && !(o.compression = cbag__get_str(st, at, v[2], "compression")) &&
        st->err)
        return -1;
    o.last_endline = v[6] && cbag__truthy(v[6]);
    if (cbag__get_storage(st, at, v[5], &o.storage)) return -1;
    cbag__lv px;
    if (cbag__project(st, at, self, -1, NULL, &px)) return -1;
    if (cbag_to_textfiles(px.b, path, &o)) return cbag__engine_err(st, at);
    *out = cbag__val(cbag_none());
    return 0;
}

static int m_visualize(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"filename", "format", NULL};
    const cbag__lv *v[2];
    if (cbag__bind_args(st, at, "visualize", a, names, 0, v)) return -1;
    const char *fn =
        v[0] ? cbag__get_str(st, at, v[0], "filename") : "mydask.dot";
    if (!fn) return st->err ? -1 : cbag__err(st, at, E_TYPE, "filename needed");
    FILE *f = fopen(fn, "w");
    if (!f) return cbag__err(st, at, E_VALUE, "cannot write %s", fn);
    int rc =
        x->k == LV_BAG ? cbag_visualize(x->b, f) : cbag_visualize_item(x->b, f);
    if (fclose(f) && rc == 0) rc = CBAG_IO;
    if (rc) return cbag__engine_err(st, at);
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
    return cbag__ret_item(st, at, it, out);
}

static int bag_method(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                      const char *name, const cbag__args *a, cbag__lv *out) {
    if (cbag__need_main(st, at, "a bag method")) return -1;
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
        return cbag__ret_bag(st, at, cbag_flatten(b), out);
    }
    if (!strcmp(name, "take")) return m_take(st, at, &self, a, out);
    if (!strcmp(name, "var") || !strcmp(name, "std")) {
        static const char *const names[] = {"ddof", NULL};
        const cbag__lv *v[1];
        int64_t ddof = 0;
        if (cbag__bind_args(st, at, name, a, names, 0, v) ||
            (v[0] && cbag__get_int(st, at, v[0], "ddof", &ddof)))
            return -1;
        return cbag__ret_item(st, at,
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
    if (!strcmp(name, "to_textfiles"))
        return m_to_textfiles(st, at, &self, a, out);
    if (!strcmp(name, "to_dataframe"))
        return cbag__to_dataframe(st, at, &self, a, out);
    int r = cbag__bag_more(st, at, b, name, a, out);
    if (r != 1) return r;
    return cbag__err(st, at, E_ATTR,
                     "'Bag' object has no attribute '%s' (cbag supports map, "
                     "filter, remove, starmap, pluck, flatten, map_partitions, "
                     "take, compute, count, sum, mean, min, max, var, std, "
                     "any, all, fold, reduction, foldby, groupby, "
                     "frequencies, distinct, topk, accumulate, random_sample, "
                     "repartition, product, join, to_textfiles, to_dataframe, "
                     "visualize)",
                     name);
}

/* Bags and items made by a method keep how (project.c). */
int cbag__bag_method(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                     const char *name, const cbag__args *a, cbag__lv *out) {
    cbag__lv self = *x;
    int rc = bag_method(st, at, &self, name, a, out);
    if (rc == 0 && (out->k == LV_BAG || out->k == LV_ITEM))
        return cbag__recipe_note(st, at, &self, name, a, out);
    return rc;
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
