"""Settings resolution: flags > environment > [tool.orps] in the nearest pyproject.toml > orps.toml
> preset > defaults; every bad value names its source; the API key never comes from a file and
never appears in a repr or a log line."""

from __future__ import annotations

from pathlib import Path

import pytest

from orps_engine.config import PRESETS, Settings, resolve_settings
from orps_engine.errors import InputError

KEY = "sk-test-SENTINEL-123"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _pyproject(folder: Path, body: str) -> Path:
    return _write(folder / "pyproject.toml", f'[project]\nname = "demo"\n\n[tool.orps]\n{body}')


# -- defaults and presets ---------------------------------------------------------------------------


def test_defaults_without_any_source_are_the_interactive_preset(tmp_path: Path) -> None:
    settings = resolve_settings({}, {}, tmp_path)
    assert settings == Settings()
    assert (settings.preset, settings.samples, settings.beam, settings.rounds) == ("interactive", 4, 2, 2)
    assert settings.model is None and settings.base_url is None and settings.api_key is None


def test_no_root_means_no_file_is_read(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'model = "from-file"\n')
    assert resolve_settings({}, {}, None).model is None


@pytest.mark.parametrize(("preset", "expected"), [("interactive", (4, 2, 2, 0.7)), ("paper", (20, 3, 5, 0.5))])
def test_presets(preset: str, expected: tuple[int, int, int, float]) -> None:
    settings = resolve_settings({"preset": preset}, {}, None)
    assert settings.preset == preset
    assert (settings.samples, settings.beam, settings.rounds, settings.temperature) == expected
    assert {k: PRESETS[preset][k] for k in ("samples", "beam", "rounds")} == dict(zip(("samples", "beam", "rounds"),
                                                                                      expected[:3]))


def test_preset_from_a_file_and_explicit_keys_from_every_layer_override_it(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'preset = "paper"\nsamples = 7\n')
    settings = resolve_settings({"beam": 1}, {}, tmp_path)
    assert settings.preset == "paper"
    assert settings.samples == 7  # the file's explicit key beats the preset
    assert settings.beam == 1  # the flag's explicit key beats the preset
    assert settings.rounds == 5 and settings.temperature == 0.5  # the rest from the preset


def test_preset_flag_beats_the_file_preset_but_not_the_file_s_explicit_keys(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'preset = "paper"\nrounds = 1\n')
    settings = resolve_settings({"preset": "interactive"}, {}, tmp_path)
    assert settings.preset == "interactive"
    assert (settings.samples, settings.beam, settings.rounds, settings.temperature) == (4, 2, 1, 0.7)


def test_explicit_key_in_an_orps_toml_overrides_a_flag_preset(tmp_path: Path) -> None:
    _write(tmp_path / "orps.toml", "temperature = 0.2\n")
    settings = resolve_settings({"preset": "paper"}, {}, tmp_path)
    assert (settings.samples, settings.temperature) == (20, 0.2)


def test_unknown_preset_is_refused() -> None:
    with pytest.raises(InputError, match="unknown preset 'huge'") as info:
        resolve_settings({"preset": "huge"}, {}, None)
    assert info.value.hint is not None and "paper" in info.value.hint and "interactive" in info.value.hint


def test_unknown_preset_in_a_file_names_the_file(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, 'preset = "huge"\n')
    with pytest.raises(InputError) as info:
        resolve_settings({}, {}, tmp_path)
    assert str(path) in str(info.value)


# -- precedence -------------------------------------------------------------------------------------


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'model = "file-model"\nbase_url = "http://file/v1"\nsamples = 3\n')
    env = {"ORPS_MODEL": "env-model", "OPENAI_BASE_URL": "http://env/v1", "OPENAI_API_KEY": KEY}
    assert resolve_settings({}, {}, tmp_path).model == "file-model"
    from_env = resolve_settings({}, env, tmp_path)
    assert (from_env.model, from_env.base_url, from_env.api_key, from_env.samples) == (
        "env-model", "http://env/v1", KEY, 3)
    from_flags = resolve_settings({"model": "flag-model", "base_url": "http://flag/v1", "samples": 9}, env, tmp_path)
    assert (from_flags.model, from_flags.base_url, from_flags.samples) == ("flag-model", "http://flag/v1", 9)
    assert from_flags.api_key == KEY


