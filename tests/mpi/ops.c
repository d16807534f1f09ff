/* ops.c: the mpi scheduler against the threads scheduler, operation by
 * operation. Every rank of `mpirun -np N` runs all of it:
 *
 *   ops check DATA OUT [WORKERS]   every check; DATA holds the accounts
 *                                  data set (accounts.*.json.gz) and
 *                                  bad/ a corrupt file; OUT an empty
 *                                  directory shared by the ranks
 *   ops kill                       rank 1 kills itself (SIGKILL) in the
 *                                  middle of a compute: the job must end
 *
 * Each check builds the same bag on a threads context and on an mpi
 * context (results on every rank) and compares Python reprs, or the error
 * messages when they fail. Rank 0 prints "ok NAME" or "FAIL NAME" lines
 * and "N passed, N failed" last; a rank whose result differs says so on
 * stderr. The exit status is 1 when any rank saw a failure. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbag.h"

static cbag_ctx *T, *M; /* threads, mpi */
static const char *data_dir, *out_dir;
static int rank, pass, fail;

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */

static const cbag_val *J(cbag_ctx *cx, const char *json) {
    const cbag_val *v = cbag_json_parse(cbag_main(cx), json, strlen(json));
    if (!v) fprintf(stderr, "bad JSON in the test: %s\n", json);
    return v;
}

/* 600 records {"id", "name", "amount", "x", "tags"} in 7 partitions. */
static cbag *records(cbag_ctx *cx) {
    static const char *names[] = {"Alice", "Bob",   "Charlie", "Dan",
                                  "Edith", "Frank", "Zoë"};
    cbag_call *c = cbag_main(cx);
    cbag_val *l = cbag_new_list(c, 600);
    for (int i = 0; i < 600; i++) {
        cbag_val *d = cbag_new_dict(c, 5);
        cbag_val *tags = cbag_new_list(c, 2);
        cbag_append(c, tags, cbag_new_strf(c, "t%d", i % 3));
        if (i % 4) cbag_append(c, tags, cbag_new_int(c, i % 11));
        cbag_set(c, d, "id", cbag_new_int(c, i));
        cbag_set(c, d, "name", cbag_new_strz(c, names[(i * 7 + i / 13) % 7]));
        cbag_set(c, d, "amount", cbag_new_int(c, (i * 37) % 101 - 20));
        cbag_set(c, d, "x",
                 cbag_new_float(c, (double)((i * 7919) % 1000) / 7.0));
        cbag_set(c, d, "tags", tags);
        cbag_append(c, l, d);
    }
    return cbag_from_sequence(cx, l, 7, 0);
}

static cbag *ints(cbag_ctx *cx, int64_t n, size_t np) {
    return cbag_range(cx, n, np);
}

static int even_id(cbag_call *c, const cbag_val *r, void *ud) {
    (void)ud;
    const cbag_val *id = cbag_key(c, r, "id");
    return id ? cbag_int_value(id) % 2 == 0 : -1;
}

static int is_odd(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_int_value(x) % 2 != 0;
}

static const cbag_val *with_double(cbag_call *c, const cbag_val *r, void *ud) {
    (void)ud;
    cbag_val *d = cbag_new_dict(c, 2);
    if (!d || cbag_set(c, d, "name", cbag_key(c, r, "name")) ||
        cbag_set(c, d, "twice",
                 cbag_new_int(c, 2 * cbag_int_value(cbag_key(c, r, "amount")))))
        return NULL;
    return d;
}

static const cbag_val *name_of(cbag_call *c, const cbag_val *r, void *ud) {
    (void)ud;
    return cbag_key(c, r, "name");
}

static const cbag_val *mod5(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    int64_t v =
        cbag_int_value(cbag_typeof(x) == CBAG_DICT ? cbag_get(x, "amount") : x);
    return cbag_new_int(c, ((v % 5) + 5) % 5);
}

static const cbag_val *mod4(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(x) % 4);
}

static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b,
                           void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

static const cbag_val *add_amount(cbag_call *c, const cbag_val *acc,
                                  const cbag_val *r, void *ud) {
    (void)ud;
    const cbag_val *a = cbag_key(c, r, "amount");
    return a ? cbag_new_int(c, cbag_int_value(acc) + cbag_int_value(a)) : NULL;
}

