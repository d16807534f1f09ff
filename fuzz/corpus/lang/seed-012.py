import json
json.dumps({"a": [1, 2.5, None, True], "b": "\u00e9"})