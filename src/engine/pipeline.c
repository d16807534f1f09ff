/* pipeline.c: running one partition through its fused operations.
 *
 * Running partition i of an element-wise node runs partition i of its input
 * with a sink for the operation stacked on top of the caller's sink (see
 * engine.h). Sources push values; operations transform and push on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mem.h"

/* ------------------------------------------------------------------------ */
/* Failures                                                                 */

static void describe_where(cbag__worker *w, cbag__buf *b);

int cbag__fail(cbag__worker *w, const char *op, int code, const char *fmt,
               ...) {
    if (w->code != CBAG_OK) return -1;
    w->code = code ? code : CBAG_ERROR;
    cbag__buf *b = &w->msg;
    b->len = 0;
    b->oom = 0;
    cbag__buf_printf(b, "%s failed in partition %zu", op ? op : "compute",
                     w->part);
    describe_where(w, b);
    cbag__buf_puts(b, ": ");
    va_list ap;
    va_start(ap, fmt);
    cbag__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return -1;
}

/* A callback returned NULL, or failed the call. */
int cbag__fail_call(cbag__worker *w, const char *op) {
    cbag_call *c = &w->call;
    int r;
    if (c->code == CBAG_OK)
        r = cbag__fail(w, op, CBAG_USER,
                       "the function returned NULL without cbag_fail()");
    else
        r = cbag__fail(w, op, c->code, "%s", c->msg);
    cbag__call_clear(c);
    return r;
}

/* Text sources fill in the file and line; others the element number. */
void cbag__describe_text(cbag__worker *w, cbag__buf *b);

static void describe_where(cbag__worker *w, cbag__buf *b) {
    if (w->lines)
        cbag__describe_text(w, b);
    else
        cbag__buf_printf(b, " at element %llu", (unsigned long long)w->elem);
}

/* ------------------------------------------------------------------------ */
/* Sources                                                                  */

int cbag__between(cbag__worker *w, cbag__sink *out) {
    if (cbag__arena_used(&w->batch) >= CBAG__BATCH_BYTES) {
        out->flush(out);
        cbag__arena_reset(&w->batch);
        w->ticks = 1024; /* check the stop flag now */
    }
    /* Every 1024 elements: another worker failed, or an interrupt. */
    if (++w->ticks >= 1024) {
        w->ticks = 0;
        if (atomic_load_explicit(&w->cx->stop, memory_order_relaxed))
            return CBAG__CANCELLED;
    }
    return 0;
}

int cbag__run_list(cbag__worker *w, const cbag_val *list, cbag__sink *out) {
    const cbag__seq *s = list->u.seq;
    for (uint32_t i = 0; i < s->len; i++) {
        w->elem = i;
        int r = out->push(out, &s->items[i]);
        if (r) return r;
        if ((r = cbag__between(w, out))) return r;
    }
    return 0;
}

static int run_range(cbag__worker *w, const cbag *b, size_t part,
                     cbag__sink *out) {
    int64_t lo, hi;
    cbag__range_bounds(b, part, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        cbag_val *v = cbag__arena_alloc(&w->batch, sizeof *v);
        if (!v) return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
        cbag__set_int(v, i);
        w->elem = (uint64_t)(i - lo);
        int r = out->push(out, v);
        if (r) return r;
        if ((r = cbag__between(w, out))) return r;
    }
    return 0;
}

/* Inputs of zip and map_partitions are collected into an arena of their
 * own; what the sinks keep from them is flushed before it is freed. */
static int run_zip(cbag__worker *w, const cbag *b, size_t part,
                   cbag__sink *out) {
    cbag__arena a;
    cbag__arena_init(&a, 64 * 1024);
    cbag_val *cols = cbag__arena_alloc(&a, b->nins * sizeof *cols);
    int r = cols ? 0 : cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t j = 0; !r && j < b->nins; j++) {
        r = cbag__collect(w, b->ins[j], part, &a, &cols[j], 0);
        size_t len = r ? 0 : cols[j].u.seq->len;
        if (j == 0 || len < n) n = len; /* dask's zip stops at the shortest */
    }
    void *saved = w->lines;
    w->lines = NULL;
    for (size_t i = 0; !r && i < n; i++) {
        cbag_val *t = cbag__arena_alloc(&w->batch, sizeof *t);
        if (!t || cbag__seq_init(&w->batch, t, CBAG_TUPLE, b->nins)) {
            r = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
            break;
        }
        for (size_t j = 0; j < b->nins; j++)
            cbag__seq_push(&w->batch, t, &cols[j].u.seq->items[i]);
        w->elem = i;
        if ((r = out->push(out, t))) break;
        r = cbag__between(w, out);
    }
    w->lines = saved;
    out->flush(out);
    cbag__arena_free(&a);
    return r;
}

