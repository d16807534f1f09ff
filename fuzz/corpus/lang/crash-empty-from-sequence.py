b = db.from_sequence([{"a": i, "b": i % 3} for i in range(2&0)], npartitions=3)
df = b.to_dataframe()
df[df.a > 5].groupby("b").a.sum()