/* exc.c: Python's exceptions: the classes (ValueError, KeyError, ...) as
 * builtins whose call makes an exception value (LV_EXC), their hierarchy
 * for `except`, and the statements try/except/else/finally, raise and
 * assert. An error is the state's (err, msg, position) as everywhere in
 * the evaluator; catching one turns it into a value and clears it. */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

/* Names and parents of the error kinds (E_*). */
static const struct {
    const char *name;
    int parent;
} classes[E_NKINDS] = {
    [E_BASE] = {"BaseException", -1},
    [E_EXCEPTION] = {"Exception", E_BASE},
    [E_TYPE] = {"TypeError", E_EXCEPTION},
    [E_VALUE] = {"ValueError", E_EXCEPTION},
    [E_JSON] = {"JSONDecodeError", E_VALUE},
    [E_LOOKUP] = {"LookupError", E_EXCEPTION},
    [E_KEY] = {"KeyError", E_LOOKUP},
    [E_INDEX] = {"IndexError", E_LOOKUP},
    [E_ARITH] = {"ArithmeticError", E_EXCEPTION},
    [E_ZERODIV] = {"ZeroDivisionError", E_ARITH},
    [E_OVERFLOW] = {"OverflowError", E_ARITH},
    [E_NAME] = {"NameError", E_EXCEPTION},
    [E_ATTR] = {"AttributeError", E_EXCEPTION},
    [E_RUNTIME] = {"RuntimeError", E_EXCEPTION},
    [E_RECURSION] = {"RecursionError", E_RUNTIME},
    [E_NOTIMPL] = {"NotImplementedError", E_RUNTIME},
    [E_IMPORT] = {"ImportError", E_EXCEPTION},
    [E_MEMORY] = {"MemoryError", E_EXCEPTION},
    [E_ASSERT] = {"AssertionError", E_EXCEPTION},
    [E_STOPITER] = {"StopIteration", E_EXCEPTION},
    [E_ENGINE] = {NULL, E_EXCEPTION}, /* a failed compute: the message */
    [E_STOP] = {NULL, E_BASE},        /* an interrupted compute */
};

const char *cbag__err_name(int kind) {
    return kind > 0 && kind < E_NKINDS ? classes[kind].name : NULL;
}

/* "map(f) failed in partition 0 at FILE line 2: KeyError: 'x' [program
 * line 3, col 5]": the kind named after a colon (E_ENGINE if none), so
 * that `except KeyError` catches what a callback raised. */
