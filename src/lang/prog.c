/* prog.c: a program as the command line runs it: sources compiled and run
 * one after another against the same globals, errors shown with the source
 * line and a caret, the last value printed. */
#include <stdlib.h>
#include <string.h>

#include "lang.h"

cbag__prog *cbag__prog_new(cbag_ctx *cx, const cbag__progopt *o) {
    cbag__prog *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->cx = cx;
    p->errors_skip = o && o->errors_skip;
    p->projection = !(o && o->no_projection);
    p->mst = calloc(1, sizeof *p->mst);
    if (!p->mst) {
        free(p);
        return NULL;
    }
    cbag__st_init(p->mst, p, cbag_main(cx), true);
    return p;
}

void cbag__prog_free(cbag__prog *p) {
    if (!p) return;
    for (size_t i = 0; i < p->nres; i++)
        cbag_result_free(p->res[i]);
    free(p->res);
    cbag__st_done(p->mst);
    free(p->mst);
    free(p->gname);
    free(p->gval);
    cbag__pfree(&p->mem);
    free(p);
}

/* Line `line` of text (1-based) as a pointer and length. */
static const char *line_of(const char *text, int line, size_t *len) {
    const char *s = text;
    for (int i = 1; i < line && s; i++) {
        s = strchr(s, '\n');
        if (s) s++;
    }
    if (!s) return NULL;
    const char *e = strchr(s, '\n');
    *len = e ? (size_t)(e - s) : strlen(s);
    return s;
}

static void caret(const cbag__src *src, int line, int col, FILE *err) {
    if (!src || line <= 0) return;
    size_t len;
    const char *s = line_of(src->text, line, &len);
    if (!s) return;
    fprintf(err, "  %s, line %d, column %d:\n    %.*s\n    ", src->name, line,
            col, (int)len, s);
    for (int i = 1; i < col && (size_t)i <= len; i++)
        fputc(s[i - 1] == '\t' ? '\t' : ' ', err);
    fputs("^\n", err);
}

void cbag__report(cbag__prog *p, const cbag__st *st, FILE *err) {
    int line = st->line, col = st->col;
    /* an error from a callback carries its position in the program */
    const char *m = st->msg, *pos = NULL;
    for (const char *k = strstr(m, " [program line "); k;
         k = strstr(k + 1, " [program line "))
        pos = k;
    int l2, c2;
    if (pos && sscanf(pos, " [program line %d, col %d]", &l2, &c2) == 2) {
        line = l2;
        col = c2;
    }
    fprintf(err, "cbag: %s\n", m);
    caret(p->src, line, col, err);
}

int cbag__prog_run(cbag__prog *p, const cbag__src *src, cbag__lv *last,
                   FILE *err) {
    last->k = LV_UNSET;
    p->src = src;
    cbag__syntax e;
    cbag__node *block = cbag__compile(p, src->text, &e);
    if (!block) {
        if (e.incomplete) {
            e.msg[0] = e.msg[0]; /* the caller may read more lines */
            fprintf(err, "cbag: SyntaxError: %s\n", e.msg);
            caret(src, e.line, e.col, err);
            return RUN_INCOMPLETE;
        }
        fprintf(err, "cbag: SyntaxError: %s\n", e.msg);
        caret(src, e.line, e.col, err);
        return RUN_SYNTAX;
    }
    cbag__st *st = p->mst;
    st->err = E_NONE;
    st->msg[0] = '\0';
    st->line = st->col = 0;
    st->fr = NULL;
    st->depth = 0;
    p->last = block->n ? block->kids[block->n - 1] : NULL;
    while (p->last && p->last->kind == S_BLOCK && p->last->n)
        p->last = p->last->kids[p->last->n - 1];
    if (cbag__run(st, block, last)) {
        cbag__report(p, st, err);
        return RUN_ERROR;
    }
    return RUN_OK;
}

/* Syntax check only, for the prompt: is more input needed? */

typedef struct jsonl {
    FILE *out;
    int rc;
} jsonl;

