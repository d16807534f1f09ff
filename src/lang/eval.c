/* eval.c: evaluating the resolved tree. Every node kind has a function,
 * bound once by cbag__bind; evaluation writes only to its cbag__st, its
 * frames (on the C stack) and the call's arena, so callbacks may run it
 * concurrently on worker threads. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "value.h"

#define MAX_DEPTH 200 /* user-function recursion, as a RecursionError */

/* ------------------------------------------------------------------------ */
/* State and errors                                                         */

void cbag__st_init(cbag__st *st, cbag__prog *p, cbag_call *c, bool main) {
    memset(st, 0, sizeof *st);
    st->p = p;
    st->c = c;
    st->main = main;
    st->mem = main ? &p->mem : &st->own;
}

void cbag__st_done(cbag__st *st) {
    cbag__pfree(&st->own);
    free(st->owned);
    st->owned = NULL;
    st->nowned = st->capowned = 0;
}

void *cbag__alloc(cbag__st *st, size_t n) { return cbag__palloc(st->mem, n); }

int cbag__err(cbag__st *st, const cbag__node *at, int kind, const char *fmt,
              ...) {
    if (st->err) return -1;
    st->err = kind;
    st->raised.k = LV_UNSET;
    st->err_key = NULL;
    const char *name = cbag__err_name(kind);
    size_t off = 0;
    if (name) off = (size_t)snprintf(st->msg, sizeof st->msg, "%s: ", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg + off, sizeof st->msg - off, fmt, ap);
    va_end(ap);
    if (name && st->msg[off] == '\0') st->msg[off - 2] = '\0'; /* "Name" */
    if (at) {
        st->line = at->line;
        st->col = at->col;
    }
    return -1;
}

int cbag__oom(cbag__st *st, const cbag__node *at) {
    return cbag__err(st, at, E_MEMORY, "out of memory");
}

/* Owned containers are known by their body (what every copy of the value's
 * header points at), in an open-addressing set of pointers. */
static const void *body_of(const cbag_val *v) {
    switch (cbag_typeof(v)) {
    case CBAG_LIST:
    case CBAG_TUPLE: return v->u.seq;
    case CBAG_DICT: return v->u.dict;
    default: return v;
    }
}

static size_t slot_of(const void *p, size_t mask) {
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & mask;
}

int cbag__own(cbag__st *st, const cbag_val *v) {
    if (2 * (st->nowned + 1) > st->capowned) { /* at most half full */
        size_t cap = st->capowned ? st->capowned * 2 : 64;
        const void **n = calloc(cap, sizeof *n);
        if (!n) return cbag__oom(st, NULL);
        for (size_t i = 0; i < st->capowned; i++)
            if (st->owned[i]) {
                size_t j = slot_of(st->owned[i], cap - 1);
                while (n[j])
                    j = (j + 1) & (cap - 1);
                n[j] = st->owned[i];
            }
        free(st->owned);
        st->owned = n;
        st->capowned = cap;
    }
    const void *b = body_of(v);
    size_t j = slot_of(b, st->capowned - 1);
    while (st->owned[j] && st->owned[j] != b)
        j = (j + 1) & (st->capowned - 1);
    if (!st->owned[j]) {
        st->owned[j] = b;
        st->nowned++;
    }
    return 0;
}

