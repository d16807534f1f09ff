/* test_text.c: read_text and to_textfiles through the engine: fused
 * json.loads with file and line in errors, errors="skip", include_path,
 * round trips through compressed output, and no partial output files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cbag.h"

static char dir[256];
static cbag_ctx *cx;

static void write_file(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *repr_result(cbag_result *r) {
    if (!r) {
        fprintf(stderr, "failed: %s\n", cbag_errmsg(cx));
        return NULL;
    }
    char *s = cbag_format(cbag_result_value(r), CBAG_FMT_REPR, NULL);
    cbag_result_free(r);
    return s;
}

#define assert_result(r, expected)                                         \
    do {                                                                   \
        char *s_ = repr_result(r);                                         \
        assert_non_null(s_);                                               \
        assert_string_equal(s_, expected);                                 \
        free(s_);                                                          \
    } while (0)

static void test_json_lines(void **state) {
    (void)state;
    write_file("a.json", "{\"id\": 1, \"name\": \"Alice\"}\n"
                         "{\"id\": 2, \"name\": \"Bob\"}\n");
    write_file("b.json", "{\"id\": 3, \"name\": \"Alice\"}\n"
                         "{\"id\": 4, \"name\": \n"
                         "{\"id\": 5, \"name\": \"Dan\"}");
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s/*.json", dir);
    cbag *lines = cbag_read_text(cx, pattern, NULL);
    assert_int_equal(cbag_npartitions(lines), 2);
    assert_result(cbag_compute_item(cbag_count(lines)), "5");
    /* lines point into the reader's buffer: what a sink keeps is copied */
    assert_result(cbag_compute_item(cbag_max(lines)),
                  "'{\"id\": 5, \"name\": \"Dan\"}'");
    assert_result(cbag_take(lines, 2, 1),
                  "('{\"id\": 1, \"name\": \"Alice\"}\\n', "
                  "'{\"id\": 2, \"name\": \"Bob\"}\\n')");
    /* the bad record is named by file and line */
    cbag *js = cbag_map(lines, cbag_json_loads, NULL);
    assert_null(cbag_compute(cbag_pluck(js, "id")));
    assert_int_equal(cbag_errcode(cx), CBAG_PARSE);
    const char *msg = cbag_errmsg(cx);
    assert_non_null(strstr(msg, "map(json.loads) failed in partition 1"));
    assert_non_null(strstr(msg, "b.json line 2"));
    assert_non_null(strstr(msg, "JSONDecodeError"));
    cbag_clear_error(cx);
    /* errors="skip" drops it and counts it */
    cbag *ok = cbag_pluck(cbag_json_loads_skip(lines), "id");
    assert_result(cbag_compute(ok), "[1, 2, 3, 5]");
    assert_int_equal(cbag_skipped(cx), 1);
    /* include_path gives (line, path) */
    cbag_text_options o = {0};
    o.include_path = true;
    char first[512];
    snprintf(first, sizeof first, "%s/a.json", dir);
    cbag_result *r = cbag_take(cbag_read_text(cx, first, &o), 1, 1);
    assert_non_null(r);
    const cbag_val *t = cbag_at(cbag_result_value(r), 0);
    assert_true(cbag_str_eq(cbag_at(t, 1), first));
    assert_true(cbag_str_eq(cbag_at(t, 0), "{\"id\": 1, \"name\": \"Alice\"}\n"));
    cbag_result_free(r);
    /* no match is an error naming the pattern */
    snprintf(pattern, sizeof pattern, "%s/nothing*.json", dir);
    assert_null(cbag_read_text(cx, pattern, NULL));
    assert_non_null(strstr(cbag_errmsg(cx), "nothing*.json"));
    cbag_clear_error(cx);
}

static int is_dict(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_typeof(x) == CBAG_DICT;
}

/* json.loads with projection: the same results as without whenever only
 * the kept keys are read, fused into read_text or not, and the same errors
 * (file and line) for malformed JSON under a dropped key. */
