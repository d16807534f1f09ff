/* parse_expr.c: expressions above atoms: trailers (calls, subscripts,
 * attributes), operators by precedence, lambda, conditional expressions
 * and expression lists. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* ------------------------------------------------------------------------ */
/* Trailers: calls, subscripts, attributes                                  */

static cbag__node *call(cbag__parser *P, cbag__node *fn, const cbag__tok *at) {
    cbag__node *n;
    if (fn->kind == N_ATTR) { /* a.name(...) */
        n = fn;
        n->kind = N_METHOD;
    } else {
        n = cbag__p_node(P, N_CALL, at);
        if (!n) return NULL;
        n->a = fn;
    }
    cbag__nvec pos = {0}, kw = {0};
    const char *names[256];
    size_t nk = 0;
    while (!is_op(P, ')')) {
        const cbag__tok *t = peek(P);
        if (accept_op(P, '*')) {
            cbag__node *s = cbag__p_node(P, N_STAR, t);
            if (!s || !(s->a = cbag__p_test(P))) break;
            if (kw.n) {
                cbag__p_fail(P, t,
                             "positional argument follows keyword argument");
                break;
            }
            if (!cbag__p_push(P, &pos, s)) break;
        } else if (accept_op(P, OP_POW)) { /* **mapping: its items */
            cbag__node *s = cbag__p_node(P, N_STAR, t);
            if (!s || !(s->a = cbag__p_test(P))) break;
            s->op = OP_POW;
            if (nk == sizeof names / sizeof names[0]) {
                cbag__p_fail(P, t, "too many keyword arguments");
                break;
            }
            names[nk++] = NULL;
            if (!cbag__p_push(P, &kw, s)) break;
        } else if (t->t == T_NAME && P->t[P->i + 1].t == T_OP &&
                   P->t[P->i + 1].op == '=') {
            next(P);
            next(P);
            if (nk == sizeof names / sizeof names[0]) {
                cbag__p_fail(P, t, "too many keyword arguments");
                break;
            }
            for (size_t j = 0; j < nk; j++)
                if (names[j] && strcmp(names[j], t->s) == 0) {
                    cbag__p_fail(P, t, "keyword argument repeated: %s", t->s);
                    break;
                }
            names[nk++] = t->s;
            if (!cbag__p_push(P, &kw, cbag__p_test(P))) break;
        } else {
            cbag__node *x = cbag__p_test(P);
            if (!x) break;
            if (is_kw(P, "for")) x = cbag__p_comp(P, t, '(', x, NULL);
            if (kw.n) {
                cbag__p_fail(P, t,
                             "positional argument follows keyword argument");
                break;
            }
            if (!cbag__p_push(P, &pos, x)) break;
        }
        if (!accept_op(P, ',')) break;
    }
    if (P->e->msg[0] || !cbag__p_expect(P, ')')) {
        free(pos.v);
        free(kw.v);
        return NULL;
    }
    for (size_t j = 0; j < kw.n; j++)
        if (!cbag__p_push(P, &pos, kw.v[j])) break;
    free(kw.v);
    n->nkw = nk;
    if (nk) {
        n->kwn = cbag__palloc(P->pool, nk * sizeof *n->kwn);
        if (!n->kwn) {
            free(pos.v);
            return cbag__p_fail(P, at, "out of memory");
        }
        memcpy(n->kwn, names, nk * sizeof *names);
    }
    if (P->e->msg[0] || !cbag__p_finish(P, &pos, n)) {
        free(pos.v);
        return NULL;
    }
    return n;
}

static cbag__node *subscript(cbag__parser *P, cbag__node *x,
                             const cbag__tok *at) {
    cbag__node *part[3] = {NULL, NULL, NULL};
    bool is_slice = false;
    if (!is_op(P, ':')) {
        part[0] = cbag__p_test(P);
        if (!part[0]) return NULL;
        if (is_op(P, ',')) { /* d[a, b]: a tuple key */
            cbag__node *tu = cbag__p_node(P, N_TUPLE, at);
            cbag__nvec v = {0};
            cbag__p_push(P, &v, part[0]);
            while (tu && accept_op(P, ',') && !is_op(P, ']'))
                if (!cbag__p_push(P, &v, cbag__p_test(P))) break;
            if (!tu || P->e->msg[0] || !cbag__p_finish(P, &v, tu)) {
                free(v.v);
                return NULL;
            }
            part[0] = tu;
        }
    }
    for (int k = 1; k < 3 && accept_op(P, ':'); k++) {
        is_slice = true;
        if (!is_op(P, ':') && !is_op(P, ']'))
            if (!(part[k] = cbag__p_test(P))) return NULL;
    }
    if (!cbag__p_expect(P, ']')) return NULL;
    cbag__node *n = cbag__p_node(P, is_slice ? N_SLICE : N_SUBSCR, at);
    if (!n) return NULL;
    n->a = x;
    if (!is_slice) {
        n->b = part[0];
        return n;
    }
    n->kids = cbag__palloc(P->pool, 3 * sizeof *n->kids);
    if (!n->kids) return cbag__p_fail(P, at, "out of memory");
    n->n = 3;
    for (int k = 0; k < 3; k++)
        n->kids[k] = part[k];
    return n;
}

