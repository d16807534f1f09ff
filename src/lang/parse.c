/* parse.c: tokens to a tree, by recursive descent over Python's grammar
 * (the subset in lang.h). Names are resolved afterwards (scope.c). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

typedef struct parser {
    cbag__prog *p;
    cbag__pool *pool;
    cbag_call *c; /* constants are built on the context's main call */
    const cbag__tok *t;
    size_t i, n;
    cbag__syntax *e;
} parser;

static const char *const keywords[] = {
    "False",   "None",     "True",     "and",    "as",    "assert", "break",
    "class",   "continue", "def",      "del",    "elif",  "else",   "except",
    "finally", "for",      "from",     "global", "if",    "import", "in",
    "is",      "lambda",   "nonlocal", "not",    "or",    "pass",   "raise",
    "return",  "try",      "while",    "with",   "yield", NULL};

static bool is_keyword(const char *s) {
    for (int i = 0; keywords[i]; i++)
        if (strcmp(s, keywords[i]) == 0) return true;
    return false;
}

static const cbag__tok *peek(parser *P) { return &P->t[P->i]; }
static const cbag__tok *next(parser *P) {
    const cbag__tok *t = &P->t[P->i];
    if (t->t != T_EOF) P->i++;
    return t;
}

static void *fail_at(parser *P, const cbag__tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *fail_at(parser *P, const cbag__tok *t, const char *fmt, ...) {
    if (P->e->msg[0]) return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(P->e->msg, sizeof P->e->msg, fmt, ap);
    va_end(ap);
    P->e->line = t->line;
    P->e->col = t->col;
    if (t->t == T_EOF) P->e->incomplete = true;
    return NULL;
}

static void *bad(parser *P) {
    const cbag__tok *t = peek(P);
    if (t->t == T_EOF) return fail_at(P, t, "unexpected end of input");
    if (t->t == T_INDENT) return fail_at(P, t, "unexpected indent");
    if (t->t == T_NEWLINE || t->t == T_DEDENT)
        return fail_at(P, t, "invalid syntax: unexpected end of line");
    if (t->t == T_NAME) return fail_at(P, t, "invalid syntax at '%s'", t->s);
    return fail_at(P, t, "invalid syntax");
}

static bool is_op(parser *P, int op) {
    const cbag__tok *t = peek(P);
    return t->t == T_OP && t->op == op;
}
static bool is_kw(parser *P, const char *kw) {
    const cbag__tok *t = peek(P);
    return t->t == T_NAME && strcmp(t->s, kw) == 0;
}
static bool accept_op(parser *P, int op) {
    if (!is_op(P, op)) return false;
    next(P);
    return true;
}
static bool accept_kw(parser *P, const char *kw) {
    if (!is_kw(P, kw)) return false;
    next(P);
    return true;
}
static bool expect_op(parser *P, int op) {
    if (accept_op(P, op)) return true;
    const cbag__tok *t = peek(P);
    if (t->t == T_EOF) {
        fail_at(P, t, "unexpected end of input: expected '%c'", op);
    } else {
        char want[8];
        snprintf(want, sizeof want, "%c", op < 256 ? op : '?');
        fail_at(P, t, "invalid syntax: expected '%s'", want);
    }
    return false;
}

static cbag__node *node(parser *P, int kind, const cbag__tok *at) {
    cbag__node *n = cbag__palloc(P->pool, sizeof *n);
    if (!n) return fail_at(P, at, "out of memory");
    n->kind = kind;
    n->line = at->line;
    n->col = at->col;
    return n;
}

/* A growable list of nodes, copied into the pool when done. */
typedef struct nvec {
    cbag__node **v;
    size_t n, cap;
} nvec;

static bool nv_push(parser *P, nvec *v, cbag__node *x) {
    if (!x) return false;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        cbag__node **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv) {
            fail_at(P, peek(P), "out of memory");
            return false;
        }
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

static bool nv_finish(parser *P, nvec *v, cbag__node *into) {
    into->n = v->n;
    into->kids = NULL;
    if (v->n) {
        into->kids = cbag__palloc(P->pool, v->n * sizeof *into->kids);
        if (!into->kids) {
            free(v->v);
            fail_at(P, peek(P), "out of memory");
            return false;
        }
        memcpy(into->kids, v->v, v->n * sizeof *into->kids);
    }
    free(v->v);
    v->v = NULL;
    return true;
}

static cbag__node *test(parser *P);
static cbag__node *expr(parser *P);
static cbag__node *or_test(parser *P);
static cbag__node *block(parser *P, bool top);

static cbag__node *konst(parser *P, const cbag__tok *at, const cbag_val *v) {
    if (!v) return fail_at(P, at, "out of memory");
    cbag__node *n = node(P, N_CONST, at);
    if (n) n->k = v;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Atoms                                                                    */

/* Comprehension clauses after the element: for ... in ... [if ...]... */
static cbag__node *comp(parser *P, const cbag__tok *at, int op, cbag__node *elt,
                        cbag__node *val) {
    cbag__node *n = node(P, N_COMP, at);
    if (!n) return NULL;
    n->op = op;
    n->a = elt;
    n->b = val;
    nvec cl = {0};
    while (is_kw(P, "for") || is_kw(P, "if")) {
        const cbag__tok *t = next(P);
        cbag__node *c;
        if (strcmp(t->s, "for") == 0) {
            c = node(P, N_CFOR, t);
            if (!c) break;
            /* targets: expr (',' expr)*, stopping at 'in' */
            cbag__node *tg = expr(P);
            if (tg && is_op(P, ',')) {
                cbag__node *tu = node(P, N_TUPLE, t);
                nvec tv = {0};
                nv_push(P, &tv, tg);
                while (tu && accept_op(P, ',') && !is_kw(P, "in"))
                    if (!nv_push(P, &tv, expr(P))) break;
                if (!tu || !nv_finish(P, &tv, tu)) {
                    free(tv.v);
                    break;
                }
                tg = tu;
            }
            c->a = tg;
            if (!tg || !accept_kw(P, "in")) {
                bad(P);
                break;
            }
            c->b = or_test(P);
            if (!c->b) break;
        } else {
            c = node(P, N_CIF, t);
            if (!c || !(c->a = or_test(P))) break;
        }
        if (!nv_push(P, &cl, c)) break;
    }
    if (P->e->msg[0] || !nv_finish(P, &cl, n)) {
        free(cl.v);
        return NULL;
    }
    return n;
}

static cbag__node *paren(parser *P, const cbag__tok *at) {
    if (accept_op(P, ')')) {
        cbag__node *n = node(P, N_TUPLE, at);
        return n;
    }
    cbag__node *first = test(P);
    if (!first) return NULL;
    if (is_kw(P, "for")) {
        cbag__node *g = comp(P, at, '(', first, NULL);
        return g && expect_op(P, ')') ? g : NULL;
    }
    if (accept_op(P, ')')) return first; /* grouping */
    cbag__node *n = node(P, N_TUPLE, at);
    nvec v = {0};
    nv_push(P, &v, first);
    while (n && accept_op(P, ',')) {
        if (is_op(P, ')')) break;
        if (!nv_push(P, &v, test(P))) break;
    }
    if (!n || P->e->msg[0] || !expect_op(P, ')') || !nv_finish(P, &v, n)) {
        free(v.v);
        return NULL;
    }
    return n;
}

static cbag__node *list(parser *P, const cbag__tok *at) {
    cbag__node *n = node(P, N_LIST, at);
    if (!n) return NULL;
    if (accept_op(P, ']')) return n;
    cbag__node *first = test(P);
    if (!first) return NULL;
    if (is_kw(P, "for")) {
        cbag__node *g = comp(P, at, '[', first, NULL);
        return g && expect_op(P, ']') ? g : NULL;
    }
    nvec v = {0};
    nv_push(P, &v, first);
    while (accept_op(P, ',')) {
        if (is_op(P, ']')) break;
        if (!nv_push(P, &v, test(P))) break;
    }
    if (P->e->msg[0] || !expect_op(P, ']') || !nv_finish(P, &v, n)) {
        free(v.v);
        return NULL;
    }
    return n;
}

static cbag__node *dict(parser *P, const cbag__tok *at) {
    cbag__node *n = node(P, N_DICT, at);
    if (!n) return NULL;
    if (accept_op(P, '}')) return n;
    cbag__node *k = test(P);
    if (!k) return NULL;
    if (!is_op(P, ':'))
        return fail_at(P, peek(P),
                       "sets are not supported (cbag has no set "
                       "type); use a list or dict");
    next(P);
    cbag__node *v0 = test(P);
    if (!v0) return NULL;
    if (is_kw(P, "for")) {
        cbag__node *g = comp(P, at, '{', k, v0);
        return g && expect_op(P, '}') ? g : NULL;
    }
    nvec v = {0};
    nv_push(P, &v, k);
    nv_push(P, &v, v0);
    while (accept_op(P, ',')) {
        if (is_op(P, '}')) break;
        if (!nv_push(P, &v, test(P))) break;
        if (!expect_op(P, ':')) break;
        if (!nv_push(P, &v, test(P))) break;
    }
    if (P->e->msg[0] || !expect_op(P, '}') || !nv_finish(P, &v, n)) {
        free(v.v);
        return NULL;
    }
    return n;
}

static cbag__node *atom(parser *P) {
    const cbag__tok *t = next(P);
    switch (t->t) {
    case T_INT: return konst(P, t, cbag_new_int(P->c, t->i));
    case T_FLOAT: return konst(P, t, cbag_new_float(P->c, t->f));
    case T_STR: {
        if (peek(P)->t != T_STR)
            return konst(P, t, cbag_new_str(P->c, t->s, t->len));
        /* adjacent literals concatenate */
        size_t total = t->len, j = P->i;
        while (P->t[j].t == T_STR)
            total += P->t[j++].len;
        char *buf = malloc(total ? total : 1);
        if (!buf) return fail_at(P, t, "out of memory");
        memcpy(buf, t->s, t->len);
        size_t at = t->len;
        while (peek(P)->t == T_STR) {
            const cbag__tok *u = next(P);
            memcpy(buf + at, u->s, u->len);
            at += u->len;
        }
        cbag__node *n = konst(P, t, cbag_new_str(P->c, buf, total));
        free(buf);
        return n;
    }
    case T_NAME:
        if (strcmp(t->s, "None") == 0) return konst(P, t, cbag_none());
        if (strcmp(t->s, "True") == 0) return konst(P, t, cbag_bool(true));
        if (strcmp(t->s, "False") == 0) return konst(P, t, cbag_bool(false));
        if (is_keyword(t->s)) {
            P->i--;
            return bad(P);
        }
        {
            cbag__node *n = node(P, N_NAME, t);
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
    return bad(P);
}

/* ------------------------------------------------------------------------ */
/* Trailers: calls, subscripts, attributes                                  */

static cbag__node *call(parser *P, cbag__node *fn, const cbag__tok *at) {
    cbag__node *n;
    if (fn->kind == N_ATTR) { /* a.name(...) */
        n = fn;
        n->kind = N_METHOD;
    } else {
        n = node(P, N_CALL, at);
        if (!n) return NULL;
        n->a = fn;
    }
    nvec pos = {0}, kw = {0};
    const char *names[256];
    size_t nk = 0;
    while (!is_op(P, ')')) {
        const cbag__tok *t = peek(P);
        if (accept_op(P, '*')) {
            cbag__node *s = node(P, N_STAR, t);
            if (!s || !(s->a = test(P))) break;
            if (kw.n) {
                fail_at(P, t, "positional argument follows keyword argument");
                break;
            }
            if (!nv_push(P, &pos, s)) break;
        } else if (is_op(P, OP_POW)) {
            fail_at(P, t, "**kwargs in calls is not supported");
            break;
        } else if (t->t == T_NAME && P->t[P->i + 1].t == T_OP &&
                   P->t[P->i + 1].op == '=') {
            next(P);
            next(P);
            if (nk == sizeof names / sizeof names[0]) {
                fail_at(P, t, "too many keyword arguments");
                break;
            }
            for (size_t j = 0; j < nk; j++)
                if (strcmp(names[j], t->s) == 0) {
                    fail_at(P, t, "keyword argument repeated: %s", t->s);
                    break;
                }
            names[nk++] = t->s;
            if (!nv_push(P, &kw, test(P))) break;
        } else {
            cbag__node *x = test(P);
            if (!x) break;
            if (is_kw(P, "for")) x = comp(P, t, '(', x, NULL);
            if (kw.n) {
                fail_at(P, t, "positional argument follows keyword argument");
                break;
            }
            if (!nv_push(P, &pos, x)) break;
        }
        if (!accept_op(P, ',')) break;
    }
    if (P->e->msg[0] || !expect_op(P, ')')) {
        free(pos.v);
        free(kw.v);
        return NULL;
    }
    for (size_t j = 0; j < kw.n; j++)
        if (!nv_push(P, &pos, kw.v[j])) break;
    free(kw.v);
    n->nkw = nk;
    if (nk) {
        n->kwn = cbag__palloc(P->pool, nk * sizeof *n->kwn);
        if (!n->kwn) {
            free(pos.v);
            return fail_at(P, at, "out of memory");
        }
        memcpy(n->kwn, names, nk * sizeof *names);
    }
    if (P->e->msg[0] || !nv_finish(P, &pos, n)) {
        free(pos.v);
        return NULL;
    }
    return n;
}

static cbag__node *subscript(parser *P, cbag__node *x, const cbag__tok *at) {
    cbag__node *part[3] = {NULL, NULL, NULL};
    bool is_slice = false;
    if (!is_op(P, ':')) {
        part[0] = test(P);
        if (!part[0]) return NULL;
        if (is_op(P, ',')) { /* d[a, b]: a tuple key */
            cbag__node *tu = node(P, N_TUPLE, at);
            nvec v = {0};
            nv_push(P, &v, part[0]);
            while (tu && accept_op(P, ',') && !is_op(P, ']'))
                if (!nv_push(P, &v, test(P))) break;
            if (!tu || P->e->msg[0] || !nv_finish(P, &v, tu)) {
                free(v.v);
                return NULL;
            }
            part[0] = tu;
        }
    }
    for (int k = 1; k < 3 && accept_op(P, ':'); k++) {
        is_slice = true;
        if (!is_op(P, ':') && !is_op(P, ']'))
            if (!(part[k] = test(P))) return NULL;
    }
    if (!expect_op(P, ']')) return NULL;
    cbag__node *n = node(P, is_slice ? N_SLICE : N_SUBSCR, at);
    if (!n) return NULL;
    n->a = x;
    if (!is_slice) {
        n->b = part[0];
        return n;
    }
    n->kids = cbag__palloc(P->pool, 3 * sizeof *n->kids);
    if (!n->kids) return fail_at(P, at, "out of memory");
    n->n = 3;
    for (int k = 0; k < 3; k++)
        n->kids[k] = part[k];
    return n;
}

static cbag__node *primary(parser *P) {
    cbag__node *x = atom(P);
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
                return bad(P);
            }
            cbag__node *n = node(P, N_ATTR, name);
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

static cbag__node *binop(parser *P, const cbag__tok *t, int op, cbag__node *a,
                         cbag__node *b) {
    if (!a || !b) return NULL;
    cbag__node *n = node(P, N_BINOP, t);
    if (!n) return NULL;
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static cbag__node *factor(parser *P);

static cbag__node *power(parser *P) {
    cbag__node *x = primary(P);
    const cbag__tok *t = peek(P);
    if (x && accept_op(P, OP_POW)) return binop(P, t, OP_POW, x, factor(P));
    return x;
}

static cbag__node *factor(parser *P) {
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
            return konst(P, t, v);
        }
        cbag__node *n = node(P, N_UNARY, t);
        if (!n) return NULL;
        n->op = t->op;
        n->a = a;
        return n;
    }
    return power(P);
}

typedef struct level {
    int ops[5];
} level;

static cbag__node *term(parser *P) {
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

static cbag__node *arith(parser *P) {
    cbag__node *x = term(P);
    while (x) {
        const cbag__tok *t = peek(P);
        if (t->t != T_OP || !(t->op == '+' || t->op == '-')) break;
        next(P);
        x = binop(P, t, t->op, x, term(P));
    }
    return x;
}

static cbag__node *shift(parser *P) {
    cbag__node *x = arith(P);
    while (x) {
        const cbag__tok *t = peek(P);
        if (t->t != T_OP || !(t->op == OP_LSHIFT || t->op == OP_RSHIFT)) break;
        next(P);
        x = binop(P, t, t->op, x, arith(P));
    }
    return x;
}

static cbag__node *bitand_(parser *P) {
    cbag__node *x = shift(P);
    while (x && is_op(P, '&')) {
        const cbag__tok *t = next(P);
        x = binop(P, t, '&', x, shift(P));
    }
    return x;
}

static cbag__node *bitxor(parser *P) {
    cbag__node *x = bitand_(P);
    while (x && is_op(P, '^')) {
        const cbag__tok *t = next(P);
        x = binop(P, t, '^', x, bitand_(P));
    }
    return x;
}

static cbag__node *expr(parser *P) {
    cbag__node *x = bitxor(P);
    while (x && is_op(P, '|')) {
        const cbag__tok *t = next(P);
        x = binop(P, t, '|', x, bitxor(P));
    }
    return x;
}

/* A comparison operator at the cursor (consumed), or 0. */
static int cmp_op(parser *P) {
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

static cbag__node *comparison(parser *P) {
    cbag__node *x = expr(P);
    if (!x) return NULL;
    const cbag__tok *t = peek(P);
    int op = cmp_op(P);
    if (!op) return x;
    nvec v = {0};
    int ops[64];
    size_t nops = 0;
    nv_push(P, &v, x);
    while (op) {
        if (nops == 64) {
            fail_at(P, t, "comparison chain too long");
            break;
        }
        ops[nops++] = op;
        if (!nv_push(P, &v, expr(P))) break;
        op = cmp_op(P);
    }
    cbag__node *n = node(P, N_CMP, t);
    if (!n || P->e->msg[0] || !nv_finish(P, &v, n)) {
        free(v.v);
        return NULL;
    }
    n->ops = cbag__palloc(P->pool, nops * sizeof *n->ops);
    if (!n->ops) return fail_at(P, t, "out of memory");
    memcpy(n->ops, ops, nops * sizeof *ops);
    return n;
}

static cbag__node *not_test(parser *P) {
    const cbag__tok *t = peek(P);
    if (accept_kw(P, "not")) {
        cbag__node *n = node(P, N_NOT, t);
        if (n && !(n->a = not_test(P))) return NULL;
        return n;
    }
    return comparison(P);
}

static cbag__node *and_test(parser *P) {
    cbag__node *x = not_test(P);
    while (x && is_kw(P, "and")) {
        const cbag__tok *t = next(P);
        cbag__node *n = node(P, N_AND, t);
        if (!n) return NULL;
        n->a = x;
        if (!(n->b = not_test(P))) return NULL;
        x = n;
    }
    return x;
}

static cbag__node *or_test(parser *P) {
    cbag__node *x = and_test(P);
    while (x && is_kw(P, "or")) {
        const cbag__tok *t = next(P);
        cbag__node *n = node(P, N_OR, t);
        if (!n) return NULL;
        n->a = x;
        if (!(n->b = and_test(P))) return NULL;
        x = n;
    }
    return x;
}

/* Parameters up to `end` (':' for lambda, ')' for def). */
static bool params(parser *P, cbag__node *f, int end) {
    const char *names[64];
    nvec defs = {0};
    int np = 0;
    while (!is_op(P, end)) {
        const cbag__tok *t = next(P);
        if (t->t == T_OP && (t->op == '*' || t->op == OP_POW)) {
            fail_at(P, t, "*args and **kwargs parameters are not supported");
            break;
        }
        if (t->t != T_NAME || is_keyword(t->s)) {
            P->i--;
            bad(P);
            break;
        }
        if (np == 64) {
            fail_at(P, t, "too many parameters");
            break;
        }
        for (int j = 0; j < np; j++)
            if (strcmp(names[j], t->s) == 0) {
                fail_at(P, t, "duplicate argument '%s' in function definition",
                        t->s);
                break;
            }
        names[np++] = t->s;
        if (end == ')' && accept_op(P, ':')) /* annotation: ignored */
            if (!test(P)) break;
        if (accept_op(P, '=')) {
            if (!nv_push(P, &defs, test(P))) break;
        } else if (defs.n) {
            fail_at(P, t, "non-default argument follows default argument");
            break;
        }
        if (!accept_op(P, ',')) break;
    }
    if (P->e->msg[0] || !expect_op(P, end) || !nv_finish(P, &defs, f)) {
        free(defs.v);
        return false;
    }
    f->nparams = np;
    f->pname = cbag__palloc(P->pool, (size_t)(np ? np : 1) * sizeof *f->pname);
    if (!f->pname) {
        fail_at(P, peek(P), "out of memory");
        return false;
    }
    memcpy(f->pname, names, (size_t)np * sizeof *names);
    return true;
}

static cbag__node *lambda(parser *P, const cbag__tok *t) {
    cbag__node *f = node(P, N_FUNC, t);
    if (!f) return NULL;
    f->s = "lambda";
    if (!params(P, f, ':')) return NULL;
    f->a = test(P);
    return f->a ? f : NULL;
}

static cbag__node *test(parser *P) {
    const cbag__tok *t = peek(P);
    if (accept_kw(P, "lambda")) return lambda(P, t);
    cbag__node *x = or_test(P);
    if (x && is_kw(P, "if")) {
        const cbag__tok *it = next(P);
        cbag__node *n = node(P, N_IFEXP, it);
        if (!n) return NULL;
        n->b = x;
        if (!(n->a = or_test(P))) return NULL;
        if (!accept_kw(P, "else")) return bad(P);
        if (!(n->c = test(P))) return NULL;
        return n;
    }
    return x;
}

/* test (',' test)* [','] as a tuple when there is a comma. */
static cbag__node *testlist(parser *P, bool exprs_only) {
    const cbag__tok *t = peek(P);
    cbag__node *x = exprs_only ? expr(P) : test(P);
    if (!x || !is_op(P, ',')) return x;
    cbag__node *tu = node(P, N_TUPLE, t);
    nvec v = {0};
    nv_push(P, &v, x);
    while (tu && accept_op(P, ',')) {
        const cbag__tok *k = peek(P);
        if (k->t == T_NEWLINE || k->t == T_EOF ||
            (k->t == T_OP && (k->op == '=' || k->op == ';' || k->op == ':')) ||
            (k->t == T_NAME && strcmp(k->s, "in") == 0))
            break;
        if (!nv_push(P, &v, exprs_only ? expr(P) : test(P))) break;
    }
    if (!tu || P->e->msg[0] || !nv_finish(P, &v, tu)) {
        free(v.v);
        return NULL;
    }
    return tu;
}

/* ------------------------------------------------------------------------ */
/* Statements                                                               */

static bool check_target(parser *P, cbag__node *x) {
    if (x->kind == N_NAME || x->kind == N_SUBSCR) return true;
    if (x->kind == N_TUPLE || x->kind == N_LIST) {
        for (size_t i = 0; i < x->n; i++)
            if (!check_target(P, x->kids[i])) return false;
        return true;
    }
    const cbag__tok t = {.line = x->line, .col = x->col};
    fail_at(P, &t,
            x->kind == N_ATTR ? "cannot assign to an attribute"
                              : "cannot assign to this expression");
    return false;
}

static cbag__node *import(parser *P, const cbag__tok *t, bool from) {
    /* dotted name */
    char mod[256];
    size_t m = 0;
    const cbag__tok *first = peek(P);
    for (;;) {
        const cbag__tok *nm = next(P);
        if (nm->t != T_NAME) {
            P->i--;
            return bad(P);
        }
        size_t l = strlen(nm->s);
        if (m + l + 2 > sizeof mod) return fail_at(P, nm, "name too long");
        memcpy(mod + m, nm->s, l);
        m += l;
        if (!accept_op(P, '.')) break;
        mod[m++] = '.';
    }
    mod[m] = '\0';
    cbag__node *blk = node(P, S_BLOCK, t);
    nvec v = {0};
    if (!blk) return NULL;
    if (from && !accept_kw(P, "import")) return bad(P);
    bool par = from && accept_op(P, '(');
    do {
        const char *bind = NULL, *what = mod;
        const cbag__tok *nt = first;
        if (from) {
            nt = next(P);
            if (nt->t != T_NAME) {
                P->i--;
                bad(P);
                break;
            }
            char *full = cbag__palloc(P->pool, m + strlen(nt->s) + 2);
            if (!full) {
                fail_at(P, nt, "out of memory");
                break;
            }
            sprintf(full, "%s.%s", mod, nt->s);
            what = full;
            bind = nt->s;
        } else {
            const char *dot = strchr(mod, '.');
            bind = dot ? cbag__pstrndup(P->pool, mod, (size_t)(dot - mod))
                       : cbag__pstrndup(P->pool, mod, m);
            what = dot ? bind : cbag__pstrndup(P->pool, mod, m);
        }
        if (accept_kw(P, "as")) {
            const cbag__tok *as = next(P);
            if (as->t != T_NAME) {
                P->i--;
                bad(P);
                break;
            }
            bind = as->s;
            if (!from) what = cbag__pstrndup(P->pool, mod, m);
        }
        cbag__node *s = node(P, S_IMPORT, nt);
        cbag__node *target = node(P, N_NAME, nt);
        if (!s || !target || !bind || !what) break;
        s->s = what;
        target->s = bind;
        s->b = target;
        if (!nv_push(P, &v, s)) break;
    } while (from && accept_op(P, ','));
    if (par && !P->e->msg[0]) expect_op(P, ')');
    if (!from && is_op(P, ','))
        fail_at(P, peek(P), "import one module per statement");
    if (P->e->msg[0] || !nv_finish(P, &v, blk)) {
        free(v.v);
        return NULL;
    }
    return blk;
}

static cbag__node *simple(parser *P) {
    const cbag__tok *t = peek(P);
    if (t->t == T_NAME) {
        if (accept_kw(P, "pass")) return node(P, S_PASS, t);
        if (accept_kw(P, "break")) return node(P, S_BREAK, t);
        if (accept_kw(P, "continue")) return node(P, S_CONTINUE, t);
        if (accept_kw(P, "return")) {
            cbag__node *n = node(P, S_RETURN, t);
            const cbag__tok *k = peek(P);
            if (n && k->t != T_NEWLINE && k->t != T_EOF && !is_op(P, ';'))
                if (!(n->a = testlist(P, false))) return NULL;
            return n;
        }
        if (accept_kw(P, "import")) return import(P, t, false);
        if (accept_kw(P, "from")) return import(P, t, true);
        if (accept_kw(P, "del")) {
            cbag__node *n = node(P, S_DEL, t);
            if (n && !(n->a = expr(P))) return NULL;
            return n;
        }
        if (is_keyword(t->s) && strcmp(t->s, "not") && strcmp(t->s, "lambda") &&
            strcmp(t->s, "None") && strcmp(t->s, "True") &&
            strcmp(t->s, "False"))
            return fail_at(P, t, "'%s' statements are not supported", t->s);
    }
    cbag__node *x = testlist(P, false);
    if (!x) return NULL;
    const cbag__tok *o = peek(P);
    if (o->t == T_OP && o->op == OP_AUG) {
        next(P);
        if (x->kind != N_NAME && x->kind != N_SUBSCR)
            return fail_at(P, o, "illegal target for augmented assignment");
        cbag__node *n = node(P, S_AUG, o);
        if (!n) return NULL;
        n->op = o->aug;
        n->a = x;
        if (!(n->b = testlist(P, false))) return NULL;
        return n;
    }
    if (is_op(P, '=')) {
        nvec tg = {0};
        cbag__node *n = node(P, S_ASSIGN, o);
        cbag__node *val = x;
        while (n && accept_op(P, '=')) {
            if (!check_target(P, val) || !nv_push(P, &tg, val)) break;
            if (!(val = testlist(P, false))) break;
        }
        if (!n || P->e->msg[0] || !nv_finish(P, &tg, n)) {
            free(tg.v);
            return NULL;
        }
        n->a = val;
        return n;
    }
    cbag__node *n = node(P, S_EXPR, t);
    if (n) n->a = x;
    return n;
}

/* simple (';' simple)* NEWLINE, as a block when several. */
static cbag__node *simple_line(parser *P) {
    const cbag__tok *t = peek(P);
    nvec v = {0};
    do {
        if (peek(P)->t == T_NEWLINE || peek(P)->t == T_EOF) break;
        if (!nv_push(P, &v, simple(P))) break;
    } while (accept_op(P, ';'));
    if (!P->e->msg[0] && peek(P)->t != T_NEWLINE && peek(P)->t != T_EOF) bad(P);
    if (P->e->msg[0]) {
        free(v.v);
        return NULL;
    }
    if (peek(P)->t == T_NEWLINE) next(P);
    if (v.n == 1) {
        cbag__node *one = v.v[0];
        free(v.v);
        return one;
    }
    cbag__node *b = node(P, S_BLOCK, t);
    if (!b || !nv_finish(P, &v, b)) {
        free(v.v);
        return NULL;
    }
    return b;
}

static cbag__node *suite(parser *P) {
    if (!expect_op(P, ':')) return NULL;
    if (peek(P)->t != T_NEWLINE) return simple_line(P);
    next(P);
    if (peek(P)->t != T_INDENT) {
        if (peek(P)->t == T_EOF)
            return fail_at(
                P, peek(P),
                "unexpected end of input: expected an indented block");
        return fail_at(P, peek(P), "expected an indented block");
    }
    next(P);
    return block(P, false);
}

static cbag__node *stmt(parser *P);

static cbag__node *if_stmt(parser *P, const cbag__tok *t) {
    cbag__node *n = node(P, S_IF, t);
    if (!n || !(n->a = test(P)) || !(n->b = suite(P))) return NULL;
    const cbag__tok *e = peek(P);
    if (accept_kw(P, "elif")) {
        if (!(n->c = if_stmt(P, e))) return NULL;
    } else if (accept_kw(P, "else")) {
        if (!(n->c = suite(P))) return NULL;
    }
    return n;
}

static cbag__node *def(parser *P, const cbag__tok *t) {
    const cbag__tok *name = next(P);
    if (name->t != T_NAME || is_keyword(name->s)) {
        P->i--;
        return bad(P);
    }
    cbag__node *f = node(P, N_FUNC, name);
    cbag__node *d = node(P, S_DEF, t);
    cbag__node *target = node(P, N_NAME, name);
    if (!f || !d || !target) return NULL;
    f->s = name->s;
    f->doc = "def";
    target->s = name->s;
    if (!expect_op(P, '(') || !params(P, f, ')')) return NULL;
    if (accept_op(P, OP_ARROW) && !test(P)) return NULL;
    if (!(f->b = suite(P))) return NULL;
    d->a = f;
    d->b = target;
    return d;
}

static cbag__node *stmt(parser *P) {
    const cbag__tok *t = peek(P);
    if (t->t == T_INDENT) return fail_at(P, t, "unexpected indent");
    if (accept_kw(P, "if")) return if_stmt(P, t);
    if (accept_kw(P, "def")) return def(P, t);
    if (accept_kw(P, "for")) {
        cbag__node *n = node(P, S_FOR, t);
        if (!n || !(n->a = testlist(P, true))) return NULL;
        if (!check_target(P, n->a)) return NULL;
        if (!accept_kw(P, "in")) return bad(P);
        if (!(n->b = testlist(P, false)) || !(n->c = suite(P))) return NULL;
        if (is_kw(P, "else"))
            return fail_at(P, peek(P), "for ... else is not supported");
        return n;
    }
    if (accept_kw(P, "while")) {
        cbag__node *n = node(P, S_WHILE, t);
        if (!n || !(n->a = test(P)) || !(n->b = suite(P))) return NULL;
        return n;
    }
    if (t->t == T_NAME &&
        (strcmp(t->s, "elif") == 0 || strcmp(t->s, "else") == 0))
        return bad(P);
    return simple_line(P);
}

static cbag__node *block(parser *P, bool top) {
    cbag__node *b = node(P, S_BLOCK, peek(P));
    nvec v = {0};
    if (!b) return NULL;
    for (;;) {
        const cbag__tok *t = peek(P);
        if (t->t == T_EOF) {
            if (!top) fail_at(P, t, "unexpected end of input");
            break;
        }
        if (t->t == T_DEDENT) {
            if (top) {
                bad(P);
                break;
            }
            next(P);
            break;
        }
        if (t->t == T_NEWLINE) {
            next(P);
            continue;
        }
        if (!nv_push(P, &v, stmt(P))) break;
    }
    if (P->e->msg[0] || !nv_finish(P, &v, b)) {
        free(v.v);
        return NULL;
    }
    return b;
}

cbag__node *cbag__compile(cbag__prog *p, const char *text, cbag__syntax *e) {
    memset(e, 0, sizeof *e);
    cbag__lex lx;
    if (cbag__tokenize(&p->mem, text, &lx)) {
        e->line = lx.line;
        e->col = lx.col;
        e->incomplete = lx.incomplete;
        snprintf(e->msg, sizeof e->msg, "%s", lx.msg);
        free(lx.tok);
        return NULL;
    }
    parser P = {p, &p->mem, cbag_main(p->cx), lx.tok, 0, lx.n, e};
    cbag__node *b = block(&P, true);
    /* an open block at the end of input wants more lines (interactive) */
    if (!b && lx.n >= 2 && lx.tok[lx.n - 2].t == T_DEDENT) {
        /* nothing: complete blocks end with DEDENT */
    }
    free(lx.tok);
    if (!b) return NULL;
    if (cbag__resolve(p, b, e)) return NULL;
    return b;
}
