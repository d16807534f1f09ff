/* frame_ops.c: head, column selection, row filters and to_bag. Column
 * arrays are immutable, so head and select only make new headers over the
 * same arrays; filter gathers the kept rows into new arrays, partitions in
 * parallel. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "mem.h"

/* A new header like f's (index, series) with nc columns and np parts. */
static cbag_frame *frame_like(const cbag_frame *f, size_t nc, size_t np) {
    cbag_frame *g = cbag__frame_new(f->cx, nc, np);
    if (!g) return NULL;
    g->index_type = f->index_type;
    g->index_name = f->index_name;
    return g;
}

cbag_frame *cbag_frame_head(cbag_frame *f, size_t n) {
    if (!f) return NULL;
    size_t np = 0, got = 0;
    while (np < f->nparts && (np == 0 || got < n))
        got += f->parts[np++].n;
    cbag_frame *g = frame_like(f, f->ncols, np);
    if (!g) return NULL;
    g->series = f->series;
    g->series_name = f->series_name;
    memcpy(g->names, f->names, f->ncols * sizeof *g->names);
    memcpy(g->types, f->types, f->ncols);
    size_t left = n;
    for (size_t p = 0; p < np; p++) {
        cbag__fcol *cols = g->parts[p].cols;
        g->parts[p] = f->parts[p]; /* arrays are shared: a prefix */
        g->parts[p].cols = cols;
        memcpy(cols, f->parts[p].cols, f->ncols * sizeof *cols);
        if (g->parts[p].n > left) g->parts[p].n = left;
        left -= g->parts[p].n;
    }
    return g;
}

cbag_frame *cbag_frame_select(cbag_frame *f, size_t n,
                              const char *const *names) {
    if (!f) return NULL;
    cbag_ctx *cx = f->cx;
    long *idx = cbag__galloc(cx, (n ? n : 1) * sizeof *idx);
    if (!idx) return NULL;
    for (size_t i = 0; i < n; i++) {
        idx[i] = names && names[i] ? cbag__frame_find(f, names[i]) : -1;
        if (idx[i] < 0) {
            cbag__error(cx, CBAG_KEY,
                        "select: KeyError: \"['%s'] not in index\"",
                        names && names[i] ? names[i] : "(null)");
            return NULL;
        }
    }
    cbag_frame *g = frame_like(f, n, f->nparts);
    if (!g) return NULL;
    for (size_t i = 0; i < n; i++) {
        g->names[i] = f->names[idx[i]];
        g->types[i] = f->types[idx[i]];
    }
    for (size_t p = 0; p < f->nparts; p++) {
        g->parts[p].n = f->parts[p].n;
        g->parts[p].index = f->parts[p].index;
        for (size_t i = 0; i < n; i++)
            g->parts[p].cols[i] = f->parts[p].cols[idx[i]];
    }
    return g;
}

/* ------------------------------------------------------------------------ */
/* filter                                                                   */

enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

typedef struct filter_arg {
    cbag_frame *f, *g;
    long col;
    int op;
    cbag_val value;
    cbag__fmem mem;
} filter_arg;

/* Whether Python can order a and b (numbers, or two of str, tuple, list). */
static int orderable(const cbag_val *a, const cbag_val *b) {
    if (cbag__is_num(a) && cbag__is_num(b)) return 1;
    return a->type == b->type &&
           (a->type == CBAG_STR || a->type == CBAG_TUPLE ||
            a->type == CBAG_LIST);
}

static int is_nan(const cbag_val *v) {
    return v->type == CBAG_FLOAT && isnan(v->u.f);
}

/* Python's `cell OP value`: 1, 0, or -1 when it cannot be ordered. */
static int compare(const cbag_val *x, int op, const cbag_val *v) {
    if (op == OP_EQ || op == OP_NE) {
        int eq = cbag_eq(x, v);
        return op == OP_EQ ? eq : !eq;
    }
    if (!orderable(x, v)) return -1;
    if (is_nan(x) || is_nan(v)) return 0;
    int c = cbag_cmp(x, v);
    switch (op) {
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    default: return c >= 0;
    }
}

