"""The console at ``/console``: the built front-end (``console/`` → ``assistantd/console_assets``),
a static client of the public ``/v1`` API with the key its user types; no route of its own."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

ASSETS = Path(__file__).resolve().parent.parent / "console_assets"

NOT_BUILT = """<!doctype html><title>assistantd console</title>
<h1>The console was not built</h1>
<p>This installation has no built console. Build it with Node and npm installed:
<code>make setup</code>, or<br>
<code>npm ci --prefix console &amp;&amp; npm run build --prefix console</code>.</p>
"""


def mount(app: FastAPI) -> None:
    """Serve the hashed assets with a long cache, and index.html for every client route."""
    if (ASSETS / "assets").is_dir():
        app.mount("/console/assets", _LongCache(directory=ASSETS / "assets"), name="console-assets")

    @app.get("/console", include_in_schema=False)
    @app.get("/console/{path:path}", include_in_schema=False)
    async def console_page(path: str = "") -> Response:
        index = ASSETS / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


class _LongCache(StaticFiles):
    """File names carry their content's hash, so a cached copy is never stale."""

    async def get_response(self, path: str, scope: dict) -> Response:  # type: ignore[override]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


__all__ = ["mount"]
