"""Request bodies of the partners' API: SPOCs, channels, subscriptions (unknown fields refused)."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from app.domain.enums import Entity, Language, Severity, ZoneKind
from app.domain.schema import Input, OrgCode
from app.partners.models import AreaKind, ChannelKind

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
