"""enrich.deferred_patterns: a module's import-time patterns compiled when first used, behaving as compiled ones."""

from __future__ import annotations

import re
import sys

from enrich.deferred_patterns import DeferredPattern, deferring


def test_a_deferred_pattern_compiles_on_first_use_and_answers_as_re_does():
    deferred = DeferredPattern(r"(?i)^peut[-–]être$")
    match = deferred.match  # taken at import time by the modules, before any text is read
    assert not deferred.compiled
    assert match("Peut-être") and match("peut–être") and match("maison") is None
    assert deferred.compiled
    assert deferred.pattern == r"(?i)^peut[-–]être$" and deferred.flags == re.compile(r"(?i)^peut[-–]être$").flags
    assert deferred.search("peut-être") is not None and deferred.findall("peut-être") == ["peut-être"]


def test_a_deferred_pattern_survives_a_copy_and_a_pickle():
    import copy
    import pickle

    used = DeferredPattern("^a+$")
    used.match("a")
    for deferred in (DeferredPattern("^a+$"), used):
        for twin in (copy.deepcopy(deferred), pickle.loads(pickle.dumps(deferred))):
            assert isinstance(twin, DeferredPattern) and twin.match("aaa") and twin.match("b") is None


def test_only_the_listed_modules_are_deferred_and_only_inside_the_block(tmp_path, monkeypatch):
    package = tmp_path / "deferredpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = "import re\nWORD = re.compile('^[a-z]+$').match\nfrom . import helper\n"
    (package / "listed.py").write_text(source)
    (package / "other.py").write_text(source)
    (package / "helper.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("enrich.deferred_patterns.DEFERRED_MODULES", frozenset({"deferredpkg.listed"}))
    try:
        with deferring():
            import deferredpkg.listed as listed
            import deferredpkg.other as other
        assert isinstance(listed.WORD.__self__, DeferredPattern) and not listed.WORD.__self__.compiled
        assert isinstance(other.WORD.__self__, re.Pattern)
        assert listed.WORD("word") and listed.WORD("Word") is None and listed.helper.VALUE == 1
        assert not any(type(finder).__module__ == "enrich.deferred_patterns" for finder in sys.meta_path)
    finally:
        for name in ("deferredpkg", "deferredpkg.listed", "deferredpkg.other", "deferredpkg.helper"):
            sys.modules.pop(name, None)
