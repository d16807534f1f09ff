b = db.from_sequence([{"name": "Alice", "tx": [1, 2]}, {"name": "Bob", "tx": [3]}], npartitions=2)
b.pluck("tx").flatten().sum().compute()