def test_flags_set_to_none_do_not_override(tmp_path: Path) -> None:
    # argparse leaves an unused flag as None
    _pyproject(tmp_path, "samples = 3\n")
    settings = resolve_settings({"samples": None, "model": None, "preset": None}, {"ORPS_MODEL": "m"}, tmp_path)
    assert (settings.samples, settings.model, settings.preset) == (3, "m", "interactive")


def test_empty_environment_variables_are_ignored(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'model = "file-model"\n')
    settings = resolve_settings({}, {"ORPS_MODEL": "", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}, tmp_path)
    assert (settings.model, settings.api_key, settings.base_url) == ("file-model", None, None)


def test_unrelated_environment_variables_are_ignored() -> None:
    settings = resolve_settings({}, {"ORPS_SAMPLES": "99", "OPENAI_ORG": "x"}, None)
    assert settings.samples == 4


def test_pyproject_found_walking_up_from_the_folder(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'model = "up-there"\n')
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert resolve_settings({}, {}, deep).model == "up-there"


def test_pyproject_without_tool_orps_is_skipped(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'model = "outer"\n')
    inner = tmp_path / "pkg"
    _write(inner / "pyproject.toml", '[project]\nname = "inner"\n\n[tool.ruff]\nline-length = 100\n')
    assert resolve_settings({}, {}, inner).model == "outer"


def test_pyproject_without_tool_orps_falls_back_to_orps_toml_beside_it(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", '[project]\nname = "demo"\n')
    _write(tmp_path / "orps.toml", 'model = "from-orps-toml"\n')
    assert resolve_settings({}, {}, tmp_path).model == "from-orps-toml"


def test_tool_orps_beats_orps_toml_and_the_two_are_not_merged(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'model = "from-pyproject"\n')
    _write(tmp_path / "orps.toml", 'model = "from-orps-toml"\nbeam = 1\n')
    settings = resolve_settings({}, {}, tmp_path)
    assert settings.model == "from-pyproject"
    assert settings.beam == 2  # one file supplies the settings: orps.toml is not read at all


def test_orps_toml_with_an_orps_table(tmp_path: Path) -> None:
    _write(tmp_path / "orps.toml", '[orps]\nmodel = "tabled"\nrounds = 0\n')
    settings = resolve_settings({}, {}, tmp_path)
    assert (settings.model, settings.rounds) == ("tabled", 0)


def test_file_aliases_and_dashed_keys(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'base-url = "http://x/v1"\ntimeout = 5\nmax-in-flight = 3\nmax-retries = 0\n'
                         'prompt-budget = 5000\n')
    settings = resolve_settings({}, {}, tmp_path)
    assert (settings.base_url, settings.timeout_s, settings.max_in_flight, settings.max_retries,
            settings.prompt_budget) == ("http://x/v1", 5.0, 3, 0, 5000)
    assert isinstance(settings.timeout_s, float)


def test_strings_are_stripped(tmp_path: Path) -> None:
    assert resolve_settings({}, {"ORPS_MODEL": "  qwen  "}, tmp_path).model == "qwen"


# -- bad values name their source -------------------------------------------------------------------


@pytest.mark.parametrize("body", ["samples = 0\n", 'beam = "two"\n', "rounds = -1\n", "temperature = 3.0\n",
                                  "max_in_flight = true\n", "timeout_s = 0.0\n", "prompt_budget = 10\n",
                                  'model = "   "\n', "repeats = 1.5\n", "temperature = nan\n"])
def test_bad_value_in_a_file_names_the_file(tmp_path: Path, body: str) -> None:
    path = _pyproject(tmp_path, body)
    with pytest.raises(InputError) as info:
        resolve_settings({}, {}, tmp_path)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_bad_value_in_orps_toml_names_it(tmp_path: Path) -> None:
    path = _write(tmp_path / "orps.toml", "beam = 0\n")
    with pytest.raises(InputError, match="beam") as info:
        resolve_settings({}, {}, tmp_path)
    assert str(path) in str(info.value)


def test_bad_value_in_the_environment_names_it() -> None:
    with pytest.raises(InputError, match="the environment") as info:
        resolve_settings({}, {"ORPS_MODEL": "   "}, None)
    assert "model" in str(info.value)


@pytest.mark.parametrize(("flags", "key"), [({"samples": 0}, "samples"), ({"temperature": -0.1}, "temperature"),
                                            ({"max_retries": True}, "max_retries"), ({"timeout_s": "10"}, "timeout_s"),
                                            ({"model": ""}, "model"), ({"rounds": 2.0}, "rounds")])
def test_bad_value_on_the_command_line_names_it(flags: dict[str, object], key: str) -> None:
    with pytest.raises(InputError, match="the command line") as info:
        resolve_settings(flags, {}, None)
    assert key in str(info.value)


def test_integer_temperature_is_accepted_as_a_float() -> None:
    settings = resolve_settings({"temperature": 1}, {}, None)
    assert settings.temperature == 1.0 and isinstance(settings.temperature, float)


def test_unknown_key_in_a_file_is_refused(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, 'colour = "blue"\n')
    with pytest.raises(InputError, match="unknown setting 'colour'") as info:
        resolve_settings({}, {}, tmp_path)
    assert str(path) in str(info.value)
    assert info.value.hint is not None and "samples" in info.value.hint and "api_key" not in info.value.hint


def test_unknown_flag_is_refused() -> None:
    with pytest.raises(InputError, match="unknown setting 'colour' in the command line"):
        resolve_settings({"colour": "blue"}, {}, None)


def test_settings_table_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "orps.toml", 'orps = "fast"\n')
    with pytest.raises(InputError, match="table") as info:
        resolve_settings({}, {}, tmp_path)
    assert info.value.path == path


