"""Signing a player in: a custom token for a member, exchanged on the Auth emulator.

The path a hosted AIDM takes (docs/players.md): its backend calls
`MediaClient.create_custom_token` (or `cutscenes player-token`), the page signs
in with it, and the ID token it gets is one media_api and the rules accept.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shared.client import MediaClient, configure_campaign
from tests.auth_tokens import sign_in
from tests.integration.test_media_api import call

pytestmark = pytest.mark.integration


def test_a_members_custom_token_signs_in_to_a_real_id_token(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice"])
    custom = MediaClient().create_custom_token("c1", "alice")
    answer = sign_in(stack.env["FIREBASE_AUTH_EMULATOR_HOST"], custom)
    assert set(answer) >= {"idToken", "refreshToken"}, answer
    assert call(stack, "/campaigns/c1/gallery", token=answer["idToken"]).status == 200


def test_no_token_for_a_non_member_or_an_unknown_campaign(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice"])
    with pytest.raises(PermissionError):
        MediaClient().create_custom_token("c1", "mallory")
    with pytest.raises(LookupError):
        MediaClient().create_custom_token("ghost", "alice")


def test_the_cli_prints_a_token_alone_and_refuses_in_one_line(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice"])
    env = {**os.environ, **stack.env, "CUTSCENES_NO_LOCAL": "1"}
    cli = [sys.executable, "-m", "cutscenes.cli", "player-token", "--campaign", "c1"]
    ok = subprocess.run(
        [*cli, "--user", "alice"], env=env, capture_output=True, text=True, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    token = ok.stdout.strip()
    assert "\n" not in token
    id_token = sign_in(stack.env["FIREBASE_AUTH_EMULATOR_HOST"], token)["idToken"]
    assert call(stack, "/campaigns/c1/gallery", token=id_token).status == 200
    refused = subprocess.run(
        [*cli, "--user", "mallory"], env=env, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "not a member" in refused.stderr
