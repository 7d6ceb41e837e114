"""Consecutive matching moments of one file become one segment.

A video's kept frames each stand for the stretch up to the next one (see
:mod:`desktop_app.core.kinds.video`), so frames that follow each other have spans that touch.
When a query matches several of them about as well as the best, the hit says where the whole
matching stretch runs ("03:41-03:52") instead of naming one frame, and still remembers the
best frame's moment for its thumbnail and for playing.
"""

from desktop_app.core.kinds.base import Span

# A frame belongs to the segment when its cosine is close to the best frame's: within a quarter
# of the way down to the weakest unit the search fetched (cosines bunch differently for words
# and for pictures, and by model), and never more than 0.02 (for a words query CLIP's cosines
# of a matching shot's frames differ by about 0.01, a different shot's by more).
SEGMENT_FRACTION = 0.25
SEGMENT_MARGIN = 0.02
_TOUCH = 1e-3  # spans are stored to the millisecond


def segment(
    best: Span, score: float, others: list[tuple[float, Span | None]], floor: float
) -> Span:
    """The stretch of touching "second" spans around ``best`` whose scores are close to
    ``score`` (see :data:`SEGMENT_FRACTION`; ``floor`` is the weakest score fetched);
    ``best`` itself when it has no such neighbour."""
    if best.unit != "second":
        return best
    near = score - min(SEGMENT_MARGIN, SEGMENT_FRACTION * max(0.0, score - floor))
    close = [span for s, span in others if span and span.unit == "second" and s >= near]
    start, end = best.start, best.end
    grown = True
    while grown:
        grown = False
        for span in close:
            touches = span.end >= start - _TOUCH and span.start <= end + _TOUCH
            if touches and (span.start < start or span.end > end):
                start, end = min(start, span.start), max(end, span.end)
                grown = True
    return Span(start, end, "second")
