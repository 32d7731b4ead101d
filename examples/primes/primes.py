"""Sum of the primes below n: correct, but slow (trial division up to n for every number)."""


def sum_primes_below(n: int) -> int:
    total = 0
    for candidate in range(2, n):
        is_prime = True
        for divisor in range(2, candidate):
            if candidate % divisor == 0:
                is_prime = False
                break
        if is_prime:
            total += candidate
    return total
