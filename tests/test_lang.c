/* test_lang.c: the cbag language: lexer, parser and evaluator on
 * expressions and statements, Python's semantics, errors with positions,
 * and language functions run as bag callbacks on worker threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbag.h"
#include "lang/lang.h"
#include "lang_run.h"

/* ------------------------------------------------------------------------ */

static void test_lexer(void **state) {
    (void)state;
    cbag__pool pool = {0};
    cbag__lex lx;
    const char *src = "x = 1.5 # c\nif x:\n    y = 'a\\n' + \"\"\"b\n\"\"\"\n";
    assert_int_equal(cbag__tokenize(&pool, src, &lx), 0);
    int want[] = {T_NAME, T_OP,      T_FLOAT,   T_NEWLINE, T_NAME, T_NAME,
                  T_OP,   T_NEWLINE, T_INDENT,  T_NAME,    T_OP,   T_STR,
                  T_OP,   T_STR,     T_NEWLINE, T_DEDENT,  T_EOF};
    assert_int_equal(lx.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < lx.n; i++)
        assert_int_equal(lx.tok[i].t, want[i]);
    assert_int_equal(lx.tok[11].len, 2);
    assert_memory_equal(lx.tok[11].s, "a\n", 2);
    assert_string_equal(lx.tok[13].s, "b\n");
    assert_int_equal(lx.tok[9].line, 3);
    assert_int_equal(lx.tok[9].col, 5);
    free(lx.tok);
    /* an open bracket is incomplete, not an error, for the prompt */
    assert_int_equal(cbag__tokenize(&pool, "f(1,\n", &lx), -1);
    assert_true(lx.incomplete);
    free(lx.tok);
    cbag__pfree(&pool);
}

static void test_arithmetic(void **state) {
    (void)state;
    expect("1 + 2 * 3", "7");
    expect("7 / 2", "3.5");
    expect("6 / 3", "2.0");
    expect("7 // 2", "3");
    expect("-7 // 2", "-4");
    expect("-7 % 3", "2");
    expect("7 % -3", "-2");
    expect("7.5 // 2", "3.0");
    expect("-7.5 % 2", "0.5");
    expect("2 ** 10", "1024");
    expect("2 ** -1", "0.5");
    expect("-2 ** 2", "-4");
    expect("0.1 + 0.2", "0.30000000000000004");
    expect("'ab' * 3", "'ababab'");
    expect("[1] + [2, 3]", "[1, 2, 3]");
    expect("(1,) + (2,)", "(1, 2)");
    expect("True + True", "2");
    expect("x = 5; x += 2; x *= 3; x", "21");
    expect("9223372036854775807", "9223372036854775807");
    expect_error("9223372036854775807 + 1", RUN_ERROR, "OverflowError", NULL);
    expect_error("1 / 0", RUN_ERROR, "ZeroDivisionError: division by zero",
                 NULL);
    expect_error("1 % 0", RUN_ERROR, "ZeroDivisionError", NULL);
    expect_error("'a' + 1", RUN_ERROR, "TypeError", NULL);
}

static void test_comparisons(void **state) {
    (void)state;
    expect("1 < 2 < 3", "True");
    expect("1 < 3 < 2", "False");
    expect("1 == 1.0", "True");
    expect("'a' in 'cat', 3 not in [1, 2], 'k' in {'k': 1}",
           "(True, True, True)");
    expect("x = None; x is None, x is not None", "(True, False)");
    expect("[1, 2] < [1, 3]", "True");
    expect("0 or 'x'", "'x'");
    expect("1 and 0", "0");
    expect("not []", "True");
    expect("1 if 0 else 2", "2");
    expect("float('nan') < 1", "False");
    expect_error("'a' < 1", RUN_ERROR,
                 "TypeError: '<' not supported between instances of 'str' "
                 "and 'int'",
                 NULL);
}

