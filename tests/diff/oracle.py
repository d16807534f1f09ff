#!/usr/bin/python3
"""Runs every case of cases.py through dask.bag (scheduler 'sync').

Usage: oracle.py DATA_DIR OUT.jsonl [--filter REGEX]

Writes one JSON line per case:
  {"case": name, "kind": "bag"|"item"|"take", "npartitions": n (bags),
   "warned": bool, "json": json.dumps(result), "repr": repr(result),
   "result": result}
or, when dask raises,
  {"case": name, "error": true, "exc": "TypeError: ..."}.
"json" is the canonical text (tuples become lists); "repr" keeps the
Python types visible (tuple vs list, int vs float, True vs 1).
"""
import json
import os
import re
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import dask
    import dask.bag as db
except ImportError as e:  # run-diff checks this first; be clear anyway
    sys.exit("oracle.py: cannot import dask.bag with %s: %s" % (sys.executable, e))

import cases as C


def make_bag(case, D):
    if case.data is None:
        return None
    data = D[case.data]
    kw = {}
    if case.npartitions:
        kw["npartitions"] = case.npartitions
    if case.partition_size:
        kw["partition_size"] = case.partition_size
    return db.from_sequence(data, **kw)


def run_case(case, D):
    line = {"case": case.name}
    try:
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            r = case.fn(make_bag(case, D), D)
            if isinstance(r, C.Take):
                value = r.bag.take(r.k, npartitions=r.npartitions)
                line["kind"] = "take"
            elif isinstance(r, db.Bag):
                value = r.compute()
                line["kind"] = "bag"
                line["npartitions"] = r.npartitions
            elif isinstance(r, db.Item):
                value = r.compute()
                line["kind"] = "item"
            elif isinstance(r, tuple):  # Bag.take(...) inside the pipeline
                value = r
                line["kind"] = "take"
            else:
                raise RuntimeError("case %s returned %r" % (case.name, type(r)))
        line["warned"] = any("Insufficient elements" in str(w.message) for w in ws)
        line["json"] = json.dumps(value)
        line["repr"] = repr(value)
        line["result"] = value
    except Exception as e:  # dask raised: the case is an error case
        return {"case": case.name, "error": True,
                "exc": ("%s: %s" % (type(e).__name__, e))[:300]}
    return line


def main():
    args = sys.argv[1:]
    pat = None
    if "--filter" in args:
        i = args.index("--filter")
        pat = re.compile(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit("usage: oracle.py DATA_DIR OUT.jsonl [--filter REGEX]")
    D = C.Data(args[0])
    C.by_name()  # checks names are unique
    with dask.config.set(scheduler="sync"), open(args[1], "w", encoding="utf-8") as out:
        for case in C.CASES:
            if pat and not pat.search(case.name):
                continue
            out.write(json.dumps(run_case(case, D)) + "\n")


if __name__ == "__main__":
    main()
