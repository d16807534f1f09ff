/* parse_atom.c: atoms: literals, names, parenthesised expressions and
 * tuples, list and dict displays, and comprehensions. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* ------------------------------------------------------------------------ */
/* Atoms                                                                    */

/* Comprehension clauses after the element: for ... in ... [if ...]... */
cbag__node *cbag__p_comp(cbag__parser *P, const cbag__tok *at, int op,
                         cbag__node *elt, cbag__node *val) {
    cbag__node *n = cbag__p_node(P, N_COMP, at);
    if (!n) return NULL;
    n->op = op;
    n->a = elt;
    n->b = val;
    cbag__nvec cl = {0};
    while (is_kw(P, "for") || is_kw(P, "if")) {
        const cbag__tok *t = next(P);
        cbag__node *c;
        if (strcmp(t->s, "for") == 0) {
            c = cbag__p_node(P, N_CFOR, t);
            if (!c) break;
            /* targets: expr (',' expr)*, stopping at 'in' */
            cbag__node *tg = cbag__p_expr(P);
            if (tg && is_op(P, ',')) {
                cbag__node *tu = cbag__p_node(P, N_TUPLE, t);
                cbag__nvec tv = {0};
                cbag__p_push(P, &tv, tg);
                while (tu && accept_op(P, ',') && !is_kw(P, "in"))
                    if (!cbag__p_push(P, &tv, cbag__p_expr(P))) break;
                if (!tu || !cbag__p_finish(P, &tv, tu)) {
                    free(tv.v);
                    break;
                }
                tg = tu;
            }
            c->a = tg;
            if (!tg || !accept_kw(P, "in")) {
                cbag__p_bad(P);
                break;
            }
            c->b = cbag__p_or_test(P);
            if (!c->b) break;
        } else {
            c = cbag__p_node(P, N_CIF, t);
            if (!c || !(c->a = cbag__p_or_test(P))) break;
        }
        if (!cbag__p_push(P, &cl, c)) break;
    }
    if (P->e->msg[0] || !cbag__p_finish(P, &cl, n)) {
        free(cl.v);
        return NULL;
    }
    return n;
}

/* A display's item: an expression, or *iterable to spread. */
static cbag__node *item(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    if (!accept_op(P, '*')) return cbag__p_test(P);
    cbag__node *s = cbag__p_node(P, N_STAR, t);
    return s && (s->a = cbag__p_expr(P)) ? s : NULL;
}

/* The items after first, each after a comma, up to close, into n. */
static cbag__node *items(cbag__parser *P, cbag__node *n, cbag__node *first,
                         int close) {
    cbag__nvec v = {0};
    cbag__p_push(P, &v, first);
    while (n && accept_op(P, ',')) {
        if (is_op(P, close)) break;
        if (!cbag__p_push(P, &v, item(P))) break;
    }
    if (!n || P->e->msg[0] || !cbag__p_expect(P, close) ||
        !cbag__p_finish(P, &v, n)) {
        free(v.v);
        return NULL;
    }
    return n;
}

static cbag__node *paren(cbag__parser *P, const cbag__tok *at) {
    if (accept_op(P, ')')) return cbag__p_node(P, N_TUPLE, at);
    cbag__node *first = item(P);
    if (!first) return NULL;
    if (is_kw(P, "for") && first->kind != N_STAR) {
        cbag__node *g = cbag__p_comp(P, at, '(', first, NULL);
        return g && cbag__p_expect(P, ')') ? g : NULL;
    }
    if (first->kind != N_STAR && accept_op(P, ')')) return first; /* (x) */
    return items(P, cbag__p_node(P, N_TUPLE, at), first, ')');
}

