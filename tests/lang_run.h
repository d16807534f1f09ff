/* lang_run.h: running programs in the cbag language for the tests, as the
 * command does: the value of the last expression as its repr, or the
 * error text. Header-only (static functions) for tests/test_lang*.c. */
#ifndef CBAG_TEST_LANG_RUN_H
#define CBAG_TEST_LANG_RUN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbag.h"
#include "lang/lang.h"

/* Options of the runs that follow (projection on by default). */
static cbag__progopt lang_opt;

/* The DOT text of the last bag or item computed by the last run (what
 * --visualize writes), or NULL; malloc'd. */
static char *lang_last_dot;

/* Runs src on a fresh context with 4 workers; returns what the command
 * would print (the last value's repr, without the newline) or, on failure,
 * the error text. *rc gets RUN_OK, RUN_ERROR or RUN_SYNTAX. malloc'd. */
static inline char *run(const char *src, int *rc) {
    cbag_options o = {0};
    o.workers = 4;
    cbag_ctx *cx = cbag_open(&o);
    assert_non_null(cx);
    cbag__prog *p = cbag__prog_new(cx, &lang_opt);
    assert_non_null(p);
    char *out = NULL, *err = NULL;
    size_t on = 0, en = 0;
    FILE *f = open_memstream(&out, &on);
    FILE *e = open_memstream(&err, &en);
    assert_non_null(f);
    assert_non_null(e);
    cbag__src s = {"<test>", src};
    cbag__lv last;
    int r = cbag__prog_run(p, &s, &last, e);
    if (r == RUN_INCOMPLETE) r = RUN_SYNTAX;
    if (r == RUN_OK) r = cbag__prog_show(p, &last, CBAG_FMT_REPR, f, e, 0);
    fclose(f);
    fclose(e);
    free(lang_last_dot);
    lang_last_dot = NULL;
    if (p->last_lazy.k == LV_BAG || p->last_lazy.k == LV_ITEM) {
        size_t dn;
        FILE *d = open_memstream(&lang_last_dot, &dn);
        if (p->last_lazy.k == LV_BAG)
            cbag_visualize(p->last_lazy.b, d);
        else
            cbag_visualize_item(p->last_lazy.b, d);
        fclose(d);
    }
    cbag__prog_free(p);
    cbag_close(cx);
    *rc = r;
    char *res = r == RUN_OK ? out : err;
    free(r == RUN_OK ? err : out);
    size_t n = strlen(res);
    if (n && res[n - 1] == '\n') res[n - 1] = '\0';
    return res;
}

static inline void expect(const char *src, const char *want) {
    int rc;
    char *got = run(src, &rc);
    if (rc != RUN_OK || strcmp(got, want) != 0)
        fail_msg("program:\n%s\nwanted: %s\ngot (rc %d): %s", src, want, rc,
                 got);
    free(got);
}

/* The run fails with rc and the error text contains every `part`. */
static inline void expect_error(const char *src, int want_rc, const char *part1,
                                const char *part2) {
    int rc;
    char *got = run(src, &rc);
    if (rc != want_rc || !strstr(got, part1) || (part2 && !strstr(got, part2)))
        fail_msg("program:\n%s\nwanted rc %d with '%s' and '%s'\ngot rc %d: "
                 "%s",
                 src, want_rc, part1, part2 ? part2 : "", rc, got);
    free(got);
}

#endif
