/* parse.c: tokens to a tree, by recursive descent over Python's grammar
 * (the subset in lang.h): the parser's shared helpers (tokens, errors,
 * nodes) and the entry point. Expressions are in parse_expr.c, atoms,
 * displays and comprehensions in parse_atom.c, statements in parse_stmt.c;
 * names are resolved afterwards (scope.c). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static const char *const keywords[] = {
    "False",   "None",     "True",     "and",    "as",    "assert", "break",
    "class",   "continue", "def",      "del",    "elif",  "else",   "except",
    "finally", "for",      "from",     "global", "if",    "import", "in",
    "is",      "lambda",   "nonlocal", "not",    "or",    "pass",   "raise",
    "return",  "try",      "while",    "with",   "yield", NULL};

bool cbag__p_keyword(const char *s) {
    for (int i = 0; keywords[i]; i++)
        if (strcmp(s, keywords[i]) == 0) return true;
    return false;
}

void *cbag__p_fail(cbag__parser *P, const cbag__tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void *cbag__p_fail(cbag__parser *P, const cbag__tok *t, const char *fmt, ...) {
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

void *cbag__p_bad(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    if (t->t == T_EOF) return cbag__p_fail(P, t, "unexpected end of input");
    if (t->t == T_INDENT) return cbag__p_fail(P, t, "unexpected indent");
    if (t->t == T_NEWLINE || t->t == T_DEDENT)
        return cbag__p_fail(P, t, "invalid syntax: unexpected end of line");
    if (t->t == T_NAME)
        return cbag__p_fail(P, t, "invalid syntax at '%s'", t->s);
    return cbag__p_fail(P, t, "invalid syntax");
}

bool cbag__p_expect(cbag__parser *P, int op) {
    if (accept_op(P, op)) return true;
    const cbag__tok *t = peek(P);
    if (t->t == T_EOF) {
        cbag__p_fail(P, t, "unexpected end of input: expected '%c'", op);
    } else {
        char want[8];
        snprintf(want, sizeof want, "%c", op < 256 ? op : '?');
        cbag__p_fail(P, t, "invalid syntax: expected '%s'", want);
    }
    return false;
}

cbag__node *cbag__p_node(cbag__parser *P, int kind, const cbag__tok *at) {
    cbag__node *n = cbag__palloc(P->pool, sizeof *n);
    if (!n) return cbag__p_fail(P, at, "out of memory");
    n->kind = kind;
    n->line = at->line;
    n->col = at->col;
    return n;
}

bool cbag__p_push(cbag__parser *P, cbag__nvec *v, cbag__node *x) {
    if (!x) return false;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        cbag__node **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv) {
            cbag__p_fail(P, peek(P), "out of memory");
            return false;
        }
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

bool cbag__p_finish(cbag__parser *P, cbag__nvec *v, cbag__node *into) {
    into->n = v->n;
    into->kids = NULL;
    if (v->n) {
        into->kids = cbag__palloc(P->pool, v->n * sizeof *into->kids);
        if (!into->kids) {
            free(v->v);
            cbag__p_fail(P, peek(P), "out of memory");
            return false;
        }
        memcpy(into->kids, v->v, v->n * sizeof *into->kids);
    }
    free(v->v);
    v->v = NULL;
    return true;
}

cbag__node *cbag__p_konst(cbag__parser *P, const cbag__tok *at,
                          const cbag_val *v) {
    if (!v) return cbag__p_fail(P, at, "out of memory");
    cbag__node *n = cbag__p_node(P, N_CONST, at);
    if (n) n->k = v;
    return n;
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
    cbag__parser P = {p, &p->mem, cbag_main(p->cx), lx.tok, 0, lx.n, e};
    cbag__node *b = cbag__p_block(&P, true);
    /* an open block at the end of input wants more lines (interactive) */
    if (!b && lx.n >= 2 && lx.tok[lx.n - 2].t == T_DEDENT) {
        /* nothing: complete blocks end with DEDENT */
    }
    free(lx.tok);
    if (!b) return NULL;
    if (cbag__resolve(p, b, e)) return NULL;
    return b;
}