@pytest.mark.parametrize("name", ["api_key", "api-key", "key", "openai_api_key"])
@pytest.mark.parametrize("where", ["pyproject.toml", "orps.toml"])
def test_api_key_in_a_file_is_refused_naming_the_file(tmp_path: Path, name: str, where: str) -> None:
    if where == "pyproject.toml":
        path = _pyproject(tmp_path, f'{name} = "{KEY}"\n')
    else:
        path = _write(tmp_path / "orps.toml", f'{name} = "{KEY}"\n')
    with pytest.raises(InputError, match="API key") as info:
        resolve_settings({}, {}, tmp_path)
    assert info.value.path == path
    assert str(path) in str(info.value)
    assert KEY not in str(info.value) and KEY not in (info.value.hint or "")
    assert "OPENAI_API_KEY" in (info.value.hint or "")


@pytest.mark.parametrize("where", ["pyproject.toml", "orps.toml"])
def test_malformed_toml_names_the_file(tmp_path: Path, where: str) -> None:
    path = _write(tmp_path / where, "[tool.orps\nmodel = \n")
    with pytest.raises(InputError, match="not valid TOML") as info:
        resolve_settings({}, {}, tmp_path)
    assert info.value.path == path
    assert str(info.value).startswith(str(path))


def test_pyproject_whose_tool_is_not_a_table_holds_no_orps_settings(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", 'tool = "x"\n')
    assert resolve_settings({}, {}, tmp_path) == resolve_settings({}, {}, None)


# -- the key never shows ----------------------------------------------------------------------------


def test_repr_and_describe_never_contain_the_key() -> None:
    settings = resolve_settings({"model": "m"}, {"OPENAI_API_KEY": KEY}, None)
    assert settings.api_key == KEY
    for text in (repr(settings), str(settings), settings.describe()):
        assert KEY not in text
        assert "SENTINEL" not in text
    assert "api_key=set" in settings.describe()
    assert "model=m" in settings.describe()
    assert "api_key=unset" in resolve_settings({}, {}, None).describe()
