/* text.c: the engine's side of text files: the read_text source (with
 * json.loads fused into it) and the to_textfiles sink. The file formats,
 * globbing and block splitting live in src/io. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "io/io.h"
#include "io/remote.h"
#include "json.h"
#include "mem.h"

/* ------------------------------------------------------------------------ */
/* read_text                                                                */

static int parse_codec(const char *name) {
    static const struct {
        const char *name;
        int codec;
    } names[] = {{"infer", CBAG__CODEC_INFER}, {"none", CBAG__CODEC_NONE},
                 {"gzip", CBAG__CODEC_GZIP},   {"gz", CBAG__CODEC_GZIP},
                 {"bz2", CBAG__CODEC_BZ2},     {"xz", CBAG__CODEC_XZ},
                 {"zstd", CBAG__CODEC_ZSTD},   {"zst", CBAG__CODEC_ZSTD},
                 {"lz4", CBAG__CODEC_LZ4}};
    if (!name) return CBAG__CODEC_INFER;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) return names[i].codec;
    return -2;
}

/* The graph keeps a copy of the plan; the reader options sit beside it. */
typedef struct {
    cbag__text_opts o;
    cbag__text_part *parts;
} text_src;

static text_src *src_of(const cbag *b) { return (text_src *)b->text; }

cbag *cbag_read_textv(cbag_ctx *cx, size_t n, const char *const *patterns,
                      const cbag_text_options *opt) {
    if (!cx) return NULL;
    cbag_text_options dflt = {0};
    if (!opt) opt = &dflt;
    if (n == 0 || !patterns) {
        cbag__error(cx, CBAG_INVALID, "read_text: no path given");
        return NULL;
    }
    cbag__text_opts o = {0};
    o.blocksize = opt->blocksize;
    o.codec = parse_codec(opt->compression);
    o.files_per_partition = opt->files_per_partition;
    if (o.codec == -2) {
        cbag__error(cx, CBAG_INVALID,
                    "read_text: unknown compression '%s' (use infer, none, "
                    "gzip, bz2, xz, zstd or lz4)",
                    opt->compression);
        return NULL;
    }
    if (!opt->errors || strcmp(opt->errors, "strict") == 0)
        o.encoding_errors = CBAG__ENC_STRICT;
    else if (strcmp(opt->errors, "replace") == 0)
        o.encoding_errors = CBAG__ENC_REPLACE;
    else if (strcmp(opt->errors, "ignore") == 0)
        o.encoding_errors = CBAG__ENC_IGNORE;
    else {
        cbag__error(cx, CBAG_INVALID,
                    "read_text: unknown errors '%s' (use strict, replace or "
                    "ignore)",
                    opt->errors);
        return NULL;
    }
    if (opt->linedelimiter) {
        char *d = cbag__galloc(cx, strlen(opt->linedelimiter) + 1);
        if (!d) return NULL;
        strcpy(d, opt->linedelimiter);
        o.delim = d;
    }
    char err[1024];
    /* the storage options, defaults resolved now, live in the graph */
    cbag__storage *st = cbag__galloc(cx, sizeof *st);
    if (!st) return NULL;
    int rc = cbag__storage_init(st, &opt->storage, err, sizeof err);
    if (rc) {
        cbag__error(cx, rc, "read_text: %s", err);
        return NULL;
    }
    o.storage = st;
    cbag__text_part *parts = NULL;
    size_t nparts = 0;
    rc = cbag__text_plan(patterns, n, &o, &parts, &nparts, err, sizeof err);
    if (rc) {
        cbag__error(cx, rc, "%s", err);
        return NULL;
    }
    /* The plan is malloc'd; the graph arena takes a copy so that closing the
     * context frees it with everything else. */
    text_src *src = cbag__galloc(cx, sizeof *src);
    cbag__text_part *gp =
        src ? cbag__galloc(cx, (nparts ? nparts : 1) * sizeof *gp) : NULL;
    for (size_t i = 0; gp && i < nparts; i++) {
        gp[i] = parts[i];
        gp[i].files = cbag__galloc(cx, parts[i].nfiles * sizeof *gp[i].files);
        if (!gp[i].files) {
            gp = NULL;
            break;
        }
        for (size_t j = 0; j < parts[i].nfiles; j++) {
            gp[i].files[j] = parts[i].files[j];
            char *path = cbag__galloc(cx, strlen(parts[i].files[j].path) + 1);
            if (!path) {
                gp = NULL;
                break;
            }
            strcpy(path, parts[i].files[j].path);
            gp[i].files[j].path = path;
        }
    }
    cbag__text_parts_free(parts, nparts);
    if (!gp) return NULL;
    src->o = o;
    src->parts = gp;
    cbag *b = cbag__galloc(cx, sizeof *b);
    if (!b) return NULL;
    b->cx = cx;
    b->kind = K_TEXT;
    b->id = cx->next_id++;
    b->nparts = nparts;
    b->text = (struct cbag__text_part *)src;
    b->flags = opt->include_path;
    b->name = "read_text";
    if (nparts == 0) { /* e.g. only empty files with a blocksize */
        b->kind = K_SEQ;
        cbag_val *p = cbag__galloc(cx, sizeof *p);
        if (!p || cbag__seq_init(&cx->graph, p, CBAG_LIST, 0)) return NULL;
        b->parts = p;
        b->nparts = 1;
    }
    return b;
}

