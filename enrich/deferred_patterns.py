"""Import a spaCy language module with the regular expressions it compiles at import compiled on first use.

spaCy's French tokenizer exceptions compile one pattern of 1.45 million characters when the module
is imported (``TOKEN_MATCH``: hyphenated and elided words such as "faux-vampire", "entr'abat"): 2.3 s
of CPU, in every worker process that met a French page, for a pipeline that then builds in 0.05 s.
Sentence pipelines do not use that pattern (``enrich.sentences`` builds French without it), so it is
compiled only if something else calls it: the module's code runs unchanged, with ``re.compile``
standing for a :class:`DeferredPattern` while it runs.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import re
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

# Modules whose import-time re.compile calls are deferred.
DEFERRED_MODULES = frozenset({"spacy.lang.fr.tokenizer_exceptions"})


class DeferredPattern:
    """Stands for ``re.compile(pattern, flags)``; compiles it the first time it is used."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._arguments = (pattern, flags)
        self._compiled: re.Pattern | None = None

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def _pattern(self) -> re.Pattern:
        if self._compiled is None:
            self._compiled = re.compile(*self._arguments)
        return self._compiled

    # Defined here, not found through __getattr__ (which compiles): the modules keep
    # ``re.compile(...).match`` from import time.
    def match(self, *args, **kwargs):
        return self._pattern().match(*args, **kwargs)

    def __getattr__(self, name: str):
        if name.startswith("_"):  # not set yet (a copy being built), or not a pattern's attribute
            raise AttributeError(name)
        return getattr(self._pattern(), name)


_deferring_re = types.ModuleType("re")
_deferring_re.__dict__.update(vars(re))
_deferring_re.compile = DeferredPattern


def _import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002 - builtins.__import__'s signature
    if name == "re" and level == 0:
        return _deferring_re
    return builtins.__import__(name, globals, locals, fromlist, level)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the modules of DEFERRED_MODULES as Python does, and runs their code with ``import re``
    giving the deferring stand-in."""

    def __init__(self) -> None:
        self._loaders: dict[str, importlib.abc.Loader] = {}

    def find_spec(self, fullname, path, target=None):
        if fullname not in DEFERRED_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.abc.InspectLoader):
            return None
        self._loaders[fullname] = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        code = self._loaders.pop(module.__name__).get_code(module.__name__)
        module.__dict__["__builtins__"] = {**vars(builtins), "__import__": _import}
        exec(code, module.__dict__)  # noqa: S102 - the module's own code, as its loader would run it


@contextmanager
def deferring() -> Iterator[None]:
    """Modules of DEFERRED_MODULES imported in this block compile their patterns on first use."""
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
