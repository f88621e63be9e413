"""A browser relay for model streams: one upstream request, any number of readers.

`create_app()` is an ASGI app (Starlette): `POST /streams` starts a Messages API stream in
the server, `GET /streams/{id}/events` relays it as SSE to any number of readers, each
resuming where it left off (`Last-Event-ID` or `?last_event_id=`), `DELETE /streams/{id}`
cancels it, and `GET /` is a chat page. Needs the `web` extra: `pip install 'rxstream[web]'`.
"""

from ._app import create_app as create_app

__all__ = ["create_app"]
