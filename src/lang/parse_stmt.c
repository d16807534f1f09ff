/* parse_stmt.c: statements: simple ones (expressions, assignments,
 * import, return, ...) and compound ones (if, for, while, def), and
 * indented blocks. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* ------------------------------------------------------------------------ */
/* Statements                                                               */

static bool check_target(cbag__parser *P, cbag__node *x) {
    if (x->kind == N_NAME || x->kind == N_SUBSCR) return true;
    if (x->kind == N_TUPLE || x->kind == N_LIST) {
        int stars = 0;
        for (size_t i = 0; i < x->n; i++) {
            const cbag__node *k = x->kids[i];
            if (k->kind == N_STAR) {
                if (++stars > 1) {
                    const cbag__tok t = {.line = k->line, .col = k->col};
                    cbag__p_fail(P, &t,
                                 "multiple starred expressions in "
                                 "assignment");
                    return false;
                }
                if (!check_target(P, k->a)) return false;
            } else if (!check_target(P, x->kids[i])) {
                return false;
            }
        }
        return true;
    }
    const cbag__tok t = {.line = x->line, .col = x->col};
    cbag__p_fail(P, &t,
                 x->kind == N_ATTR ? "cannot assign to an attribute"
                                   : "cannot assign to this expression");
    return false;
}

static cbag__node *import(cbag__parser *P, const cbag__tok *t, bool from) {
    /* dotted name */
    char mod[256];
    size_t m = 0;
    const cbag__tok *first = peek(P);
    for (;;) {
        const cbag__tok *nm = next(P);
        if (nm->t != T_NAME) {
            P->i--;
            return cbag__p_bad(P);
        }
        size_t l = strlen(nm->s);
        if (m + l + 2 > sizeof mod) return cbag__p_fail(P, nm, "name too long");
        memcpy(mod + m, nm->s, l);
        m += l;
        if (!accept_op(P, '.')) break;
        mod[m++] = '.';
    }
    mod[m] = '\0';
    cbag__node *blk = cbag__p_node(P, S_BLOCK, t);
    cbag__nvec v = {0};
    if (!blk) return NULL;
    if (from && !accept_kw(P, "import")) return cbag__p_bad(P);
    bool par = from && accept_op(P, '(');
    do {
        const char *bind = NULL, *what = mod;
        const cbag__tok *nt = first;
        if (from) {
            nt = next(P);
            if (nt->t != T_NAME) {
                P->i--;
                cbag__p_bad(P);
                break;
            }
            char *full = cbag__palloc(P->pool, m + strlen(nt->s) + 2);
            if (!full) {
                cbag__p_fail(P, nt, "out of memory");
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
                cbag__p_bad(P);
                break;
            }
            bind = as->s;
            if (!from) what = cbag__pstrndup(P->pool, mod, m);
        }
        cbag__node *s = cbag__p_node(P, S_IMPORT, nt);
        cbag__node *target = cbag__p_node(P, N_NAME, nt);
        if (!s || !target || !bind || !what) break;
        s->s = what;
        target->s = bind;
        s->b = target;
        if (!cbag__p_push(P, &v, s)) break;
    } while (from && accept_op(P, ','));
    if (par && !P->e->msg[0]) cbag__p_expect(P, ')');
    if (!from && is_op(P, ','))
        cbag__p_fail(P, peek(P), "import one module per statement");
    if (P->e->msg[0] || !cbag__p_finish(P, &v, blk)) {
        free(v.v);
        return NULL;
    }
    return blk;
}