int cbag__exc_in_message(const char *m) {
    for (const char *p = strstr(m, ": "); p; p = strstr(p + 1, ": ")) {
        const char *n = p + 2, *e = n;
        while ((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z'))
            e++;
        if (e[0] != ':' || e == n) continue;
        for (int k = 1; k < E_NKINDS; k++)
            if (classes[k].name && strlen(classes[k].name) == (size_t)(e - n) &&
                memcmp(classes[k].name, n, (size_t)(e - n)) == 0)
                return k;
    }
    return E_ENGINE;
}

/* Whether errors of kind k are caught by class c. */
static bool is_sub(int k, int c) {
    for (; k >= 0; k = classes[k].parent)
        if (k == c) return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Exception values                                                         */

typedef struct exc {
    int kind;
    const cbag_val *args; /* a tuple */
    const cbag_val *str;  /* str(e) */
} exc;

static int new_exc(cbag__st *st, const cbag__node *at, int kind,
                   const cbag_val *args, const cbag_val *str, cbag__lv *out) {
    exc *e = cbag__alloc(st, sizeof *e);
    if (!e || !args || !str) return cbag__oom(st, at);
    e->kind = kind;
    e->args = args;
    e->str = str;
    out->k = LV_EXC;
    out->a = e;
    out->b = NULL;
    return 0;
}

/* Calling a class: its args; str(e) as Python makes it (KeyError shows
 * the repr of its one argument). */
static int bi_exc(cbag__st *st, const cbag__args *a, cbag__lv *out) {
    int kind = st->callee->id - BI_EXC;
    if (a->nkw)
        return cbag__err(st, NULL, E_TYPE, "%s() takes no keyword arguments",
                         classes[kind].name);
    cbag_val *args = cbag_new_tuple(st->c, a->n);
    if (!args) return cbag__oom(st, NULL);
    for (size_t i = 0; i < a->n; i++) {
        const cbag_val *v;
        if (cbag__need_val(st, NULL, &a->v[i], &v)) return -1;
        if (cbag_append(st->c, args, v)) return cbag__oom(st, NULL);
    }
    cbag__lv s;
    if (a->n == 0) {
        s = cbag__val(cbag_new_str(st->c, "", 0));
    } else {
        cbag__lv one = a->n == 1 ? a->v[0] : cbag__val(args);
        if (cbag__str(st, NULL, &one, a->n == 1 && kind == E_KEY, &s))
            return -1;
    }
    return new_exc(st, NULL, kind, args, LVV(s), out);
}

#define C(k, n)                                                                \
    { n, bi_exc, BI_EXC + k }
static const cbag__builtin exc_builtins[] = {
    C(E_BASE, "BaseException"),
    C(E_EXCEPTION, "Exception"),
    C(E_TYPE, "TypeError"),
    C(E_VALUE, "ValueError"),
    C(E_LOOKUP, "LookupError"),
    C(E_KEY, "KeyError"),
    C(E_INDEX, "IndexError"),
    C(E_ARITH, "ArithmeticError"),
    C(E_ZERODIV, "ZeroDivisionError"),
    C(E_OVERFLOW, "OverflowError"),
    C(E_NAME, "NameError"),
    C(E_ATTR, "AttributeError"),
    C(E_RUNTIME, "RuntimeError"),
    C(E_RECURSION, "RecursionError"),
    C(E_NOTIMPL, "NotImplementedError"),
    C(E_IMPORT, "ImportError"),
    C(E_MEMORY, "MemoryError"),
    C(E_ASSERT, "AssertionError"),
    C(E_STOPITER, "StopIteration"),
};
const cbag__builtin cbag__bi_json_error = C(E_JSON, "JSONDecodeError");

bool cbag__exc_lookup(const char *name, cbag__lv *out) {
    for (size_t i = 0; i < sizeof exc_builtins / sizeof exc_builtins[0]; i++)
        if (strcmp(exc_builtins[i].name, name) == 0) {
            out->k = LV_BUILTIN;
            out->a = &exc_builtins[i];
            out->b = NULL;
            return true;
        }
    return false;
}

/* The class of kind (for type(e)). */
static const cbag__builtin *class_of(int kind) {
    if (kind == E_JSON) return &cbag__bi_json_error;
    for (size_t i = 0; i < sizeof exc_builtins / sizeof exc_builtins[0]; i++)
        if (exc_builtins[i].id == BI_EXC + kind) return &exc_builtins[i];
    return &exc_builtins[1]; /* Exception */
}

int cbag__exc_type(const cbag__lv *x, cbag__lv *out) {
    if (x->k != LV_EXC) return -1;
    out->k = LV_BUILTIN;
    out->a = class_of(((const exc *)x->a)->kind);
    out->b = NULL;
    return 0;
}

bool cbag__exc_isinstance(const cbag__lv *x, const cbag__lv *t) {
    if (x->k != LV_EXC || t->k != LV_BUILTIN) return false;
    int c = ((const cbag__builtin *)t->a)->id - BI_EXC;
    return c > 0 && c < E_NKINDS && is_sub(((const exc *)x->a)->kind, c);
}

int cbag__exc_str(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  bool repr, cbag__lv *out) {
    const exc *e = x->a;
    if (!repr) {
        *out = cbag__val(e->str);
        return 0;
    }
    /* ValueError('x', 1): the class and its args' repr */
    char *a = cbag_format(e->args, CBAG_FMT_REPR, NULL);
    if (!a) return cbag__oom(st, at);
    size_t n = strlen(a);
    if (n >= 3 && a[n - 2] == ',') a[n - 2] = ')', a[n - 1] = '\0';
    const char *name = class_of(e->kind)->name;
    const cbag_val *r = cbag_new_strf(st->c, "%s%s", name, a);
    free(a);
    if (!r) return cbag__oom(st, at);
    *out = cbag__val(r);
    return 0;
}

int cbag__exc_attr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const char *name, cbag__lv *out) {
    if (strcmp(name, "args") == 0) {
        *out = cbag__val(((const exc *)x->a)->args);
        return 0;
    }
    return cbag__err(st, at, E_ATTR, "'%s' object has no attribute '%s'",
                     class_of(((const exc *)x->a)->kind)->name, name);
}

/* ------------------------------------------------------------------------ */
/* Statements                                                               */

/* The error on st as an exception value: the one raised, or one made of
 * the message (a KeyError's args hold its key). */
static int caught(cbag__st *st, const cbag__node *at, cbag__lv *out) {
    if (st->raised.k == LV_EXC) {
        *out = st->raised;
        return 0;
    }
    if (st->err == E_KEY && st->err_key) {
        const cbag_val *k[1] = {st->err_key};
        cbag__lv kv = cbag__val(st->err_key), s;
        if (cbag__str(st, at, &kv, true, &s)) return -1;
        return new_exc(st, at, E_KEY, cbag_new_tuplev(st->c, 1, k), LVV(s),
                       out);
    }
    const char *m = st->msg, *name = cbag__err_name(st->err);
    size_t nl = name ? strlen(name) : 0, len;
    /* the text after "Name: " (a callback's: up to its position) */
    for (const char *p = m; name && (p = strstr(p, name)); p++)
        if ((p == m || p[-1] == ' ') && p[nl] == ':' && p[nl + 1] == ' ') {
            m = p + nl + 2;
            break;
        }
    const char *pos = strstr(m, " [program line ");
    len = pos ? (size_t)(pos - m) : strlen(m);
    const cbag_val *s = cbag_new_str(st->c, m, len);
    const cbag_val *one[1] = {s};
    /* KeyError: 'x' from a callback: its key was the str 'x' */
    if (s && st->err == E_KEY && len >= 2 && m[0] == '\'' &&
        m[len - 1] == '\'' && !memchr(m + 1, '\'', len - 2) &&
        !memchr(m, '\\', len))
        one[0] = cbag_new_str(st->c, m + 1, len - 2);
    return new_exc(st, at, st->err, s ? cbag_new_tuplev(st->c, 1, one) : NULL,
                   s, out);
}

/* An error set aside while a handler's type or a finally clause runs. */
typedef struct saved {
    int kind, line, col;
    char msg[sizeof((cbag__st *)0)->msg];
    cbag__lv raised;
    const cbag_val *key;
} saved;

static void save(const cbag__st *st, saved *s) {
    s->kind = st->err;
    s->line = st->line;
    s->col = st->col;
    memcpy(s->msg, st->msg, sizeof s->msg);
    s->raised = st->raised;
    s->key = st->err_key;
}

static void restore(cbag__st *st, const saved *s) {
    st->err = s->kind;
    st->line = s->line;
    st->col = s->col;
    memcpy(st->msg, s->msg, sizeof s->msg);
    st->raised = s->raised;
    st->err_key = s->key;
}

static void clear(cbag__st *st) {
    st->raised.k = LV_UNSET;
    st->err_key = NULL;
    st->err = E_NONE;
    st->msg[0] = '\0';
    st->line = st->col = 0;
}

/* Does handler h (an S_EXCEPT) catch the error on st? -1 on an error in
 * its type expression. */
static int matches(const cbag__node *h, cbag__st *st) {
    if (!h->a) return st->err != E_STOP;
    int kind = st->err;
    saved sv;
    save(st, &sv);
    clear(st);
    cbag__lv t;
    int rc = h->a->ev(h->a, st, &t);
    if (rc == 0) {
        const cbag__lv *one = &t; /* a class or a tuple of classes */
        size_t n = 1;
        if (t.k == LV_SEQ) {
            one = ((const cbag__lseq *)t.a)->items;
            n = ((const cbag__lseq *)t.a)->n;
        }
        rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            const cbag__builtin *b = one[i].k == LV_BUILTIN ? one[i].a : NULL;
            int c = b ? b->id - BI_EXC : -1;
            if (c <= 0 || c >= E_NKINDS) {
                rc = cbag__err(st, h->a, E_TYPE,
                               "catching classes that do not inherit from "
                               "BaseException is not allowed");
                break;
            }
            if (kind != E_STOP && is_sub(kind, c)) rc = 1;
        }
    }
    if (rc >= 0) restore(st, &sv); /* put the error back */
    return rc;
}

int cbag__ex_try(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    int rc = n->a->ev(n->a, st, out);
    if (rc < 0) {
        for (size_t i = 0; i < n->n; i++) {
            const cbag__node *h = n->kids[i];
            int m = matches(h, st);
            if (m < 0) {
                rc = -1;
                break;
            }
            if (!m) continue;
            cbag__lv e, saved = st->exc;
            if (caught(st, h, &e)) break;
            clear(st);
            if (h->b && cbag__assign(h->b, st, &e)) break;
            st->exc = e; /* for a bare raise */
            rc = h->c->ev(h->c, st, out);
            st->exc = saved;
            break;
        }
    } else if (rc == FLOW_NEXT && n->b) {
        rc = n->b->ev(n->b, st, out);
    }
    if (!n->c) return rc;
    /* finally: runs whatever happened; its own return, break or error
     * replaces the outcome */
    saved sv;
    save(st, &sv);
    cbag__lv ret = st->ret;
    clear(st);
    int f = n->c->ev(n->c, st, out);
    if (f != FLOW_NEXT) return f;
    restore(st, &sv);
    st->ret = ret;
    return rc;
}

/* Raises exception value (or class) x. */
static int raise(const cbag__node *n, cbag__st *st, const cbag__lv *x) {
    cbag__lv e = *x;
    if (e.k == LV_BUILTIN && ((const cbag__builtin *)e.a)->id > BI_EXC) {
        cbag__args none = {0, NULL, 0, NULL};
        if (cbag__call(st, n, &e, &none, &e)) return -1;
    }
    if (e.k != LV_EXC)
        return cbag__err(st, n, E_TYPE,
                         "exceptions must derive from BaseException");
    const exc *x2 = e.a;
    size_t l;
    const char *s = cbag_str(x2->str, &l);
    cbag__err(st, n, x2->kind, "%.*s", (int)l, s);
    st->raised = e;
    return -1;
}

int cbag__ex_raise(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    if (!n->a) {
        if (st->exc.k != LV_EXC)
            return cbag__err(st, n, E_RUNTIME,
                             "No active exception to reraise");
        return raise(n, st, &st->exc);
    }
    cbag__lv x;
    if (n->a->ev(n->a, st, &x)) return -1;
    if (n->b) {
        cbag__lv cause;
        if (n->b->ev(n->b, st, &cause)) return -1;
    }
    return raise(n, st, &x);
}

int cbag__ex_assert(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    cbag__lv c;
    if (n->a->ev(n->a, st, &c)) return -1;
    if (cbag__truthy(&c)) return FLOW_NEXT;
    if (!n->b) return cbag__err(st, n, E_ASSERT, "%s", "");
    cbag__lv m, s;
    if (n->b->ev(n->b, st, &m) || cbag__str(st, n->b, &m, false, &s)) return -1;
    size_t l;
    const char *p = cbag_str(LVV(s), &l);
    return cbag__err(st, n, E_ASSERT, "%.*s", (int)l, p);
}
