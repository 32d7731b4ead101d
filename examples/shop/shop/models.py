from dataclasses import dataclass


@dataclass(frozen=True)
class Order:
    customer: str
    amount: float