cbag *cbag_read_text(cbag_ctx *cx, const char *pattern,
                     const cbag_text_options *opt) {
    if (!cx) return NULL;
    if (!pattern) {
        cbag__error(cx, CBAG_INVALID, "read_text: the path is NULL");
        return NULL;
    }
    return cbag_read_textv(cx, 1, &pattern, opt);
}

uint64_t cbag__text_part_size(const cbag *b, size_t part) {
    return src_of(b)->parts[part].size_hint;
}

void cbag__describe_text(cbag__worker *w, cbag__buf *b) {
    cbag__lines *r = w->lines;
    cbag__buf_printf(b, " at %s line %llu", cbag__lines_path(r),
                     (unsigned long long)cbag__lines_lineno(r));
}

/* The string value of a line, or (line, path) with include_path. The line
 * is not copied: the value points into the reader's buffer, which stays
 * valid until the next read, and the sinks are flushed before that (see
 * cbag__run_text). The path lives in the graph. */
static int line_value(cbag__worker *w, const cbag *b, cbag__lines *r,
                      const char *line, size_t len, cbag_val *out) {
    if (len > CBAG__MAX_LEN) return -1;
    cbag__set_str_ref(out, line, (uint32_t)len);
    if (!b->flags) return 0;
    cbag_val t[2];
    t[0] = *out;
    const char *path = cbag__lines_path(r);
    cbag__set_str_ref(&t[1], path, (uint32_t)strlen(path));
    if (cbag__seq_init(&w->batch, out, CBAG_TUPLE, 2)) return -1;
    cbag__seq_push(&w->batch, out, &t[0]);
    cbag__seq_push(&w->batch, out, &t[1]);
    return 0;
}

