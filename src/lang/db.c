/* db.c: the db module (dask.bag): read_text, from_sequence, range,
 * concat, zip. */
#include <stdlib.h>
#include <string.h>

#include "bagops.h"

int cbag__parse_size(const char *s, uint64_t *out);

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
    if (cbag__need_main(st, NULL, "db.read_text") ||
        cbag__bind_args(st, NULL, "read_text", a, names, 1, v))
        return -1;
    cbag_text_options o = {0};
    if (!cbag__no_arg(v[1])) {
        if (v[1]->k == LV_VAL && cbag_typeof(LVV(*v[1])) == CBAG_STR) {
            const char *s = cbag__get_str(st, NULL, v[1], "blocksize");
            if (!s) return -1;
            if (cbag__parse_size(s, &o.blocksize))
                return cbag__err(st, NULL, E_VALUE, "invalid blocksize '%s'",
                                 s);
        } else {
            int64_t bs;
            if (cbag__get_int(st, NULL, v[1], "blocksize", &bs)) return -1;
            o.blocksize = bs > 0 ? (uint64_t)bs : 0;
        }
    }
    if (v[2] &&
        !(o.compression = cbag__get_str(st, NULL, v[2], "compression")) &&
        st->err)
        return -1;
    if (v[3] && !cbag__no_arg(v[3])) {
        const char *enc = cbag__get_str(st, NULL, v[3], "encoding");
        if (!enc) return -1;
        if (strcmp(enc, "utf-8") && strcmp(enc, "utf8") && strcmp(enc, "UTF-8"))
            return cbag__err(st, NULL, E_VALUE,
                             "encoding '%s': cbag reads UTF-8 only", enc);
    }
    if (v[4] && !(o.errors = cbag__get_str(st, NULL, v[4], "errors")) &&
        st->err)
        return -1;
    if (v[5] &&
        !(o.linedelimiter = cbag__get_str(st, NULL, v[5], "linedelimiter")) &&
        st->err)
        return -1;
    if (v[8] && cbag__get_size(st, NULL, v[8], "files_per_partition",
                               &o.files_per_partition))
        return -1;
    o.include_path = v[9] && cbag__truthy(v[9]);
    if (cbag__get_storage(st, NULL, v[7], &o.storage)) return -1;
    const cbag__lv *p = v[0];
    cbag_ctx *cx = st->p->cx;
    if (p->k == LV_VAL && cbag_typeof(LVV(*p)) == CBAG_STR) {
        const char *path = cbag__get_str(st, NULL, p, "urlpath");
        if (!path) return -1;
        return cbag__ret_bag(st, NULL, cbag_read_text(cx, path, &o), out);
    }
    if (p->k == LV_VAL && (cbag_typeof(LVV(*p)) == CBAG_LIST ||
                           cbag_typeof(LVV(*p)) == CBAG_TUPLE)) {
        size_t n = cbag_len(LVV(*p));
        const char **paths =
            cbag__palloc(&st->p->mem, (n ? n : 1) * sizeof *paths);
        if (!paths) return cbag__oom(st, NULL);
        for (size_t i = 0; i < n; i++) {
            cbag__lv e = cbag__val(cbag_at(LVV(*p), (int64_t)i));
            if (!(paths[i] = cbag__get_str(st, NULL, &e, "urlpath"))) return -1;
        }
        return cbag__ret_bag(st, NULL, cbag_read_textv(cx, n, paths, &o), out);
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
    if (cbag__need_main(st, NULL, "db.from_sequence") ||
        cbag__bind_args(st, NULL, "from_sequence", a, names, 1, v))
        return -1;
    size_t ps, np;
    if (cbag__get_size(st, NULL, v[1], "partition_size", &ps) ||
        cbag__get_size(st, NULL, v[2], "npartitions", &np))
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
    return cbag__ret_bag(st, NULL, cbag_from_sequence(st->p->cx, seq, np, ps),
                         out);
}

static int db_range(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    static const char *const names[] = {"n", "npartitions", NULL};
    const cbag__lv *v[2];
    if (cbag__need_main(st, NULL, "db.range") ||
        cbag__bind_args(st, NULL, "range", a, names, 2, v))
        return -1;
    int64_t n;
    size_t np;
    if (cbag__get_int(st, NULL, v[0], "n", &n) ||
        cbag__get_size(st, NULL, v[1], "npartitions", &np))
        return -1;
    return cbag__ret_bag(st, NULL, cbag_range(st->p->cx, n, np), out);
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
    if (cbag__need_main(st, NULL, "db.concat") ||
        cbag__argn(st, "concat", a, 1, 1))
        return -1;
    if (a->v[0].k != LV_SEQ)
        return cbag__err(st, NULL, E_TYPE, "concat() needs a list of bags");
    const cbag__lseq *s = a->v[0].a;
    cbag **bags;
    if (bags_of(st, s->items, s->n, &bags)) return -1;
    return cbag__ret_bag(st, NULL, cbag_concat(st->p->cx, s->n, bags), out);
}

static int db_zip(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    if (cbag__need_main(st, NULL, "db.zip")) return -1;
    cbag **bags;
    if (bags_of(st, a->v, a->n, &bags)) return -1;
    return cbag__ret_bag(st, NULL, cbag_zip(st->p->cx, a->n, bags), out);
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
