/* eval_str.c: f-strings: the pieces in order, each field's value
 * converted (!r, !s, !a) and formatted with its spec (an f-string itself)
 * as format(value, spec) does. */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

static int field(const cbag__node *f, cbag__st *st, cbag__lv *out) {
    cbag__lv x;
    if (f->a->ev(f->a, st, &x)) return -1;
    if (f->op && cbag__str(st, f, &x, f->op != 's', &x)) return -1;
    if (!f->b && x.k != LV_VAL) return cbag__str(st, f, &x, false, out);
    cbag__lv spec = cbag__val(NULL);
    size_t n = 0;
    const char *s = "";
    if (f->b) {
        if (cbag__ev_fstr(f->b, st, &spec)) return -1;
        s = cbag_str(LVV(spec), &n);
    }
    return cbag__format_value(st, f, &x, s, n, out);
}

int cbag__ev_fstr(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    size_t cap = 64, len = 0;
    char *buf = malloc(cap);
    if (!buf) return cbag__oom(st, n);
    for (size_t i = 0; i < n->n; i++) {
        const cbag__node *k = n->kids[i];
        cbag__lv v = {0};
        if (k->kind == N_CONST)
            v = cbag__val(k->k);
        else if (field(k, st, &v)) {
            free(buf);
            return -1;
        }
        size_t l;
        const char *s = cbag_str(LVV(v), &l);
        if (len + l + 1 > cap) {
            while (len + l + 1 > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return cbag__oom(st, n);
            }
            buf = nb;
        }
        memcpy(buf + len, s, l);
        len += l;
    }
    const cbag_val *r = cbag_new_str(st->c, buf, len);
    free(buf);
    if (!r) return cbag__oom(st, n);
    *out = cbag__val(r);
    return 0;
}
