/* frame_print.c: frames printed exactly as pandas 1.5 prints them (repr of
 * a DataFrame or Series, display options at their defaults): cells are
 * formatted per column (ints with a sign space, floats with a common
 * number of decimals, objects as pandas' pprint_thing), shortened to 50
 * characters with "...", right-aligned; the index left-aligned; more than
 * 60 rows shown as the first and last 5 around a row of dots. Widths count
 * code points, as pandas does. Horizontal truncation (more than 20
 * columns) and wrapping are not done. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "mem.h"
#include "repr.h"

#define MAX_ROWS 60 /* display.max_rows */
#define MIN_ROWS 10 /* display.min_rows: 5 + 5 when truncated */
#define MAX_COLWIDTH 50
#define PRECISION 6
#define MAX_SEQ_ITEMS 100
#define NEST_DEPTH 3

typedef struct pr {
    cbag__arena a; /* every string made while printing */
    int oom;
} pr;

static char *pr_dup(pr *p, const char *s, size_t n) {
    char *d = cbag__arena_alloc(&p->a, n + 1);
    if (!d) {
        p->oom = 1;
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *pr_buf(pr *p, cbag__buf *b) {
    char *s = b->oom ? NULL : pr_dup(p, b->p ? b->p : "", b->len);
    if (b->oom) p->oom = 1;
    cbag__buf_free(b);
    return s;
}

/* Code points of a UTF-8 string. */
static size_t ulen(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Byte offset of code point k. */
static size_t uoff(const char *s, size_t k) {
    size_t i = 0;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && k-- == 0) break;
    return i;
}

enum { J_LEFT, J_RIGHT, J_CENTER };

static char *justify(pr *p, const char *s, size_t width, int mode) {
    size_t n = ulen(s), len = strlen(s);
    if (n >= width) return (char *)s;
    size_t marg = width - n, left = 0;
    if (mode == J_RIGHT) left = marg;
    if (mode == J_CENTER) left = marg / 2 + (marg & width & 1); /* str.center */
    char *d = cbag__arena_alloc(&p->a, len + marg + 1);
    if (!d) {
        p->oom = 1;
        return (char *)s;
    }
    memset(d, ' ', left);
    memcpy(d + left, s, len);
    memset(d + left + len, ' ', marg - left);
    d[len + marg] = '\0';
    return d;
}

/* ------------------------------------------------------------------------ */
/* Cells                                                                    */

static void put_escaped(cbag__buf *b, const char *s, size_t n, int esc) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (esc && (c == '\t' || c == '\n' || c == '\r'))
            cbag__buf_puts(b, c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r");
        else
            cbag__buf_putc(b, c);
    }
}

/* pandas' pprint_thing: containers to depth 3 and 100 items, strings in
 * dicts quoted (without escaping), else Python's str(). */
static void pprint(cbag__buf *b, const cbag_val *v, int lvl, int quote,
                   int esc) {
    if (v->type == CBAG_DICT && lvl < NEST_DEPTH) {
        const cbag__dict *d = v->u.dict;
        cbag__buf_putc(b, '{');
        for (uint32_t i = 0; i < d->len && i < MAX_SEQ_ITEMS; i++) {
            if (i) cbag__buf_puts(b, ", ");
            pprint(b, &d->entries[i].key, lvl + 1, 1, 0);
            cbag__buf_puts(b, ": ");
            pprint(b, &d->entries[i].val, lvl + 1, 1, 0);
        }
        if (d->len > MAX_SEQ_ITEMS) cbag__buf_puts(b, ", ...");
        cbag__buf_putc(b, '}');
    } else if (cbag__is_seq(v) && lvl < NEST_DEPTH) {
        const cbag__seq *q = v->u.seq;
        int tuple = v->type == CBAG_TUPLE;
        cbag__buf_putc(b, tuple ? '(' : '[');
        for (uint32_t i = 0; i < q->len && i < MAX_SEQ_ITEMS; i++) {
            if (i) cbag__buf_puts(b, ", ");
            pprint(b, &q->items[i], lvl + 1, quote, esc);
        }
        if (q->len > MAX_SEQ_ITEMS)
            cbag__buf_puts(b, ", ...");
        else if (tuple && q->len == 1)
            cbag__buf_putc(b, ',');
        cbag__buf_putc(b, tuple ? ')' : ']');
    } else if (v->type == CBAG_STR) {
        if (quote) cbag__buf_putc(b, '\'');
        put_escaped(b, v->u.s, v->len, esc);
        if (quote) cbag__buf_putc(b, '\'');
    } else if (cbag__repr(b, v)) {
        b->oom = 1;
    }
}

/* pandas' _trim_zeros_float: drop trailing zeros equally from every
 * plain decimal number, keeping one digit after the point. */
static int plain_decimal(const char *s) {
    while (*s == ' ')
        s++;
    if (*s == '+' || *s == '-') s++;
    if (*s < '0' || *s > '9') return 0;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s++ != '.') return 0;
    while (*s >= '0' && *s <= '9')
        s++;
    return *s == '\0';
}

