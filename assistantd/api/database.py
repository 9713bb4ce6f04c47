"""The database, as a request dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from assistantd.store.database import Database


def database(request: Request) -> Database:
    return request.app.state.db


Db = Annotated[Database, Depends(database)]
