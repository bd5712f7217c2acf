"""Settings are read once, at the edge (the CLI, ``enrich serve``, a script's ``__main__``), and passed
down: no stage and no step of the flow reads the environment or builds its own Settings."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BELOW_THE_EDGE = sorted([*(p for p in (ROOT / "enrich").rglob("*.py") if p.name != "settings.py"),
                         ROOT / "flows" / "enrich_feeds.py"])


def _main_block_nodes(tree: ast.Module) -> set[int]:
    """Nodes inside ``if __name__ == "__main__":``: running a module as a script makes it an edge."""
    inside = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            inside |= {id(child) for child in ast.walk(node)}
    return inside


def _environment_reads(source: str, name: str) -> list[str]:
    tree = ast.parse(source)
    script = _main_block_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in script:
            continue
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in {"Settings", "getenv"}:
            found.append(f"{name}:{node.lineno}: {ast.unparse(node)[:80]}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and {a.name for a in node.names} & {"environ", "getenv"}:
            found.append(f"{name}:{node.lineno}: from os import ...")
    return found


def test_nothing_below_the_edge_reads_the_environment_or_builds_settings():
    assert len(BELOW_THE_EDGE) > 30
    reads = [read for path in BELOW_THE_EDGE
             for read in _environment_reads(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert not reads, reads


def test_the_check_sees_what_it_looks_for():
    source = ('import os\nfrom enrich.settings import Settings\n\nLIMIT = Settings().batch_size\n'
              'HOME = os.environ["HOME"]\n\nif __name__ == "__main__":\n    print(Settings())\n')
    assert [r.split(": ", 1)[1] for r in _environment_reads(source, "probe.py")] == ["Settings()", "os.environ"]


def test_the_flow_takes_every_setting_from_its_caller(tmp_path):
    """A setting given to the flow is the one its steps use, whatever the environment says."""
    import inspect

    from enrich.settings import Settings
    from flows.enrich_feeds import enrich_feeds, fetch_options_for

    assert list(inspect.signature(enrich_feeds.fn).parameters) == ["feed_urls", "settings", "poll_all"]
    settings = Settings(db_path=tmp_path / "x.duckdb", per_host_concurrency=7, contact_url="https://reader.example/bot")
    options = fetch_options_for(settings)
    assert (options.per_host, options.user_agent.endswith("+https://reader.example/bot)")) == (7, True)