static const cbag_val *incr(cbag_call *c, const cbag_val *n, const cbag_val *x,
                            void *ud) {
    (void)x, (void)ud;
    return cbag_new_int(c, cbag_int_value(n) + 1);
}

static const cbag_val *bigger(cbag_call *c, const cbag_val *a,
                              const cbag_val *b, void *ud) {
    (void)c, (void)ud;
    return cbag_cmp(a, b) >= 0 ? a : b;
}

static const cbag_val *list_len(cbag_call *c, const cbag_val *l, void *ud) {
    (void)ud;
    return cbag_new_int(c, (int64_t)cbag_len(l));
}

static const cbag_val *sum_list(cbag_call *c, const cbag_val *l, void *ud) {
    (void)ud;
    int64_t s = 0;
    for (size_t i = 0; i < cbag_len(l); i++)
        s += cbag_int_value(cbag_at(l, (int64_t)i));
    return cbag_new_int(c, s);
}

static const cbag_val *key_len(cbag_call *c, size_t argc,
                               const cbag_val *const *argv, void *ud) {
    (void)ud;
    if (argc != 2) return cbag_fail(c, "two arguments expected");
    const cbag_val *t[2] = {argv[0],
                            cbag_new_int(c, (int64_t)cbag_len(argv[1]))};
    return cbag_new_tuplev(c, 2, t);
}

static const cbag_val *reverse_part(cbag_call *c, const cbag_val *l, void *ud) {
    (void)ud;
    cbag_val *out = cbag_new_list(c, cbag_len(l));
    for (size_t i = cbag_len(l); out && i > 0; i--)
        if (cbag_append(c, out, cbag_at(l, (int64_t)i - 1))) return NULL;
    return out;
}

static const cbag_val *to_str(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    char *s = cbag_format(x, CBAG_FMT_JSON, NULL);
    if (!s) return cbag_fail(c, "format failed");
    const cbag_val *v = cbag_new_strz(c, s);
    free(s);
    return v;
}

/* Fails on element 7 of the bag (partition 2 of range(20, 6)), or 63. */
static const cbag_val *boom(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    if (cbag_int_value(x) == 7 || cbag_int_value(x) == 63)
        return cbag_fail(c, "ValueError: boom at %lld",
                         (long long)cbag_int_value(x));
    return x;
}

static const cbag_val *boom_key(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    if (cbag_int_value(x) == 13) return cbag_fail(c, "KeyError: 13");
    return cbag_new_int(c, cbag_int_value(x) % 3);
}

static const cbag_val *rank_key(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(x) % 3);
}

/* Counts the elements this rank's workers see. */
static atomic_long seen;
static const cbag_val *count_seen(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    atomic_fetch_add(&seen, 1);
    return x;
}

