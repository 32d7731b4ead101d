# One file that every loader can test: a function with doctests, run as a program it doubles stdin.
def double(x):
    """Twice x.

    >>> double(2)
    4
    """
    return 2 * x


if __name__ == "__main__":
    print(double(int(input())))