bool cbag__owned(const cbag__st *st, const cbag_val *v) {
    if (!st->capowned) return false;
    const void *b = body_of(v);
    for (size_t j = slot_of(b, st->capowned - 1); st->owned[j];
         j = (j + 1) & (st->capowned - 1))
        if (st->owned[j] == b) return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Names                                                                    */

static cbag__lv *local(cbag__st *st, const cbag__node *n) {
    cbag__frame *f = st->fr;
    for (int d = n->depth; d > 0; d--)
        f = f->up;
    return &f->slot[n->slot];
}

static int ev_name(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    if (n->depth >= 0) {
        *out = *local(st, n);
        if (out->k == LV_UNSET)
            return cbag__err(st, n, E_NAME,
                             "cannot access local variable '%s' where it is "
                             "not associated with a value",
                             n->s);
        return 0;
    }
    *out = st->p->gval[n->slot];
    if (out->k != LV_UNSET) return 0;
    if (n->aux) {
        *out = *(const cbag__lv *)n->aux;
        return 0;
    }
    return cbag__err(st, n, E_NAME, "name '%s' is not defined", n->s);
}

static int store(const cbag__node *n, cbag__st *st, const cbag__lv *v) {
    if (n->depth >= 0) {
        *local(st, n) = *v;
        return 0;
    }
    if (!st->main)
        return cbag__err(st, n, E_TYPE,
                         "cannot assign the global '%s' inside a function "
                         "running on the bag's workers",
                         n->s);
    st->p->gval[n->slot] = *v;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Closures                                                                 */

/* Copies the frames of env into the state's memory so that a closure
 * outlives the calls that made it (returned, or handed to a bag). */
static cbag__frame *snapshot(cbag__st *st, cbag__frame *env, int depth) {
    if (!env) return NULL;
    if (depth > 64) return NULL;
    cbag__frame *f = cbag__alloc(st, sizeof *f);
    cbag__lv *slots =
        cbag__alloc(st, (size_t)(env->n ? env->n : 1) * sizeof *slots);
    if (!f || !slots) return NULL;
    memcpy(slots, env->slot, (size_t)env->n * sizeof *slots);
    f->slot = slots;
    f->n = env->n;
    if (env->up && !(f->up = snapshot(st, env->up, depth + 1))) return NULL;
    for (int i = 0; i < f->n; i++) /* closures held in the frame too */
        if (slots[i].k == LV_FUNC && slots[i].b) {
            if (slots[i].b == env) {
                slots[i].b = f;
            } else {
                cbag__frame *s = snapshot(st, slots[i].b, depth + 1);
                if (!s) return NULL;
                slots[i].b = s;
            }
        }
    return f;
}

int cbag__detach(cbag__st *st, cbag__lv *fn);
int cbag__detach(cbag__st *st, cbag__lv *fn) {
    if (fn->k != LV_FUNC || !fn->b) return 0;
    cbag__frame *f = snapshot(st, fn->b, 0);
    if (!f) return cbag__oom(st, NULL);
    fn->b = f;
    return 0;
}

static bool chain_has(const cbag__frame *f, const cbag__frame *x) {
    for (; f; f = f->up)
        if (f == x) return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */

static int call_func(cbag__st *st, const cbag__lv *fn, const cbag__args *a,
                     cbag__lv *out) {
    const cbag__node *f = fn->a;
    if (st->depth >= MAX_DEPTH)
        return cbag__err(st, NULL, E_RECURSION,
                         "maximum recursion depth exceeded in %s()", f->s);
    int ns = f->nslots > 0 ? f->nslots : 1;
    cbag__lv slots[ns];
    memset(slots, 0, sizeof slots);
    cbag__frame fr = {fn->b, slots, f->nslots};
    if (cbag__bind_params(st, f, fn->b, a, slots)) return -1;
    cbag__frame *saved = st->fr;
    st->fr = &fr;
    st->depth++;
    int rc;
    if (f->a) {
        rc = f->a->ev(f->a, st, out);
    } else {
        rc = f->b->ev(f->b, st, NULL);
        if (rc == FLOW_RETURN) {
            *out = st->ret;
            rc = 0;
        } else if (rc >= 0) {
            *out = cbag__val(cbag_none());
            rc = 0;
        }
    }
    st->depth--;
    st->fr = saved;
    if (rc) return -1;
    /* a closure over this frame must not outlive it on the stack */
    if (out->k == LV_FUNC && chain_has(out->b, &fr))
        return cbag__detach(st, out);
    if (out->k == LV_SEQ) {
        cbag__lseq *s = (cbag__lseq *)out->a;
        for (size_t i = 0; i < s->n; i++)
            if (s->items[i].k == LV_FUNC && chain_has(s->items[i].b, &fr) &&
                cbag__detach(st, &s->items[i]))
                return -1;
    }
    return 0;
}

int cbag__call(cbag__st *st, const cbag__node *at, const cbag__lv *fn,
               const cbag__args *a, cbag__lv *out) {
    switch (fn->k) {
    case LV_FUNC: {
        int rc = call_func(st, fn, a, out);
        if (rc && st->line == 0 && at) {
            st->line = at->line;
            st->col = at->col;
        }
        return rc;
    }
    case LV_BUILTIN: {
        const cbag__builtin *b = fn->a;
        st->callee = b;
        int rc = b->fn(st, a, out);
        if (rc && st->line == 0 && at) {
            st->line = at->line;
            st->col = at->col;
        }
        return rc;
    }
    default: {
        return cbag__err(st, at, E_TYPE, "'%s' object is not callable",
                         cbag__lv_type(fn));
    }
    }
}

int cbag__call1(cbag__st *st, const cbag__lv *fn, const cbag__lv *x,
                cbag__lv *out) {
    cbag__args a = {1, x, 0, NULL};
    return cbag__call(st, NULL, fn, &a, out);
}

/* Positional arguments with *iterables expanded, into a malloc'd array
 * when a star is present (else the caller's buffer). */
static int eval_args(const cbag__node *n, cbag__st *st, cbag__lv *buf,
                     size_t npos, cbag__lv **argv, size_t *argc) {
    bool star = false;
    for (size_t i = 0; i < npos; i++)
        if (n->kids[i]->kind == N_STAR) star = true;
    if (!star) {
        for (size_t i = 0; i < npos; i++)
            if (n->kids[i]->ev(n->kids[i], st, &buf[i])) return -1;
        *argv = buf;
        *argc = npos;
        return 0;
    }
    size_t cap = npos + 16, len = 0;
    cbag__lv *v = malloc(cap * sizeof *v);
    if (!v) return cbag__oom(st, n);
    for (size_t i = 0; i < npos; i++) {
        const cbag__node *k = n->kids[i];
        cbag__lv x;
        if (k->kind != N_STAR) {
            if (k->ev(k, st, &x)) goto fail;
            v[len++] = x;
            if (len == cap) goto grow;
            continue;
        }
        if (k->a->ev(k->a, st, &x)) goto fail;
        cbag__iter it;
        if (cbag__iter_init(st, k, &x, &it)) goto fail;
        for (;;) {
            cbag__lv e;
            int r = cbag__iter_next(st, &it, &e);
            if (r < 0) goto fail;
            if (r == 0) break;
            v[len++] = e;
            if (len == cap) {
            grow:;
                cbag__lv *nv = realloc(v, 2 * cap * sizeof *v);
                if (!nv) {
                    cbag__oom(st, n);
                    goto fail;
                }
                v = nv;
                cap *= 2;
            }
        }
    }
    *argv = v;
    *argc = len;
    return 0;
fail:
    free(v);
    return -1;
}

/* **d in a call: d's items as keyword arguments, appended to *kw (moved
 * from the caller's buffer kwbuf to the heap as it grows). */
static int kw_splat(const cbag__node *k, cbag__st *st, cbag__kw *kwbuf,
                    cbag__kw **kw, size_t *nkw, size_t nbuf) {
    cbag__lv x;
    if (k->a->ev(k->a, st, &x)) return -1;
    const cbag_val *d = x.k == LV_VAL ? LVV(x) : NULL;
    if (cbag_typeof(d) != CBAG_DICT)
        return cbag__err(st, k, E_TYPE,
                         "argument after ** must be a mapping, not %s",
                         cbag__lv_type(&x));
    size_t n = cbag_len(d), need = *nkw + n + nbuf;
    cbag__kw *to = *kw == kwbuf ? malloc(need * sizeof *to)
                                : realloc(*kw, need * sizeof *to);
    if (!to) return cbag__oom(st, k);
    if (*kw == kwbuf) memcpy(to, kwbuf, *nkw * sizeof *to);
    *kw = to;
    for (size_t i = 0; i < n; i++) {
        size_t l;
        const char *s = cbag_str(cbag_dict_key(d, i), &l);
        if (!s) return cbag__err(st, k, E_TYPE, "keywords must be strings");
        char *name = cbag__pstrndup(st->mem, s, l);
        if (!name) return cbag__oom(st, k);
        for (size_t j = 0; j < *nkw; j++)
            if (strcmp(to[j].name, name) == 0)
                return cbag__err(st, k, E_TYPE,
                                 "got multiple values for keyword argument "
                                 "'%s'",
                                 name);
        to[*nkw].name = name;
        to[(*nkw)++].v = cbag__val(cbag_dict_value(d, i));
    }
    return 0;
}

static int eval_call(const cbag__node *n, cbag__st *st, const cbag__lv *fn,
                     const cbag__lv *self, cbag__lv *out) {
    size_t npos = n->n - n->nkw;
    cbag__lv buf[npos ? npos : 1];
    cbag__kw kwbuf[n->nkw ? n->nkw : 1], *kw = kwbuf;
    cbag__lv *argv = buf;
    size_t argc = 0, nkw = 0;
    if (eval_args(n, st, buf, npos, &argv, &argc)) return -1;
    int rc = 0;
    for (size_t i = 0; i < n->nkw && rc == 0; i++) {
        const cbag__node *k = n->kids[npos + i];
        if (n->kwn[i]) {
            kw[nkw].name = n->kwn[i];
            rc = k->ev(k, st, &kw[nkw++].v);
        } else { /* **mapping */
            rc = kw_splat(k, st, kwbuf, &kw, &nkw, n->nkw);
        }
    }
    if (rc == 0) {
        cbag__args a = {argc, argv, nkw, kw};
        if (self) {
            if (self->k == LV_MOD) {
                cbag__lv f;
                rc = cbag__mod_getattr(st, n, self->a, n->s, &f);
                if (rc == 0) rc = cbag__call(st, n, &f, &a, out);
            } else if (self->k == LV_BAG || self->k == LV_ITEM) {
                rc = cbag__bag_method(st, n, self, n->s, &a, out);
            } else if (cbag__frame_kind(self->k)) {
                rc = cbag__frame_method(st, n, self, n->s, &a, out);
            } else {
                rc = cbag__method(st, n, self, n->op, n->s, &a, out);
            }
        } else {
            rc = cbag__call(st, n, fn, &a, out);
        }
    }
    if (argv != buf) free(argv);
    if (kw != kwbuf) free(kw);
    return rc;
}

static int ev_call(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv fn;
    if (n->a->ev(n->a, st, &fn)) return -1;
    return eval_call(n, st, &fn, NULL, out);
}

static int ev_method(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv self;
    if (n->a->ev(n->a, st, &self)) return -1;
    return eval_call(n, st, NULL, &self, out);
}

static int ev_attr(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv x;
    if (n->a->ev(n->a, st, &x)) return -1;
    if (x.k == LV_MOD) return cbag__mod_getattr(st, n, x.a, n->s, out);
    if (x.k == LV_BAG || x.k == LV_ITEM)
        return cbag__bag_attr(st, n, &x, n->s, out);
    if (cbag__frame_kind(x.k)) return cbag__frame_attr(st, n, &x, n->s, out);
    if (x.k == LV_EXC) return cbag__exc_attr(st, n, &x, n->s, out);
    if ((x.k == LV_BUILTIN || x.k == LV_FUNC) && !strcmp(n->s, "__name__")) {
        const char *nm = x.k == LV_FUNC ? ((const cbag__node *)x.a)->s
                                        : ((const cbag__builtin *)x.a)->name;
        const cbag_val *v = cbag_new_strz(st->c, nm);
        if (!v) return cbag__oom(st, n);
        *out = cbag__val(v);
        return 0;
    }
    if (n->op >= 0)
        return cbag__err(st, n, E_NOTIMPL,
                         "method values are not supported: call "
                         "x.%s(...) directly or wrap it in a lambda",
                         n->s);
    return cbag__err(st, n, E_ATTR, "'%s' object has no attribute '%s'",
                     cbag__lv_type(&x), n->s);
}

/* ------------------------------------------------------------------------ */
/* Expressions                                                              */

static int ev_const(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)st;
    *out = cbag__val(n->k);
    return 0;
}

static int ev_subscr(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv x, k;
    if (n->a->ev(n->a, st, &x) || n->b->ev(n->b, st, &k)) return -1;
    return cbag__subscr(st, n, &x, &k, out);
}

static int ev_slice(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv x, part[3];
    const cbag__lv *p[3] = {NULL, NULL, NULL};
    if (n->a->ev(n->a, st, &x)) return -1;
    for (int i = 0; i < 3; i++)
        if (n->kids[i]) {
            if (n->kids[i]->ev(n->kids[i], st, &part[i])) return -1;
            p[i] = &part[i];
        }
    return cbag__slice(st, n, &x, p[0], p[1], p[2], out);
}

static int ev_binop(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv x, y;
    if (n->a->ev(n->a, st, &x) || n->b->ev(n->b, st, &y)) return -1;
    return cbag__binop(st, n, n->op, &x, &y, out);
}

static int ev_unary(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv x;
    if (n->a->ev(n->a, st, &x)) return -1;
    cbag__lv zero = cbag__val(NULL);
    const cbag_val *zv = cbag_new_int(st->c, 0);
    if (!zv) return cbag__oom(st, n);
    zero.a = zv;
    if (n->op == '-') return cbag__binop(st, n, '-', &zero, &x, out);
    if (n->op == '+') return cbag__binop(st, n, '+', &zero, &x, out);
    /* ~x == -x - 1 */
    const cbag_val *v = x.k == LV_VAL ? LVV(x) : NULL;
    cbag_type t = cbag_typeof(v);
    if (x.k != LV_VAL || (t != CBAG_INT && t != CBAG_BOOL))
        return cbag__err(st, n, E_TYPE, "bad operand type for unary ~: '%s'",
                         cbag__lv_type(&x));
    const cbag_val *r = cbag_new_int(st->c, ~cbag_int_value(v));
    if (!r) return cbag__oom(st, n);
    *out = cbag__val(r);
    return 0;
}

static int ev_not(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv x;
    if (n->a->ev(n->a, st, &x)) return -1;
    *out = cbag__val(cbag_bool(!cbag__truthy(&x)));
    return 0;
}

static int ev_and(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    if (n->a->ev(n->a, st, out)) return -1;
    if (!cbag__truthy(out)) return 0;
    return n->b->ev(n->b, st, out);
}

static int ev_or(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    if (n->a->ev(n->a, st, out)) return -1;
    if (cbag__truthy(out)) return 0;
    return n->b->ev(n->b, st, out);
}

static int ev_cmp(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv x, y;
    if (n->kids[0]->ev(n->kids[0], st, &x)) return -1;
    for (size_t i = 1; i < n->n; i++) {
        if (n->kids[i]->ev(n->kids[i], st, &y)) return -1;
        if (n->n == 2 && (x.k == LV_FCOL || y.k == LV_FCOL))
            return cbag__frame_cmp(st, n, n->ops[0], &x, &y, out);
        int r = cbag__compare(st, n, n->ops[i - 1], &x, &y);
        if (r < 0) return -1;
        if (!r) {
            *out = cbag__val(cbag_bool(false));
            return 0;
        }
        x = y;
    }
    *out = cbag__val(cbag_bool(true));
    return 0;
}

static int ev_ifexp(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv c;
    if (n->a->ev(n->a, st, &c)) return -1;
    const cbag__node *k = cbag__truthy(&c) ? n->b : n->c;
    return k->ev(k, st, out);
}

static int ev_func(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    out->k = LV_FUNC;
    out->a = n;
    out->b = st->fr;
    return 0;
}

/* A list or tuple display: data when every element is data, else an
 * LV_SEQ (a list of bags, of functions...). */
int cbag__seq_of(cbag__st *st, const cbag__node *at, const cbag__lv *items,
                 size_t cnt, bool tuple, cbag__lv *out) {
    bool data = true;
    for (size_t i = 0; i < cnt; i++)
        if (items[i].k != LV_VAL) data = false;
    if (!data) {
        cbag__lseq *s = cbag__alloc(st, sizeof *s + cnt * sizeof(cbag__lv));
        if (!s) return cbag__oom(st, at);
        s->n = cnt;
        s->tuple = tuple;
        memcpy(s->items, items, cnt * sizeof *items);
        out->k = LV_SEQ;
        out->a = s;
        out->b = NULL;
        return 0;
    }
    cbag_val *v =
        tuple ? cbag_new_tuple(st->c, cnt) : cbag_new_list(st->c, cnt);
    for (size_t i = 0; v && i < cnt; i++)
        if (cbag_append(st->c, v, LVV(items[i]))) v = NULL;
    if (!v) return cbag__oom(st, at);
    if (!tuple && cbag__own(st, v)) return -1;
    *out = cbag__val(v);
    return 0;
}

static int ev_seq(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv buf[n->n ? n->n : 1], *items; /* *x items spread */
    size_t cnt;
    if (eval_args(n, st, buf, n->n, &items, &cnt)) return -1;
    int rc = cbag__seq_of(st, n, items, cnt, n->kind == N_TUPLE, out);
    if (items != buf) free(items);
    return rc;
}

static int ev_dict(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag_val *d = cbag_new_dict(st->c, n->n / 2);
    if (!d) return cbag__oom(st, n);
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        cbag__lv k, v;
        const cbag_val *kv, *vv;
        if (n->kids[i]->kind == N_STAR) { /* **mapping: its items */
            const cbag__node *s = n->kids[i];
            if (s->a->ev(s->a, st, &k)) return -1;
            kv = k.k == LV_VAL ? LVV(k) : NULL;
            if (cbag_typeof(kv) != CBAG_DICT || cbag__is_set_val(kv))
                return cbag__err(st, s, E_TYPE, "'%s' object is not a mapping",
                                 cbag__lv_type(&k));
            for (size_t j = 0; j < cbag_len(kv); j++)
                if (cbag_setv(st->c, d, cbag_dict_key(kv, j),
                              cbag_dict_value(kv, j)))
                    return cbag__oom(st, n);
            continue;
        }
        if (n->kids[i]->ev(n->kids[i], st, &k) ||
            n->kids[i + 1]->ev(n->kids[i + 1], st, &v) ||
            cbag__need_val(st, n->kids[i], &k, &kv) ||
            cbag__need_val(st, n->kids[i + 1], &v, &vv))
            return -1;
        if (cbag_setv(st->c, d, kv, vv)) return cbag__oom(st, n);
    }
    if (cbag__own(st, d)) return -1;
    *out = cbag__val(d);
    return 0;
}

/* a, *b, c = v: the middle as a list (kid star is the *b). */
static int assign_star(const cbag__node *t, cbag__st *st, const cbag__lv *v,
                       size_t star) {
    cbag__iter it;
    if (cbag__iter_init(st, t, v, &it)) return -1;
    size_t n = 0, cap = 16;
    cbag__lv *all = malloc(cap * sizeof *all);
    if (!all) return cbag__oom(st, t);
    int rc = 0;
    for (;;) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r <= 0) {
            rc = r;
            break;
        }
        if (n == cap) {
            cbag__lv *na = realloc(all, (cap *= 2) * sizeof *all);
            if (!na) {
                rc = cbag__oom(st, t);
                break;
            }
            all = na;
        }
        all[n++] = e;
    }
    size_t after = t->n - star - 1;
    if (rc == 0 && n < t->n - 1)
        rc = cbag__err(st, t, E_VALUE,
                       "not enough values to unpack (expected at least %zu, "
                       "got %zu)",
                       t->n - 1, n);
    for (size_t i = 0; rc == 0 && i < star; i++)
        rc = cbag__assign(t->kids[i], st, &all[i]);
    if (rc == 0) { /* the middle: a list */
        cbag_val *l = cbag_new_list(st->c, n - star - after);
        const cbag_val *x;
        for (size_t i = star; l && rc == 0 && i < n - after; i++)
            if ((rc = cbag__need_val(st, t, &all[i], &x)) == 0 &&
                cbag_append(st->c, l, x))
                l = NULL;
        if (rc == 0 && (!l || cbag__own(st, l))) rc = l ? -1 : cbag__oom(st, t);
        cbag__lv lv = cbag__val(l);
        if (rc == 0) rc = cbag__assign(t->kids[star]->a, st, &lv);
    }
    for (size_t i = 0; rc == 0 && i < after; i++)
        rc = cbag__assign(t->kids[star + 1 + i], st, &all[n - after + i]);
    free(all);
    return rc;
}