/* Kills rank 1 partway through (for `ops kill`). */
static const cbag_val *die_on_rank1(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c;
    if (*(int *)ud == 1 && cbag_int_value(x) % 1000 == 500) raise(SIGKILL);
    return x;
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                   */

static void result(const char *name, int ok, const char *t, const char *m) {
    if (ok) {
        pass++;
        if (rank == 0) printf("ok %s\n", name);
        return;
    }
    fail++;
    if (rank == 0) printf("FAIL %s\n", name);
    fprintf(stderr, "rank %d: FAIL %s\n  threads: %.600s\n  mpi:     %.600s\n",
            rank, name, t, m);
}

/* The repr of a result, or "ERROR n: message". Caller frees. */
static char *show(cbag_ctx *cx, cbag_result *r) {
    char *s;
    if (r) {
        s = cbag_format(cbag_result_value(r), CBAG_FMT_REPR, NULL);
        cbag_result_free(r);
        return s;
    }
    size_t n = strlen(cbag_errmsg(cx)) + 32;
    s = malloc(n);
    snprintf(s, n, "ERROR %d: %s", cbag_errcode(cx), cbag_errmsg(cx));
    cbag_clear_error(cx);
    return s;
}

static void compare(const char *name, char *t, char *m) {
    result(name, t && m && strcmp(t, m) == 0, t ? t : "?", m ? m : "?");
    free(t);
    free(m);
}

typedef cbag *(*mk_bag)(cbag_ctx *cx);
typedef cbag_item *(*mk_item)(cbag_ctx *cx);

static void check_bag(const char *name, mk_bag mk) {
    compare(name, show(T, cbag_compute(mk(T))), show(M, cbag_compute(mk(M))));
}

static void check_item(const char *name, mk_item mk) {
    compare(name, show(T, cbag_compute_item(mk(T))),
            show(M, cbag_compute_item(mk(M))));
}

/* Must fail, with the same message. */
static void check_error(const char *name, mk_bag mk) {
    char *t = show(T, cbag_compute(mk(T))), *m = show(M, cbag_compute(mk(M)));
    int ok = !strncmp(t, "ERROR", 5) && !strcmp(t, m);
    result(name, ok, t, m);
    free(t);
    free(m);
}

/* Element-wise */
static cbag *b_map(cbag_ctx *cx) {
    return cbag_pluck(
        cbag_map(cbag_filter(records(cx), even_id, NULL), with_double, NULL),
        "twice");
}
static cbag *b_flatten(cbag_ctx *cx) {
    return cbag_flatten(cbag_pluck(records(cx), "tags"));
}
static cbag *b_starmap(cbag_ctx *cx) {
    return cbag_starmap(cbag_groupby(records(cx), "name", 3), key_len, NULL);
}
static cbag *b_map_partitions(cbag_ctx *cx) {
    return cbag_map_partitions(cbag_remove(ints(cx, 40, 6), is_odd, NULL),
                               reverse_part, NULL);
}
static cbag *b_pluck_list(cbag_ctx *cx) {
    return cbag_pluckv(records(cx), J(cx, "[\"name\", \"id\"]"), NULL);
}
static cbag *b_zip_concat(cbag_ctx *cx) {
    cbag *a = ints(cx, 30, 3), *b = cbag_map(ints(cx, 30, 3), mod4, NULL);
    cbag *z[2] = {a, b};
    cbag *zb = cbag_zip(cx, 2, z);
    cbag *c[2] = {zb, ints(cx, 5, 2)};
    return cbag_concat(cx, 2, c);
}

/* Reductions */
static cbag_item *i_count(cbag_ctx *cx) { return cbag_count(records(cx)); }
static cbag_item *i_sum(cbag_ctx *cx) {
    return cbag_sum(cbag_pluck(records(cx), "amount"));
}
static cbag_item *i_fsum(cbag_ctx *cx) {
    return cbag_sum(cbag_pluck(records(cx), "x"));
}
static cbag_item *i_mean(cbag_ctx *cx) {
    return cbag_mean(cbag_pluck(records(cx), "x"));
}
static cbag_item *i_min(cbag_ctx *cx) {
    return cbag_min(cbag_pluck(records(cx), "name"));
}
static cbag_item *i_max(cbag_ctx *cx) { return cbag_max(records(cx)); }
static cbag_item *i_var(cbag_ctx *cx) {
    return cbag_var(cbag_pluck(records(cx), "x"), 1);
}
static cbag_item *i_std(cbag_ctx *cx) {
    return cbag_std(cbag_pluck(records(cx), "amount"), 0);
}
static cbag_item *i_any(cbag_ctx *cx) {
    return cbag_any(cbag_map(ints(cx, 50, 5), mod5, NULL));
}
static cbag_item *i_all(cbag_ctx *cx) {
    return cbag_all(cbag_map(ints(cx, 50, 5), mod5, NULL));
}
static cbag_item *i_fold(cbag_ctx *cx) {
    return cbag_fold_named(cbag_pluck(records(cx), "amount"), "add", add, NULL,
                           NULL, NULL);
}
static cbag_item *i_reduction(cbag_ctx *cx) {
    return cbag_reduction_named(ints(cx, 100, 9), "len", list_len, sum_list, 3,
                                NULL);
}
static cbag_item *
i_empty_parts(cbag_ctx *cx) { /* fewer partitions than ranks */
    return cbag_sum(cbag_from_sequence(cx, J(cx, "[1, 2, 3]"), 2, 0));
}

/* Keyed */
static cbag *b_foldby(cbag_ctx *cx) {
    cbag_foldby_options o = {cbag_new_int(cbag_main(cx), 0), add, NULL, 0};
    return cbag_foldby(records(cx), "name", add_amount, &o, NULL);
}
static cbag *b_foldby_fn(cbag_ctx *cx) {
    return cbag_foldby_fn(ints(cx, 100, 9), mod5, bigger, NULL, NULL);
}
static cbag *b_groupby(cbag_ctx *cx) {
    return cbag_groupby(records(cx), "name", 0);
}
static cbag *b_groupby_fn(cbag_ctx *cx) {
    return cbag_groupby_fn(ints(cx, 200, 8), mod5, 3, NULL);
}
static cbag *b_frequencies(cbag_ctx *cx) {
    return cbag_frequencies(cbag_pluck(records(cx), "name"), true);
}
static cbag *b_frequencies_unsorted(cbag_ctx *cx) {
    return cbag_frequencies(cbag_map(ints(cx, 100, 7), mod4, NULL), false);
}
static cbag *b_topk(cbag_ctx *cx) {
    return cbag_topk_named(records(cx), NULL, 5, J(cx, "\"amount\""), NULL,
                           NULL);
}
static cbag *b_topk_ints(cbag_ctx *cx) { return cbag_topk(ints(cx, 77, 6), 4); }
static cbag *b_distinct(cbag_ctx *cx) {
    return cbag_distinct(cbag_pluck(records(cx), "name"));
}
static cbag *b_distinct_fn(cbag_ctx *cx) {
    return cbag_distinct_fn(records(cx), name_of, NULL);
}
static cbag *b_accumulate(cbag_ctx *cx) {
    return cbag_accumulate(ints(cx, 30, 4), add, NULL, NULL);
}
static cbag *b_sample(cbag_ctx *cx) {
    return cbag_random_sample(records(cx), 0.3, 7);
}
static cbag *b_repartition_less(cbag_ctx *cx) {
    return cbag_repartition(ints(cx, 50, 7), 3);
}
static cbag *b_repartition_more(cbag_ctx *cx) {
    return cbag_repartition(ints(cx, 50, 3), 8);
}
static cbag *b_product(cbag_ctx *cx) {
    return cbag_product(ints(cx, 6, 3), ints(cx, 4, 2));
}
static cbag *b_join_list(cbag_ctx *cx) {
    return cbag_join_fn(ints(cx, 20, 4), J(cx, "[0, 1, 2, 2, 4]"), mod5, NULL,
                        NULL);
}
static cbag *b_join_bag(cbag_ctx *cx) {
    cbag *other = cbag_from_sequence(cx, J(cx, "[0, 1, 2, 3, 3]"), 1, 0);
    return cbag_join_named(ints(cx, 20, 4), "mod4", NULL, other, NULL, mod4,
                           NULL, NULL, NULL);
}
static cbag *b_reduce_by_key(cbag_ctx *cx) {
    return cbag_reduce_by_key_fn(ints(cx, 300, 7), mod4, add, 3, NULL);
}
static cbag *b_reduce_by_key_str(cbag_ctx *cx) {
    return cbag_reduce_by_key(records(cx), "name", bigger, 0, NULL);
}
static cbag *b_join_bags(cbag_ctx *cx) {
    cbag *right = cbag_from_sequence(
        cx,
        J(cx, "[{\"name\": \"Alice\", \"r\": 1}, {\"name\": \"Bob\", \"r\": 2},"
              " {\"name\": \"Alice\", \"r\": 3}, {\"name\": \"Nobody\"}]"),
        2, 0);
    return cbag_join_bags(cbag_filter(records(cx), even_id, NULL), right,
                          J(cx, "\"name\""), NULL, 4);
}
static cbag *b_sort_by(cbag_ctx *cx) {
    return cbag_sort_by(records(cx), J(cx, "\"amount\""), 4, false);
}
static cbag *b_sort_reverse(cbag_ctx *cx) {
    return cbag_sort(cbag_map(ints(cx, 500, 9), mod5, NULL), 3, true);
}
static cbag *b_sort_empty(cbag_ctx *cx) {
    return cbag_sort(ints(cx, 0, 2), 3, false);
}

/* Shuffles read together with other partitions: copied to every rank. */
static cbag *b_zip_groupbys(cbag_ctx *cx) {
    cbag *z[2] = {cbag_groupby_fn(ints(cx, 60, 5), mod4, 4, NULL),
                  cbag_groupby_fn(ints(cx, 60, 3), mod5, 4, NULL)};
    return cbag_zip(cx, 2, z);
}
static cbag *b_repartition_groupby(cbag_ctx *cx) {
    return cbag_repartition(cbag_groupby(records(cx), "name", 5), 2);
}
static cbag *b_product_shuffles(cbag_ctx *cx) {
    return cbag_product(
        cbag_reduce_by_key_fn(ints(cx, 40, 4), mod4, add, 2, NULL),
        cbag_sort(ints(cx, 10, 3), 2, true));
}
static cbag *b_concat_shuffles(cbag_ctx *cx) {
    cbag *c[2] = {cbag_groupby_fn(ints(cx, 30, 3), mod5, 3, NULL),
                  cbag_sort(ints(cx, 10, 2), 4, true)};
    return cbag_concat(cx, 2, c);
}
static cbag *b_chain(cbag_ctx *cx) { /* a shuffle of a shuffle of a foldby */
    cbag *g = cbag_starmap(cbag_groupby(records(cx), "name", 4), key_len, NULL);
    return cbag_sort_by_named(
        cbag_groupby_fn(cbag_pluckv(g, J(cx, "1"), NULL), mod4, 2, NULL), NULL,
        NULL, NULL, 3, false, NULL);
}

/* Text input */
static char glob_path[4096];
static cbag *js(cbag_ctx *cx) {
    return cbag_map_named(cbag_read_text(cx, glob_path, NULL), "json.loads",
                          cbag_json_loads, NULL);
}
static cbag *b_text_foldby(cbag_ctx *cx) { /* Q4 */
    cbag_foldby_options o = {cbag_new_int(cbag_main(cx), 0), add, NULL, 0};
    return cbag_foldby(js(cx), "name", incr, &o, NULL);
}
static cbag *b_text_groupby(cbag_ctx *cx) { /* Q3 */
    return cbag_starmap(cbag_groupby_fn(js(cx), name_of, 0, NULL), key_len,
                        NULL);
}
static cbag_item *i_text_mean(cbag_ctx *cx) { /* Q2 */
    return cbag_mean(
        cbag_pluck(cbag_flatten(cbag_pluck(js(cx), "transactions")), "amount"));
}
static cbag *b_lines(cbag_ctx *cx) {
    return cbag_read_text(cx, glob_path, NULL);
}
static cbag *b_groupby5(cbag_ctx *cx) {
    return cbag_groupby(records(cx), "name", 5);
}
static cbag_item *i_text_count(cbag_ctx *cx) {
    return cbag_count(cbag_read_text(cx, glob_path, NULL));
}

/* Failures */
static cbag *e_map(cbag_ctx *cx) {
    return cbag_map(ints(cx, 20, 6), boom, NULL);
}
static cbag *e_groupby_key(cbag_ctx *cx) {
    return cbag_groupby_fn(ints(cx, 20, 6), boom_key, 3, NULL);
}
static cbag *e_foldby_key(cbag_ctx *cx) {
    return cbag_foldby_fn(ints(cx, 20, 6), boom_key, add, NULL, NULL);
}
static cbag *e_sort_key(cbag_ctx *cx) {
    return cbag_sort_by_fn(ints(cx, 20, 6), boom_key, 2, false, NULL);
}
static char bad_path[4096];
static cbag *e_bad_file(cbag_ctx *cx) {
    return cbag_read_text(cx, bad_path, NULL);
}
static cbag *e_after_shuffle(cbag_ctx *cx) {
    return cbag_map(cbag_pluckv(cbag_reduce_by_key_fn(ints(cx, 20, 4), rank_key,
                                                      add, 3, NULL),
                                J(cx, "1"), NULL),
                    boom, NULL);
}

/* ------------------------------------------------------------------------ */
/* Checks that are not a bag or an item                                     */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    char tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
        fwrite(tmp, 1, k, m);
    fclose(f);
    fclose(m);
    return buf;
}

