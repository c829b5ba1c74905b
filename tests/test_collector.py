"""A started API process keeps what it holds at start out of the garbage collector's full
collections (app/asgi.py, the lifespan): they walked every object of the process each time."""

from __future__ import annotations

import gc

from app.asgi import create_app


async def test_starting_freezes_what_the_process_holds(engine, settings) -> None:
    gc.unfreeze()
    app = create_app(engine=engine, settings=settings)
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000  # the modules, the schema, the engine
    finally:
        gc.unfreeze()
