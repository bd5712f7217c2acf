"""The project's own modules as they were before a change, loaded from git, for "old vs new" columns.

``modules_at(commit, "enrich.sentences", "enrich.summarize")`` returns those modules as that commit
had them, each importing the earlier ones of the list (so an old summarizer splits with the old
splitter) and today's versions of everything else. The bench stays honest about its baseline
without a copy of old code kept in the package.
"""

from __future__ import annotations

import subprocess
import sys
import types

from _scoring import ROOT

# The main branch before issue 12's summary and key-quote work (summaries that stand alone,
# key quotes with a floor and speakers).
BEFORE_ISSUE_12 = "4b9a73d"


def modules_at(commit: str, *names: str) -> dict[str, types.ModuleType]:
    """``{name: module}`` of ``names`` (dotted, under ROOT) as ``commit`` had them."""
    loaded: dict[str, types.ModuleType] = {}
    saved = {name: sys.modules.get(name) for name in names}
    try:
        for name in names:
            path = name.replace(".", "/") + ".py"
            source = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{commit}:{path}"], check=True, capture_output=True, text=True
            ).stdout
            module = types.ModuleType(f"{name}@{commit}")
            module.__file__ = str(ROOT / path)
            sys.modules[module.__name__] = module  # dataclasses look their module up by name
            sys.modules[name] = module  # the later names import this one, not today's
            exec(compile(source, f"{path}@{commit}", "exec"), module.__dict__)  # noqa: S102 (our own history)
            loaded[name] = module
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return loaded
