/* project.c: projection of JSON records. A bag built by a bag method keeps
 * how it was built (a recipe: the bag it was called on, the method, the
 * arguments). When a compute starts, the chain from the bag computed down
 * to a map(json.loads) is analysed: which top-level keys of a record do
 * its functions read? If every use of the record is a subscript or .get
 * with a constant string, `'k' in r`, `r is None`, a pluck or a foldby key,
 * the chain is built again over cbag_json_loads_project with those keys,
 * and that is computed instead: the parser skips the other fields. If the
 * record may escape whole (returned, stored, passed to a function,
 * iterated, printed, compared, len(), a builtin used as the function, a
 * method computing on whole records...) nothing changes. */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

struct cbag__recipe {
    cbag__lv in;      /* the bag the method was called on */
    const char *name; /* the method */
    cbag__args args;  /* its arguments, functions detached */
    const cbag__node *at;
};

int cbag__detach(cbag__st *st, cbag__lv *fn);

int cbag__recipe_note(cbag__st *st, const cbag__node *at, const cbag__lv *self,
                      const char *name, const cbag__args *a, cbag__lv *out) {
    if (st->p->replaying) return 0;
    cbag__pool *m = &st->p->mem;
    cbag__recipe *r = cbag__palloc(m, sizeof *r);
    cbag__lv *v = cbag__palloc(m, (a->n ? a->n : 1) * sizeof *v);
    cbag__kw *kw = cbag__palloc(m, (a->nkw ? a->nkw : 1) * sizeof *kw);
    if (!r || !v || !kw) return cbag__oom(st, at);
    memcpy(v, a->v, a->n * sizeof *v);
    memcpy(kw, a->kw, a->nkw * sizeof *kw);
    /* a closure's frames may be on the stack of a call that returns */
    for (size_t i = 0; i < a->n; i++)
        if (cbag__detach(st, &v[i])) return -1;
    for (size_t i = 0; i < a->nkw; i++)
        if (cbag__detach(st, &kw[i].v)) return -1;
    r->in = *self;
    r->name = name;
    r->args = (cbag__args){a->n, v, a->nkw, kw};
    r->at = at;
    out->a = r;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* What a function reads of its record parameter                           */

#define MAX_KEYS 64

typedef struct reads {
    bool escape; /* the record may be used whole: no projection */
    size_t n;
    const char *k[MAX_KEYS]; /* NUL-terminated copies */
} reads;

static void add_key(cbag__st *st, reads *r, const char *s, size_t len) {
    if (memchr(s, '\0', len)) {
        r->escape = true;
        return;
    }
    for (size_t i = 0; i < r->n; i++)
        if (strlen(r->k[i]) == len && memcmp(r->k[i], s, len) == 0) return;
    char *copy = r->n < MAX_KEYS ? cbag__pstrndup(&st->p->mem, s, len) : NULL;
    if (!copy) {
        r->escape = true;
        return;
    }
    r->k[r->n++] = copy;
}

/* A constant string key: recorded; false otherwise. */
static bool const_key(cbag__st *st, reads *r, const cbag__node *n) {
    size_t len;
    const char *s;
    if (!n || n->kind != N_CONST || !(s = cbag_str(n->k, &len))) return false;
    add_key(st, r, s, len);
    return true;
}

static bool is_none_const(const cbag__node *n) {
    return n && n->kind == N_CONST && cbag_is_null(n->k);
}

/* The record parameter: slot s of the frame d scopes up. */
static bool is_rec(const cbag__node *n, int d, int s) {
    return n && n->kind == N_NAME && n->depth == d && n->slot == s;
}

static void scan(cbag__st *st, reads *r, const cbag__node *n, int d, int s);

/* An assignment target: rebinding the parameter or storing into the record
 * is an escape; subscripts of other things are read as expressions. */
static void scan_target(cbag__st *st, reads *r, const cbag__node *t, int d,
                        int s) {
    if (!t || r->escape) return;
    if (t->kind == N_NAME) {
        if (is_rec(t, d, s)) r->escape = true;
        return;
    }
    if (t->kind == N_TUPLE || t->kind == N_LIST || t->kind == N_STAR) {
        if (t->kind == N_STAR) return scan_target(st, r, t->a, d, s);
        for (size_t i = 0; i < t->n; i++)
            scan_target(st, r, t->kids[i], d, s);
        return;
    }
    if (t->kind == N_SUBSCR && is_rec(t->a, d, s)) {
        r->escape = true;
        return;
    }
    scan(st, r, t, d, s);
}

static void scan_kids(cbag__st *st, reads *r, const cbag__node *n, int d,
                      int s) {
    scan(st, r, n->a, d, s);
    scan(st, r, n->b, d, s);
    scan(st, r, n->c, d, s);
    for (size_t i = 0; i < n->n; i++)
        scan(st, r, n->kids[i], d, s);
}

static void scan(cbag__st *st, reads *r, const cbag__node *n, int d, int s) {
    if (!n || r->escape) return;
    switch (n->kind) {
    case N_NAME:
        if (is_rec(n, d, s)) r->escape = true;
        return;
    case N_SUBSCR: /* r['k'] */
        if (is_rec(n->a, d, s)) {
            if (!const_key(st, r, n->b)) r->escape = true;
            return;
        }
        break;
    case N_METHOD: /* r.get('k'[, default]) */
        if (is_rec(n->a, d, s)) {
            if (strcmp(n->s, "get") != 0 || n->nkw || n->n < 1 || n->n > 2 ||
                !const_key(st, r, n->kids[0])) {
                r->escape = true;
                return;
            }
            if (n->n == 2) scan(st, r, n->kids[1], d, s);
            return;
        }
        break;
    case N_CMP:
        if (n->n == 2 && (n->ops[0] == OP_IN || n->ops[0] == OP_NOTIN) &&
            is_rec(n->kids[1], d, s)) { /* 'k' in r */
            if (!const_key(st, r, n->kids[0])) r->escape = true;
            return;
        }
        if (n->n == 2 && (n->ops[0] == OP_IS || n->ops[0] == OP_ISNOT) &&
            ((is_rec(n->kids[0], d, s) && is_none_const(n->kids[1])) ||
             (is_rec(n->kids[1], d, s) && is_none_const(n->kids[0]))))
            return; /* r is None */
        break;
    case N_FUNC: /* defaults here, the body one scope down */
        for (size_t i = 0; i < n->n; i++)
            scan(st, r, n->kids[i], d, s);
        scan(st, r, n->a ? n->a : n->b, d + 1, s);
        return;
    case N_COMP: /* the first iterable here, the rest one scope down */
        scan(st, r, n->kids[0]->b, d, s);
        for (size_t i = 0; i < n->n; i++) {
            const cbag__node *k = n->kids[i];
            if (k->kind == N_CFOR) {
                scan_target(st, r, k->a, d + 1, s);
                if (i > 0) scan(st, r, k->b, d + 1, s);
            } else {
                scan(st, r, k->a, d + 1, s);
            }
        }
        scan(st, r, n->a, d + 1, s);
        scan(st, r, n->b, d + 1, s);
        return;
    case S_ASSIGN:
        for (size_t i = 0; i < n->n; i++)
            scan_target(st, r, n->kids[i], d, s);
        scan(st, r, n->a, d, s);
        return;
    case S_AUG:
        scan_target(st, r, n->a, d, s);
        scan(st, r, n->b, d, s);
        return;
    case S_FOR:
        scan_target(st, r, n->a, d, s);
        scan(st, r, n->b, d, s);
        scan(st, r, n->c, d, s);
        if (n->n) scan(st, r, n->kids[0], d, s); /* else */
        return;
    case S_DEF:
    case S_IMPORT:
        scan(st, r, n->a, d, s);
        scan_target(st, r, n->b, d, s);
        return;
    default: break;
    }
    scan_kids(st, r, n, d, s);
}

/* The keys function f reads from its parameter i (the record). */
static void fn_reads(cbag__st *st, reads *r, const cbag__lv *f, int i) {
    if (!f || f->k != LV_FUNC) { /* a builtin: gets the record whole */
        r->escape = true;
        return;
    }
    const cbag__node *fn = f->a;
    if (i >= fn->slot) { /* past the positional ones: in *args */
        r->escape = true;
        return;
    }
    scan(st, r, fn->a ? fn->a : fn->b, 0, i);
}

/* ------------------------------------------------------------------------ */
/* A chain of bag methods                                                   */

static const cbag__lv *arg(const cbag__recipe *c, size_t i, const char *name) {
    if (i < c->args.n) return &c->args.v[i];
    for (size_t k = 0; k < c->args.nkw; k++)
        if (strcmp(c->args.kw[k].name, name) == 0) return &c->args.kw[k].v;
    return NULL;
}

static bool given(const cbag__lv *x) {
    return x && !(x->k == LV_VAL && cbag_is_null(LVV(*x)));
}

/* Keys given as a str or a list of str (pluck, to_dataframe's columns). */
static void key_list(cbag__st *st, reads *r, const cbag__lv *x) {
    const cbag_val *v = x && x->k == LV_VAL ? LVV(*x) : NULL;
    size_t len;
    const char *s;
    if (v && (s = cbag_str(v, &len))) {
        add_key(st, r, s, len);
        return;
    }
    cbag_type t = cbag_typeof(v);
    if (t != CBAG_LIST && t != CBAG_TUPLE && t != CBAG_DICT) {
        r->escape = true;
        return;
    }
    for (size_t i = 0; i < cbag_len(v) && !r->escape; i++) {
        const cbag_val *e =
            t == CBAG_DICT ? cbag_dict_key(v, i) : cbag_at(v, (int64_t)i);
        if (cbag_typeof(e) == CBAG_TUPLE || cbag_typeof(e) == CBAG_LIST)
            e = cbag_at(e, 0); /* (name, dtype) */
        if (!(s = cbag_str(e, &len)))
            r->escape = true;
        else
            add_key(st, r, s, len);
    }
}

/* What method c reads of the records it gets; whether records flow on to
 * the next method unchanged. */
static bool method_reads(cbag__st *st, reads *r, const cbag__recipe *c) {
    const char *m = c->name;
    if (!strcmp(m, "filter") || !strcmp(m, "remove")) {
        fn_reads(st, r, arg(c, 0, "predicate"), 0);
        return true;
    }
    if (!strcmp(m, "map")) {
        if (c->args.n != 1 || c->args.nkw) r->escape = true;
        fn_reads(st, r, arg(c, 0, "func"), 0);
        return false;
    }
    if (!strcmp(m, "pluck")) {
        key_list(st, r, arg(c, 0, "key"));
        return false;
    }
    if (!strcmp(m, "count")) return false;
    bool topk = !strcmp(m, "topk");
    if (topk || !strcmp(m, "distinct")) { /* records flow on; the key reads */
        const cbag__lv *key = arg(c, topk, "key");
        if (!given(key))
            r->escape = true;
        else if (key->k == LV_VAL)
            key_list(st, r, key);
        else
            fn_reads(st, r, key, 0);
        return true;
    }
    if (!strcmp(m, "repartition") || !strcmp(m, "random_sample")) return true;
    bool fold = !strcmp(m, "fold"), foldby = !strcmp(m, "foldby");
    if (fold || foldby) {
        /* binop(acc, record); without an initial value the first record of
         * each partition is the first acc */
        if (foldby) {
            const cbag__lv *key = arg(c, 0, "key");
            if (key && key->k == LV_VAL)
                key_list(st, r, key);
            else
                fn_reads(st, r, key, 0);
        }
        const cbag__lv *binop = arg(c, foldby, "binop");
        fn_reads(st, r, binop, 1);
        if (!given(arg(c, 2, "initial"))) fn_reads(st, r, binop, 0);
        return false;
    }
    r->escape = true; /* groupby, sum, frequencies, ...: whole records */
    return false;
}

static bool is_json_root(const cbag__recipe *c) {
    if (strcmp(c->name, "map") || c->args.n != 1 || c->args.nkw) return false;
    const cbag__lv *f = &c->args.v[0];
    return f->k == LV_BUILTIN &&
           ((const cbag__builtin *)f->a)->id == BI_JSON_LOADS &&
           c->in.k == LV_BAG;
}

#define MAX_CHAIN 256

int cbag__project(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  int nterm, const char *const *term, cbag__lv *out) {
    *out = *x;
    cbag__prog *p = st->p;
    if (!p->projection || (x->k != LV_BAG && x->k != LV_ITEM)) return 0;
    /* the methods from x down to a map(json.loads) */
    const cbag__recipe *chain[MAX_CHAIN];
    size_t n = 0;
    const cbag__lv *cur = x;
    const cbag__recipe *root = NULL;
    while ((cur->k == LV_BAG || cur->k == LV_ITEM) && cur->a) {
        const cbag__recipe *c = cur->a;
        if (is_json_root(c)) {
            root = c;
            break;
        }
        if (n == MAX_CHAIN) return 0;
        chain[n++] = c;
        cur = &c->in;
    }
    if (!root) return 0;
    reads *r = calloc(1, sizeof *r);
    if (!r) return cbag__oom(st, at);
    bool flow = true;
    for (size_t i = n; i > 0 && flow && !r->escape; i--)
        flow = method_reads(st, r, chain[i - 1]);
    if (flow && nterm < 0) r->escape = true;
    for (int i = 0; flow && i < nterm; i++)
        add_key(st, r, term[i], strlen(term[i]));
    if (r->escape) {
        free(r);
        return 0;
    }
    /* built again over json.loads keeping those keys */
    cbag *b = cbag_json_loads_project(root->in.b, r->n, r->k, p->errors_skip);
    free(r);
    if (!b) {
        cbag_clear_error(p->cx);
        return 0;
    }
    cbag__lv v = {LV_BAG, NULL, b};
    p->replaying = true;
    int rc = 0;
    for (size_t i = n; i > 0 && rc == 0; i--) {
        const cbag__recipe *c = chain[i - 1];
        rc = cbag__bag_method(st, c->at, &v, c->name, &c->args, &v);
    }
    p->replaying = false;
    if (rc) return -1;
    out->k = v.k;
    out->b = v.b;
    return 0;
}