static cbag__node *simple(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    if (t->t == T_NAME) {
        if (accept_kw(P, "pass")) return cbag__p_node(P, S_PASS, t);
        if (accept_kw(P, "break")) return cbag__p_node(P, S_BREAK, t);
        if (accept_kw(P, "continue")) return cbag__p_node(P, S_CONTINUE, t);
        if (accept_kw(P, "return")) {
            cbag__node *n = cbag__p_node(P, S_RETURN, t);
            const cbag__tok *k = peek(P);
            if (n && k->t != T_NEWLINE && k->t != T_EOF && !is_op(P, ';'))
                if (!(n->a = cbag__p_testlist(P, false))) return NULL;
            return n;
        }
        if (accept_kw(P, "import")) return import(P, t, false);
        if (accept_kw(P, "from")) return import(P, t, true);
        if (accept_kw(P, "del")) {
            cbag__node *n = cbag__p_node(P, S_DEL, t);
            if (n && !(n->a = cbag__p_testlist(P, true))) return NULL;
            return n;
        }
        if (accept_kw(P, "raise")) {
            cbag__node *n = cbag__p_node(P, S_RAISE, t);
            const cbag__tok *k = peek(P);
            if (n && k->t != T_NEWLINE && k->t != T_EOF && !is_op(P, ';')) {
                if (!(n->a = cbag__p_test(P))) return NULL;
                if (accept_kw(P, "from") && !(n->b = cbag__p_test(P)))
                    return NULL;
            }
            return n;
        }
        if (accept_kw(P, "assert")) {
            cbag__node *n = cbag__p_node(P, S_ASSERT, t);
            if (!n || !(n->a = cbag__p_test(P))) return NULL;
            if (accept_op(P, ',') && !(n->b = cbag__p_test(P))) return NULL;
            return n;
        }
        if (accept_kw(P, "global") || accept_kw(P, "nonlocal")) {
            cbag__node *n = cbag__p_node(P, S_GLOBAL, t);
            cbag__nvec v = {0};
            do {
                const cbag__tok *nm = next(P);
                if (nm->t != T_NAME || cbag__p_keyword(nm->s)) {
                    P->i--;
                    cbag__p_bad(P);
                    break;
                }
                cbag__node *x = cbag__p_node(P, N_NAME, nm);
                if (x) x->s = nm->s;
                if (!cbag__p_push(P, &v, x)) break;
            } while (accept_op(P, ','));
            if (!n || P->e->msg[0] || !cbag__p_finish(P, &v, n)) {
                free(v.v);
                return NULL;
            }
            return n;
        }
        if (cbag__p_keyword(t->s) && strcmp(t->s, "not") &&
            strcmp(t->s, "lambda") && strcmp(t->s, "None") &&
            strcmp(t->s, "True") && strcmp(t->s, "False"))
            return cbag__p_fail(P, t, "'%s' statements are not supported",
                                t->s);
    }
    cbag__node *x = cbag__p_testlist(P, false);
    if (!x) return NULL;
    const cbag__tok *o = peek(P);
    if (o->t == T_OP && o->op == OP_AUG) {
        next(P);
        if (x->kind != N_NAME && x->kind != N_SUBSCR)
            return cbag__p_fail(P, o,
                                "illegal target for augmented assignment");
        cbag__node *n = cbag__p_node(P, S_AUG, o);
        if (!n) return NULL;
        n->op = o->aug;
        n->a = x;
        if (!(n->b = cbag__p_testlist(P, false))) return NULL;
        return n;
    }
    if (is_op(P, '=')) {
        cbag__nvec tg = {0};
        cbag__node *n = cbag__p_node(P, S_ASSIGN, o);
        cbag__node *val = x;
        while (n && accept_op(P, '=')) {
            if (!check_target(P, val) || !cbag__p_push(P, &tg, val)) break;
            if (!(val = cbag__p_testlist(P, false))) break;
        }
        if (!n || P->e->msg[0] || !cbag__p_finish(P, &tg, n)) {
            free(tg.v);
            return NULL;
        }
        n->a = val;
        return n;
    }
    cbag__node *n = cbag__p_node(P, S_EXPR, t);
    if (n) n->a = x;
    return n;
}

/* simple (';' simple)* NEWLINE, as a block when several. */
static cbag__node *simple_line(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    cbag__nvec v = {0};
    do {
        if (peek(P)->t == T_NEWLINE || peek(P)->t == T_EOF) break;
        if (!cbag__p_push(P, &v, simple(P))) break;
    } while (accept_op(P, ';'));
    if (!P->e->msg[0] && peek(P)->t != T_NEWLINE && peek(P)->t != T_EOF)
        cbag__p_bad(P);
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
    cbag__node *b = cbag__p_node(P, S_BLOCK, t);
    if (!b || !cbag__p_finish(P, &v, b)) {
        free(v.v);
        return NULL;
    }
    return b;
}

static cbag__node *suite(cbag__parser *P) {
    if (!cbag__p_expect(P, ':')) return NULL;
    if (peek(P)->t != T_NEWLINE) return simple_line(P);
    next(P);
    if (peek(P)->t != T_INDENT) {
        if (peek(P)->t == T_EOF)
            return cbag__p_fail(
                P, peek(P),
                "unexpected end of input: expected an indented block");
        return cbag__p_fail(P, peek(P), "expected an indented block");
    }
    next(P);
    return cbag__p_block(P, false);
}

static cbag__node *stmt(cbag__parser *P);

static cbag__node *if_stmt(cbag__parser *P, const cbag__tok *t) {
    cbag__node *n = cbag__p_node(P, S_IF, t);
    if (!n || !(n->a = cbag__p_test(P)) || !(n->b = suite(P))) return NULL;
    const cbag__tok *e = peek(P);
    if (accept_kw(P, "elif")) {
        if (!(n->c = if_stmt(P, e))) return NULL;
    } else if (accept_kw(P, "else")) {
        if (!(n->c = suite(P))) return NULL;
    }
    return n;
}

