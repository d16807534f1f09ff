"""The programs of the language differential test (lang.py): each must
print the same through Python (with dask.bag) and through the cbag
command. DATA/ names lang.py's data directory. Sets of strings are
printed sorted: their order in Python depends on the hash seed."""

CASES = [
    ('a1_00', """\
x = 3.14159
f"{x:.2f} and {x!r} and {'a'!r:>5}"
"""),
    ('a1_01', """\
name = 'Bob'; n = 5
f"Hello {name}, you have {n} items ({n*2:04d})"
"""),
    ('a1_02', """\
s = {1, 2, 3}
s.add(4); s.discard(1)
sorted(s)
"""),
    ('a1_03', """\
s = set([1, 2, 2, 3])
len(s), 2 in s, 5 in s
"""),
    ('a1_04', '{x % 3 for x in range(10)}'),
    ('a1_05', """\
a = {1, 2, 3}; b = {2, 3, 4}
sorted(a | b), sorted(a & b), sorted(a - b), sorted(a ^ b)
"""),
    ('a1_06', """\
i = 0
t = 0
while i < 10:
    i += 1
    if i == 3:
        continue
    if i == 8:
        break
    t += i
t
"""),
    ('a1_07', """\
def f(x):
    try:
        return x['a']
    except KeyError:
        return -1
    finally:
        pass
f({'a': 1}), f({})
"""),
    ('a1_08', """\
def f(x):
    try:
        return 1 / x
    except ZeroDivisionError as e:
        return str(e)
f(0)
"""),
    ('a1_09', """\
def f(x):
    try:
        return int(x)
    except Exception as e:
        return type(e).__name__
f('z')
"""),
    ('a1_10', """\
def f(x):
    if x < 0:
        raise ValueError('negative')
    return x
f(-1)
"""),
    ('a1_11', """\
a, b = 1, 2
a, b = b, a
(a, b)
"""),
    ('a1_12', """\
d = {'x': 1, 'y': 2}
r = []
for k, v in d.items():
    r.append(k * v)
r
"""),
    ('a1_13', """\
def f(a, b=2, *args, **kw):
    return a + b
f(1)
"""),
    ('a1_14', """\
def f(a, b=2):
    return a + b
args = [1, 5]
f(*args)
"""),
    ('a1_15', """\
def f(a, b=2):
    return a * b
kw = {'b': 10}
f(3, **kw)
"""),
    ('a1_16', """\
g = lambda x, y=10: x + y
g(1), g(1, 2)
"""),
    ('a1_17', """\
def outer(n):
    def inner(x):
        return x + n
    return inner
outer(5)(1)
"""),
    ('a1_18', """\
s = 'hello world hello'
s.count('hello'), s.find('world'), s.index('o'), s.rfind('hello')
"""),
    ('a1_19', "'123'.isdigit(), 'abc'.isalpha(), 'hello world'.title(), 'hello'.capitalize(), 'AbC'.swapcase()"),
    ('a1_20', "'  x  '.lstrip(), '  x  '.rstrip(), 'a\\nb\\r\\nc'.splitlines(), 'a=b=c'.partition('='), 'a=b=c'.rpartition('=')"),
    ('a1_21', "'42'.zfill(5), 'ab'.ljust(5, '*'), 'ab'.rjust(5), 'ab'.center(6, '-'), '-42'.zfill(6)"),
    ('a1_22', "'a,b,c,d'.split(',', 2), 'a b  c'.split(None, 1), 'a,b,c'.rsplit(',', 1)"),
    ('a1_23', "'%s is %d years, %.2f' % ('Bob', 30, 1.5)"),
    ('a1_24', "'%5s|%-5s|%05d' % ('a', 'b', 42)"),
    ('a1_25', """\
l = [3, 1, 2]
l.append(4); l.extend([5, 6]); x = l.pop(); l.insert(0, 9)
l, x, l.index(2), l.count(1)
"""),
    ('a1_26', """\
l = [3, 1, 2]
l.sort(); m = ['bb', 'a', 'ccc']; m.sort(key=len, reverse=True)
l, m
"""),
    ('a1_27', 'l = [1, 2, 3]; l.reverse(); l'),
    ('a1_28', 'l = [1, 2, 3]; l[0] = 10; l'),
    ('a1_29', """\
d = {'a': 1}
x = d.pop('a'); y = d.pop('b', 5); d.setdefault('c', []).append(1); d.update({'z': 2}); e = d.copy()
x, y, d, e
"""),
    ('a1_30', "sorted([3, 1, 2], reverse=True), sorted(['bb', 'a', 'ccc'], key=len)"),
    ('a1_31', "max([1, 5, 3], key=lambda x: -x), min([], default=7), max('abc'), min(3, 1, 2)"),
    ('a1_32', 'sum([1, 2, 3], 10), sum([0.5, 0.25])'),
    ('a1_33', 'list(map(lambda x: x * 2, [1, 2])), list(filter(None, [0, 1, 2]))'),
    ('a1_34', "print('a', 1, [2], sep='-')"),
    ('a1_35', "type(1), type('a'), type([]) == list"),
    ('a1_36', "[1, 2, 3, 4, 5][::2], [1, 2, 3, 4, 5][::-1], 'hello'[::-1], 'abcdef'[1:5:2]"),
    ('a1_37', "'ell' in 'hello', 'z' not in 'hello'"),
    ('a1_38', "'ab' * 3, 3 * 'ab', [0] * 3"),
    ('a1_39', "[1, 2] + [3], (1,) + (2, 3), [1, 2] < [1, 3], (1, 2) == (1, 2), (1, 'a') < (1, 'b')"),
    ('a1_40', "'ÉCOLE straße'.lower(), 'straße'.upper(), 'ǆ'.title()"),
    ('a1_41', "'ß'.upper(), 'İ'.lower(), len('İ'.lower())"),
    ('a2_00', """\
b = db.from_sequence(['a', 'b', 'a', 'c', 'a'], npartitions=2)
sorted(b.frequencies().compute())
"""),
    ('a2_01', """\
b = db.from_sequence([5, 1, 4, 2, 3], npartitions=2)
b.topk(2).compute(), b.distinct().compute()
"""),
    ('a2_02', """\
b = db.from_sequence([{'n': 'a', 'v': 1}, {'n': 'b', 'v': 5}], npartitions=2)
b.topk(1, key=lambda r: r['v']).compute()
"""),
    ('a2_03', """\
b = db.from_sequence(range(10), npartitions=3)
b.map(lambda x: x * 2).filter(lambda x: x > 5).count()
"""),
    ('a2_04', """\
b = db.from_sequence(range(10), npartitions=3)
b.reduction(sum, sum).compute()
"""),
    ('a2_06', """\
b = db.from_sequence([1, 2, 3, 4], npartitions=2)
b.repartition(1).npartitions
"""),
    ('a2_07', """\
b = db.from_sequence([[1, 2], [3]], npartitions=2)
b.flatten().sum()
"""),
    ('a2_08', """\
b = db.from_sequence(range(6), npartitions=2)
b.accumulate(lambda a, x: a + x).compute()
"""),
    ('a2_10', """\
x = [1, 2, 3]
y = [a * b for a in x for b in x if a != b]
y
"""),
    ('a2_11', """\
d = {k: v for k, v in zip('abc', range(3))}
d
"""),
    ('a2_12', """\
def gen(n):
    total = 0
    for i in range(n):
        if i % 2:
            continue
        total += i
    else:
        total += 100
    return total
gen(5)
"""),
    ('a2_13', """\
x = 5
def f():
    global x
    x = 10
f()
x
"""),
    ('a2_14', """\
def f(*args, **kwargs):
    return len(args), sorted(kwargs)
f(1, 2, a=3)
"""),
    ('a2_15', """\
a, *rest = [1, 2, 3]
a, rest
"""),
    ('a2_16', "[(i, c) for i, c in enumerate('ab', 1)]"),
    ('a2_17', """\
x = None
x is None, x if x else 'default', x or 5
"""),
    ('a2_18', "'{:>8}|{:<6}|{:^7}'.format('a', 'b', 'c'), '{:,}'.format(1234567), '{0:.1%}'.format(0.256)"),
    ('a2_19', "divmod(7, 2), pow(2, 8), round(2.675, 2), round(7.5), abs(-3.5), hex(255), oct(8), bin(5), chr(65), ord('A')"),
    ('a2_20', "str(1.0), str(1e20), str(1e-7), repr(0.1), float('inf'), float('nan')"),
    ('a2_21', "int('  42 '), int('ff', 16), float(' 1.5 '), bool([]), bool('x')"),
    ('a2_22', """\
d = {'b': 2, 'a': 1}
sorted(d.items(), key=lambda kv: kv[1], reverse=True)[0]
"""),
    ('a2_26', "len({'a': 1}), list({'a': 1}), dict(a=1, b=2), dict([('x', 1)])"),
    ('a2_27', """\
x = [1, 2, 3]
del x[0]
x
"""),
    ('a2_28', """\
d = {'a': 1, 'b': 2}
del d['a']
d
"""),
    ('a2_29', """\
assert 1 == 1
'ok'
"""),
    ('a2_30', """\
def f(x):
    \"\"\"docstring\"\"\"
    return x
f(3)
"""),
    ('a2_31', """\
nums = [1, 2, 3, 4]
evens = [n for n in nums if n % 2 == 0]
total = 0
for n in nums:
    total += n
avg = total / len(nums)
f"{avg:.1f} {evens}"
"""),
    ('a2_32', '1 if True else 2, not 1, 3 > 2 > 1, 1 < 2 > 3'),
    ('a2_33', """\
s = 'a-b'
s.upper().replace('-', '_').lower().strip('_')
"""),
    ('a2_34', """\
x = [[1, 2], [3, 4]]
[y for sub in x for y in sub]
"""),
    ('a2_35', 'any(x > 2 for x in [1, 3]), all([]), sum(x for x in range(4))'),
    ('a2_36', "isinstance(1, (int, float)), isinstance('a', str), isinstance(None, type(None))"),
    ('a2_37', "'abc'.startswith(('x', 'a')), 'abc'.endswith('bc'), 'a b'.split(' ')"),
    ('a2_38', """\
x = 10
x //= 3; x **= 2; x -= 1; x %= 5
x
"""),
    ('a2_39', """\
r = {'name': 'Alice', 'amount': 100}
'{name} has {amount}'.format(**r)
"""),
    ('a2_40', "list(range(10, 0, -3)), list(reversed([1, 2])), list(zip([1, 2], 'ab'))"),
    ('a2_41', 'float(3), int(3.9), int(-3.9), 7 // -2, -7 % 3, 2 ** 0.5'),
    ('a2_42', "'x'.join(['a', 'b']), ''.join(reversed('abc')), ' '.join(str(i) for i in range(3))"),
    ('a2_43', """\
d = {}
d['k'] = d.get('k', 0) + 1
d
"""),
    ('a2_44', '(lambda: 5)()'),
    ('a2_45', """\
x = 1_000_000
x, 0x1f, 0o17, 0b101, 1e3
"""),
    ('a2_46', """\
t = (1, 2, 3)
t[1:], t.count(2), t.index(3), len(t), 2 in t
"""),
    ('a2_47', """\
s = 'Hello'
s[0], s[-1], s[1:3], s[:-1], len(s)
"""),
    ('a3_00', """\
x = 3.14159
f"{x:.2f} and {x!r} and {'a'!r:>5}"
"""),
    ('a3_01', """\
name = 'Bob'; n = 5
f"Hello {name}, you have {n} items ({n*2:04d})"
"""),
    ('a3_03', """\
w = 8
f"{'x':>{w}}|{3.5:{w}.2f}|{{literal}}|{w=}|{w = }|{w=:5}"
"""),
    ('a3_04', """\
v = [1, 2]
f'''multi
{v!s} and {  v[0] + 1  }
'''
"""),
    ('a3_05', 'f"{\'a\' \'b\'}" "c" f"{1}{2}"'),
    ('a3_06', """\
a = 5
rf"\\n{a}\\t" + f"\\t{a}"
"""),
    ('a3_07', 'f"{1:,} {1234567:,} {0.5:%} {255:x} {255:#x} {-3:+d} {3:+d}"'),
    ('a3_08', 'f"{True} {None} {[1, \'a\']} {(1,)} {1.0} {1e20} {float(\'nan\')}"'),
    ('a3_09', 'f"{\'abc\':^9}|{\'abc\':*<6}|{42:>6}|{-42:06d}"'),
    ('a3_10', """\
x = {'a': 1}
f"{x['a']}" f'{x["a"]}'
"""),
    ('a3_11', 'f"{ 1 + }"'),
    ('a3_12', 'f"{}"'),
    ('a3_13', 'f"{x!z}"'),
    ('a3_14', 'f"abc}"'),
    ('a4_00', """\
def f(x):
    try:
        return x['a']
    except KeyError:
        return -1
    finally:
        pass
f({'a': 1}), f({})
"""),
    ('a4_01', """\
def f(x):
    try:
        return 1 / x
    except ZeroDivisionError as e:
        return str(e), repr(e), e.args, type(e).__name__
f(0)
"""),
    ('a4_02', """\
def f(x):
    try:
        return int(x)
    except (TypeError, ValueError) as e:
        return type(e).__name__ + ': ' + str(e)
f('z'), f(None)
"""),
    ('a4_03', """\
def f(x):
    if x < 0:
        raise ValueError('negative')
    return x
f(-1)
"""),
    ('a4_04', """\
try:
    raise KeyError('k')
except LookupError as e:
    r = (str(e), repr(e), isinstance(e, KeyError), isinstance(e, Exception))
r
"""),
    ('a4_05', """\
out = []
for i in range(3):
    try:
        if i == 1:
            raise RuntimeError('one')
        out.append(i)
    except RuntimeError as e:
        out.append(str(e))
    else:
        out.append('else')
    finally:
        out.append('fin')
out
"""),
    ('a4_06', """\
def g():
    try:
        return 'try'
    finally:
        print('finally ran')
g()
"""),
    ('a4_07', """\
try:
    [][1]
except IndexError as e:
    m = str(e)
m
"""),
    ('a4_08', """\
try:
    {}['x']
except Exception as e:
    m = repr(e)
m
"""),
    ('a4_09', """\
try:
    undefined_name
except NameError as e:
    m = str(e)
m
"""),
    ('a4_10', """\
def h():
    try:
        1 / 0
    except ZeroDivisionError:
        raise
h()
"""),
    ('a4_11', """\
assert 1 + 1 == 2, 'math'
assert 1 == 2, 'nope'
"""),
    ('a4_12', 'assert False'),
    ('a4_13', 'raise TypeError'),
    ('a4_14', "raise Exception('custom', 1)"),
    ('a4_15', """\
try:
    raise ValueError
except ValueError as e:
    r = (repr(e), str(e), e.args)
r
"""),
    ('a4_16', """\
s = {3, 1, 2}
s.add(5); s.discard(3); s.remove(1)
len(s), 2 in s, sorted(s), s == {2, 5}
"""),
    ('a4_17', """\
s = set()
s, set([1, 1]), {1, 2} | {3}, {1, 2} & {2}, {1, 2} - {2}, {1, 2} ^ {2, 3}
"""),
    ('a4_18', '{1, 2} <= {1, 2, 3}, {1} < {1}, {1, 2} >= {2}, {1}.isdisjoint({2}), {1}.issubset([1, 2])'),
    ('a4_19', """\
a = {1, 2}
b = a.copy(); b.add(3)
a.union([4], (5,)), a.intersection({2, 9}), a.difference([1]), a, b
"""),
    ('a4_20', """\
s = {x % 3 for x in range(10)}
s.update([7]); s.pop(), s
"""),
    ('a4_21', 'set([[1]])'),
    ('a4_22', '{1}.remove(2)'),
    ('a4_23', "[set('abc') == {'a', 'b', 'c'}, type(set()), isinstance({1}, set), isinstance({}, set)]"),
    ('a4_24', """\
import json
json.dumps({1, 2})
"""),
    ('a4_25', """\
l = [3, 1, 2]
l.append(4); l.extend([5, 6]); x = l.pop(); l.insert(0, 9); y = l.pop(0)
l, x, y, l.index(2), l.count(1)
"""),
    ('a4_26', """\
l = [3, 1, 2]
l.sort(); m = ['bb', 'a', 'ccc']; m.sort(key=len, reverse=True)
l, m
"""),
    ('a4_27', 'l = [1, 2, 3]; l.reverse(); l.remove(2); l[0] = 10; l[-1] += 5; del l[0]; l'),
    ('a4_28', """\
l = []
l.pop()
"""),
    ('a4_29', '[1].remove(5)'),
    ('a4_30', """\
l = [1, 2]
l[5] = 1
"""),
    ('a4_31', """\
d = {'a': 1}
x = d.pop('a'); y = d.pop('b', 5); d.setdefault('c', []).append(1); d.update({'z': 2}); e = d.copy()
x, y, d, e, d.popitem(), d
"""),
    ('a4_32', """\
d = {'a': 1, 'b': 2}
del d['a']
d['c'] = 3
del d['c']
d, list(d)
"""),
    ('a4_33', """\
d = {}
d.pop('x')
"""),
    ('a4_34', """\
d = {str(i): i for i in range(20)}
for k in list(d):
    if d[k] % 2:
        del d[k]
d, d.get('4'), '5' in d
"""),
    ('a4_35', """\
x = 5
del x
x
"""),
    ('a4_36', """\
def f():
    global counter
    counter += 1
counter = 0
f(); f()
counter
"""),
    ('a4_37', """\
def outer():
    n = 0
    def inc():
        nonlocal n
        n += 1
    inc(); inc()
    return n
outer()
"""),
    ('a4_38', """\
for i in range(3):
    pass
else:
    r = 'done'
r
"""),
    ('a4_39', """\
for i in range(3):
    if i == 1:
        break
else:
    i = 'no'
i
"""),
    ('a4_40', """\
n = 0
while n < 3:
    n += 1
else:
    n += 10
n
"""),
    ('a4_41', "type(1), type('a'), type([]) == list, type(None), type(1.5).__name__, type({}) is dict"),
    ('a4_42', "divmod(7, 2), divmod(-7, 2), pow(2, 8), pow(3, 4, 5), hex(255), oct(8), bin(5), hex(-1), chr(65), ord('A'), ord('é'), chr(233)"),
    ('a4_43', "format(3.14159, '.2f'), format(42, '05d'), format('x', '>3'), callable(len), callable(1)"),
    ('a4_44', "'ÉCOLE straße'.lower(), 'straße'.upper(), 'ǆ'.title(), 'ΟΔΟΣ ΟΔΟΣ'.lower()"),
    ('a4_45', '\'ß\'.upper(), \'İ\'.lower(), len(\'İ\'.lower()), \'ﬁ\'.upper(), \'hello wORLD\'.title(), "they\'re bill\'s".title(), \'ǅ\'.swapcase(), \'Straße\'.casefold()'),
    ('a4_46', "'ABC'.isupper(), 'abc'.islower(), 'Abc Def'.istitle(), 'a1'.isalnum(), '²'.isdigit(), '²'.isdecimal(), '½'.isnumeric(), 'é'.isalpha(), '\\u00a0'.isspace(), ''.isupper()"),
    ('a4_47', "'hello world hello'.rfind('hello'), 'abc'.rindex('c'), 'a=b=c'.partition('='), 'a=b=c'.rpartition('='), 'abc'.partition('x'), 'abc'.rpartition('x')"),
    ('a4_48', "'42'.zfill(5), 'ab'.ljust(5, '*'), 'ab'.rjust(5), 'ab'.center(6, '-'), '-42'.zfill(6), 'abc'.center(6), 'é'.center(4, '·'), 'x'.zfill(0)"),
    ('a4_49', "'prefix_x'.removeprefix('prefix_'), 'x.txt'.removesuffix('.txt'), 'abc'.removeprefix('z')"),
    ('a4_50', "'AbC'.swapcase(), 'hello'.capitalize(), 'HELLO'.capitalize(), 'ß'.capitalize()"),
    ('a5_00', """\
def f(a, b=2, *args, **kw):
    return a + b, args, kw
f(1), f(1, 2, 3, 4, x=5)
"""),
    ('a5_01', """\
def f(a, b=2):
    return a * b
kw = {'b': 10}
f(3, **kw), f(**{'a': 2})
"""),
    ('a5_02', """\
def f(*args, **kwargs):
    return len(args), sorted(kwargs)
f(1, 2, a=3)
"""),
    ('a5_03', """\
def f(a, *, key=None, reverse=False):
    return a, key, reverse
f(1, reverse=True)
"""),
    ('a5_04', """\
def f(a, *, key):
    return a
f(1)
"""),
    ('a5_05', """\
def f(a, b):
    return a
f(1)
"""),
    ('a5_06', """\
def f(a, b, c):
    return a
f()
"""),
    ('a5_07', """\
def f(a, b=1):
    return a
f(1, 2, 3)
"""),
    ('a5_08', """\
def f(a):
    return a
f(1, a=2)
"""),
    ('a5_09', """\
def f(a):
    return a
f(b=2)
"""),
    ('a5_10', """\
r = {'name': 'Alice', 'amount': 100}
'{name} has {amount}'.format(**r)
"""),
    ('a5_11', """\
a, *rest = [1, 2, 3]
*init, last = 'abc'
x, *m, y = range(5)
a, rest, init, last, x, m, y
"""),
    ('a5_12', """\
a, *b = [1]
a, b
"""),
    ('a5_13', 'a, *b, c = [1]'),
    ('a5_14', "[*range(3), *'ab'], (*[1], 2), {*[1, 2], 3}"),
    ('a5_15', """\
d = {'a': 1}
{**d, 'b': 2}, {'x': 0, **d, 'a': 5}
"""),
    ('a5_16', """\
for a, *b in [(1, 2, 3), (4,)]:
    print(a, b)
"""),
    ('a5_17', "print(*[1, 2, 3], sep='-')"),
    ('a5_18', """\
lam = lambda *a, **k: (a, k)
lam(1, z=2)
"""),
    ('a5_19', """\
def outer(*args):
    def inner():
        return sum(args)
    return inner()
outer(1, 2, 3)
"""),
    ('a5_20', """\
b = db.from_sequence([(1, 2), (3, 4)], npartitions=2)
b.starmap(lambda *xs: sum(xs)).compute()
"""),
    ('a5_21', """\
b = db.from_sequence([{'a': 1, 'b': 2}, {'a': 3, 'b': 4}], npartitions=2)
b.map(lambda r: {**r, 'c': r['a'] + r['b']}).compute()
"""),
]

