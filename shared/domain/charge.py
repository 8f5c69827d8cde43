"""The charge message (docs/interface.md, "Exported charges"): one per settled
charge, shaped to map one to one onto a host's per-call cost table.

Its JSON Schema (docs/schema/media.charge.v1.json) is generated from this model
by `python -m infra.contract`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.ids import REQUEST_ID_RE, SCOPE_ID_RE

CHARGE_SCHEMA = "media.charge.v1"
# The host's turn id (request field turn_id): the scope-id charset without the
# reserved-form rule, since it never names a document.
TURN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
# Exact: ledger micro-dollars printed as a decimal, never a float.
COST_USD_PATTERN = r"^[0-9]+(\.[0-9]{1,6})?$"


class Charge(BaseModel):
    # Consumers should ignore fields they do not know: later versions may add some.
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_: Literal["media.charge.v1"] = Field(alias="schema")
    charge_id: str = Field(
        min_length=1,
        max_length=512,
        description="Stable (the ledger's charge key): de-duplicate on it.",
    )
    campaign_id: str = Field(pattern=SCOPE_ID_RE.pattern)
    session_id: str = Field(pattern=SCOPE_ID_RE.pattern)
    player_id: str | None = Field(
        min_length=1, max_length=128, description="null when the request had none"
    )
    asset_id: str = Field(pattern=SCOPE_ID_RE.pattern)
    request_id: str = Field(pattern=REQUEST_ID_RE.pattern)
    turn_number: int = Field(ge=0, le=10_000_000)
    turn_id: str | None = Field(
        pattern=TURN_ID_PATTERN, description="null when the request had none"
    )
    provider: Literal["vertex-ai"]
    model: str = Field(min_length=1, max_length=200)
    phase: Literal["image", "video"]
    units: dict[str, int | float | str] = Field(
        description=(
            'What was billed, in the price\'s own units: e.g. {"images": 1} for a '
            'still, {"seconds": 8, "resolution": "720p"} for a clip.'
        )
    )
    cost_usd: str = Field(
        pattern=COST_USD_PATTERN, description="US dollars as an exact decimal string"
    )
    settled_at: datetime = Field(description="RFC 3339 date-time of the settlement")
