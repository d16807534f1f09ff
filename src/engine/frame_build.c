/* frame_build.c: to_dataframe. Each partition of the bag streams through a
 * sink that appends every field to a growable typed array (malloc'd), so
 * no list of records is ever built; at the end of the partition the arrays
 * are copied, at their exact size, into the graph arena. Partitions run in
 * parallel and infer their columns on their own; the merge on the calling
 * thread then unites the columns, fixes each column's type (that of the
 * first partition holding a value in it; int64 + float64 gives float64)
 * and converts or rejects the partitions that differ. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "frame.h"
#include "mem.h"

#define OP "to_dataframe"

/* A column being built. */
typedef struct colb {
    const char *name;
    size_t namelen;
    uint64_t hash;
    int type;        /* F_NONE until the first value */
    int fixed;       /* the type comes from meta */
    size_t n;        /* rows filled */
    size_t cap;      /* rows data has room for */
    size_t dbytes;   /* bytes allocated at data (may exceed the rows) */
    void *data;      /* as cbag__fcol; F_STR: cap + 1 offsets */
    uint64_t *valid; /* NULL: rows [0, n) all hold values */
    char *bytes;     /* F_STR: blen bytes used of bcap */
    size_t blen, bcap;
} colb;

/* What a partition hands to the merge, in the graph arena. */
typedef struct part_out {
    size_t nrows, ncols;
    int mode; /* 0: no rows, 1: dicts, 2: tuples/lists */
    const char **names;
    uint8_t *types;
    cbag__fcol *cols;
} part_out;

/* Buffers a worker keeps from one partition to the next, by column
 * position: the next partition fills them without new page faults. */
typedef struct spare {
    void *data;
    size_t dbytes;
    char *bytes;
    size_t bcap;
} spare;

typedef struct spares {
    spare *s;
    size_t n;
} spares;

typedef struct build_arg {
    cbag *b;
    spares *spare; /* per worker */
    size_t nmeta;  /* columns given by meta (0: infer) */
    const char **mnames;
    uint8_t *mtypes;
    cbag__fmem mem;
    part_out *out;
} build_arg;

typedef struct fsink {
    cbag__sink s;
    build_arg *a;
    size_t nrows;
    colb *cols;
    size_t ncols, capcols;
    cbag__arena keep; /* object values and column names while building */
    int mode;
} fsink;

/* ------------------------------------------------------------------------ */
/* Column builders                                                          */

static size_t elem_size(int t) {
    switch (t) {
    case F_INT:
    case F_FLOAT:
    case F_STR: return 8;
    case F_BOOL: return 1;
    case F_OBJ: return sizeof(cbag_val);
    default: return 0;
    }
}

static int kind_of(const cbag_val *v) {
    switch (v->type) {
    case CBAG_NULL: return F_NONE;
    case CBAG_BOOL: return F_BOOL;
    case CBAG_INT: return F_INT;
    case CBAG_FLOAT: return F_FLOAT;
    case CBAG_STR: return F_STR;
    default: return F_OBJ;
    }
}

static void colb_free(colb *c) {
    cbag__free(c->data);
    cbag__free(c->valid);
    cbag__free(c->bytes);
}

/* Appends n bytes to a string column. */
static int colb_bytes(colb *c, const char *s, size_t n) {
    if (c->bcap - c->blen < n) {
        size_t cap = c->bcap ? c->bcap * 2 : 1024;
        while (cap - c->blen < n)
            cap *= 2;
        char *b = cbag__realloc(c->bytes, cap);
        if (!b) return -1;
        c->bytes = b;
        c->bcap = cap;
    }
    memcpy(c->bytes + c->blen, s, n);
    c->blen += n;
    return 0;
}

