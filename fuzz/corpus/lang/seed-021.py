b = db.from_sequence(["a", "b", "a", "c", "a"])
(b.frequencies().compute(), b.distinct().compute(), b.topk(2, key=len).compute())