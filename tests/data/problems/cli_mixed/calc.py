"""A function with a planted bug (a == 7) and a planted error (a < 0)."""


def add(a, b):
    if a < 0:
        raise ValueError("negative a")
    return a + b + (1 if a == 7 else 0)
