"""A tiny shop: orders and what the analytics say about them."""