int cbag__assign(const cbag__node *t, cbag__st *st, const cbag__lv *v) {
    if (t->kind == N_NAME) return store(t, st, v);
    if (t->kind == N_SUBSCR) {
        cbag__lv c, k;
        if (t->a->ev(t->a, st, &c) || t->b->ev(t->b, st, &k)) return -1;
        return cbag__setitem(st, t, &c, &k, v);
    }
    /* unpacking */
    for (size_t i = 0; i < t->n; i++)
        if (t->kids[i]->kind == N_STAR) return assign_star(t, st, v, i);
    cbag__iter it;
    if (cbag__iter_init(st, t, v, &it)) return -1;
    size_t i = 0;
    for (;; i++) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) return -1;
        if (r == 0) break;
        if (i >= t->n)
            return cbag__err(st, t, E_VALUE,
                             "too many values to unpack (expected %zu)", t->n);
        if (cbag__assign(t->kids[i], st, &e)) return -1;
    }
    if (i < t->n)
        return cbag__err(st, t, E_VALUE,
                         "not enough values to unpack (expected %zu, got %zu)",
                         t->n, i);
    return 0;
}

/* Comprehensions: clause i of n, appending to res. */
static int comp_loop(const cbag__node *n, cbag__st *st, size_t i,
                     const cbag__lv *first, cbag_val *res) {
    if (i == n->n) {
        cbag__lv e, v;
        const cbag_val *ev, *vv;
        if (n->a->ev(n->a, st, &e) || cbag__need_val(st, n->a, &e, &ev))
            return -1;
        if (n->op == '{') {
            if (n->b->ev(n->b, st, &v) || cbag__need_val(st, n->b, &v, &vv))
                return -1;
            return cbag_setv(st->c, res, ev, vv) ? cbag__oom(st, n) : 0;
        }
        if (n->op == 's') return cbag__set_add(st, n->a, res, &e);
        return cbag_append(st->c, res, ev) ? cbag__oom(st, n) : 0;
    }
    const cbag__node *k = n->kids[i];
    if (k->kind == N_CIF) {
        cbag__lv c;
        if (k->a->ev(k->a, st, &c)) return -1;
        return cbag__truthy(&c) ? comp_loop(n, st, i + 1, first, res) : 0;
    }
    cbag__lv src;
    if (i == 0)
        src = *first;
    else if (k->b->ev(k->b, st, &src))
        return -1;
    cbag__iter it;
    if (cbag__iter_init(st, k->b, &src, &it)) return -1;
    for (;;) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r <= 0) return r;
        if (cbag__assign(k->a, st, &e) || comp_loop(n, st, i + 1, first, res))
            return -1;
    }
}

