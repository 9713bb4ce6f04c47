from tests.store.conftest import db

__all__ = ["db"]
