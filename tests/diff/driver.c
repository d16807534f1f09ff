/*
 * driver.c: the cbag side of the differential tests against dask.bag.
 *
 *   driver DATA_DIR MANIFEST SCHEDULER WORKERS
 *
 * MANIFEST has one line per case, "name data npartitions partition_size"
 * (written by `cases.py --manifest`; data "-" means no data set). For each
 * case the driver looks up the build function of the same name in CASES
 * below, which mirrors the Python pipeline of tests/diff/cases.py with the C
 * API, and prints one JSON line:
 *
 *   {"case": N, "kind": "bag"|"item"|"take", "npartitions": n (bags),
 *    "warned": bool, "json": "<CBAG_FMT_JSON text>", "repr": "<repr>"}
 *   {"case": N, "stage": "compute"|"load", "error": "<first 60 chars>",
 *    "message": "<whole message>", "code": n, "code_name": "USER"}
 *   {"case": N, "crash": "signal 11 (Segmentation fault)"}
 *   {"case": N, "missing": true}              (no build function here)
 *
 * Every case runs in a forked child with a fresh context, so a crash or a
 * hang (alarm after CASE_TIMEOUT s) of one case is reported and the others
 * still run. The JSON and repr texts are passed as JSON strings (not
 * embedded raw) so that a malformed JSON output of cbag cannot break the
 * line; compare.py parses them.
 *
 * Callbacks carry the names of their Python twins in cases.py, so error
 * messages name them alike ("map(fail_on_seven) ...").
 */
#include "cbag.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CASE_TIMEOUT 60

static const char *g_datadir;

/* ------------------------------------------------------------------------ */
/* Output helpers                                                           */

/* Writes s[0..n) as a JSON string: quotes, backslashes and control bytes
 * escaped, everything else (UTF-8 included) as is. */
static void put_jstr(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void put_jstrz(FILE *f, const char *s)
{
    put_jstr(f, s ? s : "", s ? strlen(s) : 0);
}

static const char *code_name(int code)
{
    static const char *names[] = {"OK",    "ERROR",    "NOMEM",      "INVALID",
                                  "USER",  "PARSE",    "IO",         "TYPE",
                                  "KEY",   "EMPTY",    "OVERFLOW",   "INTERRUPTED"};
    if (code >= 0 && code < (int)(sizeof names / sizeof *names))
        return names[code];
    return "?";
}

/* ------------------------------------------------------------------------ */
/* Data sets                                                                */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* A data set by name, parsed on cbag_main(cx); NULL on failure, with the
 * reason in *why. One context per process (per case), so a tiny cache
 * keyed by name is enough. */
static const char *g_load_error;
static const cbag_val *data(cbag_ctx *cx, const char *name)
{
    static struct {
        char name[64];
        const cbag_val *v;
    } cache[8];
    static int ncache;
    for (int i = 0; i < ncache; i++)
        if (!strcmp(cache[i].name, name))
            return cache[i].v;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", g_datadir, name);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        g_load_error = "cannot read data file";
        return NULL;
    }
    const cbag_val *v = cbag_json_parse(cbag_main(cx), text, len);
    free(text);
    if (!v) {
        g_load_error = "cbag_json_parse failed";
        return NULL;
    }
    if (ncache < 8) {
        snprintf(cache[ncache].name, sizeof cache[ncache].name, "%s", name);
        cache[ncache++].v = v;
    }
    return v;
}

/* The first n elements of the list v, as a new list (Python's v[:n]). */
static const cbag_val *head(cbag_ctx *cx, const cbag_val *v, size_t n)
{
    cbag_call *m = cbag_main(cx);
    cbag_val *out = cbag_new_list(m, n);
    for (size_t i = 0; i < n && i < cbag_len(v); i++)
        cbag_append(m, out, cbag_at(v, (int64_t)i));
    return out;
}

static cbag *seqnp(cbag_ctx *cx, const cbag_val *v, size_t np)
{
    return v ? cbag_from_sequence(cx, v, np, 0) : NULL;
}

/* Values for keys, defaults and initial values, on the context. */
static const cbag_val *S(cbag_ctx *cx, const char *s) { return cbag_new_strz(cbag_main(cx), s); }
static const cbag_val *I(cbag_ctx *cx, int64_t i) { return cbag_new_int(cbag_main(cx), i); }
static const cbag_val *L(cbag_ctx *cx, size_t n, const cbag_val *const *xs)
{
    cbag_val *l = cbag_new_list(cbag_main(cx), n);
    for (size_t i = 0; i < n; i++)
        cbag_append(cbag_main(cx), l, xs[i]);
    return l;
}

/* ------------------------------------------------------------------------ */
/* Value helpers for callbacks                                              */

static bool is_intlike(const cbag_val *v)
{
    cbag_type t = cbag_typeof(v);
    return t == CBAG_INT || t == CBAG_BOOL;
}

static bool is_num(const cbag_val *v)
{
    return is_intlike(v) || cbag_typeof(v) == CBAG_FLOAT;
}

/* Python's a + b for numbers (bool counts as int; int + int stays exact,
 * with int64 overflow an error) and for strings. */
static const cbag_val *py_add(cbag_call *c, const cbag_val *a, const cbag_val *b)
{
    if (is_intlike(a) && is_intlike(b)) {
        int64_t r;
        if (__builtin_add_overflow(cbag_int_value(a), cbag_int_value(b), &r))
            return cbag_failc(c, CBAG_OVERFLOW, "OverflowError: int64 addition");
        return cbag_new_int(c, r);
    }
    if (is_num(a) && is_num(b)) {
        /* float + int: the int converts to double first, as in Python */
        double x = cbag_typeof(a) == CBAG_FLOAT ? cbag_float_value(a)
                                                : (double)cbag_int_value(a);
        double y = cbag_typeof(b) == CBAG_FLOAT ? cbag_float_value(b)
                                                : (double)cbag_int_value(b);
        return cbag_new_float(c, x + y);
    }
    if (cbag_typeof(a) == CBAG_STR && cbag_typeof(b) == CBAG_STR) {
        size_t na, nb;
        const char *sa = cbag_str(a, &na), *sb = cbag_str(b, &nb);
        char *buf = malloc(na + nb + 1);
        if (!buf)
            return cbag_failc(c, CBAG_NOMEM, "MemoryError");
        memcpy(buf, sa, na);
        memcpy(buf + na, sb, nb);
        const cbag_val *r = cbag_new_str(c, buf, na + nb);
        free(buf);
        return r;
    }
    return cbag_failc(c, CBAG_TYPE, "TypeError: unsupported operand type(s) for +: '%s' and '%s'",
                      cbag_type_name(cbag_typeof(a)), cbag_type_name(cbag_typeof(b)));
}

/* Python's x == 7 for the int 7. */
static bool eq_int(const cbag_val *x, int64_t k)
{
    return is_intlike(x) ? cbag_int_value(x) == k
                         : cbag_typeof(x) == CBAG_FLOAT && cbag_float_value(x) == (double)k;
}

/* ------------------------------------------------------------------------ */
/* Callbacks: the C twins of the functions of cases.py                      */

static const cbag_val *count_transactions(cbag_call *c, const cbag_val *d, void *ud)
{
    const cbag_val *name = cbag_key(c, d, "name");
    const cbag_val *tx = cbag_key(c, d, "transactions");
    if (!name || !tx)
        return NULL;
    cbag_val *out = cbag_new_dict(c, 2);
    cbag_set(c, out, "name", name);
    cbag_set(c, out, "count", cbag_new_int(c, (int64_t)cbag_len(tx)));
    return out;
}