static void trim_zeros(char **v, size_t m) {
    for (;;) {
        size_t nums = 0, zeros = 0;
        for (size_t i = 0; i < m; i++)
            if (plain_decimal(v[i])) {
                nums++;
                zeros += v[i][strlen(v[i]) - 1] == '0';
            }
        if (!nums || zeros != nums) break;
        for (size_t i = 0; i < m; i++)
            if (plain_decimal(v[i])) v[i][strlen(v[i]) - 1] = '\0';
    }
    for (size_t i = 0; i < m; i++) {
        size_t n = strlen(v[i]);
        if (plain_decimal(v[i]) && v[i][n - 1] == '.') {
            v[i][n] = '0'; /* the strings have room: they lost a digit */
            v[i][n + 1] = '\0';
        }
    }
}

/* pandas' FloatArrayFormatter: "% .6f" trimmed, or "% .6e" when a value
 * would show as 0 or a wide one is over 1e6. Missing values: "NaN". */
static void fmt_floats(pr *p, const double *x, const uint8_t *miss, size_t m,
                       char **out) {
    int small = 0, large = 0;
    for (size_t i = 0; i < m; i++) {
        double a = fabs(x[i]);
        if (miss[i] || isnan(a)) continue;
        if (a > 1e6) large = 1;
        if (a < 1e-6 && a > 0) small = 1;
    }
    for (int sci = 0; sci < 2; sci++) {
        size_t maxlen = 0;
        for (size_t i = 0; i < m; i++) {
            char tmp[400];
            if (miss[i] || isnan(x[i]))
                snprintf(tmp, sizeof tmp, "NaN");
            else
                snprintf(tmp, sizeof tmp, sci ? "% .*e" : "% .*f", PRECISION,
                         x[i]);
            out[i] = pr_dup(p, tmp, strlen(tmp) + 1); /* room for a '0' */
            if (!out[i]) return;
            out[i][strlen(tmp)] = '\0';
        }
        trim_zeros(out, m);
        for (size_t i = 0; i < m; i++)
            if (strlen(out[i]) > maxlen) maxlen = strlen(out[i]);
        if (sci || !(small || (maxlen > PRECISION + 6 && large))) return;
    }
}

/* The rows shown: partition and row of each. */
typedef struct rowref {
    size_t part, row;
} rowref;

/* Cell strings of column j (type t) for the rows shown, with pandas'
 * leading space. index: format the index instead (no leading space). */