static int run_map_partitions(cbag__worker *w, const cbag *b, size_t part,
                              cbag__sink *out) {
    cbag__arena a;
    cbag__arena_init(&a, 64 * 1024);
    cbag_val list;
    int r = cbag__collect(w, b->in, part, &a, &list, 0);
    if (!r) {
        const cbag_val *res = b->fn.map(&w->call, &list, b->ud);
        if (!res || w->call.code)
            r = cbag__fail_call(w, b->name);
        else if (!cbag__is_seq(res))
            r = cbag__fail(w, b->name, CBAG_TYPE,
                           "TypeError: the function must return a list or "
                           "tuple, not %s",
                           cbag_type_name(cbag_typeof(res)));
        else {
            void *saved = w->lines;
            w->lines = NULL;
            const cbag__seq *s = res->u.seq;
            for (uint32_t i = 0; i < s->len && !r; i++) {
                w->elem = i;
                r = out->push(out, &s->items[i]);
            }
            w->lines = saved;
        }
    }
    out->flush(out);
    cbag__arena_free(&a);
    return r;
}

int cbag__run_text(cbag__worker *w, const cbag *b, size_t part,
                   cbag__sink *out, const cbag *json);

/* ------------------------------------------------------------------------ */
/* Element-wise operations                                                  */

static void flush_next(cbag__sink *s) { s->next->flush(s->next); }

static int map_push(cbag__sink *s, const cbag_val *x) {
    cbag__worker *w = s->w;
    const cbag_val *y = s->node->fn.map(&w->call, x, s->node->ud);
    if (!y || w->call.code) {
        /* errors="skip" on json.loads drops malformed records, counted */
        if ((s->node->flags & 1) && w->call.code == CBAG_PARSE) {
            cbag__call_clear(&w->call);
            atomic_fetch_add(&w->cx->skipped, 1);
            return 0;
        }
        return cbag__fail_call(w, s->node->name);
    }
    return s->next->push(s->next, y);
}

static int filter_push(cbag__sink *s, const cbag_val *x) {
    cbag__worker *w = s->w;
    int keep = s->node->fn.pred(&w->call, x, s->node->ud);
    if (keep < 0 || w->call.code) return cbag__fail_call(w, s->node->name);
    if ((keep != 0) == (s->node->kind == K_REMOVE)) return 0;
    return s->next->push(s->next, x);
}

