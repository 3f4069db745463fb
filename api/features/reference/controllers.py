"""London reference data: boroughs, BCUs, central units, skills, ranks, duty roles, event kinds."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from api.auth import allow
from api.db.engine import Reader
from api.db.repositories import policy_version
from api.features.common import Schema, problem_responses
from api.problems import ProblemError
from planner.domain import DUTY_ROLES, EVENT_KINDS, PRIORITIES, RANKS, SKILLS
from planner.reference import london


class BoroughOut(Schema):
    code: str
    name: str
    bcu: str
    inner: bool
    population: int
    lat: float
    lon: float
    yearly_crime: int


class BcuOut(Schema):
    code: str
    name: str
    boroughs: list[str]


class CentralUnitOut(Schema):
    code: str
    name: str
    base_borough: str


class Codes(Schema):
    items: list[str]


READ = allow("planner", "scheduler", "analyst", "admin")


class ReferenceController(Controller):
    path = "/reference"
    tags = ["reference"]
    guards = [READ]
    responses = problem_responses(401, 403)

    @get("/boroughs", operation_id="listBoroughs", summary="The 32 Met-policed boroughs")
    async def boroughs(self) -> list[BoroughOut]:
        """Boroughs with ONS code, BCU, population, centroid and yearly recorded crime."""
        return [
            BoroughOut(**{f: getattr(b, f) for f in BoroughOut.__struct_fields__}) for b in london().boroughs
        ]

    @get("/bcus", operation_id="listBcus", summary="The 12 Basic Command Units")
    async def bcus(self) -> list[BcuOut]:
        """Each BCU with the ONS codes of its boroughs."""
        return [BcuOut(code=b.code, name=b.name, boroughs=list(b.boroughs)) for b in london().bcus]

    @get("/central-units", operation_id="listCentralUnits", summary="Central units that supply events")
    async def central_units(self) -> list[CentralUnitOut]:
        """TSG, Mounted, Dogs and the other units outside the boroughs, with the borough they travel from."""
        return [
            CentralUnitOut(code=u.code, name=u.name, base_borough=u.base_borough)
            for u in london().central_units
        ]

    @get("/skills", operation_id="listSkills", summary="Skill codes")
    async def skills(self) -> Codes:
        """Skills an officer record may carry."""
        return Codes(items=list(SKILLS))

    @get("/ranks", operation_id="listRanks", summary="Rank codes")
    async def ranks(self) -> Codes:
        """Ranks, lowest first."""
        return Codes(items=list(RANKS))

    @get("/duty-roles", operation_id="listDutyRoles", summary="Officer duty roles")
    async def duty_roles(self) -> Codes:
        """Core duty roles; the policy's floors are per duty role."""
        return Codes(items=list(DUTY_ROLES))

    @get("/event-kinds", operation_id="listEventKinds", summary="Event kinds")
    async def event_kinds(self) -> Codes:
        """Kinds an event may have."""
        return Codes(items=list(EVENT_KINDS))

    @get("/priorities", operation_id="listPriorities", summary="Event priorities")
    async def priorities(self) -> Codes:
        """Priorities, most important first."""
        return Codes(items=list(PRIORITIES))


class SlotOut(Schema):
    label: str
    ranks: list[str]
    skills: list[str]
    count: int


class DeployableRoleOut(Schema):
    code: str  # what an event's demand names, e.g. "serial_l2"
    label: str
    size: int  # officers per unit of this role
    slots: list[SlotOut]


class DeployableRoleController(Controller):
    """Deployable roles come from the current policy (a serial's make-up is configuration)."""

    path = "/reference/deployable-roles"
    tags = ["reference"]
    guards = [READ]
    responses = problem_responses(401, 403)

    @get("/", operation_id="listDeployableRoles", summary="Roles an event may demand (current policy)")
    async def deployable_roles(self, reader: NamedDependency[Reader]) -> list[DeployableRoleOut]:
        """Serials, PSUs, commanders and single posts, with the ranks and skills of each slot."""
        found = await policy_version(reader, None)
        if found is None:
            raise ProblemError(404, "No policy stored.")
        return [
            DeployableRoleOut(
                code=code,
                label=role.label,
                size=role.size,
                slots=[
                    SlotOut(label=s.label, ranks=list(s.ranks), skills=list(s.skills), count=s.count)
                    for s in role.slots
                ],
            )
            for code, role in found[1].roles.items()
        ]
