#!/usr/bin/python3
"""Compares the dask oracle with the cbag driver, case by case.

Usage: compare.py ORACLE.jsonl LABEL=DRIVER.jsonl [LABEL=DRIVER.jsonl ...]

For every case of the oracle file (in the order of cases.py) and every
driver configuration (LABEL: "sync", "threads1", ...):
  - a normal case must give the same "json" and "repr" texts exactly, the
    same kind (bag/item/take), npartitions (bags) and take warning; cases
    with a tolerance (var/std) compare the numbers with that relative
    tolerance instead of the texts;
  - an error case (cases.py error=...) must fail on both sides; cbag's error
    code and message are checked against the case's expectation;
  - a cbag_error case (dask succeeds by Python semantics, cbag must fail by
    design, e.g. int64 overflow) must fail in cbag with the expected code;
  - all configurations must give the same output (cbag promises
    determinism); for errors only the code is compared, not the message.
Prints "ok NAME" or "FAIL NAME [configs]: why" (with expected/got excerpts)
per case and "N passed, N failed" alone on the last line. Exit status 1 if
anything failed.
"""
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as C  # noqa: E402

CTX = 70


def load(path):
    """Lines by case name (a list: a crash after output gives two)."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for text in f:
            if not text.strip():
                continue
            try:
                d = json.loads(text)
            except ValueError as e:
                m = re.match(r'\{"case": "([^"]*)"', text)
                d = {"case": m.group(1) if m else "?", "badline": "%s: %s" % (e, text[:300])}
            out.setdefault(d["case"], []).append(d)
    return out


_VISIBLE = {c: "\\x%02x" % c for c in list(range(0x20)) + [0x7f]}


def visible(s):
    """s with control characters shown as \\xNN (for the report only)."""
    return s.translate(_VISIBLE)


def excerpt(a, b):
    """Where texts a and b first differ, with context."""
    if a is None or b is None:
        return "     expected: %s\n     got:      %s" % (short(a), short(b))
    i = 0
    n = min(len(a), len(b))
    while i < n and a[i] == b[i]:
        i += 1
    lo = max(0, i - CTX)
    pre = "..." if lo else ""
    return ("     first difference at offset %d (lengths %d vs %d)\n"
            "     expected: %s%s%s\n     got:      %s%s%s" % (
                i, len(a), len(b), pre, visible(a[lo:i + CTX]), "..." if i + CTX < len(a) else "",
                pre, visible(b[lo:i + CTX]), "..." if i + CTX < len(b) else ""))


def short(x, n=300):
    s = x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def is_error(d):
    return "error" in d


def describe_error(d):
    return "[%s] %s" % (d.get("code_name"), d.get("message", d.get("error")))


def check_expected_error(spec, d, what):
    """d must be a compute error matching spec {"code", "contains"}."""
    if not is_error(d):
        return "%s, but cbag succeeded: repr %s" % (what, short(d.get("repr"), 200))
    if d.get("stage") != "compute":
        return "cbag failed before computing: " + describe_error(d)
    if spec.get("code") and d.get("code_name") != spec["code"]:
        return "%s with code %s; cbag failed with %s" % (what, spec["code"], describe_error(d))
    if spec.get("contains") and spec["contains"] not in d.get("message", ""):
        return "%s, the message naming %r; cbag said %s" % (what, spec["contains"], describe_error(d))
    return None


def check(case, o, lines):
    """None when the driver's lines for case agree with oracle line o."""
    if not lines:
        return "no output from the driver for this case"
    for d in lines:
        if "crash" in d:
            return "driver crashed: " + d["crash"]
        if "badline" in d:
            return "unparseable driver line: " + d["badline"]
    if len(lines) > 1:
        return "driver printed %d lines" % len(lines)
    d = lines[0]
    if d.get("missing"):
        return "case not implemented in driver.c"
    if case.cbag_error:
        if is_error(o):
            return "dask raised (%s) but the case expects only cbag to fail" % o["exc"]
        return check_expected_error(case.cbag_error, d,
                                    "expected a cbag error (dask gives %s)" % short(o["repr"], 100))
    if case.error:
        if not is_error(o):
            return "case expects an error but dask returned %s" % short(o["repr"], 200)
        return check_expected_error(case.error, d, "expected an error (dask: %s)" % o["exc"])
    if is_error(o):
        return "dask raised %s (case definition wrong?)" % o["exc"]
    if is_error(d):
        return "cbag failed: %s\n     expected: %s" % (describe_error(d), short(o["repr"]))
    if d.get("kind") != o["kind"]:
        return "kind %s, expected %s" % (d.get("kind"), o["kind"])
    if o["kind"] == "bag" and d.get("npartitions") != o["npartitions"]:
        return "npartitions %s, expected %s" % (d.get("npartitions"), o["npartitions"])
    if d.get("warned") != o["warned"]:
        return "take warning %s, expected %s" % (d.get("warned"), o["warned"])
    if case.tol is not None:
        exp = o["result"]
        try:
            got = json.loads(d["json"]) if d.get("json") is not None else None
        except ValueError as e:
            return "cbag's JSON does not parse (%s): %s" % (e, short(d["json"]))
        if not isinstance(got, float) or not isinstance(exp, float):
            return "expected a float %r, got %s (repr %s)" % (exp, short(d.get("json")), short(d.get("repr")))
        if not (got == exp or math.isclose(got, exp, rel_tol=case.tol, abs_tol=0.0)):
            return "%r differs from %r by more than relative %g (rel diff %.3g)" % (
                got, exp, case.tol, abs(got - exp) / max(abs(exp), 1e-300))
        return None
    if d.get("json") != o["json"]:
        return "JSON differs\n" + excerpt(o["json"], d.get("json"))
    if d.get("repr") != o["repr"]:
        return "repr differs\n" + excerpt(o["repr"], d.get("repr"))
    return None


def normal(lines):
    """A configuration's output, as far as it must be deterministic."""
    out = []
    for d in lines or []:
        d = dict(d)
        if is_error(d):
            d = {"case": d["case"], "stage": d.get("stage"), "code": d.get("code")}
        out.append(d)
    return json.dumps(out, sort_keys=True)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: compare.py ORACLE.jsonl LABEL=DRIVER.jsonl ...")
    oracle = {k: v[0] for k, v in load(sys.argv[1]).items()}
    drivers = []
    for arg in sys.argv[2:]:
        label, _, path = arg.partition("=")
        drivers.append((label, load(path)))
    passed = failed = 0
    for case in C.CASES:
        if case.name not in oracle:
            continue
        o = oracle[case.name]
        why = {}
        for label, out in drivers:
            r = check(case, o, out.get(case.name))
            if r:
                why.setdefault(r, []).append(label)
        if not why and len(drivers) > 1:
            label0, out0 = drivers[0]
            ref = normal(out0.get(case.name))
            for label, out in drivers[1:]:
                got = normal(out.get(case.name))
                if got != ref:
                    why.setdefault("nondeterministic: %s differs from %s\n%s" % (
                        label, label0, excerpt(ref, got)), []).append(label)
        if why:
            failed += 1
            for r, labels in why.items():
                print("FAIL %s [%s]: %s" % (case.name, ",".join(labels), r))
            if case.note:
                print("     note: " + case.note)
        else:
            passed += 1
            print("ok   %s" % case.name)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
