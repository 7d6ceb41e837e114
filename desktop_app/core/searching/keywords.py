"""Keyword search: the exact words of file names, folders, tags and every unit's text.

Meaning search (CLIP, MiniLM) finds "a receipt" but not "invoice 4471", "IMG_2023" or a
person's name in a caption: embeddings blur exact words, part numbers and names. Two SQLite
FTS5 indexes hold those words (made by migration ``_M006_KEYWORDS``, kept in step by triggers):

* ``file_words``: one row per file: its name, its folder below the library folder, and the
  words its camera or photo manager wrote (EXIF/XMP/IPTC titles, descriptions, keywords,
  artist, lens; see :mod:`desktop_app.core.kinds.photo_tags`) with the camera;
* ``unit_words``: the words of every unit that has some: a document's chunks today, text read
  in pictures and speech transcripts as those kinds store them, with nothing to change here.

A query's words are matched in three tiers, each a BM25-ranked FTS5 query: every word whole,
every word (the longer ones as prefixes, so that search as you type finds "receipt" at
"recei"), and any word. The tier says how sure the match is (see :data:`TIER_RELEVANCE`); the
runner fuses the ranking with the meaning search (:mod:`fusion`).

Syntax: ``"a quoted phrase"`` must appear as written; ``name:``, ``folder:``, ``tag:`` and
``text:`` restrict a word or phrase to that field. Either makes the keyword match required:
only files that match are returned.
"""

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from desktop_app.core.kinds.base import Span

