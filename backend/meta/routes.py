from fastapi import APIRouter
from pydantic import BaseModel

from backend.core.deps import Public
from backend.meta.dictionaries import DICTIONARIES

router = APIRouter(tags=["meta"])


class Health(BaseModel):
    status: str


@router.get("/health", response_model=Health, dependencies=[Public])
def health():
    """Liveness: answers without a token and without a database round trip."""
    return Health(status="ok")


@router.get("/meta/dictionaries", response_model=dict[str, dict[str, str]], dependencies=[Public])
def dictionaries():
    """Chinese labels of every enum value, keyed by dictionary then value."""
    return DICTIONARIES
