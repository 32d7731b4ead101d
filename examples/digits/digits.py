def digit_sum(n: int) -> int:
    """Sum of the decimal digits of n (n >= 0).

    >>> digit_sum(0)
    0
    >>> digit_sum(12345)
    15
    >>> digit_sum(10 ** 100)
    1
    """
    return sum(int(c) for c in str(n))
