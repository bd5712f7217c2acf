"""Related articles: hashed TF-IDF vectors over stemmed content words, ranked incrementally.

1. ``article_vector`` turns one article into an l2-normalised sparse vector of hashed, stemmed
   content words (log term frequency; the title counts twice). It is what the store keeps, one
   BLOB per article (``SparseVector.to_bytes``), so a run never re-tokenises the pool.
2. ``RelatedIndex`` holds the pool (the articles of the window the caller loaded) with their
   current related lists. ``add`` scores only the new articles against the pool (new x pool,
   never all pairs), weighting both sides by the pool's IDF, and returns the top-k lists of the
   new articles and of the existing ones whose top-k changed because of them.

Words, stop words and stemmers are ``enrich.text``'s (sumy's lists, imported when a vector is
first made: the flow's process only links stored vectors).
"""

from __future__ import annotations

import struct
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from scipy import sparse

from enrich.text import is_unspaced, stemmer_for, stop_words_for, words, words_of

# --- tokenisation ---------------------------------------------------------------------------

# Shorter tokens are mostly initials and unit letters; they carry no topic.
MIN_WORD_CHARS = 2


# Snowball stemming is pure Python (~10 us a word); word frequencies are Zipfian, so remembering
# each word's verdict (its stem, or None when it is no content word) turns almost every token
# after the first articles into one dictionary lookup.
MAX_KNOWN_WORDS = 200_000  # per language; then the memory starts afresh
_UNSEEN = object()


@lru_cache(maxsize=64)
def _verdicts(language: str) -> dict[str, str | None]:
    """Word -> stem, or None for a stop word, a number or a 1-letter token; filled as words come."""
    return {}


def _verdict(word: str, language: str) -> str | None:
    if len(word) < MIN_WORD_CHARS or word in stop_words_for(language) or word.isdigit() or "_" in word:
        return None
    if word[0].isdigit():  # 2026, 3d, 41st: numbers and measures, not content
        return None
    stemmer = stemmer_for(language)
    return stemmer(word) if stemmer is not None else word


def content_words(text: str, language: str) -> list[str]:
    """Stemmed, lower-cased content words of ``text``: no stop words, no numbers, no 1-letter tokens.

    Scripts without spaces (Chinese, Japanese) give overlapping character bigrams instead
    (``enrich.text.words_of``, as the summariser reads them).
    """
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).lower()
    if is_unspaced(text):
        return [w for w in words_of(text) if not w.isdigit()]
    verdicts = _verdicts(language)
    out = []
    for word in words(text):
        stem = verdicts.get(word, _UNSEEN)
        if stem is _UNSEEN:
            if len(verdicts) >= MAX_KNOWN_WORDS:
                verdicts.clear()
            stem = verdicts[word] = _verdict(word, language)
        if stem is not None:
            out.append(stem)
    return out


# --- vectors --------------------------------------------------------------------------------

# 2^20 buckets: with a few hundred distinct words an article, collisions are negligible and the
# index arrays stay int32.
HASH_BITS = 20
TITLE_WEIGHT = 2  # a title word counts as this many occurrences in the text
_MAGIC = b"RV1\x00"


def feature_index(term: str) -> int:
    """Stable bucket of a term (crc32, the same in every process and Python version)."""
    return zlib.crc32(term.encode("utf-8")) & ((1 << HASH_BITS) - 1)


