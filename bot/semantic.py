"""Meaning beyond shared words: static word vectors that rank "payday" near "when do I get paid".

The vectors are WordLlama's (`l2_supercat`, 256 dimensions, 16 MB), shipped inside its wheel, so
nothing is downloaded at run time. A text's vector is the normalised mean of its tokens' vectors;
an intent's is the normalised mean of its examples' and answers' vectors. Matching a question costs
one tokenisation and one small matrix product.

They only rank: what decides whether to answer is the lexical evidence (see `bot.matcher`), since
vectors tell a near-topic question from an answerable one no better than chance. Where the package
or its files are missing, `load()` returns None and matching is lexical alone.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from importlib import resources

import numpy as np

log = logging.getLogger(__name__)

WEIGHTS = ("weights", "l2_supercat_256.safetensors")
TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")


class Vectors:
    """Texts to unit vectors."""

    def __init__(self, model: object) -> None:
        self._model = model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text (a zero row for a text with no known token)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        rows = np.asarray(self._model.embed(list(texts)), dtype=np.float32)  # type: ignore[attr-defined]
        lengths = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(lengths > 0, lengths, 1.0)

    @property
    def dimensions(self) -> int:
        """Length of each vector."""
        return int(self._model.embedding.shape[1])  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=1)
def load() -> Vectors | None:
    """The shipped word vectors, loaded once; None when they cannot be loaded."""
    try:
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama import WordLlamaInference

        package = resources.files("wordllama")
        tokenizer = Tokenizer.from_file(str(package.joinpath(*TOKENIZER)))
        with safe_open(str(package.joinpath(*WEIGHTS)), framework="np") as weights:
            embedding = weights.get_tensor("embedding.weight")
        return Vectors(WordLlamaInference(embedding, tokenizer))
    except Exception as exc:  # an optional signal: matching goes on by words alone
        log.warning("word vectors unavailable, matching by words alone: %s", type(exc).__name__)
        return None
