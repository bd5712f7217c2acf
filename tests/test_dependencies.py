"""Every library the package imports is a declared dependency (not one that happens to come with
another), and the ones whose private parts we use carry an upper bound."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DECLARED = {Requirement(r).name.lower().replace("_", "-"): Requirement(r) for r in PROJECT["dependencies"]}
# Where the code reaches into a library's private parts (named in pyproject.toml's comment).
PRIVATE_PARTS_USED = {"langdetect", "sumy", "trafilatura", "httpx", "httpcore"}


def _imported_top_levels() -> set[str]:
    names = set()
    for path in [*(ROOT / "enrich").rglob("*.py"), *(ROOT / "flows").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"enrich", "flows", "__future__"}


def test_every_imported_library_is_declared():
    distributions = packages_distributions()
    imported = _imported_top_levels()
    assert {"courlan", "htmldate", "lxml", "trafilatura", "langdetect"} <= imported
    undeclared = {name: distributions.get(name) for name in imported
                  if not {d.lower().replace("_", "-") for d in distributions.get(name, [name])} & set(DECLARED)}
    assert not undeclared, f"imported but not in pyproject.toml's dependencies: {undeclared}"


def test_libraries_whose_internals_we_use_have_an_upper_bound():
    unbounded = [name for name in PRIVATE_PARTS_USED
                 if not any(spec.operator in {"<", "<=", "~=", "=="} for spec in DECLARED[name].specifier)]
    assert not unbounded, unbounded
