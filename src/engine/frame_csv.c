/* frame_csv.c: to_csv, writing the text pandas' DataFrame.to_csv writes:
 * a header line (the index's name or "" first), one line per row, floats
 * as Python's repr, missing cells empty, bools True/False, objects as
 * Python's str(), fields holding the separator, a quote or a line break
 * quoted with quotes doubled (csv.QUOTE_MINIMAL), lines ending in "\n".
 * Files are written through cbag__out (temporary name, renamed when
 * complete); one per partition in parallel, or one for all in order. */
#include <string.h>

#include "dist.h"
#include "frame.h"
#include "io/io.h"
#include "mem.h"
#include "repr.h"

#define FLUSH_BYTES (1u << 20)

typedef struct csv_arg {
    cbag_frame *f;
    const char *path;
    char sep;
    int index, header;
} csv_arg;

static void put_field(cbag__buf *b, const char *s, size_t n, char sep) {
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == sep || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        cbag__buf_put(b, s, n);
        return;
    }
    cbag__buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') cbag__buf_putc(b, '"');
        cbag__buf_putc(b, s[i]);
    }
    cbag__buf_putc(b, '"');
}

/* Python's str(v) as a CSV field; None and NaN are empty. */
static void put_value(cbag__buf *b, const cbag_val *v, char sep) {
    char num[40];
    switch (v->type) {
    case CBAG_NULL: return;
    case CBAG_STR: put_field(b, v->u.s, v->len, sep); return;
    case CBAG_INT: cbag__buf_printf(b, "%lld", (long long)v->u.i); return;
    case CBAG_FLOAT:
        if (v->u.f != v->u.f) return; /* NaN */
        cbag__buf_put(b, num, (size_t)cbag__fmt_double(num, v->u.f));
        return;
    case CBAG_BOOL: cbag__buf_puts(b, v->u.i ? "True" : "False"); return;
    default: {
        cbag__buf r = CBAG__BUF_INIT;
        if (cbag__repr(&r, v)) b->oom = 1;
        put_field(b, r.p ? r.p : "", r.len, sep);
        if (r.oom) b->oom = 1;
        cbag__buf_free(&r);
    }
    }
}

static void put_header(cbag__buf *b, const csv_arg *a) {
    const cbag_frame *f = a->f;
    int first = 1;
    if (a->index) {
        const char *n = f->index_name ? f->index_name : "";
        put_field(b, n, strlen(n), a->sep);
        first = 0;
    }
    for (size_t j = 0; j < f->ncols; j++, first = 0) {
        if (!first) cbag__buf_putc(b, a->sep);
        put_field(b, f->names[j], strlen(f->names[j]), a->sep);
    }
    cbag__buf_putc(b, '\n');
}

/* Writes the rows of partition part to o, through b. */
static int write_part(const csv_arg *a, size_t part, cbag__out *o,
                      cbag__buf *b) {
    const cbag_frame *f = a->f;
    const cbag__fpart *p = &f->parts[part];
    for (size_t r = 0; r < p->n; r++) {
        cbag_val v;
        int first = 1;
        if (a->index) {
            cbag__findex(f, p, r, &v);
            put_value(b, &v, a->sep);
            first = 0;
        }
        for (size_t j = 0; j < f->ncols; j++, first = 0) {
            if (!first) cbag__buf_putc(b, a->sep);
            cbag__fcell(&p->cols[j], f->types[j], r, &v);
            put_value(b, &v, a->sep);
        }
        cbag__buf_putc(b, '\n');
        if (b->oom) return CBAG_NOMEM;
        if (b->len >= FLUSH_BYTES || r + 1 == p->n) {
            if (cbag__out_write(o, b->p, b->len)) return CBAG_IO;
            b->len = 0;
        }
    }
    return CBAG_OK;
}