static int is_alice(cbag_call *c, const cbag_val *r, void *ud)
{
    const cbag_val *name = cbag_key(c, r, "name");
    return name ? cbag_str_eq(name, "Alice") : -1;
}

static int is_even(cbag_call *c, const cbag_val *x, void *ud)
{
    if (!is_intlike(x)) {
        cbag_failc(c, CBAG_TYPE, "is_even: not an int");
        return -1;
    }
    return cbag_int_value(x) % 2 == 0;
}

static const cbag_val *square(cbag_call *c, const cbag_val *x, void *ud)
{
    if (cbag_typeof(x) == CBAG_FLOAT)
        return cbag_new_float(c, cbag_float_value(x) * cbag_float_value(x));
    return cbag_new_int(c, cbag_int_value(x) * cbag_int_value(x));
}

static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b, void *ud)
{
    return py_add(c, a, b);
}

static const cbag_val *incr(cbag_call *c, const cbag_val *tot, const cbag_val *x, void *ud)
{
    return cbag_new_int(c, cbag_int_value(tot) + 1);
}

static const cbag_val *denormalize(cbag_call *c, const cbag_val *r, void *ud)
{
    const cbag_val *txs = cbag_key(c, r, "transactions");
    const cbag_val *id = cbag_key(c, r, "id"), *name = cbag_key(c, r, "name");
    if (!txs || !id || !name)
        return NULL;
    cbag_val *out = cbag_new_list(c, cbag_len(txs));
    for (size_t i = 0; i < cbag_len(txs); i++) {
        const cbag_val *t = cbag_at(txs, (int64_t)i);
        const cbag_val *amount = cbag_key(c, t, "amount");
        const cbag_val *tid = cbag_key(c, t, "transaction-id");
        if (!amount || !tid)
            return NULL;
        cbag_val *d = cbag_new_dict(c, 4);
        cbag_set(c, d, "id", id);
        cbag_set(c, d, "name", name);
        cbag_set(c, d, "amount", amount);
        cbag_set(c, d, "transaction-id", tid);
        cbag_append(c, out, d);
    }
    return out;
}

static int has_email(cbag_call *c, const cbag_val *r, void *ud)
{
    return cbag_typeof(cbag_get(r, "email")) != CBAG_NULL;
}

static int is_number(cbag_call *c, const cbag_val *r, void *ud)
{
    return is_num(cbag_get(r, "v"));
}

static int is_pure_number(cbag_call *c, const cbag_val *r, void *ud)
{
    cbag_type t = cbag_typeof(cbag_get(r, "v"));
    return t == CBAG_INT || t == CBAG_FLOAT;
}

static const cbag_val *get_v(cbag_call *c, const cbag_val *r, void *ud)
{
    return cbag_key(c, r, "v");
}

static const cbag_val *ntransactions(cbag_call *c, const cbag_val *r, void *ud)
{
    const cbag_val *tx = cbag_key(c, r, "transactions");
    return tx ? cbag_new_int(c, (int64_t)cbag_len(tx)) : NULL;
}

static int gt_900000(cbag_call *c, const cbag_val *x, void *ud)
{
    return cbag_int_value(x) > 900000;
}

static int never(cbag_call *c, const cbag_val *x, void *ud) { return 0; }

static const cbag_val *fail_on_seven(cbag_call *c, const cbag_val *x, void *ud)
{
    if (eq_int(x, 7))
        return cbag_fail(c, "ValueError: seven");
    return x;
}

static int pred_fail_on_seven(cbag_call *c, const cbag_val *x, void *ud)
{
    if (eq_int(x, 7)) {
        cbag_fail(c, "ValueError: seven");
        return -1;
    }
    return 1;
}

static const cbag_val *part_len(cbag_call *c, const cbag_val *p, void *ud)
{
    cbag_val *out = cbag_new_list(c, 1);
    cbag_append(c, out, cbag_new_int(c, (int64_t)cbag_len(p)));
    return out;
}

static const cbag_val *part_reverse(cbag_call *c, const cbag_val *p, void *ud)
{
    size_t n = cbag_len(p);
    cbag_val *out = cbag_new_list(c, n);
    for (size_t i = n; i-- > 0;)
        cbag_append(c, out, cbag_at(p, (int64_t)i));
    return out;
}

static int64_t sum_ints(const cbag_val *p)
{
    int64_t s = 0;
    for (size_t i = 0; i < cbag_len(p); i++)
        s += cbag_int_value(cbag_at(p, (int64_t)i));
    return s;
}

static const cbag_val *part_sum_tuple(cbag_call *c, const cbag_val *p, void *ud)
{
    const cbag_val *xs[2] = {cbag_new_int(c, sum_ints(p)),
                             cbag_new_int(c, (int64_t)cbag_len(p))};
    return cbag_new_tuplev(c, 2, xs);
}

static const cbag_val *part_sum_str(cbag_call *c, const cbag_val *p, void *ud)
{
    return cbag_new_strf(c, "%lld", (long long)sum_ints(p));
}

/* "(" + " ".join(parts) + ")" */
static const cbag_val *agg_paren(cbag_call *c, const cbag_val *parts, void *ud)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return cbag_failc(c, CBAG_NOMEM, "open_memstream");
    fputc('(', f);
    for (size_t i = 0; i < cbag_len(parts); i++) {
        size_t n;
        const char *s = cbag_str(cbag_at(parts, (int64_t)i), &n);
        if (!s) {
            fclose(f);
            free(buf);
            return cbag_failc(c, CBAG_TYPE, "agg_paren: not a str");
        }
        if (i)
            fputc(' ', f);
        fwrite(s, 1, n, f);
    }
    fputc(')', f);
    fclose(f);
    const cbag_val *r = cbag_new_str(c, buf, len);
    free(buf);
    return r;
}

static const cbag_val *part_list(cbag_call *c, const cbag_val *p, void *ud) { return p; }

static const cbag_val *agg_concat(cbag_call *c, const cbag_val *parts, void *ud)
{
    cbag_val *out = cbag_new_list(c, 0);
    for (size_t i = 0; i < cbag_len(parts); i++) {
        const cbag_val *part = cbag_at(parts, (int64_t)i);
        for (size_t j = 0; j < cbag_len(part); j++)
            cbag_append(c, out, cbag_at(part, (int64_t)j));
    }
    return out;
}

/* Python's max(v): the first of the largest. */
static const cbag_val *py_max(const cbag_val *v)
{
    const cbag_val *m = cbag_at(v, 0);
    for (size_t i = 1; i < cbag_len(v); i++)
        if (cbag_cmp(cbag_at(v, (int64_t)i), m) > 0)
            m = cbag_at(v, (int64_t)i);
    return m;
}

static const cbag_val *key_max(cbag_call *c, size_t argc, const cbag_val *const *argv, void *ud)
{
    if (argc != 2)
        return cbag_failc(c, CBAG_TYPE, "key_max takes 2 arguments, %zu given", argc);
    if (cbag_len(argv[1]) == 0)
        return cbag_failc(c, CBAG_EMPTY, "max() arg is an empty sequence");
    const cbag_val *xs[2] = {argv[0], py_max(argv[1])};
    return cbag_new_tuplev(c, 2, xs);
}

static const cbag_val *star_add(cbag_call *c, size_t argc, const cbag_val *const *argv, void *ud)
{
    if (argc != 2)
        return cbag_failc(c, CBAG_TYPE, "star_add takes 2 arguments, %zu given", argc);
    return py_add(c, argv[0], argv[1]);
}