static cbag__node *primary(cbag__parser *P) {
    cbag__node *x = cbag__p_atom(P);
    while (x) {
        const cbag__tok *t = peek(P);
        if (accept_op(P, '(')) {
            x = call(P, x, t);
        } else if (accept_op(P, '[')) {
            x = subscript(P, x, t);
        } else if (accept_op(P, '.')) {
            const cbag__tok *name = next(P);
            if (name->t != T_NAME) {
                P->i--;
                return cbag__p_bad(P);
            }
            cbag__node *n = cbag__p_node(P, N_ATTR, name);
            if (!n) return NULL;
            n->a = x;
            n->s = name->s;
            n->op = cbag__method_id(name->s);
            x = n;
        } else {
            break;
        }
    }
    return x;
}

/* ------------------------------------------------------------------------ */
/* Operators by precedence                                                  */

static cbag__node *binop(cbag__parser *P, const cbag__tok *t, int op,
                         cbag__node *a, cbag__node *b) {
    if (!a || !b) return NULL;
    cbag__node *n = cbag__p_node(P, N_BINOP, t);
    if (!n) return NULL;
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static cbag__node *factor(cbag__parser *P);

static cbag__node *power(cbag__parser *P) {
    cbag__node *x = primary(P);
    const cbag__tok *t = peek(P);
    if (x && accept_op(P, OP_POW)) return binop(P, t, OP_POW, x, factor(P));
    return x;
}

static cbag__node *factor(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    if (is_op(P, '-') || is_op(P, '+') || is_op(P, '~')) {
        next(P);
        cbag__node *a = factor(P);
        if (!a) return NULL;
        /* fold -literal so that -9223372036854775808 is not needed */
        if (t->op == '-' && a->kind == N_CONST &&
            (cbag_typeof(a->k) == CBAG_FLOAT ||
             (cbag_typeof(a->k) == CBAG_INT))) {
            const cbag_val *v =
                cbag_typeof(a->k) == CBAG_FLOAT
                    ? cbag_new_float(P->c, -cbag_float_value(a->k))
                    : cbag_new_int(P->c, -cbag_int_value(a->k));
            return cbag__p_konst(P, t, v);
        }
        cbag__node *n = cbag__p_node(P, N_UNARY, t);
        if (!n) return NULL;
        n->op = t->op;
        n->a = a;
        return n;
    }
    return power(P);
}

static cbag__node *term(cbag__parser *P) {
    cbag__node *x = factor(P);
    while (x) {
        const cbag__tok *t = peek(P);
        if (t->t != T_OP || !(t->op == '*' || t->op == '/' || t->op == '%' ||
                              t->op == OP_FDIV || t->op == '@'))
            break;
        next(P);
        x = binop(P, t, t->op, x, factor(P));
    }
    return x;
}

static cbag__node *arith(cbag__parser *P) {
    cbag__node *x = term(P);
    while (x) {
        const cbag__tok *t = peek(P);
        if (t->t != T_OP || !(t->op == '+' || t->op == '-')) break;
        next(P);
        x = binop(P, t, t->op, x, term(P));
    }
    return x;
}

static cbag__node *shift(cbag__parser *P) {
    cbag__node *x = arith(P);
    while (x) {
        const cbag__tok *t = peek(P);
        if (t->t != T_OP || !(t->op == OP_LSHIFT || t->op == OP_RSHIFT)) break;
        next(P);
        x = binop(P, t, t->op, x, arith(P));
    }
    return x;
}

static cbag__node *bitand_(cbag__parser *P) {
    cbag__node *x = shift(P);
    while (x && is_op(P, '&')) {
        const cbag__tok *t = next(P);
        x = binop(P, t, '&', x, shift(P));
    }
    return x;
}

static cbag__node *bitxor(cbag__parser *P) {
    cbag__node *x = bitand_(P);
    while (x && is_op(P, '^')) {
        const cbag__tok *t = next(P);
        x = binop(P, t, '^', x, bitand_(P));
    }
    return x;
}

cbag__node *cbag__p_expr(cbag__parser *P) {
    cbag__node *x = bitxor(P);
    while (x && is_op(P, '|')) {
        const cbag__tok *t = next(P);
        x = binop(P, t, '|', x, bitxor(P));
    }
    return x;
}

/* A comparison operator at the cursor (consumed), or 0. */
static int cmp_op(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    if (t->t == T_OP) {
        int op = t->op;
        if (op == '<' || op == '>' || op == OP_EQ || op == OP_NE ||
            op == OP_LE || op == OP_GE) {
            next(P);
            return op;
        }
        return 0;
    }
    if (accept_kw(P, "in")) return OP_IN;
    if (is_kw(P, "not") && P->t[P->i + 1].t == T_NAME &&
        strcmp(P->t[P->i + 1].s, "in") == 0) {
        next(P);
        next(P);
        return OP_NOTIN;
    }
    if (accept_kw(P, "is")) return accept_kw(P, "not") ? OP_ISNOT : OP_IS;
    return 0;
}

static cbag__node *comparison(cbag__parser *P) {
    cbag__node *x = cbag__p_expr(P);
    if (!x) return NULL;
    const cbag__tok *t = peek(P);
    int op = cmp_op(P);
    if (!op) return x;
    cbag__nvec v = {0};
    int ops[64];
    size_t nops = 0;
    cbag__p_push(P, &v, x);
    while (op) {
        if (nops == 64) {
            cbag__p_fail(P, t, "comparison chain too long");
            break;
        }
        ops[nops++] = op;
        if (!cbag__p_push(P, &v, cbag__p_expr(P))) break;
        op = cmp_op(P);
    }
    cbag__node *n = cbag__p_node(P, N_CMP, t);
    if (!n || P->e->msg[0] || !cbag__p_finish(P, &v, n)) {
        free(v.v);
        return NULL;
    }
    n->ops = cbag__palloc(P->pool, nops * sizeof *n->ops);
    if (!n->ops) return cbag__p_fail(P, t, "out of memory");
    memcpy(n->ops, ops, nops * sizeof *ops);
    return n;
}

static cbag__node *not_test(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    if (accept_kw(P, "not")) {
        cbag__node *n = cbag__p_node(P, N_NOT, t);
        if (n && !(n->a = not_test(P))) return NULL;
        return n;
    }
    return comparison(P);
}

static cbag__node *and_test(cbag__parser *P) {
    cbag__node *x = not_test(P);
    while (x && is_kw(P, "and")) {
        const cbag__tok *t = next(P);
        cbag__node *n = cbag__p_node(P, N_AND, t);
        if (!n) return NULL;
        n->a = x;
        if (!(n->b = not_test(P))) return NULL;
        x = n;
    }
    return x;
}

cbag__node *cbag__p_or_test(cbag__parser *P) {
    cbag__node *x = and_test(P);
    while (x && is_kw(P, "or")) {
        const cbag__tok *t = next(P);
        cbag__node *n = cbag__p_node(P, N_OR, t);
        if (!n) return NULL;
        n->a = x;
        if (!(n->b = and_test(P))) return NULL;
        x = n;
    }
    return x;
}

/* Parameters up to `end` (':' for lambda, ')' for def). */
bool cbag__p_params(cbag__parser *P, cbag__node *f, int end) {
    const char *names[66];
    cbag__node *defs[64];
    int np = 0, npos = -1; /* npos: where *args or a bare * stood */
    const char *star = NULL, *kwargs = NULL;
    bool any_default = false;
    while (!is_op(P, end)) {
        const cbag__tok *t = next(P);
        int kind = 0; /* '*' or OP_POW before the name */
        if (t->t == T_OP && (t->op == '*' || t->op == OP_POW)) {
            kind = t->op;
            if (kwargs || (kind == '*' && npos >= 0)) {
                cbag__p_fail(P, t, "invalid syntax: * or ** after **");
                break;
            }
            if (kind == '*' && (is_op(P, ',') || is_op(P, end))) {
                npos = np; /* a bare *: keyword-only parameters follow */
                if (!accept_op(P, ',')) break;
                continue;
            }
            t = next(P);
        }
        if (t->t != T_NAME || cbag__p_keyword(t->s)) {
            P->i--;
            cbag__p_bad(P);
            break;
        }
        if (np == 64) {
            cbag__p_fail(P, t, "too many parameters");
            break;
        }
        bool dup =
            (star && !strcmp(star, t->s)) || (kwargs && !strcmp(kwargs, t->s));
        for (int j = 0; j < np; j++)
            if (strcmp(names[j], t->s) == 0) dup = true;
        if (dup) {
            cbag__p_fail(P, t, "duplicate argument '%s' in function definition",
                         t->s);
            break;
        }
        if (end == ')' && accept_op(P, ':')) /* annotation: ignored */
            if (!cbag__p_test(P)) break;
        if (kind == '*') {
            star = t->s;
            npos = np;
        } else if (kind == OP_POW) {
            kwargs = t->s;
        } else {
            defs[np] = NULL;
            names[np++] = t->s;
            if (accept_op(P, '=')) {
                if (!(defs[np - 1] = cbag__p_test(P))) break;
                any_default = true;
            } else if (any_default && npos < 0) {
                cbag__p_fail(P, t,
                             "non-default argument follows default argument");
                break;
            }
        }
        if (!accept_op(P, ',')) break;
    }
    if (P->e->msg[0] || !cbag__p_expect(P, end)) return false;
    /* slots: the named parameters, then *args, then **kwargs */
    f->nparams = np;
    f->slot = npos < 0 ? np : npos; /* positional ones */
    f->op = (star ? FN_VARARGS : 0) | (kwargs ? FN_KWARGS : 0);
    if (star) names[np + 0] = star;
    if (kwargs) names[np + (star != NULL)] = kwargs;
    int nn = np + (star != NULL) + (kwargs != NULL);
    f->pname = cbag__palloc(P->pool, (size_t)(nn ? nn : 1) * sizeof *f->pname);
    f->kids = cbag__palloc(P->pool, (size_t)(np ? np : 1) * sizeof *f->kids);
    if (!f->pname || !f->kids) {
        cbag__p_fail(P, peek(P), "out of memory");
        return false;
    }
    memcpy(f->pname, names, (size_t)nn * sizeof *names);
    memcpy(f->kids, defs, (size_t)np * sizeof *defs);
    f->n = any_default ? (size_t)np : 0; /* per parameter: a default or NULL */
    return true;
}

static cbag__node *lambda(cbag__parser *P, const cbag__tok *t) {
    cbag__node *f = cbag__p_node(P, N_FUNC, t);
    if (!f) return NULL;
    f->s = "lambda";
    if (!cbag__p_params(P, f, ':')) return NULL;
    f->a = cbag__p_test(P);
    return f->a ? f : NULL;
}

cbag__node *cbag__p_test(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    if (accept_kw(P, "lambda")) return lambda(P, t);
    cbag__node *x = cbag__p_or_test(P);
    if (x && is_kw(P, "if")) {
        const cbag__tok *it = next(P);
        cbag__node *n = cbag__p_node(P, N_IFEXP, it);
        if (!n) return NULL;
        n->b = x;
        if (!(n->a = cbag__p_or_test(P))) return NULL;
        if (!accept_kw(P, "else")) return cbag__p_bad(P);
        if (!(n->c = cbag__p_test(P))) return NULL;
        return n;
    }
    return x;
}

/* test (',' test)* [','] as a tuple when there is a comma. */
/* An expression list's item: *expr (a starred target or a spread) or an
 * expression. */
static cbag__node *list_item(cbag__parser *P, bool exprs_only) {
    const cbag__tok *t = peek(P);
    if (accept_op(P, '*')) {
        cbag__node *s = cbag__p_node(P, N_STAR, t);
        return s && (s->a = cbag__p_expr(P)) ? s : NULL;
    }
    return exprs_only ? cbag__p_expr(P) : cbag__p_test(P);
}

cbag__node *cbag__p_testlist(cbag__parser *P, bool exprs_only) {
    const cbag__tok *t = peek(P);
    cbag__node *x = list_item(P, exprs_only);
    if (!x || (!is_op(P, ',') && x->kind != N_STAR)) return x;
    cbag__node *tu = cbag__p_node(P, N_TUPLE, t);
    cbag__nvec v = {0};
    cbag__p_push(P, &v, x);
    while (tu && accept_op(P, ',')) {
        const cbag__tok *k = peek(P);
        if (k->t == T_NEWLINE || k->t == T_EOF ||
            (k->t == T_OP && (k->op == '=' || k->op == ';' || k->op == ':')) ||
            (k->t == T_NAME && strcmp(k->s, "in") == 0))
            break;
        if (!cbag__p_push(P, &v, list_item(P, exprs_only))) break;
    }
    if (!tu || P->e->msg[0] || !cbag__p_finish(P, &v, tu)) {
        free(v.v);
        return NULL;
    }
    return tu;
}
