/* test_lang_more.c: the broader Python subset of the cbag language, with
 * the values Python gives (tests/diff/lang.py checks many more programs
 * against Python itself): f-strings, exceptions, sets, containers changed
 * in place, parameters and spreads, str methods and Unicode case. */
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

static void test_fstrings(void **state) {
    (void)state;
    expect("x = 3.14159; n = 5\n"
           "f\"{x:.2f}|{x!r}|{'a'!r:>5}|{n*2:04d}|{n=}|{n = }|{{n}}\"",
           "\"3.14|3.14159|  'a'|0010|n=5|n = 5|{n}\"");
    expect("w = 6; f'{\"x\":>{w}}|{3.5:{w}.1f}|{255:#x}|{-3:+d}|{0.5:%}'",
           "'     x|   3.5|0xff|-3|50.000000%'");
    expect("d = {'k': [1, 2]}; f\"{d['k'][0]}-{d}\" f'{1}' 'x'",
           "\"1-{'k': [1, 2]}1x\"");
    expect("v = 1\nf'''a\n{v}\n'''", "'a\\n1\\n'");
    expect("rf'\\n{1}'", "'\\\\n1'");
    expect_error("f'{1 +}'", RUN_SYNTAX, "SyntaxError", NULL);
    expect_error("f'{x!z}'", RUN_SYNTAX, "conversion", NULL);
}

static void test_exceptions(void **state) {
    (void)state;
    expect("def f(x):\n"
           "    try:\n"
           "        return x['a']\n"
           "    except KeyError as e:\n"
           "        return repr(e), str(e), e.args\n"
           "    finally:\n"
           "        pass\n"
           "f({'a': 1}), f({})",
           "(1, (\"KeyError('a')\", \"'a'\", ('a',)))");
    expect("def f(x):\n"
           "    try:\n"
           "        return int(x)\n"
           "    except (TypeError, ValueError) as e:\n"
           "        return type(e).__name__\n"
           "f('z'), f(None), f('7')",
           "('ValueError', 'TypeError', 7)");
    expect("out = []\n"
           "for i in range(3):\n"
           "    try:\n"
           "        if i == 1:\n"
           "            raise RuntimeError('one')\n"
           "        out.append(i)\n"
           "    except LookupError:\n"
           "        out.append('no')\n"
           "    except Exception as e:\n"
           "        out.append(str(e))\n"
           "    else:\n"
           "        out.append('else')\n"
           "    finally:\n"
           "        out.append('fin')\n"
           "out",
           "[0, 'else', 'fin', 'one', 'fin', 2, 'else', 'fin']");
    expect(
        "def g():\n    try:\n        return 1\n    finally:\n        return 2\n"
        "g()",
        "2");
    expect("try:\n    raise ValueError\nexcept ValueError as e:\n"
           "    r = repr(e), str(e), isinstance(e, Exception)\nr",
           "('ValueError()', '', True)");
    expect_error("raise ValueError('negative')", RUN_ERROR,
                 "ValueError: negative", NULL);
    expect_error("def h():\n    try:\n        1 / 0\n    except "
                 "ZeroDivisionError:\n        raise\nh()",
                 RUN_ERROR, "ZeroDivisionError: division by zero", NULL);
    expect_error("assert 1 == 2, 'nope'", RUN_ERROR, "AssertionError: nope",
                 NULL);
    expect_error("try:\n    x = 1\nexcept 5:\n    pass\n1 / 0", RUN_ERROR,
                 "ZeroDivisionError", NULL);
    /* in a bag's callback: the worker reports it with the record */
    expect_error("def f(x):\n    if x == 3:\n        raise KeyError(x)\n"
                 "    return x\ndb.range(5, npartitions=2).map(f).sum()",
                 RUN_ERROR, "KeyError: 3", "map(f) failed");
}