int cbag__run_text(cbag__worker *w, const cbag *b, size_t part, cbag__sink *out,
                   const cbag *json) {
    text_src *src = src_of(b);
    char err[1024];
    cbag__lines *r =
        cbag__lines_open(&src->parts[part], &src->o, err, sizeof err);
    if (!r) return cbag__fail(w, b->name, CBAG_IO, "%s", err);
    void *saved = w->lines;
    w->lines = r;
    int skip = json && (json->flags & 1);
    const cbag__json_keys *keep =
        json && json->fn.map == cbag__json_loads_keys ? json->ud : NULL;
    int rc = 0;
    uint64_t reported = 0; /* bytes already added to the progress count */
    for (uint64_t i = 0;; i++) {
        if ((i & 63) == 0) {
            uint64_t now = cbag__lines_bytes_read(r);
            atomic_fetch_add(&w->cx->bytes_read, now - reported);
            reported = now;
        }
        const char *line;
        size_t len;
        int k = cbag__lines_next(r, &line, &len);
        if (k == 0) break;
        if (k < 0) {
            w->lines = NULL; /* the reader's message names file and line */
            rc = cbag__fail(w, b->name, -k, "%s", cbag__lines_error(r));
            break;
        }
        w->elem = i;
        cbag_val *v = cbag__arena_alloc(&w->batch, sizeof *v);
        if (!v) {
            rc = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
            break;
        }
        if (json) {
            cbag__json_err je;
            int pr = cbag__json_parse_keep(&w->batch, line, len, v, &je, keep);
            if (pr == CBAG_PARSE && skip) {
                atomic_fetch_add(&w->cx->skipped, 1);
                continue;
            }
            if (pr) {
                rc = pr == CBAG_NOMEM
                         ? cbag__fail(w, json->name, pr, "out of memory")
                         : cbag__fail(w, json->name, pr,
                                      "JSONDecodeError: %s at byte %zu", je.msg,
                                      je.offset);
                break;
            }
        } else if (line_value(w, b, r, line, len, v)) {
            rc = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
            break;
        }
        rc = out->push(out, v);
        /* A line's bytes die at the next read: sinks copy what they keep
         * (a no-op for most; the parsed JSON lives in the batch arena). */
        if (!json) out->flush(out);
        if (rc || (rc = cbag__between(w, out))) break;
    }
    atomic_fetch_add(&w->cx->bytes_read, cbag__lines_bytes_read(r) - reported);
    w->lines = saved;
    cbag__lines_close(r);
    return rc;
}

cbag *cbag_json_loads_skip(cbag *lines) {
    cbag *b = cbag_map_named(lines, "json.loads", cbag_json_loads, NULL);
    if (b) b->flags |= 1;
    return b;
}

/* json.loads building only some top-level keys (ud: the cbag__json_keys);
 * the map function when it is not fused into read_text. */
const cbag_val *cbag__json_loads_keys(cbag_call *c, const cbag_val *x,
                                      void *ud) {
    if (!x || x->type != CBAG_STR) return cbag_json_loads(c, x, NULL);
    return cbag__json_parse_call(c, x->u.s, x->len, ud);
}

cbag *cbag_json_loads_project(cbag *lines, size_t nkeys,
                              const char *const *keys, bool skip_errors) {
    if (!lines) return NULL;
    cbag_ctx *cx = lines->cx;
    if (nkeys && !keys) {
        cbag__error(cx, CBAG_INVALID, "json_loads_project: keys is NULL");
        return NULL;
    }
    cbag__json_keys *set = cbag__galloc(cx, sizeof *set);
    cbag__json_key *k =
        set ? cbag__galloc(cx, (nkeys ? nkeys : 1) * sizeof *k) : NULL;
    if (!k) return NULL;
    for (size_t i = 0; i < nkeys; i++) {
        size_t len = strlen(keys[i]);
        char *copy = cbag__galloc(cx, len + 1);
        if (!copy) return NULL;
        memcpy(copy, keys[i], len + 1);
        k[i].s = copy;
        k[i].len = len;
    }
    set->n = nkeys;
    set->k = k;
    cbag *b = cbag_map_named(lines, "json.loads", cbag__json_loads_keys, set);
    if (b && skip_errors) b->flags |= 1;
    return b;
}

uint64_t cbag_skipped(const cbag_ctx *cx) {
    return cx ? atomic_load(&((cbag_ctx *)cx)->skipped) : 0;
}

/* ------------------------------------------------------------------------ */
/* to_textfiles                                                             */

typedef struct {
    cbag__sink s;
    cbag__out *out;
    uint64_t n;
} write_sink;

static int write_push(cbag__sink *s, const cbag_val *x) {
    write_sink *ws = (write_sink *)s;
    if (x->type != CBAG_STR)
        return cbag__fail(s->w, "to_textfiles", CBAG_TYPE,
                          "TypeError: elements must be str, not %s",
                          cbag_type_name(cbag_typeof(x)));
    if ((ws->n++ && cbag__out_write(ws->out, "\n", 1)) ||
        cbag__out_write(ws->out, x->u.s, x->len))
        return cbag__fail(s->w, "to_textfiles", CBAG_IO, "%s",
                          cbag__out_error(ws->out));
    return 0;
}

