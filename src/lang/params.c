/* params.c: binding a call's arguments to a function's parameters as
 * Python does: positional ones, *args (a tuple of the rest), keyword
 * arguments by name, keyword-only parameters (after * or *args), **kwargs
 * (a dict of the other keywords), then defaults, evaluated in the scope
 * the function was defined in. */
#include <stdio.h>
#include <string.h>

#include "lang.h"

/* "'a' and 'b'", "'a', 'b' and 'c'" */
static void names_list(char *buf, size_t cap, const char *const *n, size_t k) {
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s'%s'",
                              i == 0       ? ""
                              : i == k - 1 ? (k > 2 ? ", and " : " and ")
                                           : ", ",
                              n[i]);
}

static int missing(cbag__st *st, const cbag__node *f, const char *const *n,
                   size_t k, bool kwonly) {
    char list[256];
    names_list(list, sizeof list, n, k);
    return cbag__err(
        st, NULL, E_TYPE, "%s() missing %zu required %s argument%s: %s", f->s,
        k, kwonly ? "keyword-only" : "positional", k == 1 ? "" : "s", list);
}

int cbag__bind_params(cbag__st *st, const cbag__node *f, cbag__frame *env,
                      const cbag__args *a, cbag__lv *slots) {
    int np = f->nparams, npos = f->slot;
    bool va = f->op & FN_VARARGS, kwa = f->op & FN_KWARGS;
    if (a->n > (size_t)npos && !va) {
        int ndef = 0;
        for (int i = 0; i < npos && f->n; i++)
            ndef += f->kids[i] != NULL;
        if (ndef)
            return cbag__err(st, NULL, E_TYPE,
                             "%s() takes from %d to %d positional arguments "
                             "but %zu were given",
                             f->s, npos - ndef, npos, a->n);
        return cbag__err(st, NULL, E_TYPE,
                         "%s() takes %d positional argument%s but %zu %s "
                         "given",
                         f->s, npos, npos == 1 ? "" : "s", a->n,
                         a->n == 1 ? "was" : "were");
    }
    size_t take = a->n < (size_t)npos ? a->n : (size_t)npos;
    for (size_t i = 0; i < take; i++)
        slots[i] = a->v[i];
    if (va &&
        cbag__seq_of(st, NULL, a->v + take, a->n - take, true, &slots[np]))
        return -1;
    cbag_val *kd = NULL;
    if (kwa) {
        if (!(kd = cbag_new_dict(st->c, a->nkw)) || cbag__own(st, kd))
            return st->err ? -1 : cbag__oom(st, NULL);
        slots[np + va] = cbag__val(kd);
    }
    for (size_t k = 0; k < a->nkw; k++) {
        int i = 0;
        while (i < np && strcmp(f->pname[i], a->kw[k].name) != 0)
            i++;
        if (i == np) {
            const cbag_val *v;
            if (!kd)
                return cbag__err(st, NULL, E_TYPE,
                                 "%s() got an unexpected keyword argument "
                                 "'%s'",
                                 f->s, a->kw[k].name);
            if (cbag__need_val(st, NULL, &a->kw[k].v, &v)) return -1;
            if (cbag_set(st->c, kd, a->kw[k].name, v))
                return cbag__oom(st, NULL);
            continue;
        }
        if (slots[i].k != LV_UNSET)
            return cbag__err(st, NULL, E_TYPE,
                             "%s() got multiple values for argument '%s'", f->s,
                             a->kw[k].name);
        slots[i] = a->kw[k].v;
    }
    /* defaults, and what is missing */
    const char *miss[64];
    size_t nmiss = 0;
    cbag__frame *saved = st->fr;
    for (int i = 0; i < np; i++) {
        if (slots[i].k != LV_UNSET) continue;
        const cbag__node *d = f->n ? f->kids[i] : NULL;
        if (!d) {
            if (i >= npos && nmiss == 0) /* keyword-only, none positional */
                return missing(st, f, (const char *const *)&f->pname[i], 1,
                               true);
            if (i < npos) miss[nmiss++] = f->pname[i];
            continue;
        }
        st->fr = env; /* defaults see the defining scope */
        int rc = d->ev(d, st, &slots[i]);
        st->fr = saved;
        if (rc) return -1;
    }
    return nmiss ? missing(st, f, miss, nmiss, false) : 0;
}
