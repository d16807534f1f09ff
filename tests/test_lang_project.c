/* test_lang_project.c: projection of JSON records in the cbag language.
 * Each program runs with and without projection and must print the same
 * (values or errors); the graph computed says which keys were parsed, or
 * that the record escaped whole and every key was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cbag.h"
#include "lang/lang.h"
#include "lang_run.h"

static char dir[256];

/* Records with missing keys, duplicate keys (the last wins), values nested
 * under keys a program never reads, a line that is not an object, and in
 * bad.jsonl invalid JSON under a key never read. */
static const char *const good =
    "{\"id\": 1, \"name\": \"Alice\", \"t\": [{\"a\": 10}, {\"a\": 5}], "
    "\"x\": {\"deep\": [1, {\"name\": \"not me\"}]}}\n"
    "{\"id\": 2, \"name\": \"Bob\", \"t\": [], \"name\": \"Bobby\"}\n"
    "{\"id\": 3, \"t\": [{\"a\": 1}], \"junk\": [[[\"\\u00e9\"]]]}\n"
    "{\"name\": \"Alice\", \"id\": 4, \"t\": [{\"a\": 2}], \"email\": null}\n"
    "{\"n\\u0061me\": \"Dan\", \"id\": 5, \"t\": [{\"a\": 7}]}\n";
static const char *const bad =
    "{\"id\": 1, \"name\": \"Alice\", \"t\": []}\n"
    "{\"id\": 2, \"name\": \"Bob\", \"junk\": [1, 2,], \"t\": []}\n";

/* The same output with and without projection; whether projection was used
 * (and then with those keys, as "keeping [...]" in the graph). */
static void same(const char *body, const char *keeping) {
    char src[4096];
    snprintf(src, sizeof src,
             "js = db.read_text('%s/*.jsonl', blocksize=None).map(json.loads)\n"
             "%s",
             dir, body);
    int rc1, rc2;
    lang_opt.no_projection = false;
    char *a = run(src, &rc1);
    char *dot = lang_last_dot ? strdup(lang_last_dot) : NULL;
    lang_opt.no_projection = true;
    char *b = run(src, &rc2);
    lang_opt.no_projection = false;
    if (rc1 != rc2 || strcmp(a, b) != 0)
        fail_msg("program:\n%s\nwith projection (rc %d): %s\nwithout (rc %d): "
                 "%s",
                 src, rc1, a, rc2, b);
    const char *k = dot ? strstr(dot, "keeping [") : NULL;
    if (keeping) {
        char want[256];
        snprintf(want, sizeof want, "keeping [%s]", keeping);
        if (!k || strncmp(k, want, strlen(want)) != 0)
            fail_msg("program:\n%s\nwanted %s in the graph:\n%s", src, want,
                     dot ? dot : "(none)");
    } else if (k) {
        fail_msg("program:\n%s\nwanted no projection:\n%s", src, dot);
    }
    free(a);
    free(b);
    free(dot);
}

static void write_file(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_reads(void **state) {
    (void)state;
    write_file("a.jsonl", good);
    same("js.filter(lambda r: r.get('name') == 'Alice').count()", "name");
    same("js.pluck('name', None).compute()", "name");
    same("sorted(js.map(lambda r: r.get('name', '?')).frequencies())", "name");
    same("js.count()", "");
    same("js.filter(lambda r: 'name' in r).map(lambda r: r['id']).sum()",
         "name,id");
    same("js.filter(lambda r: r['id'] > 1).map(lambda r: sum(t['a'] for t in "
         "r['t'])).compute()",
         "id,t");
    same("def n(r):\n    x = r['t']\n    return len(x) + r['id']\n"
         "js.map(n).compute()",
         "t,id");
    same("from operator import add\n"
         "sorted(js.foldby('id', lambda acc, r: acc + len(r['t']), 0, add, "
         "0).compute())",
         "id,t");
    same("sorted(js.foldby(lambda r: r.get('email') is None, lambda a, r: a "
         "+ 1, 0).compute())",
         "email");
    same("js.map(lambda r: [r['id'] * k for k in range(2)]).compute()", "id");
    same("js.filter(lambda r: r is not None).pluck('id').take(2)", "id");
    same("df = js.to_dataframe(columns=['id', 'name'])\nlen(df), str(df)",
         "id,name");
    /* the record escapes whole: every key is parsed */
    same("js.take(2)", NULL);
    same("js.map(lambda r: r).pluck('id').compute()", NULL);
    same("js.map(len).compute()", NULL);
    same("js.map(lambda r: len(r)).compute()", NULL);
    same("js.map(lambda r: list(r.keys())).compute()", NULL);
    same("js.map(json.dumps).compute()", NULL);
    same("js.filter(lambda r: str(r) != '').count()", NULL);
    same("js.map(lambda r: [k for k in r]).compute()", NULL);
    same("js.map(lambda r: (r['id'], r)).pluck(0).compute()", NULL);
    same("key = 'id'\njs.map(lambda r: r[key]).compute()", NULL);
    same("js.groupby(lambda r: r['id'] % 2).count()", NULL);
    same("js.map(lambda r: r == {}).compute()", NULL);
    same("def f(r):\n    r = r['t']\n    return r\njs.map(f).compute()", NULL);
    same("df = js.to_dataframe()\nlen(df), str(df)", NULL);
    same("from operator import add\njs.fold(lambda a, r: a, add).compute()",
         NULL);
    /* errors are the same: a missing key, a type error */
    same("js.map(lambda r: r['name']).compute()", "name");
    same("js.map(lambda r: r['email'] + 1).compute()", "email");
}

static void test_errors(void **state) {
    (void)state;
    write_file("a.jsonl", bad);
    /* invalid JSON under a key never read: the same error, file and line */
    same("js.pluck('name').compute()", "name");
    same("js.count()", "");
    int rc;
    char src[512];
    snprintf(src, sizeof src,
             "db.read_text('%s/a.jsonl').map(json.loads).pluck('id').sum()",
             dir);
    char *e = run(src, &rc);
    assert_int_equal(rc, RUN_ERROR);
    assert_non_null(strstr(e, "a.jsonl line 2"));
    assert_non_null(strstr(e, "map(json.loads)"));
    free(e);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cbag-test-project.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    free(lang_last_dot);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
