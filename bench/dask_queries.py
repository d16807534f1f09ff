#!/usr/bin/python3
"""The benchmark queries of BENCHMARKS.md in dask.bag and in plain Python.

    dask_queries.py TOOL QUERY GLOB [--workers N] [--report FILE] [--out DIR]

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
  Q3  js.groupby(lambda r: r['name']).starmap(lambda k, v: (k, len(v)))
  Q4  js.foldby('name', binop=incr, initial=0, combine=add,
        combine_initial=0)
  Q5  js.foldby('name', binop=binop, initial=0, combine=add,
        combine_initial=0), the exercise's binop (sum of the amounts)
  Q6  js.map(denormalize).flatten().to_dataframe()
        .groupby('name')['transaction-id'].count()
  Q7  js.map(json.dumps).to_textfiles(DIR + '/*.json.gz')  (--out DIR)
  with js = db.read_text(GLOB).map(json.loads)

Q3..Q6 print sorted(result) (Q6: sorted((name, int(count)) ...) of the
pandas Series); Q7 prints the number of files written. The dask-default
tool computes every query with scheduler='processes', Q6 (a DataFrame,
whose own default is threads) included.

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
from operator import add


def count_transactions(d):
    return {'name': d['name'], 'count': len(d['transactions'])}


def incr(tot, _):
    return tot + 1


def binop(tot, val):
    amt = 0
    for t in val["transactions"]:
        amt += t["amount"]
    return tot + amt


def denormalize(record):
    # returns a list for every nested item, each transaction of each person
    return [{'id': record['id'],
             'name': record['name'],
             'amount': transaction['amount'],
             'transaction-id': transaction['transaction-id']}
            for transaction in record['transactions']]


def out_name(outdir, i, n):
    # dask's to_textfiles names: build_name_function(n - 1)
    return '%s/%0*d.json.gz' % (outdir, len(str(max(n - 1, 0))), i)


def dask_query(q, pattern, outdir=None):
    """The collection to compute (Q7: the bag to write)."""
    import dask.bag as db
    if q == 'Q0':
        return db.read_text(pattern).count()
    js = db.read_text(pattern).map(json.loads)
    if q == 'Q3':
        return (js.groupby(lambda item: item['name'])
                  .starmap(lambda k, v: (k, len(v))))
    if q == 'Q4':
        return js.foldby(key='name', binop=incr, initial=0, combine=add,
                         combine_initial=0)
    if q == 'Q5':
        return js.foldby('name', binop=binop, initial=0, combine=add,
                         combine_initial=0)
    if q == 'Q6':
        transactions = js.map(denormalize).flatten()
        df = transactions.to_dataframe()
        return df.groupby('name')['transaction-id'].count()
    if q == 'Q7':  # the bag to write; main() calls to_textfiles
        return js.map(json.dumps)
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


def finish(q, result):
    """The printable answer of a computed query."""
    if q in ('Q3', 'Q4', 'Q5'):
        return sorted(result)
    if q == 'Q6':
        return sorted((k, int(v)) for k, v in result.items())
    if q == 'Q7':
        return len(result)
    return result


def records(files):
    for fn in files:
        with gzip.open(fn, 'rt') as f:
            for line in f:
                yield json.loads(line)


def python_loop(q, pattern, outdir=None):
    files = sorted(globmod.glob(pattern))
    if not files:
        raise SystemExit('no files match ' + pattern)
    if q == 'Q3':  # groupby: every record kept in its group
        groups = {}
        for r in records(files):
            groups.setdefault(r['name'], []).append(r)
        return sorted((k, len(v)) for k, v in groups.items())
    if q in ('Q4', 'Q5', 'Q6'):
        acc = {}
        for r in records(files):
            k = r['name']
            if q == 'Q4':
                acc[k] = incr(acc.get(k, 0), r)
            elif q == 'Q5':
                acc[k] = binop(acc.get(k, 0), r)
            else:  # count the denormalized rows with a transaction-id
                n = 0
                for row in denormalize(r):
                    if row['transaction-id'] is not None:
                        n += 1
                acc[k] = acc.get(k, 0) + n
        return sorted(acc.items())
    if q == 'Q7':  # as to_textfiles: lines joined by newlines, gzip level 9
        for i, fn in enumerate(files):
            with gzip.open(fn, 'rt') as f, \
                    gzip.open(out_name(outdir, i, len(files)), 'wt') as o:
                first = True
                for line in f:
                    if not first:
                        o.write('\n')
                    o.write(json.dumps(json.loads(line)))
                    first = False
        return len(files)
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
    ap.add_argument('query', choices=['Q0', 'Q1', 'Q2', 'Q3', 'Q4', 'Q5',
                                      'Q6', 'Q7'])
    ap.add_argument('glob')
    ap.add_argument('--workers', type=int, default=0)
    ap.add_argument('--report')
    ap.add_argument('--out', help='Q7: the directory to write')
    a = ap.parse_args()
    if a.query == 'Q7':
        if not a.out:
            ap.error('Q7 needs --out DIR')
        import os
        os.makedirs(a.out, exist_ok=True)

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
        if a.query == 'Q6':
            import dask.dataframe  # noqa: F401

    t0 = time.perf_counter()
    if a.tool == 'python-loop':
        result = python_loop(a.query, a.glob, a.out)
    else:
        item = dask_query(a.query, a.glob, a.out)
        kw = {}
        if a.tool == 'dask-threads':
            kw['scheduler'] = 'threads'
            if a.workers:
                kw['num_workers'] = a.workers
        elif a.tool == 'dask-sync':
            kw['scheduler'] = 'sync'
        elif a.tool == 'dask-default':
            # a bag's default; a DataFrame's (Q6) would be threads
            kw['scheduler'] = 'processes'
            if a.workers:
                kw['num_workers'] = a.workers
        # dask-distributed: the Client made above is the default scheduler
        if a.query == 'Q7':
            result = finish(a.query,
                            item.to_textfiles(a.out + '/*.json.gz', **kw))
        else:
            result = finish(a.query, item.compute(**kw))
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
