s = "Hello, World"
(s.lower(), s.upper(), s.split(", "), s[::-1], s[2:5], len(s), s.replace("l", "L"))