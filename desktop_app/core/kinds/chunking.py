"""Splitting a document into overlapping pieces that fit a text model's token window.

Chunks follow line boundaries, so every hit can point at a line range the person can open.
A quarter of each window overlaps the previous one, so a sentence cut by a boundary still
appears whole in one chunk. A single line longer than the window is split by words.
"""

from collections.abc import Callable
from dataclasses import dataclass

OVERLAP_FRACTION = 0.25
_TOKENS_PER_WORD = 1.5  # conservative for English word pieces


@dataclass(frozen=True)
class Chunk:
    text: str
    line_start: int  # 1-based, inclusive
    line_end: int


def _split_long_line(line: str, budget: int) -> list[str]:
    words = line.split()
    per_piece = max(1, int(budget / _TOKENS_PER_WORD))
    return [" ".join(words[i : i + per_piece]) for i in range(0, len(words), per_piece)]


def chunk_text(text: str, max_tokens: int, count_tokens: Callable[[str], int]) -> list[Chunk]:
    """Overlapping chunks of at most about ``max_tokens`` tokens each, in document order."""
    units: list[tuple[str, int, int]] = []  # (text, line number, tokens)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        tokens = count_tokens(line)
        if tokens <= max_tokens:
            units.append((line, number, tokens))
        else:
            units.extend(
                (piece, number, count_tokens(piece)) for piece in _split_long_line(line, max_tokens)
            )
    chunks: list[Chunk] = []
    overlap = int(max_tokens * OVERLAP_FRACTION)
    start = 0
    while start < len(units):
        end, used = start, 0
        while end < len(units) and (end == start or used + units[end][2] <= max_tokens):
            used += units[end][2]
            end += 1
        piece = units[start:end]
        chunks.append(Chunk("\n".join(u[0] for u in piece), piece[0][1], piece[-1][1]))
        if end >= len(units):
            break
        back, carried = end, 0
        while back - 1 > start and carried + units[back - 1][2] <= overlap:
            back -= 1
            carried += units[back][2]
        start = back
    return chunks
