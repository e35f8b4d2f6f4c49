"""Walk the app's routes with their full paths (FastAPI keeps included routers nested)."""

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    route: APIRoute


def api_routes(app: FastAPI) -> Iterator[RouteInfo]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI flattens included routers into app.routes
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield RouteInfo(route.path, frozenset(route.methods), route)
        return
    for ctx in iter_route_contexts(app.routes):
        original = ctx.original_route
        if isinstance(original, APIRoute):
            yield RouteInfo(ctx.path, frozenset(ctx.methods or original.methods), original)
