/* dot.c: the task graph as Graphviz DOT, one node per task (operation x
 * partition) as dask's visualize draws it; fused operations are drawn as
 * the separate tasks they would be in dask, joined per partition. */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "json.h"
#include "mem.h"

static void label(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        fputc(*s, out);
    }
}

/* Task (b, part) is drawn as "nID_PART". Inputs are drawn once. */
static void draw(const cbag *b, FILE *out, unsigned char *seen) {
    if (seen[b->id]) return;
    seen[b->id] = 1;
    for (size_t p = 0; p < b->nparts; p++) {
        fprintf(out, "  n%d_%zu [label=\"", b->id, p);
        label(out, b->name ? b->name : "?");
        if (b->kind == K_MAP && b->fn.map == cbag__json_loads_keys) {
            const cbag__json_keys *k = b->ud; /* projection: keys built */
            fputs(" keeping [", out);
            for (size_t i = 0; i < k->n; i++) {
                if (i) fputc(',', out);
                label(out, k->k[i].s);
            }
            fputc(']', out);
        }
        fprintf(out, " #%zu\"];\n", p);
    }
    if (b->in) {
        draw(b->in, out, seen);
        for (size_t p = 0; p < b->nparts; p++)
            fprintf(out, "  n%d_%zu -> n%d_%zu;\n", b->in->id, p, b->id, p);
    }
    if (b->kind == K_CONCAT) {
        size_t p = 0;
        for (size_t j = 0; j < b->nins; j++) {
            draw(b->ins[j], out, seen);
            for (size_t q = 0; q < b->ins[j]->nparts; q++, p++)
                fprintf(out, "  n%d_%zu -> n%d_%zu;\n", b->ins[j]->id, q,
                        b->id, p);
        }
    } else if (b->kind == K_ZIP) {
        for (size_t j = 0; j < b->nins; j++) {
            draw(b->ins[j], out, seen);
            for (size_t p = 0; p < b->nparts; p++)
                fprintf(out, "  n%d_%zu -> n%d_%zu;\n", b->ins[j]->id, p,
                        b->id, p);
        }
    }
}

static int run(cbag_ctx *cx, const cbag *b, const cbag_item *it, FILE *out) {
    if (!out) {
        cbag__error(cx, CBAG_INVALID, "visualize: the output FILE is NULL");
        return CBAG_INVALID;
    }
    unsigned char *seen = cbag__calloc((size_t)cx->next_id + 1, 1);
    if (!seen) {
        cbag__error(cx, CBAG_NOMEM, "visualize: out of memory");
        return CBAG_NOMEM;
    }
    fprintf(out, "digraph cbag {\n  rankdir=BT;\n  node [shape=box];\n");
    draw(b, out, seen);
    if (it) {
        /* The reduction tree: one part- task per partition, then one
         * aggregate task. */
        fprintf(out, "  i%d [label=\"", it->id);
        label(out, it->name);
        fprintf(out, "-aggregate\", shape=ellipse];\n");
        for (size_t p = 0; p < b->nparts; p++)
            fprintf(out, "  n%d_%zu -> i%d;\n", b->id, p, it->id);
    }
    fprintf(out, "}\n");
    cbag__free(seen);
    if (ferror(out)) {
        cbag__error(cx, CBAG_IO, "visualize: write error");
        return CBAG_IO;
    }
    return CBAG_OK;
}

int cbag_visualize(cbag *b, FILE *out) {
    return b ? run(b->cx, b, NULL, out) : CBAG_INVALID;
}

int cbag_visualize_item(cbag_item *it, FILE *out) {
    return it ? run(it->cx, it->in, it, out) : CBAG_INVALID;
}
