/* bagmore.c: more bag methods, each one call of the cbag API: frequencies,
 * distinct, topk, accumulate, random_sample, repartition, product, join.
 * Keys are a function or, as the C API allows, a field (a dict key or an
 * index). */
#include <string.h>

#include "bagops.h"

/* A key argument: a function (*fn = the callback data) or a field. */
static int key_arg(cbag__st *st, const cbag__node *at, const cbag__lv *k,
                   cbag__cb **fn, const cbag_val **field) {
    *fn = NULL;
    *field = NULL;
    if (cbag__no_arg(k)) return 0;
    if (cbag__callable(k)) {
        *fn = cbag__make_cb(st, at, k, NULL, NULL);
        return *fn ? 0 : -1;
    }
    return cbag__need_val(st, at, k, field);
}

static int m_frequencies(cbag__st *st, const cbag__node *at, cbag *b,
                         const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"split_every", "sort", NULL};
    const cbag__lv *v[2];
    if (cbag__bind_args(st, at, "frequencies", a, names, 0, v)) return -1;
    bool sort = v[1] && cbag__truthy(v[1]);
    return cbag__ret_bag(st, at, cbag_frequencies(b, sort), out);
}

static int m_distinct(cbag__st *st, const cbag__node *at, cbag *b,
                      const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"key", NULL};
    const cbag__lv *v[1];
    cbag__cb *fn;
    const cbag_val *field;
    if (cbag__bind_args(st, at, "distinct", a, names, 0, v) ||
        key_arg(st, at, v[0], &fn, &field))
        return -1;
    return cbag__ret_bag(st, at,
                         cbag_distinct_named(b, fn ? cbag__fn_name(v[0]) : NULL,
                                             field, fn ? cbag__cb_map0 : NULL,
                                             fn),
                         out);
}

static int m_topk(cbag__st *st, const cbag__node *at, cbag *b,
                  const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"k", "key", "split_every", NULL};
    const cbag__lv *v[3];
    int64_t k;
    cbag__cb *fn;
    const cbag_val *field;
    if (cbag__bind_args(st, at, "topk", a, names, 1, v) ||
        cbag__get_int(st, at, v[0], "k", &k) ||
        key_arg(st, at, v[1], &fn, &field))
        return -1;
    if (k < 0) k = 0;
    return cbag__ret_bag(st, at,
                         cbag_topk_named(b, fn ? cbag__fn_name(v[1]) : NULL,
                                         (size_t)k, field,
                                         fn ? cbag__cb_map0 : NULL, fn),
                         out);
}

static int m_accumulate(cbag__st *st, const cbag__node *at, cbag *b,
                        const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"binop", "initial", NULL};
    const cbag__lv *v[2];
    const cbag_val *init = NULL;
    if (cbag__bind_args(st, at, "accumulate", a, names, 1, v) ||
        (v[1] && cbag__need_val(st, at, v[1], &init)))
        return -1;
    cbag__cb *fn = cbag__make_cb(st, at, v[0], NULL, NULL);
    if (!fn) return -1;
    return cbag__ret_bag(
        st, at,
        cbag_accumulate_named(b, cbag__fn_name(v[0]), cbag__cb_bin0, init, fn),
        out);
}

static int m_random_sample(cbag__st *st, const cbag__node *at, cbag *b,
                           const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"prob", "random_state", NULL};
    const cbag__lv *v[2];
    double prob;
    int64_t seed = 0;
    if (cbag__bind_args(st, at, "random_sample", a, names, 1, v)) return -1;
    if (v[0]->k != LV_VAL || !cbag_number(LVV(*v[0]), &prob))
        return cbag__err(st, at, E_TYPE, "prob must be a number, not %s",
                         cbag__lv_type(v[0]));
    if (prob < 0 || prob > 1)
        return cbag__err(st, at, E_VALUE, "prob must be a number in [0, 1]");
    if (!cbag__no_arg(v[1]) &&
        cbag__get_int(st, at, v[1], "random_state", &seed))
        return -1;
    return cbag__ret_bag(st, at, cbag_random_sample(b, prob, (uint64_t)seed),
                         out);
}

static int m_repartition(cbag__st *st, const cbag__node *at, cbag *b,
                         const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"npartitions", "partition_size", NULL};
    const cbag__lv *v[2];
    size_t np;
    if (cbag__bind_args(st, at, "repartition", a, names, 0, v) ||
        cbag__get_size(st, at, v[0], "npartitions", &np))
        return -1;
    if (!cbag__no_arg(v[1]) || np == 0)
        return cbag__err(st, at, E_NOTIMPL,
                         "repartition: give npartitions (partition_size is "
                         "not supported)");
    return cbag__ret_bag(st, at, cbag_repartition(b, np), out);
}

static int m_product(cbag__st *st, const cbag__node *at, cbag *b,
                     const cbag__args *a, cbag__lv *out) {
    if (cbag__argn(st, "product", a, 1, 1)) return -1;
    if (a->v[0].k != LV_BAG)
        return cbag__err(st, at, E_TYPE, "product() needs a bag, not %s",
                         cbag__lv_type(&a->v[0]));
    return cbag__ret_bag(st, at, cbag_product(b, a->v[0].b), out);
}

static int m_join(cbag__st *st, const cbag__node *at, cbag *b,
                  const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"other", "on_self", "on_other", NULL};
    const cbag__lv *v[3];
    if (cbag__bind_args(st, at, "join", a, names, 2, v)) return -1;
    /* on_self and on_other share one callback data (f[0], f[1]) */
    bool fs = cbag__callable(v[1]), fo = v[2] && cbag__callable(v[2]);
    cbag__cb *fn = NULL;
    if ((fs || fo) &&
        !(fn = cbag__make_cb(st, at, fs ? v[1] : NULL, fo ? v[2] : NULL, NULL)))
        return -1;
    const cbag_val *on_self = NULL, *on_other = NULL, *other = NULL;
    if (!fs && cbag__need_val(st, at, v[1], &on_self)) return -1;
    if (v[2] && !fo && !cbag__no_arg(v[2]) &&
        cbag__need_val(st, at, v[2], &on_other))
        return -1;
    cbag *other_bag = NULL;
    if (v[0]->k == LV_BAG) {
        other_bag = v[0]->b;
    } else {
        cbag_val *l;
        if (cbag__to_list(st, at, v[0], &l)) return -1;
        other = l;
    }
    /* a missing on_other is on_self, function or field */
    if (!v[2] || cbag__no_arg(v[2])) {
        fo = fs;
        on_other = on_self;
        if (fs) fn->f[1] = fn->f[0];
    }
    return cbag__ret_bag(st, at,
                         cbag_join_named(b, fs ? cbag__fn_name(v[1]) : NULL,
                                         other, other_bag, on_self,
                                         fs ? cbag__cb_map0 : NULL, on_other,
                                         fo ? cbag__cb_map1 : NULL, fn),
                         out);
}

int cbag__bag_more(cbag__st *st, const cbag__node *at, cbag *b,
                   const char *name, const cbag__args *a, cbag__lv *out) {
    static const struct {
        const char *name;
        int (*fn)(cbag__st *, const cbag__node *, cbag *, const cbag__args *,
                  cbag__lv *);
    } methods[] = {
        {"frequencies", m_frequencies},
        {"distinct", m_distinct},
        {"topk", m_topk},
        {"accumulate", m_accumulate},
        {"random_sample", m_random_sample},
        {"repartition", m_repartition},
        {"product", m_product},
        {"join", m_join},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(name, methods[i].name))
            return methods[i].fn(st, at, b, a, out);
    return 1;
}