static int starmap_push(cbag__sink *s, const cbag_val *x) {
    cbag__worker *w = s->w;
    if (!cbag__is_seq(x))
        return cbag__fail(w, s->node->name, CBAG_TYPE,
                          "TypeError: argument after * must be an iterable, "
                          "not %s",
                          cbag_type_name(cbag_typeof(x)));
    const cbag__seq *q = x->u.seq;
    const cbag_val *local[16];
    const cbag_val **argv = local;
    if (q->len > 16) {
        argv = cbag__arena_alloc(&w->batch, q->len * sizeof *argv);
        if (!argv) return cbag__fail(w, s->node->name, CBAG_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < q->len; i++) argv[i] = &q->items[i];
    const cbag_val *y = s->node->fn.star(&w->call, q->len, argv, s->node->ud);
    if (!y || w->call.code) return cbag__fail_call(w, s->node->name);
    return s->next->push(s->next, y);
}

const cbag_val *cbag__getitem(const cbag_val *x, const cbag_val *key,
                              const char **err) {
    *err = NULL;
    if (x->type == CBAG_DICT) {
        long i = key->type == CBAG_STR
                     ? cbag__dict_find_str(x, key->u.s, key->len)
                     : cbag__dict_find(x, key);
        return i < 0 ? NULL : &x->u.dict->entries[i].val;
    }
    if (cbag__is_seq(x)) {
        if (key->type != CBAG_INT && key->type != CBAG_BOOL) {
            *err = "indices must be integers";
            return NULL;
        }
        int64_t i = key->u.i, n = x->u.seq->len;
        if (i < 0) i += n;
        return i < 0 || i >= n ? NULL : &x->u.seq->items[i];
    }
    *err = "object is not subscriptable";
    return NULL;
}

int cbag__key_error(cbag__worker *w, const char *op, const cbag_val *x,
                    const cbag_val *key, const char *err) {
    char *k = cbag_format(key, CBAG_FMT_REPR, NULL);
    int r;
    if (err)
        r = cbag__fail(w, op, CBAG_TYPE, "TypeError: %s %s (key %s)",
                       cbag_type_name(cbag_typeof(x)), err, k ? k : "?");
    else if (x->type == CBAG_DICT)
        r = cbag__fail(w, op, CBAG_KEY, "KeyError: %s", k ? k : "?");
    else
        r = cbag__fail(w, op, CBAG_KEY, "IndexError: %s index %s out of range",
                       cbag_type_name(cbag_typeof(x)), k ? k : "?");
    free(k);
    return r;
}

static int pluck_one(cbag__sink *s, const cbag_val *x, const cbag_val *key,
                     const cbag_val **out) {
    const char *err;
    const cbag_val *y = cbag__getitem(x, key, &err);
    if (y) {
        *out = y;
        return 0;
    }
    if (!err && s->node->dflt) {
        *out = s->node->dflt;
        return 0;
    }
    return cbag__key_error(s->w, s->node->name, x, key, err);
}

static int pluck_push(cbag__sink *s, const cbag_val *x) {
    const cbag_val *key = s->node->key, *y;
    if (key->type != CBAG_LIST) {
        if (pluck_one(s, x, key, &y)) return -1;
        return s->next->push(s->next, y);
    }
    /* A list of keys gives a tuple, as operator.itemgetter(*keys). */
    cbag__worker *w = s->w;
    const cbag__seq *ks = key->u.seq;
    cbag_val *t = cbag__arena_alloc(&w->batch, sizeof *t);
    if (!t || cbag__seq_init(&w->batch, t, CBAG_TUPLE, ks->len))
        return cbag__fail(w, s->node->name, CBAG_NOMEM, "out of memory");
    for (uint32_t i = 0; i < ks->len; i++) {
        if (pluck_one(s, x, &ks->items[i], &y)) return -1;
        if (cbag__seq_push(&w->batch, t, y))
            return cbag__fail(w, s->node->name, CBAG_NOMEM, "out of memory");
    }
    return s->next->push(s->next, t);
}

/* Length of the UTF-8 sequence starting with byte c (strings are valid). */
static int utf8_len(unsigned char c) {
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static int flatten_push(cbag__sink *s, const cbag_val *x) {
    cbag__sink *next = s->next;
    int r = 0;
    switch (x->type) {
    case CBAG_LIST:
    case CBAG_TUPLE:
        for (uint32_t i = 0; i < x->u.seq->len && !r; i++)
            r = next->push(next, &x->u.seq->items[i]);
        return r;
    case CBAG_DICT: /* iterating a dict gives its keys */
        for (uint32_t i = 0; i < x->u.dict->len && !r; i++)
            r = next->push(next, &x->u.dict->entries[i].key);
        return r;
    case CBAG_STR: /* and a string its characters */
        for (uint32_t i = 0; i < x->len && !r;) {
            int n = utf8_len((unsigned char)x->u.s[i]);
            if (i + (uint32_t)n > x->len) n = (int)(x->len - i);
            cbag_val *c = cbag__arena_alloc(&s->w->batch, sizeof *c);
            if (!c) return cbag__fail(s->w, s->node->name, CBAG_NOMEM, "out of memory");
            cbag__set_str_ref(c, x->u.s + i, (uint32_t)n);
            r = next->push(next, c);
            i += (uint32_t)n;
        }
        return r;
    default:
        return cbag__fail(s->w, s->node->name, CBAG_TYPE,
                          "TypeError: '%s' object is not iterable",
                          cbag_type_name(cbag_typeof(x)));
    }
}

/* ------------------------------------------------------------------------ */
/* The dispatcher                                                           */

int cbag__run_part(cbag__worker *w, const cbag *b, size_t part,
                   cbag__sink *out) {
    int (*push)(cbag__sink *, const cbag_val *) = NULL;
    switch (b->kind) {
    case K_SEQ: return cbag__run_list(w, &b->parts[part], out);
    case K_RANGE: return run_range(w, b, part, out);
    case K_TEXT: return cbag__run_text(w, b, part, out, NULL);
    case K_CONCAT: {
        size_t j = 0;
        while (part >= b->ins[j]->nparts) part -= b->ins[j++]->nparts;
        return cbag__run_part(w, b->ins[j], part, out);
    }
    case K_ZIP: return run_zip(w, b, part, out);
    case K_MAP_PARTITIONS: return run_map_partitions(w, b, part, out);
    case K_FOLDBY:
    case K_GROUPBY:
    case K_OPS: return cbag__run_barrier(w, b, part, out);
    case K_MAP:
        /* read_text(...).map(json.loads): parse straight from the reader's
         * buffer, with no string value per line. */
        if ((b->fn.map == cbag_json_loads ||
             b->fn.map == cbag__json_loads_keys) &&
            b->in->kind == K_TEXT)
            return cbag__run_text(w, b->in, part, out, b);
        push = map_push;
        break;
    case K_FILTER:
    case K_REMOVE: push = filter_push; break;
    case K_STARMAP: push = starmap_push; break;
    case K_PLUCK: push = pluck_push; break;
    case K_FLATTEN: push = flatten_push; break;
    }
    cbag__sink s = {push, flush_next, out, b, w};
    return cbag__run_part(w, b->in, part, &s);
}

uint64_t cbag__text_part_size(const cbag *b, size_t part);

int cbag__same_parts(const cbag *b) {
    if (!b->in || b->kind == K_FOLDBY || b->kind == K_GROUPBY) return 0;
    return b->kind != K_OPS || b->ops->same_parts;
}

int cbag__sized_in_bytes(const cbag *b) {
    while (cbag__same_parts(b))
        b = b->in;
    if (b->kind == K_CONCAT || b->kind == K_ZIP)
        return cbag__sized_in_bytes(b->ins[0]);
    return b->kind == K_TEXT;
}

uint64_t cbag__part_size(const cbag *b, size_t part) {
    while (cbag__same_parts(b))
        b = b->in;
    switch (b->kind) {
    case K_SEQ: return b->parts[part].u.seq->len;
    case K_TEXT: return cbag__text_part_size(b, part);
    case K_CONCAT: {
        size_t j = 0;
        while (part >= b->ins[j]->nparts) part -= b->ins[j++]->nparts;
        return cbag__part_size(b->ins[j], part);
    }
    case K_ZIP: return cbag__part_size(b->ins[0], part);
    case K_FOLDBY:
    case K_GROUPBY:
    case K_OPS:
        return b->mat && b->mat->parts[part].type == CBAG_LIST
                   ? b->mat->parts[part].u.seq->len
                   : 0;
    default: return 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Collecting a partition                                                   */

typedef struct {
    cbag__sink s;
    cbag__arena *a;
    cbag_val *list;
    size_t limit; /* 0: all */
} collect_sink;

static int collect_push(cbag__sink *s, const cbag_val *x) {
    collect_sink *c = (collect_sink *)s;
    cbag_val copy;
    if (cbag__copy_into(c->a, &copy, x) || cbag__seq_push(c->a, c->list, &copy))
        return cbag__fail(s->w, NULL, CBAG_NOMEM,
                          "out of memory collecting results");
    return c->limit && c->list->u.seq->len >= c->limit ? 1 : 0;
}

static void collect_flush(cbag__sink *s) { (void)s; }

int cbag__collect(cbag__worker *w, const cbag *b, size_t part, cbag__arena *a,
                  cbag_val *out, size_t limit) {
    if (cbag__seq_init(a, out, CBAG_LIST, 16))
        return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    collect_sink c = {{collect_push, collect_flush, NULL, b, w}, a, out, limit};
    int r = cbag__run_part(w, b, part, &c.s);
    return r == 1 ? 0 : r;
}