@dataclass(frozen=True, eq=False)
class SparseVector:
    """An l2-normalised sparse vector: sorted unique ``indices`` (int32) and ``values`` (float32)."""

    indices: np.ndarray
    values: np.ndarray

    def __post_init__(self) -> None:
        indices = np.ascontiguousarray(self.indices, dtype=np.int32)
        values = np.ascontiguousarray(self.values, dtype=np.float32)
        if indices.shape != values.shape or indices.ndim != 1:
            raise ValueError("indices and values must be 1-d arrays of the same length")
        indices.setflags(write=False)
        values.setflags(write=False)
        object.__setattr__(self, "indices", indices)
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return int(self.indices.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SparseVector):
            return NotImplemented
        return np.array_equal(self.indices, other.indices) and np.array_equal(self.values, other.values)

    def __hash__(self) -> int:
        return hash((self.indices.tobytes(), self.values.tobytes()))

    def to_bytes(self) -> bytes:
        """``RV1\\0``, the entry count (uint32), then int32 indices and float32 values, little-endian."""
        return (
            _MAGIC
            + struct.pack("<I", self.indices.size)
            + self.indices.astype("<i4").tobytes()
            + self.values.astype("<f4").tobytes()
        )

    @classmethod
    def from_bytes(cls, blob: bytes) -> SparseVector:
        if blob[:4] != _MAGIC or len(blob) < 8:
            raise ValueError("not a SparseVector blob")
        (n,) = struct.unpack_from("<I", blob, 4)
        if len(blob) != 8 + 8 * n:
            raise ValueError(f"SparseVector blob of {len(blob)} bytes cannot hold {n} entries")
        indices = np.frombuffer(blob, dtype="<i4", count=n, offset=8)
        values = np.frombuffer(blob, dtype="<f4", count=n, offset=8 + 4 * n)
        return cls(indices.astype(np.int32), values.astype(np.float32))

    @classmethod
    def empty(cls) -> SparseVector:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.float32))


def vector_from_terms(terms: Iterable[str]) -> SparseVector:
    """Hash ``terms``, weight each bucket by 1 + log(count), and l2-normalise."""
    counts = Counter(feature_index(t) for t in terms)
    if not counts:
        return SparseVector.empty()
    indices = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
    values = 1.0 + np.log(np.array([counts[i] for i in indices.tolist()], dtype=np.float64))
    values /= np.linalg.norm(values)
    return SparseVector(indices, values.astype(np.float32))


def article_vector(text: str, title: str | None, language: str) -> SparseVector:
    """The article's similarity vector: stemmed content words of title and text, hashed, normalised."""
    terms = content_words(text, language)
    if title:
        terms.extend(content_words(title, language) * TITLE_WEIGHT)
    return vector_from_terms(terms)


# --- the incremental index ----------------------------------------------------------------

# Below this cosine (IDF-weighted) two articles are not about the same thing. Measured by
# bench/related.py --quality on the 181 pages of ../shared's extraction benchmark with hand-made
# groups of same-story pages, on the tuned two thirds: at 0.10, 23% of the links joined two pages
# of one story and one page sat in 28 lists; at 0.30, 82% (recall 70%, F1 0.755) and at most 3
# lists, the lowest score within 0.01 of the best F1 (0.763 at 0.35). Held-back third at 0.30:
# 79% precision, 70% recall. (On bbc60, different-topic pairs score at most 0.138.)
MIN_RELATED_SCORE = 0.30
TOP_K = 5
WINDOW_DAYS = 30
NEWCOMER_BLOCK = 2_000_000  # new x existing scores held at once when finding each list's best newcomers


@dataclass(frozen=True, slots=True)
class RelatedOptions:
    top_k: int = TOP_K
    window_days: float = WINDOW_DAYS  # two articles qualify when published at most this far apart
    min_score: float = MIN_RELATED_SCORE
    # Weight terms by the pool's IDF. Off, scores are plain cosines of the stored vectors and never
    # drift between runs (the tests use this to check incremental == full recomputation).
    use_idf: bool = True


@dataclass(frozen=True, slots=True)
class RelatedRow:
    """One article as the index needs it; ``published_at`` should be coalesce(published, first seen)."""

    url: str
    language: str
    published_at: datetime
    vector: SparseVector | bytes  # or as stored (``SparseVector.to_bytes``): a pool's are read in one pass


Ranked = list[tuple[str, float]]
StoredLists = Callable[[Sequence[str]], Mapping[str, Sequence[tuple[str, float]]]]