/* Room for need rows. */
static int colb_reserve(colb *c, size_t need) {
    if (need <= c->cap) return 0;
    size_t cap = c->cap ? c->cap * 2 : 64;
    if (cap < need) cap = need;
    size_t es = elem_size(c->type);
    if ((cap + 1) * es > c->dbytes) {
        void *d = cbag__realloc(c->data, (cap + 1) * es);
        if (!d) return -1;
        c->data = d;
        c->dbytes = (cap + 1) * es;
    } else {
        cap = c->dbytes / es - 1; /* a reused buffer: use all of it */
    }
    if (c->valid) {
        size_t ow = (c->cap + 63) / 64, nw = (cap + 63) / 64;
        uint64_t *v = cbag__realloc(c->valid, nw * 8);
        if (!v) return -1;
        memset(v + ow, 0, (nw - ow) * 8);
        c->valid = v;
    }
    c->cap = cap;
    return 0;
}

/* Makes the bitmap explicit: rows [0, n) valid when prior is set. */
static int colb_valid_init(colb *c, int prior) {
    size_t words = (c->cap + 63) / 64;
    c->valid = cbag__calloc(words ? words : 1, 8);
    if (!c->valid) return -1;
    if (prior) {
        for (size_t w = 0; w < c->n / 64; w++)
            c->valid[w] = ~(uint64_t)0;
        if (c->n % 64) c->valid[c->n / 64] = ((uint64_t)1 << (c->n % 64)) - 1;
    }
    return 0;
}

/* Rows [n, upto) are missing. */
static int colb_pad(colb *c, size_t upto) {
    if (upto <= c->n) return 0;
    if (c->type == F_NONE) {
        c->n = upto;
        return 0;
    }
    if (colb_reserve(c, upto) || (!c->valid && colb_valid_init(c, 1)))
        return -1;
    if (c->type == F_STR) {
        uint64_t *off = c->data;
        for (size_t r = c->n; r < upto; r++)
            off[r + 1] = off[c->n];
    } else {
        size_t es = elem_size(c->type);
        memset((char *)c->data + c->n * es, 0, (upto - c->n) * es);
    }
    c->n = upto;
    return 0;
}

/* The first value arrives at row n after n missing ones. */
static int colb_start(colb *c, int type) {
    size_t n = c->n;
    c->type = type;
    c->cap = 0;
    if (colb_reserve(c, n + 1)) return -1;
    if (type == F_STR)
        memset(c->data, 0, (n + 1) * 8);
    else
        memset(c->data, 0, n * elem_size(type));
    if (n && colb_valid_init(c, 0)) return -1;
    return 0;
}

/* int64 to float64 in place (both 8 bytes). */
static void ints_to_floats(void *data, size_t n) {
    int64_t *i = data;
    double *d = data;
    for (size_t r = 0; r < n; r++)
        d[r] = (double)i[r];
}

static int type_error(fsink *f, const colb *c, const cbag_val *v,
                      const cbag_val *rec) {
    char *vs = cbag_format(v, CBAG_FMT_REPR, NULL);
    char *rs = cbag_format(rec, CBAG_FMT_REPR, NULL);
    int r = cbag__fail(
        f->s.w, OP, CBAG_TYPE,
        "TypeError: column '%s' has dtype %s, but row %zu "
        "holds %.80s%s (%s): %.200s%s",
        c->name, c->type == F_STR ? "str" : cbag__ftype_name(c->type), f->nrows,
        vs ? vs : "?", vs && strlen(vs) > 80 ? "..." : "",
        cbag_type_name(cbag_typeof(v)), rs ? rs : "?",
        rs && strlen(rs) > 200 ? "..." : "");
    free(vs);
    free(rs);
    return r;
}

static int oom(fsink *f) {
    return cbag__fail(f->s.w, OP, CBAG_NOMEM, "out of memory");
}

/* Sets the cell of column c at the current row to v: the general case
 * (missing rows before it, a first value, a promotion, an error). */
