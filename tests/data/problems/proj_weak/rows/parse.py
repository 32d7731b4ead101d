import random


def parse_row(line):
    """The integers of a comma-separated line, in order."""
    return [int(cell) for cell in line.split(",")]


def shuffled(n):
    """n numbers in a random order: what it returns is not reproducible."""
    values = list(range(n))
    random.shuffle(values)
    return values


def normalise(values):
    """Scale values in place so they sum to 1; returns None."""
    total = sum(values)
    for i, v in enumerate(values):
        values[i] = v / total