static int ev_comp(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv first;
    if (n->kids[0]->b->ev(n->kids[0]->b, st, &first)) return -1;
    int ns = n->nslots > 0 ? n->nslots : 1;
    cbag__lv slots[ns];
    memset(slots, 0, sizeof slots);
    cbag__frame fr = {st->fr, slots, n->nslots};
    cbag_val *res = n->op == 's'   ? cbag__new_set(st, n)
                    : n->op == '{' ? cbag_new_dict(st->c, 8)
                                   : cbag_new_list(st->c, 8);
    if (!res) return st->err ? -1 : cbag__oom(st, n);
    cbag__frame *saved = st->fr;
    st->fr = &fr;
    int rc = comp_loop(n, st, 0, &first, res);
    st->fr = saved;
    if (rc) return -1;
    if (cbag__own(st, res)) return -1;
    *out = cbag__val(res);
    return 0;
}

static int ev_star(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    return cbag__err(st, n, E_TYPE, "*iterable is only allowed in calls");
}

/* ------------------------------------------------------------------------ */
/* Statements                                                               */

static int ex_expr(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    cbag__lv v;
    return n->a->ev(n->a, st, &v) ? -1 : FLOW_NEXT;
}

static int ex_assign(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    cbag__lv v;
    if (n->a->ev(n->a, st, &v)) return -1;
    for (size_t i = 0; i < n->n; i++)
        if (cbag__assign(n->kids[i], st, &v)) return -1;
    return FLOW_NEXT;
}