static int colb_put_slow(fsink *f, colb *c, const cbag_val *v,
                         const cbag_val *rec) {
    size_t r = f->nrows;
    if (colb_pad(c, r)) return oom(f);
    int vt = kind_of(v);
    if (vt == F_NONE && c->type != F_OBJ) return 0; /* padded later */
    if (c->type == F_NONE) {
        if (colb_start(c, vt)) return oom(f);
    } else if (c->type != vt && c->type != F_OBJ &&
               !(c->type == F_FLOAT && vt == F_INT)) {
        if (c->type == F_INT && vt == F_FLOAT && !c->fixed) {
            ints_to_floats(c->data, c->n);
            c->type = F_FLOAT;
        } else {
            return type_error(f, c, v, rec);
        }
    }
    if (colb_reserve(c, r + 1)) return oom(f);
    switch (c->type) {
    case F_INT: ((int64_t *)c->data)[r] = v->u.i; break;
    case F_FLOAT:
        ((double *)c->data)[r] = vt == F_INT ? (double)v->u.i : v->u.f;
        break;
    case F_BOOL: ((uint8_t *)c->data)[r] = (uint8_t)v->u.i; break;
    case F_STR: {
        if (colb_bytes(c, v->u.s, v->len)) return oom(f);
        ((uint64_t *)c->data)[r + 1] = c->blen;
        break;
    }
    case F_OBJ:
        if (cbag__copy_into(&f->keep, &((cbag_val *)c->data)[r], v))
            return oom(f);
        break;
    }
    if (c->valid) c->valid[r >> 6] |= (uint64_t)1 << (r & 63);
    c->n = r + 1;
    return 0;
}

/* The common case inline: the next row, a value of the column's type. */
static inline int colb_put(fsink *f, colb *c, const cbag_val *v,
                           const cbag_val *rec) {
    size_t r = f->nrows;
    if (c->n != r || r >= c->cap) return colb_put_slow(f, c, v, rec);
    switch (v->type) {
    case CBAG_INT:
        if (c->type != F_INT) break;
        ((int64_t *)c->data)[r] = v->u.i;
        goto stored;
    case CBAG_FLOAT:
        if (c->type != F_FLOAT) break;
        ((double *)c->data)[r] = v->u.f;
        goto stored;
    case CBAG_STR:
        if (c->type != F_STR || c->bcap - c->blen < v->len) break;
        memcpy(c->bytes + c->blen, v->u.s, v->len);
        c->blen += v->len;
        ((uint64_t *)c->data)[r + 1] = c->blen;
        goto stored;
    default: break;
    }
    return colb_put_slow(f, c, v, rec);
stored:
    if (c->valid) c->valid[r >> 6] |= (uint64_t)1 << (r & 63);
    c->n = r + 1;
    return 0;
}

static long add_col(fsink *f, const char *name, size_t len, int type,
                    int fixed) {
    if (f->ncols == f->capcols) {
        size_t cap = f->capcols ? f->capcols * 2 : 8;
        colb *c = cbag__realloc(f->cols, cap * sizeof *c);
        if (!c) return -1;
        f->cols = c;
        f->capcols = cap;
    }
    char *nm = cbag__arena_alloc(&f->keep, len + 1);
    if (!nm) return -1;
    memcpy(nm, name, len);
    nm[len] = '\0';
    colb *c = &f->cols[f->ncols];
    memset(c, 0, sizeof *c);
    c->name = nm;
    c->namelen = len;
    c->hash = cbag__hash_str(name, len);
    c->fixed = fixed;
    spares *sp = &f->a->spare[f->s.w->index];
    if (f->ncols < sp->n) { /* take the buffers of the last partition */
        spare *k = &sp->s[f->ncols];
        c->data = k->data, c->dbytes = k->dbytes;
        c->bytes = k->bytes, c->bcap = k->bcap;
        memset(k, 0, sizeof *k);
    }
    c->n = 0;
    if (type != F_NONE) {
        c->type = type;
        if (colb_reserve(c, 1)) return -1;
        if (type == F_STR) ((uint64_t *)c->data)[0] = 0;
    }
    return (long)f->ncols++;
}

