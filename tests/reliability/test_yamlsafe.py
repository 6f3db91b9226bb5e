"""Finding 3 of issue 15 (YAML part): limits on size, depth and alias expansion; typed settings."""

from __future__ import annotations

import time

import pytest

from seilearn.config import load_settings
from seilearn.errors import ConfigError, InputError
from seilearn.yamlsafe import load_yaml


def _bomb(levels: int = 9, indent: str = "") -> str:
    lines = [f'{indent}l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*l{i - 1}"] * 9)
        lines.append(f"{indent}l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["top", "labeller.settings", "deep list"])
def test_billion_laughs_is_refused_in_under_a_second_wherever_it_sits(where):
    if where == "top":
        doc = _bomb()
    elif where == "labeller.settings":
        doc = "name: x\nlabeller:\n  name: chgnet\n  settings:\n" + _bomb(indent="    ")
    else:
        doc = "exploration:\n  - structures:\n      - extra:\n" + _bomb(indent="          ")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"spec\.yaml: YAML expands to more than"):
        load_yaml(doc, "spec.yaml")
    assert time.perf_counter() - t0 < 1.0


def test_ordinary_aliases_still_work():
    doc = "base: &b {temperature: 300, steps: 40}\nruns: [*b, *b]\n"
    assert load_yaml(doc, "x.yaml") == {"base": {"temperature": 300, "steps": 40},
                                        "runs": [{"temperature": 300, "steps": 40}] * 2}


@pytest.mark.parametrize("doc,match", [
    ("a: &a [*a]\n", "refers to the value that contains it"),
    ("[" * 3000 + "]" * 3000, "nested deeper than"),
    ("a: [1, 2\n", "not valid YAML"),
    ("a: 1\n---\nb: 2\n", "not valid YAML"),
])
def test_hostile_or_broken_yaml_is_one_clear_error(doc, match):
    with pytest.raises(InputError, match=match):
        load_yaml(doc, "x.yaml")


def test_oversized_yaml_is_refused():
    with pytest.raises(InputError, match="over the limit"):
        load_yaml("a: " + "x" * 100, "x.yaml", max_bytes=50)


def test_settings_file_bomb_is_a_config_error(tmp_path, monkeypatch):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(_bomb())
    monkeypatch.setenv("SEILEARN_CONFIG", str(cfg))
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="YAML expands"):
        load_settings()
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("text,match", [
    ("db_port: .nan\n", "db_port='nan' must be a whole number"),
    ("webgui_port: 5000.5\n", "webgui_port='5000.5' must be a whole number"),
    ("db_port: true\n", "db_port='True' must be a whole number"),
    ("db_name: [a, b]\n", "db_name=.* must be text"),
])
def test_settings_values_are_typed(tmp_path, monkeypatch, text, match):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text)
    monkeypatch.setenv("SEILEARN_CONFIG", str(cfg))
    monkeypatch.delenv("SEILEARN_DB_PORT", raising=False)
    monkeypatch.delenv("SEILEARN_WEBGUI_PORT", raising=False)
    monkeypatch.delenv("SEILEARN_DB_NAME", raising=False)
    with pytest.raises(ConfigError, match=match):
        load_settings()


def test_campaign_spec_bomb_under_labeller_settings_is_refused(tmp_path):
    """The probe's case: `seilearn campaign create` grew to 2.3 GB on a bomb under labeller.settings."""
    from seilearn.workflows.spec import load_spec

    spec = tmp_path / "bomb.yaml"
    spec.write_text("name: x\nelements: [Li]\nlabeller:\n  name: chgnet\n  settings:\n" + _bomb(indent="    "))
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="YAML expands to more than"):
        load_spec(spec)
    assert time.perf_counter() - t0 < 1.0
