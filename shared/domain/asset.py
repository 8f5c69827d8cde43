"""An asset document as one typed, read-only record (docs/interface.md section 2).

The store reads a document into an `Asset` and writes fields back
(shared/store/assets.py); past that edge the stages see this record, never
a raw dict: what they decide on is typed here (its ids, status, its clip:
shared/domain/clip.py, and its planned Veo model), and nothing can be
changed in place, so a copy one stage read can never be mistaken for what
another wrote. A changed copy is made with `with_fields`.

It is also a read-only Mapping of the document's fields, for the few
fields no stage decides on (prompts, timings) and for code that serializes
the document whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from shared.domain.clip import Clip
from shared.domain.status import Status


class Asset(Mapping[str, Any]):
    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields: Mapping[str, Any] = MappingProxyType(dict(fields))

    # the Mapping of the document's fields

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Asset({dict(self._fields)!r})"

    def with_fields(self, **fields: Any) -> Asset:
        """A copy with these fields changed (what a write made of it)."""
        return Asset({**self._fields, **fields})

    def to_fields(self) -> dict[str, Any]:
        """The document's fields, to write or to serialize."""
        return dict(self._fields)

    # what the stages decide on

    @property
    def campaign_id(self) -> str:
        return str(self._fields["campaign_id"])

    @property
    def asset_id(self) -> str:
        return str(self._fields["asset_id"])

    @property
    def session_id(self) -> str | None:
        value = self._fields.get("session_id")
        return str(value) if value else None

    @property
    def status(self) -> Status:
        return Status(self._fields["status"])

    @property
    def clip(self) -> Clip:
        return Clip.from_doc(self._fields)

    @property
    def video_model(self) -> str | None:
        """The Veo model its clip is planned with (None: no clip planned)."""
        value = (self._fields.get("plan") or {}).get("video_model")
        return str(value) if value else None

    def stamp(self, key: str) -> datetime | None:
        value = self._fields.get(key)
        return value if isinstance(value, datetime) else None