/* try: ... except [T [as name]]: ... [else: ...] [finally: ...] */
static cbag__node *try_stmt(cbag__parser *P, const cbag__tok *t) {
    cbag__node *n = cbag__p_node(P, S_TRY, t);
    if (!n || !(n->a = suite(P))) return NULL;
    cbag__nvec h = {0};
    bool all = false;
    while (is_kw(P, "except")) {
        const cbag__tok *e = next(P);
        cbag__node *x = cbag__p_node(P, S_EXCEPT, e);
        if (!x) break;
        if (all) {
            cbag__p_fail(P, e, "default 'except:' must be last");
            break;
        }
        if (!is_op(P, ':')) {
            if (!(x->a = cbag__p_test(P))) break;
            if (accept_kw(P, "as")) {
                const cbag__tok *nm = next(P);
                if (nm->t != T_NAME || cbag__p_keyword(nm->s)) {
                    P->i--;
                    cbag__p_bad(P);
                    break;
                }
                if (!(x->b = cbag__p_node(P, N_NAME, nm))) break;
                x->b->s = nm->s;
            }
        } else {
            all = true;
        }
        if (!(x->c = suite(P)) || !cbag__p_push(P, &h, x)) break;
    }
    if (P->e->msg[0] || !cbag__p_finish(P, &h, n)) {
        free(h.v);
        return NULL;
    }
    if (n->n && accept_kw(P, "else") && !(n->b = suite(P))) return NULL;
    if (accept_kw(P, "finally") && !(n->c = suite(P))) return NULL;
    if (!n->n && !n->c)
        return cbag__p_fail(P, peek(P), "expected 'except' or 'finally' block");
    return n;
}

static cbag__node *def(cbag__parser *P, const cbag__tok *t) {
    const cbag__tok *name = next(P);
    if (name->t != T_NAME || cbag__p_keyword(name->s)) {
        P->i--;
        return cbag__p_bad(P);
    }
    cbag__node *f = cbag__p_node(P, N_FUNC, name);
    cbag__node *d = cbag__p_node(P, S_DEF, t);
    cbag__node *target = cbag__p_node(P, N_NAME, name);
    if (!f || !d || !target) return NULL;
    f->s = name->s;
    f->doc = "def";
    target->s = name->s;
    if (!cbag__p_expect(P, '(') || !cbag__p_params(P, f, ')')) return NULL;
    if (accept_op(P, OP_ARROW) && !cbag__p_test(P)) return NULL;
    if (!(f->b = suite(P))) return NULL;
    d->a = f;
    d->b = target;
    return d;
}

static cbag__node *stmt(cbag__parser *P) {
    const cbag__tok *t = peek(P);
    if (t->t == T_INDENT) return cbag__p_fail(P, t, "unexpected indent");
    if (accept_kw(P, "if")) return if_stmt(P, t);
    if (accept_kw(P, "def")) return def(P, t);
    if (accept_kw(P, "for")) {
        cbag__node *n = cbag__p_node(P, S_FOR, t);
        if (!n || !(n->a = cbag__p_testlist(P, true))) return NULL;
        if (!check_target(P, n->a)) return NULL;
        if (!accept_kw(P, "in")) return cbag__p_bad(P);
        if (!(n->b = cbag__p_testlist(P, false)) || !(n->c = suite(P)))
            return NULL;
        if (accept_kw(P, "else")) { /* run when the loop was not broken */
            cbag__node *e = suite(P);
            if (!e) return NULL;
            n->kids = cbag__palloc(P->pool, sizeof *n->kids);
            if (!n->kids) return cbag__p_fail(P, t, "out of memory");
            n->kids[0] = e;
            n->n = 1;
        }
        return n;
    }
    if (accept_kw(P, "try")) return try_stmt(P, t);
    if (accept_kw(P, "while")) {
        cbag__node *n = cbag__p_node(P, S_WHILE, t);
        if (!n || !(n->a = cbag__p_test(P)) || !(n->b = suite(P))) return NULL;
        if (accept_kw(P, "else") && !(n->c = suite(P))) return NULL;
        return n;
    }
    if (t->t == T_NAME &&
        (strcmp(t->s, "elif") == 0 || strcmp(t->s, "else") == 0))
        return cbag__p_bad(P);
    return simple_line(P);
}

cbag__node *cbag__p_block(cbag__parser *P, bool top) {
    cbag__node *b = cbag__p_node(P, S_BLOCK, peek(P));
    cbag__nvec v = {0};
    if (!b) return NULL;
    for (;;) {
        const cbag__tok *t = peek(P);
        if (t->t == T_EOF) {
            if (!top) cbag__p_fail(P, t, "unexpected end of input");
            break;
        }
        if (t->t == T_DEDENT) {
            if (top) {
                cbag__p_bad(P);
                break;
            }
            next(P);
            break;
        }
        if (t->t == T_NEWLINE) {
            next(P);
            continue;
        }
        if (!cbag__p_push(P, &v, stmt(P))) break;
    }
    if (P->e->msg[0] || !cbag__p_finish(P, &v, b)) {
        free(v.v);
        return NULL;
    }
    return b;
}
