/* groupby.c: groupby's shuffle, through memory and spill files, and with
 * the mpi scheduler across ranks.
 *
 * Stage 1 appends (key, value) copies to one bucket per (input, output)
 * partition, in the input partition's arena. When the buckets held in
 * memory pass the budget, a worker writes its partition's buckets to its
 * spill file (codec frames of at most CBAG__PIECE_BYTES, one zstd frame
 * each) and frees them; later appends start new buckets. An output
 * partition is grouped when it is read: for each input partition in
 * order, its spilled frames in order, then what stayed in memory, so
 * groups and values come in the same order whether or not anything was
 * spilled.
 *
 * With mpi, after stage 1 each rank sends the buckets of its input
 * partitions (the spilled frames, then the memory, as pieces of codec
 * frames) to the rank of their output partition (dist.h). A rank keeps
 * the pieces it receives as segments: in memory while it holds less than
 * half the budget, spilled to a file of its own past it. Reading an
 * output partition is then the same walk over input partitions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dist.h"
#include "engine.h"
#include "keyed.h"
#include "mem.h"
#include "spill.h"
#include "table.h"

typedef struct {
    size_t out; /* output partition */
    int file;   /* the spill file holding it, or -1: at mem */
    const unsigned char *mem;
    uint64_t off, len;
} spill_seg;

typedef struct {
    spill_seg *s;
    size_t n, cap;
} seg_list;

/* With mpi, stage 1 encodes straight into codec frames (pieces): per
 * input partition, its finished frames in order. */
typedef struct {
    size_t out;
    cbag__buf buf;
} frame;

typedef struct {
    frame *f;
    size_t n, cap;
} frame_list;

typedef struct {
    cbag_val *buckets;       /* [input partition][output partition] */
    frame_list *frames;      /* mpi: per input partition, instead */
    seg_list *segs;          /* per input partition, in the order written */
    cbag__spill_file *files; /* per worker, and one for pieces received */
    int nfiles;
    size_t budget, min_spill;
    atomic_size_t held; /* bytes of buckets (or pieces) in memory */
    cbag__arena recv;   /* pieces received, copied and kept in memory */
    cbag__arena *run;   /* per worker: reading output partitions */
    char **kept;        /* pieces received, buffers kept in memory */
    size_t nkept, kept_cap;
} group_state;

static void free_frames(frame_list *L) {
    for (size_t k = 0; k < L->n; k++)
        cbag__buf_free(&L->f[k].buf);
    cbag__free(L->f);
    L->f = NULL;
    L->n = L->cap = 0;
}

static void free_segs(seg_list *segs, size_t nin) {
    for (size_t i = 0; segs && i < nin; i++)
        cbag__free(segs[i].s);
    cbag__free(segs);
}

static void group_state_free(group_state *g, size_t nin) {
    if (!g) return;
    for (int i = 0; i < g->nfiles; i++)
        cbag__spill_file_close(&g->files[i]);
    free_segs(g->segs, nin);
    for (size_t i = 0; g->frames && i < nin; i++)
        free_frames(&g->frames[i]);
    cbag__free(g->frames);
    cbag__free(g->files);
    cbag__free(g->buckets);
    cbag__arena_free(&g->recv);
    for (int i = 0; g->run && i < g->nfiles; i++)
        cbag__arena_free(&g->run[i]);
    cbag__free(g->run);
    for (size_t i = 0; i < g->nkept; i++)
        cbag__free(g->kept[i]);
    cbag__free(g->kept);
    cbag__free(g);
}

static spill_seg *new_seg(seg_list *L) {
    if (L->n == L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 16;
        spill_seg *s = cbag__realloc(L->s, cap * sizeof *s);
        if (!s) return NULL;
        L->s = s;
        L->cap = cap;
    }
    return &L->s[L->n];
}

/* A frame for output partition out (n bytes at p) written to spill file
 * `file` of g as the next segment of L. 0, or minus a cbag_status with
 * the reason in err. */
static int spill_seg_write(group_state *g, seg_list *L, int file,
                           const char *dir, size_t out, const void *p, size_t n,
                           char *err, size_t errlen) {
    spill_seg *sg = new_seg(L);
    if (!sg) {
        snprintf(err, errlen, "out of memory");
        return -CBAG_NOMEM;
    }
    sg->out = out;
    sg->file = file;
    sg->mem = NULL;
    if (cbag__spill_write(&g->files[file], dir, p, n, &sg->off, &sg->len, err,
                          errlen))
        return -CBAG_IO;
    L->n++;
    return 0;
}