static int ex_aug(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    cbag__lv cur, v, r;
    const cbag__node *t = n->a;
    if (t->kind == N_NAME) {
        if (ev_name(t, st, &cur) || n->b->ev(n->b, st, &v) ||
            cbag__binop(st, n, n->op, &cur, &v, &r))
            return -1;
        return store(t, st, &r) ? -1 : FLOW_NEXT;
    }
    cbag__lv c, k;
    if (t->a->ev(t->a, st, &c) || t->b->ev(t->b, st, &k) ||
        cbag__subscr(st, t, &c, &k, &cur) || n->b->ev(n->b, st, &v) ||
        cbag__binop(st, n, n->op, &cur, &v, &r))
        return -1;
    return cbag__setitem(st, t, &c, &k, &r) ? -1 : FLOW_NEXT;
}

static int ex_if(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv c;
    if (n->a->ev(n->a, st, &c)) return -1;
    if (cbag__truthy(&c)) return n->b->ev(n->b, st, out);
    return n->c ? n->c->ev(n->c, st, out) : FLOW_NEXT;
}

static int ex_for(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag__lv src;
    if (n->b->ev(n->b, st, &src)) return -1;
    cbag__iter it;
    if (cbag__iter_init(st, n->b, &src, &it)) return -1;
    for (;;) {
        cbag__lv e;
        int r = cbag__iter_next(st, &it, &e);
        if (r < 0) return -1;
        if (r == 0) break;
        if (cbag__assign(n->a, st, &e)) return -1;
        int rc = n->c->ev(n->c, st, out);
        if (rc < 0 || rc == FLOW_RETURN) return rc;
        if (rc == FLOW_BREAK) return FLOW_NEXT;
    }
    /* not broken: the else clause */
    return n->n ? n->kids[0]->ev(n->kids[0], st, out) : FLOW_NEXT;
}