static void test_json_projection(void **state) {
    (void)state;
    const char *text =
        "{\"id\": 1, \"name\": \"Alice\", \"t\": [{\"a\": 1}, {\"b\": [2]}]}\n"
        "{\"id\": 2, \"t\": {\"name\": \"nested\"}}\n"
        "{\"name\": \"Bob\", \"id\": 3, \"name\": \"Bobby\"}\n"
        "[1, 2]\n"
        "{\"n\\u0061me\": \"Dan\", \"x\": {\"y\": {\"z\": null}}}\n";
    write_file("p.json", text);
    char path[512];
    snprintf(path, sizeof path, "%s/p.json", dir);
    const char *keys[] = {"name", "id"};
    cbag *lines = cbag_read_text(cx, path, NULL);
    cbag *full = cbag_map(lines, cbag_json_loads, NULL);
    cbag *proj = cbag_json_loads_project(lines, 2, keys, false);
    assert_result(cbag_compute(proj),
                  "[{'id': 1, 'name': 'Alice'}, {'id': 2}, "
                  "{'name': 'Bobby', 'id': 3}, [1, 2], {'name': 'Dan'}]");
    char *a = repr_result(cbag_compute(
        cbag_pluckv(cbag_filter(full, is_dict, NULL),
                    cbag_new_strz(cbag_main(cx), "name"), cbag_none())));
    char *b = repr_result(cbag_compute(
        cbag_pluckv(cbag_filter(proj, is_dict, NULL),
                    cbag_new_strz(cbag_main(cx), "name"), cbag_none())));
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    assert_string_equal(b, "['Alice', None, 'Bobby', 'Dan']");
    free(a);
    free(b);
    /* no key kept: empty dicts, still checked */
    assert_result(cbag_compute(cbag_json_loads_project(lines, 0, NULL, false)),
                  "[{}, {}, {}, [1, 2], {}]");
    /* not fused (strings from a sequence): the same */
    cbag_result *lr = cbag_compute(lines);
    assert_non_null(lr);
    cbag *seq = cbag_from_sequence(cx, cbag_result_value(lr), 2, 0);
    assert_result(cbag_compute(cbag_json_loads_project(seq, 2, keys, false)),
                  "[{'id': 1, 'name': 'Alice'}, {'id': 2}, "
                  "{'name': 'Bobby', 'id': 3}, [1, 2], {'name': 'Dan'}]");
    cbag_result_free(lr);
    /* malformed JSON under a dropped key: the error of json.loads */
    write_file("q.json",
               "{\"name\": \"A\"}\n{\"name\": \"B\", \"t\": [1, 2,]}\n"
               "{\"name\": \"C\"}\n");
    snprintf(path, sizeof path, "%s/q.json", dir);
    lines = cbag_read_text(cx, path, NULL);
    assert_null(cbag_compute(cbag_json_loads_project(lines, 1, keys, false)));
    char *m1 = strdup(cbag_errmsg(cx));
    cbag_clear_error(cx);
    assert_null(cbag_compute(cbag_map(lines, cbag_json_loads, NULL)));
    assert_string_equal(m1, cbag_errmsg(cx));
    assert_non_null(strstr(m1, "q.json line 2"));
    free(m1);
    cbag_clear_error(cx);
    /* errors="skip" with projection */
    assert_result(cbag_compute(cbag_json_loads_project(lines, 1, keys, true)),
                  "[{'name': 'A'}, {'name': 'C'}]");
    assert_int_equal(cbag_skipped(cx), 1);
}

static const cbag_val *fail_on_3(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    if (cbag_int_value(x) == 3) return cbag_fail(c, "ValueError: three");
    return cbag_json_dumps(c, x, NULL);
}

static char *name_fn(size_t i, void *ud) {
    (void)ud;
    char *s = malloc(32);
    snprintf(s, 32, "part-%zu", i);
    return s;
}

static int count_files(const char *sub) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' || strlen(e->d_name) > 2) n++;
    closedir(d);
    return n;
}

