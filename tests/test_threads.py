"""Stages run in threads (Prefect's thread pool, Dask's threaded workers): same answers as one thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_language_detection_is_right_when_threads_race_through_the_first_call():
    # A fresh interpreter: langdetect's profiles must not be loaded by an earlier test.
    probe = textwrap.dedent("""
        from collections import Counter
        from concurrent.futures import ThreadPoolExecutor
        from enrich.language import detect_language
        texts = [f"The harbour pilots guided {i} ships through the winter storms, the report said." for i in range(64)]
        with ThreadPoolExecutor(8) as pool:
            print(dict(Counter(g.code for g in pool.map(detect_language, texts))))
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "{'en': 64}", result.stderr
