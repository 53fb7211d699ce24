"""Who may see who filed a complaint. The one place that decides it; every display goes through here.

- Anonymous: nobody but the complainant — no official (county included), cadre, operator or follower — learns
  who filed it. The system keeps the account only to push progress back to the complainant.
- 实名: the county office (县整规办) sees name and phone, to verify and call back; nobody else does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.complaint_models import Complaint
from storage.models import Role, User


class Audience(StrEnum):
    COMPLAINANT = "complainant"
    COUNTY = "county"  # 县整规办, in chat or in an export
    TOWNSHIP = "township"
    CADRE = "cadre"
    OPERATOR = "operator"  # a business owner, possibly the unit complained about
    PUBLIC = "public"  # residents, followers of the complaint


@dataclass(frozen=True)
class Identity:
    """What a viewer may know about the complainant. `name`/`phone` are None when they may not see them."""

    anonymous: bool
    name: str | None = None
    phone: str | None = None

    @property
    def visible(self) -> bool:
        return self.name is not None or self.phone is not None


ROLE_AUDIENCE = {
    Role.COUNTY: Audience.COUNTY,
    Role.TOWNSHIP: Audience.TOWNSHIP,
    Role.CADRE: Audience.CADRE,
    Role.OPERATOR: Audience.OPERATOR,
    Role.RESIDENT: Audience.PUBLIC,
}


def audience_of(viewer: User, complaint: Complaint) -> Audience:
    if viewer.id == complaint.complainant_id:
        return Audience.COMPLAINANT
    return ROLE_AUDIENCE.get(Role(viewer.role), Audience.PUBLIC)


def complainant_identity(complaint: Complaint, audience: Audience) -> Identity:
    if audience is Audience.COMPLAINANT or (audience is Audience.COUNTY and not complaint.anonymous):
        return Identity(complaint.anonymous, complaint.complainant_name, complaint.complainant_phone)
    return Identity(complaint.anonymous)


def may_read_description(audience: Audience) -> bool:
    """The complainant's own words can identify them: followers and the public see status and history only."""
    return audience in (Audience.COMPLAINANT, Audience.COUNTY, Audience.TOWNSHIP)