static int ex_while(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    for (;;) {
        cbag__lv c;
        if (n->a->ev(n->a, st, &c)) return -1;
        if (!cbag__truthy(&c))
            return n->c ? n->c->ev(n->c, st, out) : FLOW_NEXT;
        int rc = n->b->ev(n->b, st, out);
        if (rc < 0 || rc == FLOW_RETURN) return rc;
        if (rc == FLOW_BREAK) return FLOW_NEXT;
    }
}

static int ex_return(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    if (!n->a) {
        st->ret = cbag__val(cbag_none());
        return FLOW_RETURN;
    }
    return n->a->ev(n->a, st, &st->ret) ? -1 : FLOW_RETURN;
}

static int ex_flow(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)st, (void)out;
    return n->kind == S_BREAK      ? FLOW_BREAK
           : n->kind == S_CONTINUE ? FLOW_CONTINUE
                                   : FLOW_NEXT;
}

static int ex_block(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    for (size_t i = 0; i < n->n; i++) {
        int rc = n->kids[i]->ev(n->kids[i], st, out);
        if (rc != FLOW_NEXT) return rc;
    }
    return FLOW_NEXT;
}

static int ex_def(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    cbag__lv f;
    ev_func(n->a, st, &f);
    return store(n->b, st, &f) ? -1 : FLOW_NEXT;
}

