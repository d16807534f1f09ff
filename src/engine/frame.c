/* frame.c: frames (see frame.h): the frame object, its accessors and the
 * pieces the other frame modules share. Building is in frame_build.c,
 * select/head/filter/to_bag in frame_ops.c, group-by in frame_agg.c,
 * printing and CSV in frame_print.c. */
#include <string.h>

#include "frame.h"
#include "mem.h"

cbag_frame *cbag__frame_new(cbag_ctx *cx, size_t ncols, size_t nparts) {
    cbag_frame *f = cbag__galloc(cx, sizeof *f);
    if (!f) return NULL;
    f->cx = cx;
    f->ncols = ncols;
    f->nparts = nparts;
    f->index_type = F_INT;
    f->names = cbag__galloc(cx, (ncols ? ncols : 1) * sizeof *f->names);
    f->types = cbag__galloc(cx, ncols ? ncols : 1);
    f->parts = cbag__galloc(cx, (nparts ? nparts : 1) * sizeof *f->parts);
    if (!f->names || !f->types || !f->parts) return NULL;
    for (size_t p = 0; p < nparts; p++) {
        f->parts[p].cols =
            cbag__galloc(cx, (ncols ? ncols : 1) * sizeof(cbag__fcol));
        if (!f->parts[p].cols) return NULL;
    }
    return f;
}

long cbag__frame_find(const cbag_frame *f, const char *name) {
    for (size_t i = 0; i < f->ncols; i++)
        if (strcmp(f->names[i], name) == 0) return (long)i;
    return -1;
}

const char *cbag__ftype_name(int t) {
    switch (t) {
    case F_INT: return "int64";
    case F_FLOAT: return "float64";
    case F_BOOL: return "bool";
    default: return "object";
    }
}

void cbag__fcell(const cbag__fcol *c, int t, size_t r, cbag_val *out) {
    memset(out, 0, sizeof *out);
    if (!cbag__fvalid(c, r)) return; /* None */
    switch (t) {
    case F_INT: cbag__set_int(out, ((const int64_t *)c->data)[r]); break;
    case F_FLOAT: cbag__set_float(out, ((const double *)c->data)[r]); break;
    case F_BOOL: cbag__set_bool(out, ((const uint8_t *)c->data)[r]); break;
    case F_STR: {
        size_t len;
        const char *s = cbag__fstr(c, r, &len);
        cbag__set_str_ref(out, s, (uint32_t)len);
        break;
    }
    case F_OBJ: *out = ((const cbag_val *)c->data)[r]; break;
    default: break;
    }
}

void cbag__findex(const cbag_frame *f, const cbag__fpart *p, size_t r,
                  cbag_val *out) {
    if (!p->index.data) {
        cbag__set_int(out, (int64_t)r);
        return;
    }
    cbag__fcell(&p->index, f->index_type, r, out);
}

void cbag__fmem_init(cbag__fmem *m, cbag_ctx *cx) {
    m->cx = cx;
    pthread_mutex_init(&m->mu, NULL);
}

void cbag__fmem_done(cbag__fmem *m) { pthread_mutex_destroy(&m->mu); }

void *cbag__fmem_alloc(cbag__fmem *m, size_t n) {
    pthread_mutex_lock(&m->mu);
    void *p = cbag__arena_alloc(&m->cx->graph, n ? n : 8);
    pthread_mutex_unlock(&m->mu);
    return p;
}

void *cbag__fmem_dup(cbag__fmem *m, const void *p, size_t n) {
    void *q = cbag__fmem_alloc(m, n);
    if (q && n) memcpy(q, p, n);
    return q;
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                */

size_t cbag_frame_ncolumns(const cbag_frame *f) { return f ? f->ncols : 0; }

const char *cbag_frame_column(const cbag_frame *f, size_t i) {
    return f && i < f->ncols ? f->names[i] : NULL;
}

const char *cbag_frame_dtype(const cbag_frame *f, size_t i) {
    return f && i < f->ncols ? cbag__ftype_name(f->types[i]) : NULL;
}

uint64_t cbag_frame_len(const cbag_frame *f) {
    uint64_t n = 0;
    if (f)
        for (size_t p = 0; p < f->nparts; p++)
            n += f->parts[p].n;
    return n;
}

size_t cbag_frame_npartitions(const cbag_frame *f) { return f ? f->nparts : 0; }