static cbag__node *list(cbag__parser *P, const cbag__tok *at) {
    cbag__node *n = cbag__p_node(P, N_LIST, at);
    if (!n || accept_op(P, ']')) return n;
    cbag__node *first = item(P);
    if (!first) return NULL;
    if (is_kw(P, "for") && first->kind != N_STAR) {
        cbag__node *g = cbag__p_comp(P, at, '[', first, NULL);
        return g && cbag__p_expect(P, ']') ? g : NULL;
    }
    return items(P, n, first, ']');
}

/* A dict's entry after the first: key: value, or **mapping (pushed as
 * an N_STAR twice, in the key's and the value's places). */
static bool entry(cbag__parser *P, cbag__nvec *v) {
    const cbag__tok *t = peek(P);
    if (accept_op(P, OP_POW)) {
        cbag__node *s = cbag__p_node(P, N_STAR, t);
        if (!s || !(s->a = cbag__p_expr(P))) return false;
        s->op = OP_POW;
        return cbag__p_push(P, v, s) && cbag__p_push(P, v, s);
    }
    return cbag__p_push(P, v, cbag__p_test(P)) && cbag__p_expect(P, ':') &&
           cbag__p_push(P, v, cbag__p_test(P));
}

static cbag__node *dict(cbag__parser *P, const cbag__tok *at) {
    cbag__node *n = cbag__p_node(P, N_DICT, at);
    if (!n || accept_op(P, '}')) return n;
    cbag__nvec v = {0};
    if (is_op(P, OP_POW)) { /* {**a, ...} */
        if (!entry(P, &v)) {
            free(v.v);
            return NULL;
        }
    } else {
        cbag__node *k = item(P);
        if (!k) return NULL;
        if (!is_op(P, ':')) { /* a set: {a, b} or {x for ...} */
            if (is_kw(P, "for") && k->kind != N_STAR) {
                cbag__node *g = cbag__p_comp(P, at, 's', k, NULL);
                return g && cbag__p_expect(P, '}') ? g : NULL;
            }
            n->kind = N_SET;
            return items(P, n, k, '}');
        }
        if (k->kind == N_STAR) return cbag__p_bad(P);
        next(P);
        cbag__node *v0 = cbag__p_test(P);
        if (!v0) return NULL;
        if (is_kw(P, "for")) {
            cbag__node *g = cbag__p_comp(P, at, '{', k, v0);
            return g && cbag__p_expect(P, '}') ? g : NULL;
        }
        cbag__p_push(P, &v, k);
        cbag__p_push(P, &v, v0);
    }
    while (accept_op(P, ',')) {
        if (is_op(P, '}')) break;
        if (!entry(P, &v)) break;
    }
    if (P->e->msg[0] || !cbag__p_expect(P, '}') || !cbag__p_finish(P, &v, n)) {
        free(v.v);
        return NULL;
    }
    return n;
}

cbag__node *cbag__p_atom(cbag__parser *P) {
    const cbag__tok *t = next(P);
    switch (t->t) {
    case T_INT: return cbag__p_konst(P, t, cbag_new_int(P->c, t->i));
    case T_FLOAT: return cbag__p_konst(P, t, cbag_new_float(P->c, t->f));
    case T_STR:
    case T_FSTART: return cbag__p_strings(P, t);
    case T_NAME:
        if (strcmp(t->s, "None") == 0) return cbag__p_konst(P, t, cbag_none());
        if (strcmp(t->s, "True") == 0)
            return cbag__p_konst(P, t, cbag_bool(true));
        if (strcmp(t->s, "False") == 0)
            return cbag__p_konst(P, t, cbag_bool(false));
        if (cbag__p_keyword(t->s)) {
            P->i--;
            return cbag__p_bad(P);
        }
        {
            cbag__node *n = cbag__p_node(P, N_NAME, t);
            if (n) n->s = t->s;
            return n;
        }
    case T_OP:
        if (t->op == '(') return paren(P, t);
        if (t->op == '[') return list(P, t);
        if (t->op == '{') return dict(P, t);
        break;
    default: break;
    }
    P->i--;
    return cbag__p_bad(P);
}