/* to_textfiles from both; the files must be the same. */
static void check_textfiles(void) {
    char pt[4200], pm[4200];
    snprintf(pt, sizeof pt, "%s/t-*.txt", out_dir);
    snprintf(pm, sizeof pm, "%s/m-*.txt", out_dir);
    int rt = cbag_to_textfiles(cbag_map(records(T), to_str, NULL), pt, NULL);
    int rm = cbag_to_textfiles(cbag_map(records(M), to_str, NULL), pm, NULL);
    int ok = rt == CBAG_OK && rm == CBAG_OK;
    for (int i = 0; ok && i < 7; i++) {
        char a[4200], b[4200];
        snprintf(a, sizeof a, "%s/t-%d.txt", out_dir, i);
        snprintf(b, sizeof b, "%s/m-%d.txt", out_dir, i);
        char *x = read_file(a), *y = read_file(b);
        ok = x && y && strcmp(x, y) == 0;
        free(x);
        free(y);
    }
    result("to_textfiles", ok, rt ? cbag_errmsg(T) : "files",
           rm ? cbag_errmsg(M) : "files");
}

static char *frame_text(cbag_frame *f, cbag_ctx *cx) {
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!f || cbag_frame_print(m, f)) fprintf(m, "ERROR: %s", cbag_errmsg(cx));
    fclose(m);
    return buf;
}