static char **fmt_cells(pr *p, const cbag_frame *f, const rowref *rows,
                        size_t m, long j, int lead) {
    char **out = cbag__arena_alloc(&p->a, (m + 1) * sizeof *out);
    if (!out) {
        p->oom = 1;
        return NULL;
    }
    int t = j < 0 ? f->index_type : f->types[j];
    if (t == F_FLOAT) {
        double *x = cbag__arena_alloc(&p->a, (m + 1) * sizeof *x);
        uint8_t *miss = cbag__arena_alloc(&p->a, m + 1);
        if (!x || !miss) {
            p->oom = 1;
            return NULL;
        }
        for (size_t i = 0; i < m; i++) {
            const cbag__fpart *q = &f->parts[rows[i].part];
            const cbag__fcol *c = j < 0 ? &q->index : &q->cols[j];
            miss[i] = !cbag__fvalid(c, rows[i].row);
            x[i] = miss[i] ? 0 : ((const double *)c->data)[rows[i].row];
        }
        fmt_floats(p, x, miss, m, out);
        return p->oom ? NULL : out;
    }
    for (size_t i = 0; i < m; i++) {
        const cbag__fpart *q = &f->parts[rows[i].part];
        cbag_val v;
        if (j < 0)
            cbag__findex(f, q, rows[i].row, &v);
        else
            cbag__fcell(&q->cols[j], t, rows[i].row, &v);
        int missing = j >= 0 && !cbag__fvalid(&q->cols[j], rows[i].row);
        cbag__buf b = CBAG__BUF_INIT;
        if (missing) {
            /* pandas: NaN, with the column's leading space (floats have
             * a sign space in their other cells instead). */
            cbag__buf_puts(&b, lead ? " NaN" : "NaN");
        } else {
            if (lead && !(t == F_INT && v.u.i < 0)) cbag__buf_putc(&b, ' ');
            pprint(&b, &v, 0, 0, 1);
        }
        if (!(out[i] = pr_buf(p, &b))) return NULL;
    }
    return out;
}

/* pandas' _make_fixed_width: at most 50 wide (longer cells end in
 * "..."), right-aligned, at least minimum wide. Returns the width. */
static size_t fix_width(pr *p, char **v, size_t m, size_t minimum, int mode) {
    size_t w = minimum;
    for (size_t i = 0; i < m; i++)
        if (ulen(v[i]) > w) w = ulen(v[i]);
    if (w > MAX_COLWIDTH) w = MAX_COLWIDTH;
    for (size_t i = 0; i < m; i++) {
        if (ulen(v[i]) > w) {
            size_t cut = uoff(v[i], w - 3);
            char *s = cbag__arena_alloc(&p->a, cut + 4);
            if (!s) {
                p->oom = 1;
                return w;
            }
            memcpy(s, v[i], cut);
            memcpy(s + cut, "...", 4);
            v[i] = s;
        }
        v[i] = justify(p, v[i], w, mode);
    }
    return w;
}

/* pandas' adjoin: each list padded to its widest string plus space (the
 * last one to its widest), side by side. */
static void adjoin(cbag__buf *b, size_t space, size_t nl, char ***lists,
                   size_t rows) {
    size_t *w = cbag__calloc(nl + 1, sizeof *w);
    if (!w) {
        b->oom = 1;
        return;
    }
    for (size_t l = 0; l < nl; l++)
        for (size_t r = 0; r < rows; r++)
            if (ulen(lists[l][r]) > w[l]) w[l] = ulen(lists[l][r]);
    for (size_t r = 0; r < rows; r++) {
        if (r) cbag__buf_putc(b, '\n');
        for (size_t l = 0; l < nl; l++) {
            const char *s = lists[l][r];
            cbag__buf_puts(b, s);
            size_t pad = w[l] + (l + 1 < nl ? space : 0) - ulen(s);
            for (size_t k = 0; k < pad; k++)
                cbag__buf_putc(b, ' ');
        }
    }
    cbag__free(w);
}

/* Index strings: left-aligned, with the spaces all share trimmed
 * (Index.format). */