/* Copies the kept rows (m of them) of column src into dst. */
static int gather(cbag__fmem *mem, const cbag__fcol *src, int t,
                  const uint8_t *keep, size_t n, size_t m, cbag__fcol *dst) {
    memset(dst, 0, sizeof *dst);
    size_t k = 0;
    if (src->valid) {
        uint64_t *v = cbag__fmem_alloc(mem, (m + 63) / 64 * 8);
        if (!v) return -1;
        memset(v, 0, (m + 63) / 64 * 8);
        for (size_t r = 0; r < n; r++)
            if (keep[r]) {
                if (cbag__fvalid(src, r)) v[k >> 6] |= (uint64_t)1 << (k & 63);
                k++;
            }
        dst->valid = v;
        k = 0;
    }
    if (t == F_STR) {
        size_t bytes = 0, len;
        for (size_t r = 0; r < n; r++)
            if (keep[r]) bytes += (cbag__fstr(src, r, &len), len);
        uint64_t *off = cbag__fmem_alloc(mem, (m + 1) * 8);
        char *b = cbag__fmem_alloc(mem, bytes);
        if (!off || !b) return -1;
        off[0] = 0;
        for (size_t r = 0; r < n; r++)
            if (keep[r]) {
                const char *s = cbag__fstr(src, r, &len);
                memcpy(b + off[k], s, len);
                off[k + 1] = off[k] + len;
                k++;
            }
        dst->data = off;
        dst->bytes = b;
        return 0;
    }
    size_t es = t == F_BOOL ? 1 : t == F_OBJ ? sizeof(cbag_val) : 8;
    char *d = cbag__fmem_alloc(mem, m * es);
    if (!d) return -1;
    for (size_t r = 0; r < n; r++)
        if (keep[r]) memcpy(d + es * k++, (const char *)src->data + es * r, es);
    dst->data = d;
    return 0;
}

static int filter_task(cbag__worker *w, size_t part, void *arg) {
    filter_arg *a = arg;
    const cbag_frame *f = a->f;
    const cbag__fpart *p = &f->parts[part];
    cbag__fpart *q = &a->g->parts[part];
    const cbag__fcol *c = &p->cols[a->col];
    int t = f->types[a->col];
    size_t n = p->n, m = 0;
    uint8_t *keep = cbag__malloc(n ? n : 1);
    if (!keep) return cbag__fail(w, "filter", CBAG_NOMEM, "out of memory");
    const cbag_val *v = &a->value;
    int fast_int = t == F_INT && v->type == CBAG_INT;
    int fast_str = t == F_STR && v->type == CBAG_STR;
    for (size_t r = 0; r < n; r++) {
        int k;
        if (!cbag__fvalid(c, r)) {
            k = a->op == OP_NE; /* NaN: only != holds */
        } else if (fast_int) {
            int64_t x = ((const int64_t *)c->data)[r], y = v->u.i;
            int cmp = (x > y) - (x < y);
            k = a->op == OP_EQ   ? cmp == 0
                : a->op == OP_NE ? cmp != 0
                : a->op == OP_LT ? cmp < 0
                : a->op == OP_LE ? cmp <= 0
                : a->op == OP_GT ? cmp > 0
                                 : cmp >= 0;
        } else if (fast_str && a->op == OP_EQ) {
            size_t len;
            const char *s = cbag__fstr(c, r, &len);
            k = len == v->len && memcmp(s, v->u.s, len) == 0;
        } else {
            cbag_val x;
            cbag__fcell(c, t, r, &x);
            k = compare(&x, a->op, v);
            if (k < 0) {
                cbag__free(keep);
                return cbag__fail(w, "filter", CBAG_TYPE,
                                  "TypeError: cannot order %s and %s "
                                  "(column '%s', row %zu)",
                                  cbag_type_name(x.type),
                                  cbag_type_name(v->type), f->names[a->col], r);
            }
        }
        keep[r] = (uint8_t)k;
        m += (size_t)k;
    }
    int rc = 0;
    q->n = m;
    /* The kept rows keep their index (pandas does). */
    if (p->index.data) {
        rc = gather(&a->mem, &p->index, f->index_type, keep, n, m, &q->index);
    } else {
        int64_t *ix = cbag__fmem_alloc(&a->mem, m * 8);
        size_t k = 0;
        if (ix)
            for (size_t r = 0; r < n; r++)
                if (keep[r]) ix[k++] = (int64_t)r;
        q->index.data = ix;
        rc = ix ? 0 : -1;
    }
    for (size_t i = 0; i < f->ncols && !rc; i++)
        rc = gather(&a->mem, &p->cols[i], f->types[i], keep, n, m, &q->cols[i]);
    cbag__free(keep);
    return rc ? cbag__fail(w, "filter", CBAG_NOMEM, "out of memory") : 0;
}