/* One file per partition. */
static int csv_task(cbag__worker *w, size_t part, void *arg) {
    csv_arg *a = arg;
    char *path = cbag__textfile_name(a->path, part, a->f->nparts);
    if (!path) return cbag__fail(w, "to_csv", CBAG_NOMEM, "out of memory");
    char err[1024];
    cbag__out *o = cbag__out_open(path, CBAG__CODEC_INFER, err, sizeof err);
    cbag__free(path);
    if (!o) return cbag__fail(w, "to_csv", CBAG_IO, "%s", err);
    cbag__buf b = CBAG__BUF_INIT;
    if (a->header) put_header(&b, a);
    int rc = write_part(a, part, o, &b);
    if (!rc && b.len && cbag__out_write(o, b.p, b.len)) rc = CBAG_IO;
    if (!rc && b.oom) rc = CBAG_NOMEM;
    cbag__buf_free(&b);
    if (rc) {
        int r = rc == CBAG_NOMEM
                    ? cbag__fail(w, "to_csv", rc, "out of memory")
                    : cbag__fail(w, "to_csv", rc, "%s", cbag__out_error(o));
        cbag__out_abort(o);
        return r;
    }
    if (cbag__out_commit_err(o, err, sizeof err))
        return cbag__fail(w, "to_csv", CBAG_IO, "%s", err);
    return 0;
}

/* Every partition into one file, in order, on the calling thread. */
static int csv_single(csv_arg *a) {
    cbag_ctx *cx = a->f->cx;
    char err[1024];
    cbag__out *o = cbag__out_open(a->path, CBAG__CODEC_INFER, err, sizeof err);
    if (!o) {
        cbag__error(cx, CBAG_IO, "to_csv: %s", err);
        return CBAG_IO;
    }
    cbag__buf b = CBAG__BUF_INIT;
    if (a->header) put_header(&b, a);
    int rc = CBAG_OK;
    for (size_t p = 0; p < a->f->nparts && !rc; p++)
        rc = write_part(a, p, o, &b);
    if (!rc && b.len && cbag__out_write(o, b.p, b.len)) rc = CBAG_IO;
    if (!rc && b.oom) rc = CBAG_NOMEM;
    cbag__buf_free(&b);
    if (rc) {
        if (rc == CBAG_NOMEM)
            cbag__error(cx, rc, "to_csv: out of memory");
        else
            cbag__error(cx, rc, "to_csv: %s", cbag__out_error(o));
        cbag__out_abort(o);
        return rc;
    }
    if (cbag__out_commit_err(o, err, sizeof err)) {
        cbag__error(cx, CBAG_IO, "to_csv: %s", err);
        return CBAG_IO;
    }
    return CBAG_OK;
}

int cbag_frame_to_csv(cbag_frame *f, const char *path,
                      const cbag_frame_csv_options *opt) {
    if (!f) return CBAG_INVALID;
    cbag_ctx *cx = f->cx;
    if (!path) {
        cbag__error(cx, CBAG_INVALID, "to_csv: the path is NULL");
        return CBAG_INVALID;
    }
    csv_arg a = {f, path, opt && opt->sep ? opt->sep : ',',
                 !(opt && opt->no_index), !(opt && opt->no_header)};
    if (opt && opt->single_file) {           /* with mpi: written by rank 0 */
        if (!cx->mpi) cbag__out_sweep(path); /* what a killed run left */
        int rc = cbag__dist_root(cx) ? csv_single(&a) : CBAG_OK;
        return cx->mpi ? cbag__dist_agree_cx(cx, rc) : rc;
    }
    char err[256];
    if (cbag__textfile_pattern_check(path, err, sizeof err)) {
        cbag__error(cx, CBAG_INVALID, "to_csv: %s", err);
        return CBAG_INVALID;
    }
    /* A killed run's leftovers; not under mpi, where another host's
     * writers would look dead to this one. */
    if (!cx->mpi) {
        char *first = cbag__textfile_name(path, 0, f->nparts);
        if (first) cbag__out_sweep(first);
        cbag__free(first);
    }
    /* with mpi, the frame is on every rank: each writes its share */
    cbag__xchg x = {CBAG__X_SPLIT, NULL, NULL, NULL};
    return cbag__run_stage(cx, NULL, 0, f->nparts, csv_task, &a, &x);
}
