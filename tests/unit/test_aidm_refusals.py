"""The one refuse-when-spent check the AIDM tools share (shared/aidm/refusals.py)."""

from __future__ import annotations

import pytest

from shared.aidm.refusals import Refusal, answer_refusal, refuse_if_spent


def test_a_still_that_fits_or_an_unread_budget_passes() -> None:
    refuse_if_spent(None, 67_000)  # not read: the pipeline's cap still holds
    refuse_if_spent(67_000, 67_000)
    refuse_if_spent(1_000_000, 67_000, even=True)


@pytest.mark.parametrize(
    ("even", "words"), [(False, "; a still costs $0.07)"), (True, "; even a still costs $0.07)")]
)
def test_less_than_a_still_is_refused_in_the_tools_words(even: bool, words: str) -> None:
    with pytest.raises(Refusal) as refused:
        refuse_if_spent(10_000, 67_000, even=even)
    answer = answer_refusal(refused.value)
    assert (answer["status"], answer["reason"]) == ("refused", "budget")
    assert answer["error"] == (
        "Refused: this session's media budget is spent ($0.01 left"
        f"{words}. Do not call media tools again this session."
    )


def test_the_turn_limit_counts_only_its_kinds_and_says_how_many() -> None:
    from types import SimpleNamespace

    from shared.aidm.refusals import check_turn_limit

    published = [SimpleNamespace(kind=k) for k in ("npc_portrait", "cutscene", "location_visual")]
    ctx = SimpleNamespace(published=published)
    stills = ("npc_portrait", "location_visual")
    message = "{done} portraits or location visuals were already requested this turn."
    assert check_turn_limit(ctx, stills, 3, message) == 2  # type: ignore[arg-type]
    with pytest.raises(Refusal) as refused:
        check_turn_limit(ctx, stills, 2, message)  # type: ignore[arg-type]
    answer = answer_refusal(refused.value)
    assert answer["reason"] == "turn_limit"
    assert "2 portraits or location visuals were already requested this turn." in answer["error"]