static char **fmt_index(pr *p, const cbag_frame *f, const rowref *rows,
                        size_t m) {
    int t = f->index_type;
    char **v = fmt_cells(p, f, rows, m, -1, t == F_INT);
    if (!v) return NULL;
    if (t != F_INT && t != F_FLOAT) return v;
    fix_width(p, v, m, 0, J_LEFT);
    for (;;) { /* trim_front */
        size_t i = 0;
        while (i < m && v[i][0] == ' ')
            i++;
        if (!m || i < m) break;
        for (i = 0; i < m; i++)
            v[i]++;
    }
    return v;
}

static int is_numeric(int t) {
    return t == F_INT || t == F_FLOAT || t == F_BOOL;
}

/* The text of the frame or series, malloc'd. */
static char *render(cbag_frame *f, size_t *len) {
    pr p;
    cbag__arena_init(&p.a, 16 * 1024);
    p.oom = 0;
    cbag__buf b = CBAG__BUF_INIT;
    uint64_t total = cbag_frame_len(f);
    int trunc = total > MAX_ROWS;
    size_t m = trunc ? MIN_ROWS : (size_t)total, half = MIN_ROWS / 2;
    rowref *rows = cbag__arena_alloc(&p.a, (m + 1) * sizeof *rows);
    if (!rows) goto oom;
    size_t k = 0;
    uint64_t seen = 0;
    for (size_t q = 0; q < f->nparts; q++)
        for (size_t r = 0; r < f->parts[q].n; r++, seen++)
            if (!trunc || seen < half || seen >= total - half)
                rows[k++] = (rowref){q, r};
    if (f->series) {
        const char *dt = cbag__ftype_name(f->types[0]);
        if (total == 0) {
            cbag__buf_puts(&b, "Series([], ");
            if (f->series_name)
                cbag__buf_printf(&b, "Name: %s, ", f->series_name);
            cbag__buf_printf(&b, "dtype: %s)", dt);
            goto done;
        }
        char **idx = fmt_index(&p, f, rows, m);
        char **val = fmt_cells(&p, f, rows, m, 0, 1);
        if (!idx || !val) goto oom;
        size_t w = fix_width(&p, val, m, 0, J_RIGHT);
        size_t n = m;
        if (trunc) { /* a centred row of dots, an empty index cell */
            char **i2 = cbag__arena_alloc(&p.a, (m + 1) * sizeof *i2);
            char **v2 = cbag__arena_alloc(&p.a, (m + 1) * sizeof *v2);
            if (!i2 || !v2) goto oom;
            for (size_t r = 0, o = 0; r <= m; r++, o++) {
                if (r == half) {
                    i2[r] = "";
                    v2[r] = justify(&p, w > 3 ? "..." : "..", w, J_CENTER);
                    o--;
                    continue;
                }
                i2[r] = idx[o];
                v2[r] = val[o];
            }
            idx = i2, val = v2, n = m + 1;
        }
        if (f->index_name) cbag__buf_printf(&b, "%s\n", f->index_name);
        char **lists[2] = {idx, val};
        adjoin(&b, 3, 2, lists, n);
        cbag__buf_putc(&b, '\n');
        if (f->series_name) cbag__buf_printf(&b, "Name: %s, ", f->series_name);
        if (trunc)
            cbag__buf_printf(&b, "Length: %llu, ", (unsigned long long)total);
        cbag__buf_printf(&b, "dtype: %s", dt);
        goto done;
    }
    if (total == 0 || f->ncols == 0) {
        cbag__buf_puts(&b, "Empty DataFrame\nColumns: [");
        for (size_t j = 0; j < f->ncols; j++)
            cbag__buf_printf(&b, "%s%s", j ? ", " : "", f->names[j]);
        cbag__buf_puts(&b, "]\nIndex: [");
        char **idx = m ? fmt_cells(&p, f, rows, m, -1, 0) : NULL;
        for (size_t r = 0; r < m && idx; r++)
            cbag__buf_printf(&b, "%s%s", r ? ", " : "", idx[r]);
        cbag__buf_putc(&b, ']');
        goto done;
    }
    /* Header rows: the column names, then the index name if any. */
    size_t hdr = f->index_name ? 2 : 1, n = hdr + m + (trunc ? 1 : 0);
    char ***lists = cbag__arena_alloc(&p.a, (f->ncols + 1) * sizeof *lists);
    if (!lists) goto oom;
    for (size_t l = 0; l <= f->ncols; l++) {
        lists[l] = cbag__arena_alloc(&p.a, (n + 1) * sizeof **lists);
        if (!lists[l]) goto oom;
    }
    char **idx = fmt_index(&p, f, rows, m);
    if (!idx) goto oom;
    char **ix = cbag__arena_alloc(&p.a, (m + 2) * sizeof *ix);
    if (!ix) goto oom;
    ix[0] = f->index_name ? (char *)f->index_name : "";
    memcpy(ix + 1, idx, m * sizeof *ix);
    size_t iw = fix_width(&p, f->index_name ? ix : ix + 1,
                          f->index_name ? m + 1 : m, 0, J_LEFT);
    lists[0][0] = "";
    for (size_t r = 0; r < m + (hdr - 1); r++)
        lists[0][1 + r] = ix[f->index_name ? r : r + 1];
    for (size_t j = 0; j < f->ncols; j++) {
        char **val = fmt_cells(&p, f, rows, m, (long)j, 1);
        if (!val) goto oom;
        cbag__buf h = CBAG__BUF_INIT;
        if (is_numeric(f->types[j])) cbag__buf_putc(&h, ' ');
        put_escaped(&h, f->names[j], strlen(f->names[j]), 1);
        char *head = pr_buf(&p, &h);
        if (!head) goto oom;
        size_t hw = ulen(head), w = fix_width(&p, val, m, hw, J_RIGHT);
        char **l = lists[j + 1];
        l[0] = justify(&p, head, w > hw ? w : hw, J_RIGHT);
        if (hdr == 2) l[1] = "";
        memcpy(l + hdr, val, m * sizeof *l);
    }
    if (trunc) { /* dots after the first 5 rows: "..." or ".." to fit */
        size_t at = hdr + half;
        for (size_t l = 0; l <= f->ncols; l++) {
            size_t cw = l == 0 ? iw : ulen(lists[l][hdr + half - 1]);
            memmove(lists[l] + at + 1, lists[l] + at,
                    (n - at - 1) * sizeof **lists);
            lists[l][at] = justify(&p, cw > 3 ? "..." : "..", cw,
                                   l == 0 ? J_LEFT : J_RIGHT);
        }
    }
    adjoin(&b, 1, f->ncols + 1, lists, n);
    if (trunc)
        cbag__buf_printf(&b, "\n\n[%llu rows x %zu columns]",
                         (unsigned long long)total, f->ncols);
done:
    if (p.oom) goto oom;
    cbag__arena_free(&p.a);
    return cbag__buf_detach(&b, len);
oom:
    cbag__arena_free(&p.a);
    cbag__buf_free(&b);
    return NULL;
}

int cbag_frame_print(FILE *out, cbag_frame *f) {
    if (!f) return CBAG_INVALID;
    size_t len;
    char *s = render(f, &len);
    if (!s) {
        cbag__error(f->cx, CBAG_NOMEM, "print: out of memory");
        return CBAG_NOMEM;
    }
    int rc = fwrite(s, 1, len, out) == len && fputc('\n', out) != EOF ? CBAG_OK
                                                                      : CBAG_IO;
    cbag__free(s);
    if (rc) cbag__error(f->cx, CBAG_IO, "print: write failed");
    return rc;
}

int cbag_frame_print_head(FILE *out, cbag_frame *f, size_t n) {
    cbag_frame *h = cbag_frame_head(f, n);
    return h ? cbag_frame_print(out, h) : f ? f->cx->code : CBAG_INVALID;
}