# Pipelines over JSON lines (the tutorial's accounts, messier: missing keys,
# nulls, nested values), with the features above inside the callbacks.
# Each runs with and without projection.
JS = "js = db.read_text('DATA/accounts.*.jsonl').map(json.loads)\n"
CASES += [
    ("bag_count", JS + "js.count()"),
    ("bag_pluck_name_freq", JS + "sorted(js.pluck('name').frequencies())"),
    ("bag_alice_mean", JS + """\
js.filter(lambda r: r['name'] == 'Alice').map(lambda r: len(r['transactions'])).mean()
"""),
    ("bag_foldby_count", JS + """\
from operator import add
sorted(js.foldby('name', lambda t, _: t + 1, 0, add, 0).compute())
"""),
    ("bag_fstring_map", JS + """\
js.filter(lambda r: r['id'] < 5).map(lambda r: f"{r['id']:03d} {r['name']!r:>12} {len(r['transactions'])}").compute()
"""),
    ("bag_get_default", JS + """\
sorted(js.map(lambda r: r.get('email') or 'none').frequencies(), key=lambda kv: (-kv[1], kv[0]))[:3]
"""),
    ("bag_in_record", JS + """\
js.filter(lambda r: 'meta' in r and r['meta'].get('geo') is not None).count()
"""),
    ("bag_try_except", JS + """\
def score(r):
    try:
        return float(r['meta']['score'])
    except KeyError:
        return -1.0
    except (TypeError, ValueError) as e:
        return -2.0
js.map(score).frequencies(sort=True).take(5)
"""),
    ("bag_raise_in_map", JS + """\
def check(r):
    if r['id'] == 7:
        raise ValueError(f"bad record {r['id']}")
    return r['id']
js.map(check).sum()
"""),
    ("bag_key_error", JS + "js.map(lambda r: r['email']).count()"),
    ("bag_sets", JS + """\
def tags(r):
    return sorted(set(r['meta']['tags']) if 'meta' in r else set())
from operator import add
sorted(js.map(tags).flatten().frequencies())
"""),
    ("bag_set_union_fold", JS + """\
names = js.map(lambda r: {r['name']}).fold(lambda a, b: a | b, initial=set())
sorted(names.compute())
"""),
    ("bag_while_break", JS + """\
def first_big(r):
    i = 0
    while i < len(r['transactions']):
        if r['transactions'][i]['amount'] > 4000:
            break
        i += 1
    else:
        return None
    return r['transactions'][i]['transaction-id']
js.map(first_big).filter(lambda x: x is not None).take(3)
"""),
    ("bag_unpack_star", JS + """\
def ends(r):
    first, *middle, last = [0] + [t['amount'] for t in r['transactions']] + [0]
    return (r['id'], len(middle))
js.map(ends).topk(3, key=lambda t: t[1]).compute()
"""),
    ("bag_kwargs_def", JS + """\
def summary(r, *, field='amount', scale=1):
    return sum(t[field] for t in r['transactions']) * scale
js.map(lambda r: summary(r, scale=2)).max()
"""),
    ("bag_dict_spread", JS + """\
js.map(lambda r: {**{'n': 0}, 'id': r['id'], 'n': len(r['transactions'])}).take(2)
"""),
    ("bag_list_methods", JS + """\
def top2(r):
    a = [t['amount'] for t in r['transactions']]
    a.sort(reverse=True)
    a.insert(0, r['name'])
    while len(a) > 3:
        a.pop()
    return a
js.filter(lambda r: len(r['transactions']) > 3).map(top2).take(3)
"""),
    ("bag_dict_methods", JS + """\
def counts(r):
    d = {}
    for t in r['transactions']:
        k = 'neg' if t['amount'] < 0 else 'pos'
        d[k] = d.setdefault(k, 0) + 1
    d.pop('neg', None)
    return d
js.map(counts).take(4)
"""),
    ("bag_str_methods", JS + """\
js.map(lambda r: r['name'].upper().center(12, '.')).distinct().compute()
"""),
    ("bag_unicode_case", JS + """\
sorted(js.pluck('name').map(lambda s: (s.lower(), s.title(), s.swapcase(), s.isalpha())).distinct().compute())
"""),
    ("bag_to_dataframe_columns", JS + """\
df = js.to_dataframe(columns=['id', 'name'])
len(df), list(df.columns)
"""),
    ("bag_distinct_key", JS + "js.distinct(key=lambda r: r['name']).pluck('id').take(3)"),
    ("bag_topk_key", JS + "js.topk(2, key=lambda r: len(r['transactions'])).pluck('id').compute()"),
    ("bag_accumulate", "db.from_sequence(range(10), npartitions=3).accumulate(lambda a, b: a + b).compute()"),
    ("bag_join", """\
b = db.from_sequence([{'k': 1, 'v': 'a'}, {'k': 2, 'v': 'b'}], npartitions=2)
other = [(1, 'x'), (2, 'y'), (1, 'z')]
b.join(other, lambda r: r['k'], lambda t: t[0]).compute()
"""),
    ("bag_bad_json_skipped_key", "db.read_text('DATA/bad.jsonl').map(json.loads).pluck('name').compute()"),
    ("bag_global_counter", JS + """\
seen = set()
for name in js.pluck('name').distinct():
    seen.add(name[:1])
sorted(seen)
"""),
]