static cbag_frame *frame_of(cbag_ctx *cx) {
    return cbag_to_dataframe(cbag_map(records(cx), with_double, NULL), NULL);
}

static void check_frames(void) {
    compare("to_dataframe", frame_text(frame_of(T), T),
            frame_text(frame_of(M), M));
    compare(
        "frame groupby",
        frame_text(cbag_frame_groupby(frame_of(T), "name", "twice", "sum"), T),
        frame_text(cbag_frame_groupby(frame_of(M), "name", "twice", "sum"), M));
    char pt[4200], pm[4200];
    snprintf(pt, sizeof pt, "%s/t-frame.csv", out_dir);
    snprintf(pm, sizeof pm, "%s/m-frame.csv", out_dir);
    cbag_frame_csv_options one = {true, false, false, 0};
    int rt = cbag_frame_to_csv(frame_of(T), pt, &one);
    int rm = cbag_frame_to_csv(frame_of(M), pm, &one);
    char *x = read_file(pt), *y = read_file(pm);
    result("frame to_csv", !rt && !rm && x && y && !strcmp(x, y), x ? x : "?",
           y ? y : "?");
    free(x);
    free(y);
}

/* Each partition runs on one rank only: the elements the ranks see add up
 * to the bag's (files are read once), and with several ranks each sees a
 * part. Ranks tell each other through files, a compute in between. */
