"""What the orders say about the customers."""

from .models import Order


def repeat_customers(orders: list[Order]) -> list[str]:
    """The customers who ordered more than once, in the order of their second order."""
    seen = []
    repeat = []
    for order in orders:
        if order.customer in seen and order.customer not in repeat:
            repeat.append(order.customer)
        seen.append(order.customer)
    return repeat


def revenue(orders: list[Order]) -> float:
    return round(sum(order.amount for order in orders), 2)