# collections, functools, itertools
CASES += [
    ('a6_00', """\
from collections import Counter, defaultdict
c = Counter('abracadabra')
c['a'], c['z'], c.most_common(2), c
"""),
    ('a6_01', """\
from collections import Counter
c = Counter()
for w in 'the cat and the hat'.split():
    c[w] += 1
c, sorted(c.items()), len(c), c.total()
"""),
    ('a6_02', """\
from collections import Counter
Counter({'a': 2}) + Counter(['a', 'b']), Counter('aab') - Counter('a'), Counter()
"""),
    ('a6_03', """\
from collections import Counter
c = Counter(['x', 'y', 'x'])
c.update(['y', 'z'])
c, sorted(c.elements()), c.most_common()
"""),
    ('a6_04', """\
from collections import defaultdict
d = defaultdict(list)
for k, v in [('a', 1), ('b', 2), ('a', 3)]:
    d[k].append(v)
d, dict(d), d['zz'], len(d)
"""),
    ('a6_05', """\
import collections
d = collections.defaultdict(int)
for ch in 'hello':
    d[ch] += 1
d
"""),
    ('a6_06', """\
from collections import defaultdict
d = defaultdict(set)
d['a'].add(1)
d['a'].add(1)
sorted(d['a']), 'b' in d, len(d)
"""),
    ('a6_07', """\
import json
from collections import Counter
json.dumps(Counter('aab'))
"""),
    ('a6_08', """\
from functools import reduce
reduce(lambda a, b: a + b, [1, 2, 3]), reduce(lambda a, b: a * b, [], 1)
"""),
    ('a6_09', """\
from functools import reduce
reduce(lambda a, b: a + b, [])
"""),
    ('a6_10', """\
import itertools
list(itertools.chain([1], (2, 3), 'ab'))
"""),
    ('a6_11', """\
from itertools import islice, product, combinations, permutations
list(islice(range(10), 3)), list(islice(range(10), 2, 8, 2)), list(product('ab', [1, 2])), list(combinations('abcd', 2)), list(permutations([1, 2, 3], 2))
"""),
    ('a6_12', """\
from itertools import groupby
[(k, list(g)) for k, g in groupby('aabbbc')], [(k, list(g)) for k, g in groupby([1, 3, 2, 4], key=lambda x: x % 2)]
"""),
    ('a6_13', """\
from itertools import zip_longest, accumulate, repeat
list(zip_longest('ab', [1, 2, 3], fillvalue='-')), list(accumulate([1, 2, 3])), list(accumulate([1, 2, 3], lambda a, b: a * b)), list(repeat('x', 3))
"""),
    ('a6_14', """\
from itertools import product
list(product([1, 2], repeat=2)), list(product())
"""),
    ('a6_15', """\
js = db.read_text('DATA/accounts.*.jsonl').map(json.loads)
from collections import Counter
def bucket(r):
    c = Counter()
    for t in r['transactions']:
        c['neg' if t['amount'] < 0 else 'pos'] += 1
    return dict(c)
js.map(bucket).take(3)
"""),
]