static int jsonl_one(const cbag_val *x, void *ud) {
    jsonl *j = ud;
    if (cbag_fprint(j->out, x, CBAG_FMT_JSON) || fputc('\n', j->out) == EOF) {
        j->rc = -1;
        return -1;
    }
    return 0;
}

static int print_val(const cbag_val *v, int fmt, FILE *out, size_t truncate) {
    if (fmt == CBAG__FMT_JSONL) {
        cbag_type t = cbag_typeof(v);
        if (t == CBAG_LIST || t == CBAG_TUPLE) {
            for (size_t i = 0; i < cbag_len(v); i++)
                if (cbag_fprint(out, cbag_at(v, (int64_t)i), CBAG_FMT_JSON) ||
                    fputc('\n', out) == EOF)
                    return -1;
            return 0;
        }
        fmt = CBAG_FMT_JSON;
    }
    if (truncate) {
        size_t len;
        char *s = cbag_format(v, fmt, &len);
        if (!s) return -1;
        if (len > truncate)
            fprintf(out, "%.*s... (%zu more characters)\n", (int)truncate, s,
                    len - truncate);
        else
            fprintf(out, "%s\n", s);
        free(s);
        return 0;
    }
    if (cbag_fprint(out, v, fmt)) return -1;
    return fputc('\n', out) == EOF ? -1 : 0;
}

int cbag__prog_show(cbag__prog *p, const cbag__lv *last, int fmt, FILE *out,
                    FILE *err, size_t truncate) {
    cbag__st *st = p->mst;
    st->err = E_NONE;
    st->msg[0] = '\0';
    st->line = st->col = 0;
    cbag__lv v = *last;
    if (v.k == LV_UNSET) return RUN_OK;
    if (v.k == LV_BAG && fmt == CBAG__FMT_JSONL) { /* streamed */
        p->last_lazy = v;
        if (cbag__project(st, p->last, &v, -1, NULL, &v)) {
            cbag__report(p, st, err);
            return RUN_ERROR;
        }
        p->last_lazy = v;
        jsonl j = {out, 0};
        int rc = cbag_foreach(v.b, jsonl_one, &j);
        p->skipped += cbag_skipped(p->cx);
        if (rc < 0 && j.rc == 0) {
            cbag__err(st, p->last, E_ENGINE, "%s", cbag_errmsg(p->cx));
            cbag_clear_error(p->cx);
            cbag__report(p, st, err);
            return RUN_ERROR;
        }
        if (j.rc) {
            fprintf(err, "cbag: error writing the output\n");
            return RUN_ERROR;
        }
        return RUN_OK;
    }
    if (v.k == LV_BAG || v.k == LV_ITEM) {
        if (cbag__compute(st, p->last, &v, &v)) {
            cbag__report(p, st, err);
            return RUN_ERROR;
        }
    }
    if (v.k == LV_VAL && cbag_is_null(LVV(v))) return RUN_OK; /* as Python */
    if (cbag__frame_kind(v.k)) { /* as pandas prints it, whatever fmt */
        if (cbag__frame_print(st, p->last, &v, out)) {
            cbag__report(p, st, err);
            return RUN_ERROR;
        }
        return RUN_OK;
    }
    if (v.k != LV_VAL) {
        if (cbag__str(st, p->last, &v, true, &v)) {
            cbag__report(p, st, err);
            return RUN_ERROR;
        }
        fmt = fmt == CBAG__FMT_JSONL ? CBAG_FMT_JSON : fmt;
        if (fmt == CBAG_FMT_REPR) { /* str of a function, module, ... */
            size_t l;
            const char *s = cbag_str(LVV(v), &l);
            fprintf(out, "%.*s\n", (int)l, s);
            return RUN_OK;
        }
    }
    if (print_val(LVV(v), fmt, out, truncate)) {
        fprintf(err, "cbag: error writing the output\n");
        return RUN_ERROR;
    }
    return RUN_OK;
}
