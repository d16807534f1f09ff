/* parse.h: the parser's state and helpers, shared by parse.c (helpers and
 * the entry point), parse_atom.c, parse_expr.c and parse_stmt.c. Each
 * function returns its node, or NULL after recording the first syntax
 * error in P->e. Nodes live in the program's pool. Internal only. */
#ifndef CBAG_PARSE_H
#define CBAG_PARSE_H

#include <string.h>

#include "lang.h"

typedef struct cbag__parser {
    cbag__prog *p;
    cbag__pool *pool;
    cbag_call *c; /* constants are built on the context's main call */
    const cbag__tok *t;
    size_t i, n;
    cbag__syntax *e;
} cbag__parser;

static inline const cbag__tok *peek(cbag__parser *P) { return &P->t[P->i]; }
static inline const cbag__tok *next(cbag__parser *P) {
    const cbag__tok *t = &P->t[P->i];
    if (t->t != T_EOF) P->i++;
    return t;
}
static inline bool is_op(cbag__parser *P, int op) {
    const cbag__tok *t = peek(P);
    return t->t == T_OP && t->op == op;
}
static inline bool is_kw(cbag__parser *P, const char *kw) {
    const cbag__tok *t = peek(P);
    return t->t == T_NAME && strcmp(t->s, kw) == 0;
}
static inline bool accept_op(cbag__parser *P, int op) {
    if (!is_op(P, op)) return false;
    next(P);
    return true;
}
static inline bool accept_kw(cbag__parser *P, const char *kw) {
    if (!is_kw(P, kw)) return false;
    next(P);
    return true;
}

/* parse.c */
bool cbag__p_keyword(const char *s);
/* Records a syntax error at t (the first one wins); returns NULL. */
void *cbag__p_fail(cbag__parser *P, const cbag__tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "invalid syntax" at the current token; NULL. */
void *cbag__p_bad(cbag__parser *P);
bool cbag__p_expect(cbag__parser *P, int op);
cbag__node *cbag__p_node(cbag__parser *P, int kind, const cbag__tok *at);
cbag__node *cbag__p_konst(cbag__parser *P, const cbag__tok *at,
                          const cbag_val *v);

/* A growable list of nodes (malloc'd), copied into the pool when done. */
typedef struct cbag__nvec {
    cbag__node **v;
    size_t n, cap;
} cbag__nvec;
/* Appends x (false, with an error, if x is NULL or out of memory). */
bool cbag__p_push(cbag__parser *P, cbag__nvec *v, cbag__node *x);
/* Moves v into into->kids/n and frees v's array. */
bool cbag__p_finish(cbag__parser *P, cbag__nvec *v, cbag__node *into);

/* parse_atom.c */
cbag__node *cbag__p_atom(cbag__parser *P);
/* Comprehension clauses after the element elt (and value val for a dict
 * comprehension); op is '[', '(' or '{'. */
cbag__node *cbag__p_comp(cbag__parser *P, const cbag__tok *at, int op,
                         cbag__node *elt, cbag__node *val);

/* parse_str.c: adjacent string literals and f-strings from the first
 * (t, consumed). */
cbag__node *cbag__p_strings(cbag__parser *P, const cbag__tok *t);

/* parse_expr.c */
cbag__node *cbag__p_test(cbag__parser *P);
cbag__node *cbag__p_expr(cbag__parser *P);
cbag__node *cbag__p_or_test(cbag__parser *P);
/* test (',' test)* as a tuple when there is a comma; exprs_only: expr
 * instead of test (for-loop targets). */
cbag__node *cbag__p_testlist(cbag__parser *P, bool exprs_only);
/* Parameters up to `end` (':' for lambda, ')' for def) into f. */
bool cbag__p_params(cbag__parser *P, cbag__node *f, int end);

/* parse_stmt.c */
cbag__node *cbag__p_block(cbag__parser *P, bool top);

#endif
