/* parse_str.c: string literals: adjacent ones concatenate; with an
 * f-string among them they make an N_FSTR whose kids are the literal
 * pieces (N_CONST) and the replacement fields (N_FFIELD: a the expression,
 * op the conversion 'r', 's', 'a' or 0, b the format spec as an N_FSTR or
 * NULL), evaluated in order (eval_str.c). */
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static cbag__node *str_piece(cbag__parser *P, const cbag__tok *t) {
    return cbag__p_konst(P, t, cbag_new_str(P->c, t->s, t->len));
}

static cbag__node *fparts(cbag__parser *P, const cbag__tok *at, int end,
                          cbag__nvec *v);

/* A field after its T_FFIELD. */
static cbag__node *ffield(cbag__parser *P, const cbag__tok *at, cbag__nvec *v) {
    cbag__node *f = cbag__p_node(P, N_FFIELD, at);
    if (!f || !(f->a = cbag__p_testlist(P, false))) return NULL;
    bool debug = false;
    if (peek(P)->t == T_FDEBUG) { /* f"{x=}": "x=" then repr(x) */
        if (!cbag__p_push(P, v, str_piece(P, next(P)))) return NULL;
        debug = true;
    }
    if (peek(P)->t == T_FCONV) f->op = next(P)->op;
    if (peek(P)->t == T_FSPEC) {
        const cbag__tok *s = next(P);
        cbag__nvec sv = {0};
        if (!(f->b = fparts(P, s, T_FFIELDEND, &sv))) return NULL;
    } else if (debug && !f->op) {
        f->op = 'r';
    }
    if (peek(P)->t != T_FFIELDEND) return cbag__p_bad(P);
    next(P);
    return f;
}

/* Pieces and fields up to a token of kind end (not consumed) into an
 * N_FSTR. */
static cbag__node *fparts(cbag__parser *P, const cbag__tok *at, int end,
                          cbag__nvec *v) {
    cbag__node *n = cbag__p_node(P, N_FSTR, at);
    while (n && peek(P)->t != end) {
        const cbag__tok *t = next(P);
        cbag__node *k = t->t == T_STR      ? str_piece(P, t)
                        : t->t == T_FFIELD ? ffield(P, t, v)
                                           : (P->i--, cbag__p_bad(P));
        if (!cbag__p_push(P, v, k)) break;
    }
    if (!n || P->e->msg[0] || !cbag__p_finish(P, v, n)) {
        free(v->v);
        return NULL;
    }
    return n;
}

/* Adjacent string literals from the first one (t, consumed). */
cbag__node *cbag__p_strings(cbag__parser *P, const cbag__tok *t) {
    bool f = t->t == T_FSTART;
    size_t j = P->i;
    while (P->t[j].t == T_STR || P->t[j].t == T_FSTART) {
        if (P->t[j].t == T_FSTART) {
            f = true;
            while (P->t[j].t != T_FEND && P->t[j].t != T_EOF)
                j++;
        }
        j++;
    }
    if (!f) { /* plain literals: one constant */
        size_t total = t->len;
        for (size_t k = P->i; k < j; k++)
            total += P->t[k].len;
        char *buf = malloc(total ? total : 1);
        if (!buf) return cbag__p_fail(P, t, "out of memory");
        memcpy(buf, t->s, t->len);
        size_t at = t->len;
        while (peek(P)->t == T_STR) {
            const cbag__tok *u = next(P);
            memcpy(buf + at, u->s, u->len);
            at += u->len;
        }
        cbag__node *n = cbag__p_konst(P, t, cbag_new_str(P->c, buf, total));
        free(buf);
        return n;
    }
    cbag__nvec v = {0};
    cbag__node *n = cbag__p_node(P, N_FSTR, t);
    for (const cbag__tok *k = t; n;) {
        if (k->t == T_STR) {
            if (!cbag__p_push(P, &v, str_piece(P, k))) break;
        } else {
            cbag__nvec pv = {0};
            cbag__node *one = fparts(P, k, T_FEND, &pv);
            if (!one) break;
            next(P); /* T_FEND */
            for (size_t i = 0; i < one->n; i++)
                if (!cbag__p_push(P, &v, one->kids[i])) break;
        }
        if (P->e->msg[0] || (peek(P)->t != T_STR && peek(P)->t != T_FSTART))
            break;
        k = next(P);
    }
    if (!n || P->e->msg[0] || !cbag__p_finish(P, &v, n)) {
        free(v.v);
        return NULL;
    }
    return n;
}