static void test_sets(void **state) {
    (void)state;
    expect("s = {3, 1, 2}; s.add(5); s.discard(3); s.remove(1)\n"
           "len(s), 2 in s, sorted(s), s == {2, 5}",
           "(2, True, [2, 5], True)");
    expect("set(), set([1, 1]), {1, 2} | {3}, {1, 2} & {2}, {1, 2} - {2}, "
           "{1, 2} ^ {2, 3}",
           "(set(), {1}, {1, 2, 3}, {2}, {1}, {1, 3})");
    expect("{1, 2} <= {1, 2, 3}, {1} < {1}, {1}.isdisjoint({2}), "
           "{1}.issubset([1, 2]), {x % 3 for x in range(10)}",
           "(True, False, True, True, {0, 1, 2})");
    expect("type(set()), isinstance({1}, set), isinstance({}, set), "
           "len({*'aab'})",
           "(<class 'set'>, True, False, 2)");
    expect_error("set([[1]])", RUN_ERROR, "TypeError: unhashable type: 'list'",
                 NULL);
    expect_error("{1}.remove(2)", RUN_ERROR, "KeyError: 2", NULL);
    expect_error("json.dumps({1})", RUN_ERROR,
                 "Object of type set is not JSON serializable", NULL);
}

static void test_containers_in_place(void **state) {
    (void)state;
    expect("l = [3, 1, 2]; l.append(4); x = l.pop(); l.insert(0, 9)\n"
           "y = l.pop(0); l.sort(reverse=True); l[0] += 10; del l[-1]\n"
           "l.remove(2); l.reverse(); l, x, y",
           "([13], 4, 9)");
    expect("m = ['bb', 'a', 'ccc']; m.sort(key=len); m", "['a', 'bb', 'ccc']");
    expect(
        "d = {'a': 1, 'b': 2}\n"
        "x = d.pop('a'); y = d.pop('z', 5); d.setdefault('c', []).append(1)\n"
        "del d['b']; d, x, y, d.popitem(), d",
        "({}, 1, 5, ('c', [1]), {})");
    expect("d = {str(i): i for i in range(20)}\n"
           "for k in list(d):\n    if d[k] % 2:\n        del d[k]\n"
           "len(d), d['18'], '5' in d",
           "(10, 18, False)");
    expect_error("[].pop()", RUN_ERROR, "IndexError: pop from empty list",
                 NULL);
    expect_error("l = [1]\nl[3] = 0", RUN_ERROR,
                 "IndexError: list assignment index out of range", NULL);
    expect_error("{}.pop('x')", RUN_ERROR, "KeyError: 'x'", NULL);
    /* a record from a bag is not the callback's to change */
    expect_error("db.from_sequence([[1]]).map(lambda l: l.append(2)).count()",
                 RUN_ERROR, "cannot be modified", NULL);
}

static void test_statements(void **state) {
    (void)state;
    expect("for i in range(3):\n    pass\nelse:\n    i = 'done'\ni", "'done'");
    expect("for i in range(3):\n    if i == 1:\n        break\nelse:\n"
           "    i = 'no'\ni",
           "1");
    expect("n = 0\nwhile n < 3:\n    n += 1\nelse:\n    n += 10\nn", "13");
    expect("def f():\n    global c\n    c += 1\nc = 0\nf(); f()\nc", "2");
    expect("def o():\n    n = 0\n    def inc():\n        nonlocal n\n"
           "        n += 1\n    inc(); inc()\n    return n\no()",
           "2");
    expect("x = 5\ndel x\n'x' in dir() if False else 1", "1");
    expect_error("x = 5\ndel x\nx", RUN_ERROR, "NameError", NULL);
}

static void test_parameters(void **state) {
    (void)state;
    expect("def f(a, b=2, *args, c=3, **kw):\n    return a, b, args, c, kw\n"
           "f(1), f(1, 5, 6, 7, c=0, z=9)",
           "((1, 2, (), 3, {}), (1, 5, (6, 7), 0, {'z': 9}))");
    expect("def f(a, b):\n    return a - b\nf(*[5], **{'b': 2})", "3");
    expect("'{name} has {n}'.format(**{'name': 'Al', 'n': 2})", "'Al has 2'");
    expect("a, *rest = [1, 2, 3]; *i, last = 'abc'; x, *m, y = range(5)\n"
           "a, rest, i, last, m",
           "(1, [2, 3], ['a', 'b'], 'c', [1, 2, 3])");
    expect("d = {'a': 1}; [*range(2), *'ab'], {**d, 'b': 2}, (*d, 0)",
           "([0, 1, 'a', 'b'], {'a': 1, 'b': 2}, ('a', 0))");
    expect("(lambda *a, **k: (a, k))(1, z=2)", "((1,), {'z': 2})");
    expect_error("def f(a, *, key):\n    return a\nf(1)", RUN_ERROR,
                 "f() missing 1 required keyword-only argument: 'key'", NULL);
    expect_error("def f(a, b, c):\n    return a\nf()", RUN_ERROR,
                 "missing 3 required positional arguments: 'a', 'b', and "
                 "'c'",
                 NULL);
    expect_error("def f(a, b=1):\n    return a\nf(1, 2, 3)", RUN_ERROR,
                 "takes from 1 to 2 positional arguments but 3 were given",
                 NULL);
}