/* Fails w's partition after spill_seg_write returned rc. */
static int spill_failed(cbag__worker *w, const cbag *b, int rc,
                        const char *err) {
    return rc == -CBAG_IO ? cbag__fail(w, b->name, CBAG_IO, "OSError: %s", err)
                          : cbag__fail(w, b->name, CBAG_NOMEM, "%s", err);
}

/* Encodes pairs q[*at..n) (key, value, ...) into a codec frame in enc, up
 * to about CBAG__PIECE_BYTES; advances *at. -1: out of memory or a value
 * nested too deeply. */
static int encode_pairs(cbag__buf *enc, const cbag_val *q, uint32_t n,
                        uint32_t *at) {
    cbag__codec_writer cw;
    enc->len = 0;
    if (cbag__codec_begin(&cw, enc)) return -1;
    while (*at + 1 < n && enc->len < CBAG__PIECE_BYTES) {
        if (cbag__codec_put(&cw, &q[*at]) || cbag__codec_put(&cw, &q[*at + 1]))
            return -1;
        *at += 2;
    }
    cbag__codec_end(&cw);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Stage 1                                                                  */

/* Where a pair pushed in the batch in flight went: bucket, index of its
 * key (the value follows). */
typedef struct {
    uint32_t bucket, at;
} pending_pair;

typedef struct {
    cbag__sink s;
    const cbag *b;
    size_t part;
    cbag__arena *a;
    cbag_val *buckets; /* nout lists of key, value, key, value, ... */
    group_state *g;
    size_t mine; /* bytes of a counted in g->held */
    cbag__buf enc;
    /* The pairs of the batch in flight still point into the batch arena.
     * When the batch ends they are copied out, or, when the input may keep
     * them there (adopt) and they are most of the batch, the batch's chunks
     * are taken over whole: no copy at all. */
    int adopt;
    pending_pair *pend;
    size_t npend, cappend;
    size_t pend_bytes; /* deep size of the pending pairs */
    size_t counted;    /* bytes of mine added to g->held */
    int failed;        /* a flush failed; the worker holds the message */
} shuffle_sink;

/* Whether every value the pipeline of b pushes lives in the worker's batch
 * arena or longer (the graph, a barrier's partitions): raw text lines,
 * zip and map_partitions point into buffers that die at a flush, and
 * other barriers' outputs are not known here, so they are copied. */
static int batch_or_longer(const cbag *b) {
    for (;;) {
        switch (b->kind) {
        case K_SEQ:
        case K_RANGE: return 1;
        case K_CONCAT:
            for (size_t i = 0; i < b->nins; i++)
                if (!batch_or_longer(b->ins[i])) return 0;
            return 1;
        case K_MAP:
            if (b->fn.map == cbag_json_loads && b->in->kind == K_TEXT) return 1;
            b = b->in;
            break;
        case K_FILTER:
        case K_REMOVE:
        case K_STARMAP:
        case K_PLUCK:
        case K_FLATTEN: b = b->in; break;
        default: return 0;
        }
    }
}

/* Bytes an arena holds for v and what it points to (an estimate: enough
 * to tell whether the kept values are most of a batch). */
static size_t deep_size(const cbag_val *v) {
    switch (v->type) {
    case CBAG_STR: return (size_t)v->len + 8;
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *q = v->u.seq;
        size_t n = sizeof *q + (size_t)q->cap * sizeof(cbag_val);
        for (uint32_t i = 0; i < q->len; i++)
            n += deep_size(&q->items[i]);
        return n;
    }
    case CBAG_DICT: {
        const cbag__dict *d = v->u.dict;
        size_t n = sizeof *d + (size_t)d->cap * sizeof d->entries[0] +
                   (d->index_mask ? (d->index_mask + 1) * 4u : 0);
        for (uint32_t i = 0; i < d->len; i++)
            n += deep_size(&d->entries[i].key) + deep_size(&d->entries[i].val);
        return n;
    }
    default: return 0;
    }
}

static int init_buckets(shuffle_sink *sh) {
    for (size_t j = 0; j < sh->b->nparts; j++)
        if (cbag__seq_init(sh->a, &sh->buckets[j], CBAG_LIST, 0)) return -1;
    return 0;
}

