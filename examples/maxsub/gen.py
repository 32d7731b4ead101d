# One random input for the seed in sys.argv[1]: n in 1..8, then n integers in -10..10.
import random
import sys

rng = random.Random(int(sys.argv[1]))
n = rng.randint(1, 8)
print(n)
print(*(rng.randint(-10, 10) for _ in range(n)))
