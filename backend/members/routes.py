from typing import Annotated

from fastapi import Query

from backend.core.deps import SessionDep, perm
from backend.core.paging import LIST_RESPONSES, PageDep
from backend.core.scope import get_scoped
from backend.core.uow import Router
from backend.members import service
from backend.members.models import Education, Gender, Member, MemberTitle, PoliticalStatus
from backend.members.schemas import (
    MemberCreate,
    MemberDetail,
    MemberList,
    MemberUpdate,
    PositionCreate,
    PositionPublic,
    PositionUpdate,
    RecommendationCreate,
    RecommendationPublic,
    RecommendationUpdate,
    TrainingCreate,
    TrainingPublic,
)

router = Router(prefix="/members", tags=["members"])
MembersRead = perm("members:read")
MembersWrite = perm("members:write")


@router.get("", response_model=MemberList, responses=LIST_RESPONSES)
def list_members(
    session: SessionDep,
    principal: MembersRead,
    page: PageDep,
    under: Annotated[int | None, Query(description="只看某组织及其全部下级")] = None,
    branch_id: Annotated[int | None, Query(description="只看某一组织")] = None,
    title: Annotated[MemberTitle | None, Query(description="现任职务")] = None,
    part_time: Annotated[bool | None, Query(description="现任职务是否兼职")] = None,
    trained_this_year: Annotated[bool | None, Query(description="今年是否参加过培训")] = None,
    talent_pool: Annotated[bool | None, Query(description="是否后备人才")] = None,
    gender: Gender | None = None,
    political_status: PoliticalStatus | None = None,
    education: Education | None = None,
):
    return service.list_members(
        session,
        principal,
        page,
        under=under,
        branch_id=branch_id,
        title=title,
        part_time=part_time,
        trained_this_year=trained_this_year,
        talent_pool=talent_pool,
        gender=gender,
        political_status=political_status,
        education=education,
    )


@router.post("", response_model=MemberDetail, status_code=201)
def create_member(session: SessionDep, principal: MembersWrite, body: MemberCreate):
    member = service.create_member(session, principal, body)
    return service.to_public(session, principal, member)


@router.get("/{member_id}", response_model=MemberDetail)
def get_member(session: SessionDep, principal: MembersRead, member_id: int):
    return service.to_public(session, principal, get_scoped(session, Member, member_id, principal))


@router.patch("/{member_id}", response_model=MemberDetail)
def update_member(session: SessionDep, principal: MembersWrite, member_id: int, body: MemberUpdate):
    member = get_scoped(session, Member, member_id, principal)
    service.update_member(session, principal, member, body)
    return service.to_public(session, principal, member)


@router.delete("/{member_id}", status_code=204)
def delete_member(session: SessionDep, principal: MembersWrite, member_id: int):
    service.delete_member(session, get_scoped(session, Member, member_id, principal))


@router.post("/{member_id}/positions", response_model=PositionPublic, status_code=201)
def add_position(session: SessionDep, principal: MembersWrite, member_id: int, body: PositionCreate):
    member = get_scoped(session, Member, member_id, principal)
    return service.position_to_public(service.add_position(session, principal, member, body))


@router.patch("/{member_id}/positions/{position_id}", response_model=PositionPublic)
def update_position(
    session: SessionDep, principal: MembersWrite, member_id: int, position_id: int, body: PositionUpdate
):
    member = get_scoped(session, Member, member_id, principal)
    position = service.get_position(session, member, position_id)
    return service.position_to_public(service.update_position(session, position, body))


@router.delete("/{member_id}/positions/{position_id}", status_code=204)
def delete_position(session: SessionDep, principal: MembersWrite, member_id: int, position_id: int):
    member = get_scoped(session, Member, member_id, principal)
    service.delete_position(session, service.get_position(session, member, position_id))


@router.post("/{member_id}/trainings", response_model=TrainingPublic, status_code=201)
def add_training(session: SessionDep, principal: MembersWrite, member_id: int, body: TrainingCreate):
    member = get_scoped(session, Member, member_id, principal)
    return service.add_training(session, member, body)


@router.delete("/{member_id}/trainings/{training_id}", status_code=204)
def delete_training(session: SessionDep, principal: MembersWrite, member_id: int, training_id: int):
    service.delete_training(session, get_scoped(session, Member, member_id, principal), training_id)


@router.post("/{member_id}/recommendations", response_model=RecommendationPublic, status_code=201)
def add_recommendation(
    session: SessionDep, principal: MembersWrite, member_id: int, body: RecommendationCreate
):
    member = get_scoped(session, Member, member_id, principal)
    return service.add_recommendation(session, member, body)


@router.patch("/{member_id}/recommendations/{recommendation_id}", response_model=RecommendationPublic)
def update_recommendation(
    session: SessionDep,
    principal: MembersWrite,
    member_id: int,
    recommendation_id: int,
    body: RecommendationUpdate,
):
    member = get_scoped(session, Member, member_id, principal)
    return service.update_recommendation(session, member, recommendation_id, body)
