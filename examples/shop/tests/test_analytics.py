import pytest
from shop.analytics import repeat_customers, revenue
from shop.models import Order


@pytest.fixture
def busy_day():
    """12,000 orders from 4,000 customers."""
    return [Order(customer=f"c{(i * 7919) % 4000}", amount=float(i % 50)) for i in range(12000)]


def test_no_orders():
    assert repeat_customers([]) == []


def test_one_repeat():
    orders = [Order("ann", 5.0), Order("bob", 2.5), Order("ann", 1.0)]
    assert repeat_customers(orders) == ["ann"]


@pytest.mark.parametrize(("names", "want"), [
    ("abcab", ["a", "b"]),
    ("abcba", ["b", "a"]),
    ("aaaa", ["a"]),
])
def test_order_of_second_orders(names, want):
    assert repeat_customers([Order(n, 1.0) for n in names]) == want


def test_busy_day(busy_day):
    repeat = repeat_customers(busy_day)
    assert len(repeat) == 4000
    assert repeat[:3] == ["c0", "c3919", "c3838"]


def test_revenue():
    assert revenue([Order("ann", 5.0), Order("bob", 2.5)]) == 7.5
