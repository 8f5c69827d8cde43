"""What `cutscenes` needs before it runs a command: arguments that are right,
a stack or project it can reach, a campaign that exists. Each failure is one
line on stderr, never a traceback (docs/interface.md section 7):

  exit 2  a bad argument (usage)
  exit 1  no reachable stack or project, no credentials, an unknown campaign,
          any other error (and `--wait` giving up)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from shared.domain.ids import SCOPE_ID_RULE, is_request_id, is_scope_id

USAGE = 2
ERROR = 1
LOCAL_HINT = "run `cutscenes local up --detach`"
CREDENTIALS_HINT = (
    "or, for a Google Cloud project, set GOOGLE_CLOUD_PROJECT and credentials "
    "(`gcloud auth application-default login` or GOOGLE_APPLICATION_CREDENTIALS)"
)


class CliError(Exception):
    """A failure the user can act on: printed as one line, exit `code`."""

    def __init__(self, message: str, code: int = ERROR) -> None:
        super().__init__(one_line(message))
        self.code = code


def one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line: `cutscenes X: error: ...`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Any = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Also refuse arguments that argparse cannot relate (`cost` takes
        --campaign with --session, or --player): a subcommand declares
        `conflicts(args) -> message or None` with set_defaults."""
        parsed, extra = super().parse_known_args(args, namespace)
        conflicts = self._defaults.get("conflicts")
        if conflicts is not None:
            message = conflicts(parsed)
            if message:
                self.error(message)
        return parsed, extra

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")
        sys.exit(USAGE)


# ------------------------------------------------------------- argument types


def scope_id(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not is_scope_id(value):
            raise argparse.ArgumentTypeError(f"{what} {value[:60]!r} must be {SCOPE_ID_RULE}")
        return value

    check.__name__ = what  # argparse names the type in its messages
    return check


def request_id(value: str) -> str:
    if not is_request_id(value):
        raise argparse.ArgumentTypeError(
            f"request id {value[:60]!r} must be 8-128 characters of A-Z a-z 0-9 . _ : -"
        )
    return value


def user_id(value: str) -> str:
    if not 0 < len(value) <= 128 or value != value.strip():
        raise argparse.ArgumentTypeError(
            f"user id {value[:60]!r} must be 1-128 characters without surrounding spaces"
        )
    return value


def int_range(low: int, high: int, what: str) -> Callable[[str], int]:
    def check(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(
                f"must be an integer from {low} to {high}, not {value[:30]!r}"
            )
        return number

    check.__name__ = what
    return check


def number_range(
    low: float, high: float, what: str, unit: str, low_open: bool = False
) -> Callable[[str], float]:
    def check(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not (low < number if low_open else low <= number) or not number <= high:
            bound = f"more than {low:g}" if low_open else f"from {low:g}"
            raise argparse.ArgumentTypeError(
                f"must be a number {bound} to {high:g} {unit}, not {value[:30]!r}"
            )
        return number

    check.__name__ = what
    return check


def text(what: str, max_chars: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.strip() or len(value) > max_chars:
            raise argparse.ArgumentTypeError(f"must be 1-{max_chars} characters, not blank")
        return value

    check.__name__ = what
    return check


# --------------------------------------------------------- stack and project


def _answers(hostport: str, timeout_s: float = 2.0) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


def require_backend(state_file: Path, pubsub: bool = False) -> None:
    """A local stack that answers, or Google Cloud credentials; else CliError.

    Checked up front because the clients themselves would retry for a minute
    against a dead emulator, or end in a DefaultCredentialsError traceback."""
    firestore = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if firestore:
        hosts = [firestore] + (
            [os.environ["PUBSUB_EMULATOR_HOST"]]
            if pubsub and os.environ.get("PUBSUB_EMULATOR_HOST")
            else []
        )
        for host in hosts:
            if not _answers(host):
                raise CliError(
                    f"no local stack answers at {host} (it was stopped or it crashed): {LOCAL_HINT}"
                )
        return
    if _recorded_not_ready(state_file):
        raise CliError(
            f"the local stack recorded in {state_file} is still starting or "
            f"failed to start: wait for it, or `cutscenes local down` and {LOCAL_HINT}"
        )
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        google.auth.default()
    except DefaultCredentialsError:
        raise CliError(
            f"no local stack and no Google Cloud credentials: {LOCAL_HINT}, {CREDENTIALS_HINT}"
        ) from None
    if not os.environ.get("GOOGLE_CLOUD_PROJECT"):
        # Settings would fall back to the local demo project id.
        raise CliError(f"no Google Cloud project: set GOOGLE_CLOUD_PROJECT, or {LOCAL_HINT}")


def _recorded_not_ready(state_file: Path) -> bool:
    try:
        return json.loads(state_file.read_text()).get("ready") is False
    except (OSError, ValueError, AttributeError):
        return False


def require_campaign(campaign_id: str) -> Any:
    """The campaign, or CliError: a typo must not look like a rejected request."""
    from shared.store.campaigns import load_campaign

    campaign = load_campaign(campaign_id)
    if campaign is None:
        raise CliError(
            f"no campaign {campaign_id!r}: create it with `cutscenes configure "
            f"--campaign {campaign_id} --enable --member UID`"
        )
    return campaign