static void test_containers(void **state) {
    (void)state;
    expect("[x * x for x in range(5) if x % 2]", "[1, 9]");
    expect("{k: v * 2 for k, v in [('a', 1), ('b', 2)]}", "{'a': 2, 'b': 4}");
    expect("sum(x for x in range(5))", "10");
    expect("[(a, b) for a in range(2) for b in 'xy']",
           "[(0, 'x'), (0, 'y'), (1, 'x'), (1, 'y')]");
    expect("x = 10; [x for x in range(3)], x", "([0, 1, 2], 10)");
    expect("d = {'a': 1, 'b': [1, 2]}; d['b'][-1], d.get('c', 0), d.get('z')",
           "(2, 0, None)");
    expect("list({'a': 1, 'b': 2}.items())", "[('a', 1), ('b', 2)]");
    expect("[1, 2, 3, 4][1:3], 'hello'[::-1], (1, 2, 3)[-2:]",
           "([2, 3], 'olleh', (2, 3))");
    expect("l = []; l.append(1); l.extend([2, 3]); l", "[1, 2, 3]");
    expect("d = {}; d['x'] = 1; d['x'] += 1; d", "{'x': 2}");
    expect("a, (b, c) = 1, (2, 3); a + b + c", "6");
    expect_error("{'a': 1}['b']", RUN_ERROR, "KeyError: 'b'", "column 9");
    expect_error("[1][5]", RUN_ERROR, "IndexError", NULL);
}

static void test_functions(void **state) {
    (void)state;
    expect("(lambda a, b=2: a + b)(1)", "3");
    expect("(lambda a, b=2: a + b)(1, b=5)", "6");
    expect("def mk(n):\n    return lambda x: x + n\nf = mk(10)\nf(5)", "15");
    expect("def f(xs):\n"
           "    t = 0\n"
           "    for x in xs:\n"
           "        if x > 2:\n"
           "            t += x\n"
           "        elif x == 1:\n"
           "            continue\n"
           "        else:\n"
           "            t -= 1\n"
           "    return t\n"
           "f([1, 2, 3, 4])",
           "6");
    expect("def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n"
           "fact(20)",
           "2432902008176640000");
    expect("def w(n):\n    i = 0\n    while True:\n        i += 1\n"
           "        if i >= n:\n            break\n    return i\nw(7)",
           "7");
    expect("def doc():\n    \"\"\"a docstring\"\"\"\n    pass\ndoc()", "");
    expect("from operator import add\nadd(2, 3)", "5");
    expect("import math; math.sqrt(16.0), math.floor(2.5)", "(4.0, 2)");
    expect("json.loads('{\"a\": [1, 2.5, null]}')", "{'a': [1, 2.5, None]}");
    expect("json.dumps({'a': (1, 'x')})", "'{\"a\": [1, \"x\"]}'");
    expect_error("def f(x):\n    return x\nf()", RUN_ERROR,
                 "f() missing 1 required positional argument: 'x'", NULL);
    expect_error("def r(n):\n    return r(n + 1)\nr(0)", RUN_ERROR,
                 "RecursionError", NULL);
}

static void test_builtins(void **state) {
    (void)state;
    expect("sorted([3, 1, 2], reverse=True)", "[3, 2, 1]");
    expect("sorted([('b', 2), ('a', 9)], key=lambda t: t[1])",
           "[('b', 2), ('a', 9)]");
    expect("max([1, 5, 3]), min(4, 2, 8), max([], default=0)", "(5, 2, 0)");
    expect("max(['aa', 'b'], key=len)", "'aa'");
    expect("round(2.5), round(3.5), round(3.14159, 2)", "(2, 4, 3.14)");
    expect("int('42') + 1, int(-3.9), float('1.5'), str(1.0), bool('')",
           "(43, -3, 1.5, '1.0', False)");
    expect("len('h\\u00e9llo'), len([1, 2]), len({'a': 1})", "(5, 2, 1)");
    expect("list(zip([1, 2], 'ab')), list(enumerate('ab', 1))",
           "([(1, 'a'), (2, 'b')], [(1, 'a'), (2, 'b')])");
    expect("isinstance(True, int), isinstance(1.0, (int, float)), "
           "isinstance('x', dict)",
           "(True, True, False)");
    expect("any([0, '', 3]), all([1, []]), abs(-3)", "(True, False, 3)");
    expect("dict(a=1, b=2), tuple([1, 2])", "({'a': 1, 'b': 2}, (1, 2))");
    expect("'a,b,,c'.split(','), ' x y '.split(), ' x '.strip()",
           "(['a', 'b', '', 'c'], ['x', 'y'], 'x')");
    expect("'{} {:.2f} {name!r} {:>4}'.format('a', 3.14159, 7, name='n')",
           "\"a 3.14 'n'    7\"");
    expect("'{:,}'.format(1234567), '%s=%05.1f' % ('x', 2.25)",
           "('1,234,567', 'x=002.2')");
    expect("'-'.join(['a', 'b']), 'Hi'.upper(), 'Hi'.lower(), "
           "'abc'.startswith(('x', 'ab')), 'aXbX'.replace('X', '')",
           "('a-b', 'HI', 'hi', True, 'ab')");
}