FIELDS = {"name": "name", "folder": "folder", "tag": "tags", "tags": "tags", "text": "text"}
_TOKEN = re.compile(r'(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
_WORD = re.compile(r"\w+", re.UNICODE)
# Words that carry no meaning of their own in a description ("a dog on the beach"): left out of
# the keyword side unless quoted, else they would have to appear in every match.
_STOPWORD_LIST = """a an and are as at be by for from has he in is it its of on or that the this to
was were with photo photos picture pictures image images my me our your some"""
STOPWORDS = frozenset(_STOPWORD_LIST.split())
# How sure each tier is that the file is what was asked for, on the calibrated relevance scale
# (see :mod:`relevance`, good match at 0.5): every word whole is a good match; the prefixes of
# a word being typed are likely; some of the words are a hint only.
TIER_RELEVANCE = (0.8, 0.6, 0.3)
_MIN_PREFIX = 3
# A query is what a person types: longer ones (pasted pages) are cut, not matched word by word.
MAX_QUERY_CHARS = 1000
MAX_TOKENS = 32  # shorter words match whole only: "a*" would match everything
SNIPPET_TOKENS = 24


@dataclass(frozen=True)
class Token:
    """One word or quoted phrase of a query, perhaps restricted to a field."""

    text: str
    field: str | None = None  # "name" | "folder" | "tags" | "text" | None (anywhere)
    phrase: bool = False


@dataclass(frozen=True)
class KeywordQuery:
    tokens: tuple[Token, ...]

    @property
    def required(self) -> bool:
        """A phrase or a field restriction: the person asked for these words."""
        return any(t.phrase or t.field for t in self.tokens)

    @property
    def meaning_text(self) -> str:
        """The words for the meaning search: without the quotes and field prefixes."""
        return " ".join(t.text for t in self.tokens)

    @property
    def is_empty(self) -> bool:
        return not self.tokens


def parse(text: str) -> KeywordQuery:
    """Read words, ``"phrases"`` and ``field:`` prefixes.

    >>> [(t.text, t.field, t.phrase) for t in parse('name:IMG_2023 "red car" tag:Anna').tokens]
    [('IMG_2023', 'name', False), ('red car', None, True), ('Anna', 'tags', False)]
    """
    # Lone surrogates (undecodable bytes in argv) cannot be bound to SQLite: make them U+FFFD.
    text = text[:MAX_QUERY_CHARS].encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    tokens: list[Token] = []
    for match in _TOKEN.finditer(text):
        if len(tokens) == MAX_TOKENS:
            break
        field = (match.group("field") or "").lower()
        phrase = match.group("phrase")
        word = match.group("word")
        if field and field not in FIELDS:  # "12:30", "http://…": a plain word after all
            word = match.group(0).strip('"')
            field, phrase = "", None
        value = (phrase if phrase is not None else word or "").strip()
        if value:
            tokens.append(Token(value, FIELDS.get(field), phrase is not None))
    return KeywordQuery(tuple(tokens))


@dataclass(frozen=True)
class KeywordHit:
    """A file the keyword side found: its place in that ranking, how sure (tier), and, when
    words of a unit matched, the unit's place and the words around the match."""

    file_id: int
    rank: int  # from 1
    relevance: float
    span: Span | None = None
    snippet: str | None = None


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _words(token: Token) -> list[str]:
    return _WORD.findall(token.text.lower())


def _term(token: Token, prefix: bool, column: bool) -> str | None:
    """The FTS5 expression of one token; None when it has no word characters."""
    words = _words(token)
    if not words:
        return None
    if token.phrase or len(words) > 1:
        # A phrase, or a word the index holds as several ("IMG_2023"): in this order.
        typed_on = prefix and not token.phrase and len(words[-1]) >= _MIN_PREFIX
        expression = _quote(" ".join(words)) + ("*" if typed_on else "")
    else:
        typed_on = prefix and len(words[0]) >= _MIN_PREFIX
        expression = _quote(words[0]) + ("*" if typed_on else "")
    if column and token.field in ("name", "folder", "tags"):
        return f"{token.field} : {expression}"
    return expression


def _content_tokens(query: KeywordQuery) -> list[Token]:
    """The tokens that count: stopwords go unless quoted, restricted or all there is."""
    kept = [t for t in query.tokens if t.phrase or t.field or t.text.lower() not in STOPWORDS]
    return kept or list(query.tokens)


def expressions(query: KeywordQuery, tier: int) -> tuple[str | None, str | None]:
    """The MATCH expressions for ``file_words`` and ``unit_words`` at ``tier`` (0 all words
    whole, 1 all as prefixes, 2 any word); None where that index cannot match."""
    tokens = _content_tokens(query)
    prefix = tier >= 1
    joiner = " OR " if tier == 2 else " AND "
    on_files = [t for t in tokens if t.field != "text"]
    on_units = [t for t in tokens if t.field is None or t.field == "text"]
    if tier == 2:  # any word: each index takes the words it can match
        files_terms = [_term(t, prefix, True) for t in on_files]
        units_terms = [_term(t, prefix, False) for t in on_units]
    else:  # every word: an index that cannot hold one of them cannot match
        whole = len(on_files) == len(tokens)
        files_terms = [_term(t, prefix, True) for t in on_files] if whole else []
        whole = len(on_units) == len(tokens)
        units_terms = [_term(t, prefix, False) for t in on_units] if whole else []
    files_expr = joiner.join(t for t in files_terms if t) or None
    units_expr = joiner.join(t for t in units_terms if t) or None
    return files_expr, units_expr


def search(
    conn: sqlite3.Connection,
    query: KeywordQuery,
    limit: int,
    where: tuple[str, Sequence[object]] = ("1", ()),
) -> list[KeywordHit]:
    """The files whose words match, best first, each once, at most ``limit``. ``where`` is an
    SQL condition over ``files f`` (the filters). Only whole-query tiers when the query is
    ``required``."""
    if query.is_empty:
        return []
    condition, params = where
    words = [w for token in _content_tokens(query) for w in _words(token)]
    found: dict[int, KeywordHit] = {}
    tiers = (0, 1) if query.required else (0, 1, 2)
    for tier in tiers:
        if len(found) >= limit:
            break
        files_expr, units_expr = expressions(query, tier)
        lists = []
        if files_expr:
            lists.append(_file_matches(conn, files_expr, condition, params, limit))
        if units_expr:
            lists.append(_unit_matches(conn, units_expr, condition, params, limit, words))
        for file_id, span, snippet in _interleave(lists):
            if file_id not in found and len(found) < limit:
                found[file_id] = KeywordHit(
                    file_id, len(found) + 1, TIER_RELEVANCE[tier], span, snippet
                )
    return list(found.values())


def _ranked(
    conn: sqlite3.Connection,
    table: str,
    expression: str,
    outer: str,
    condition: str,
    params: Sequence[object],
    limit: int,
) -> list[tuple]:
    """The best matches of ``table`` that pass the filters, best first.

    The FTS5 query ranks and cuts on its own (BM25 in C over the matching rows), then only the
    kept rows are joined with ``files`` and filtered: ranking a common word's thousands of
    matches through the join took tens of milliseconds at 100k files. When the filters leave
    too few, a deeper cut is tried.
    """
    weights = "4.0, 1.0, 2.0" if table == "file_words" else "1.0"
    score = f"bm25({table}, {weights})"
    if _run(
        conn,
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT 1 OFFSET {_COMMON}",
        (expression,),
    ):
        # Words that thousands of rows share: BM25 barely tells them apart (their weight is
        # low), and scoring every row costs tens of milliseconds; the newest rows stand in.
        score, order = "0", "rowid DESC"
    else:
        order = "score"
    depth = limit * 2
    while True:
        found = _run(
            conn,
            f"SELECT rowid, {score} AS score FROM {table} WHERE {table} MATCH ?"
            f" ORDER BY {order} LIMIT ?",
            (expression, depth),
        )
        ids = [row[0] for row in found]
        rows = _run(
            conn,
            f"SELECT {outer} FROM (SELECT value AS id, key AS position FROM json_each(?)) w"
            f" {_JOINS[table]} WHERE f.status != 'failed' AND {condition} ORDER BY w.position",
            (json.dumps(ids), *params),
        )
        if len(rows) >= limit or len(found) < depth or depth >= _MAX_DEPTH:
            return rows
        depth *= 8


_JOINS = {
    "file_words": "JOIN files f ON f.id = w.id",
    "unit_words": "JOIN units u ON u.rowid = w.id JOIN files f ON f.id = u.file_id",
}
_MAX_DEPTH = 50_000
_COMMON = 1000  # matching rows from which a word counts as common


def _file_matches(
    conn: sqlite3.Connection,
    expression: str,
    condition: str,
    params: Sequence[object],
    limit: int,
) -> list[tuple[int, Span | None, str | None]]:
    rows = _ranked(conn, "file_words", expression, "f.id", condition, params, limit)
    ids = [fid for (fid,) in rows[:limit]]
    # Tags and camera are shown when they matched: the name is on the card already.
    tags = dict(
        _run(
            conn,
            f"SELECT id, tags FROM files WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
    )
    return [(fid, None, _tag_snippet(tags.get(fid))) for fid in ids]


def _tag_snippet(tags: str | None) -> str | None:
    text = " ".join((tags or "").split())
    return text or None


def _unit_matches(
    conn: sqlite3.Connection,
    expression: str,
    condition: str,
    params: Sequence[object],
    limit: int,
    words: Sequence[str],
) -> list[tuple[int, Span | None, str | None]]:
    # Units of a model's previous vector set stay until its new one is complete: a file can
    # come up twice here, and only its best unit counts.
    rows = _ranked(
        conn,
        "unit_words",
        expression,
        "w.id, u.file_id, u.span_start, u.span_end, u.span_unit",
        condition,
        params,
        limit * 3,
    )
    best: dict[int, tuple] = {}
    for row in rows:
        best.setdefault(row[1], row)
    kept = list(best.values())[:limit]
    unit_ids = [row[0] for row in kept]
    texts = dict(
        _run(
            conn,
            f"SELECT rowid, text FROM units WHERE rowid IN ({','.join('?' * len(unit_ids))})",
            unit_ids,
        )
    )
    return [
        (fid, _span(start, end, unit), around(texts.get(uid) or "", words))
        for uid, fid, start, end, unit in kept
    ]


def around(text: str, words: Sequence[str], width: int = SNIPPET_TOKENS) -> str | None:
    """About ``width`` words of ``text`` around the first of ``words`` it contains (as a
    word or the start of one), on one line; the start of the text when none is found."""
    tokens = text.split()
    if not tokens:
        return None
    wanted = [w.lower() for w in words if w]
    first = next(
        (
            i
            for i, token in enumerate(tokens)
            if any(part.startswith(w) for part in _WORD.findall(token.lower()) for w in wanted)
        ),
        0,
    )
    start = max(0, min(first - width // 3, len(tokens) - width))
    shown = " ".join(tokens[start : start + width])
    return ("…" if start > 0 else "") + shown + ("…" if start + width < len(tokens) else "")


def _run(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> list[tuple]:
    try:
        cursor = conn.execute(sql, tuple(params))
        cursor.row_factory = None
        return cursor.fetchall()
    except sqlite3.OperationalError:  # an expression FTS5 refuses: the words cannot match
        return []


def _span(start: float | None, end: float | None, unit: str | None) -> Span | None:
    if unit not in ("line", "page", "second") or start is None or end is None:
        return None
    if unit == "second":
        return Span(float(start), float(end), "second")
    return Span(int(start), int(end), unit)  # type: ignore[arg-type]


def _interleave(
    lists: list[list[tuple[int, Span | None, str | None]]],
) -> list[tuple[int, Span | None, str | None]]:
    """Names-and-tags matches and text matches, alternately: their BM25 scores are on
    different scales, so neither list outranks the other wholesale."""
    out: list[tuple[int, Span | None, str | None]] = []
    for i in range(max((len(items) for items in lists), default=0)):
        out.extend(items[i] for items in lists if i < len(items))
    return out
