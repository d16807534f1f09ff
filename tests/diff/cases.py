#!/usr/bin/python3
"""The differential test cases, the dask side.

Each case names a data set (a file written by gen_data.py), how it is
partitioned (npartitions / partition_size for from_sequence; both 0 means
dask's defaults), and a pipeline: fn(b, D) with b the bag made from the
data set (None when data is None) and D a dict-like giving every data set by
name. fn returns a dask Bag (computed to a list; its npartitions is checked
too), an Item (computed to its value), or a Take (the tuple of Bag.take,
with whether dask warned).

tests/diff/driver.c implements every case again, by the same name, with the
C API; its callbacks carry the names of the Python functions below.

Fields besides the pipeline:
  tol      relative tolerance for a float result (var/std only: cbag uses a
           numerically stable algorithm, dask E[x^2] - E[x]^2).
  error    the case must fail: dask raises, cbag_compute must return NULL.
           A dict: code = the cbag_status name expected ("USER", "EMPTY",
           ...) or None for any, contains = a string the message must hold
           (the operation's name).
  cbag_error  dask succeeds but cbag must fail by design (e.g. int64
           overflow where Python ints are unbounded); same form as error.

`cases.py --manifest` prints "name data npartitions partition_size" lines,
the driver's input, so partitioning is stated in one place only.
"""
import json
import sys

class Take:
    """Marks a take: fn returns Take(bag, k, npartitions)."""

    def __init__(self, bag, k, npartitions=1):
        self.bag, self.k, self.npartitions = bag, k, npartitions


class Case:
    def __init__(self, name, data, fn, npartitions=0, partition_size=0,
                 tol=None, error=None, cbag_error=None, note=""):
        self.name, self.data, self.fn = name, data, fn
        self.npartitions, self.partition_size = npartitions, partition_size
        self.tol, self.error, self.cbag_error, self.note = tol, error, cbag_error, note


# --------------------------------------------------------------------------
# The callbacks. Each has a C twin of the same name in driver.c.

def count_transactions(d):
    return {"name": d["name"], "count": len(d["transactions"])}


def is_alice(r):
    return r["name"] == "Alice"


def is_even(n):
    return n % 2 == 0


def square(x):
    return x ** 2


def add(a, b):
    return a + b


def incr(tot, _):
    return tot + 1


def denormalize(record):
    return [{"id": record["id"], "name": record["name"],
             "amount": t["amount"], "transaction-id": t["transaction-id"]}
            for t in record["transactions"]]


def has_email(r):
    return r.get("email") is not None


def is_number(r):  # v is an int or float, bools included (Python ints)
    return isinstance(r.get("v"), (int, float))


def is_pure_number(r):  # v is an int or float but not a bool
    return isinstance(r.get("v"), (int, float)) and not isinstance(r.get("v"), bool)


def get_v(r):
    return r["v"]


def ntransactions(r):
    return len(r["transactions"])


def gt_900000(x):
    return x > 900000


def never(x):
    return False


def fail_on_seven(x):
    if x == 7:
        raise ValueError("seven")
    return x


def pred_fail_on_seven(x):
    if x == 7:
        raise ValueError("seven")
    return True


def part_len(p):
    return [len(list(p))]


def part_reverse(p):
    return list(reversed(list(p)))


def part_sum_tuple(p):
    p = list(p)
    return (sum(p), len(p))


def part_sum_str(p):
    return str(sum(p))


def agg_paren(parts):
    return "(" + " ".join(parts) + ")"


def part_list(p):
    return list(p)


def agg_concat(parts):
    return [x for part in parts for x in part]


def key_max(k, v):
    return (k, max(v))


def star_add(a, b):
    return a + b


def tag_name(r):  # a tuple (id, name, has transactions)
    return (r["id"], r["name"], len(r["transactions"]) > 0)


def amount_sum(r):
    return sum(t["amount"] for t in r["transactions"])


def binop_amounts(tot, r):
    return tot + amount_sum(r)


def str_concat(a, b):
    return a + b


def max2(a, b):
    return max(a, b)


def add_fail_on_seven(a, b):
    if b == 7:
        raise ValueError("seven")
    return a + b


def part_fail_on_seven(p):
    p = list(p)
    if 7 in p:
        raise ValueError("seven")
    return sum(p)


def is_bool(x):
    return isinstance(x, bool)


def is_three(x):
    return x == 3


def truthy(x):
    return bool(x)


def small_ends(x):
    return x <= 2 or x >= 9


# ---- keyed operations (issue 5) ----------------------------------------------

def mod7(x):
    return x % 7


def neg(x):
    return -x


def first_char(s):
    return s[:1]


def first_of(x):
    return x[0]


def gt_four(x):
    return x > 4


def first_of_self(x):
    return x


def _head(D, name, n):
    return D[name][:n]


# --------------------------------------------------------------------------

def _db():
    import dask.bag as db
    return db


def seq(D, name, **kw):
    return _db().from_sequence(D[name], **kw)


