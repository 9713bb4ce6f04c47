"""The database, as a request dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from assistantd.store.database import Database


async def database(request: Request) -> Database:  # async: no threadpool hop
    return request.app.state.db


Db = Annotated[Database, Depends(database)]