class RelatedIndex:
    """Top-k related articles over a pool, updated incrementally as articles arrive.

    ``rows`` are the pool's articles (for a batch of new articles: those published from
    ``window_start(oldest new)`` on, as stored); ``related`` are their current lists as stored,
    so that ``add`` only has to merge: a mapping, or a function that reads the lists of the URLs
    it is given (``Store.related_lists``), which ``add`` calls only for the rows a new article
    may enter. Pairs in ``exclude`` (duplicates of one story) never relate.

    Two articles can relate when published at most ``window_days`` apart. Scores are cosines of
    IDF-weighted vectors; the IDF comes from the pool plus the new rows at each ``add``, so stored
    scores drift slightly between runs as the pool changes. Lists are merged, not recomputed:
    ``add`` costs new x pool. A stored list may name articles outside the loaded pool (older than
    its start); they are kept and, their language being unknown here, count as the article's own.
    """

    def __init__(
        self,
        rows: Iterable[RelatedRow] = (),
        *,
        related: Mapping[str, Sequence[tuple[str, float]]] | StoredLists | None = None,
        exclude: Iterable[tuple[str, str]] = (),
        options: RelatedOptions | None = None,
    ) -> None:
        self.options = options or RelatedOptions()
        self._urls: list[str] = []
        self._lang = np.zeros(0, dtype=np.int32)  # language codes, see _code
        self._codes: dict[str, int] = {}
        self._times = np.zeros(0, dtype=np.float64)  # POSIX seconds
        self._alive = np.zeros(0, dtype=bool)
        self._alive_count = 0
        self._position: dict[str, int] = {}
        self._lists: dict[str, tuple[tuple[str, float], ...]] = {}
        self._excluded: dict[str, set[str]] = {}
        self._matrix: sparse.csr_matrix | None = None  # raw rows, one per position
        self._df = np.zeros(1 << HASH_BITS, dtype=np.int32)
        # What a newcomer must score to enter a row's list, by same / other language (see _set_list).
        self._beat_same = np.zeros(0, dtype=np.float32)
        self._beat_other = np.zeros(0, dtype=np.float32)
        for a, b in exclude:
            self._exclude(a, b)
        self._append(list({row.url: row for row in rows}.values()))  # the last of a repeated URL wins
        # Stored lists are read when a new article may enter them: until then a row's thresholds
        # are the floor, so every newcomer that could enter is merged with the list as stored.
        # Reading all of a 16,400-article window's lists cost 0.25 s of a run into a large store.
        self._stored_lists: StoredLists = related if callable(related) else lambda urls: related or {}
        self._unread: set[int] = set(range(len(self._urls)))
        if not callable(related):
            self._read_lists(range(len(self._urls)))

    # -- public ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._alive_count

    def related(self, url: str) -> Ranked:
        """The current list of ``url``, best first."""
        if url in self._position:
            self._read_lists([self._position[url]])
        return list(self._lists.get(url, ()))

    def add(self, rows: Iterable[RelatedRow], *, exclude: Iterable[tuple[str, str]] = ()) -> dict[str, Ranked]:
        """Add ``rows``; return the lists of the new rows and of existing rows whose list changed."""
        rows = list({row.url: row for row in rows}.values())  # the last of a repeated URL wins
        for a, b in exclude:
            self._exclude(a, b)
        if not rows:
            return {}
        replaced = [row.url for row in rows if row.url in self._position]
        new_positions = self._append(rows)
        new_urls = {row.url for row in rows}
        changed: dict[str, Ranked] = {}

        # 1. Score the new rows against the whole pool, themselves included: new x pool only.
        weighted = self._weighted_matrix()
        scores = self._scores(weighted, new_positions)

        # 2. Lists of the new rows: own language first, other languages only as a fallback.
        for row_scores, pos in zip(scores, new_positions):
            ranked = self._rank(pos, row_scores)
            self._set_list(self._urls[pos], ranked)
            changed[self._urls[pos]] = ranked

        # 3. Existing rows whose top-k a new row enters: a vectorised threshold test, then a merge.
        candidates = self._newcomers(scores, new_positions)
        self._read_lists(candidates)
        for e, newcomers in candidates.items():
            url = self._urls[e]
            merged = self._merge(e, newcomers)
            if tuple(merged) != self._lists.get(url, ()):
                self._set_list(url, merged)
                changed[url] = merged

        # 4. A re-enriched row (same URL, new text) may no longer belong in lists that cite it:
        #    recompute those few lists in full.
        if replaced:
            self._read_lists(range(len(self._urls)))  # who cites them is only known from every list
            stale = {c for url in replaced for c in self._citers(url)} - new_urls
            for url in stale:
                pos = self._position[url]
                ranked = self._rank(pos, self._scores(weighted, [pos])[0])
                if tuple(ranked) != self._lists.get(url, ()):
                    self._set_list(url, ranked)
                    changed[url] = ranked
        return changed

    # -- internals ---------------------------------------------------------------------------

    def _newcomers(self, scores: np.ndarray, new_positions: list[int]) -> dict[int, list[tuple[str, float]]]:
        """Existing row -> the new rows that score at least its threshold: its k best of them, and
        any within rounding of the k-th (the merge's tie-break by URL may still prefer those).

        When every stored list in the window takes a new article (bench/large_store.py
        --similar-percent 100: 100 new x 16,400 stored), a Python pair per entry made 1.6 million
        tuples; only a row's k best newcomers can enter its list. The k-th best is found a block
        of existing rows at a time, so memory stays bounded however many articles are new."""
        k, first_new = self.options.top_k, new_positions[0]  # the new rows come last; step 2 listed them
        languages, of_row = np.unique(self._lang[new_positions], return_inverse=True)
        # What a newcomer of each language must score to enter each existing row's list.
        thresholds = np.where(self._lang[None, :first_new] == languages[:, None],
                              self._beat_same[None, :first_new], self._beat_other[None, :first_new])
        candidates: dict[int, list[tuple[str, float]]] = {}
        block = max(1, NEWCOMER_BLOCK // len(new_positions))
        for start in range(0, first_new, block):
            end = min(start + block, first_new)
            part = scores[:, start:end]
            entering = np.where(part >= thresholds[of_row, start:end], part, -np.inf)
            if len(new_positions) > k:
                kth = -np.partition(-entering, k - 1, axis=0)[k - 1]  # -inf when fewer than k enter
                keep = np.isfinite(entering) & (entering >= kth - 1e-6)
            else:
                keep = np.isfinite(entering)
            rows, cols = np.nonzero(keep)
            for i, e, score in zip(rows.tolist(), (cols + start).tolist(), part[rows, cols].tolist()):
                candidates.setdefault(e, []).append((self._urls[new_positions[i]], score))
        return candidates

    def _read_lists(self, positions: Iterable[int]) -> None:
        """Take the stored lists of these rows, those not read yet, in one call."""
        unread = [p for p in positions if p in self._unread]
        if not unread:
            return
        self._unread.difference_update(unread)
        stored = self._stored_lists([self._urls[p] for p in unread])
        for p in unread:
            ranked = stored.get(self._urls[p])
            if ranked and self._alive[p]:
                # A list stored under a lower floor loses its weak links the first time it is merged.
                self._set_list(self._urls[p], [(u, float(s)) for u, s in ranked if float(s) >= self.options.min_score])

    def _code(self, language: str) -> int:
        return self._codes.setdefault(language, len(self._codes))

    def _exclude(self, a: str, b: str) -> None:
        if a != b:
            self._excluded.setdefault(a, set()).add(b)
            self._excluded.setdefault(b, set()).add(a)

    def _append(self, rows: list[RelatedRow]) -> list[int]:
        """Append rows of distinct URLs in one block; a URL already here replaces its old row."""
        if not rows:
            return []
        replaced = [self._position[row.url] for row in rows if row.url in self._position]
        m = self._matrix
        for old in replaced:  # a re-enriched article: its old row leaves the pool and its counts
            self._alive[old] = False
            self._df[m.indices[m.indptr[old] : m.indptr[old + 1]]] -= 1
        self._alive_count -= len(replaced)
        start = len(self._urls)
        positions = list(range(start, start + len(rows)))
        self._position.update((row.url, pos) for row, pos in zip(rows, positions))
        self._urls.extend(row.url for row in rows)
        self._lang = np.concatenate([self._lang, np.fromiter((self._code(row.language) for row in rows), np.int32)])
        self._times = np.concatenate([self._times, np.fromiter((row.published_at.timestamp() for row in rows), float)])
        self._alive = np.concatenate([self._alive, np.ones(len(rows), dtype=bool)])
        self._alive_count += len(rows)
        block = _csr([row.vector for row in rows])
        self._df += np.bincount(block.indices, minlength=1 << HASH_BITS).astype(np.int32)  # a row's terms are unique
        self._matrix = block if m is None else sparse.vstack([m, block], format="csr")
        floor = np.full(len(rows), self.options.min_score, dtype=np.float32)
        self._beat_same = np.concatenate([self._beat_same, floor])
        self._beat_other = np.concatenate([self._beat_other, floor])
        self._beat_same[replaced] = self._beat_other[replaced] = np.inf  # dead rows take nothing
        return positions

    def _weighted_matrix(self) -> sparse.csr_matrix:
        """All rows weighted by the current smoothed IDF and re-normalised: O(nnz), no pairs."""
        m = self._matrix
        if not self.options.use_idf:
            return m
        n = max(len(self), 1)
        idf = (np.log((1.0 + n) / (1.0 + np.maximum(self._df, 0))) + 1.0).astype(np.float32)
        data = m.data * idf[m.indices]
        row_nnz = np.diff(m.indptr)
        sq = np.zeros(m.shape[0], dtype=np.float64)
        nonempty = row_nnz > 0
        if nonempty.any():
            sq[nonempty] = np.add.reduceat(data.astype(np.float64) ** 2, m.indptr[:-1][nonempty])
        norms = np.sqrt(sq)
        norms[norms == 0] = 1.0
        data = data / np.repeat(norms, row_nnz).astype(np.float32)
        return sparse.csr_matrix((data, m.indices, m.indptr), shape=m.shape)

    def _scores(self, weighted: sparse.csr_matrix, positions: list[int]) -> np.ndarray:
        """Cosines of ``positions`` against every row (len(positions) x pool), -1 where a pair can't relate."""
        # pool (N x D, CSR) @ block^T (D x m): one pass over the pool's non-zeros.
        block = weighted[positions]
        scores = np.asarray((weighted @ block.T).T.todense(), dtype=np.float32)
        dead, times = ~self._alive, self._times
        window = self.options.window_days * 86400.0
        for i, pos in enumerate(positions):
            row = scores[i]
            row[dead] = -1.0
            row[np.abs(times - times[pos]) > window] = -1.0
            row[pos] = -1.0
            for other in self._excluded.get(self._urls[pos], ()):
                p = self._position.get(other)
                if p is not None:
                    row[p] = -1.0
        return scores

    def _rank(self, pos: int, row: np.ndarray) -> Ranked:
        qualifies = np.flatnonzero(row >= self.options.min_score)
        if qualifies.size == 0:
            return []
        same = qualifies[self._lang[qualifies] == self._lang[pos]]
        pick = same if same.size else qualifies  # other languages only when none of its own
        k = self.options.top_k
        if pick.size > 4 * k:  # keep a margin for ties at the cut
            pick = pick[np.argpartition(-row[pick], 4 * k)[: 4 * k]]
        # Best score first, ties by URL: the same order _merge gives, so lists never depend on
        # whether they were computed at once or merged over several runs.
        ranked = sorted(((round(float(row[q]), 6), self._urls[q]) for q in pick.tolist()), key=lambda su: (-su[0], su[1]))
        return [(url, score) for score, url in ranked[:k]]

    def _same_language(self, e: int, url: str) -> bool:
        p = self._position.get(url)
        return p is None or self._lang[p] == self._lang[e]  # outside the pool: assume its own

    def _merge(self, e: int, newcomers: list[tuple[str, float]]) -> Ranked:
        excluded = self._excluded.get(self._urls[e], set())
        entries = {u: s for u, s in self._lists.get(self._urls[e], ()) if u not in excluded}
        entries.update(newcomers)
        same = {u: s for u, s in entries.items() if self._same_language(e, u)}
        ranked = sorted(((u, round(float(s), 6)) for u, s in (same or entries).items()), key=lambda us: (-us[1], us[0]))
        return ranked[: self.options.top_k]

    def _citers(self, url: str) -> set[str]:
        return {citer for citer, ranked in self._lists.items() if any(u == url for u, _ in ranked)}

    def _set_list(self, url: str, ranked: Ranked) -> None:
        """Store a list and the thresholds a newcomer must now beat to enter it."""
        self._lists[url] = tuple(ranked)
        e = self._position[url]
        floor, k = self.options.min_score, self.options.top_k
        kth = max(ranked[-1][1], floor) if len(ranked) >= k else floor
        if any(self._same_language(e, u) for u, _ in ranked):
            self._beat_same[e], self._beat_other[e] = kth, np.inf  # never falls back once it has its own
        else:  # empty, or a fallback list: any own-language candidate above the floor replaces it
            self._beat_same[e], self._beat_other[e] = floor, kth


def _csr(vectors: Sequence[SparseVector | bytes]) -> sparse.csr_matrix:
    """One CSR row a vector. Stored vectors are read in one pass over their joined bytes: a window
    of 16,400 parsed one by one (``SparseVector.from_bytes``) cost 0.13 s of CPU, most of linking a
    run into a large store (bench/large_store.py). A malformed stored vector reads as empty: that
    article gets no related list, and the run goes on."""
    blobs = [v.to_bytes() if isinstance(v, SparseVector) else v if _is_vector_blob(v) else _EMPTY for v in vectors]
    counts = np.fromiter(((len(b) - 8) // 8 for b in blobs), dtype=np.int64, count=len(blobs))
    indptr = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    # Every blob is 8 + 8n bytes, so the joined bytes are whole 4-byte words: a blob's header at
    # its first word, its n indices from the third, then its n values.
    words = np.frombuffer(b"".join(blobs), dtype="<u4")
    starts = np.zeros(len(blobs), dtype=np.int64)
    np.cumsum(2 + 2 * counts[:-1], out=starts[1:])
    at = np.repeat(starts + 2 - indptr[:-1], counts) + np.arange(indptr[-1])
    indices = words[at].view("<i4").astype(np.int32)
    data = words[at + np.repeat(counts, counts)].view("<f4").astype(np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(blobs), 1 << HASH_BITS))


_EMPTY = SparseVector.empty().to_bytes()


def _is_vector_blob(blob: bytes) -> bool:
    return len(blob) >= 8 and blob[:4] == _MAGIC and len(blob) == 8 + 8 * int.from_bytes(blob[4:8], "little")


def window_start(oldest_new: datetime, window_days: float = WINDOW_DAYS) -> datetime:
    """How far back the pool must reach for a batch whose oldest article was published ``oldest_new``.

    A window reaching before year 1 (a date the feed boundary should have refused, or a huge
    window) starts at the earliest datetime: the pool is then everything, never an OverflowError.
    """
    try:
        return oldest_new - timedelta(days=window_days)
    except OverflowError:
        return datetime.min.replace(tzinfo=oldest_new.tzinfo)


__all__ = [
    "MIN_RELATED_SCORE",
    "TOP_K",
    "WINDOW_DAYS",
    "RelatedIndex",
    "RelatedOptions",
    "RelatedRow",
    "SparseVector",
    "article_vector",
    "content_words",
    "vector_from_terms",
    "window_start",
]