static const cbag_val *tag_name(cbag_call *c, const cbag_val *r, void *ud)
{
    const cbag_val *id = cbag_key(c, r, "id"), *name = cbag_key(c, r, "name");
    const cbag_val *tx = cbag_key(c, r, "transactions");
    if (!id || !name || !tx)
        return NULL;
    const cbag_val *xs[3] = {id, name, cbag_bool(cbag_len(tx) > 0)};
    return cbag_new_tuplev(c, 3, xs);
}

/* sum(t["amount"] for t in r["transactions"]) */
static const cbag_val *amount_sum(cbag_call *c, const cbag_val *r)
{
    const cbag_val *txs = cbag_key(c, r, "transactions");
    if (!txs)
        return NULL;
    const cbag_val *acc = cbag_new_int(c, 0);
    for (size_t i = 0; acc && i < cbag_len(txs); i++) {
        const cbag_val *a = cbag_key(c, cbag_at(txs, (int64_t)i), "amount");
        acc = a ? py_add(c, acc, a) : NULL;
    }
    return acc;
}

static const cbag_val *binop_amounts(cbag_call *c, const cbag_val *tot, const cbag_val *r, void *ud)
{
    const cbag_val *s = amount_sum(c, r);
    return s ? py_add(c, tot, s) : NULL;
}

static const cbag_val *str_concat(cbag_call *c, const cbag_val *a, const cbag_val *b, void *ud)
{
    return py_add(c, a, b);
}

static const cbag_val *max2(cbag_call *c, const cbag_val *a, const cbag_val *b, void *ud)
{
    return cbag_cmp(b, a) > 0 ? b : a;
}

static const cbag_val *add_fail_on_seven(cbag_call *c, const cbag_val *a, const cbag_val *b,
                                         void *ud)
{
    if (eq_int(b, 7))
        return cbag_fail(c, "ValueError: seven");
    return py_add(c, a, b);
}

static const cbag_val *part_fail_on_seven(cbag_call *c, const cbag_val *p, void *ud)
{
    for (size_t i = 0; i < cbag_len(p); i++)
        if (eq_int(cbag_at(p, (int64_t)i), 7))
            return cbag_fail(c, "ValueError: seven");
    return cbag_new_int(c, sum_ints(p));
}

/* Python's sum(parts) of ints, for aggregates. */
static const cbag_val *sum_list(cbag_call *c, const cbag_val *parts, void *ud)
{
    return cbag_new_int(c, sum_ints(parts));
}

