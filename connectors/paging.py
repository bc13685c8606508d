"""Keyset pagination helpers shared by the connectors, in memory that does not grow with the listing.

`PageTokenPaginator` follows opaque next-page tokens and refuses one it has already followed (a
server that hands back an old token would loop for ever) and a listing that stops advancing.
`PageBoundaryDeduplicator` drops records that a page repeats from the page before (keyset listings
repeat rows at a page boundary when rows change under them, and flaky gateways repeat whole pages).

Both remember a bounded amount: the last `remember` tokens, and the keys of two pages. A loop longer
than `remember` pages is still caught, because a loop revisits keys below the high-water mark and so
makes no progress for `max_stalled_pages` pages in a row.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from connectors.errors import PaginationError

K = TypeVar("K", bound=Hashable)


class PageTokenPaginator:
    """The token of the next page to ask for, and the judge of each token the server hands back."""

    def __init__(
        self,
        *,
        error: type[PaginationError] = PaginationError,
        url: str | None = None,
        remember: int = 1024,
        max_stalled_pages: int = 3,
    ) -> None:
        if remember < 1 or max_stalled_pages < 1:
            raise ValueError("remember and max_stalled_pages must be at least 1")
        self._error = error
        self._url = url
        self._remember = remember
        self._max_stalled = max_stalled_pages
        self._seen: OrderedDict[str, int] = OrderedDict()  # token -> the page number it was handed back on
        self.token: str | None = None
        self.pages = 0
        self.finished = False
        self.stalled_pages = 0

    def advance(self, next_token: str | None, *, progressed: bool = True) -> None:
        """Record the page just read: its `next_token` (None on the last page) and whether it brought
        anything new. Raises `error` for a token already followed or a listing that stopped advancing."""
        if self.finished:
            raise RuntimeError("the listing is finished; start a new paginator to list again")
        self.pages += 1
        self.stalled_pages = 0 if progressed else self.stalled_pages + 1
        if next_token is None or next_token == "":
            self.finished = True
            return
        if not isinstance(next_token, str):
            raise self._error(
                f"expected the next page token to be a string or null, got {type(next_token).__name__} "
                f"on page {self.pages}; the server breaks its pagination contract",
                url=self._url,
            )
        if next_token in self._seen:
            first = self._seen[next_token]
            raise self._error(
                f"expected a new page token after page {self.pages}, got the token already handed back "
                f"on page {first}; following it would loop. Run the sync again; if it repeats, report "
                "the server's pagination to its operator",
                url=self._url,
            )
        if self.stalled_pages >= self._max_stalled:
            raise self._error(
                f"expected each page to bring records past the previous ones, got {self.stalled_pages} "
                f"pages in a row with nothing new (up to page {self.pages}); the page tokens loop. Run the "
                "sync again; if it repeats, report the server's pagination to its operator",
                url=self._url,
            )
        self._seen[next_token] = self.pages
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        self.token = next_token


class PageBoundaryDeduplicator(Generic[K]):
    """Tells whether a record's key was already seen on this page or the one before.

    Keys must sort in the listing's order (for the trading network `(updated_at, contract_no)`): the
    largest key seen so far is the high-water mark, and a page "progressed" when it brought a key above
    the mark of the pages before it.
    """

    def __init__(self) -> None:
        self._previous: set[K] = set()
        self._current: set[K] = set()
        self._high: K | None = None
        self._page_high: K | None = None
        self._page_unkeyed = False
        self.duplicates = 0

    def start_page(self) -> None:
        if self._page_high is not None and (self._high is None or self._page_high > self._high):  # type: ignore[operator]
            self._high = self._page_high
        self._previous, self._current = self._current, set()
        self._page_high = None
        self._page_unkeyed = False

    def is_new(self, key: K | None) -> bool:
        """True when the record should be kept; a record without a key is always kept."""
        if key is None:
            self._page_unkeyed = True
            return True
        if key in self._current or key in self._previous:
            self.duplicates += 1
            self._current.add(key)
            return False
        self._current.add(key)
        if self._page_high is None or key > self._page_high:  # type: ignore[operator]
            self._page_high = key
        return True

    @property
    def page_progressed(self) -> bool:
        """Whether the current page brought a key above the high-water mark (or a record without key,
        which cannot be judged and so counts as progress rather than raise a false alarm)."""
        if self._page_unkeyed:
            return True
        if self._page_high is None:
            return False
        return self._high is None or self._page_high > self._high  # type: ignore[operator]
