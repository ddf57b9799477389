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
import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PACKAGE = "wordllama"
WEIGHTS = ("weights", "l2_supercat_256.safetensors")
TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")


class Vectors:
    """Texts to unit vectors: the mean of their tokens' vectors, normalised (WordLlama's own pooling)."""

    def __init__(self, tokenizer: object, table: np.ndarray) -> None:
        self._tokenizer = tokenizer
        self._table = table
        # without offsets where the tokenizers release has that (0.20 on): a fifth quicker on a large fact base
        self._encode = getattr(tokenizer, "encode_batch_fast", None) or tokenizer.encode_batch  # type: ignore[attr-defined]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text (a zero row for a text with no token)."""
        rows = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        table, last = self._table, len(self._table) - 1
        add = np.add.reduce  # the sum, normalised below, is the mean normalised, without numpy's mean wrapper
        clean = [text.encode("utf-8", "replace").decode("utf-8") for text in texts]  # a lone surrogate is no text
        for row, encoding in enumerate(self._encode(clean, add_special_tokens=False)):
            if ids := encoding.ids:  # one small gather per text: far quicker than one for all texts' tokens at once
                rows[row] = add(table[np.minimum(ids, last)], axis=0)
        lengths = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(lengths > 0, lengths, 1.0)

    @property
    def dimensions(self) -> int:
        """Length of each vector."""
        return int(self._table.shape[1])


@functools.lru_cache(maxsize=1)
def load() -> Vectors | None:
    """The shipped word vectors, loaded once; None when they cannot be loaded.

    The files are read from the installed package without importing it: its import brings in
    training and clustering code that answering never needs, and would slow `factbot ask`.
    """
    try:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(PACKAGE)
        folder = Path(next(iter(spec.submodule_search_locations)))
        tokenizer = Tokenizer.from_file(str(folder.joinpath(*TOKENIZER)))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        table = load_file(str(folder.joinpath(*WEIGHTS)))["embedding.weight"].astype(np.float32)
        return Vectors(tokenizer, table)
    except Exception as exc:  # an optional signal: matching goes on by words alone
        log.warning("word vectors unavailable, matching by words alone: %s", type(exc).__name__)
        return None
