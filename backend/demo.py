"""The demo county: 桃源县 from the official division codes, its committees, logins, and each domain's demo rows."""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import Session, select

from backend.auth.models import ApiClient, User
from backend.auth.roles import Role
from backend.branches.divisions import import_divisions
from backend.branches.models import Branch, BranchKind
from backend.branches.service import place_under
from backend.core.config import get_settings
from backend.core.db import Database
from backend.core.security import hash_password

DEMO_PASSWORD = "HalfSky-demo-2026"
DEMO_COUNTY_CODE = "430725"
DIVISIONS_DIR = Path(__file__).resolve().parent / "data" / "divisions-430725"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "秀英桂英秀兰玉兰桂兰秀珍凤英玉梅凤兰丽华玉珍春梅海燕小红丽娟艳红晓燕雪梅美玲慧敏婷婷静芳佳丽雅琴淑华红霞翠花金凤冬梅月娥素芬彩霞巧云"


def demo_name(rng: random.Random) -> str:
    given = GIVEN[rng.randrange(0, len(GIVEN) - 1, 2) :][:2]
    return rng.choice(SURNAMES) + (given if rng.random() < 0.8 else given[0])


@dataclass
class DemoContext:
    """What each domain's demo loader builds on."""

    rng: random.Random
    county: Branch
    townships: list[Branch]
    villages: list[Branch]
    users: dict[str, User] = field(default_factory=dict)
    today: date = field(default_factory=date.today)

    def villages_of(self, township: Branch) -> list[Branch]:
        return [v for v in self.villages if v.parent_id == township.id]


def _domain_loaders() -> list:
    """Each domain's `demo.load(session, ctx)`, in the order they build on each other."""
    loaders: list = []
    from backend.tickets import demo as tickets_demo

    loaders.append(tickets_demo.load)
    from backend.activities import demo as activities_demo
    from backend.members import demo as members_demo
    from backend.volunteers import demo as volunteers_demo

    loaders += [members_demo.load, activities_demo.load, volunteers_demo.load]
    from backend.screenings import demo as screenings_demo

    loaders.append(screenings_demo.load)
    from backend.children import demo as children_demo

    loaders.append(children_demo.load)
    return loaders


def _committee(session: Session, parent: Branch, name: str, kind: BranchKind) -> Branch:
    node = Branch(name=name, kind=kind)
    place_under(node, parent)
    session.add(node)
    session.flush()
    return node


def _decorate_branches(session: Session, rng: random.Random, branches: list[Branch], today: date) -> None:
    for b in branches:
        b.chair_name = demo_name(rng)
        b.chair_phone = f"139{rng.randrange(10**7, 10**8)}"
        started = today - timedelta(days=rng.randrange(200, 2200))
        b.term_started_on = started
        b.term_due_on = started + timedelta(days=5 * 365)
        if b.kind in (BranchKind.village, BranchKind.community) and rng.random() < 0.7:
            flags = [rng.random() < 0.8 for _ in range(6)]
            b.womens_home = {
                "venue": f"{b.name}村部二楼" if b.kind == BranchKind.village else f"{b.name}服务中心",
                "has_organisation": flags[0],
                "has_team": flags[1],
                "has_venue": True,
                "has_rules": flags[3],
                "has_funding": flags[4],
                "has_activities": flags[5],
                "opening_hours": "周一至周五 8:30-17:30",
                "last_inspected_on": (today - timedelta(days=rng.randrange(10, 400))).isoformat(),
            }


def load_demo(db: Database, *, today: date | None = None) -> bool:
    """Load the demo county into an empty database. Returns False (and does nothing) if it is not empty."""
    if get_settings().is_production:
        raise RuntimeError("the demo county cannot be loaded in production (HALFSKY_ENV=production)")
    with db.session(write=True) as session:
        if session.exec(select(Branch.id).limit(1)).first() is not None:
            return False
        session.info["actor"], session.info["actor_name"] = "system:demo", "演示数据"
        rng = random.Random(20260308)
        today = today or date.today()
        import_divisions(session, DIVISIONS_DIR, under=DEMO_COUNTY_CODE)
        county = session.exec(select(Branch).where(Branch.code == DEMO_COUNTY_CODE)).one()
        county.chair_name = "周桂兰"
        townships = list(
            session.exec(select(Branch).where(Branch.parent_id == county.id).order_by(Branch.code))
        )
        villages = list(
            session.exec(select(Branch).where(Branch.depth == county.depth + 2).order_by(Branch.code))
        )
        for name, kind in (
            ("桃源县直机关妇委会", BranchKind.organ_committee),
            ("桃源县人民医院妇委会", BranchKind.organ_committee),
            ("桃源县第一中学妇委会", BranchKind.organ_committee),
            ("湖南桃花源茶业有限公司妇委会", BranchKind.enterprise_committee),
            ("桃源县工业园非公企业妇委会", BranchKind.enterprise_committee),
        ):
            _committee(session, county, name, kind)
        _decorate_branches(session, rng, [county, *townships, *villages], today)
        ctx = DemoContext(rng=rng, county=county, townships=townships, villages=villages, today=today)
        _demo_logins(session, ctx)
        session.flush()
        for loader in _domain_loaders():
            loader(session, ctx)
            session.flush()
    return True


def _demo_logins(session: Session, ctx: DemoContext) -> None:
    first, second = ctx.townships[0], ctx.townships[1]
    people = [
        ("county.admin", "周桂兰", Role.county_admin, ctx.county),
        ("leader", "李淑华", Role.leader, ctx.county),
        ("hotline.operator", "陈海燕", Role.hotline_operator, ctx.county),
        ("township.cadre", "王秀英", Role.cadre, first),
        ("township2.cadre", "刘玉梅", Role.cadre, second),
        ("village.rep", "张春梅", Role.village_rep, ctx.villages_of(first)[0]),
        ("village2.rep", "杨丽娟", Role.village_rep, ctx.villages_of(second)[0]),
    ]
    password_hash = hash_password(DEMO_PASSWORD)
    for username, display_name, role, branch in people:
        user = User(
            username=username, display_name=display_name, role=role.value, password_hash=password_hash
        )
        user.place_in(branch)
        session.add(user)
        ctx.users[username] = user
    secret_hash = hash_password(DEMO_PASSWORD)
    for client_id, name, role in (
        ("health-bureau", "桃源县卫生健康局", Role.health_bureau),
        ("civil-affairs", "桃源县民政局", Role.civil_affairs),
    ):
        client = ApiClient(client_id=client_id, name=name, role=role.value, secret_hash=secret_hash)
        client.place_in(ctx.county)
        session.add(client)
