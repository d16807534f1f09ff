def f(a, b=2, *args, **kw):
    return a + b
f(1), f(1, b=3)