static int ex_import(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    cbag__lv v;
    const cbag__module *m = cbag__module_lookup(n->s);
    if (m) {
        v.k = LV_MOD;
        v.a = m;
        v.b = NULL;
    } else {
        /* from MODULE import NAME */
        const char *dot = strrchr(n->s, '.');
        char mod[256];
        if (!dot || (size_t)(dot - n->s) >= sizeof mod)
            return cbag__err(st, n, E_IMPORT,
                             "No module named '%s' (cbag knows dask.bag, json, "
                             "operator, math, os, collections, functools, "
                             "itertools)",
                             n->s);
        memcpy(mod, n->s, (size_t)(dot - n->s));
        mod[dot - n->s] = '\0';
        m = cbag__module_lookup(mod);
        if (!m)
            return cbag__err(st, n, E_IMPORT,
                             "No module named '%s' (cbag knows dask.bag, json, "
                             "operator, math, os, collections, functools, "
                             "itertools)",
                             mod);
        if (cbag__mod_getattr(st, n, m, dot + 1, &v)) {
            st->err = 0;
            return cbag__err(st, n, E_IMPORT,
                             "cannot import name '%s' from '%s'", dot + 1, mod);
        }
    }
    return store(n->b, st, &v) ? -1 : FLOW_NEXT;
}

