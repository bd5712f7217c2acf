"""The README documents every setting and every CLI command."""

from __future__ import annotations

from pathlib import Path

from enrich.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_readme():
    missing = [f"ENRICH_{name.upper()}" for name in Settings.model_fields if f"ENRICH_{name.upper()}" not in README]
    assert not missing, f"undocumented settings: {missing}"


def test_every_command_is_in_the_readme():
    for command in ("enrich demo", "enrich run", "enrich feeds add", "enrich feeds list", "enrich feeds import-opml",
                    "enrich export", "enrich preview"):
        assert command in README, command


def test_readme_test_command_is_what_ci_runs():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "uv run pytest" in README and "uv run pytest" in ci
