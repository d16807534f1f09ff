#!/usr/bin/python3
"""Writes the deterministic data sets of the differential tests.

Usage: gen_data.py OUTDIR

Every data set is one JSON file OUTDIR/<name>.json holding a JSON array.
Seeds are fixed, so the files are identical on every run and machine.
Some files are written with ensure_ascii=False (raw UTF-8, to exercise the
UTF-8 decoder) and some with ensure_ascii=True (\\uXXXX escapes, surrogate
pairs for emoji, to exercise the escape decoder).
"""
import json
import os
import random
import sys

NAMES = [
    "Alice", "Bob", "Charlie", "Dan", "Edith", "Frank", "George", "Hannah",
    "Zoë", "José", "Łukasz", "Søren", "Ünal", "李雷", "韓梅梅", "さくら",
    "Алексей", "Δημήτρης", "😀 Smiley", "Ana María", "O'Brien", 'Quote"s',
    "back\\slash", "tab\tname", "",
]
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def accounts(rng, n=2000):
    """The tutorial's accounts, messier: missing fields, nulls, nesting."""
    out = []
    tid = 0
    for i in range(n):
        # Alice is frequent, as in the tutorial, so her pipelines see data.
        name = "Alice" if rng.random() < 0.15 else rng.choice(NAMES)
        ntx = rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 21, 40])
        txs = []
        for _ in range(ntx):
            tid += rng.randint(1, 50)
            amount = rng.randint(-500, 5000)
            if rng.random() < 0.1:
                amount = round(rng.uniform(-100, 100), 2)  # a float amount
            txs.append({"transaction-id": tid, "amount": amount})
        rec = {"id": i, "name": name, "transactions": txs}
        r = rng.random()
        if r < 0.3:
            rec["email"] = None
        elif r < 0.6:
            rec["email"] = "user%d@example.com" % i
        # r >= 0.6: no email key at all
        if rng.random() < 0.5:
            rec["meta"] = {
                "score": rng.choice([None, True, False, 0, 1, -7, 0.1, 2.5,
                                     1e-7, "n/a", 10**15, -(10**12)]),
                "tags": rng.sample(["x", "y", "z", "ü", "日本"], rng.randint(0, 3)),
                "geo": ({"lat": round(rng.uniform(-90, 90), 4),
                         "lon": round(rng.uniform(-180, 180), 4)}
                        if rng.random() < 0.7 else None),
            }
        out.append(rec)
    return out


def messy(rng, n=1500):
    """Records with a field v of every JSON type, missing keys, extremes."""
    choices = [
        lambda: rng.randint(-1000, 1000),
        lambda: rng.randint(-(10**12), 10**12),
        lambda: round(rng.uniform(-1e3, 1e3), rng.randint(0, 6)),
        lambda: rng.choice([0.1, 0.2, 0.3, 1.0, -0.5, 0.0, 1e-10, 3.14159]),
        lambda: rng.choice([True, False]),
        lambda: None,
        lambda: rng.choice(NAMES),
        lambda: [rng.randint(0, 9) for _ in range(rng.randint(0, 3))],
        lambda: {"k": rng.randint(0, 9)},
    ]
    out = []
    for i in range(n):
        rec = {"i": i}
        if rng.random() < 0.85:
            rec["v"] = rng.choice(choices)()
        if rng.random() < 0.1:
            rec["big"] = rng.choice([INT64_MAX, INT64_MIN, INT64_MAX - 1,
                                     2**53 + 1, -(2**53) - 1, 2**62])
        if rng.random() < 0.3:
            rec["nested"] = {"a": {"b": {"c": [i, None, {"d": []}]}}}
        if rng.random() < 0.2:
            rec["empty"] = rng.choice([[], {}, ""])
        out.append(rec)
    return out


