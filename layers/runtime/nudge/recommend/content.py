"""Content vectors from product text: hashed, IDF-weighted bags of words, numpy only.

Every token maps to a fixed pseudo-random vector of `CONTENT_DIMS` signs taken from its BLAKE2b
digest (a random projection of the one-hot token that needs no stored matrix), so the same text
gives the same vector on a laptop and in Lambda, and a product that arrived after training still
gets a vector. Used for cold items (new arrivals) and by the hybrid model.

>>> v = content_vectors(["Blue mug", "Red mug"], idf={})
>>> v.shape, float(round((v[0] @ v[1]), 2)) > 0
((2, 64), True)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

import numpy as np

CONTENT_DIMS = 64  # dims of one content vector (float32): 256 bytes per item
_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an and the of for in on with to by from at or is it this that".split())
_CACHE: dict[str, np.ndarray] = {}


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens, stop words and single characters dropped; '_' splits words."""
    return [t for t in _TOKEN.findall(text.lower().replace("_", " ")) if len(t) > 1 and t not in _STOP]


def product_text(name: str, description: str, category: str) -> list[str]:
    """The tokens of one product; the category counts as a token of its own (`cat:<name>`) too."""
    return tokenize(name) + tokenize(description) + [f"cat:{category.lower()}"] + tokenize(category)


def _token_vector(token: str) -> np.ndarray:
    vec = _CACHE.get(token)
    if vec is None:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=CONTENT_DIMS // 8).digest()
        bits = np.unpackbits(np.frombuffer(digest, dtype=np.uint8))  # (CONTENT_DIMS,) of 0/1
        vec = (bits.astype(np.float32) * 2.0 - 1.0) / np.sqrt(CONTENT_DIMS)
        if len(_CACHE) < 200_000:  # bounded: a catalog's vocabulary, not every token ever seen
            _CACHE[token] = vec
    return vec


def content_vectors(
    texts: Iterable[str | list[str]], *, idf: Mapping[str, float], default_idf: float | None = None
) -> np.ndarray:
    """L2-normalised float32 vectors, one per text (a string or a token list); shape (n, CONTENT_DIMS).

    `idf` weighs tokens (from the training catalog); unknown tokens get `default_idf` (default: the
    largest idf, as a token never seen in training is rare by definition, or 1.0 when idf is empty).
    """
    if default_idf is None:
        default_idf = max(idf.values(), default=1.0)
    rows = []
    for text in texts:
        tokens = tokenize(text) if isinstance(text, str) else text
        vec = np.zeros(CONTENT_DIMS, dtype=np.float32)
        for token in set(tokens):
            vec += float(idf.get(token, default_idf)) * _token_vector(token)
        norm = float(np.linalg.norm(vec))
        rows.append(vec / norm if norm > 0 else vec)
    if not rows:
        return np.zeros((0, CONTENT_DIMS), dtype=np.float32)
    return np.stack(rows).astype(np.float32, copy=False)


def fit_idf(documents: Iterable[list[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency, log((1 + n) / (1 + df)) + 1, per token."""
    df: dict[str, int] = {}
    n = 0
    for tokens in documents:
        n += 1
        for token in set(tokens):
            df[token] = df.get(token, 0) + 1
    return {t: float(np.log((1 + n) / (1 + c)) + 1.0) for t, c in df.items()}
