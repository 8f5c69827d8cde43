"""MEDIA_MODEL_QUOTAS: a JSON object {model id: starts per minute}, refused at
load with a one-line message; MEDIA_VEO_STARTS_PER_MIN is the default for a
model it does not name."""

from __future__ import annotations

import pytest

from shared.core.settings import Settings, parse_model_quotas


def test_named_models_get_their_quota_and_the_rest_the_default():
    settings = Settings(
        MEDIA_VEO_STARTS_PER_MIN=10,
        MEDIA_MODEL_QUOTAS='{"veo-3.1-fast-generate-001": 50, "veo-3.1-lite-generate-001": 0}',
    )
    assert settings.veo_starts_per_min("veo-3.1-fast-generate-001") == 50
    assert settings.veo_starts_per_min("veo-3.1-lite-generate-001") == 0  # unpaced
    assert settings.veo_starts_per_min("veo-3.1-generate-001") == 10
    assert settings.veo_paced


def test_paced_when_only_one_model_is_named():
    assert not Settings().veo_paced
    assert Settings(MEDIA_MODEL_QUOTAS='{"veo-3.1-generate-001": 5}').veo_paced
    assert not Settings(MEDIA_MODEL_QUOTAS='{"veo-3.1-generate-001": 0}').veo_paced
    assert parse_model_quotas("  ") == {}


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("{not json", "not JSON"),
        ('[["veo-3.1-generate-001", 5]]', "JSON object"),
        ('{"veo-3.1-generate-001": "50"}', "whole number"),
        ('{"veo-3.1-generate-001": 2.5}', "whole number"),
        ('{"veo-3.1-generate-001": true}', "whole number"),
        ('{"veo-3.1-generate-001": -1}', "0..10000"),
        ('{"veo-3.1-generate-001": 10001}', "0..10000"),
        ('{"": 5}', "not a model id"),
        ('{"veo/3.1": 5}', "not a model id"),
    ],
)
def test_a_bad_setting_is_refused_at_load_in_one_line(raw, names):
    with pytest.raises(ValueError) as caught:
        parse_model_quotas(raw)
    message = str(caught.value)
    assert "\n" not in message and names in message and "MEDIA_MODEL_QUOTAS" in message
    with pytest.raises(ValueError):
        Settings(MEDIA_MODEL_QUOTAS=raw)