static void test_syntax_errors(void **state) {
    (void)state;
    expect_error("1 +", RUN_SYNTAX, "SyntaxError", "^");
    expect_error("x = (1, 2", RUN_SYNTAX, "SyntaxError", NULL);
    expect_error("def f(x):\nreturn x", RUN_SYNTAX, "indented block", NULL);
    expect_error("a = 1\n  b = 2", RUN_SYNTAX, "unexpected indent", NULL);
    expect_error("x = f'{1 +}'", RUN_SYNTAX, "SyntaxError", NULL);
    expect_error("x = f'{}'", RUN_SYNTAX, "empty expression", NULL);
    expect_error("x = f'a}'", RUN_SYNTAX, "single '}'", NULL);
    expect_error("x = f'{1!z}'", RUN_SYNTAX, "conversion", NULL);
    expect_error("x = f'{1'", RUN_SYNTAX, "expecting '}'", NULL);
    expect_error("try:\n    pass\n", RUN_SYNTAX, "'except' or 'finally'",
                 NULL);
    expect_error("foo + 1", RUN_ERROR, "NameError: name 'foo' is not defined",
                 "line 1, column 1");
    expect_error("x = 1\ny = x.nope()", RUN_ERROR, "AttributeError",
                 "line 2, column 7");
    expect_error("import numpy", RUN_ERROR, "No module named 'numpy'", NULL);
}

static void test_bags(void **state) {
    (void)state;
    expect("db.range(10, npartitions=2).map(lambda x: x * 2).sum()", "90");
    expect("db.from_sequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "
           "npartitions=2).take(3)",
           "(1, 2, 3)");
    expect("def is_even(n):\n    return n % 2 == 0\n"
           "b = db.from_sequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])\n"
           "b.filter(is_even).map(lambda x: x ** 2).compute()",
           "[4, 16, 36, 64, 100]");
    expect("b = db.from_sequence(['Alice', 'Bob', 'Charlie', 'Dan', 'Edith', "
           "'Frank'])\nb.groupby(len).compute()",
           "[(7, ['Charlie']), (3, ['Bob', 'Dan']), (5, ['Alice', 'Edith', "
           "'Frank'])]");
    expect("b = db.from_sequence(list(range(10)))\n"
           "is_even = lambda x: x % 2\n"
           "b.foldby(is_even, binop=max, combine=max).compute()",
           "[(0, 8), (1, 9)]");
    expect("from operator import add\n"
           "b = db.from_sequence([{'k': 'a', 'v': [1, 2]}, {'k': 'b', 'v': "
           "[3]}, {'k': 'a', 'v': [4]}], npartitions=2)\n"
           "def binop(tot, val):\n"
           "    amt = 0\n"
           "    for t in val['v']:\n"
           "        amt += t\n"
           "    return tot + amt\n"
           "sorted(b.foldby('k', binop=binop, initial=0, combine=add, "
           "combine_initial=0).compute())",
           "[('a', 7), ('b', 3)]");
    expect(
        "b = db.from_sequence(range(6), npartitions=3)\n"
        "b.fold(lambda a, x: a + x, initial=0).compute(), b.count().compute(),"
        " b.npartitions",
        "(15, 6, 3)");
    expect("db.from_sequence([[1, 2], [3]]).flatten().map(str).compute()",
           "['1', '2', '3']");
    expect("db.from_sequence([(1, 2), (3, 4)]).starmap(lambda a, b: a * b)"
           ".compute()",
           "[2, 12]");
    expect("db.concat([db.range(2, npartitions=1), db.range(2, npartitions=1)])"
           ".compute()",
           "[0, 1, 0, 1]");
    expect("db.from_sequence([1.0, 2.0, 3.0, 4.0]).var(ddof=1).compute()",
           "1.6666666666666667");
    /* a function building a closure handed to the bag: the frame is copied */
    expect("def add_n(b, n):\n    return b.map(lambda x: x + n)\n"
           "add_n(db.range(3, npartitions=1), 10).compute()",
           "[10, 11, 12]");
}