static long find_col(const fsink *f, const char *name, size_t len) {
    uint64_t h = cbag__hash_str(name, len);
    for (size_t i = 0; i < f->ncols; i++)
        if (f->cols[i].hash == h && f->cols[i].namelen == len &&
            memcmp(f->cols[i].name, name, len) == 0)
            return (long)i;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* The sink                                                                 */

static inline int name_is(const colb *c, const cbag_val *k) {
    return c->namelen == k->len && cbag__mem_eq(c->name, k->u.s, k->len);
}

static int push_dict(fsink *f, const cbag_val *x) {
    const cbag__dict *d = x->u.dict;
    for (uint32_t j = 0; j < d->len; j++) {
        const cbag_val *k = &d->entries[j].key;
        if (k->type != CBAG_STR) {
            char *ks = cbag_format(k, CBAG_FMT_REPR, NULL);
            int r = cbag__fail(f->s.w, OP, CBAG_TYPE,
                               "TypeError: column names must be strings, "
                               "row %zu has the key %s",
                               f->nrows, ks ? ks : "?");
            free(ks);
            return r;
        }
        long c;
        /* Records usually repeat their key order: try the same position. */
        if (j < f->ncols && name_is(&f->cols[j], k))
            c = j;
        else if ((c = find_col(f, k->u.s, k->len)) < 0) {
            if (f->a->nmeta) continue; /* not asked for */
            if ((c = add_col(f, k->u.s, k->len, F_NONE, 0)) < 0) return oom(f);
        }
        if (colb_put(f, &f->cols[c], &d->entries[j].val, x)) return -1;
    }
    return 0;
}

static int push_seq(fsink *f, const cbag_val *x) {
    const cbag__seq *q = x->u.seq;
    for (uint32_t j = 0; j < q->len; j++) {
        if (j >= f->ncols) {
            if (f->a->nmeta)
                return cbag__fail(f->s.w, OP, CBAG_INVALID,
                                  "ValueError: row %zu has %u values but "
                                  "meta names %zu columns",
                                  f->nrows, q->len, f->a->nmeta);
            char nm[24];
            int len = snprintf(nm, sizeof nm, "%u", j);
            if (add_col(f, nm, (size_t)len, F_NONE, 0) < 0) return oom(f);
        }
        if (colb_put(f, &f->cols[j], &q->items[j], x)) return -1;
    }
    return 0;
}

static int fs_push(cbag__sink *s, const cbag_val *x) {
    fsink *f = (fsink *)s;
    int mode = x->type == CBAG_DICT ? 1 : cbag__is_seq(x) ? 2 : 0;
    if (!mode)
        return cbag__fail(s->w, OP, CBAG_TYPE,
                          "TypeError: to_dataframe needs dicts or tuples, "
                          "row %zu is %s",
                          f->nrows, cbag_type_name(cbag_typeof(x)));
    if (f->mode && mode != f->mode)
        return cbag__fail(s->w, OP, CBAG_TYPE,
                          "TypeError: row %zu is a %s but the rows before "
                          "it are %s",
                          f->nrows, cbag_type_name(cbag_typeof(x)),
                          f->mode == 1 ? "dicts" : "tuples or lists");
    f->mode = mode;
    if (mode == 1 ? push_dict(f, x) : push_seq(f, x)) return -1;
    f->nrows++;
    return 0;
}

/* Every value is copied as it arrives: nothing refers to the batch. */
static void fs_flush(cbag__sink *s) { (void)s; }

/* Copies column c, at its exact size, into the graph arena. */
static int finish_col(build_arg *a, colb *c, size_t n, cbag__fcol *out) {
    memset(out, 0, sizeof *out);
    if (c->type == F_NONE) return 0;
    size_t es = elem_size(c->type);
    if (c->type == F_STR) {
        out->data = cbag__fmem_dup(&a->mem, c->data, (n + 1) * 8);
        out->bytes = cbag__fmem_dup(&a->mem, c->bytes, c->blen);
        if (!out->bytes) return -1;
    } else if (c->type == F_OBJ) {
        /* Deep copies into the graph arena, which the lock protects. */
        pthread_mutex_lock(&a->mem.mu);
        cbag_val *v = cbag__arena_alloc(&a->mem.cx->graph, n * es + 8);
        const cbag_val *src = c->data;
        for (size_t r = 0; v && r < n; r++)
            if (cbag__copy_into(&a->mem.cx->graph, &v[r], &src[r])) v = NULL;
        pthread_mutex_unlock(&a->mem.mu);
        out->data = v;
    } else {
        out->data = cbag__fmem_dup(&a->mem, c->data, n * es);
    }
    if (!out->data) return -1;
    if (c->valid) {
        out->valid = cbag__fmem_dup(&a->mem, c->valid, (n + 63) / 64 * 8);
        if (!out->valid) return -1;
    }
    return 0;
}

static int finish_part(fsink *f, part_out *o) {
    build_arg *a = f->a;
    size_t n = f->nrows, nc = f->ncols;
    o->nrows = n;
    o->ncols = nc;
    o->mode = f->mode;
    o->names = cbag__fmem_alloc(&a->mem, (nc + 1) * sizeof *o->names);
    o->types = cbag__fmem_alloc(&a->mem, nc + 1);
    o->cols = cbag__fmem_alloc(&a->mem, (nc + 1) * sizeof *o->cols);
    if (!o->names || !o->types || !o->cols) return -1;
    for (size_t i = 0; i < nc; i++) {
        colb *c = &f->cols[i];
        if (colb_pad(c, n)) return -1;
        o->names[i] = cbag__fmem_dup(&a->mem, c->name, c->namelen + 1);
        o->types[i] = (uint8_t)c->type;
        if (!o->names[i] || finish_col(a, c, n, &o->cols[i])) return -1;
    }
    return 0;
}

static int build_task(cbag__worker *w, size_t part, void *arg) {
    build_arg *a = arg;
    fsink f;
    memset(&f, 0, sizeof f);
    f.s = (cbag__sink){fs_push, fs_flush, NULL, a->b, w};
    f.a = a;
    cbag__arena_init(&f.keep, 16 * 1024);
    int r = 0;
    for (size_t i = 0; i < a->nmeta && !r; i++)
        if (add_col(&f, a->mnames[i], strlen(a->mnames[i]), a->mtypes[i],
                    a->mtypes[i] != F_NONE) < 0)
            r = oom(&f);
    if (!r) r = cbag__run_part(w, a->b, part, &f.s);
    if (r == 1) r = 0;
    if (!r && finish_part(&f, &a->out[part])) r = oom(&f);
    /* Keep the buffers for the worker's next partition. */
    spares *sp = &a->spare[w->index];
    if (sp->n < f.ncols) {
        spare *s = cbag__realloc(sp->s, f.ncols * sizeof *s);
        if (s) {
            memset(s + sp->n, 0, (f.ncols - sp->n) * sizeof *s);
            sp->s = s;
            sp->n = f.ncols;
        }
    }
    for (size_t i = 0; i < f.ncols; i++) {
        colb *c = &f.cols[i];
        if (i < sp->n && !sp->s[i].data && !sp->s[i].bytes) {
            sp->s[i] = (spare){c->data, c->dbytes, c->bytes, c->bcap};
            c->data = NULL;
            c->bytes = NULL;
        }
        colb_free(c);
    }
    cbag__free(f.cols);
    cbag__arena_free(&f.keep);
    return r;
}

/* ------------------------------------------------------------------------ */
/* The merge                                                                */

static int parse_dtype(const char *s) {
    if (!s) return F_NONE;
    if (!strcmp(s, "int64") || !strcmp(s, "int")) return F_INT;
    if (!strcmp(s, "float64") || !strcmp(s, "float")) return F_FLOAT;
    if (!strcmp(s, "bool")) return F_BOOL;
    if (!strcmp(s, "string") || !strcmp(s, "str")) return F_STR;
    if (!strcmp(s, "object")) return F_OBJ;
    return -1;
}

static int read_meta(cbag_ctx *cx, const cbag_frame_meta *m, build_arg *a) {
    if (!m || !m->ncolumns) return 0;
    if (!m->columns) {
        cbag__error(cx, CBAG_INVALID, OP ": meta has %zu columns but no names",
                    m->ncolumns);
        return -1;
    }
    a->nmeta = m->ncolumns;
    a->mnames = cbag__galloc(cx, m->ncolumns * sizeof *a->mnames);
    a->mtypes = cbag__galloc(cx, m->ncolumns);
    if (!a->mnames || !a->mtypes) return -1;
    for (size_t i = 0; i < m->ncolumns; i++) {
        const char *nm = m->columns[i];
        if (!nm) {
            cbag__error(cx, CBAG_INVALID, OP ": meta column %zu has no name",
                        i);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a->mnames[j], nm)) {
                cbag__error(cx, CBAG_INVALID,
                            OP ": meta names column '%s' twice", nm);
                return -1;
            }
        int t = parse_dtype(m->dtypes ? m->dtypes[i] : NULL);
        if (t < 0) {
            cbag__error(cx, CBAG_INVALID,
                        OP ": unknown dtype '%s' for column '%s' (use int64, "
                           "float64, bool, string or object)",
                        m->dtypes[i], nm);
            return -1;
        }
        if (!(a->mnames[i] = cbag__gstrf(cx, "%s", nm))) return -1;
        a->mtypes[i] = (uint8_t)t;
    }
    return 0;
}

