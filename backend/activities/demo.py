"""A year of activities across the demo county, with generated photos (a few images shared by hash) and sign-ins.

Most villages work all year, some stopped a few months ago, a few did nothing: the inactive list has rows.
"""

import io
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageDraw
from sqlmodel import Session

from backend.activities import photos as photo_store
from backend.activities.models import Activity, ActivityPhoto, ActivitySignIn
from backend.core.clock import CHINA_TZ
from backend.core.db import insert_ids, insert_returning, utcnow
from backend.core.scope import ancestor_values

TITLES = {
    "training": ["农村电商技能培训", "家政服务技能培训", "手工编织培训"],
    "rights_publicity": ["三八维权周普法宣传", "反家暴法宣传进村", "12·4 宪法日宣传"],
    "jinguo_jiangong": ["巾帼建功标兵评选", "巾帼文明岗创建"],
    "family_campaign": ["最美家庭评选", "五好文明家庭表彰"],
    "family_education": ["家长学校开课", "家庭教育讲座"],
    "left_behind_children": ["留守儿童之家暑期活动", "爱心妈妈结对帮扶"],
    "health_talk": ["两癌防治知识讲座", "妇女健康义诊"],
    "volunteer_service": ["巾帼志愿者敬老服务", "环境卫生整治志愿行动"],
    "culture_sport": ["广场舞比赛", "妇女文艺汇演"],
    "other": ["走访慰问困难妇女"],
}
TARGETS = {
    "left_behind_children": "留守儿童",
    "health_talk": "农村妇女",
    "family_education": "家长",
    "volunteer_service": "空巢老人",
}
PALETTE = [(214, 64, 69), (66, 133, 180), (92, 160, 90), (230, 160, 60), (150, 90, 170), (60, 160, 160)]


def _demo_images() -> list[photo_store.StoredImage]:
    """Six small generated pictures, stored once each; every demo photo row points at one of them."""
    stored = []
    for i, color in enumerate(PALETTE):
        img = Image.new("RGB", (640, 480), color)
        draw = ImageDraw.Draw(img)
        for k in range(6):
            shade = tuple(min(255, c + 25 * k) for c in color)
            draw.ellipse((60 + 70 * k, 120 + 20 * (k % 2), 160 + 70 * k, 320), fill=shade)
        draw.rectangle((0, 400, 640, 480), fill=(250, 250, 245))
        out = io.BytesIO()
        img.save(out, "JPEG" if i % 2 else "PNG", **({"quality": 70} if i % 2 else {}))
        stored.append(photo_store.store_image(out.getvalue()))
    return stored


def _at(day, rng) -> datetime:
    return datetime.combine(
        day, time(rng.choice([9, 9, 10, 14, 15]), rng.choice([0, 30])), tzinfo=CHINA_TZ
    ).astimezone(UTC)


def load(session: Session, ctx: Any) -> None:
    rng, today, now = ctx.rng, ctx.today, utcnow()
    images = _demo_images()
    organisers = [(t, rng.randrange(8, 16)) for t in ctx.townships]
    for v in ctx.villages:
        roll = rng.random()
        if roll < 0.12:
            continue  # 有组织无活动
        organisers.append((v, -rng.randrange(3, 7) if roll < 0.27 else rng.randrange(5, 14)))
    rows, extras = [], []
    for branch, count in organisers:
        stopped = count < 0  # worked early in the year, nothing in the last 4 months
        for _ in range(abs(count)):
            days_ago = rng.randrange(130, 365) if stopped else rng.randrange(-20, 365)
            day = today - timedelta(days=days_ago)
            starts = _at(day, rng)
            kind = rng.choice(list(TITLES))
            past = starts < now
            participants = rng.randrange(12, 120) if past else None
            documented = past and rng.random() < 0.85
            status = "planned"
            if past:
                status = "verified" if documented and rng.random() < 0.6 else "held"
            rows.append(
                {
                    "type": kind,
                    "title": rng.choice(TITLES[kind]),
                    "theme": None,
                    "venue": f"{branch.name}妇女之家" if branch.kind == "village" else f"{branch.name}会议室",
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=2),
                    "status": status,
                    "co_organisers": rng.choice([[], [], ["镇卫生院"], ["县司法局"], ["村委会", "镇文化站"]]),
                    "plan": "按月度工作计划开展" if rng.random() < 0.7 else None,
                    "participants": participants,
                    "households": participants // 2 if participants else None,
                    "target_group": TARGETS.get(kind),
                    "funds": rng.choice([None, None, 200, 500, 1200]),
                    "funds_source": "县妇联专项经费" if rng.random() < 0.3 else None,
                    "outcome": "活动顺利开展,群众反响良好" if past else None,
                    "photo_count": 0,
                    "signed_in": 0,
                    "cover_photo_id": None,
                    "created_by": "system:demo",
                    "held_at": starts + timedelta(hours=3) if past else None,
                    "verified_at": starts + timedelta(days=3) if status == "verified" else None,
                    "verified_by": "system:demo" if status == "verified" else None,
                    "verified_by_name": "乡镇妇联" if status == "verified" else None,
                    "verify_note": None,
                    "deleted_at": None,
                    "branch_id": branch.id,
                    **ancestor_values(branch),
                    "created_at": min(now, starts + timedelta(hours=3)) if past else now - timedelta(days=3),
                    "updated_at": now,
                }
            )
            extras.append((documented, participants))
    activity_t = Activity.__table__
    ids = insert_ids(session, activity_t, rows)
    photos, sheets, counts = [], [], []
    for activity_id, row, (documented, participants) in zip(ids, rows, extras, strict=True):
        if not documented:
            continue
        chosen = rng.sample(images, k=rng.choice([1, 1, 2, 3]))
        for img in chosen:
            photos.append(
                {
                    "activity_id": activity_id,
                    "sha256": img.sha256,
                    "content_type": img.content_type,
                    "size": img.size,
                    "width": img.width,
                    "height": img.height,
                    "thumb_sha256": img.thumb_sha256,
                    "caption": None,
                    "uploaded_by": "system:demo",
                    "created_at": row["created_at"],
                }
            )
        sheets.append(
            {
                "activity_id": activity_id,
                "head_count": participants,
                "names": None,
                "created_by": "system:demo",
                "created_at": row["created_at"],
            }
        )
        counts.append({"aid": activity_id, "photos": len(chosen), "signed": participants})
    photo_t = ActivityPhoto.__table__
    photo_ids = insert_returning(session, photo_t, photos, "id", "activity_id")
    session.execute(sa.insert(ActivitySignIn.__table__), sheets)
    cover: dict[int, int] = {}
    for pid, aid in photo_ids:
        cover.setdefault(aid, pid)
    for c in counts:
        c["cover"] = cover[c["aid"]]
    session.execute(
        sa.update(activity_t)
        .where(activity_t.c.id == sa.bindparam("aid"))
        .values(
            photo_count=sa.bindparam("photos"),
            signed_in=sa.bindparam("signed"),
            cover_photo_id=sa.bindparam("cover"),
        ),
        counts,
        execution_options={"synchronize_session": False},
    )