static void write_flush(cbag__sink *s) { (void)s; }

typedef struct {
    const cbag *b;
    const char *pattern;
    const cbag_textfiles_options *opt;
    int codec;
    const cbag__storage *st;
} write_arg;

static int write_task(cbag__worker *w, size_t part, void *arg) {
    write_arg *a = arg;
    char *path;
    if (a->opt->name_function) {
        char *name = a->opt->name_function(part, a->opt->name_ud);
        if (!name)
            return cbag__fail(w, "to_textfiles", CBAG_INVALID,
                              "name_function returned NULL");
        const char *star = strchr(a->pattern, '*');
        size_t pre = star ? (size_t)(star - a->pattern) : strlen(a->pattern);
        cbag__buf p = CBAG__BUF_INIT;
        cbag__buf_put(&p, a->pattern, pre);
        if (!star) cbag__buf_putc(&p, '/');
        cbag__buf_puts(&p, name);
        cbag__buf_puts(&p, star ? star + 1 : ".part");
        free(name);
        path = cbag__buf_detach(&p, NULL);
    } else {
        path = cbag__textfile_name(a->pattern, part, a->b->nparts);
    }
    if (!path)
        return cbag__fail(w, "to_textfiles", CBAG_NOMEM, "out of memory");
    char err[1024];
    cbag__out *o =
        cbag__out_open_st(path, a->codec, -1, a->st, err, sizeof err);
    cbag__free(path);
    if (!o) return cbag__fail(w, "to_textfiles", CBAG_IO, "%s", err);
    write_sink ws = {{write_push, write_flush, NULL, a->b, w}, o, 0};
    int rc = cbag__run_part(w, a->b, part, &ws.s);
    if (rc == 0 && ws.n && a->opt->last_endline && cbag__out_write(o, "\n", 1))
        rc = cbag__fail(w, "to_textfiles", CBAG_IO, "%s", cbag__out_error(o));
    if (rc) {
        cbag__out_abort(o);
        return rc;
    }
    if (cbag__out_commit_err(o, err, sizeof err))
        return cbag__fail(w, "to_textfiles", CBAG_IO, "%s", err);
    return 0;
}

int cbag_to_textfiles(cbag *b, const char *pattern,
                      const cbag_textfiles_options *opt) {
    if (!b) return CBAG_INVALID;
    cbag_ctx *cx = b->cx;
    cbag_textfiles_options dflt = {0};
    if (!opt) opt = &dflt;
    char err[1024];
    if (!pattern) {
        cbag__error(cx, CBAG_INVALID, "to_textfiles: the path is NULL");
        return CBAG_INVALID;
    }
    if (cbag__textfile_pattern_check(pattern, err, sizeof err)) {
        cbag__error(cx, CBAG_INVALID, "%s", err);
        return CBAG_INVALID;
    }
    int codec = parse_codec(opt->compression);
    if (codec == -2) {
        cbag__error(cx, CBAG_INVALID, "to_textfiles: unknown compression '%s'",
                    opt->compression);
        return CBAG_INVALID;
    }
    cbag__storage *st = cbag__malloc(sizeof *st);
    if (!st) {
        cbag__error(cx, CBAG_NOMEM, "to_textfiles: out of memory");
        return CBAG_NOMEM;
    }
    int rc = cbag__storage_init(st, &opt->storage, err, sizeof err);
    if (rc) {
        cbag__free(st);
        cbag__error(cx, rc, "to_textfiles: %s", err);
        return rc;
    }
    write_arg a = {b, pattern, opt, codec, st};
    if (cbag__prepare(cx, b)) {
        cbag__free(st);
        return cx->code;
    }
    /* with mpi, each partition is written by the rank that computes it */
    cbag__xchg x = {CBAG__X_SPLIT, NULL, NULL, NULL};
    rc = cbag__run_stage(cx, b, 0, b->nparts, write_task, &a, &x);
    cbag__release(b);
    cbag__free(st);
    return rc;
}
