"""Request bodies of the alerting API, validated at the edge (unknown fields refused)."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from app.alerts.enums import (
    CapCategory,
    CapSeverity,
    CapStatus,
    Certainty,
    ChannelKind,
    Language,
    MsgType,
    Urgency,
)
from app.alerts.rules import AreaKind
from app.domain.enums import Entity, Severity, ZoneKind
from app.domain.schema import Input, OrgCode, Time

Name = Annotated[str, Field(min_length=1, max_length=200)]
# A plausible address; the SMTP server has the last word (a bounce shows as the channel's error).
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z_-]+$")]


class Body(Input):
    model_config = ConfigDict(str_strip_whitespace=True)


class ContactIn(Body):
    name: Name
    role: Annotated[str, Field(max_length=200)] | None = None
    language: Language
    email: Email | None = None
    rank: Annotated[int, Field(ge=0, le=1000)] = 0
    on_duty_from: time | None = None
    on_duty_to: time | None = None
    active: bool = True

    @model_validator(mode="after")
    def _window(self) -> ContactIn:
        if (self.on_duty_from is None) != (self.on_duty_to is None):
            raise ValueError("on_duty_from and on_duty_to go together (both unset: always)")
        return self


class ContactPatch(Body):
    name: Name | None = None
    role: Annotated[str, Field(max_length=200)] | None = None
    language: Language | None = None
    email: Email | None = None
    rank: Annotated[int, Field(ge=0, le=1000)] | None = None
    on_duty_from: time | None = None
    on_duty_to: time | None = None
    active: bool | None = None


class ChannelIn(Body):
    kind: ChannelKind
    url: Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$")] | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _url(self) -> ChannelIn:
        if self.kind == ChannelKind.webhook and not self.url:
            raise ValueError("a webhook channel needs a url (http:// or https://)")
        if self.kind == ChannelKind.email and self.url:
            raise ValueError("an e-mail channel has no url: it writes to the SPOCs' addresses")
        return self


class ChannelPatch(Body):
    url: Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$")] | None = None
    enabled: bool | None = None


class SubscriptionIn(Body):
    organisation: OrgCode | None = Field(
        default=None, description="Partners may leave it out: their own organisation."
    )
    name: Name
    entities: Annotated[list[Entity], Field(min_length=1)] = [Entity.incident]
    categories: Annotated[list[str], Field(min_length=1, max_length=50)] | None = None
    min_severity: Severity | None = None
    parent_entities: list[Literal["planned_event", "demonstration"]] | None = None
    area_kind: AreaKind = AreaKind.region
    zone_id: uuid.UUID | None = None
    zone_kinds: Annotated[list[ZoneKind], Field(min_length=1)] | None = None
    codes: Annotated[list[Code], Field(min_length=1, max_length=50)] | None = None
    polygon: dict[str, Any] | None = None
    active: bool = True

    @model_validator(mode="after")
    def _area(self) -> SubscriptionIn:
        needs = {
            AreaKind.zone: ("zone_id", self.zone_id),
            AreaKind.zone_kinds: ("zone_kinds", self.zone_kinds),
            AreaKind.municipalities: ("codes", self.codes),
            AreaKind.police_zones: ("codes", self.codes),
            AreaKind.polygon: ("polygon", self.polygon),
        }
        if self.area_kind in needs and not needs[self.area_kind][1]:
            raise ValueError(f"area_kind {self.area_kind.value} needs {needs[self.area_kind][0]}")
        return self


class SubscriptionPatch(Body):
    name: Name | None = None
    active: bool | None = None
    min_severity: Severity | None = None
    categories: Annotated[list[str], Field(min_length=1, max_length=50)] | None = None


class TextIn(Body):
    headline: Annotated[str, Field(min_length=1, max_length=300)]
    description: Annotated[str, Field(max_length=10_000)] | None = None
    instruction: Annotated[str, Field(max_length=10_000)] | None = None


class ObjectRef(Body):
    entity: Entity
    id: uuid.UUID


class AreaIn(Body):
    object: ObjectRef | None = None
    geometry: dict[str, Any] | None = None
    description: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _one(self) -> AreaIn:
        if self.object is not None and self.geometry is not None:
            raise ValueError("give the area as an object or as a geometry, not both")
        return self


class AlertIn(Body):
    status: CapStatus = CapStatus.Actual
    msg_type: MsgType = MsgType.Alert
    references: uuid.UUID | None = None
    severity: CapSeverity
    urgency: Urgency = Urgency.Immediate
    certainty: Certainty = Certainty.Observed
    categories: Annotated[list[CapCategory], Field(min_length=1)] = [CapCategory.Safety]
    event: Name
    texts: Annotated[dict[Language, TextIn], Field(min_length=1)]
    area: AreaIn | None = None
    organisations: list[OrgCode] | Literal["all"] | None = Field(
        default=None,
        description='Partner codes or "all"; an Update or Cancel defaults to the '
        "partners of the alert it references.",
    )
    expires_at: Time | None = None

    @model_validator(mode="after")
    def _references(self) -> AlertIn:
        if self.msg_type == MsgType.Alert and self.references is not None:
            raise ValueError("an Alert references nothing; use msg_type Update or Cancel")
        if self.msg_type != MsgType.Alert and self.references is None:
            raise ValueError(f"a {self.msg_type.value} names the alert it references")
        if self.msg_type == MsgType.Alert and not self.organisations:
            raise ValueError('organisations: name the partners, or "all"')
        return self


class AckIn(Body):
    organisation: OrgCode | None = Field(
        default=None, description="SITCEN staff recording an acknowledgement on a partner's behalf"
    )


class CampaignIn(Body):
    name: Name
    organisations: Annotated[list[OrgCode], Field(min_length=1)] | Literal["all"]
    texts: dict[Language, TextIn] | None = None