static void test_callback_errors(void **state) {
    (void)state;
    expect_error("db.from_sequence([{'a': 1}]).map(lambda r: r['b'])"
                 ".compute()",
                 RUN_ERROR, "KeyError: 'b'", "[program line 1, col 45]");
    expect_error("db.range(4, npartitions=2).map(lambda x: 1 // (x - 3))"
                 ".compute()",
                 RUN_ERROR, "ZeroDivisionError", "partition 1");
    expect_error("db.range(3, npartitions=1).map(lambda x: db.range(1, "
                 "npartitions=1)).compute()",
                 RUN_ERROR, "not supported", NULL);
    expect_error("db.range(3, npartitions=1).map(lambda x: len).compute()",
                 RUN_ERROR, "only data values", NULL);
}

/* Many records through lambdas on 4 threads give the sequential answer. */
static void test_threads(void **state) {
    (void)state;
    int64_t want = 0;
    for (int64_t x = 0; x < 20000; x++)
        if ((x * 2) % 3 == 0) want += x * 2;
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)want);
    expect("db.range(20000, npartitions=16).map(lambda x: x * 2)"
           ".filter(lambda x: x % 3 == 0).sum()",
           buf);
    expect(
        "def f(r):\n    return {'k': r % 7, 'sq': [i for i in range(r % 5)]}\n"
        "b = db.range(5000, npartitions=8).map(f)\n"
        "sorted(b.foldby(lambda r: r['k'], lambda acc, r: acc + len(r['sq']),"
        " initial=0, combine=lambda a, b: a + b, combine_initial=0)"
        ".compute())",
        "[(0, 1430), (1, 1430), (2, 1430), (3, 1429), (4, 1428), (5, 1427), "
        "(6, 1426)]");
}

/* The C API's text for df.groupby(by)[col].agg() (or head n) of the JSON
 * records, on their own context: what the language must print. */
static char *capi_frame(const char *json, size_t nparts, const char *by,
                        const char *col, const char *agg, size_t head) {
    cbag_options o = {0};
    o.workers = 4;
    cbag_ctx *cx = cbag_open(&o);
    assert_non_null(cx);
    const cbag_val *seq = cbag_json_parse(cbag_main(cx), json, strlen(json));
    assert_non_null(seq);
    cbag *b = cbag_from_sequence(cx, seq, nparts, 0);
    cbag_frame *f = cbag_to_dataframe(b, NULL);
    if (agg) f = cbag_frame_groupby(f, by, col, agg);
    assert_non_null(f);
    char *out = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&out, &n);
    assert_non_null(m);
    assert_int_equal(
        head ? cbag_frame_print_head(m, f, head) : cbag_frame_print(m, f), 0);
    fclose(m);
    cbag_close(cx);
    if (n && out[n - 1] == '\n') out[n - 1] = '\0';
    return out;
}

static void expect_capi(const char *json, size_t nparts, const char *by,
                        const char *col, const char *agg, size_t head,
                        const char *expr) {
    char src[2048];
    snprintf(src, sizeof src,
             "null = None\ndf = db.from_sequence(%s, npartitions=%zu)"
             ".to_dataframe()\n%s",
             json, nparts, expr);
    char *want = capi_frame(json, nparts, by, col, agg, head);
    expect(src, want);
    free(want);
}

