/* scope.c: resolves every name of a parsed tree to a frame slot or a
 * global, as Python's scoping rules do (a name assigned in a function is
 * local to it; comprehensions have their own scope), and binds each node's
 * evaluation function. Done once per source, before anything runs. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

enum { SC_MODULE, SC_FUNC, SC_COMP };

typedef struct scope {
    struct scope *up;
    int kind;
    const char **names;
    int n, cap;
    const cbag__node *globals[32]; /* global and nonlocal statements */
    int nglobals;
} scope;

typedef struct resolver {
    cbag__prog *p;
    cbag__syntax *e;
} resolver;

static int fail(resolver *R, const cbag__node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(resolver *R, const cbag__node *at, const char *fmt, ...) {
    if (R->e->msg[0]) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(R->e->msg, sizeof R->e->msg, fmt, ap);
    va_end(ap);
    R->e->line = at ? at->line : 0;
    R->e->col = at ? at->col : 0;
    return -1;
}

int cbag__global(cbag__prog *p, const char *name) {
    for (int i = 0; i < p->nglob; i++)
        if (strcmp(p->gname[i], name) == 0) return i;
    if (p->nglob == p->capglob) {
        int cap = p->capglob ? p->capglob * 2 : 64;
        const char **nn = realloc(p->gname, (size_t)cap * sizeof *nn);
        if (!nn) return -1;
        p->gname = nn;
        cbag__lv *nv = realloc(p->gval, (size_t)cap * sizeof *nv);
        if (!nv) return -1;
        p->gval = nv;
        p->capglob = cap;
    }
    const char *copy = cbag__pstrndup(&p->mem, name, strlen(name));
    if (!copy) return -1;
    p->gname[p->nglob] = copy;
    memset(&p->gval[p->nglob], 0, sizeof p->gval[0]);
    return p->nglob++;
}

static int find(const scope *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0) return i;
    return -1;
}

/* Whether a global or nonlocal statement of s names name. */
static bool declared(const scope *s, const char *name) {
    for (int k = 0; k < s->nglobals; k++)
        for (size_t i = 0; i < s->globals[k]->n; i++)
            if (strcmp(s->globals[k]->kids[i]->s, name) == 0) return true;
    return false;
}

static int add(resolver *R, scope *s, const char *name, const cbag__node *at) {
    int i = find(s, name);
    if (i >= 0) return i;
    if (declared(s, name)) return 0; /* stays global (or enclosing) */
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        const char **nn = realloc(s->names, (size_t)cap * sizeof *nn);
        if (!nn) return fail(R, at, "out of memory");
        s->names = nn;
        s->cap = cap;
    }
    s->names[s->n] = name;
    return s->n++;
}

/* Names a statement list binds (not descending into functions). */
static int collect_target(resolver *R, scope *s, const cbag__node *t) {
    if (!t) return 0;
    if (t->kind == N_NAME) return add(R, s, t->s, t) < 0 ? -1 : 0;
    if (t->kind == N_STAR) return collect_target(R, s, t->a);
    if (t->kind == N_TUPLE || t->kind == N_LIST)
        for (size_t i = 0; i < t->n; i++)
            if (collect_target(R, s, t->kids[i])) return -1;
    return 0;
}

static int collect(resolver *R, scope *s, const cbag__node *n) {
    if (!n) return 0;
    switch (n->kind) {
    case S_ASSIGN:
        for (size_t i = 0; i < n->n; i++)
            if (collect_target(R, s, n->kids[i])) return -1;
        return 0;
    case S_AUG: return collect_target(R, s, n->a);
    case S_FOR:
        return collect_target(R, s, n->a) || collect(R, s, n->c) ||
               (n->n && collect(R, s, n->kids[0]));
    case S_DEF:
    case S_IMPORT: return collect_target(R, s, n->b);
    case S_IF: return collect(R, s, n->b) || collect(R, s, n->c);
    case S_WHILE: return collect(R, s, n->b) || collect(R, s, n->c);
    case S_TRY:
        if (collect(R, s, n->a) || collect(R, s, n->b) || collect(R, s, n->c))
            return -1;
        for (size_t i = 0; i < n->n; i++)
            if (collect_target(R, s, n->kids[i]->b) ||
                collect(R, s, n->kids[i]->c))
                return -1;
        return 0;
    case S_DEL:
        if (n->a->kind == N_NAME) return collect_target(R, s, n->a);
        return 0;
    case S_BLOCK:
        for (size_t i = 0; i < n->n; i++)
            if (collect(R, s, n->kids[i])) return -1;
        return 0;
    default: return 0;
    }
}

/* The global and nonlocal statements of a function body, before its
 * locals are collected (not descending into nested functions). */
static int globals(resolver *R, scope *s, const cbag__node *n) {
    if (!n || n->kind == N_FUNC) return 0;
    if (n->kind == S_GLOBAL) {
        if (s->nglobals == (int)(sizeof s->globals / sizeof s->globals[0]))
            return fail(R, n, "too many global statements");
        s->globals[s->nglobals++] = n;
        return 0;
    }
    if (n->kind < S_EXPR) return 0; /* expressions hold no statements */
    if (globals(R, s, n->a) || globals(R, s, n->b) || globals(R, s, n->c))
        return -1;
    for (size_t i = 0; i < n->n; i++)
        if (globals(R, s, n->kids[i])) return -1;
    return 0;
}

