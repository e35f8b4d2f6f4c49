from pydantic import BaseModel

from backend.core.deps import Public
from backend.core.uow import Router
from backend.meta.dictionaries import DICTIONARIES

router = Router(tags=["meta"])


class Health(BaseModel):
    status: str


@router.get("/health", response_model=Health, dependencies=[Public])
async def health():
    """Liveness: answers without a token and without a database round trip."""
    return Health(status="ok")


@router.get("/meta/dictionaries", response_model=dict[str, dict[str, str]], dependencies=[Public])
async def dictionaries():
    """Chinese labels of every enum value, keyed by dictionary then value."""
    return DICTIONARIES