/* Writes every non-empty bucket of this input partition to the worker's
 * spill file and frees the memory they held. */
static int spill_buckets(shuffle_sink *sh) {
    cbag__worker *w = sh->s.w;
    group_state *g = sh->g;
    seg_list *L = &g->segs[sh->part];
    char err[256];
    for (size_t j = 0; j < sh->b->nparts; j++) {
        const cbag__seq *q = sh->buckets[j].u.seq;
        if (sh->buckets[j].type != CBAG_LIST) continue;
        for (uint32_t at = 0; at < q->len;) {
            if (encode_pairs(&sh->enc, q->items, q->len, &at))
                return cbag__fail(w, sh->b->name, CBAG_NOMEM,
                                  "out of memory (or a value nested too "
                                  "deeply) spilling the shuffle");
            int rc = spill_seg_write(g, L, w->index, w->cx->temp_dir, j,
                                     sh->enc.p, sh->enc.len, err, sizeof err);
            if (rc) return spill_failed(w, sh->b, rc, err);
        }
    }
    cbag__arena_free(sh->a); /* really give the memory back */
    cbag__arena_init(sh->a, 0);
    atomic_fetch_sub(&g->held, sh->counted);
    sh->mine = sh->counted = 0;
    if (init_buckets(sh))
        return cbag__fail(w, sh->b->name, CBAG_NOMEM, "out of memory");
    return 0;
}

static int shuffle_push(cbag__sink *s, const cbag_val *x) {
    shuffle_sink *sh = (shuffle_sink *)s;
    if (sh->failed) return -1;
    const cbag__keyed *k = sh->b->keyed;
    const cbag_val *key =
        cbag__key_of(s->w, sh->b->name, k->field, k->key_fn, k->ud, x);
    if (!key) return -1;
    size_t j = cbag__bucket_of(key, sh->b->nparts);
    cbag_val *bk = &sh->buckets[j];
    size_t before = cbag__arena_used(sh->a);
    if (sh->npend == sh->cappend) {
        size_t cap = sh->cappend ? 2 * sh->cappend : 1024;
        pending_pair *p = cbag__realloc(sh->pend, cap * sizeof *p);
        if (!p) goto oom;
        sh->pend = p;
        sh->cappend = cap;
    }
    sh->pend[sh->npend].bucket = (uint32_t)j;
    sh->pend[sh->npend].at = bk->u.seq->len;
    if (cbag__seq_push(sh->a, bk, key) || cbag__seq_push(sh->a, bk, x))
        goto oom;
    sh->npend++;
    if (sh->adopt) sh->pend_bytes += deep_size(key) + deep_size(x);
    sh->mine += cbag__arena_used(sh->a) - before;
    return 0;
oom:
    return cbag__fail(s->w, sh->b->name, CBAG_NOMEM,
                      "out of memory in the shuffle");
}

/* The batch arena is about to be reset: the pending pairs move out of it,
 * then the memory held is checked against the budget. */
static int settle(shuffle_sink *sh) {
    cbag__worker *w = sh->s.w;
    size_t before = cbag__arena_used(sh->a);
    size_t batch = cbag__arena_used(&w->batch);
    if (sh->npend && sh->adopt && 2 * sh->pend_bytes >= batch) {
        cbag__arena_adopt(sh->a, &w->batch);
    } else {
        for (size_t i = 0; i < sh->npend; i++) {
            cbag__seq *q = sh->buckets[sh->pend[i].bucket].u.seq;
            cbag_val *kv = &q->items[sh->pend[i].at], c[2];
            if (cbag__copy_into(sh->a, &c[0], &kv[0]) ||
                cbag__copy_into(sh->a, &c[1], &kv[1]))
                return cbag__fail(w, sh->b->name, CBAG_NOMEM,
                                  "out of memory in the shuffle");
            kv[0] = c[0];
            kv[1] = c[1];
        }
    }
    sh->npend = 0;
    sh->pend_bytes = 0;
    size_t grown = cbag__arena_used(sh->a) - before;
    sh->mine += grown;
    size_t held = atomic_fetch_add(&sh->g->held, sh->mine - sh->counted) +
                  (sh->mine - sh->counted);
    sh->counted = sh->mine;
    if (held > sh->g->budget && sh->mine >= sh->g->min_spill)
        return spill_buckets(sh);
    return 0;
}

