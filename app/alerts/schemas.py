"""Request bodies of the alerting API, validated at the edge (unknown fields refused)."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import Field, model_validator

from app.alerts.enums import CapCategory, CapSeverity, CapStatus, Certainty, MsgType, Urgency
from app.domain.enums import Entity, Language
from app.domain.schema import OrgCode, Time
from app.partners.schemas import Body, Name


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


def _b64url(value: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, binascii.Error):
        raise ValueError(f"{what} is not base64url") from None


class PushKeysIn(Body):
    """The keys of a browser's PushSubscription (RFC 8291): `p256dh`, the device's P-256 public
    key (65 bytes, uncompressed), and `auth`, its 16-byte authentication secret, base64url."""

    p256dh: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+=*$")]
    auth: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")]

    @model_validator(mode="after")
    def _keys(self) -> PushKeysIn:
        point = _b64url(self.p256dh, "p256dh")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError:
            raise ValueError("p256dh is not a P-256 public key (65 bytes, uncompressed)") from None
        if len(_b64url(self.auth, "auth")) != 16:
            raise ValueError("auth must be 16 bytes (base64url)")
        self.p256dh, self.auth = self.p256dh.rstrip("="), self.auth.rstrip("=")
        return self


class PushSubscriptionIn(Body):
    """A device's push subscription, as `PushSubscription.toJSON()` gives it, with the language
    its notifications are to be in. `expirationTime` (the browser's) is accepted and unused."""

    endpoint: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^https?://\S+$")]
    keys: PushKeysIn
    language: Language
    label: Annotated[str, Field(max_length=200)] | None = None
    expirationTime: int | None = None  # the browser's own spelling
