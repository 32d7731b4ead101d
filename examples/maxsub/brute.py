# Every run, summed: slow and surely right. It checks the input's constraints, so that orps stress
# only keeps inputs the problem allows when it shrinks a failing one.
n = int(input())
a = list(map(int, input().split()))
assert 1 <= n == len(a), "n must be the number of elements, at least 1"
print(max(sum(a[i:j]) for i in range(n) for j in range(i + 1, n + 1)))
