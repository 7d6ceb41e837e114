"""A query as a list of weighted terms: words, pictures and indexed files, each for or against.

"beach" + this photo − "people" is three terms. Each term is embedded and L2-normalised, the
terms are summed with their weights (a negative weight pushes results away from the term), and
the sum is normalised again:

    q = normalise(Σᵢ wᵢ · normalise(eᵢ))

so only the *ratio* of the weights matters, and a query of one term is exactly that term's
embedding. The compact syntax borrowed from rclip writes the same query as one string:
``"2:beach + ./ref.jpg - people"`` (terms separated by `` + `` or `` - ``, an optional
``WEIGHT:`` prefix, and a term that names an existing picture file is that picture).
"""

import os
import re
from dataclasses import dataclass, replace
from typing import Literal

from desktop_app.core.errors import KnownError
from desktop_app.core.kinds.image import IMAGE_EXTENSIONS

TermKind = Literal["text", "image", "file"]
_SPLIT = re.compile(r"\s+([+-])\s+")
_WEIGHT = re.compile(r"^(\d+(?:\.\d+)?|\.\d+):(.+)$", re.DOTALL)
MAX_TERMS = 16
# The text models read at most a few hundred tokens; longer words are cut before tokenizing.
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class Term:
    """One part of a query. ``value`` is the words, a picture (a path or its bytes), or the id
    of an indexed file (whose stored vector is used, so nothing is re-embedded)."""

    kind: TermKind
    value: str | bytes | int
    weight: float = 1.0
    at: float | None = None  # an indexed video's moment (seconds): that frame, not the whole

    @property
    def label(self) -> str:
        """How the term reads to a person: the words, or the picture's file name."""
        if isinstance(self.value, bytes):
            return "pasted image"
        if self.kind == "image":
            return os.path.basename(str(self.value)) or str(self.value)
        if self.kind == "file":
            return f"file #{self.value}" + (f" @ {self.at:.0f} s" if self.at is not None else "")
        return str(self.value)

    def with_weight(self, weight: float) -> "Term":
        return replace(self, weight=weight)


def text(words: str, weight: float = 1.0) -> Term:
    return Term("text", words, weight)


def image(source: str | os.PathLike[str] | bytes, weight: float = 1.0) -> Term:
    return Term("image", source if isinstance(source, bytes) else os.fspath(source), weight)


def indexed_file(file_id: int, weight: float = 1.0, at: float | None = None) -> Term:
    """An indexed file's stored vector (the mean of its units), or with ``at`` the unit at
    that moment of a video."""
    return Term("file", file_id, weight, at)


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        if len(self.terms) > MAX_TERMS:
            raise KnownError(f"A query can combine at most {MAX_TERMS} terms.")

    @property
    def effective(self) -> tuple[Term, ...]:
        """The terms that count: non-zero weight, and words that are not just blanks."""
        return tuple(
            t
            for t in self.terms
            if t.weight != 0 and not (t.kind == "text" and not str(t.value).strip())
        )

    @property
    def is_empty(self) -> bool:
        return not any(t.weight > 0 for t in self.effective)

    @property
    def words_only(self) -> bool:
        """Only words, all in favour: the case calibrated against neutral prompts."""
        terms = self.effective
        return bool(terms) and all(t.kind == "text" and t.weight > 0 for t in terms)


def parse(line: str, *, base: str | os.PathLike[str] = ".") -> Query:
    """Read the compact syntax. ``base`` resolves relative picture paths.

    >>> [(t.kind, t.value, t.weight) for t in parse("2:beach + sunset - people").terms]
    [('text', 'beach', 2.0), ('text', 'sunset', 1.0), ('text', 'people', -1.0)]
    """
    parts = _SPLIT.split(" " + line.strip() + " ")
    # parts = [first, sign, second, sign, third, ...]; a leading "- x" comes through as text.
    terms: list[Term] = []
    signs = ["+", *parts[1::2]]
    for sign, chunk in zip(signs, parts[0::2], strict=True):
        chunk = chunk.strip()
        if chunk.startswith("- ") and not terms:
            sign, chunk = "-", chunk[2:].strip()
        if not chunk:
            continue
        weight = 1.0
        if match := _WEIGHT.match(chunk):
            weight, chunk = float(match.group(1)), match.group(2).strip()
        if sign == "-":
            weight = -weight
        terms.append(_term(chunk, weight, base))
    return Query(tuple(terms))


def _term(chunk: str, weight: float, base: str | os.PathLike[str]) -> Term:
    candidate = os.path.join(os.fspath(base), os.path.expanduser(chunk))
    looks_like_file = os.path.splitext(chunk)[1].lower() in IMAGE_EXTENSIONS
    if looks_like_file and os.path.isfile(candidate):
        return image(os.path.abspath(candidate), weight)
    if looks_like_file and (os.sep in chunk or chunk.startswith("~")):
        raise KnownError(f"No such picture: {chunk}")
    return text(chunk, weight)
