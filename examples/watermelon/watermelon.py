# Codeforces 4A "Watermelon": can w kilos be split into two even, positive parts?
# This solution is wrong: it forgets that both parts must be positive (w = 2).
w = int(input())
print("YES" if w % 2 == 0 else "NO")
