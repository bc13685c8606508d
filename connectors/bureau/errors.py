"""Errors of the bureau-site connector: the shared tree of `connectors.errors`, under one root.

    BureauError                     root; also a `connectors.errors.ConnectorError`
    ├── AuthError                   the site refused us (401/403): blocked user agent or address
    ├── RetriableError              5xx, timeouts, broken connections after the retry budget
    │   └── RateLimited             429 after the retry budget
    ├── FatalHTTPError              other 4xx (404 and 410 are answers, not errors: see `Fetched.gone`)
    ├── UnexpectedResponse          a 2xx answer that is not what a page should be
    ├── HostNotAllowed              a URL, or a redirect, to a host the watch file does not allow
    └── TooLarge                    a body above the size limit (an attachment of hundreds of MB)

A fetch error is never a change of a notice: the monitor counts it as a failed fetch and keeps the
last good snapshot.
"""

from __future__ import annotations

from connectors import errors as base


class BureauError(base.ConnectorError):
    """Anything that went wrong reading the real estate bureau's website."""


class AuthError(BureauError, base.AuthError):
    """The site refused the request (401/403): it may block our user agent or our address."""


class RetriableError(BureauError, base.RetriableError):
    """The site kept failing (5xx, timeouts, broken connections) until the retries ran out."""


class RateLimited(RetriableError, base.RateLimited):
    """The site kept answering 429 until the retries ran out: lower the request rate."""


class FatalHTTPError(BureauError, base.FatalHTTPError):
    """The site refused the request as sent (4xx other than 404/410); retrying cannot help."""


class UnexpectedResponse(BureauError, base.UnexpectedResponse):
    """A successful answer that is not a page (too many redirects, a body that is not text)."""


class HostNotAllowed(BureauError):
    """A URL or a redirect to a host outside `allowed_hosts`: never fetched."""


class TooLarge(BureauError, base.BodyTooLarge):
    """A body above the configured size limit: not downloaded (or cut off once the limit was passed)."""


ERROR_KINDS = base.ErrorKinds(
    auth=AuthError,
    retriable=RetriableError,
    rate_limited=RateLimited,
    fatal=FatalHTTPError,
    unexpected=UnexpectedResponse,
    too_large=TooLarge,
)