static int is_bool(cbag_call *c, const cbag_val *x, void *ud) { return cbag_typeof(x) == CBAG_BOOL; }
static int is_three(cbag_call *c, const cbag_val *x, void *ud) { return eq_int(x, 3); }
static int truthy(cbag_call *c, const cbag_val *x, void *ud) { return cbag_truthy(x); }
static int small_ends(cbag_call *c, const cbag_val *x, void *ud)
{
    int64_t v = cbag_int_value(x);
    return v <= 2 || v >= 9;
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                    */

typedef struct run {
    cbag_ctx *cx;
    cbag *b;               /* the manifest's bag; NULL for data "-" */
    const cbag_val *none;  /* Python's None, for defaults */
    /* what to compute: one of */
    cbag *bag;             /* cbag_compute */
    cbag_item *item;       /* cbag_compute_item */
    cbag *take;            /* cbag_take(take, take_k, take_np) */
    size_t take_k;
    int take_np;
} run;

/* Keyed operations (issue 5). */
static const cbag_val *mod7(cbag_call *c, const cbag_val *x, void *ud)
{
    return cbag_new_int(c, ((cbag_int_value(x) % 7) + 7) % 7); /* Python's % */
}

static const cbag_val *neg(cbag_call *c, const cbag_val *x, void *ud)
{
    return cbag_new_int(c, -cbag_int_value(x));
}

static const cbag_val *first_char(cbag_call *c, const cbag_val *x, void *ud)
{
    size_t n;
    const char *s = cbag_str(x, &n);
    if (!s)
        return cbag_failc(c, CBAG_TYPE, "TypeError: not a string");
    size_t k = 0;
    if (n) { /* one code point */
        unsigned char ch = (unsigned char)s[0];
        k = ch < 0x80 ? 1 : ch < 0xE0 ? 2 : ch < 0xF0 ? 3 : 4;
        if (k > n)
            k = n;
    }
    return cbag_new_str(c, s, k);
}

static const cbag_val *first_of(cbag_call *c, const cbag_val *x, void *ud)
{
    const cbag_val *v = cbag_at(x, 0);
    return v ? v : cbag_failc(c, CBAG_KEY, "IndexError: index out of range");
}

static const cbag_val *first_of_self(cbag_call *c, const cbag_val *x, void *ud) { return x; }

static int gt_four(cbag_call *c, const cbag_val *x, void *ud) { return cbag_int_value(x) > 4; }

static cbag *strs_head(run *r, size_t n, size_t np)
{
    const cbag_val *v = data(r->cx, "strs");
    return v ? cbag_from_sequence(r->cx, head(r->cx, v, n), np, 0) : NULL;
}

#define CASE(name) static void name(run *r)
#define CX (r->cx)
#define B (r->b)
#define BAG(e) (r->bag = (e))
#define ITEM(e) (r->item = (e))
#define TAKE(e, k, np) (r->take = (e), r->take_k = (k), r->take_np = (np))

CASE(identity) { BAG(B); }
CASE(sizes) { BAG(cbag_map_partitions(B, part_len, NULL)); }

CASE(range_10_3) { BAG(cbag_range(CX, 10, 3)); }
CASE(range_100_7_sizes) { BAG(cbag_map_partitions(cbag_range(CX, 100, 7), part_len, NULL)); }
CASE(range_1000_1) { ITEM(cbag_sum(cbag_range(CX, 1000, 1))); }
CASE(range_20_20) { BAG(cbag_map_partitions(cbag_range(CX, 20, 20), part_len, NULL)); }
CASE(range_10_4_sizes) { BAG(cbag_map_partitions(cbag_range(CX, 10, 4), part_len, NULL)); }
CASE(range_8_3_sizes) { BAG(cbag_map_partitions(cbag_range(CX, 8, 3), part_len, NULL)); }
CASE(range_7_7) { BAG(cbag_range(CX, 7, 7)); }

static cbag *make_concat3(run *r)
{
    cbag *bags[3] = {seqnp(CX, head(CX, data(CX, "ints"), 100), 3),
                     seqnp(CX, head(CX, data(CX, "strs"), 50), 2),
                     seqnp(CX, data(CX, "empty"), 1)};
    return cbag_concat(CX, 3, bags);
}
CASE(concat3) { BAG(make_concat3(r)); }
CASE(concat3_sizes) { BAG(cbag_map_partitions(make_concat3(r), part_len, NULL)); }
CASE(zip3)
{
    cbag *bags[3] = {cbag_range(CX, 100, 5), seqnp(CX, head(CX, data(CX, "ints"), 100), 5),
                     seqnp(CX, head(CX, data(CX, "strs"), 100), 5)};
    BAG(cbag_zip(CX, 3, bags));
}
CASE(zip_pluck_neg)
{
    cbag *bags[3] = {cbag_range(CX, 100, 5), seqnp(CX, head(CX, data(CX, "ints"), 100), 5),
                     seqnp(CX, head(CX, data(CX, "strs"), 100), 5)};
    BAG(cbag_pluckv(cbag_zip(CX, 3, bags), I(CX, -1), NULL));
}
CASE(zip_single) { BAG(cbag_zip(CX, 1, &B)); }
CASE(zip_starmap)
{
    cbag *bags[2] = {cbag_range(CX, 50, 4), cbag_range(CX, 50, 4)};
    BAG(cbag_starmap(cbag_zip(CX, 2, bags), star_add, NULL));
}
CASE(zip_uneven)
{
    cbag *bags[2] = {B, cbag_filter(B, is_even, NULL)};
    BAG(cbag_zip(CX, 2, bags));
}

CASE(map_count_transactions) { BAG(cbag_map(B, count_transactions, NULL)); }
CASE(filter_is_even_map_square) { BAG(cbag_map(cbag_filter(B, is_even, NULL), square, NULL)); }
CASE(remove_is_even) { BAG(cbag_remove(B, is_even, NULL)); }
CASE(filter_remove_count) { ITEM(cbag_count(cbag_filter(B, gt_900000, NULL))); }
CASE(starmap_add) { BAG(cbag_starmap(B, star_add, NULL)); }
CASE(starmap_key_max) { BAG(cbag_starmap(B, key_max, NULL)); }
CASE(map_tag_tuple) { TAKE(cbag_map(B, tag_name, NULL), 10, 1); }
CASE(map_partitions_reverse) { BAG(cbag_map_partitions(B, part_reverse, NULL)); }
CASE(map_partitions_tuple) { BAG(cbag_map_partitions(B, part_sum_tuple, NULL)); }
CASE(map_json_dumps) { BAG(cbag_map_named(B, "dumps", cbag_json_dumps, NULL)); }
CASE(map_json_roundtrip)
{
    BAG(cbag_map_named(cbag_map_named(B, "dumps", cbag_json_dumps, NULL), "loads",
                       cbag_json_loads, NULL));
}

CASE(pluck_name) { BAG(cbag_pluck(B, "name")); }
CASE(pluck_index0) { BAG(cbag_pluckv(B, I(CX, 0), NULL)); }
CASE(pluck_index_neg1) { BAG(cbag_pluckv(B, I(CX, -1), NULL)); }
CASE(pluck_keys_list)
{
    const cbag_val *keys[2] = {S(CX, "name"), S(CX, "id")};
    TAKE(cbag_pluckv(B, L(CX, 2, keys), NULL), 20, 2);
}
CASE(pluck_email_default) { BAG(cbag_pluckv(B, S(CX, "email"), r->none)); }
CASE(pluck_keys_default)
{
    const cbag_val *keys[3] = {S(CX, "i"), S(CX, "v"), S(CX, "big")};
    BAG(cbag_pluckv(B, L(CX, 3, keys), S(CX, "-")));
}
CASE(pluck_index_default) { TAKE(cbag_pluckv(B, I(CX, 5), I(CX, -1)), 5, 1); }
CASE(pluck_nested_default)
{
    BAG(cbag_pluckv(cbag_pluckv(B, S(CX, "meta"), cbag_new_dict(cbag_main(CX), 0)),
                    S(CX, "geo"), r->none));
}
CASE(pluck_v_mixed) { BAG(cbag_pluckv(B, S(CX, "v"), r->none)); }
CASE(pluck_big) { BAG(cbag_pluckv(B, S(CX, "big"), I(CX, 0))); }
CASE(pluck_index_list)
{
    const cbag_val *keys[2] = {I(CX, 1), I(CX, 0)};
    BAG(cbag_pluckv(B, L(CX, 2, keys), NULL));
}
CASE(pluck_empty_keys) { BAG(cbag_pluckv(B, L(CX, 0, NULL), NULL)); }

CASE(flatten) { BAG(cbag_flatten(B)); }
CASE(flatten_tuples)
{
    const cbag_val *keys[2] = {S(CX, "id"), S(CX, "name")};
    BAG(cbag_flatten(cbag_pluckv(B, L(CX, 2, keys), NULL)));
}
CASE(flatten_twice) { BAG(cbag_flatten(cbag_flatten(cbag_pluck(B, "transactions")))); }
CASE(flatten_denormalize_count) { ITEM(cbag_count(cbag_flatten(cbag_map(B, denormalize, NULL)))); }
CASE(flatten_denormalize_take) { TAKE(cbag_flatten(cbag_map(B, denormalize, NULL)), 5, 1); }

CASE(take3_np7) { TAKE(B, 3, 1); }
CASE(take5_default_small) { TAKE(B, 5, 1); }
CASE(take5_np3_small) { TAKE(B, 5, 3); }
CASE(take5_all_small) { TAKE(B, 5, -1); }
CASE(take0) { TAKE(B, 0, 1); }
CASE(take_filtered_all) { TAKE(cbag_filter(B, gt_900000, NULL), 3, -1); }
CASE(take_more_than_all) { TAKE(B, 50, -1); }
CASE(take_first_part_empty) { TAKE(cbag_filter(B, never, NULL), 2, 1); }
CASE(take1000_all) { TAKE(B, 1000, -1); }
CASE(take_np_too_big) { TAKE(B, 2, 5); }

CASE(count) { ITEM(cbag_count(B)); }
CASE(count_all_filtered) { ITEM(cbag_count(cbag_filter(B, never, NULL))); }
CASE(sum) { ITEM(cbag_sum(B)); }
CASE(sum_mixed_numbers) { ITEM(cbag_sum(cbag_map(cbag_filter(B, is_number, NULL), get_v, NULL))); }
CASE(sum_bools) { ITEM(cbag_sum(cbag_filter(B, is_bool, NULL))); }
CASE(mean) { ITEM(cbag_mean(B)); }
CASE(mean_mixed_numbers) { ITEM(cbag_mean(cbag_map(cbag_filter(B, is_number, NULL), get_v, NULL))); }
CASE(mean_single) { ITEM(cbag_mean(cbag_filter(B, is_three, NULL))); }
CASE(min) { ITEM(cbag_min(B)); }
CASE(max) { ITEM(cbag_max(B)); }
CASE(max_mixed_numbers) { ITEM(cbag_max(cbag_map(cbag_filter(B, is_pure_number, NULL), get_v, NULL))); }
CASE(min_mixed_numbers) { ITEM(cbag_min(cbag_map(cbag_filter(B, is_pure_number, NULL), get_v, NULL))); }
CASE(max_with_empty_partitions) { ITEM(cbag_max(cbag_filter(B, gt_900000, NULL))); }
CASE(max_ntransactions) { ITEM(cbag_max(cbag_map(B, ntransactions, NULL))); }
CASE(max_tuples)
{
    const cbag_val *keys[2] = {S(CX, "name"), S(CX, "id")};
    ITEM(cbag_max(cbag_pluckv(B, L(CX, 2, keys), NULL)));
}
CASE(mean_bools) { ITEM(cbag_mean(cbag_filter(B, is_bool, NULL))); }

CASE(var0) { ITEM(cbag_var(B, 0)); }
CASE(var1) { ITEM(cbag_var(B, 1)); }
CASE(std0) { ITEM(cbag_std(B, 0)); }
CASE(std1) { ITEM(cbag_std(B, 1)); }
CASE(std_mixed_numbers) { ITEM(cbag_std(cbag_map(cbag_filter(B, is_number, NULL), get_v, NULL), 0)); }
CASE(var_single_ddof1) { ITEM(cbag_var(cbag_filter(B, is_three, NULL), 1)); }

CASE(any) { ITEM(cbag_any(B)); }
CASE(all) { ITEM(cbag_all(B)); }
CASE(all_truthy_tail) { ITEM(cbag_all(cbag_filter(B, truthy, NULL))); }
CASE(any_empty_many) { ITEM(cbag_any(cbag_filter(B, never, NULL))); }
CASE(all_empty_many) { ITEM(cbag_all(cbag_filter(B, never, NULL))); }

CASE(fold_add) { ITEM(cbag_fold(B, add, NULL, NULL, NULL)); }
CASE(fold_add_initial0) { ITEM(cbag_fold(B, add, NULL, I(CX, 0), NULL)); }
CASE(fold_add_initial100) { ITEM(cbag_fold(B, add, NULL, I(CX, 100), NULL)); }
CASE(fold_initial100_empty_parts)
{
    ITEM(cbag_fold(cbag_filter(B, small_ends, NULL), add, NULL, I(CX, 100), NULL));
}
CASE(fold_incr_combine_add) { ITEM(cbag_fold(B, incr, add, I(CX, 0), NULL)); }
CASE(fold_amounts) { ITEM(cbag_fold(B, binop_amounts, add, I(CX, 0), NULL)); }
CASE(fold_str_concat) { ITEM(cbag_fold(B, str_concat, NULL, NULL, NULL)); }
CASE(fold_max2) { ITEM(cbag_fold(B, max2, NULL, NULL, NULL)); }
CASE(fold_all_filtered_initial)
{
    ITEM(cbag_fold(cbag_filter(B, never, NULL), add, NULL, I(CX, 100), NULL));
}

CASE(tree_se2) { ITEM(cbag_reduction(B, part_sum_str, agg_paren, 2, NULL)); }
CASE(tree_se3) { ITEM(cbag_reduction(B, part_sum_str, agg_paren, 3, NULL)); }
CASE(tree_default) { ITEM(cbag_reduction(B, part_sum_str, agg_paren, 0, NULL)); }
CASE(tree_se2_with_empties)
{
    ITEM(cbag_reduction(cbag_filter(B, gt_900000, NULL), part_sum_str, agg_paren, 2, NULL));
}
CASE(tree_se2_all_empty)
{
    ITEM(cbag_reduction(cbag_filter(B, never, NULL), part_sum_str, agg_paren, 2, NULL));
}
CASE(tree_concat_se2) { ITEM(cbag_reduction(B, part_list, agg_concat, 2, NULL)); }
CASE(tree_concat_se3) { ITEM(cbag_reduction(B, part_list, agg_concat, 3, NULL)); }

static cbag *alice_counts(run *r)
{
    return cbag_pluck(cbag_map(cbag_filter(B, is_alice, NULL), count_transactions, NULL), "count");
}
static cbag *alice_amounts(run *r)
{
    return cbag_pluck(cbag_flatten(cbag_pluck(cbag_filter(B, is_alice, NULL), "transactions")),
                      "amount");
}
CASE(tut_alice_take5) { TAKE(cbag_map(cbag_filter(B, is_alice, NULL), count_transactions, NULL), 5, 1); }
CASE(tut_alice_pluck_take5) { TAKE(alice_counts(r), 5, 1); }
CASE(tut_alice_mean_count) { ITEM(cbag_mean(alice_counts(r))); }
CASE(tut_alice_flatten_amount_take3) { TAKE(alice_amounts(r), 3, 1); }
CASE(tut_alice_flatten_amount_mean) { ITEM(cbag_mean(alice_amounts(r))); }
CASE(tut_has_email_count) { ITEM(cbag_count(cbag_filter(B, has_email, NULL))); }
CASE(tut_ntransactions_sum) { ITEM(cbag_sum(cbag_map(B, ntransactions, NULL))); }
CASE(take3) { TAKE(B, 3, 1); }

CASE(err_map_callback) { BAG(cbag_map(B, fail_on_seven, NULL)); }
CASE(err_filter_callback) { ITEM(cbag_count(cbag_filter(B, pred_fail_on_seven, NULL))); }
CASE(err_map_in_tutorial) { ITEM(cbag_sum(cbag_map(cbag_pluck(B, "id"), fail_on_seven, NULL))); }
CASE(mean_all_filtered) { ITEM(cbag_mean(cbag_filter(B, never, NULL))); }
CASE(max_all_filtered) { ITEM(cbag_max(cbag_filter(B, never, NULL))); }
CASE(pluck_email) { BAG(cbag_pluck(B, "email")); }
CASE(pluck_index2) { BAG(cbag_pluckv(B, I(CX, 2), NULL)); }
CASE(err_fold_callback) { ITEM(cbag_fold(B, add_fail_on_seven, NULL, NULL, NULL)); }
CASE(err_reduction_callback) { ITEM(cbag_reduction(B, part_fail_on_seven, sum_list, 0, NULL)); }
CASE(err_map_partitions_callback) { BAG(cbag_map_partitions(B, part_fail_on_seven, NULL)); }
CASE(err_zip_npartitions)
{
    cbag *bags[2] = {B, cbag_range(CX, 10, 3)};
    BAG(cbag_zip(CX, 2, bags));
}
CASE(pluck_a) { BAG(cbag_pluck(B, "a")); }
CASE(pluck_int0) { BAG(cbag_pluckv(B, I(CX, 0), NULL)); }
CASE(sum_v_or_none) { ITEM(cbag_sum(cbag_pluckv(B, S(CX, "v"), r->none))); }

CASE(freq) { BAG(cbag_frequencies(B, false)); }
CASE(freq_names) { BAG(cbag_frequencies(cbag_pluck(B, "name"), false)); }
CASE(freq_names_sorted) { BAG(cbag_frequencies(cbag_pluck(B, "name"), true)); }
CASE(freq_mod7_sorted) { BAG(cbag_frequencies(cbag_map(B, mod7, NULL), true)); }
CASE(freq_pairs_tuples)
{
    const cbag_val *k[2] = {I(CX, 0), I(CX, 1)};
    BAG(cbag_frequencies(cbag_pluckv(B, L(CX, 2, k), NULL), true));
}
CASE(freq_empty_parts)
{
    BAG(cbag_frequencies(cbag_map(cbag_filter(B, gt_900000, NULL), mod7, NULL), false));
}
CASE(distinct) { BAG(cbag_distinct(B)); }
CASE(distinct_names) { BAG(cbag_distinct(cbag_pluck(B, "name"))); }
CASE(distinct_key_name) { BAG(cbag_distinct_named(B, NULL, S(CX, "name"), NULL, NULL)); }
CASE(distinct_key_email) { BAG(cbag_distinct_named(B, NULL, S(CX, "email"), NULL, NULL)); }
CASE(distinct_key_fn) { BAG(cbag_distinct_fn(B, mod7, NULL)); }
CASE(topk10) { BAG(cbag_topk(B, 10)); }
CASE(topk_ints_neg) { BAG(cbag_topk_fn(B, 5, neg, NULL)); }
CASE(topk_key_field) { BAG(cbag_topk_named(B, NULL, 5, S(CX, "id"), NULL, NULL)); }
CASE(topk_key_zero) { BAG(cbag_topk_named(B, NULL, 20, I(CX, 0), NULL, NULL)); }
CASE(topk_ties_key) { BAG(cbag_topk_fn(B, 40, first_of, NULL)); }
CASE(topk_more_than_all) { BAG(cbag_topk(B, 50)); }
CASE(topk_strs) { BAG(cbag_topk(B, 7)); }
CASE(topk_empty) { BAG(cbag_topk(B, 3)); }
CASE(topk_zero) { BAG(cbag_topk(B, 0)); }
CASE(acc_add) { BAG(cbag_accumulate(B, add, NULL, NULL)); }
CASE(acc_add_initial) { BAG(cbag_accumulate(B, add, I(CX, -1), NULL)); }
CASE(acc_sizes) { BAG(cbag_map_partitions(cbag_accumulate(B, add, NULL, NULL), part_len, NULL)); }
CASE(acc_initial_sizes)
{
    BAG(cbag_map_partitions(cbag_accumulate(B, add, I(CX, 0), NULL), part_len, NULL));
}
CASE(acc_max2_floats) { BAG(cbag_accumulate(B, max2, NULL, NULL)); }
CASE(acc_empty_initial) { BAG(cbag_accumulate(B, add, I(CX, 5), NULL)); }
CASE(acc_empty_parts) { BAG(cbag_accumulate(cbag_filter(B, gt_900000, NULL), add, I(CX, 0), NULL)); }
CASE(err_acc_first_empty) { BAG(cbag_accumulate(cbag_filter(B, gt_four, NULL), add, NULL, NULL)); }
CASE(err_acc_callback) { BAG(cbag_accumulate(B, add_fail_on_seven, NULL, NULL)); }
#define REPART_SIZES(name, n)                                                                      \
    CASE(name) { BAG(cbag_map_partitions(cbag_repartition(B, n), part_len, NULL)); }
REPART_SIZES(repart_down3_sizes, 3)
REPART_SIZES(repart_down7_sizes, 7)
REPART_SIZES(repart_down13_sizes, 13)
REPART_SIZES(repart_up23_sizes, 23)
REPART_SIZES(repart_up7_sizes, 7)
REPART_SIZES(repart_up_empty, 4)
CASE(repart_down_to1) { BAG(cbag_repartition(B, 1)); }
CASE(repart_up7) { BAG(cbag_repartition(B, 7)); }
CASE(repart_same) { BAG(cbag_repartition(B, 3)); }
CASE(repart_down_map) { ITEM(cbag_sum(cbag_repartition(cbag_map(B, square, NULL), 4))); }
CASE(product_small_strs) { BAG(cbag_product(B, strs_head(r, 20, 3))); }
CASE(product_sizes) { BAG(cbag_map_partitions(cbag_product(B, strs_head(r, 20, 3)), part_len, NULL)); }
CASE(product_self) { BAG(cbag_product(B, B)); }
CASE(product_empty) { BAG(cbag_product(B, cbag_from_sequence(CX, cbag_new_list(cbag_main(CX), 0), 1, 0))); }
CASE(join_first_char)
{
    BAG(cbag_join_fn(B, head(CX, data(CX, "strs"), 100), first_char, NULL, NULL));
}
CASE(join_kv_names)
{
    const cbag_val *k[2] = {S(CX, "id"), S(CX, "name")};
    BAG(cbag_join_named(cbag_pluckv(B, L(CX, 2, k), NULL), NULL, data(CX, "kv"), NULL, I(CX, 1),
                        NULL, I(CX, 0), NULL, NULL));
}
CASE(join_bag_other)
{
    const cbag_val *k[2] = {S(CX, "id"), S(CX, "name")};
    BAG(cbag_join_named(cbag_pluckv(B, L(CX, 2, k), NULL), NULL, NULL,
                        seqnp(CX, data(CX, "kv"), 1), I(CX, 1), NULL, I(CX, 0), NULL, NULL));
}
CASE(join_mod7) { BAG(cbag_join_fn(B, data(CX, "small"), mod7, NULL, NULL)); }
CASE(join_ties) { BAG(cbag_join_fn(B, data(CX, "ties"), first_of_self, NULL, NULL)); }
CASE(err_join_multi_bag)
{
    const cbag_val *xs[2] = {I(CX, 1), I(CX, 2)};
    BAG(cbag_join_named(B, NULL, NULL, cbag_from_sequence(CX, L(CX, 2, xs), 2, 0), NULL, mod7,
                        NULL, NULL, NULL));
}

static const struct {
    const char *name;
    void (*build)(run *r);
} CASES[] = {
    {"seq_default_small", identity},
    {"seq_default_small_sizes", sizes},
    {"seq_default_ints", identity},
    {"seq_default_ints_sizes", sizes},
    {"seq_np7_ints", identity},
    {"seq_np7_ints_sizes", sizes},
    {"seq_np25_small_sizes", sizes},
    {"seq_np6_small_sizes", sizes},
    {"seq_np4_small_sizes", sizes},
    {"seq_np1_ints", identity},
    {"seq_ps64_ints_sizes", sizes},
    {"seq_ps10000_ints_sizes", sizes},
    {"seq_ps3_small", identity},
    {"seq_default_n99_sizes", sizes},
    {"seq_default_n100_sizes", sizes},
    {"seq_default_n101_sizes", sizes},
    {"seq_default_n199_sizes", sizes},
    {"seq_default_n250_sizes", sizes},
    {"seq_np3_ps4_sizes", sizes},
    {"seq_empty_default", identity},
    {"seq_empty_np5", identity},
    {"seq_accounts_roundtrip", identity},
    {"seq_messy_roundtrip", identity},
    {"seq_floats_wild", identity},
    {"seq_strs", identity},
    {"seq_strs_hard", identity},
    {"seq_bigints", identity},
    {"seq_strs_cn", identity},
    {"seq_floats_roundtrip", identity},
    {"seq_rawjson", identity},
    {"seq_ps1_count", count},
    {"seq_ps1_sum_floats", sum},
    {"seq_ps1_mean_floats", mean},
    {"seq_np2999_sizes", sizes},
    {"range_10_3", range_10_3},
    {"range_100_7_sizes", range_100_7_sizes},
    {"range_1000_1", range_1000_1},
    {"range_20_20", range_20_20},
    {"range_10_4_sizes", range_10_4_sizes},
    {"range_8_3_sizes", range_8_3_sizes},
    {"range_7_7", range_7_7},
    {"concat3", concat3},
    {"concat3_sizes", concat3_sizes},
    {"zip3", zip3},
    {"zip_uneven", zip_uneven},
    {"zip_single", zip_single},
    {"zip_starmap", zip_starmap},
    {"zip_pluck_neg", zip_pluck_neg},
    {"map_count_transactions", map_count_transactions},
    {"filter_is_even_map_square", filter_is_even_map_square},
    {"remove_is_even", remove_is_even},
    {"filter_remove_count", filter_remove_count},
    {"starmap_add", starmap_add},
    {"starmap_key_max", starmap_key_max},
    {"map_tag_tuple", map_tag_tuple},
    {"map_partitions_reverse", map_partitions_reverse},
    {"map_partitions_tuple", map_partitions_tuple},
    {"map_json_dumps", map_json_dumps},
    {"map_json_roundtrip", map_json_roundtrip},
    {"pluck_name", pluck_name},
    {"pluck_index0", pluck_index0},
    {"pluck_index_neg1", pluck_index_neg1},
    {"pluck_keys_list", pluck_keys_list},
    {"pluck_email_default", pluck_email_default},
    {"pluck_keys_default", pluck_keys_default},
    {"pluck_index_default", pluck_index_default},
    {"pluck_nested_default", pluck_nested_default},
    {"pluck_v_mixed", pluck_v_mixed},
    {"pluck_big", pluck_big},
    {"pluck_index_list", pluck_index_list},
    {"pluck_empty_keys", pluck_empty_keys},
    {"flatten_lists", flatten},
    {"flatten_tuples", flatten_tuples},
    {"flatten_strings", flatten},
    {"flatten_dict_keys", flatten},
    {"flatten_twice", flatten_twice},
    {"flatten_denormalize_count", flatten_denormalize_count},
    {"flatten_denormalize_take", flatten_denormalize_take},
    {"take3_np7", take3_np7},
    {"take5_default_small", take5_default_small},
    {"take5_np3_small", take5_np3_small},
    {"take5_all_small", take5_all_small},
    {"take0", take0},
    {"take_filtered_all", take_filtered_all},
    {"take_more_than_all", take_more_than_all},
    {"take_first_part_empty", take_first_part_empty},
    {"take1000_all", take1000_all},
    {"take_np_too_big", take_np_too_big},
    {"count_accounts", count},
    {"count_empty", count},
    {"count_all_filtered", count_all_filtered},
    {"sum_ints", sum},
    {"sum_floats_np70", sum},
    {"sum_floats_default", sum},
    {"sum_floats_wild", sum},
    {"sum_mixed_numbers", sum_mixed_numbers},
    {"sum_bigints_exact", sum},
    {"sum_bools", sum_bools},
    {"sum_empty", sum},
    {"sum_inf", sum},
    {"sum_nan", sum},
    {"mean_nan", mean},
    {"sum_neg_zero", sum},
    {"mean_neg_zero", mean},
    {"min_neg_zero", min},
    {"sum_overflow", sum},
    {"mean_ints", mean},
    {"mean_floats", mean},
    {"mean_floats_default", mean},
    {"mean_mixed_numbers", mean_mixed_numbers},
    {"mean_bigints", mean},
    {"mean_single", mean_single},
    {"min_ints", min},
    {"max_ints", max},
    {"min_floats_wild", min},
    {"max_floats_wild", max},
    {"min_strs", min},
    {"max_strs", max},
    {"max_mixed_numbers", max_mixed_numbers},
    {"min_mixed_numbers", min_mixed_numbers},
    {"max_with_empty_partitions", max_with_empty_partitions},
    {"max_ties_np1", max},
    {"max_ties_np3", max},
    {"min_ties_np1", min},
    {"min_ties_np3", min},
    {"max_tuples", max_tuples},
    {"min_pairs", min},
    {"mean_bools", mean_bools},
    {"max_ntransactions", max_ntransactions},
    {"var_ints_ddof0", var0},
    {"var_ints_ddof1", var1},
    {"std_ints_ddof0", std0},
    {"std_ints_ddof1", std1},
    {"var_floats_ddof0", var0},
    {"std_floats_ddof1", std1},
    {"var_small_ddof1", var1},
    {"std_mixed_numbers", std_mixed_numbers},
    {"var_single_ddof1", var_single_ddof1},
    {"any_truthy", any},
    {"all_truthy", all},
    {"any_falsy", any},
    {"all_falsy", all},
    {"all_truthy_tail", all_truthy_tail},
    {"any_empty", any},
    {"all_empty", all},
    {"any_empty_many", any_empty_many},
    {"all_empty_many", all_empty_many},
    {"fold_add", fold_add},
    {"fold_add_initial0", fold_add_initial0},
    {"fold_add_initial100", fold_add_initial100},
    {"fold_initial100_empty_parts", fold_initial100_empty_parts},
    {"fold_incr_combine_add", fold_incr_combine_add},
    {"fold_amounts", fold_amounts},
    {"fold_str_concat", fold_str_concat},
    {"fold_max2", fold_max2},
    {"fold_empty_initial_np1", fold_add_initial100},
    {"fold_empty_no_initial", fold_add},
    {"fold_all_filtered_initial", fold_all_filtered_initial},
    {"tree_se2_np13", tree_se2},
    {"tree_se3_np10", tree_se3},
    {"tree_se3_np9", tree_se3},
    {"tree_default_np20", tree_default},
    {"tree_default_np8", tree_default},
    {"tree_se2_with_empties", tree_se2_with_empties},
    {"tree_se2_all_empty", tree_se2_all_empty},
    {"tree_single_empty", tree_default},
    {"tree_concat_se2", tree_concat_se2},
    {"tree_concat_se3_psize", tree_concat_se3},
    {"ctx_se2_sum_floats", sum},
    {"ctx_se3_fold_str_concat", fold_str_concat},
    {"ctx_se3_tree_default", tree_default},
    {"ctx_se2_min_ties", min},
    {"tut_alice_take5", tut_alice_take5},
    {"tut_alice_pluck_take5", tut_alice_pluck_take5},
    {"tut_alice_mean_count", tut_alice_mean_count},
    {"tut_alice_flatten_amount_take3", tut_alice_flatten_amount_take3},
    {"tut_alice_flatten_amount_mean", tut_alice_flatten_amount_mean},
    {"tut_alice_flatten_amount_mean_default", tut_alice_flatten_amount_mean},
    {"tut_has_email_count", tut_has_email_count},
    {"tut_ntransactions_sum", tut_ntransactions_sum},
    {"tut_from_sequence_take3", take3},
    {"err_map_callback", err_map_callback},
    {"err_filter_callback", err_filter_callback},
    {"err_map_in_tutorial", err_map_in_tutorial},
    {"err_mean_empty", mean},
    {"err_mean_all_filtered", mean_all_filtered},
    {"err_min_empty", min},
    {"err_max_all_filtered", max_all_filtered},
    {"err_pluck_missing", pluck_email},
    {"err_pluck_index_range", pluck_index2},
    {"err_sum_strings", sum},
    {"err_flatten_int", flatten},
    {"err_mean_strings", mean},
    {"err_fold_callback", err_fold_callback},
    {"err_reduction_callback", err_reduction_callback},
    {"err_map_partitions_callback", err_map_partitions_callback},
    {"err_starmap_callback", starmap_add},
    {"err_zip_npartitions", err_zip_npartitions},
    {"err_pluck_str_on_list", pluck_a},
    {"err_pluck_int_on_dict", pluck_int0},
    {"err_sum_none", sum_v_or_none},
    {"freq_names", freq_names},
    {"freq_names_sorted", freq_names_sorted},
    {"freq_ties", freq},
    {"freq_mod7_sorted", freq_mod7_sorted},
    {"freq_pairs_tuples", freq_pairs_tuples},
    {"freq_strs", freq},
    {"freq_empty", freq},
    {"freq_empty_parts", freq_empty_parts},
    {"distinct_names", distinct_names},
    {"distinct_key_name", distinct_key_name},
    {"distinct_key_fn", distinct_key_fn},
    {"distinct_ties", distinct},
    {"distinct_empty", distinct},
    {"distinct_floats", distinct},
    {"err_distinct_key_missing", distinct_key_email},
    {"topk_ints", topk10},
    {"topk_ints_neg", topk_ints_neg},
    {"topk_key_field", topk_key_field},
    {"topk_key_zero", topk_key_zero},
    {"topk_ties_key", topk_ties_key},
    {"topk_more_than_all", topk_more_than_all},
    {"topk_strs", topk_strs},
    {"topk_empty", topk_empty},
    {"topk_zero", topk_zero},
    {"acc_add", acc_add},
    {"acc_add_initial", acc_add_initial},
    {"acc_sizes", acc_sizes},
    {"acc_initial_sizes", acc_initial_sizes},
    {"acc_ints", acc_add},
    {"acc_max2_floats", acc_max2_floats},
    {"acc_empty", acc_add},
    {"acc_empty_initial", acc_empty_initial},
    {"acc_empty_parts", acc_empty_parts},
    {"err_acc_first_empty", err_acc_first_empty},
    {"err_acc_callback", err_acc_callback},
    {"repart_down3_sizes", repart_down3_sizes},
    {"repart_down7_sizes", repart_down7_sizes},
    {"repart_down13_sizes", repart_down13_sizes},
    {"repart_down_to1", repart_down_to1},
    {"repart_up23_sizes", repart_up23_sizes},
    {"repart_up7", repart_up7},
    {"repart_up7_sizes", repart_up7_sizes},
    {"repart_same", repart_same},
    {"repart_up_empty", repart_up_empty},
    {"repart_down_map", repart_down_map},
    {"product_small_strs", product_small_strs},
    {"product_sizes", product_sizes},
    {"product_self", product_self},
    {"product_empty", product_empty},
    {"join_first_char", join_first_char},
    {"join_kv_names", join_kv_names},
    {"join_bag_other", join_bag_other},
    {"join_mod7", join_mod7},
    {"join_ties", join_ties},
    {"err_join_multi_bag", err_join_multi_bag},
};

/* Cases run on a context with cbag_options.split_every set (dask: the
 * reduction's split_every argument). */
static const struct {
    const char *name;
    int split_every;
} SPLIT_EVERY[] = {
    {"ctx_se2_sum_floats", 2},
    {"ctx_se3_fold_str_concat", 3},
    {"ctx_se3_tree_default", 3},
    {"ctx_se2_min_ties", 2},
};

/* ------------------------------------------------------------------------ */
/* Running one case                                                         */

static atomic_int g_warnings;
static void on_warning(const char *msg, void *ud) { atomic_fetch_add(&g_warnings, 1); }

static const char *g_sched;
static int g_workers;

static void print_error(const char *name, const char *stage, int code, const char *msg)
{
    size_t n = strlen(msg), cut = n < 60 ? n : 60;
    while (cut < n && cut > 0 && ((unsigned char)msg[cut] & 0xC0) == 0x80)
        cut--; /* do not split a UTF-8 sequence */
    printf("{\"case\": ");
    put_jstrz(stdout, name);
    printf(", \"stage\": \"%s\", \"error\": ", stage);
    put_jstr(stdout, msg, cut);
    printf(", \"message\": ");
    put_jstrz(stdout, msg);
    printf(", \"code\": %d, \"code_name\": \"%s\"}\n", code, code_name(code));
}

/* Runs the case in this (child) process and prints its line. */
static void run_case(const char *name, void (*build)(run *), int split_every,
                     const char *dataset, size_t np, size_t psize)
{
    cbag_options o = {0};
    o.scheduler = g_sched;
    o.workers = g_workers;
    o.split_every = split_every;
    o.on_warning = on_warning;
    cbag_ctx *cx = cbag_open(&o);
    if (!cx) {
        print_error(name, "load", CBAG_NOMEM, "cbag_open returned NULL");
        return;
    }
    if (cbag_errcode(cx) != CBAG_OK) {
        print_error(name, "load", cbag_errcode(cx), cbag_errmsg(cx));
        cbag_close(cx);
        return;
    }
    run r = {.cx = cx, .none = cbag_none()};
    if (strcmp(dataset, "-")) {
        const cbag_val *v = data(cx, dataset);
        if (!v) {
            char msg[512];
            snprintf(msg, sizeof msg, "data set %s: %s: %s", dataset, g_load_error,
                     cbag_errmsg(cx));
            print_error(name, "load", cbag_errcode(cx), msg);
            cbag_close(cx);
            return;
        }
        r.b = cbag_from_sequence(cx, v, np, psize);
    }
    build(&r);

    cbag_result *res = NULL;
    const char *kind;
    if (r.take) {
        kind = "take";
        res = cbag_take(r.take, r.take_k, r.take_np);
    } else if (r.item) {
        kind = "item";
        res = cbag_compute_item(r.item);
    } else {
        kind = "bag";
        res = cbag_compute(r.bag); /* NULL bag: the error of its making */
    }
    if (!res) {
        const char *msg = cbag_errmsg(cx);
        print_error(name, "compute", cbag_errcode(cx),
                    msg && *msg ? msg : "(compute returned NULL without a message)");
        cbag_close(cx);
        return;
    }
    const cbag_val *v = cbag_result_value(res);
    size_t jlen = 0, rlen = 0;
    char *js = cbag_format(v, CBAG_FMT_JSON, &jlen);
    char *rs = cbag_format(v, CBAG_FMT_REPR, &rlen);
    printf("{\"case\": ");
    put_jstrz(stdout, name);
    printf(", \"kind\": \"%s\"", kind);
    if (!strcmp(kind, "bag"))
        printf(", \"npartitions\": %zu", cbag_npartitions(r.bag));
    printf(", \"warned\": %s", atomic_load(&g_warnings) ? "true" : "false");
    printf(", \"json\": ");
    if (js)
        put_jstr(stdout, js, jlen);
    else
        printf("null");
    printf(", \"repr\": ");
    if (rs)
        put_jstr(stdout, rs, rlen);
    else
        printf("null");
    printf("}\n");
    fflush(stdout);
    free(js);
    free(rs);
    cbag_result_free(res);
    cbag_close(cx);
}

static const char *signame(int sig)
{
    switch (sig) {
    case SIGSEGV: return "Segmentation fault";
    case SIGABRT: return "Aborted";
    case SIGBUS: return "Bus error";
    case SIGFPE: return "Floating point exception";
    case SIGALRM: return "timeout";
    case SIGILL: return "Illegal instruction";
    default: return "signal";
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s DATA_DIR MANIFEST SCHEDULER WORKERS\n", argv[0]);
        return 2;
    }
    g_datadir = argv[1];
    g_sched = argv[3];
    g_workers = atoi(argv[4]);
    FILE *mf = fopen(argv[2], "r");
    if (!mf) {
        perror(argv[2]);
        return 2;
    }
    char line[1024];
    while (fgets(line, sizeof line, mf)) {
        char name[256], dataset[256];
        size_t np, psize;
        if (sscanf(line, "%255s %255s %zu %zu", name, dataset, &np, &psize) != 4)
            continue;
        void (*build)(run *) = NULL;
        int split_every = 0;
        for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
            if (!strcmp(CASES[i].name, name))
                build = CASES[i].build;
        for (size_t i = 0; i < sizeof SPLIT_EVERY / sizeof *SPLIT_EVERY; i++)
            if (!strcmp(SPLIT_EVERY[i].name, name))
                split_every = SPLIT_EVERY[i].split_every;
        if (!build) {
            printf("{\"case\": ");
            put_jstrz(stdout, name);
            printf(", \"missing\": true}\n");
            continue;
        }
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            alarm(CASE_TIMEOUT);
            run_case(name, build, split_every, dataset, np, psize);
            fflush(stdout);
            _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
            ;
        if (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0)) {
            char why[128];
            if (WIFSIGNALED(st))
                snprintf(why, sizeof why, "signal %d (%s)", WTERMSIG(st), signame(WTERMSIG(st)));
            else
                snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(st));
            printf("{\"case\": ");
            put_jstrz(stdout, name);
            printf(", \"crash\": ");
            put_jstrz(stdout, why);
            printf("}\n");
        }
    }
    fclose(mf);
    return 0;
}