static void shuffle_flush(cbag__sink *s) {
    shuffle_sink *sh = (shuffle_sink *)s;
    if (!sh->failed && settle(sh)) sh->failed = 1;
}

static void no_flush(cbag__sink *s) { (void)s; }

/* Stage 1 with mpi: (key, value) pairs encoded into a frame per output
 * partition, finished at CBAG__PIECE_BYTES; past the budget, every frame
 * of the partition is spilled. */
typedef struct {
    cbag__sink s;
    const cbag *b;
    size_t part;
    group_state *g;
    cbag__codec_writer *open; /* per output partition; begun when bufs[j] */
    cbag__buf *bufs;          /* has bytes */
    size_t mine;              /* bytes counted in g->held */
} enc_sink;

static int finish_frame(enc_sink *e, size_t j) {
    if (!e->bufs[j].len) return 0;
    cbag__codec_end(&e->open[j]);
    frame_list *L = &e->g->frames[e->part];
    if (L->n == L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 16;
        frame *f = cbag__realloc(L->f, cap * sizeof *f);
        if (!f) return -1;
        L->f = f;
        L->cap = cap;
    }
    L->f[L->n].out = j;
    L->f[L->n++].buf = e->bufs[j]; /* the frame moves to the list */
    e->bufs[j] = (cbag__buf)CBAG__BUF_INIT;
    return 0;
}

/* Every frame of this input partition to the worker's spill file. */
static int spill_frames(enc_sink *e) {
    cbag__worker *w = e->s.w;
    group_state *g = e->g;
    frame_list *L = &g->frames[e->part];
    char err[256];
    for (size_t j = 0; j < e->b->nparts; j++)
        if (finish_frame(e, j))
            return cbag__fail(w, e->b->name, CBAG_NOMEM, "out of memory");
    for (size_t k = 0; k < L->n; k++) {
        int rc = spill_seg_write(g, &g->segs[e->part], w->index,
                                 w->cx->temp_dir, L->f[k].out, L->f[k].buf.p,
                                 L->f[k].buf.len, err, sizeof err);
        if (rc) return spill_failed(w, e->b, rc, err);
    }
    free_frames(L);
    atomic_fetch_sub(&g->held, e->mine);
    e->mine = 0;
    return 0;
}

static int enc_push(cbag__sink *s, const cbag_val *x) {
    enc_sink *e = (enc_sink *)s;
    const cbag__keyed *k = e->b->keyed;
    const cbag_val *key =
        cbag__key_of(s->w, e->b->name, k->field, k->key_fn, k->ud, x);
    if (!key) return -1;
    size_t j = cbag__bucket_of(key, e->b->nparts);
    cbag__buf *b = &e->bufs[j];
    size_t before = b->len;
    if ((!b->len && cbag__codec_begin(&e->open[j], b)) ||
        cbag__codec_put(&e->open[j], key) || cbag__codec_put(&e->open[j], x))
        return cbag__fail(s->w, e->b->name, CBAG_NOMEM,
                          "out of memory (or a value nested too deeply) in "
                          "the shuffle");
    size_t grown = b->len - before;
    e->mine += grown;
    size_t held = atomic_fetch_add(&e->g->held, grown) + grown;
    if (b->len >= CBAG__PIECE_BYTES && finish_frame(e, j))
        return cbag__fail(s->w, e->b->name, CBAG_NOMEM, "out of memory");
    if (held > e->g->budget && e->mine >= e->g->min_spill)
        return spill_frames(e);
    return 0;
}

typedef struct {
    cbag *b;
    cbag__mat *mat;
    group_state *g;
    int adopt; /* batch_or_longer(b->in) */
} group_arg;

static int encode_task(cbag__worker *w, size_t part, void *arg) {
    group_arg *ga = arg;
    size_t nout = ga->b->nparts;
    enc_sink e = {{enc_push, no_flush, NULL, ga->b, w},
                  ga->b,
                  part,
                  ga->g,
                  cbag__malloc((nout ? nout : 1) * sizeof *e.open),
                  cbag__calloc(nout ? nout : 1, sizeof *e.bufs),
                  0};
    int r = e.open && e.bufs
                ? cbag__run_part(w, ga->b->in, part, &e.s)
                : cbag__fail(w, ga->b->name, CBAG_NOMEM, "out of memory");
    if (r == 1) r = 0;
    for (size_t j = 0; !r && j < nout; j++)
        if (finish_frame(&e, j))
            r = cbag__fail(w, ga->b->name, CBAG_NOMEM, "out of memory");
    /* What finished partitions keep stays under half the budget. */
    if (!r && e.mine && atomic_load(&ga->g->held) > ga->g->budget / 2)
        r = spill_frames(&e);
    for (size_t j = 0; e.bufs && j < nout; j++)
        cbag__buf_free(&e.bufs[j]);
    cbag__free(e.bufs);
    cbag__free(e.open);
    return r;
}