static int parse_op(const char *op) {
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    for (int i = 0; op && i < 6; i++)
        if (!strcmp(op, ops[i])) return i;
    return -1;
}

cbag_frame *cbag_frame_filter(cbag_frame *f, const char *column, const char *op,
                              const cbag_val *value) {
    if (!f) return NULL;
    cbag_ctx *cx = f->cx;
    filter_arg a;
    memset(&a, 0, sizeof a);
    a.f = f;
    a.op = parse_op(op);
    if (a.op < 0) {
        cbag__error(cx, CBAG_INVALID,
                    "filter: unknown operator '%s' (use == != < <= > >=)",
                    op ? op : "(null)");
        return NULL;
    }
    a.col = column ? cbag__frame_find(f, column) : -1;
    if (a.col < 0) {
        cbag__error(cx, CBAG_KEY, "filter: KeyError: '%s'",
                    column ? column : "(null)");
        return NULL;
    }
    if (cbag__copy_into(&cx->graph, &a.value, value ? value : &cbag__none)) {
        cbag__error(cx, CBAG_NOMEM, "filter: out of memory");
        return NULL;
    }
    a.g = frame_like(f, f->ncols, f->nparts);
    if (!a.g) return NULL;
    memcpy(a.g->names, f->names, f->ncols * sizeof *f->names);
    memcpy(a.g->types, f->types, f->ncols);
    a.g->series = f->series;
    a.g->series_name = f->series_name;
    cbag__fmem_init(&a.mem, cx);
    /* (with mpi the frame is on every rank, and so is this) */
    int rc = cbag__run_stage(cx, NULL, 0, f->nparts, filter_task, &a, NULL);
    cbag__fmem_done(&a.mem);
    return rc ? NULL : a.g;
}

/* ------------------------------------------------------------------------ */
/* to_bag                                                                   */

typedef struct to_bag_arg {
    const cbag_frame *f;
    int flags;
    cbag_val *keys; /* column names as string values; keys[ncols]: index */
} to_bag_arg;

/* The rows of partition x (an int from range) as a list. */
static const cbag_val *frame_rows(cbag_call *c, const cbag_val *x, void *ud) {
    const to_bag_arg *a = ud;
    const cbag_frame *f = a->f;
    const cbag__fpart *p = &f->parts[x->u.i];
    int tuples = a->flags & CBAG_FRAME_TUPLES,
        index = a->flags & CBAG_FRAME_INDEX;
    size_t width = f->ncols + (index ? 1 : 0);
    cbag_val *rows = cbag_new_list(c, p->n);
    if (!rows) return NULL;
    for (size_t r = 0; r < p->n; r++) {
        cbag_val *row =
            tuples ? cbag_new_tuple(c, width) : cbag_new_dict(c, width);
        cbag_val cell;
        if (!row) return NULL;
        if (index) {
            cbag__findex(f, p, r, &cell);
            if (tuples ? cbag_append(c, row, &cell)
                       : cbag_setv(c, row, &a->keys[f->ncols], &cell))
                return NULL;
        }
        for (size_t i = 0; i < f->ncols; i++) {
            cbag__fcell(&p->cols[i], f->types[i], r, &cell);
            if (tuples ? cbag_append(c, row, &cell)
                       : cbag_setv(c, row, &a->keys[i], &cell))
                return NULL;
        }
        if (cbag_append(c, rows, row)) return NULL;
    }
    return rows;
}

cbag *cbag_frame_to_bag(cbag_frame *f, int flags) {
    if (!f) return NULL;
    cbag_ctx *cx = f->cx;
    if (f->nparts == 0) {
        cbag_val *empty = cbag_new_list(cbag_main(cx), 0);
        return empty ? cbag_from_sequence(cx, empty, 1, 0) : NULL;
    }
    to_bag_arg *a = cbag__galloc(cx, sizeof *a);
    cbag_val *keys = a ? cbag__galloc(cx, (f->ncols + 1) * sizeof *keys) : NULL;
    if (!keys) return NULL;
    a->f = f;
    a->flags = flags;
    a->keys = keys;
    for (size_t i = 0; i <= f->ncols; i++) {
        const char *nm = i < f->ncols    ? f->names[i]
                         : f->index_name ? f->index_name
                                         : "index";
        cbag__set_str_ref(&keys[i], nm, (uint32_t)strlen(nm));
    }
    cbag *r = cbag_range(cx, (int64_t)f->nparts, f->nparts);
    return cbag_flatten(cbag_map_named(r, "frame_rows", frame_rows, a));
}
