# The largest sum of a non-empty run of consecutive elements: reads n, then n integers.
# Wrong when every element is negative (the best run is then one element, not the empty one):
# `orps stress maxsub.py --gen gen.py --brute brute.py` finds and shrinks such an input.
n = int(input())
a = list(map(int, input().split()))
best = current = 0
for x in a:
    current = max(0, current + x)
    best = max(best, current)
print(best)
