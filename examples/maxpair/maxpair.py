# The largest sum of two distinct elements: reads n, then n integers (online-judge-tools layout).
n = int(input())
a = list(map(int, input().split()))
best = max(a[i] + a[j] for i in range(n) for j in range(i + 1, n))
print(best)