def floats_wild():
    """Floats whose repr/JSON text is tricky."""
    base = [0.1, 0.2, 0.30000000000000004, 1.0, -0.0, 0.0, 1e16, 1e-5,
            1.5e-7, 123456789012345678.0, 5e-324, 2.2250738585072014e-308,
            1.7976931348623157e308, 1e22, 1e21, 1e-4, 0.001, 100.0, 1e15,
            9007199254740993.0, -1.25, 3.141592653589793, 2.718281828459045,
            1 / 3, 2 / 3, 1e-300, 12345.678901234567, 0.5, 4.35, 1e23]
    return base


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    sets = {}
    sets["accounts"] = (accounts(random.Random(1)), False)
    sets["messy"] = (messy(random.Random(2)), False)
    rng = random.Random(3)
    sets["ints"] = ([rng.randint(-10**6, 10**6) for _ in range(3000)], True)
    rng = random.Random(4)
    fl = []
    for k in range(3000):
        x = rng.uniform(-1000, 1000)
        if k % 7 == 0:
            x = round(x, 1)
        fl.append(x)
    sets["floats"] = (fl, True)
    sets["floats_wild"] = (floats_wild(), True)
    rng = random.Random(5)
    alphabet = "abcXYZ019 éüßø李雷日本😀🎉Ωж-_'\"\\"
    strs = []
    for _ in range(600):
        strs.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))))
    strs += NAMES
    sets["strs"] = (strs, True)  # ensure_ascii: \u escapes, surrogate pairs
    # Strings whose Python repr escapes characters (non-printable per
    # str.isprintable) or switches quotes.
    sets["strs_hard"] = ([
        "plain", "it's", 'say "hi"', "both ' and \"", "tab\there",
        "new\nline", "cr\rx", "nul\x00byte", "bell\x07", "del\x7f",
        "nbsp\xa0x", "zwsp\u200bx", "soft\xadhyphen", "lsep\u2028x",
        "bom\ufeffx", "c1\x85x", "combining e\u0301", "emoji 😀",
        "private \ue000", "back\\slash", "", "\U0001f600\U0001f389",
        "ideographic\u3000space", "rtl \u05d0\u05d1", "\x1b[0m",
    ], False)
    rng = random.Random(6)
    nested = []
    for _ in range(800):
        kind = rng.random()
        if kind < 0.7:
            nested.append([rng.randint(0, 99) for _ in range(rng.choice([0, 0, 1, 2, 3, 7]))])
        else:
            nested.append([[rng.randint(0, 9)], "s", None, {"d": 1}][: rng.randint(0, 4)])
    sets["nested"] = (nested, False)
    sets["small"] = (list(range(1, 11)), False)
    sets["negzero"] = ([-0.0, -0.0, -0.0], False)
    sets["empty"] = ([], False)
    rng = random.Random(7)
    sets["bigints"] = ([rng.randint(-(2**55), 2**55) for _ in range(200)]
                       + [2**53 + 1, 2**53 + 3, -(2**53) - 5], False)
    sets["overflow"] = ([2**62, 2**62, 2**62, -5], False)
    sets["truthy"] = ([0, "", [], {}, None, False, 0.0, 1, "x", [0], {"a": 0},
                       True, -1, 0.5, " "], False)
    sets["falsy"] = ([0, "", [], {}, None, False, 0.0, -0.0], False)
    rng = random.Random(8)
    pairs = []
    for _ in range(500):
        a = rng.randint(-100, 100)
        b = rng.choice([rng.randint(-100, 100), round(rng.uniform(-10, 10), 3)])
        pairs.append([a, b])
    sets["pairs"] = (pairs, False)
    rng = random.Random(9)
    kv = []
    for k in range(60):
        kv.append([rng.choice(NAMES), [rng.randint(-50, 50) for _ in range(rng.randint(1, 6))]])
    sets["kv"] = (kv, False)
    # Unassigned (Cn), format (Cf) and private-use code points: repr
    # escapes them. U+1FAE8 is assigned in Unicode 15 but not in Python
    # 3.11's Unicode 14 tables, so its repr depends on the Python version.
    sets["strs_cn"] = (["\u0378", "\U000e0001", "\U0010ffff", "\u061c",
                        "\U0001fae8", "\u2066x\u2069", "\U000f0000",
                        "\u00ad", "\u180e", "\ufff9", "\U0001d173"], False)
    for n in (99, 100, 101, 199, 250):  # around from_sequence's default rule
        sets["n%d" % n] = (list(range(n)), False)
    big = 1.7976931348623157e308
    sets["huge"] = ([big, big, -big, -big], False)  # sums to inf, or nan
    sets["ties"] = ([True, 1, 1.0, False, 0, 0.0, -0.0], False)
    for name, (data, ascii_) in sets.items():
        with open(os.path.join(outdir, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=ascii_)
            f.write("\n")
    # Hand-written JSON: what json.dump never writes but a parser must
    # read as Python's json module does (duplicate keys: the last value at
    # the first key's place; escapes; number spellings; odd whitespace).
    raw = (' [ {"a": 1, "b": 2, "a": 3}, "\\/ \\u00E9\\u00e9 \\ud83d\\ude00 \\b\\f\\n\\r\\t\\"\\\\",\n'
           '\t-0, -0.0, 1E5, 1e-7, 0.5e1, 2.50, 1.5E+300, 123456789012345678901e-5,\r\n'
           ' 9223372036854775807, -9223372036854775808, 0.1e1, 1e0, 100,\n'
           ' [], {}, [[]], [{}], {"": ""}, "", true, false, null,\n'
           ' {"x": {"y": {"z": [1, [2, [3, [4, [5]]]]]}}}, "\u00e9\u674e\U0001f600"]\n')
    with open(os.path.join(outdir, "rawjson.json"), "w", encoding="utf-8") as f:
        f.write(raw)


if __name__ == "__main__":
    main()
