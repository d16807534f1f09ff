#!/usr/bin/env bash
# Shell tests of the cbag command on small generated data. Builds nothing:
# run `make` first (or set CBAG=build/asan/cbag after `make MODE=asan`).
# Prints "N passed, N failed" as its last line; exits 1 on any failure.
root=$(cd "$(dirname "$0")/../.." && pwd)
CBAG=${CBAG:-$root/build/release/cbag}
case $CBAG in /*) ;; *) CBAG=$root/$CBAG ;; esac
[ -x "$CBAG" ] || { echo "no $CBAG: run make first"; echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
pass=0; fail=0

ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); printf 'FAIL: %s\n' "$1"; [ -n "$2" ] && printf '%s\n' "$2" | head -20; }

# check NAME WANT_RC WANT_STDOUT CBAG-ARGS...
check() {
  local name=$1 rc=$2 want=$3; shift 3
  local out; out=$("$CBAG" "$@" 2>"$tmp/err"); local got=$?
  if [ "$got" -eq "$rc" ] && [ "$out" = "$want" ]; then ok
  else bad "$name" "rc $got (want $rc); stdout: $out
want: $want
stderr: $(cat "$tmp/err")"; fi
}
# check_err NAME WANT_RC STDERR-PATTERN CBAG-ARGS...
check_err() {
  local name=$1 rc=$2 pat=$3; shift 3
  "$CBAG" "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?
  if [ "$got" -eq "$rc" ] && grep -q -e "$pat" "$tmp/err"; then ok
  else bad "$name" "rc $got (want $rc); stderr: $(cat "$tmp/err")"; fi
}

# ---------------------------------------------------------------------------
# The tutorial's in-memory cells
check take 0 "(1, 2, 3)" 'db.from_sequence([1,2,3,4,5,6,7,8,9,10], npartitions=2).take(3)'
check range-sum 0 90 'db.range(10, npartitions=2).map(lambda x: x * 2).sum()'
check filter-map 0 "[4, 16, 36, 64, 100]" 'def is_even(n):
    return n % 2 == 0

b = db.from_sequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
c = b.filter(is_even).map(lambda x: x ** 2)
c'
check groupby-len 0 "[(7, ['Charlie']), (3, ['Bob', 'Dan']), (5, ['Alice', 'Edith', 'Frank'])]" \
  "b = db.from_sequence(['Alice', 'Bob', 'Charlie', 'Dan', 'Edith', 'Frank']); b.groupby(len).compute()"
check groupby-lambda 0 "[(0, [0, 2, 4, 6, 8]), (1, [1, 3, 5, 7, 9])]" \
  'b = db.from_sequence(list(range(10))); b.groupby(lambda x: x % 2).compute()'
check starmap 0 "[(0, 8), (1, 9)]" \
  'b = db.from_sequence(list(range(10))); b.groupby(lambda x: x % 2).starmap(lambda k, v: (k, max(v))).compute()'
check foldby-max 0 "[(0, 8), (1, 9)]" \
  'b = db.from_sequence(list(range(10)))
is_even = lambda x: x % 2
b.foldby(is_even, binop=max, combine=max).compute()'
check semicolons 0 "6" 'x = 1; y = 2; x + y * 2 + 1'
check item-print 0 "4.5" 'db.range(10, npartitions=3).mean()'
check none-not-printed 0 "hi" 'print("hi")'
check scheduler-sync 0 "45" --scheduler sync -j 1 'db.range(10, npartitions=4).sum()'
check mem-limit 0 "45" --memory-limit 2GB --temp-dir "$tmp" --no-progress 'db.range(10, npartitions=4).sum()'

# ---------------------------------------------------------------------------
# Output formats
check json 0 '[{"a": 1, "b": [1, 2]}, {"a": null}]' --output json \
  "db.from_sequence([{'a': 1, 'b': (1, 2)}, {'a': None}]).compute()"
check jsonl 0 '{"a": 1}
{"a": 2}' --output jsonl "db.from_sequence([{'a': 1}, {'a': 2}], npartitions=2)"
check jsonl-scalar 0 '3.5' -o jsonl '7 / 2'

# ---------------------------------------------------------------------------
# Account data: the tutorial's queries on generated files
"$CBAG" prep accounts --dir "$tmp/data" --files 3 --accounts 100 --transactions 2000 >/dev/null \
  && ok || bad "prep accounts"
cat > prog.py <<'EOF'
import json
js = db.read_text('data/accounts.*.json.gz').map(json.loads)
def count_transactions(d):
    return {'name': d['name'], 'count': len(d['transactions'])}

(js.filter(lambda record: record['name'] == 'Alice')
   .map(count_transactions)
   .pluck('count')
   .take(1))
EOF
check file-program 0 "(2,)" -f prog.py
check alice-mean 0 "116.5" "js = db.read_text('data/accounts.*.json.gz').map(json.loads)
js.filter(lambda record: record['name'] == 'Alice').pluck('transactions').flatten().pluck('amount').mean()"
# the same mean through the C API (examples/tutorial) on the same files
tut=$(dirname "$CBAG")/examples/tutorial
if [ -x "$tut" ]; then
  capi=$("$tut" --data "$tmp/data" 2>/dev/null | sed -n '/^In \[53\]/,/^Wall/p' | grep -E '^-?[0-9.]+$')
  mine=$("$CBAG" "js = db.read_text('data/accounts.*.json.gz').map(json.loads)
js.filter(lambda record: record['name'] == 'Alice').pluck('transactions').flatten().pluck('amount').mean()")
  [ -n "$capi" ] && [ "$capi" = "$mine" ] && ok || bad "alice mean = C API" "cbag $mine, C API $capi"
fi
cat > foldby.py <<'EOF'
from operator import add
js = db.read_text('data/accounts.*.json.gz').map(json.loads)
def incr(tot, _):
    return tot+1

result = js.foldby(key='name', binop=incr, initial=0, combine=add, combine_initial=0).compute()
a = sorted(result)
result = js.groupby(lambda item: item['name']).starmap(lambda k, v: (k, len(v))).compute()
b = sorted(result)
def binop(tot, val):
    amt = 0
    for t in val["transactions"]:
        amt += t["amount"]
    return tot + amt

c = js.foldby("name", binop=binop, initial=0, combine=add, combine_initial=0).compute()
d = js.map(lambda r: (r['name'], sum(t["amount"] for t in r["transactions"]))).foldby(lambda t: t[0], lambda acc, t: acc + t[1], initial=0, combine=add, combine_initial=0).compute()
print(a == b, sorted(c) == sorted(d), len(a))
EOF
check foldby-groupby-agree 0 "True True 26" -f foldby.py

# Against Python's dask, where it is installed (Debian's python3-dask)
if /usr/bin/python3 -c 'import dask.bag' 2>/dev/null; then
  py=$(cd "$tmp" && /usr/bin/python3 - <<'EOF' 2>/dev/null
import json, dask, dask.bag as db
dask.config.set(scheduler='sync')
js = db.read_text('data/accounts.*.json.gz').map(json.loads)
def binop(tot, val):
    amt = 0
    for t in val["transactions"]:
        amt += t["amount"]
    return tot + amt
from operator import add
print(js.foldby("name", binop=binop, initial=0, combine=add, combine_initial=0).compute())
print(js.filter(lambda r: r['name'] == 'Bob').map(lambda d: {'name': d['name'], 'count': len(d['transactions'])}).pluck('count').mean().compute())
EOF
)
  mine=$("$CBAG" 'from operator import add
js = db.read_text("data/accounts.*.json.gz").map(json.loads)
def binop(tot, val):
    amt = 0
    for t in val["transactions"]:
        amt += t["amount"]
    return tot + amt
print(js.foldby("name", binop=binop, initial=0, combine=add, combine_initial=0).compute())
print(js.filter(lambda r: r["name"] == "Bob").map(lambda d: {"name": d["name"], "count": len(d["transactions"])}).pluck("count").mean().compute())' 2>&1)
  [ -n "$py" ] && [ "$py" = "$mine" ] && ok || bad "same as dask" "dask: $py
cbag: $mine"
fi

# storage_options: checked before anything is read (the servers are in
# tests/remote/run.sh)
check_err storage-opt 1 "unsupported option 'bogus'" "db.read_text('bad.jsonl', storage_options={'bogus': 1})"
check_err storage-type 1 "storage_options must be a dict, not int" "db.read_text('bad.jsonl', storage_options=3)"
check_err storage-endpoint 1 "endpoint_url must start with http" "db.read_text('s3://b/k', storage_options={'endpoint_url': 'ftp://x'})"
check_err http-write 1 "only s3:// URLs can be written" "db.range(3, npartitions=1).map(str).to_textfiles('http://127.0.0.1:1/x/*.txt')"

# --errors skip on malformed lines
printf '{"a": 1}\nnot json\n{"a": 2}\n' > bad.jsonl
check_err skip 0 "1 malformed record skipped" --errors skip "db.read_text('bad.jsonl').map(json.loads).pluck('a').sum()"
check skip-value 0 "3" --errors skip "db.read_text('bad.jsonl').map(json.loads).pluck('a').sum()"
check_err raise 1 "bad.jsonl line 2" "db.read_text('bad.jsonl').map(json.loads).pluck('a').sum()"
check local-storage 0 "3" "db.read_text('bad.jsonl', storage_options={'anon': True}).count()"

# projection: only the keys read are parsed (the graph says which), and
# --no-projection gives the same
check projection 0 "[('Alice', 2), ('Bob', 12)]" --visualize proj.dot "sorted(db.read_text('data/accounts.*.json.gz').map(json.loads).pluck('name').frequencies())[:2]"
grep -q 'keeping \[name\]' proj.dot 2>/dev/null && ok || bad "projection in the graph" "$(grep json proj.dot | head -2)"
check no-projection 0 "[('Alice', 2), ('Bob', 12)]" --no-projection "sorted(db.read_text('data/accounts.*.json.gz').map(json.loads).pluck('name').frequencies())[:2]"

# --visualize
check visualize 0 "4.0" --visualize g.dot "db.from_sequence([1, 2], npartitions=2).map(lambda x: x + 0.5).sum()"
grep -q digraph g.dot 2>/dev/null && ok || bad "visualize writes DOT"

# ---------------------------------------------------------------------------
# DataFrames (the tutorial's to_dataframe cells) on a small data set
"$CBAG" prep accounts --dir "$tmp/fdata" --files 3 --accounts 30 --transactions 300 >/dev/null \
  && ok || bad "prep accounts (frames)"
cat > frames.py <<'EOF'
js = db.read_text('fdata/accounts.*.json.gz').map(json.loads)
def denormalize(record):
    return [{'id': record['id'], 'name': record['name'], 'amount': transaction['amount'], 'transaction-id': transaction['transaction-id']} for transaction in record['transactions']]
transactions = js.map(denormalize).flatten()
df = transactions.to_dataframe()
EOF
fr=$(cat frames.py)
# df.head(): a header line and five rows indexed 0..4, as pandas prints it
out=$("$CBAG" "$fr
df.head()" 2>&1)
[ "$(printf '%s\n' "$out" | wc -l)" -eq 6 ] \
  && printf '%s\n' "$out" | head -1 | grep -qE '^ +id +name +amount +transaction-id$' \
  && [ "$(printf '%s\n' "$out" | tail -5 | cut -c1)" = "$(printf '0\n1\n2\n3\n4')" ] \
  && ok || bad "frame head shape" "$out"
check frame-head-n 0 "3" "$fr
len(str(df.head(2)).splitlines())"
check frame-columns 0 "['id', 'name', 'amount', 'transaction-id'] 900" "$fr
print(df.columns, len(df))"
check frame-dtypes 0 "id                 int64
name              object
amount             int64
transaction-id     int64
dtype: object" "$fr
df.dtypes"
# groupby counts = foldby's = the transactions of each name
check frame-groupby-foldby 0 "True True True 18" "$fr
from operator import add
g = df.groupby('name')['transaction-id'].count().compute()
a = sorted(g.to_bag(index=True).compute())
b = sorted(transactions.foldby('name', lambda t, _: t + 1, 0, add, 0).compute())
c = sorted(df.groupby('name').size().to_bag(index=True).compute())
d = sorted(js.map(lambda r: (r['name'], len(r['transactions']))).foldby(lambda t: t[0], lambda acc, t: acc + t[1], initial=0, combine=add, combine_initial=0).compute())
print(a == b, a == c, a == [x for x in d if x[1]], len(a))"
check frame-filter 0 "True True" "$fr
n = len(df[df.amount > 1000]) + len(df[df['amount'] <= 1000])
print(n == len(df), len(df[(df.name == 'Tim') & (0 < df.amount)]) == transactions.filter(lambda t: t['name'] == 'Tim' and t['amount'] > 0).count().compute())"
check frame-select 0 "      name  amount
0  Charlie    1756" "$fr
df[['name', 'amount']].head(1)"
check frame-column-sum 0 "True" "$fr
df.amount.sum() == transactions.pluck('amount').sum().compute()"
check frame-to-bag 0 "[(0, 'Charlie', 1756, 0)] [{'index': 0, 'id': 0, 'name': 'Charlie', 'amount': 1756, 'transaction-id': 0}]" "$fr
print(df.head(1).to_bag().compute(), df.head(1).to_bag(index=True, format='dict').compute())"
check_err frame-bad-column 1 "KeyError: 'nme' is not a column" "$fr
df['nme']"
check_err frame-bad-groupby 1 "KeyError: 'nme' is not a column" "$fr
df.groupby('nme').size()"
check_err frame-bad-attr 1 "no attribute 'nme'" "$fr
df.nme"
"$CBAG" "$fr
df.head(3).to_csv('fout-*.csv')" >/dev/null 2>&1 && [ "$(head -2 fout-0.csv)" = ",id,name,amount,transaction-id
0,0,Charlie,1756,0" ] && ok || bad "frame to_csv" "$(head -3 fout-0.csv 2>&1)"
# the same text as pandas prints through Python's dask, where it is installed
if /usr/bin/python3 -c 'import dask.bag, dask.dataframe, pandas' 2>/dev/null; then
  q='print(df.head())
print(df.groupby("name")["transaction-id"].count().compute())
print(js.to_dataframe().groupby("name").id.count().compute().head())
print(df[df.amount > 1000].groupby("name").amount.mean().compute().head(3))'
  py=$( (printf 'import json, dask, dask.bag as db\ndask.config.set(scheduler="sync")\n%s\n%s\n' "$fr" "$q") | /usr/bin/python3 - 2>/dev/null)
  mine=$("$CBAG" "$fr
$q" 2>&1)
  [ -n "$py" ] && [ "$py" = "$mine" ] && ok || bad "frames same as dask" "dask: $py
cbag: $mine"
fi

# ---------------------------------------------------------------------------
# Errors and exit codes
check_err syntax 2 "SyntaxError" 'db.range(3, npartitions=1).map(lambda x: x +)'
check_err caret 2 '^ *\^$' 'x = (1 +* 2)'
check_err syntax-source-line 2 'x = (1 +\* 2)' 'x = (1 +* 2)'
check_err name-error 1 "NameError: name 'nope' is not defined" 'nope + 1'
check_err key-error-in-map 1 "KeyError: 'nme'" "db.read_text('data/accounts.*.json.gz').map(json.loads).map(lambda r: r['nme']).take(1)"
check_err key-error-file-line 1 "accounts.00.json.gz line 1" "db.read_text('data/accounts.*.json.gz').map(json.loads).map(lambda r: r['nme']).take(1)"
check_err key-error-caret 1 "map(lambda r: r\['nme'\])" "db.read_text('data/accounts.*.json.gz').map(json.loads).map(lambda r: r['nme']).take(1)"
check_err zero-div 1 "ZeroDivisionError" 'db.range(3, npartitions=1).map(lambda x: 1 / x).compute()'
check_err missing-file 1 "nothing.json" "db.read_text('nothing.json').count()"
check_err bad-option 2 "unknown option" --bogus 1
check_err bad-scheduler 2 "scheduler" --scheduler fast 1
check_err bad-memory 2 "memory-limit" --memory-limit lots 1
check_err two-programs 2 "one program" 1 2
check_err no-file 2 "cannot open" -f /nonexistent/prog.py

# --help, --version, stdin
out=$("$CBAG" --help); rc=$?
[ $rc -eq 0 ] && printf '%s' "$out" | grep -q -- "--output" && printf '%s' "$out" | grep -q -- "--memory-limit" \
  && printf '%s' "$out" | grep -q "tutorial" && ok || bad "--help"
out=$("$CBAG" --version); [[ $out == cbag\ [0-9]* ]] && ok || bad "--version" "$out"
out=$(printf 'x = 2\nx * 21\n' | "$CBAG"); [ "$out" = 42 ] && ok || bad "program on stdin" "$out"

# the interactive prompt, under a pseudo-terminal (util-linux script)
if command -v script >/dev/null; then
  out=$(printf '1 + 1\nx = [1, 2]\nx + [3]\nlen("abc") *\n' | timeout 20 script -q -c "$CBAG" /dev/null | tr -d '\r')
  printf '%s' "$out" | grep -q '^>>> ' && printf '%s' "$out" | grep -qx '2' \
    && printf '%s' "$out" | grep -qx '\[1, 2, 3\]' && printf '%s' "$out" | grep -q 'SyntaxError' \
    && ok || bad "prompt under a pty" "$out"
fi

# SIGINT stops a compute: exit 130, no temporary output file left behind
mkdir -p "$tmp/int"
"$CBAG" "db.range(200000000, npartitions=8).map(lambda x: str(x)).to_textfiles('$tmp/int/*.txt')" >/dev/null 2>int.err &
pid=$!; sleep 1; kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 130 ] && grep -q interrupted int.err && [ -z "$(ls -A "$tmp/int" 2>/dev/null)" ] \
  && ok || bad "SIGINT" "rc=$rc $(cat int.err; ls -A "$tmp/int")"

# tutorial subcommand on the small data set
"$CBAG" tutorial --data "$tmp/data" >tut.out 2>tut.err; rc=$?
[ $rc -eq 0 ] && grep -q '^\[4, 16, 36, 64, 100\]$' tut.out && grep -q "^In \[95\]:" tut.out \
  && grep -q "Wall time" tut.out && ok || bad "tutorial" "$(tail -5 tut.out; cat tut.err)"
# every cell runs but the S3 one and client.shutdown; the frame cells print as pandas
[ "$(grep -c '^(skipped' tut.out)" -eq 2 ] && grep -q '^Name: transaction-id, dtype: int64$' tut.out \
  && grep -q '^Name: id, dtype: int64$' tut.out && grep -qE '^ +id +name +amount +transaction-id$' tut.out \
  && ok || bad "tutorial frame cells" "$(grep -A3 skipped tut.out)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