static void test_to_textfiles(void **state) {
    (void)state;
    cbag *b = cbag_map(cbag_range(cx, 12, 3), cbag_json_dumps, NULL);
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s/out/*.json.gz", dir);
    assert_int_equal(cbag_to_textfiles(b, pattern, NULL), CBAG_OK);
    assert_int_equal(count_files("out"), 3);
    cbag *back = cbag_read_text(cx, pattern, NULL);
    assert_int_equal(cbag_npartitions(back), 3);
    /* no final newline by default: dask's last_endline=False */
    assert_result(cbag_compute(back),
                  "['0\\n', '1\\n', '2\\n', '3', '4\\n', '5\\n', '6\\n', '7', "
                  "'8\\n', '9\\n', '10\\n', '11']");
    /* name_function and last_endline, zstd */
    cbag_textfiles_options o = {0};
    o.name_function = name_fn;
    o.last_endline = true;
    snprintf(pattern, sizeof pattern, "%s/named/*.txt.zst", dir);
    assert_int_equal(cbag_to_textfiles(b, pattern, &o), CBAG_OK);
    char one[512];
    snprintf(one, sizeof one, "%s/named/part-2.txt.zst", dir);
    assert_result(cbag_compute(cbag_read_text(cx, one, NULL)),
                  "['8\\n', '9\\n', '10\\n', '11\\n']");
    /* a failure leaves no file under a final name (nor a temporary one) */
    snprintf(pattern, sizeof pattern, "%s/bad/*.json", dir);
    cbag *bad = cbag_map(cbag_range(cx, 12, 1), fail_on_3, NULL);
    assert_int_not_equal(cbag_to_textfiles(bad, pattern, NULL), CBAG_OK);
    assert_non_null(strstr(cbag_errmsg(cx), "ValueError: three"));
    cbag_clear_error(cx);
    assert_int_equal(count_files("bad"), 0);
    /* elements must be strings */
    assert_int_not_equal(cbag_to_textfiles(cbag_range(cx, 2, 1), pattern, NULL),
                         CBAG_OK);
    assert_non_null(strstr(cbag_errmsg(cx), "must be str"));
    cbag_clear_error(cx);
}

/* The same bag written by dask.bag.to_textfiles and by cbag: same file
 * names, same decompressed bytes (where Debian's python3-dask is there). */
static void test_to_textfiles_like_dask(void **state) {
    (void)state;
    if (system("/usr/bin/python3 -c 'import dask.bag' >/dev/null 2>&1") != 0) {
        skip();
        return;
    }
    const char *items[] = {"a", "b\u00e9", "", "{\"x\": 1}", "c", "d", "e"};
    cbag_call *m = cbag_main(cx);
    cbag_val *l = cbag_new_list(m, 7);
    for (int i = 0; i < 7; i++) cbag_append(m, l, cbag_new_strz(m, items[i]));
    /* 7 elements in 4 partitions of 2 (dask: ceil(7 / 4)) */
    cbag *b = cbag_from_sequence(cx, l, 4, 0);
    char pattern[512], cmd[2048];
    for (int last = 0; last < 2; last++) {
        for (int gz = 0; gz < 2; gz++) {
            const char *ext = gz ? "txt.gz" : "txt";
            snprintf(pattern, sizeof pattern, "%s/mine%d/*.%s", dir, last, ext);
            cbag_textfiles_options o = {0};
            o.last_endline = last;
            assert_int_equal(cbag_to_textfiles(b, pattern, &o), CBAG_OK);
            snprintf(cmd, sizeof cmd,
                     "cd %s && /usr/bin/python3 -c '"
                     "import dask, dask.bag as db\n"
                     "dask.config.set(scheduler=\"sync\")\n"
                     "items = [\"a\", \"b\\u00e9\", \"\", \"{\\\"x\\\": 1}\", "
                     "\"c\", \"d\", \"e\"]\n"
                     "db.from_sequence(items, npartitions=4).to_textfiles("
                     "\"theirs%d/*.%s\", last_endline=%s)' && "
                     "for f in theirs%d/*; do n=$(basename $f); "
                     "if [ %d = 1 ]; then cmp <(zcat $f) <(zcat mine%d/$n) || exit 1; "
                     "else cmp $f mine%d/$n || exit 1; fi; done && "
                     "[ $(ls theirs%d | wc -l) = $(ls mine%d | wc -l) ]",
                     dir, last, ext, last ? "True" : "False", last, gz, last,
                     last, last, last);
            FILE *sh = popen("bash", "w");
            assert_non_null(sh);
            fputs(cmd, sh);
            fputs("\n", sh);
            int rc = pclose(sh);
            if (rc != 0) fprintf(stderr, "differs from dask: %s\n", cmd);
            assert_int_equal(rc, 0);
            snprintf(cmd, sizeof cmd, "rm -rf %s/mine%d %s/theirs%d", dir, last,
                     dir, last);
            assert_int_equal(system(cmd), 0);
        }
    }
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cbag-test-text.XXXXXX");
    if (!mkdtemp(dir)) return -1;
    cbag_options o = {0};
    o.workers = 2;
    cx = cbag_open(&o);
    return cx ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    cbag_close(cx);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_json_projection),
        cmocka_unit_test(test_to_textfiles),
        cmocka_unit_test(test_to_textfiles_like_dask),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
