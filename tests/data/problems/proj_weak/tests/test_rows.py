from rows.parse import normalise, parse_row, shuffled


def test_parses_something():
    assert parse_row("1,2") is not None


def test_three_cells():
    assert len(parse_row("3,1,2")) == 3


def test_shuffled_has_everything():
    assert sorted(shuffled(5)) == [0, 1, 2, 3, 4]


def test_normalise_runs():
    values = [1.0, 3.0]
    normalise(values)
    assert len(values) == 2