static void check_once(const char *name, mk_bag mk) {
    cbag_result *c = cbag_compute_item(cbag_count(mk(T)));
    int64_t want = c ? cbag_int_value(cbag_result_value(c)) : -1;
    cbag_result_free(c);
    atomic_store(&seen, 0);
    cbag_result_free(
        cbag_compute_item(cbag_count(cbag_map(mk(M), count_seen, NULL))));
    char path[4200];
    snprintf(path, sizeof path, "%s/seen-%s.%d", out_dir, name, rank);
    FILE *f = fopen(path, "w");
    if (f) fprintf(f, "%ld\n", atomic_load(&seen));
    if (f) fclose(f);
    cbag_result_free(
        cbag_compute_item(cbag_count(ints(M, 10, 10)))); /* all wrote */
    long total = 0, most = 0;
    for (int r = 0; r < cbag_ranks(M); r++) {
        long k = -1;
        snprintf(path, sizeof path, "%s/seen-%s.%d", out_dir, name, r);
        f = fopen(path, "r");
        if (!f || fscanf(f, "%ld", &k) != 1) k = -1000000;
        if (f) fclose(f);
        total += k;
        if (k > most) most = k;
    }
    char t[64], m[64];
    snprintf(t, sizeof t, "%lld in all", (long long)want);
    snprintf(m, sizeof m, "%ld in all, %ld on one rank", total, most);
    result(name, total == want && (cbag_ranks(M) == 1 || most < want), t, m);
}