static long out_find(const part_out *o, const char *name) {
    for (size_t i = 0; i < o->ncols; i++)
        if (!strcmp(o->names[i], name)) return (long)i;
    return -1;
}

/* The first value of a column that does not fit its type. */
static void merge_error(cbag_ctx *cx, const char *name, int t, size_t from,
                        const part_out *o, size_t part, long i) {
    size_t r = 0;
    while (r < o->nrows && !cbag__fvalid(&o->cols[i], r))
        r++;
    cbag_val v;
    cbag__fcell(&o->cols[i], o->types[i], r, &v);
    char *vs = cbag_format(&v, CBAG_FMT_REPR, NULL);
    cbag__error(cx, CBAG_TYPE,
                OP ": TypeError: column '%s' has dtype %s (from partition "
                   "%zu), but row %zu of partition %zu holds %.80s (%s)",
                name, t == F_STR ? "str" : cbag__ftype_name(t), from, r, part,
                vs ? vs : "?", cbag_type_name(v.type));
    free(vs);
}

/* The type of union column `name`: meta's, else that of the first
 * partition holding a value; int64 meeting float64 anywhere is float64. */
static int merge_type(cbag_ctx *cx, build_arg *a, size_t np, const char *name,
                      int fixed, int *type) {
    int t = fixed;
    size_t from = 0;
    for (size_t p = 0; p < np && t == F_NONE; p++) {
        long i = out_find(&a->out[p], name);
        if (i >= 0 && a->out[p].types[i] != F_NONE) {
            t = a->out[p].types[i];
            from = p;
        }
    }
    if (t == F_NONE) t = F_OBJ; /* never a value: pandas' object column */
    for (size_t p = 0; p < np; p++) {
        const part_out *o = &a->out[p];
        long i = out_find(o, name);
        int pt = i < 0 ? F_NONE : o->types[i];
        if (pt == F_NONE || pt == t || t == F_OBJ) continue;
        if (t == F_INT && pt == F_FLOAT && !fixed) {
            t = F_FLOAT;
            continue;
        }
        if (t == F_FLOAT && pt == F_INT) continue;
        merge_error(cx, name, t, from, o, p, i);
        return -1;
    }
    *type = t;
    return 0;
}

