"""One workflow mechanism for every record with states: tickets, follow-ups, aid, activities, pairings.

A domain declares its steps once, in a table: the states each step may start from, the state it leads to, its
body, the guard that may still refuse it, and the function that does it. From that one table come

- `allowed(record, principal)`: the steps the caller may take now (state, permission, guards), sent with every
  record;
- `perform(...)`: check, apply, move the state; a refused step is 409 with `allowed` (what the record's state
  permits now, whoever may do it) and the record's state under the workflow's `state_key`;
- `action_routes(...)`: `POST /{resource}/{id}/actions/{step}` for every step, one route each, so the OpenAPI
  document names each step's body (optional when every field has a default).

A guard decides whether a step is offered at all (its state, who asks). A condition the caller can still meet
(missing photos, a start still to come) belongs in the step's function instead: the step stays offered and the
attempt says what is missing.
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
from backend.core.errors import AppError, InvalidTransition
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


# A guard answers None when the step may go ahead, or the reason (in Chinese) it may not: a text is refused as
# 409 with the allowed list; an `AppError` (403 for "not yours to do", a 409 naming what is missing) is raised as
# it is. Either way the step is left out of the allowed actions. `principal` is None when the question is what the
# record's state permits to whoever holds the permissions (a guard about the caller then answers None).
Guard = Callable[[Any, Principal | None, datetime], str | AppError | None]


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
    # What the route's OpenAPI description says of this step, when the generic sentence is not enough.
    description: str | None = None


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
    description: str | None = None,
) -> Step:
    return Step(
        str(name),
        label,
        frozenset(str(s) for s in sources),
        target,
        body,
        guard,
        apply,
        permission,
        description,
    )


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
        state_key: str = "record_status",
    ):
        """`state_key` names the record's state in a 409 body (`status` there is the HTTP status)."""
        self.noun = noun
        self.state_key = state_key
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

    def refusal(
        self, record: Any, step: Step, principal: Principal | None, now: datetime
    ) -> str | AppError | None:
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
        """409 for `name`; `allowed` lists what the record's state permits now (whoever may do it)."""
        allowed = [a for a in self.allowed(record, None, now) if a != name]
        if reason is None:
            refusal = self.refusal(record, self.steps[name], principal, now)
            reason = refusal.detail if isinstance(refusal, AppError) else refusal
        reason = reason or f"不能{self.steps[name].label}"
        names = "、".join(self.steps[a].label for a in allowed) or "无"
        return InvalidTransition(
            f"{reason}。当前可以:{names}", allowed=allowed, **{self.state_key: self.state(record)}
        )

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
        if isinstance(reason, AppError):
            raise reason
        if reason is not None:
            raise self.refuse(record, name, principal, now, reason)
        ctx = StepContext(session, principal, record, body if body is not None else step.body(), now)
        if step.apply is not None:
            step.apply(ctx)
        if step.target is not None:
            setattr(record, self.state_attr, step.target)
        return ctx


IfMatch = Annotated[str | None, Header(description='"<version>":与当前版本不符时答 412')]


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
    record carries a version, checks `If-Match` (412) when given one and answers the ETag when given None.
    Each route is named `{operation}_{step}` (operation id `tag-action_assign`), or `operation` formatted with
    `step=` when it holds `{step}` (`"{step}_activity"`), so published operation ids can stay as they were.
    """
    for step in workflow.steps.values():
        _one_action_route(
            router,
            workflow,
            step,
            id_name=id_name,
            load=load,
            act=act,
            present=present,
            response_model=response_model,
            prefix=prefix,
            name=operation.format(step=step.name) if "{step}" in operation else f"{operation}_{step.name}",
            versioned=versioned,
        )


def _one_action_route(
    router: Any,
    workflow: Workflow,
    step: Step,
    *,
    id_name: str,
    load: Callable[[Session, Principal, int], Any],
    act: Callable[[Session, Principal, Any, str, Any], Any],
    present: Callable[[Session, Principal, Any], Any],
    response_model: type,
    prefix: str,
    name: str,
    versioned: Callable[[Any, str | None], str] | None,
) -> None:
    # A body whose every field has a default may be left out.
    optional = not any(f.is_required() for f in step.body.model_fields.values())
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

    def param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)

    params = [
        param("session", SessionDep),
        param("principal", principal_dep),
        param(id_name, Annotated[int, Path()]),
        param("response", Response),
        param("body", Annotated[step.body | None, Body()], None)
        if optional
        else param("body", Annotated[step.body, Body()]),
    ]
    if versioned is not None:
        params.append(param("if_match", IfMatch, None))
    handler.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    handler.__name__ = name
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
        name=name,
        summary=f"{step.label}({step.name})",
        description=(step.description + "\n\n" if step.description else "")
        + f"{workflow.noun}工作流的一步;当前状态不允许时答 409,`allowed` 列出现在可做的步骤。"
        + ("If-Match 版本不符答 412。" if versioned is not None else ""),
        responses=responses,
    )
