"""sumy's LexRank and TextRank with their pure-Python pair loops replaced by sparse products.

The same matrices and the same picks as sumy's own classes (tests/test_summarize.py checks every
demo and BBC article); 10x faster on demo articles. Apart from enrich/summarize.py, which loads it
on the first article it ranks: sumy's rankers import NLTK's Snowball stemmers, and NLTK's package
imports most of NLTK (3 s of CPU), which a process that never summarises should not pay.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy
import scipy.sparse
from sumy.models.dom import Sentence
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer


def _sparse(values, rows, cols, shape) -> scipy.sparse.csr_matrix:
    """A sparse sentence x term matrix. Sparse products, not dense BLAS: with a busy CPU,
    OpenBLAS's threads turned a 45 x 700 product from 0.07 ms into 40 ms on the 2-core machines."""
    return scipy.sparse.csr_matrix((values, (rows, cols)), shape=shape)


class _CachedStems:
    """Snowball stemming was a third of a summary's time; a word's stem never changes."""

    MAX_CACHED = 100_000

    def stem_word(self, word):
        cache = self.__dict__.setdefault("_stems", {})
        stem = cache.get(word)
        if stem is None:
            if len(cache) >= self.MAX_CACHED:
                cache.clear()
            stem = cache[word] = super().stem_word(word)
        return stem

    def _to_words_set(self, sentence):
        # sumy's, without two method calls a word: normalize_word is str.lower on the str words
        # words_of gives, and a known stem is one dictionary lookup (0.32 -> 0.15 ms an article).
        stop = self._stop_words
        stems = self.__dict__.setdefault("_stems", {})
        out = []
        for word in map(str.lower, sentence.words):
            if word not in stop:
                stem = stems.get(word)
                out.append(stem if stem is not None else self.stem_word(word))
        return out


class FastLexRankSummarizer(_CachedStems, LexRankSummarizer):
    """sumy's LexRank with its O(n²) pure-Python loops replaced by numpy; the same numbers.

    sumy computes the idf-modified cosine of every pair of sentences term by term in Python
    (and each term's document frequency by rescanning every sentence): about 87 ms of an
    article's 115 ms summary. Here the tf-idf vectors are rows of a matrix, so the cosines are
    one matrix product. Thresholding and degree normalisation are sumy's, so the graph, the
    power method and the picks are the same (tests/test_summarize.py checks it on real articles).
    """

    @staticmethod
    def _compute_idf(sentences):
        # sumy: log(n / (1 + number of sentences containing the term)); one pass instead of n.
        document_frequency = Counter(term for sentence in sentences for term in set(sentence))
        count = len(sentences)
        return {term: math.log(count / (1 + df)) for term, df in document_frequency.items()}

    @staticmethod
    def similarities(tf_metrics, idf_metrics) -> numpy.ndarray:
        """idf-modified cosine of every pair of sentences, 0 where a sentence has no weighted term."""
        index = {term: i for i, term in enumerate(idf_metrics)}
        rows, cols, values = [], [], []
        for row, metrics in enumerate(tf_metrics):
            for term, value in metrics.items():
                rows.append(row)
                cols.append(index[term])
                values.append(value * idf_metrics[term])
        weighted = _sparse(values, rows, cols, (len(tf_metrics), len(index)))
        products = (weighted @ weighted.T).toarray()
        norms = numpy.sqrt(numpy.diag(products))
        valid = norms > 0
        cosine = numpy.zeros_like(products)
        cosine[numpy.ix_(valid, valid)] = products[numpy.ix_(valid, valid)] / numpy.outer(norms[valid], norms[valid])
        return cosine

    def _create_matrix(self, sentences, threshold, tf_metrics, idf_metrics):
        matrix = (self.similarities(tf_metrics, idf_metrics) > threshold).astype(float)
        degrees = matrix.sum(axis=1)
        degrees[degrees == 0] = 1
        return matrix / degrees[:, None]

    def rate(self, sentences: Sequence[Sentence]) -> tuple[numpy.ndarray, numpy.ndarray]:
        """LexRank scores of ``sentences`` and their pairwise similarities."""
        words = [self._to_words_set(s) for s in sentences]
        tf_metrics = self._compute_tf(words)
        idf_metrics = self._compute_idf(words)
        similarities = self.similarities(tf_metrics, idf_metrics)
        matrix = (similarities > self.threshold).astype(float)
        degrees = matrix.sum(axis=1)
        degrees[degrees == 0] = 1
        return self.power_method(matrix / degrees[:, None], self.epsilon), similarities


class FastTextRankSummarizer(_CachedStems, TextRankSummarizer):
    """sumy's TextRank with its pairwise edge loop replaced by one matrix product; the same numbers.

    sumy's edge weight of sentences i and j is sum(words_j.count(w) for w in words_i) divided by
    log(len_i) + log(len_j): with C the sentences' word-count matrix, (C Cᵀ)[i, j] over the same norm.
    """

    def _create_matrix(self, document):
        return self.matrix([self._to_words_set(s) for s in document.sentences])

    def matrix(self, sentences_as_words) -> numpy.ndarray:
        count = len(sentences_as_words)
        index: dict[str, int] = {}
        rows, cols = [], []
        for row, words in enumerate(sentences_as_words):
            for word in words:
                rows.append(row)
                cols.append(index.setdefault(word, len(index)))
        counts = _sparse([1.0] * len(rows), rows, cols, (count, len(index)))  # duplicates add up
        shared = (counts @ counts.T).toarray()
        logs = numpy.log(numpy.maximum([len(words) for words in sentences_as_words], 1))
        norm = logs[:, None] + logs[None, :]
        # sumy: rank / norm, or the rank itself when both sentences are one word (norm 0).
        weights = numpy.where(shared > 0, shared / numpy.where(numpy.isclose(norm, 0.0), 1.0, norm), 0.0)
        weights /= weights.sum(axis=1)[:, numpy.newaxis] + self._ZERO_DIVISION_PREVENTION
        return numpy.full((count, count), (1.0 - self.damping) / count) + self.damping * weights

    def rate(self, sentences: Sequence[Sentence]) -> numpy.ndarray:
        """TextRank scores of ``sentences``."""
        return self.power_method(self.matrix([self._to_words_set(s) for s in sentences]), self.epsilon)
