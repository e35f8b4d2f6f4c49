"""Roles and their permissions: the one table in code that says who may do what."""

from enum import StrEnum


class Role(StrEnum):
    county_admin = "county_admin"
    cadre = "cadre"
    village_rep = "village_rep"
    hotline_operator = "hotline_operator"
    leader = "leader"
    health_bureau = "health_bureau"
    civil_affairs = "civil_affairs"
    carer = "carer"


HUMAN_ROLES = (
    Role.county_admin,
    Role.cadre,
    Role.village_rep,
    Role.hotline_operator,
    Role.leader,
    Role.carer,
)
MACHINE_ROLES = (Role.health_bureau, Role.civil_affairs)

ALL_PERMISSIONS = frozenset(
    {
        "branches:read",
        "branches:write",
        "users:admin",
        "audit:read",
        "settings:admin",
        "pii:read",
        "reports:read",
        "jobs:read",
        "members:read",
        "members:write",
        "activities:read",
        "activities:write",
        "activities:verify",
        "volunteers:read",
        "volunteers:write",
        "volunteers:approve",
        "tickets:read",
        "tickets:write",
        "tickets:stats",
        "women:read",
        "women:write",
        "screenings:read",
        "screenings:write",
        "screenings:batch",
        "screenings:stats",
        "followups:read",
        "followups:write",
        "aid:read",
        "aid:write",
        "aid:verify",
        "aid:approve",
        "events:read",
        "webhooks:admin",
        "children:read",
        "children:write",
        "children:visit",
        "homes:read",
        "homes:write",
        "homes:inspect",
        "pairings:read",
        "pairings:write",
        "pairings:visit",
    }
)

_READS = {p for p in ALL_PERMISSIONS if p.endswith((":read", ":stats"))}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.county_admin: ALL_PERMISSIONS - {"screenings:batch"},
    Role.cadre: frozenset(
        {
            "branches:read",
            "pii:read",
            "reports:read",
            "jobs:read",
            "members:read",
            "members:write",
            "activities:read",
            "activities:write",
            "activities:verify",
            "volunteers:read",
            "volunteers:write",
            "volunteers:approve",
            "tickets:read",
            "tickets:write",
            "tickets:stats",
            "women:read",
            "women:write",
            "screenings:read",
            "screenings:write",
            "screenings:stats",
            "followups:read",
            "followups:write",
            "aid:read",
            "aid:write",
            "children:read",
            "children:write",
            "homes:read",
            "homes:write",
            "homes:inspect",
            "pairings:read",
            "pairings:write",
            "pairings:visit",
        }
    ),
    Role.village_rep: frozenset(
        {
            "children:read",
            "children:write",
            "homes:read",
            "homes:write",
            "pairings:read",
            "pairings:write",
            "pairings:visit",
            "branches:read",
            "reports:read",
            "jobs:read",
            "members:read",
            "activities:read",
            "activities:write",
            "volunteers:read",
            "volunteers:write",
            "tickets:read",
            "tickets:write",
            "women:read",
            "women:write",
            "screenings:read",
            "followups:read",
            "followups:write",
        }
    ),
    Role.hotline_operator: frozenset(
        {
            "branches:read",
            "pii:read",
            "reports:read",
            "tickets:read",
            "tickets:write",
            "tickets:stats",
        }
    ),
    # Leaders read figures; they never see caller identity or case files.
    Role.leader: frozenset(_READS - {"pii:read", "tickets:read", "audit:read", "jobs:read", "events:read"}),
    Role.health_bureau: frozenset(
        {
            "branches:read",
            "women:read",
            "women:write",
            "screenings:read",
            "screenings:write",
            "screenings:batch",
            "followups:read",
            "events:read",
            "webhooks:admin",
        }
    ),
    # 爱心妈妈: only the children paired with her, only what a visit needs (see children.service.carer_view).
    Role.carer: frozenset({"children:visit", "pairings:visit"}),
    # Machine clients manage only the webhook subscriptions they made themselves (see integrations).
    Role.civil_affairs: frozenset(
        {
            "branches:read",
            "women:read",
            "pii:read",
            "aid:read",
            "aid:verify",
            "pairings:read",
            "events:read",
            "webhooks:admin",
        }
    ),
}

# Who may grant whom: a user administrator never grants a role above her own.
ROLE_RANK: dict[Role, int] = {
    Role.county_admin: 40,
    Role.cadre: 30,
    Role.hotline_operator: 30,
    Role.leader: 30,
    Role.village_rep: 10,
    Role.health_bureau: 0,
    Role.civil_affairs: 0,
    Role.carer: 5,
}


def permissions_for(role: str) -> frozenset[str]:
    try:
        return ROLE_PERMISSIONS.get(Role(role), frozenset())
    except ValueError:
        return frozenset()
