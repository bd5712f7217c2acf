"""What stemmers cost (Greek, Polish, English): loading them, and stemming a word, sumy's own beside enrich.text's.

sumy's wrap greek-stemmer-pos (49 part-of-speech tags tried a word) and pystempel (a trie built in
Python from its table), installed with the dev group for this comparison, and NLTK's Python port of
Snowball for English; enrich.text uses Snowball's own algorithms through PyStemmer for all three.

Each measurement runs in a fresh interpreter with sumy already imported (as in a worker
process), so a load is a cold first load. CPU time is the child's ``time.process_time``; memory is the growth of its resident set
(psutil) across the load. Words: the 500 Greek and Polish sentences of ../shared/corpora/langid
when present, else a few written here.

Run: .venv/bin/python bench/stemmers.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _report import print_table
from _scoring import limited

ROOT = Path(__file__).resolve().parents[1]
LANGID = ROOT.parent / "shared" / "corpora" / "langid" / "sentences"
FALLBACK_WORDS = {
    "el": "η κυβέρνηση ανακοίνωσε νέα μέτρα για την οικονομία της χώρας και οι πολίτες περιμένουν",
    "pl": "prezydent spotkał się z ministrami w sprawie budżetu na przyszły rok i nowych podatków",
    "en": "the council approved the new budget after members debated the costs of the planned repairs",
}

# A child process: load one stemmer the named way, then stem every word once; print figures.
CHILD = """
import json, sys, time, psutil
from sumy.nlp.stemmers import Stemmer  # imported before measuring: workers have it already
from enrich.text import SUMY_LANGUAGES, stemmer_for
way, code, words = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
process = psutil.Process()
rss, cpu = process.memory_info().rss, time.process_time()
stem = Stemmer(SUMY_LANGUAGES[code]) if way == "sumy" else stemmer_for(code)
stem(words[0])  # sumy's Polish wrapper loads its table on the first word
load_cpu, load_rss = time.process_time() - cpu, process.memory_info().rss - rss
cpu = time.process_time()
for word in words:
    stem(word)
print(json.dumps({"load_cpu": load_cpu, "load_mib": load_rss / 2**20,
                  "us_per_word": (time.process_time() - cpu) / len(words) * 1e6}))
"""


def words_for(language: str) -> list[str]:
    path = LANGID / f"{language}.txt"
    text = path.read_text(encoding="utf-8") if path.exists() else FALLBACK_WORDS[language]
    return limited([w.lower() for w in text.split() if w.isalpha()])


def measure(way: str, language: str, words: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, way, language], input=json.dumps(words), text=True,
                          capture_output=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = []
    for language, name in (("el", "greek"), ("pl", "polish"), ("en", "english")):
        words = words_for(language)
        for way, label in (("sumy", "sumy's own"), ("ours", "enrich.text")):
            figures = measure(way, language, words)
            rows.append((f"{name}, {label}", f"{figures['load_cpu']:.2f}", f"{figures['load_mib']:.0f}",
                         f"{figures['us_per_word']:.1f}", f"{len(words)}"))
    print_table(("stemmer", "load CPU s", "load MiB", "us/word", "words"), rows)


if __name__ == "__main__":
    main()
