"""The upstream target of a forwarded request: the path and query exactly as the client sent them.

The route's `path` parameter is decoded (`%3F` becomes `?`, `%20` a space, `%C3%A9` an `é`): forwarding
that would turn an escaped `?` into a real query string (past the gateway's page cap), and put spaces
and non-ASCII characters into the request line, which no HTTP client may send. So the gateway forwards
the raw bytes it received (`raw_path`, `query_string`), percent-encoding only the bytes that may not
appear in a URL at all, and refuses with 400 a path whose escapes are malformed or where an escaped `/`
moves the `/api/v1/<service>/` prefix (what it would forward would not be what it checked).
"""

import re
from urllib.parse import quote, unquote

from starlette.types import Scope

from gateway.context import API_PREFIX
from servicekit.errors import DomainError, field_error

# RFC 3986: unreserved, sub-delims, ":" and "@" make a path segment; "%" starts an escape (checked below)
_PATH_SAFE = "/%!$&'()*+,;=:@-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class Unforwardable(DomainError):
    status_code = 400
    code = "invalid_path"


def _escaped(raw: bytes, safe: str) -> str:
    """`raw` with every byte a URL may not carry percent-encoded; existing escapes kept as they are."""
    return quote(raw, safe=safe)


def upstream_target(scope: Scope, service: str, prefix: str | None = None, upstream_prefix: str = "") -> tuple[str, str]:
    """(path relative to the service, without its leading slash; query string) to forward, both ASCII.

    `prefix` is the part of the request path the gateway routes by (`/api/v1/<service>/` unless given, e.g.
    `/fhir/R4/` for the FHIR facade); `upstream_prefix` is put in its place on the service's side."""
    raw_path: bytes = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
    query: bytes = scope.get("query_string", b"")
    if _BAD_ESCAPE.search(raw_path):
        problem = field_error("path", "a % not followed by two hex digits")
        raise Unforwardable("malformed percent-encoding in the path", errors=[problem])
    prefix = prefix or f"{API_PREFIX}/{service}/"
    depth = prefix.count("/")
    segments = raw_path.split(b"/", depth)
    if len(segments) != depth + 1 or unquote(b"/".join(segments[:-1]).decode("latin-1")) + "/" != prefix:
        problem = field_error("path", f"an escaped / in the {prefix} prefix")
        raise Unforwardable("the service prefix of the path may not contain an escaped /", errors=[problem])
    return upstream_prefix + _escaped(segments[-1], _PATH_SAFE), _escaped(query, _QUERY_SAFE)