static void check_take(void) {
    compare("take", show(T, cbag_take(records(T), 5, -1)),
            show(M, cbag_take(records(M), 5, -1)));
    compare("take npartitions", show(T, cbag_take(ints(T, 30, 6), 8, 2)),
            show(M, cbag_take(ints(M, 30, 6), 8, 2)));
}

typedef struct {
    uint64_t sum;
    int64_t n, stop_at;
} acc_t;

static int each(const cbag_val *x, void *ud) {
    acc_t *a = ud;
    a->sum = a->sum * 31 + (uint64_t)cbag_int_value(x); /* order matters */
    return ++a->n == a->stop_at;
}

static void check_foreach(void) {
    acc_t t = {0, 0, 0}, m = {0, 0, 0};
    int rt = cbag_foreach(ints(T, 1000, 13), each, &t);
    int rm = cbag_foreach(ints(M, 1000, 13), each, &m);
    result("foreach", !rt && !rm && t.sum == m.sum && t.n == m.n, "sums",
           "differ");
    acc_t t2 = {0, 0, 77}, m2 = {0, 0, 77};
    rt = cbag_foreach(ints(T, 1000, 13), each, &t2);
    rm = cbag_foreach(ints(M, 1000, 13), each, &m2);
    result("foreach stopping", !rt && !rm && t2.sum == m2.sum && m2.n == 77,
           "sums", "differ");
}

/* Without results_everywhere: rank 0 gets the result, the others None. */
static void check_root_only(void) {
    cbag_options o = {0};
    o.scheduler = "mpi";
    o.workers = cbag_workers(M);
    cbag_ctx *R = cbag_open(&o);
    char *t = show(T, cbag_compute(ints(T, 20, 5)));
    char *m = show(R, cbag_compute(ints(R, 20, 5)));
    int ok = rank == 0 ? !strcmp(t, m) : !strcmp(m, "None");
    result("results on rank 0", ok, t, m);
    free(t);
    free(m);
    /* every rank built a different graph: an error, not a hang */
    if (cbag_ranks(R) > 1) {
        cbag_result *r = cbag_compute(ints(R, 20 + rank, 5));
        const char *e = cbag_errmsg(R);
        result("different graphs", !r && strstr(e, "different graphs") != NULL,
               "an error", r ? "a result" : e);
        cbag_result_free(r);
    }
    cbag_close(R);
}

/* groupby with a budget so small that every bucket spills. */
static void check_spill(void) {
    cbag_options o = {0};
    o.scheduler = "mpi";
    o.workers = cbag_workers(M);
    o.memory_limit = 16 * 1024;
    o.results_everywhere = true;
    o.temp_dir = out_dir;
    cbag_ctx *S = cbag_open(&o);
    compare("groupby spilled", show(T, cbag_compute(b_groupby(T))),
            show(S, cbag_compute(b_groupby(S))));
    compare("groupby text spilled", show(T, cbag_compute(b_text_groupby(T))),
            show(S, cbag_compute(b_text_groupby(S))));
    cbag_close(S);
}