static void test_frames(void **state) {
    (void)state;
    const char *recs =
        "[{\"k\": \"b\", \"v\": 1, \"s\": \"x\"}, {\"k\": \"a\", \"v\": 2}, "
        "{\"k\": \"b\", \"v\": null, \"s\": \"y\"}, {\"k\": \"a\", \"v\": 4.5},"
        " {\"k\": \"c\", \"s\": \"x\"}, {\"k\": \"b\", \"v\": -3}]";
    /* as the C API prints them */
    expect_capi(recs, 2, NULL, NULL, NULL, 5, "df.head()");
    expect_capi(recs, 2, NULL, NULL, NULL, 2, "df.head(2)");
    expect_capi(recs, 3, "k", "v", "count", 0,
                "df.groupby('k').v.count().compute()");
    expect_capi(recs, 3, "k", "v", "sum", 0, "df.groupby('k')['v'].sum()");
    expect_capi(recs, 2, "k", "s", "nunique", 0,
                "df.groupby('k').s.agg('nunique')");
    expect_capi(recs, 2, "k", NULL, "size", 0, "df.groupby(df.k).size()");
    expect_capi(recs, 2, "k", NULL, "max", 0, "df.groupby('k').max()");
    expect_capi(recs, 1, "s", "v", "mean", 3,
                "df.groupby(['s']).v.mean().compute().head(3)");
    /* and as pandas prints them */
    const char *mk = "df = db.from_sequence([{'k': 'b', 'v': 1}, {'k': 'a', "
                     "'v': 2}, {'k': 'b', 'v': 3}], npartitions=2)"
                     ".to_dataframe()\n";
    char src[1024];
#define EXPECT(expr, want)                                                     \
    do {                                                                       \
        snprintf(src, sizeof src, "%s%s", mk, expr);                           \
        expect(src, want);                                                     \
    } while (0)
    EXPECT("df.head()", "   k  v\n0  b  1\n1  a  2\n0  b  3");
    EXPECT("df.groupby('k').v.count()",
           "k\na    1\nb    2\nName: v, dtype: int64");
    EXPECT("df[df.v > 1]", "   k  v\n1  a  2\n0  b  3");
    EXPECT("df[(df['k'] == 'b') & (df.v < 3)]", "   k  v\n0  b  1");
    EXPECT("df[['v']].head(1)", "   v\n0  1");
    EXPECT("df.columns, len(df), df.npartitions", "(['k', 'v'], 3, 2)");
    EXPECT("df.dtypes", "k    object\nv     int64\ndtype: object");
    EXPECT("df.dtypes['v'], df.v.dtype, df.v.name", "('int64', 'int64', 'v')");
    EXPECT("df.v.sum(), df.v.mean(), df.v.max(), df['v'].count()",
           "(6, 2.0, 3, 3)");
    EXPECT("df.to_bag().compute()", "[('b', 1), ('a', 2), ('b', 3)]");
    EXPECT("df.to_bag(format='dict').map(lambda r: r['v']).sum()", "6");
    EXPECT("df.compute() is df or True", "True");
    EXPECT("db.from_sequence([(1, 'x'), (2, 'y')], npartitions=1).to_dataframe("
           "columns=['n', 's']).head()",
           "   n  s\n0  1  x\n1  2  y");
    EXPECT("db.from_sequence([{'a': 1}, {'a': 2}], npartitions=1).to_dataframe("
           "meta={'a': 'float64'}).head()",
           "     a\n0  1.0\n1  2.0");
    /* errors name the column */
    snprintf(src, sizeof src, "%sdf['x']", mk);
    expect_error(src, RUN_ERROR, "KeyError", "'x' is not a column");
    snprintf(src, sizeof src, "%sdf[df.x > 1]", mk);
    expect_error(src, RUN_ERROR, "AttributeError", "'x'");
    snprintf(src, sizeof src, "%sdf.groupby('k').x.count()", mk);
    expect_error(src, RUN_ERROR, "AttributeError", "'x'");
    snprintf(src, sizeof src, "%sdf.groupby('k')['v'].median()", mk);
    expect_error(src, RUN_ERROR, "'median'", NULL);
    snprintf(src, sizeof src, "%sdf[df.k > 1]", mk);
    expect_error(src, RUN_ERROR, "k", NULL);
    snprintf(src, sizeof src,
             "%sdb.range(3, npartitions=1).map(lambda x: df.v).sum()", mk);
    expect_error(src, RUN_ERROR, "workers", NULL);
#undef EXPECT
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lexer),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_builtins),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_bags),
        cmocka_unit_test(test_callback_errors),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