/* Column `name` of partition o as type t, in *out. */
static int merge_col(cbag_ctx *cx, const part_out *o, long i, int t,
                     cbag__fcol *out) {
    size_t n = o->nrows;
    int pt = i < 0 ? F_NONE : o->types[i];
    if (pt == t) {
        *out = o->cols[i];
        return 0;
    }
    if (pt == F_INT && t == F_FLOAT) {
        *out = o->cols[i];
        ints_to_floats(out->data, n);
        return 0;
    }
    memset(out, 0, sizeof *out);
    if (pt == F_NONE) { /* all missing */
        size_t es = elem_size(t);
        out->data = cbag__galloc(cx, (n + 1) * es);
        uint64_t *v = cbag__galloc(cx, (n + 63) / 64 * 8 + 8);
        out->valid = v;
        if (t == F_STR) out->bytes = "";
        return out->data && v ? 0 : -1;
    }
    /* Scalars into an object column: values (strings refer to bytes). */
    cbag_val *v = cbag__galloc(cx, (n + 1) * sizeof *v);
    if (!v) return -1;
    for (size_t r = 0; r < n; r++)
        cbag__fcell(&o->cols[i], pt, r, &v[r]);
    out->data = v;
    out->valid = o->cols[i].valid;
    return 0;
}

