import unittest

import pytest

from helpers import EXPECTED_MEAN
from mypkg import variance
from mypkg.stats import Stats, mean, weighted


def test_mean(sample):
    assert mean(sample) == EXPECTED_MEAN


@pytest.mark.parametrize(("xs", "want"), [([1], 1), ([1, 2], 1.5), ([0, 0, 3], 1)])
def test_mean_cases(xs, want):
    assert mean(xs) == want


def test_mean_of_nothing():
    with pytest.raises(ValueError):
        mean([])


def test_variance(sample):
    assert variance(sample) == 4.0


def test_weighted():
    assert weighted() == [1.0, 2.0, 3.0]


@pytest.mark.skip(reason="not today")
def test_skipped():
    assert mean([1]) == 2


@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert mean([1, 3]) == 3


class TestSpread(unittest.TestCase):
    def test_spread(self):
        self.assertEqual(Stats([1, 5, 3]).spread(), 4)