def concat3(b, D):
    db = _db()
    return db.concat([db.from_sequence(D["ints"][:100], npartitions=3),
                      db.from_sequence(D["strs"][:50], npartitions=2),
                      db.from_sequence([], npartitions=1)])


def zip3(b, D):
    db = _db()
    r = db.range(100, npartitions=5)
    x = db.from_sequence(D["ints"][:100], npartitions=5)
    y = db.from_sequence(D["strs"][:100], npartitions=5)
    return db.zip(r, x, y)


def zip_uneven(b, D):
    db = _db()
    return db.zip(b, b.filter(is_even))


CASES = [
    # ---- from_sequence partitioning, compute ----------------------------
    Case("seq_default_small", "small", lambda b, D: b),
    Case("seq_default_small_sizes", "small", lambda b, D: b.map_partitions(part_len)),
    Case("seq_default_ints", "ints", lambda b, D: b),
    Case("seq_default_ints_sizes", "ints", lambda b, D: b.map_partitions(part_len)),
    Case("seq_np7_ints", "ints", lambda b, D: b, npartitions=7),
    Case("seq_np7_ints_sizes", "ints", lambda b, D: b.map_partitions(part_len), npartitions=7),
    Case("seq_np25_small_sizes", "small", lambda b, D: b.map_partitions(part_len), npartitions=25,
         note="more partitions asked than elements: dask makes 10"),
    Case("seq_np6_small_sizes", "small", lambda b, D: b.map_partitions(part_len), npartitions=6,
         note="ceil(10/6)=2 per partition: 5 partitions"),
    Case("seq_np4_small_sizes", "small", lambda b, D: b.map_partitions(part_len), npartitions=4),
    Case("seq_np1_ints", "ints", lambda b, D: b, npartitions=1),
    Case("seq_ps64_ints_sizes", "ints", lambda b, D: b.map_partitions(part_len), partition_size=64),
    Case("seq_ps10000_ints_sizes", "ints", lambda b, D: b.map_partitions(part_len), partition_size=10000),
    Case("seq_default_n99_sizes", "n99", lambda b, D: b.map_partitions(part_len),
         note="below 100 elements: one per partition"),
    Case("seq_default_n100_sizes", "n100", lambda b, D: b.map_partitions(part_len)),
    Case("seq_default_n101_sizes", "n101", lambda b, D: b.map_partitions(part_len)),
    Case("seq_default_n199_sizes", "n199", lambda b, D: b.map_partitions(part_len)),
    Case("seq_default_n250_sizes", "n250", lambda b, D: b.map_partitions(part_len),
         note="int(250/100) = 2 per partition"),
    Case("seq_ps3_small", "small", lambda b, D: b, partition_size=3),
    Case("seq_np3_ps4_sizes", "ints", lambda b, D: b.map_partitions(part_len), npartitions=3, partition_size=4,
         note="dask: partition_size wins when both are given"),
    Case("seq_empty_default", "empty", lambda b, D: b),
    Case("seq_empty_np5", "empty", lambda b, D: b, npartitions=5),
    Case("seq_accounts_roundtrip", "accounts", lambda b, D: b, npartitions=9),
    Case("seq_messy_roundtrip", "messy", lambda b, D: b),
    Case("seq_floats_wild", "floats_wild", lambda b, D: b, npartitions=3),
    Case("seq_strs", "strs", lambda b, D: b, npartitions=4),
    Case("seq_strs_hard", "strs_hard", lambda b, D: b, npartitions=2,
         note="Python repr escapes of non-printable characters"),
    Case("seq_bigints", "bigints", lambda b, D: b, npartitions=3),
    Case("seq_strs_cn", "strs_cn", lambda b, D: b, npartitions=2,
         note="repr of unassigned/format/private code points (Python 3.11: Unicode 14)"),
    Case("seq_floats_roundtrip", "floats", lambda b, D: b, npartitions=5,
         note="shortest repr of 3000 random doubles"),
    Case("seq_rawjson", "rawjson", lambda b, D: b, npartitions=2,
         note="parser: duplicate keys, escapes, number spellings"),
    Case("seq_ps1_count", "ints", lambda b, D: b.count(), partition_size=1,
         note="3000 partitions: a 4-level tree"),
    Case("seq_ps1_sum_floats", "floats", lambda b, D: b.sum(), partition_size=1,
         note="float summation order through a 4-level split_every=8 tree"),
    Case("seq_ps1_mean_floats", "floats", lambda b, D: b.mean(), partition_size=1),
    Case("seq_np2999_sizes", "ints", lambda b, D: b.map_partitions(part_len), npartitions=2999),
    # ---- range, concat, zip ------------------------------------------------
    Case("range_10_3", None, lambda b, D: _db().range(10, npartitions=3)),
    Case("range_100_7_sizes", None, lambda b, D: _db().range(100, npartitions=7).map_partitions(part_len),
         note="dask: size=n//np per partition, the last one takes the rest"),
    Case("range_1000_1", None, lambda b, D: _db().range(1000, npartitions=1).sum()),
    Case("range_20_20", None, lambda b, D: _db().range(20, npartitions=20).map_partitions(part_len)),
    Case("range_10_4_sizes", None, lambda b, D: _db().range(10, npartitions=4).map_partitions(part_len)),
    Case("range_8_3_sizes", None, lambda b, D: _db().range(8, npartitions=3).map_partitions(part_len)),
    Case("range_7_7", None, lambda b, D: _db().range(7, npartitions=7)),
    Case("concat3", None, concat3),
    Case("concat3_sizes", None, lambda b, D: concat3(b, D).map_partitions(part_len)),
    Case("zip3", None, zip3),
    Case("zip_uneven", "small", zip_uneven, npartitions=2,
         note="dask drops the extra elements of the longer partition"),
    Case("zip_single", "small", lambda b, D: _db().zip(b), npartitions=3,
         note="1-tuples print as (x,)"),
    Case("zip_starmap", None, lambda b, D: _db().zip(_db().range(50, npartitions=4),
                                                     _db().range(50, npartitions=4)).starmap(star_add)),
    Case("zip_pluck_neg", None, lambda b, D: zip3(b, D).pluck(-1)),
    # ---- element-wise ------------------------------------------------------
    Case("map_count_transactions", "accounts", lambda b, D: b.map(count_transactions), npartitions=8),
    Case("filter_is_even_map_square", "small", lambda b, D: b.filter(is_even).map(square)),
    Case("remove_is_even", "ints", lambda b, D: b.remove(is_even), npartitions=5),
    Case("filter_remove_count", "ints", lambda b, D: b.filter(gt_900000).count(), npartitions=13),
    Case("starmap_add", "pairs", lambda b, D: b.starmap(star_add), npartitions=6),
    Case("starmap_key_max", "kv", lambda b, D: b.starmap(key_max), npartitions=4),
    Case("map_tag_tuple", "accounts", lambda b, D: b.map(tag_name).take(10), npartitions=3),
    Case("map_partitions_reverse", "ints", lambda b, D: b.map_partitions(part_reverse), npartitions=11),
    Case("map_partitions_tuple", "ints", lambda b, D: b.map_partitions(part_sum_tuple), npartitions=11,
         note="a partition function may return a tuple"),
    Case("map_json_dumps", "accounts", lambda b, D: b.map(json.dumps), npartitions=4,
         note="cbag_json_dumps must equal json.dumps (ensure_ascii)"),
    Case("map_json_roundtrip", "messy", lambda b, D: b.map(json.dumps).map(json.loads), npartitions=4),
    # ---- pluck ---------------------------------------------------------------
    Case("pluck_name", "accounts", lambda b, D: b.pluck("name"), npartitions=5),
    Case("pluck_index0", "pairs", lambda b, D: b.pluck(0), npartitions=5),
    Case("pluck_index_neg1", "pairs", lambda b, D: b.pluck(-1), npartitions=5),
    Case("pluck_keys_list", "accounts", lambda b, D: b.pluck(["name", "id"]).take(20, npartitions=2), npartitions=5,
         note="a list of keys gives tuples"),
    Case("pluck_email_default", "accounts", lambda b, D: b.pluck("email", None), npartitions=5),
    Case("pluck_keys_default", "messy", lambda b, D: b.pluck(["i", "v", "big"], "-"), npartitions=5),
    Case("pluck_index_default", "pairs", lambda b, D: b.pluck(5, -1).take(5), npartitions=5),
    Case("pluck_nested_default", "accounts",
         lambda b, D: b.pluck("meta", {}).pluck("geo", None), npartitions=5),
    Case("pluck_v_mixed", "messy", lambda b, D: b.pluck("v", None), npartitions=3,
         note="every JSON type, bools, None, floats, nested"),
    Case("pluck_big", "messy", lambda b, D: b.pluck("big", 0), npartitions=3),
    Case("pluck_index_list", "pairs", lambda b, D: b.pluck([1, 0]), npartitions=3),
    Case("pluck_empty_keys", "small", lambda b, D: b.pluck([]), npartitions=3,
         note="an empty list of keys gives () per element"),
    # ---- flatten ---------------------------------------------------------------
    Case("flatten_lists", "nested", lambda b, D: b.flatten(), npartitions=7),
    Case("flatten_tuples", "accounts", lambda b, D: b.pluck(["id", "name"]).flatten(), npartitions=7),
    Case("flatten_strings", "strs", lambda b, D: b.flatten(), npartitions=3,
         note="a string flattens to its characters (code points)"),
    Case("flatten_dict_keys", "accounts", lambda b, D: b.flatten(), npartitions=3,
         note="a dict flattens to its keys"),
    Case("flatten_twice", "accounts",
         lambda b, D: b.pluck("transactions").flatten().flatten(), npartitions=3),
    Case("flatten_denormalize_count", "accounts", lambda b, D: b.map(denormalize).flatten().count(), npartitions=6),
    Case("flatten_denormalize_take", "accounts", lambda b, D: b.map(denormalize).flatten().take(5), npartitions=6),
    # ---- take --------------------------------------------------------------------
    Case("take3_np7", "ints", lambda b, D: Take(b, 3), npartitions=7),
    Case("take5_default_small", "small", lambda b, D: Take(b, 5),
         note="fewer than k in the first partition: dask warns, returns (1,)"),
    Case("take5_np3_small", "small", lambda b, D: Take(b, 5, 3), note="warns"),
    Case("take5_all_small", "small", lambda b, D: Take(b, 5, -1)),
    Case("take0", "small", lambda b, D: Take(b, 0)),
    Case("take_filtered_all", "ints", lambda b, D: Take(b.filter(gt_900000), 3, -1), npartitions=10),
    Case("take_more_than_all", "small", lambda b, D: Take(b, 50, -1), npartitions=2, note="warns"),
    Case("take_first_part_empty", "ints", lambda b, D: Take(b.filter(never), 2), npartitions=4,
         note="warns, ()"),
    Case("take1000_all", "ints", lambda b, D: Take(b, 1000, -1), npartitions=100),
    Case("take_np_too_big", "small", lambda b, D: Take(b, 2, 5), npartitions=2,
         error={"code": None, "contains": ""},
         note="dask: ValueError 'only 2 partitions, take received 5'"),
    # ---- count/sum/mean/min/max ------------------------------------------------
    Case("count_accounts", "accounts", lambda b, D: b.count(), npartitions=17),
    Case("count_empty", "empty", lambda b, D: b.count()),
    Case("count_all_filtered", "ints", lambda b, D: b.filter(never).count(), npartitions=9),
    Case("sum_ints", "ints", lambda b, D: b.sum(), npartitions=10),
    Case("sum_floats_np70", "floats", lambda b, D: b.sum(), npartitions=70,
         note="float sum order: per partition, then a split_every=8 tree"),
    Case("sum_floats_default", "floats", lambda b, D: b.sum()),
    Case("sum_floats_wild", "floats_wild", lambda b, D: b.sum(), npartitions=4),
    Case("sum_mixed_numbers", "messy", lambda b, D: b.filter(is_number).map(get_v).sum(), npartitions=6,
         note="ints, floats and bools mixed"),
    Case("sum_bigints_exact", "bigints", lambda b, D: b.sum(), npartitions=4,
         note="beyond 2**53: must stay exact ints"),
    Case("sum_bools", "truthy", lambda b, D: b.filter(is_bool).sum()),
    Case("sum_empty", "empty", lambda b, D: b.sum()),
    Case("sum_inf", "huge", lambda b, D: b.sum(), npartitions=1, note="inf: JSON Infinity"),
    Case("sum_nan", "huge", lambda b, D: b.sum(), npartitions=2, note="inf + -inf: JSON NaN, repr nan"),
    Case("mean_nan", "huge", lambda b, D: b.mean(), npartitions=2),
    Case("sum_neg_zero", "negzero", lambda b, D: b.sum(), npartitions=1,
         note="Python's sum starts from the int 0: 0 + -0.0 is 0.0"),
    Case("mean_neg_zero", "negzero", lambda b, D: b.mean(), npartitions=2),
    Case("min_neg_zero", "negzero", lambda b, D: b.min(), npartitions=2),
    Case("sum_overflow", "overflow", lambda b, D: b.sum(), npartitions=2,
         cbag_error={"code": "OVERFLOW", "contains": ""},
         note="Python ints are unbounded; cbag promises an overflow error"),
    Case("mean_ints", "ints", lambda b, D: b.mean(), npartitions=10),
    Case("mean_floats", "floats", lambda b, D: b.mean(), npartitions=33),
    Case("mean_floats_default", "floats", lambda b, D: b.mean()),
    Case("mean_mixed_numbers", "messy", lambda b, D: b.filter(is_number).map(get_v).mean(), npartitions=6),
    Case("mean_bigints", "bigints", lambda b, D: b.mean(), npartitions=4),
    Case("mean_single", "small", lambda b, D: b.filter(is_three).mean(), npartitions=4),
    Case("min_ints", "ints", lambda b, D: b.min(), npartitions=10),
    Case("max_ints", "ints", lambda b, D: b.max(), npartitions=10),
    Case("min_floats_wild", "floats_wild", lambda b, D: b.min(), npartitions=4),
    Case("max_floats_wild", "floats_wild", lambda b, D: b.max(), npartitions=4),
    Case("min_strs", "strs", lambda b, D: b.min(), npartitions=4),
    Case("max_strs", "strs", lambda b, D: b.max(), npartitions=4,
         note="code point order (emoji last)"),
    Case("max_mixed_numbers", "messy", lambda b, D: b.filter(is_pure_number).map(get_v).max(), npartitions=6),
    Case("min_mixed_numbers", "messy", lambda b, D: b.filter(is_pure_number).map(get_v).min(), npartitions=6),
    Case("max_with_empty_partitions", "ints", lambda b, D: b.filter(gt_900000).max(), npartitions=40),
    Case("max_ties_np1", "ties", lambda b, D: b.max(), npartitions=1,
         note="Python's max keeps the first of equal values: True"),
    Case("max_ties_np3", "ties", lambda b, D: b.max(), npartitions=3),
    Case("min_ties_np1", "ties", lambda b, D: b.min(), npartitions=1),
    Case("min_ties_np3", "ties", lambda b, D: b.min(), npartitions=3),
    Case("max_tuples", "accounts", lambda b, D: b.pluck(["name", "id"]).max(), npartitions=5),
    Case("min_pairs", "pairs", lambda b, D: b.min(), npartitions=5),
    Case("mean_bools", "truthy", lambda b, D: b.filter(is_bool).mean()),
    Case("max_ntransactions", "accounts", lambda b, D: b.map(ntransactions).max(), npartitions=7),
    # ---- var/std -------------------------------------------------------------------
    Case("var_ints_ddof0", "ints", lambda b, D: b.var(), npartitions=10, tol=1e-9),
    Case("var_ints_ddof1", "ints", lambda b, D: b.var(ddof=1), npartitions=10, tol=1e-9),
    Case("std_ints_ddof0", "ints", lambda b, D: b.std(), npartitions=10, tol=1e-9),
    Case("std_ints_ddof1", "ints", lambda b, D: b.std(ddof=1), npartitions=10, tol=1e-9),
    Case("var_floats_ddof0", "floats", lambda b, D: b.var(), npartitions=7, tol=1e-9),
    Case("std_floats_ddof1", "floats", lambda b, D: b.std(ddof=1), npartitions=7, tol=1e-9),
    Case("var_small_ddof1", "small", lambda b, D: b.var(ddof=1), tol=1e-9),
    Case("std_mixed_numbers", "messy", lambda b, D: b.filter(is_number).map(get_v).std(), npartitions=6, tol=1e-9),
    Case("var_single_ddof1", "small", lambda b, D: b.filter(is_three).var(ddof=1), npartitions=4,
         error={"code": None, "contains": ""},
         note="n - ddof == 0: dask raises ZeroDivisionError"),
    # ---- any/all -------------------------------------------------------------------
    Case("any_truthy", "truthy", lambda b, D: b.any(), npartitions=3),
    Case("all_truthy", "truthy", lambda b, D: b.all(), npartitions=3),
    Case("any_falsy", "falsy", lambda b, D: b.any(), npartitions=3),
    Case("all_falsy", "falsy", lambda b, D: b.all(), npartitions=3),
    Case("all_truthy_tail", "truthy", lambda b, D: b.filter(truthy).all(), npartitions=5),
    Case("any_empty", "empty", lambda b, D: b.any()),
    Case("all_empty", "empty", lambda b, D: b.all()),
    Case("any_empty_many", "ints", lambda b, D: b.filter(never).any(), npartitions=12),
    Case("all_empty_many", "ints", lambda b, D: b.filter(never).all(), npartitions=12),
    # ---- fold --------------------------------------------------------------------------
    Case("fold_add", "ints", lambda b, D: b.fold(add), npartitions=7),
    Case("fold_add_initial0", "ints", lambda b, D: b.fold(add, initial=0), npartitions=7),
    Case("fold_add_initial100", "small", lambda b, D: b.fold(add, initial=100), npartitions=4,
         note="initial is used once per non-empty partition, not by combine"),
    Case("fold_initial100_empty_parts", "small",
         lambda b, D: b.filter(small_ends).fold(add, initial=100), npartitions=4,
         note="dask skips empty partitions: 100 twice"),
    Case("fold_incr_combine_add", "accounts", lambda b, D: b.fold(incr, add, initial=0), npartitions=9,
         note="the tutorial's count with binop and combine"),
    Case("fold_amounts", "accounts", lambda b, D: b.fold(binop_amounts, add, initial=0), npartitions=9),
    Case("fold_str_concat", "strs", lambda b, D: b.fold(str_concat), npartitions=20,
         note="order of partials through the tree"),
    Case("fold_max2", "floats", lambda b, D: b.fold(max2), npartitions=20),
    Case("fold_empty_initial_np1", "empty", lambda b, D: b.fold(add, initial=100),
         note="one empty partition: reduce(add, [], 100) = 100"),
    Case("fold_empty_no_initial", "empty", lambda b, D: b.fold(add),
         error={"code": "EMPTY", "contains": ""}),
    Case("fold_all_filtered_initial", "ints", lambda b, D: b.filter(never).fold(add, initial=100), npartitions=4,
         error={"code": None, "contains": ""},
         note="dask: every partition empty, combine's reduce gets nothing: TypeError"),
    # ---- reduction trees ---------------------------------------------------------------
    Case("tree_se2_np13", "ints", lambda b, D: b.reduction(part_sum_str, agg_paren, split_every=2), npartitions=13),
    Case("tree_se3_np10", "ints", lambda b, D: b.reduction(part_sum_str, agg_paren, split_every=3), npartitions=10),
    Case("tree_se3_np9", "ints", lambda b, D: b.reduction(part_sum_str, agg_paren, split_every=3), npartitions=9),
    Case("tree_default_np20", "ints", lambda b, D: b.reduction(part_sum_str, agg_paren), npartitions=20),
    Case("tree_default_np8", "ints", lambda b, D: b.reduction(part_sum_str, agg_paren), npartitions=8),
    Case("tree_se2_with_empties", "ints",
         lambda b, D: b.filter(gt_900000).reduction(part_sum_str, agg_paren, split_every=2), npartitions=40,
         note="empty partitions give no partial; all-empty groups vanish"),
    Case("tree_se2_all_empty", "ints",
         lambda b, D: b.filter(never).reduction(part_sum_str, agg_paren, split_every=2), npartitions=5,
         note="aggregate still runs once, on no partials: '()'"),
    Case("tree_single_empty", "empty", lambda b, D: b.reduction(part_sum_str, agg_paren),
         note="a single partition is the last: perpartition runs on []"),
    Case("tree_concat_se2", "ints", lambda b, D: b.reduction(part_list, agg_concat, split_every=2), npartitions=17),
    Case("tree_concat_se3_psize", "strs", lambda b, D: b.reduction(part_list, agg_concat, split_every=3),
         partition_size=7),
    # The driver runs these with cbag_options.split_every set, dask with the
    # reduction's split_every argument.
    Case("ctx_se2_sum_floats", "floats", lambda b, D: b.sum(split_every=2), npartitions=70),
    Case("ctx_se3_fold_str_concat", "strs", lambda b, D: b.fold(str_concat, split_every=3), npartitions=20),
    Case("ctx_se3_tree_default", "ints", lambda b, D: b.reduction(part_sum_str, agg_paren, split_every=3),
         npartitions=11),
    Case("ctx_se2_min_ties", "ties", lambda b, D: b.min(split_every=2), npartitions=7),
    # ---- the tutorial ---------------------------------------------------------------------
    Case("tut_alice_take5", "accounts", lambda b, D: b.filter(is_alice).map(count_transactions).take(5), npartitions=10),
    Case("tut_alice_pluck_take5", "accounts",
         lambda b, D: b.filter(is_alice).map(count_transactions).pluck("count").take(5), npartitions=10),
    Case("tut_alice_mean_count", "accounts",
         lambda b, D: b.filter(is_alice).map(count_transactions).pluck("count").mean(), npartitions=10),
    Case("tut_alice_flatten_amount_take3", "accounts",
         lambda b, D: b.filter(is_alice).pluck("transactions").flatten().pluck("amount").take(3), npartitions=10),
    Case("tut_alice_flatten_amount_mean", "accounts",
         lambda b, D: b.filter(is_alice).pluck("transactions").flatten().pluck("amount").mean(), npartitions=10),
    Case("tut_alice_flatten_amount_mean_default", "accounts",
         lambda b, D: b.filter(is_alice).pluck("transactions").flatten().pluck("amount").mean()),
    Case("tut_has_email_count", "accounts", lambda b, D: b.filter(has_email).count(), npartitions=10),
    Case("tut_ntransactions_sum", "accounts", lambda b, D: b.map(ntransactions).sum(), npartitions=10),
    Case("tut_from_sequence_take3", "small", lambda b, D: Take(b, 3), npartitions=2),
    # ---- frequencies, distinct, topk (issue 5) ------------------------------------------
    Case("freq_names", "accounts", lambda b, D: b.pluck("name").frequencies(), npartitions=7),
    Case("freq_names_sorted", "accounts", lambda b, D: b.pluck("name").frequencies(sort=True), npartitions=7),
    Case("freq_ties", "ties", lambda b, D: b.frequencies(), npartitions=3,
         note="True == 1 == 1.0: one key, the first seen"),
    Case("freq_mod7_sorted", "ints", lambda b, D: b.map(mod7).frequencies(sort=True), npartitions=10),
    Case("freq_pairs_tuples", "pairs", lambda b, D: b.pluck([0, 1]).frequencies(sort=True), npartitions=6,
         note="tuple keys; (1, 2.0) == (1, 2)"),
    Case("freq_strs", "strs", lambda b, D: b.frequencies(), npartitions=5),
    Case("freq_empty", "empty", lambda b, D: b.frequencies()),
    Case("freq_empty_parts", "ints", lambda b, D: b.filter(gt_900000).map(mod7).frequencies(), npartitions=40),
    Case("distinct_names", "accounts", lambda b, D: b.pluck("name").distinct(), npartitions=7),
    Case("distinct_key_name", "accounts", lambda b, D: b.distinct(key="name"), npartitions=7),
    Case("distinct_key_fn", "ints", lambda b, D: b.distinct(key=mod7), npartitions=10),
    Case("distinct_ties", "ties", lambda b, D: b.distinct(), npartitions=3),
    Case("distinct_empty", "empty", lambda b, D: b.distinct()),
    Case("distinct_floats", "floats", lambda b, D: b.distinct(), npartitions=9),
    Case("err_distinct_key_missing", "accounts", lambda b, D: b.distinct(key="email"), npartitions=3,
         error={"code": "KEY", "contains": "distinct"}),
    Case("topk_ints", "ints", lambda b, D: b.topk(10), npartitions=10),
    Case("topk_ints_neg", "ints", lambda b, D: b.topk(5, key=neg), npartitions=10),
    Case("topk_key_field", "accounts", lambda b, D: b.topk(5, key="id"), npartitions=7),
    Case("topk_key_zero", "pairs", lambda b, D: b.topk(20, key=0), npartitions=4,
         note="dask tests `if key:`: key=0 means no key (whole lists compared)"),
    Case("topk_ties_key", "pairs", lambda b, D: b.topk(40, key=first_of), npartitions=4,
         note="equal keys keep input order (heapq.nlargest)"),
    Case("topk_more_than_all", "small", lambda b, D: b.topk(50), npartitions=3),
    Case("topk_strs", "strs", lambda b, D: b.topk(7), npartitions=5),
    Case("topk_empty", "empty", lambda b, D: b.topk(3)),
    Case("topk_zero", "ints", lambda b, D: b.topk(0), npartitions=3),
    # ---- accumulate ------------------------------------------------------------------------
    Case("acc_add", "small", lambda b, D: b.accumulate(add), npartitions=3),
    Case("acc_add_initial", "small", lambda b, D: b.accumulate(add, initial=-1), npartitions=3),
    Case("acc_sizes", "small", lambda b, D: b.accumulate(add).map_partitions(part_len), npartitions=3),
    Case("acc_initial_sizes", "small", lambda b, D: b.accumulate(add, initial=0).map_partitions(part_len),
         npartitions=3, note="the initial value is an extra element of partition 0"),
    Case("acc_ints", "ints", lambda b, D: b.accumulate(add), npartitions=10),
    Case("acc_max2_floats", "floats", lambda b, D: b.accumulate(max2), npartitions=7),
    Case("acc_empty", "empty", lambda b, D: b.accumulate(add)),
    Case("acc_empty_initial", "empty", lambda b, D: b.accumulate(add, initial=5)),
    Case("acc_empty_parts", "ints", lambda b, D: b.filter(gt_900000).accumulate(add, initial=0), npartitions=40),
    Case("err_acc_first_empty", "small", lambda b, D: b.filter(gt_four).accumulate(add), npartitions=3,
         error={"code": None, "contains": "add"},
         note="dask carries [] from an empty first partition: [] + 5 fails"),
    Case("err_acc_callback", "small", lambda b, D: b.accumulate(add_fail_on_seven), npartitions=3,
         error={"code": "USER", "contains": "add_fail_on_seven"}),
    # ---- repartition -------------------------------------------------------------------------
    Case("repart_down3_sizes", "ints", lambda b, D: b.repartition(3).map_partitions(part_len), npartitions=10),
    Case("repart_down7_sizes", "ints", lambda b, D: b.repartition(7).map_partitions(part_len), npartitions=10),
    Case("repart_down13_sizes", "ints", lambda b, D: b.repartition(13).map_partitions(part_len), partition_size=7),
    Case("repart_down_to1", "small", lambda b, D: b.repartition(1), npartitions=5),
    Case("repart_up23_sizes", "ints", lambda b, D: b.repartition(23).map_partitions(part_len), npartitions=10),
    Case("repart_up7", "small", lambda b, D: b.repartition(7), npartitions=3),
    Case("repart_up7_sizes", "small", lambda b, D: b.repartition(7).map_partitions(part_len), npartitions=3),
    Case("repart_same", "small", lambda b, D: b.repartition(3), npartitions=3),
    Case("repart_up_empty", "empty", lambda b, D: b.repartition(4).map_partitions(part_len)),
    Case("repart_down_map", "ints", lambda b, D: b.map(square).repartition(4).sum(), npartitions=9),
    # ---- product, join -------------------------------------------------------------------------
    Case("product_small_strs", "small",
         lambda b, D: b.product(_db().from_sequence(_head(D, "strs", 20), npartitions=3)), npartitions=2),
    Case("product_sizes", "small",
         lambda b, D: b.product(_db().from_sequence(_head(D, "strs", 20), npartitions=3)).map_partitions(part_len),
         npartitions=4),
    Case("product_self", "small", lambda b, D: b.product(b), npartitions=2),
    Case("product_empty", "small", lambda b, D: b.product(_db().from_sequence([], npartitions=1)), npartitions=2),
    Case("join_first_char", "strs", lambda b, D: b.join(_head(D, "strs", 100), first_char), npartitions=4),
    Case("join_kv_names", "accounts", lambda b, D: b.pluck(["id", "name"]).join(D["kv"], 1, 0), npartitions=5,
         note="fields: on_self=1, on_other=0; (other, self) tuples"),
    Case("join_bag_other", "accounts",
         lambda b, D: b.pluck(["id", "name"]).join(_db().from_sequence(D["kv"], npartitions=1), 1, 0),
         npartitions=5),
    Case("join_mod7", "ints", lambda b, D: b.join(D["small"], mod7), npartitions=6),
    Case("join_ties", "ties", lambda b, D: b.join(D["ties"], first_of_self), npartitions=2),
    Case("err_join_multi_bag", "small", lambda b, D: b.join(_db().from_sequence([1, 2], npartitions=2), mod7),
         npartitions=2, error={"code": "INVALID", "contains": ""}),
    # ---- errors -----------------------------------------------------------------------------
    Case("err_map_callback", "small", lambda b, D: b.map(fail_on_seven), npartitions=3,
         error={"code": "USER", "contains": "fail_on_seven"}),
    Case("err_filter_callback", "small", lambda b, D: b.filter(pred_fail_on_seven).count(), npartitions=3,
         error={"code": "USER", "contains": "pred_fail_on_seven"}),
    Case("err_map_in_tutorial", "accounts",
         lambda b, D: b.pluck("id").map(fail_on_seven).sum(), npartitions=5,
         error={"code": "USER", "contains": "fail_on_seven"}),
    Case("err_mean_empty", "empty", lambda b, D: b.mean(),
         error={"code": "EMPTY", "contains": ""}, note="dask: ZeroDivisionError"),
    Case("err_mean_all_filtered", "ints", lambda b, D: b.filter(never).mean(), npartitions=6,
         error={"code": "EMPTY", "contains": ""}),
    Case("err_min_empty", "empty", lambda b, D: b.min(), error={"code": "EMPTY", "contains": ""}),
    Case("err_max_all_filtered", "ints", lambda b, D: b.filter(never).max(), npartitions=3,
         error={"code": "EMPTY", "contains": ""}),
    Case("err_pluck_missing", "accounts", lambda b, D: b.pluck("email"), npartitions=3,
         error={"code": "KEY", "contains": ""}, note="KeyError: 'email'"),
    Case("err_pluck_index_range", "pairs", lambda b, D: b.pluck(2), npartitions=3,
         error={"code": "KEY", "contains": ""}, note="IndexError"),
    Case("err_sum_strings", "strs", lambda b, D: b.sum(), npartitions=3,
         error={"code": "TYPE", "contains": ""}, note="TypeError: int + str"),
    Case("err_flatten_int", "small", lambda b, D: b.flatten(), npartitions=3,
         error={"code": "TYPE", "contains": ""}, note="TypeError: int is not iterable"),
    Case("err_mean_strings", "strs", lambda b, D: b.mean(), npartitions=3,
         error={"code": "TYPE", "contains": ""}),
    Case("err_fold_callback", "small", lambda b, D: b.fold(add_fail_on_seven), npartitions=3,
         error={"code": "USER", "contains": "add_fail_on_seven"}),
    Case("err_reduction_callback", "small", lambda b, D: b.reduction(part_fail_on_seven, sum), npartitions=3,
         error={"code": "USER", "contains": "part_fail_on_seven"}),
    Case("err_map_partitions_callback", "small", lambda b, D: b.map_partitions(part_fail_on_seven), npartitions=1,
         error={"code": "USER", "contains": "part_fail_on_seven"}),
    Case("err_starmap_callback", "kv", lambda b, D: b.starmap(star_add), npartitions=3,
         error={"code": None, "contains": "star_add"}, note="str + list: TypeError"),
    Case("err_zip_npartitions", "small", lambda b, D: _db().zip(b, _db().range(10, npartitions=3)), npartitions=2,
         error={"code": None, "contains": ""}, note="dask asserts equal npartitions"),
    Case("err_pluck_str_on_list", "pairs", lambda b, D: b.pluck("a"), npartitions=3,
         error={"code": "TYPE", "contains": ""}, note="TypeError: list indices must be integers"),
    Case("err_pluck_int_on_dict", "accounts", lambda b, D: b.pluck(0), npartitions=3,
         error={"code": "KEY", "contains": ""}, note="KeyError: 0"),
    Case("err_sum_none", "messy", lambda b, D: b.pluck("v", None).sum(), npartitions=3,
         error={"code": "TYPE", "contains": ""}),
]


class Data:
    """Data sets by name, loaded lazily from a directory."""

    def __init__(self, d):
        self.dir, self.cache = d, {}

    def __getitem__(self, name):
        if name not in self.cache:
            import os
            with open(os.path.join(self.dir, name + ".json"), encoding="utf-8") as f:
                self.cache[name] = json.load(f)
        return self.cache[name]


def by_name():
    d = {}
    for c in CASES:
        assert c.name not in d, "duplicate case " + c.name
        d[c.name] = c
    return d


if __name__ == "__main__":
    if sys.argv[1:] == ["--manifest"]:
        by_name()
        for c in CASES:
            print(c.name, c.data or "-", c.npartitions, c.partition_size)
    else:
        sys.exit("usage: cases.py --manifest")
