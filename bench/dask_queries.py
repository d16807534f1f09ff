#!/usr/bin/python3
"""The benchmark queries of BENCHMARKS.md in dask.bag and in plain Python.

    dask_queries.py TOOL QUERY GLOB [--workers N] [--report FILE]

TOOL:
  dask-default      dask.bag with its default scheduler (for bags in dask
                    2022.12: 'processes', a multiprocessing pool made and
                    torn down inside .compute())
  dask-threads      scheduler='threads'
  dask-sync         scheduler='sync' (one thread)
  dask-distributed  dask.distributed Client(n_workers=N, threads_per_worker=1);
                    the cluster is started before the clock starts and closed
                    after it stops: only the compute is timed
  python-loop       one process, no dask: gzip.open + json.loads per line

QUERY (the tutorial's code, bag-tutorial.txt):
  Q0  db.read_text(GLOB).count()
  Q1  js.filter(lambda r: r['name'] == 'Alice').map(count_transactions)
        .pluck('count').mean()
  Q2  js.filter(lambda r: r['name'] == 'Alice').pluck('transactions')
        .flatten().pluck('amount').mean()
  with js = db.read_text(GLOB).map(json.loads)

Prints repr(result) on stdout. With --report FILE, writes one line
"compute_s S tree_rss_kb K": S is the wall time of building the bag and
computing it, inside this process (interpreter start-up and imports are
not in it); K is the peak summed RSS of this process and all its children,
sampled every 50 ms (for the multi-process tools only; 0 otherwise).

Run with Debian's /usr/bin/python3 (python3-dask, python3-distributed).
"""
import argparse
import glob as globmod
import gzip
import json
import sys
import threading
import time


def count_transactions(d):
    return {'name': d['name'], 'count': len(d['transactions'])}


def dask_query(q, pattern):
    import dask.bag as db
    if q == 'Q0':
        return db.read_text(pattern).count()
    js = db.read_text(pattern).map(json.loads)
    if q == 'Q1':
        return (js.filter(lambda record: record['name'] == 'Alice')
                  .map(count_transactions)
                  .pluck('count')
                  .mean())
    if q == 'Q2':
        return (js.filter(lambda record: record['name'] == 'Alice')
                  .pluck('transactions')
                  .flatten()
                  .pluck('amount')
                  .mean())
    raise SystemExit('unknown query ' + q)


def python_loop(q, pattern):
    files = sorted(globmod.glob(pattern))
    if not files:
        raise SystemExit('no files match ' + pattern)
    if q == 'Q0':
        n = 0
        for fn in files:
            with gzip.open(fn, 'rt') as f:
                for _ in f:
                    n += 1
        return n
    total = 0
    n = 0
    for fn in files:
        with gzip.open(fn, 'rt') as f:
            for line in f:
                r = json.loads(line)
                if r['name'] != 'Alice':
                    continue
                if q == 'Q1':
                    total += count_transactions(r)['count']
                    n += 1
                elif q == 'Q2':
                    for t in r['transactions']:
                        total += t['amount']
                        n += 1
                else:
                    raise SystemExit('unknown query ' + q)
    # dask's mean: sum of the partitions' sums / sum of their counts; the
    # sums are exact integers here, so this is the same float.
    return total / n


class TreeRSS:
    """Peak summed RSS of this process and its descendants."""

    def __init__(self):
        import psutil
        self.psutil = psutil
        self.me = psutil.Process()
        self.peak = 0
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def sample(self):
        total = 0
        procs = [self.me]
        try:
            procs += self.me.children(recursive=True)
        except self.psutil.Error:
            pass
        for p in procs:
            try:
                total += p.memory_info().rss
            except self.psutil.Error:
                pass
        self.peak = max(self.peak, total)

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.05)

    def done(self):
        self.stop.set()
        self.t.join()
        return self.peak // 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('tool', choices=['dask-default', 'dask-threads',
                                     'dask-sync', 'dask-distributed',
                                     'python-loop'])
    ap.add_argument('query', choices=['Q0', 'Q1', 'Q2'])
    ap.add_argument('glob')
    ap.add_argument('--workers', type=int, default=0)
    ap.add_argument('--report')
    a = ap.parse_args()

    rss = None
    client = None
    if a.tool == 'dask-distributed':
        import logging
        from dask.distributed import Client
        logging.getLogger('distributed').setLevel(logging.ERROR)
        client = Client(n_workers=a.workers or 2, threads_per_worker=1,
                        dashboard_address=None, silence_logs=logging.ERROR)
    if a.tool in ('dask-default', 'dask-distributed'):
        rss = TreeRSS()
    if a.tool.startswith('dask-'):
        import dask.bag  # noqa: F401  (imported before the clock starts)

    t0 = time.perf_counter()
    if a.tool == 'python-loop':
        result = python_loop(a.query, a.glob)
    else:
        item = dask_query(a.query, a.glob)
        kw = {}
        if a.tool == 'dask-threads':
            kw['scheduler'] = 'threads'
            if a.workers:
                kw['num_workers'] = a.workers
        elif a.tool == 'dask-sync':
            kw['scheduler'] = 'sync'
        elif a.tool == 'dask-default' and a.workers:
            kw['num_workers'] = a.workers
        # dask-distributed: the Client made above is the default scheduler
        result = item.compute(**kw)
    elapsed = time.perf_counter() - t0

    tree = rss.done() if rss else 0
    if client is not None:
        client.close()
    print(repr(result))
    sys.stdout.flush()
    if a.report:
        with open(a.report, 'w') as f:
            f.write('compute_s %.6f tree_rss_kb %d\n' % (elapsed, tree))


if __name__ == '__main__':
    main()