static int run_kill(void) {
    cbag_options o = {0};
    o.scheduler = "mpi";
    o.workers = 1;
    cbag_ctx *K = cbag_open(&o);
    if (!K || cbag_errcode(K)) return 2;
    int r = cbag_rank(K);
    cbag_result *res =
        cbag_compute(cbag_map(ints(K, 100000, 8), die_on_rank1, &r));
    cbag_result_free(res);
    cbag_close(K);
    return 0; /* not reached on a healthy job: rank 1 died */
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "kill")) return run_kill();
    if (argc < 4 || strcmp(argv[1], "check")) {
        fprintf(stderr, "usage: ops check DATA OUT [WORKERS] | ops kill\n");
        return 2;
    }
    data_dir = argv[2];
    out_dir = argv[3];
    snprintf(glob_path, sizeof glob_path, "%s/accounts.*.json.gz", data_dir);
    snprintf(bad_path, sizeof bad_path, "%s/bad/*.gz", data_dir);
    cbag_options to = {0}, mo = {0};
    to.workers = 2;
    mo.scheduler = "mpi";
    mo.workers = argc > 4 ? atoi(argv[4]) : 1;
    mo.results_everywhere = true;
    T = cbag_open(&to);
    M = cbag_open(&mo);
    if (!T || !M || cbag_errcode(T) || cbag_errcode(M)) {
        fprintf(stderr, "cbag_open: %s\n",
                M ? cbag_errmsg(M) : "out of memory");
        return 2;
    }
    rank = cbag_rank(M);
    if (rank == 0)
        printf("# %d ranks, %d threads each\n", cbag_ranks(M), cbag_workers(M));

    check_bag("map filter pluck", b_map);
    check_bag("flatten", b_flatten);
    check_bag("starmap of groupby", b_starmap);
    check_bag("map_partitions remove", b_map_partitions);
    check_bag("pluck list", b_pluck_list);
    check_bag("zip concat", b_zip_concat);
    check_item("count", i_count);
    check_item("sum", i_sum);
    check_item("float sum", i_fsum);
    check_item("mean", i_mean);
    check_item("min", i_min);
    check_item("max", i_max);
    check_item("var", i_var);
    check_item("std", i_std);
    check_item("any", i_any);
    check_item("all", i_all);
    check_item("fold", i_fold);
    check_item("reduction", i_reduction);
    check_item("empty ranks", i_empty_parts);
    check_bag("foldby", b_foldby);
    check_bag("foldby key fn", b_foldby_fn);
    check_bag("groupby", b_groupby);
    check_bag("groupby key fn", b_groupby_fn);
    check_bag("frequencies", b_frequencies);
    check_bag("frequencies unsorted", b_frequencies_unsorted);
    check_bag("topk", b_topk);
    check_bag("topk ints", b_topk_ints);
    check_bag("distinct", b_distinct);
    check_bag("distinct key fn", b_distinct_fn);
    check_bag("accumulate", b_accumulate);
    check_bag("random_sample", b_sample);
    check_bag("repartition fewer", b_repartition_less);
    check_bag("repartition more", b_repartition_more);
    check_bag("product", b_product);
    check_bag("join list", b_join_list);
    check_bag("join bag", b_join_bag);
    check_bag("reduce_by_key", b_reduce_by_key);
    check_bag("reduce_by_key field", b_reduce_by_key_str);
    check_bag("join_bags", b_join_bags);
    check_bag("sort_by", b_sort_by);
    check_bag("sort reverse", b_sort_reverse);
    check_bag("sort empty", b_sort_empty);
    check_bag("zip of groupbys", b_zip_groupbys);
    check_bag("repartition of groupby", b_repartition_groupby);
    check_bag("product of shuffles", b_product_shuffles);
    check_bag("concat of shuffles", b_concat_shuffles);
    check_bag("shuffle chain", b_chain);
    check_bag("read_text foldby (Q4)", b_text_foldby);
    check_bag("read_text groupby (Q3)", b_text_groupby);
    check_item("read_text mean (Q2)", i_text_mean);
    check_item("read_text count", i_text_count);
    check_error("failing map", e_map);
    check_error("failing groupby key", e_groupby_key);
    check_error("failing foldby key", e_foldby_key);
    check_error("failing sort key", e_sort_key);
    check_error("bad file", e_bad_file);
    check_error("failing after a shuffle", e_after_shuffle);
    check_bag("usable after failures", b_groupby_fn);
    check_once("files read once", b_lines);
    check_once("groups read once", b_groupby5);
    check_textfiles();
    check_frames();
    check_take();
    check_foreach();
    check_root_only();
    check_spill();

    cbag_close(T);
    cbag_close(M);
    if (rank == 0) printf("%d passed, %d failed\n", pass, fail);
    return fail ? 1 : 0;
}