/* del x[k], del name, del a, b */
static int del(const cbag__node *t, cbag__st *st) {
    if (t->kind == N_SUBSCR) {
        cbag__lv c, k;
        if (t->a->ev(t->a, st, &c) || t->b->ev(t->b, st, &k)) return -1;
        return cbag__delitem(st, t, &c, &k);
    }
    if (t->kind == N_NAME) {
        cbag__lv v, unset = {0};
        if (ev_name(t, st, &v)) return -1;
        if (t->depth >= 0) {
            *local(st, t) = unset;
            return 0;
        }
        return store(t, st, &unset);
    }
    if (t->kind == N_TUPLE || t->kind == N_LIST) {
        for (size_t i = 0; i < t->n; i++)
            if (del(t->kids[i], st)) return -1;
        return 0;
    }
    return cbag__err(st, t, E_TYPE, "cannot delete this expression");
}

static int ex_del(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    (void)out;
    return del(n->a, st) ? -1 : FLOW_NEXT;
}

static int ev_set(const cbag__node *n, cbag__st *st, cbag__lv *out) {
    cbag_val *s = cbag__new_set(st, n);
    cbag__lv buf[n->n ? n->n : 1], *items; /* *x items spread */
    size_t cnt;
    if (!s || eval_args(n, st, buf, n->n, &items, &cnt)) return -1;
    int rc = 0;
    for (size_t i = 0; i < cnt && rc == 0; i++)
        rc = cbag__set_add(st, n, s, &items[i]);
    if (items != buf) free(items);
    if (rc) return -1;
    *out = cbag__val(s);
    return 0;
}

void cbag__bind(cbag__node *n) {
    static const cbag__evfn fns[] = {
        [N_CONST] = ev_const,
        [N_NAME] = ev_name,
        [N_ATTR] = ev_attr,
        [N_CALL] = ev_call,
        [N_METHOD] = ev_method,
        [N_SUBSCR] = ev_subscr,
        [N_SLICE] = ev_slice,
        [N_BINOP] = ev_binop,
        [N_UNARY] = ev_unary,
        [N_NOT] = ev_not,
        [N_AND] = ev_and,
        [N_OR] = ev_or,
        [N_CMP] = ev_cmp,
        [N_IFEXP] = ev_ifexp,
        [N_FUNC] = ev_func,
        [N_LIST] = ev_seq,
        [N_TUPLE] = ev_seq,
        [N_DICT] = ev_dict,
        [N_COMP] = ev_comp,
        [N_STAR] = ev_star,
        [N_CFOR] = ev_star,
        [N_CIF] = ev_star,
        [N_FSTR] = cbag__ev_fstr,
        [N_FFIELD] = ev_star,
        [N_SET] = ev_set,
        [S_TRY] = cbag__ex_try,
        [S_EXCEPT] = ex_flow,
        [S_RAISE] = cbag__ex_raise,
        [S_ASSERT] = cbag__ex_assert,
        [S_GLOBAL] = ex_flow,
        [S_EXPR] = ex_expr,
        [S_ASSIGN] = ex_assign,
        [S_AUG] = ex_aug,
        [S_IF] = ex_if,
        [S_FOR] = ex_for,
        [S_WHILE] = ex_while,
        [S_RETURN] = ex_return,
        [S_BREAK] = ex_flow,
        [S_CONTINUE] = ex_flow,
        [S_PASS] = ex_flow,
        [S_BLOCK] = ex_block,
        [S_DEF] = ex_def,
        [S_IMPORT] = ex_import,
        [S_DEL] = ex_del,
    };
    if (n->kind > 0 && (size_t)n->kind < sizeof fns / sizeof fns[0])
        n->ev = fns[n->kind];
}

static int run_list(cbag__st *st, const cbag__node *block, cbag__lv *last) {
    for (size_t i = 0; i < block->n; i++) {
        const cbag__node *s = block->kids[i];
        bool is_last = i + 1 == block->n;
        if (is_last && s->kind == S_EXPR)
            return s->a->ev(s->a, st, last) ? -1 : 0;
        if (is_last && s->kind == S_BLOCK) /* a; b; c on the last line */
            return run_list(st, s, last);
        int rc = s->ev(s, st, NULL);
        if (rc < 0) return -1;
        if (rc != FLOW_NEXT)
            return cbag__err(st, s, E_TYPE,
                             "'return', 'break' or 'continue' outside a "
                             "function or loop");
    }
    return 0;
}

int cbag__run(cbag__st *st, const cbag__node *block, cbag__lv *last) {
    last->k = LV_UNSET;
    return run_list(st, block, last);
}
