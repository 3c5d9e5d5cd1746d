"""The ASGI entry point (uvicorn config.asgi:application). The room's push streams go straight to
interviews.stream, which holds thousands of open connections without a thread each; every other
request goes through Django's full stack."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from interviews import live, stream  # noqa: E402 -- needs the apps loaded by the line above


async def application(scope, receive, send) -> None:
    if scope["type"] == "http":
        match = live.STREAM_PATH.fullmatch(scope["path"])
        if match:
            await stream.serve(scope, receive, send, int(match["session_id"]))
            return
    elif scope["type"] == "lifespan":
        # The stream hub starts with the first stream; at shutdown it closes its connections.
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await stream.shutdown()
        await send({"type": "lifespan.shutdown.complete"})
        return
    await django_application(scope, receive, send)
