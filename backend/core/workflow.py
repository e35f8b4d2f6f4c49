"""One workflow mechanism for every record with states: tickets, follow-ups, aid, activities, pairings.

A domain declares its steps once, in a table: the states each step may start from, the state it leads to, its
body, the guard that may still refuse it, and the function that does it. From that one table come

- `allowed(record, principal)`: the steps the caller may take now, sent with every record;
- `perform(...)`: check, apply, move the state; a refused step is 409 with the allowed list;
- `action_routes(...)`: `POST /{resource}/{id}/actions/{step}` for every step, one route each, so the OpenAPI
  document names each step's body.
"""

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Body, Depends, Header, Path, Response
from pydantic import BaseModel
from sqlmodel import Session

from backend.core.db import utcnow
from backend.core.deps import SessionDep, require
from backend.core.errors import InvalidTransition
from backend.core.schemas import RequestModel
from backend.core.scope import Principal

R = TypeVar("R")


class EmptyBody(RequestModel):
    """A step that needs nothing more than its name."""


@dataclass
class StepContext(Generic[R]):
    """What a step's function gets: the unit of work, who acts, the record, the body and the moment."""

    session: Session
    principal: Principal
    record: R
    body: Any
    now: datetime
    # Whatever the step wants its caller to know (timeline text, event data): the domain decides.
    result: dict[str, Any] = field(default_factory=dict)


# A guard answers None when the step may go ahead, or the reason (in Chinese) it may not.
Guard = Callable[[Any, Principal | None, datetime], str | None]


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    sources: frozenset[str]
    target: str | None = None  # None keeps the state
    body: type[BaseModel] = EmptyBody
    guard: Guard | None = None
    apply: Callable[[StepContext], None] | None = None
    # Who may take this step when it is not the workflow's own write permission.
    permission: str | None = None


def step(
    name: str,
    label: str,
    sources: Iterable[str],
    target: str | None = None,
    *,
    body: type[BaseModel] = EmptyBody,
    guard: Guard | None = None,
    apply: Callable[[StepContext], None] | None = None,
    permission: str | None = None,
) -> Step:
    return Step(name, label, frozenset(str(s) for s in sources), target, body, guard, apply, permission)


class Workflow:
    """A state table with guards, for records whose state is the attribute `state_attr`."""

    def __init__(
        self,
        noun: str,
        steps: Iterable[Step],
        *,
        permission: str,
        state_attr: str = "status",
        state_label: Callable[[str], str] | None = None,
        order: Callable[[Any, list[str]], list[str]] | None = None,
    ):
        self.noun = noun
        self.steps = {s.name: s for s in steps}
        self.permission = permission
        self.state_attr = state_attr
        self._state_label = state_label or str
        self._order = order

    def __getitem__(self, name: str) -> Step:
        return self.steps[name]

    def state(self, record: Any) -> str:
        return str(getattr(record, self.state_attr))

    def may(self, principal: Principal | None, step: Step) -> bool:
        return principal is None or principal.can(step.permission or self.permission)

    def refusal(self, record: Any, step: Step, principal: Principal | None, now: datetime) -> str | None:
        """Why `step` may not be taken now, or None."""
        if self.state(record) not in step.sources:
            return f"{self.noun}「{self._state_label(self.state(record))}」状态下不能{step.label}"
        return step.guard(record, principal, now) if step.guard else None

    def allowed(
        self, record: Any, principal: Principal | None = None, now: datetime | None = None
    ) -> list[str]:
        """The steps `principal` may take now (None: whoever holds the permissions), in the table's order."""
        now = now or utcnow()
        names = [
            s.name
            for s in self.steps.values()
            if self.may(principal, s) and self.refusal(record, s, principal, now) is None
        ]
        return self._order(record, names) if self._order else names

    def refuse(
        self, record: Any, name: str, principal: Principal | None, now: datetime, reason: str | None = None
    ) -> InvalidTransition:
        allowed = [a for a in self.allowed(record, principal, now) if a != name]
        reason = (
            reason
            or self.refusal(record, self.steps[name], principal, now)
            or f"不能{self.steps[name].label}"
        )
        names = "、".join(self.steps[a].label for a in allowed) or "无"
        return InvalidTransition(f"{reason}。当前可以:{names}", allowed=allowed, status=self.state(record))

    def perform(
        self,
        session: Session,
        principal: Principal,
        record: Any,
        name: str,
        body: Any = None,
        now: datetime | None = None,
    ) -> StepContext:
        """Check the table and the guard, run the step, move the state. The domain writes its timeline after."""
        now = now or utcnow()
        step = self.steps[name]
        if not self.may(principal, step):
            raise self.refuse(record, name, principal, now, f"当前角色不能{step.label}")
        reason = self.refusal(record, step, principal, now)
        if reason is not None:
            raise self.refuse(record, name, principal, now, reason)
        ctx = StepContext(session, principal, record, body if body is not None else EmptyBody(), now)
        if step.apply is not None:
            step.apply(ctx)
        if step.target is not None:
            setattr(record, self.state_attr, step.target)
        return ctx


