import httpx
import pytest
from google.genai import errors

from shared.core.settings import get_settings
from shared.domain.locations import location_for, location_of_operation
from shared.store.connections import genai_client
from shared.store.media_models import start_outcome_unknown


@pytest.fixture
def env(monkeypatch):
    def set_env(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        genai_client.cache_clear()

    yield set_env
    get_settings.cache_clear()
    genai_client.cache_clear()


def test_each_model_goes_where_vertex_serves_it(env):
    env(VERTEX_LOCATION="us-central1", MEDIA_MODEL_LOCATIONS="")
    assert location_for("gemini-3.1-flash-image-preview") == "global"  # served from global only
    assert location_for("gemini-3-pro-image") == "us-central1"  # served there too
    assert location_for("veo-3.1-fast-generate-001") == "us-central1"
    assert location_for("some-model-the-catalog-lacks") == "us-central1"
    env(VERTEX_LOCATION="global")
    assert location_for("gemini-3-pro-image") == "global"
    assert location_for("veo-3.1-generate-001") == "us-central1"  # Veo is not on global


def test_operator_override_wins(env):
    env(MEDIA_MODEL_LOCATIONS=" veo-3.1-generate-001 = europe-west4 ,gemini-3-pro-image=global")
    assert location_for("veo-3.1-generate-001") == "europe-west4"
    assert location_for("gemini-3-pro-image") == "global"
    assert location_for("gemini-3.1-flash-image-preview") == "global"


def test_a_malformed_override_is_refused(env):
    from pydantic import ValidationError

    env(MEDIA_MODEL_LOCATIONS="veo-3.1-generate-001")
    with pytest.raises(ValidationError):
        get_settings()


def test_one_client_per_location_with_a_timeout(env):
    env(GENAI_EMULATOR_URL="http://127.0.0.1:9", MEDIA_IMAGE_TIMEOUT_S="7")
    a, b = genai_client("global"), genai_client("us-central1")
    assert a is genai_client("global") and a is not b
    assert (a._api_client.location, b._api_client.location) == ("global", "us-central1")
    assert a._api_client._http_options.timeout == 7000


def test_operation_names_carry_their_location():
    name = (
        "projects/p/locations/us-central1/publishers/google/models/m"
        "/operations/1f0e3c2a-6b7d-4e8f-9a0b-c1d2e3f40516"
    )
    assert location_of_operation(name) == "us-central1"
    assert location_of_operation("operations/1f0e3c2a-6b7d-4e8f-9a0b-c1d2e3f40516") is None


def api_error(code: int) -> errors.APIError:
    cls = errors.ClientError if code < 500 else errors.ServerError
    return cls(code, {"error": {"code": code, "message": "m", "status": "S"}})


@pytest.mark.parametrize(
    "code, unknown",
    [(400, False), (404, False), (429, False), (500, True), (503, True), (504, True)],
)
def test_which_failed_starts_may_have_created_a_job(code, unknown):
    assert start_outcome_unknown(api_error(code)) is unknown


def _httpx_families() -> list:
    """httpx, and httpx2: google-genai 3 sends through that vendored copy (it
    requires it, so from 3 on it must be there); older releases use httpx."""
    from importlib import import_module, metadata

    families = [httpx]
    if int(metadata.version("google-genai").split(".")[0]) >= 3:
        families.append(import_module("httpx2"))
    return families


def test_transport_failures_before_and_after_sending():
    for module in _httpx_families():
        assert not start_outcome_unknown(module.ConnectError("refused"))
        assert not start_outcome_unknown(module.ConnectTimeout("slow connect"))
        assert start_outcome_unknown(module.ReadTimeout("no answer"))
        assert start_outcome_unknown(module.RemoteProtocolError("dropped"))
