"""The line-finding helpers that let errors and verdicts point into a JSON test file."""

from __future__ import annotations

import json

import pytest

from orps_engine.problem.jsonpos import array_element_lines, key_line

PRETTY = """{
  "name": "x",
  "tests": [
    {"input": "1\\n", "output": "1\\n"},

    {"input": "2\\n",
     "output": "2\\n"},
    {"input": "[3]", "output": "{3}"}
  ],
  "timeLimit": 1000
}
"""


def test_array_element_lines_pretty_file_gives_each_elements_first_line() -> None:
    assert array_element_lines(PRETTY, "tests") == [4, 6, 8]


def test_array_element_lines_single_line_file_gives_line_one_for_all() -> None:
    text = json.dumps({"asserts": ["assert 1", "assert 2", "assert 3"]})
    assert array_element_lines(text, "asserts") == [1, 1, 1]


def test_array_element_lines_nested_containers_and_escapes_skipped_whole() -> None:
    text = '{"tests": [\n  {"a": [1, {"b": "]\\"}"}]},\n  "x\\ny",\n  [[], {}]\n]}'
    assert array_element_lines(text, "tests") == [2, 3, 4]


def test_array_element_lines_empty_array_gives_empty_list() -> None:
    assert array_element_lines('{"tests": [ ]}', "tests") == []


@pytest.mark.parametrize("text", ['{"tests": {"a": 1}}', '{"tests": "abc"}', '{"tests": null}'])
def test_array_element_lines_value_not_array_gives_empty_list(text: str) -> None:
    assert array_element_lines(text, "tests") == []


def test_array_element_lines_missing_key_gives_empty_list() -> None:
    assert array_element_lines('{"asserts": [1, 2]}', "tests") == []


@pytest.mark.parametrize("text", ["[1, 2]", '"tests"', "", "   ", "{"])
def test_array_element_lines_unexpected_shape_gives_empty_list(text: str) -> None:
    assert array_element_lines(text, "tests") == []


def test_array_element_lines_nested_key_of_same_name_not_taken_for_top_level() -> None:
    text = '{\n  "meta": {"tests": [1, 2, 3]},\n  "tests": [\n    4\n  ]\n}'
    assert array_element_lines(text, "tests") == [4]


def test_array_element_lines_duplicate_key_follows_the_last_like_json() -> None:
    text = '{\n  "tests": [1],\n  "tests": [\n    2,\n    3\n  ]\n}'
    assert json.loads(text)["tests"] == [2, 3]
    assert array_element_lines(text, "tests") == [4, 5]


def test_array_element_lines_deep_nesting_gives_empty_list_not_recursion_error() -> None:
    text = '{"tests": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert array_element_lines(text, "tests") == []


def test_key_line_pretty_file_gives_line_of_value() -> None:
    assert key_line(PRETTY, "name") == 2
    assert key_line(PRETTY, "tests") == 3
    assert key_line(PRETTY, "timeLimit") == 10


def test_key_line_value_on_line_after_key_gives_value_line() -> None:
    assert key_line('{"timeLimit":\n\n  -5}', "timeLimit") == 3


def test_key_line_missing_key_gives_none() -> None:
    assert key_line(PRETTY, "memoryLimit") is None


def test_key_line_key_inside_nested_object_not_found() -> None:
    assert key_line('{"batch": {"id": "x"}}', "id") is None


def test_key_line_escaped_key_matches_decoded_name() -> None:
    assert key_line('{\n"\\u0074imeLimit": 5}', "timeLimit") == 2


@pytest.mark.parametrize("text", ["", "[]", "{", "nul"])
def test_key_line_unparseable_or_not_object_gives_none(text: str) -> None:
    assert key_line(text, "a") is None
