"""Request bodies of the partners' API: SPOCs, channels, subscriptions (unknown fields refused)."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from app.domain.enums import Entity, Language, Severity, ZoneKind
from app.domain.schema import Input, OrgCode
from app.partners.models import AreaKind, ChannelKind

Name = Annotated[str, Field(min_length=1, max_length=200)]
# A plausible address; the SMTP server has the last word (a bounce shows as the channel's error).
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
FunctionName = Annotated[str, Field(min_length=1, max_length=200)]
Talkgroup = Annotated[str, Field(min_length=1, max_length=64)]
Notes = Annotated[str, Field(max_length=2000)]
ConfirmDays = Annotated[int, Field(ge=1, le=3650)]


def _e164(value: str) -> str:
    """A number as people write it in Belgium (02 501 05 11, 0475 12 34 56, +32 2 501 05 11,
    0032…) or abroad with its country code, checked against the numbering plan of its country
    (libphonenumber's metadata) and stored in E.164 (+3225010511, and ";ext=12" for an
    extension): one form to dial from a console, to compare and to search."""
    try:
        number = phonenumbers.parse(value, "BE")
    except phonenumbers.NumberParseException as error:
        raise PydanticCustomError(
            "phone", "not a phone number: {value}", {"value": value}
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise PydanticCustomError(
            "phone",
            "no such number in the numbering plan: {value} (Belgian numbers as 02 501 05 11 or "
            "+32 2 501 05 11; others with their country code)",
            {"value": value},
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # A switchboard's extension is kept, in RFC 3966's form: dropped, the call reaches nobody.
    return f"{e164};ext={number.extension}" if number.extension else e164


Phone = Annotated[str, Field(min_length=3, max_length=40), AfterValidator(_e164)]
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
        if self.kind == ChannelKind.push:
            raise ValueError(
                "push is not a partner channel: each user subscribes a device on it "
                "(POST /api/push/subscriptions)"
            )
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

    @field_validator("entities")
    @classmethod
    def _not_the_threat_level(cls, entities: list[Entity]) -> list[Entity]:
        # Every partner is alerted of every threat level OCAM/CUTA sets (app.threat): a rule
        # on it would only send each partner the same news twice.
        if Entity.threat_level in entities:
            raise ValueError(
                "every partner is alerted of every threat level already (docs/threat-level.md): "
                "no subscription is needed"
            )
        return entities

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


class DirectoryEntryIn(Body):
    organisation: OrgCode | None = Field(
        default=None, description="Partners may leave it out: their own organisation."
    )
    function: FunctionName
    name: Name | None = None
    phone_24_7: Phone | None = None
    phone: Phone | None = None
    email: Email | None = None
    radio_talkgroup: Talkgroup | None = None
    notes: Notes | None = None
    active: bool = True


class DirectoryEntryPatch(Body):
    """Every field but the organisation: an entry moves to another by being recreated there."""

    function: FunctionName | None = None
    name: Name | None = None
    phone_24_7: Phone | None = None
    phone: Phone | None = None
    email: Email | None = None
    radio_talkgroup: Talkgroup | None = None
    notes: Notes | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _kept(self) -> DirectoryEntryPatch:
        for name in ("function", "active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        return self


class ScheduleIn(Body):
    confirm_days: ConfirmDays | None = Field(
        description="Days between confirmations; null: SITCEN_DIRECTORY_CONFIRM_DAYS."
    )