static cbag_frame *merge(cbag_ctx *cx, build_arg *a, size_t np) {
    /* The columns: meta's, or every partition's in first-seen order. */
    size_t cap = a->nmeta, nc = a->nmeta;
    int mode = 0;
    for (size_t p = 0; p < np; p++) {
        if (a->out[p].mode && mode && a->out[p].mode != mode) {
            cbag__error(cx, CBAG_TYPE,
                        OP ": TypeError: partition %zu holds %s but an "
                           "earlier one holds %s",
                        p, a->out[p].mode == 1 ? "dicts" : "tuples",
                        mode == 1 ? "dicts" : "tuples");
            return NULL;
        }
        if (a->out[p].mode) mode = a->out[p].mode;
        if (!a->nmeta) cap += a->out[p].ncols;
    }
    const char **names = cbag__galloc(cx, (cap + 1) * sizeof *names);
    if (!names) return NULL;
    for (size_t i = 0; i < a->nmeta; i++)
        names[i] = a->mnames[i];
    for (size_t p = 0; p < np && !a->nmeta; p++)
        for (size_t i = 0; i < a->out[p].ncols; i++) {
            size_t j = 0;
            while (j < nc && strcmp(names[j], a->out[p].names[i]))
                j++;
            if (j == nc) names[nc++] = a->out[p].names[i];
        }
    cbag_frame *f = cbag__frame_new(cx, nc, np);
    if (!f) return NULL;
    for (size_t c = 0; c < nc; c++) {
        int t;
        f->names[c] = names[c];
        if (merge_type(cx, a, np, names[c], a->nmeta ? a->mtypes[c] : F_NONE,
                       &t))
            return NULL;
        f->types[c] = (uint8_t)t;
    }
    for (size_t p = 0; p < np; p++) {
        f->parts[p].n = a->out[p].nrows;
        for (size_t c = 0; c < nc; c++)
            if (merge_col(cx, &a->out[p], out_find(&a->out[p], names[c]),
                          f->types[c], &f->parts[p].cols[c])) {
                cbag__error(cx, CBAG_NOMEM, OP ": out of memory");
                return NULL;
            }
    }
    return f;
}

cbag_frame *cbag_to_dataframe(cbag *b, const cbag_frame_meta *meta) {
    if (!b) return NULL;
    cbag_ctx *cx = b->cx;
    size_t np = b->nparts;
    build_arg a;
    memset(&a, 0, sizeof a);
    a.b = b;
    if (read_meta(cx, meta, &a)) return NULL;
    a.out = cbag__galloc(cx, (np ? np : 1) * sizeof *a.out);
    if (!a.out) return NULL;
    if (cbag__ensure_workers(cx)) return NULL;
    a.spare = cbag__calloc((size_t)cx->nw, sizeof *a.spare);
    if (!a.spare) {
        cbag__error(cx, CBAG_NOMEM, OP ": out of memory");
        return NULL;
    }
    cbag__fmem_init(&a.mem, cx);
    int rc = cbag__prepare(cx, b);
    if (!rc) {
        cbag__arena *held = NULL;
        if (cx->mpi) { /* with mpi the frame is built on every rank */
            a.b = cbag__materialize(b, &held);
            if (!a.b) rc = cx->code;
        }
        if (!rc) rc = cbag__run_stage(cx, a.b, 0, np, build_task, &a, NULL);
        cbag__release(b);
        cbag__materialized_free(held, np);
    }
    cbag__fmem_done(&a.mem);
    for (int i = 0; i < cx->nw; i++) {
        for (size_t j = 0; j < a.spare[i].n; j++) {
            cbag__free(a.spare[i].s[j].data);
            cbag__free(a.spare[i].s[j].bytes);
        }
        cbag__free(a.spare[i].s);
    }
    cbag__free(a.spare);
    if (rc) return NULL;
    return merge(cx, &a, np);
}
