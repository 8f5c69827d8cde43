"""The one guard every stage calls before it works on an asset: the same
three questions in the same order (terminal? hidden? past its deadline?),
so no stage forgets one or asks them in another order."""

from __future__ import annotations

from shared.domain.asset import Asset
from shared.domain.clip import Clip
from shared.domain.status import is_terminal
from shared.pipeline import hiding
from shared.pipeline.checks import expired
from shared.pipeline.lifecycle import close_expired


def may_go_on(doc: Asset) -> bool:
    """Whether a stage may work on `doc`; if not, the asset is ended here as
    it must be (a hidden one stops, holds released; an expired one closes)."""
    if is_terminal(doc):
        return False
    if doc.get("hidden"):  # checked before every paid call
        hiding.stop(doc)
        return False
    if expired(doc):
        close_expired(doc)
        return False
    return True


def clip_called(doc: Asset) -> bool:
    """Whether Veo was (or may have been) asked for this attempt's clip."""
    return Clip.from_doc(doc).called
