"""CLIP's byte-level BPE tokenizer, in plain Python and numpy (no torch).

A one-shot query must not pay for ``import torch`` (seconds) just to turn words into token ids,
so this reads the same merges file open_clip ships (``bpe_simple_vocab_16e6.txt.gz``) and gives
the same ids as open_clip's ``SimpleTokenizer`` with its default ``lower`` cleaning: text fixed
by ftfy, HTML entities undone, whitespace collapsed, lower-cased, split into words, each word's
UTF-8 bytes spelled in printable stand-in characters and merged pair by pair in the order the
merges file ranks them. The export step checks the two tokenizers agree before this one is used.
"""

import contextlib
import functools
import gzip
import html
import itertools
import marshal
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

START, END = "<start_of_text>", "<end_of_text>"
WORD_END = "</w>"
MERGE_COUNT = 49152 - 256 - 2  # the merges CLIP was trained with (the file holds more)
VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
_WORD_PATTERN = (
    r"<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
)


def _byte_symbols() -> list[tuple[int, str]]:
    """Each byte with the printable character that stands for it, in vocabulary order.

    Printable Latin-1 bytes stand for themselves and come first; the other bytes (controls,
    space, soft hyphen) follow in byte order, spelled with the characters from U+0100 on, so
    no symbol is whitespace or a control character.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    shown = set(printable)
    others = [b for b in range(256) if b not in shown]
    return [(b, chr(b)) for b in printable] + [(b, chr(256 + n)) for n, b in enumerate(others)]


def _ranks(vocab_file: Path) -> dict[str, int]:
    """Merge → rank, from a copy kept beside the merges file when there is one for this very
    file: building it from the gzip takes 40 ms of a one-shot query's 0.35 s, reading the copy
    7 ms. The copy is written where the folder allows (the query pack's, in the data folder)."""
    stat = vocab_file.stat()
    stamp = (stat.st_size, stat.st_mtime_ns)
    kept = vocab_file.with_name(vocab_file.name + ".ranks")
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        saved_stamp, ranks = marshal.loads(kept.read_bytes())
        if tuple(saved_stamp) == stamp and isinstance(ranks, dict) and len(ranks) == MERGE_COUNT:
            return ranks
    lines = gzip.decompress(vocab_file.read_bytes()).decode("utf-8").split("\n")
    ranks = dict(zip(lines[1 : MERGE_COUNT + 1], range(MERGE_COUNT), strict=True))
    with contextlib.suppress(OSError):
        part = kept.with_name(f"{kept.name}.{os.getpid()}.part")
        part.write_bytes(marshal.dumps((stamp, ranks)))
        os.replace(part, kept)
    return ranks


def default_vocab_file() -> Path:
    """open_clip's merges file, found without importing open_clip (which imports torch)."""
    import importlib.util

    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("open_clip is not installed: no CLIP vocabulary")
    return Path(next(iter(spec.submodule_search_locations))) / VOCAB_FILE


class ClipTokenizer:
    """Words in, a (n, context_length) int64 array of token ids out, padded with zeros.

    Token ids follow from the merges file without a vocabulary table: the 256 byte symbols,
    then the same with the end-of-word mark, then one id per merge in rank order (every merge
    makes a distinct symbol), then the start and end markers. So loading reads the ranks only,
    which keeps a one-shot query's start short.
    """

    def __init__(self, vocab_file: Path, context_length: int = 77) -> None:
        import regex

        self._ranks = _ranks(vocab_file)
        symbols = _byte_symbols()
        self._byte_symbol = {b: s for b, s in symbols}
        self._symbol_id = {s: i for i, (_, s) in enumerate(symbols)}
        self._symbol_id.update({s + WORD_END: 256 + i for i, (_, s) in enumerate(symbols)})
        self.start_id = 512 + MERGE_COUNT
        self.end_id = self.start_id + 1
        self._pattern = regex.compile(_WORD_PATTERN, regex.IGNORECASE)
        self.context_length = context_length
        self._merged = functools.lru_cache(maxsize=4096)(self._merge)

    @staticmethod
    def clean(text: str) -> str:
        # ftfy changes nothing in printable ASCII without entities; skipping its import there
        # saves a one-shot query about 40 ms.
        if not (text.isascii() and text.isprintable() and "&" not in text):
            import ftfy

            text = ftfy.fix_text(text)
        text = html.unescape(html.unescape(text)).strip()
        return " ".join(text.split()).lower()

    def _merge(self, word: str) -> tuple[int, ...]:
        """The ids of the word's symbols after every merge that applies, best-ranked first."""
        if word == START:
            return (self.start_id,)
        if word == END:
            return (self.end_id,)
        parts = [*word[:-1], word[-1] + WORD_END]
        ids = [self._symbol_id[p] for p in parts]
        ranks = self._ranks
        while len(parts) > 1:
            best, first, second = min(
                (ranks.get(f"{a} {b}", MERGE_COUNT), a, b) for a, b in itertools.pairwise(parts)
            )
            if best == MERGE_COUNT:
                break
            merged: list[str] = []
            merged_ids: list[int] = []
            i = 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == first and parts[i + 1] == second:
                    merged.append(first + second)
                    merged_ids.append(512 + best)
                    i += 2
                else:
                    merged.append(parts[i])
                    merged_ids.append(ids[i])
                    i += 1
            parts, ids = merged, merged_ids
        return tuple(ids)

    def encode(self, text: str) -> list[int]:
        """The token ids of ``text``, without the start and end markers."""
        ids: list[int] = []
        for word in self._pattern.findall(self.clean(text)):
            ids.extend(self._merged("".join(self._byte_symbol[b] for b in word.encode("utf-8"))))
        return ids

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.start_id, *self.encode(text), self.end_id]
            if len(ids) > self.context_length:  # too long: cut, and end with the end marker
                ids = ids[: self.context_length]
                ids[-1] = self.end_id
            out[row, : len(ids)] = ids
        return out