IfMatch = Annotated[str | None, Header(alias="If-Match", description="记录的 ETag;不符答 412")]


def action_routes(
    router: Any,
    workflow: Workflow,
    *,
    id_name: str,
    load: Callable[[Session, Principal, int], Any],
    act: Callable[[Session, Principal, Any, str, Any], Any],
    present: Callable[[Session, Principal, Any], Any],
    response_model: type,
    prefix: str = "",
    operation: str = "action",
    versioned: Callable[[Any, str | None], str] | None = None,
) -> None:
    """`POST {prefix}/{id}/actions/{step}` for every step of `workflow`.

    `load` fetches the record in scope (404 otherwise) for update; `act` performs the step and writes what the
    domain keeps (timeline, events); `present` answers the record with its allowed actions. `versioned`, where a
    record carries a version, checks `If-Match` and answers the new ETag.
    """
    for step in workflow.steps.values():
        _one_action_route(
            router, workflow, step, id_name, load, act, present, response_model, prefix, operation, versioned
        )


def _one_action_route(
    router, workflow, step, id_name, load, act, present, response_model, prefix, operation, versioned
):
    optional = step.body is EmptyBody
    principal_dep = Annotated[Principal, Depends(require(step.permission or workflow.permission))]

    def handler(**kw: Any) -> Any:
        session, principal, response = kw["session"], kw["principal"], kw["response"]
        record = load(session, principal, kw[id_name])
        if versioned is not None:
            versioned(record, kw.get("if_match"))
        act(session, principal, record, step.name, kw.get("body"))
        if versioned is not None:
            response.headers["ETag"] = versioned(record, None)
        return present(session, principal, record)

    params = [
        inspect.Parameter("session", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=SessionDep),
        inspect.Parameter("principal", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=principal_dep),
        inspect.Parameter(
            "record_id",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[int, Path(alias=id_name)],
        ),
        inspect.Parameter("response", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Response),
        inspect.Parameter(
            "body",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[step.body | None, Body()] if optional else Annotated[step.body, Body()],
            default=None if optional else inspect.Parameter.empty,
        ),
    ]
    if versioned is not None:
        params.append(
            inspect.Parameter(
                "if_match", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=IfMatch, default=None
            )
        )
    handler.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    handler.__name__ = f"{operation}_{step.name}"
    responses: dict[int | str, dict[str, Any]] = {
        409: {"description": "当前状态下不能执行此步骤;`allowed` 列出现在可做的"}
    }
    if versioned is not None:
        responses[412] = {"description": "版本不符(If-Match)"}
    router.add_api_route(
        f"{prefix}/{{{id_name}}}/actions/{step.name}",
        handler,
        methods=["POST"],
        response_model=response_model,
        name=f"{operation}_{step.name}",
        summary=f"{step.label}({step.name})",
        description=f"{workflow.noun}工作流的一步;当前状态不允许时答 409,`allowed` 列出现在可做的步骤。",
        responses=responses,
    )