static void test_strings(void **state) {
    (void)state;
    expect("'a=b=c'.partition('='), 'a=b=c'.rpartition('='), "
           "'abc'.partition('x')",
           "(('a', '=', 'b=c'), ('a=b', '=', 'c'), ('abc', '', ''))");
    expect("'42'.zfill(5), '-42'.zfill(6), 'ab'.ljust(5, '*'), "
           "'ab'.rjust(5), 'ab'.center(6, '-'), 'abc'.center(6), "
           "'é'.center(4, '·')",
           "('00042', '-00042', 'ab***', '   ab', '--ab--', ' abc  ', "
           "'·é··')");
    expect("'hello hello'.rfind('hello'), 'abc'.rindex('c'), "
           "'x.txt'.removesuffix('.txt'), 'p_x'.removeprefix('p_')",
           "(6, 2, 'x', 'x')");
    expect("'ÉCOLE straße'.lower(), 'straße'.upper(), 'ǆ'.title(), "
           "'ΟΔΟΣ ΟΔΟΣ.'.lower()",
           "('école straße', 'STRASSE', 'ǅ', 'οδος οδος.')");
    expect("'İ'.lower(), \"they're bill's\".title(), 'ß'.capitalize(), "
           "'Straße'.casefold(), 'AbC'.swapcase()",
           "('i̇', \"They'Re Bill'S\", 'Ss', 'strasse', 'aBc')");
    expect("'ABC'.isupper(), 'Abc Def'.istitle(), '²'.isdigit(), "
           "'²'.isdecimal(), '½'.isnumeric(), 'é'.isalpha(), "
           "'\\u00a0'.isspace(), 'a1'.isalnum(), ''.isupper()",
           "(True, True, True, False, True, True, True, True, False)");
    expect("type(1), type('a'), type(None), type(1.5).__name__, "
           "divmod(-7, 2), pow(3, 4, 5), hex(-255), bin(5), chr(233), "
           "ord('é'), format(3.14159, '.2f')",
           "(<class 'int'>, <class 'str'>, <class 'NoneType'>, 'float', "
           "(-4, 1), 1, '-0xff', '0b101', 'é', 233, '3.14')");
}

static void test_modules(void **state) {
    (void)state;
    expect("from collections import Counter, defaultdict\n"
           "c = Counter('abracadabra'); c['z'] += 0\n"
           "c['a'], c.most_common(2), Counter('aab') + Counter('b'), c['q']",
           "(5, [('a', 5), ('b', 2)], Counter({'a': 2, 'b': 2}), 0)");
    expect("from collections import defaultdict\n"
           "d = defaultdict(list)\n"
           "for k, v in [('a', 1), ('b', 2), ('a', 3)]:\n"
           "    d[k].append(v)\n"
           "d, d['x'], json.dumps(d)",
           "(defaultdict(<class 'list'>, {'a': [1, 3], 'b': [2], 'x': []}), "
           "[], '{\"a\": [1, 3], \"b\": [2], \"x\": []}')");
    expect("g = {}\ng.setdefault('k', []).append(1)\nl = [[0]]\n"
           "l[0].append(1); g['k'].append(2)\ng, l",
           "({'k': [1, 2]}, [[0, 1]])");
    expect("from functools import reduce\nimport itertools as it\n"
           "reduce(lambda a, b: a * b, [1, 2, 3, 4]), "
           "list(it.chain([1], 'a')), list(it.combinations('abc', 2)), "
           "[(k, list(g)) for k, g in it.groupby('aab')]",
           "(24, [1, 'a'], [('a', 'b'), ('a', 'c'), ('b', 'c')], "
           "[('a', ['a', 'a']), ('b', ['b'])])");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fstrings),
        cmocka_unit_test(test_exceptions),
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_containers_in_place),
        cmocka_unit_test(test_statements),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_modules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
