d = {"a": 1}
d["b"] = 2
d.get("c", 3), sorted(d.items()), list(d.keys()), "a" in d