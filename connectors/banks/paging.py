"""Paging of the banks' loan listings: page numbers, offsets and cursors behind one loop.

`paged(fetch, parse, key, url)` asks `fetch(token)` for a page — `(records, next_token)`, the token
being a page number, an offset or a cursor as text — parses each record, drops those the page repeats
from the page before (a listing shifting under us, a flaky gateway), and refuses a listing that repeats
a token or stops advancing (`PaginationError`), in memory that does not grow with the listing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

from connectors.banks import errors
from connectors.banks.records import Loan, QuarantineItem
from connectors.paging import PageBoundaryDeduplicator, PageTokenPaginator

LoanItem = Loan | QuarantineItem


def page_keys(item: LoanItem) -> Hashable | None:
    """The order key of a listing sorted by (updated_at, loan_no); None for a quarantine item."""
    if isinstance(item, Loan):
        return (item.updated_at, item.loan_no)
    return None


def paged(
    fetch: Callable[[str | None], tuple[list[Any], str | None]],
    parse: Callable[[Any], LoanItem],
    key: Callable[[LoanItem], Hashable | None],
    url: str,
) -> Iterator[LoanItem]:
    paginator = PageTokenPaginator(error=errors.PaginationError, url=url)
    seen: PageBoundaryDeduplicator[Hashable] = PageBoundaryDeduplicator()
    while True:
        records, next_token = fetch(paginator.token)
        seen.start_page()
        for record in records:
            item = parse(record)
            if seen.is_new(key(item)):
                yield item
        paginator.advance(next_token, progressed=seen.page_progressed or not records)
        if paginator.finished:
            return