# exceptions raised in a bag's callbacks, caught around the compute
CASES += [
    ("bag_catch_key_error", JS + """\
try:
    js.map(lambda r: r['email']).compute()
except KeyError as e:
    print('caught', repr(e), e.args)
"""),
    ("bag_catch_arith", """\
try:
    db.range(3, npartitions=1).map(lambda x: 1 / x).compute()
except ArithmeticError as e:
    print(type(e).__name__, e)
"""),
]
CASES += [
    ("json_decode_error", """\
out = []
for s in ['{"a": 1}', '{bad', '[1,', '3']:
    try:
        out.append(json.loads(s))
    except json.JSONDecodeError as e:
        out.append(type(e).__name__)
out
"""),
]

# sets of ints iterate and print in CPython's table order
CASES += [
    ('a7_00', """\
{3, 1, 2}
"""),
    ('a7_01', """\
{10, 3, 8, 1, 100, 7, 9, 33, 64, 1000, -1, -5, 2**40, 17}
"""),
    ('a7_02', """\
s = set()
for i in [50, 4, 17, 9, 33, 2, 8, 100, 64, 0, 5, 12]:
    s.add(i)
s, list(s), [x for x in s]
"""),
    ('a7_03', """\
{x * 7 % 100 for x in range(60)}
"""),
    ('a7_04', """\
set(range(20, 0, -1)) | {True, 0}
"""),
    ('a7_05', """\
s = {5, 6, 7}
s.discard(6)
s, sorted(s)
"""),
]