static int split_task(cbag__worker *w, size_t part, void *arg) {
    group_arg *ga = arg;
    size_t nout = ga->b->nparts;
    shuffle_sink sh = {.s = {shuffle_push, shuffle_flush, NULL, ga->b, w},
                       .b = ga->b,
                       .part = part,
                       .a = &ga->mat->arenas[part],
                       .buckets = &ga->g->buckets[part * nout],
                       .g = ga->g,
                       .enc = CBAG__BUF_INIT,
                       .adopt = ga->adopt};
    if (init_buckets(&sh))
        return cbag__fail(w, ga->b->name, CBAG_NOMEM, "out of memory");
    int r = cbag__run_part(w, ga->b->in, part, &sh.s);
    if (r == 1) r = 0;
    if (!r && sh.failed) r = -1;
    if (!r) r = settle(&sh);
    /* What finished partitions keep stays under half the budget. */
    if (!r && sh.mine && atomic_load(&ga->g->held) > ga->g->budget / 2)
        r = spill_buckets(&sh);
    cbag__buf_free(&sh.enc);
    cbag__free(sh.pend);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Across ranks                                                             */

typedef struct {
    cbag_ctx *cx;
    const cbag *b;
    group_state *g;
    const int *owner; /* of the input partitions */
    int everywhere;
    size_t i, k, f; /* sending: input partition, its next segment, frame */
    cbag__buf raw;
    seg_list *rsegs; /* received, per input partition */
} gx;

/* The pieces of this rank's input partitions, in order: what was spilled,
 * then the frames still in memory. */
static int gx_next(void *ud, cbag__piece *pc, char *err, size_t errlen) {
    gx *x = ud;
    size_t nin = x->b->in->nparts;
    group_state *g = x->g;
    for (; x->i < nin; x->i++, x->k = x->f = 0) {
        if (x->owner[x->i] != x->cx->rank) continue;
        const seg_list *L = &g->segs[x->i];
        if (x->k < L->n) {
            const spill_seg *sg = &L->s[x->k++];
            x->raw.len = 0;
            if (cbag__spill_read(&g->files[sg->file], sg->off, sg->len, &x->raw,
                                 err, errlen))
                return -CBAG_IO;
            *pc = (cbag__piece){x->i, sg->out, x->raw.p, x->raw.len, &x->raw};
            return 1;
        }
        frame_list *F = &g->frames[x->i];
        if (x->f < F->n) {
            frame *fr = &F->f[x->f++];
            *pc =
                (cbag__piece){x->i, fr->out, fr->buf.p, fr->buf.len, &fr->buf};
            return 1;
        }
        free_frames(F); /* all of input partition i is on its way */
    }
    return 0;
}

/* Received pieces stay in their buffers while within half the budget. */
static int gx_keep(void *ud, cbag__buf *b) {
    gx *x = ud;
    group_state *g = x->g;
    if (atomic_load(&g->held) + b->len > g->budget / 2) return 0;
    if (g->nkept == g->kept_cap) {
        size_t cap = g->kept_cap ? 2 * g->kept_cap : 64;
        char **k = cbag__realloc(g->kept, cap * sizeof *k);
        if (!k) return 0;
        g->kept = k;
        g->kept_cap = cap;
    }
    g->kept[g->nkept++] = b->p;
    atomic_fetch_add(&g->held, b->len);
    *b = (cbag__buf)CBAG__BUF_INIT;
    return 1;
}

static int gx_take(void *ud, const cbag__piece *pc, int kept, char *err,
                   size_t errlen) {
    gx *x = ud;
    group_state *g = x->g;
    if (pc->in >= x->b->in->nparts || pc->out >= x->b->nparts ||
        (!x->everywhere &&
         cbag__dist_home(x->cx, x->b, pc->out) != x->cx->rank)) {
        snprintf(err, errlen, "a piece for another rank");
        return -CBAG_PARSE;
    }
    seg_list *L = &x->rsegs[pc->in];
    const void *p = pc->p;
    if (!kept) { /* copied within half the budget, else spilled */
        unsigned char *copy = NULL;
        if (atomic_load(&g->held) + pc->n > g->budget / 2 ||
            !(copy = cbag__arena_alloc(&g->recv, pc->n ? pc->n : 1)))
            return spill_seg_write(g, L, g->nfiles - 1, x->cx->temp_dir,
                                   pc->out, pc->p, pc->n, err, errlen);
        memcpy(copy, pc->p, pc->n);
        atomic_fetch_add(&g->held, pc->n);
        p = copy;
    }
    spill_seg *sg = new_seg(L);
    if (!sg) {
        snprintf(err, errlen, "out of memory");
        return -CBAG_NOMEM;
    }
    *sg = (spill_seg){pc->out, -1, p, 0, pc->n};
    L->n++;
    return 0;
}

/* Sends the pieces of this rank's input partitions to their output
 * partitions' ranks; g then holds what this rank received. */
static int exchange(cbag_ctx *cx, cbag *b, group_state *g) {
    size_t nin = b->in->nparts;
    gx x = {cx, b, g, NULL,           cbag__dist_everywhere(cx, b),
            0,  0, 0, CBAG__BUF_INIT, NULL};
    int *owner = cbag__malloc((nin ? nin : 1) * sizeof *owner);
    x.rsegs = cbag__calloc(nin ? nin : 1, sizeof *x.rsegs);
    int ok = owner && x.rsegs && !cbag__dist_owners(cx, b->in, 0, nin, owner);
    x.owner = owner;
    atomic_store(&g->held, 0); /* from now on: pieces received */
    cbag__pieces io = {gx_next, gx_keep, gx_take, &x};
    /* (a rank short of memory still takes part, failing the shuffle) */
    int rc = cbag__dist_shuffle(cx, b, x.everywhere, ok ? &io : NULL);
    cbag__buf_free(&x.raw);
    cbag__free(owner);
    if (!rc) { /* the received segments replace the ones sent */
        free_segs(g->segs, nin);
        g->segs = x.rsegs;
        for (int i = 0; i + 1 < g->nfiles; i++)
            cbag__spill_file_close(&g->files[i]);
    } else {
        free_segs(x.rsegs, nin);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Prepare, run, release                                                    */

int cbag__groupby_prepare(cbag_ctx *cx, cbag *b, cbag__mat *mat) {
    size_t nin = b->in->nparts, nout = b->nparts;
    size_t nb = nin * nout;
    if (cbag__ensure_workers(cx)) return cx->code;
    group_state *g = cbag__calloc(1, sizeof *g);
    if (g) {
        cbag__arena_init(&g->recv, 0);
        if (cx->mpi)
            g->frames = cbag__calloc(nin ? nin : 1, sizeof *g->frames);
        else
            g->buckets = cbag__calloc(nb ? nb : 1, sizeof *g->buckets);
        g->segs = cbag__calloc(nin ? nin : 1, sizeof *g->segs);
        g->files = cbag__calloc((size_t)cx->nw + 1, sizeof *g->files);
        g->run = cbag__calloc((size_t)cx->nw + 1, sizeof *g->run);
    }
    if (!g || !(g->buckets || g->frames) || !g->segs || !g->files || !g->run) {
        group_state_free(g, nin);
        cbag__error(cx, CBAG_NOMEM, "%s: out of memory", b->name);
        return CBAG_NOMEM;
    }
    g->nfiles = cx->nw + 1;
    for (int i = 0; i < g->nfiles; i++) {
        cbag__spill_file_init(&g->files[i]);
        cbag__arena_init(&g->run[i], 0);
    }
    g->budget = cbag__memory_budget(cx);
    g->min_spill = g->budget / (4 * (size_t)cx->nw) + 1;
    atomic_init(&g->held, 0);
    group_arg ga = {b, mat, g, batch_or_longer(b->in)};
    cbag__xchg split = {CBAG__X_SPLIT, NULL, NULL, NULL};
    int rc = cbag__run_stage(cx, b->in, 0, nin,
                             cx->mpi ? encode_task : split_task, &ga, &split);
    if (!rc && cx->mpi) rc = exchange(cx, b, g);
    if (rc) {
        group_state_free(g, nin);
        return rc;
    }
    b->prepared = g;
    return CBAG_OK;
}

void cbag__groupby_release(cbag *b) {
    if (!b->prepared) return;
    group_state_free(b->prepared, b->in->nparts);
    b->prepared = NULL;
}

/* Adds the pairs of q (key, value, ...) to the groups of t; the lists are
 * made in a and share the values' bodies. */
static int group_pairs(cbag__table *t, cbag__arena *a, const cbag_val *q,
                       size_t n) {
    for (size_t j = 0; j + 1 < n; j += 2) {
        int fresh;
        long e = cbag__table_upsert(t, &q[j], &fresh);
        if (e < 0 || (fresh && cbag__seq_init(a, &t->e[e].val, CBAG_LIST, 4)) ||
            cbag__seq_push(a, &t->e[e].val, &q[j + 1]))
            return -1;
    }
    return 0;
}

/* Decodes segment sg (from its file, or from memory) into pairs in a, and
 * groups them. */
static int group_seg(cbag__worker *w, const cbag *b, group_state *g,
                     const spill_seg *sg, cbag__table *t, cbag__arena *a,
                     cbag__buf *raw) {
    char err[256];
    const void *p = sg->mem;
    size_t n = (size_t)sg->len;
    if (!p) {
        raw->len = 0;
        if (cbag__spill_read(&g->files[sg->file], sg->off, sg->len, raw, err,
                             sizeof err))
            return cbag__fail(w, b->name, CBAG_IO, "OSError: %s", err);
        p = raw->p;
        n = raw->len;
    }
    cbag__codec_reader r;
    int k = cbag__codec_open(&r, p, n) ? -1 : 1;
    while (k > 0) {
        cbag_val pair[2];
        if ((k = cbag__codec_next(&r, a, &pair[0])) <= 0) break;
        if ((k = cbag__codec_next(&r, a, &pair[1])) <= 0) {
            if (!k) snprintf(r.err, sizeof r.err, "codec: a key without value");
            k = -1;
            break;
        }
        if (group_pairs(t, a, pair, 2))
            return cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    }
    if (k < 0)
        return cbag__fail(w, b->name, CBAG_IO,
                          "OSError: a spilled shuffle is corrupt: %s", r.err);
    return 0;
}

int cbag__groupby_run(cbag__worker *w, const cbag *b, size_t part,
                      cbag__sink *out) {
    group_state *g = b->prepared;
    size_t nout = b->nparts, nin = b->in->nparts;
    cbag__arena *ap = &g->run[w->index], a = *ap;
    cbag__arena_reset(&a);
    cbag__table t;
    cbag__table_init(&t);
    cbag__buf raw = CBAG__BUF_INIT;
    int r = 0;
    for (size_t i = 0; i < nin && !r; i++) {
        const seg_list *L = &g->segs[i];
        for (size_t k = 0; k < L->n && !r; k++)
            if (L->s[k].out == part)
                r = group_seg(w, b, g, &L->s[k], &t, &a, &raw);
        const cbag_val *bk = g->buckets ? &g->buckets[i * nout + part] : NULL;
        if (!r && bk && bk->type == CBAG_LIST &&
            group_pairs(&t, &a, bk->u.seq->items, bk->u.seq->len))
            r = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
    }
    cbag__buf_free(&raw);
    void *saved = w->lines;
    w->lines = NULL;
    for (uint32_t i = 0; !r && i < t.n; i++) {
        cbag_val *pair = cbag__arena_alloc(&a, sizeof *pair);
        cbag_val key; /* the table's copy of the key dies with it */
        if (!pair || cbag__copy_into(&a, &key, &t.e[i].key) ||
            cbag__seq_init(&a, pair, CBAG_TUPLE, 2) ||
            cbag__seq_push(&a, pair, &key) ||
            cbag__seq_push(&a, pair, &t.e[i].val)) {
            r = cbag__fail(w, b->name, CBAG_NOMEM, "out of memory");
            break;
        }
        w->elem = i;
        if ((r = out->push(out, pair))) break;
        r = cbag__between(w, out);
    }
    w->lines = saved;
    out->flush(out); /* the sinks may keep values that live in a */
    cbag__table_free(&t);
    cbag__arena_reset(&a);
    *ap = a;
    return r;
}
