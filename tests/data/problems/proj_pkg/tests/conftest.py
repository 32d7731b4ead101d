import pytest


@pytest.fixture
def sample():
    return [2, 4, 4, 4, 5, 5, 7, 9]
