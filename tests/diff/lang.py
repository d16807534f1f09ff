#!/usr/bin/python3
"""The cbag language against Python: every program of lang_cases.py runs
in Python (with dask.bag, scheduler sync) and through the cbag command,
with and without projection; the printed output and the exception's name
must be the same.

Usage: lang.py DATADIR CBAG [REGEX]

DATADIR is gen_data.py's directory: its accounts.json is written as JSON
lines files DATADIR/lang/accounts.N.jsonl (and a file with a malformed
record, bad.jsonl), which programs name as DATA/... A program runs as the
command runs it: statements in order, then the value of the last expression
printed with repr (computed first when it is a bag or an item; nothing for
None). The last line is "N passed, N failed".
"""
import ast
import contextlib
import io
import json
import math
import operator
import os
import re
import subprocess
import sys

import dask
import dask.bag as db
from dask.bag.core import Bag, Item

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lang_cases import CASES  # noqa: E402


def write_data(datadir):
    out = os.path.join(datadir, "lang")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(datadir, "accounts.json"), encoding="utf-8") as f:
        recs = json.load(f)
    k = 4
    for i in range(k):
        part = recs[i * len(recs) // k:(i + 1) * len(recs) // k]
        with open(os.path.join(out, "accounts.%d.jsonl" % i), "w",
                  encoding="utf-8") as f:
            for r in part:
                f.write(json.dumps(r, ensure_ascii=i % 2 == 0) + "\n")
    with open(os.path.join(out, "bad.jsonl"), "w", encoding="utf-8") as f:
        f.write('{"name": "A", "x": 1}\n{"name": "B", "x": [1, 2,]}\n')
    return out


def run_python(src):
    """(stdout, exception name or None)"""
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            tree = ast.parse(src)
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            g = {"db": db, "json": json, "operator": operator, "math": math,
                 "os": os, "__name__": "__main__"}
            exec(compile(tree, "<program>", "exec"), g)
            if last is not None:
                v = eval(compile(last, "<program>", "eval"), g)
                if isinstance(v, (Bag, Item)):
                    v = v.compute()
                if v is not None:
                    print(repr(v))
    except Exception as e:  # the name is what must match
        return buf.getvalue(), type(e).__name__
    return buf.getvalue(), None


# the exception's name: "cbag: KeyError: ..." or, from a callback, "cbag:
# map(f) failed in partition 0 at FILE line 2: KeyError: ..."
ERR = re.compile(r"^cbag: (?:.*?: )?([A-Za-z]*(?:Error|Exception)|"
                 r"StopIteration)(?::|$)", re.M)


def run_cbag(cbag, src, extra):
    p = subprocess.run([cbag, "-j", "2", "--no-progress"] + extra + [src],
                       capture_output=True, text=True, timeout=60)
    m = ERR.search(p.stderr.split("\n")[0])
    if p.returncode == 0:
        return p.stdout, None, p.stderr
    return p.stdout, m.group(1) if m else "rc %d" % p.returncode, p.stderr


def main():
    datadir, cbag = sys.argv[1], sys.argv[2]
    pick = re.compile(sys.argv[3]) if len(sys.argv) > 3 else None
    dask.config.set(scheduler="sync")
    data = write_data(datadir)
    npass = nfail = 0
    for name, src in CASES:
        if pick and not pick.search(name):
            continue
        src = src.replace("DATA/", data + "/")
        want, wexc = run_python(src)
        ok = True
        for extra in ([], ["--no-projection"]):
            got, gexc, err = run_cbag(cbag, src, extra)
            if (got, gexc) != (want, wexc):
                ok = False
                print("FAIL lang %s %s\n--- program:\n%s\n--- python (%s):\n%s"
                      "--- cbag (%s):\n%s%s" %
                      (name, " ".join(extra), src, wexc, want, gexc, got,
                       err[-600:]))
                break
        npass += ok
        nfail += not ok
    print("%d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
