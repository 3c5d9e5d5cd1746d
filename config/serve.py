"""Serve Spar: `python -m config.serve [--host H] [--port P] [--workers N] [--uds PATH]`.

uvicorn with Spar's settings, so that development (`make run`) and production serve the same push
path, and so that one setting decides which proxy may speak for clients. Left to itself uvicorn
believes X-Forwarded-Proto and X-Forwarded-For from 127.0.0.1, so any program on the same host
could make a request look like HTTPS. Here nobody is trusted unless FORWARDED_ALLOW_IPS names the
proxy — the same setting the sign-in throttle reads (config/settings.py).
"""

import argparse
import os
from collections.abc import Mapping
from typing import Any

import uvicorn

APP = "config.asgi:application"
# Long enough for a page to finish, short enough for a deploy: open streams are closed, and their
# browsers reconnect to another worker or the restarted one.
GRACEFUL_SHUTDOWN_SECONDS = 5


def uvicorn_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The proxy settings from FORWARDED_ALLOW_IPS: no proxy headers at all when it is empty."""
    environ = os.environ if environ is None else environ
    trusted = [part.strip() for part in environ.get("FORWARDED_ALLOW_IPS", "").split(",")]
    trusted = [part for part in trusted if part]
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m config.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--uds", help="serve on this UNIX socket instead of host and port")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    uvicorn.run(
        APP,
        host=args.host,
        port=args.port,
        uds=args.uds,
        workers=args.workers,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        **uvicorn_options(),
    )


if __name__ == "__main__":
    main()
