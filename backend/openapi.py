import json
from pathlib import Path


def openapi_document() -> dict:
    from backend.core.db import Database, make_engine
    from backend.main import create_app

    app = create_app(Database(make_engine("sqlite://")))
    return app.openapi()


def render(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_openapi(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(openapi_document()), encoding="utf-8")
    return path