static int name_load(resolver *R, scope *s, cbag__node *n) {
    int depth = 0;
    for (scope *k = s; k; k = k->up) {
        if (k->kind == SC_MODULE) break;
        int i = find(k, n->s);
        if (i >= 0) {
            n->depth = depth;
            n->slot = i;
            return 0;
        }
        depth++;
    }
    int g = cbag__global(R->p, n->s);
    if (g < 0) return fail(R, n, "out of memory");
    n->depth = -1;
    n->slot = g;
    cbag__lv b;
    if (cbag__builtin_lookup(n->s, &b)) {
        cbag__lv *copy = cbag__palloc(&R->p->mem, sizeof *copy);
        if (!copy) return fail(R, n, "out of memory");
        *copy = b;
        n->aux = copy;
    }
    return 0;
}

/* A store: local to the innermost function or comprehension, else global. */
static int name_store(resolver *R, scope *s, cbag__node *n) {
    if (s->kind == SC_MODULE) return name_load(R, s, n);
    int i = find(s, n->s);
    if (i < 0) {
        /* a store inside a comprehension is to its function's scope */
        return name_load(R, s, n);
    }
    n->depth = 0;
    n->slot = i;
    return 0;
}

static int resolve(resolver *R, scope *s, cbag__node *n);

static int target(resolver *R, scope *s, cbag__node *t) {
    if (!t) return 0;
    cbag__bind(t);
    if (t->kind == N_NAME) return name_store(R, s, t);
    if (t->kind == N_STAR) return target(R, s, t->a);
    if (t->kind == N_TUPLE || t->kind == N_LIST) {
        for (size_t i = 0; i < t->n; i++)
            if (target(R, s, t->kids[i])) return -1;
        return 0;
    }
    return resolve(R, s, t); /* subscripts: evaluate their parts */
}

static int func(resolver *R, scope *s, cbag__node *f) {
    for (size_t i = 0; i < f->n; i++) /* defaults: in the enclosing scope */
        if (resolve(R, s, f->kids[i])) return -1;
    scope in = {.up = s, .kind = SC_FUNC};
    int rc = 0;
    int nn = f->nparams + !!(f->op & FN_VARARGS) + !!(f->op & FN_KWARGS);
    for (int i = 0; i < nn && rc == 0; i++) /* then *args, **kwargs */
        if (add(R, &in, f->pname[i], f) < 0) rc = -1;
    if (rc == 0 && f->b) rc = globals(R, &in, f->b);
    if (rc == 0 && f->b) rc = collect(R, &in, f->b);
    if (rc == 0) rc = f->a ? resolve(R, &in, f->a) : resolve(R, &in, f->b);
    f->nslots = in.n;
    free(in.names);
    return rc;
}

static int comp(resolver *R, scope *s, cbag__node *c) {
    /* the first iterable is evaluated in the enclosing scope */
    if (c->n == 0 || c->kids[0]->kind != N_CFOR)
        return fail(R, c, "invalid comprehension");
    if (resolve(R, s, c->kids[0]->b)) return -1;
    scope in = {.up = s, .kind = SC_COMP};
    int rc = 0;
    for (size_t i = 0; i < c->n && rc == 0; i++)
        if (c->kids[i]->kind == N_CFOR)
            rc = collect_target(R, &in, c->kids[i]->a);
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        cbag__node *k = c->kids[i];
        cbag__bind(k);
        if (k->kind == N_CFOR) {
            if (i > 0) rc = resolve(R, &in, k->b);
            if (rc == 0) rc = target(R, &in, k->a);
        } else {
            rc = resolve(R, &in, k->a);
        }
    }
    if (rc == 0) rc = resolve(R, &in, c->a);
    if (rc == 0 && c->b) rc = resolve(R, &in, c->b);
    c->nslots = in.n;
    free(in.names);
    return rc;
}

static int resolve(resolver *R, scope *s, cbag__node *n) {
    if (!n) return 0;
    cbag__bind(n);
    switch (n->kind) {
    case N_NAME: return name_load(R, s, n);
    case N_FUNC: return func(R, s, n);
    case N_COMP: return comp(R, s, n);
    case S_ASSIGN:
        if (resolve(R, s, n->a)) return -1;
        for (size_t i = 0; i < n->n; i++)
            if (target(R, s, n->kids[i])) return -1;
        return 0;
    case S_AUG:
        if (resolve(R, s, n->b)) return -1;
        if (n->a->kind == N_NAME) {
            cbag__bind(n->a);
            return name_store(R, s, n->a);
        }
        return resolve(R, s, n->a);
    case S_FOR:
        return resolve(R, s, n->b) || target(R, s, n->a) ||
               resolve(R, s, n->c) || (n->n && resolve(R, s, n->kids[0]));
    case S_DEF:
    case S_IMPORT: return resolve(R, s, n->a) || target(R, s, n->b);
    case S_DEL: return target(R, s, n->a);
    case S_EXCEPT:
        return resolve(R, s, n->a) || target(R, s, n->b) || resolve(R, s, n->c);
    case S_GLOBAL: return 0;
    default: break;
    }
    if (resolve(R, s, n->a) || resolve(R, s, n->b) || resolve(R, s, n->c))
        return -1;
    for (size_t i = 0; i < n->n; i++)
        if (resolve(R, s, n->kids[i])) return -1;
    return 0;
}

int cbag__resolve(cbag__prog *p, cbag__node *block, cbag__syntax *e) {
    resolver R = {p, e};
    scope mod = {.kind = SC_MODULE};
    return resolve(&R, &mod, block);
}
