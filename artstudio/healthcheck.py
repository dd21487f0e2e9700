"""Ask the running studio whether it is healthy: `python -m artstudio.healthcheck [URL]`.

Used by the launcher while it waits for the web server and by the container healthcheck. It
sends `Host: localhost` (always in ALLOWED_HOSTS) and `X-Forwarded-Proto: https` so that a
production configuration behind a TLS proxy answers instead of redirecting. Stdlib only: the
container runs it every few seconds and it must not import Django.
"""

from __future__ import annotations

import http.client
import sys
import urllib.parse

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def healthz_status(url: str = DEFAULT_URL, *, timeout: float = 5.0) -> int | None:
    """The HTTP status of GET `url`, or None when nothing answers. Redirects are not followed."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/", headers={"Host": "localhost", "X-Forwarded-Proto": "https"})
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else DEFAULT_URL
    status = healthz_status(url)
    if status == 200:
        return 0
    print(f"{url}: {'no answer' if status is None else f'HTTP {status}'}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
