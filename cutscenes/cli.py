"""The `cutscenes` entry point: parse, check, run one command, answer with an
exit code (the codes: `cutscenes --help`, declared in parser.py)."""

from __future__ import annotations

import os
import sys

from cutscenes.args import CliError, one_line, require_backend
from cutscenes.commands import _load_local_env, state_file
from cutscenes.parser import parser

__all__ = ["main", "parser", "_load_local_env"]

# Commands that need Pub/Sub as well as Firestore.
PUBLISHES = frozenset({"trigger", "regenerate", "animate", "hide", "rewind", "preflight"})


def _error_line(exc: BaseException) -> str:
    """One line for an error the checks did not foresee."""
    from pydantic import ValidationError

    from shared.core.errors import validation_message

    name = type(exc).__name__
    if isinstance(exc, ValidationError):
        return f"invalid: {validation_message(exc)}"
    if name == "DefaultCredentialsError":
        from cutscenes.args import CREDENTIALS_HINT, LOCAL_HINT

        return f"no Google Cloud credentials: {LOCAL_HINT}, {CREDENTIALS_HINT}"
    if name in ("ServiceUnavailable", "RetryError", "DeadlineExceeded"):
        return (
            f"cannot reach Firestore or Pub/Sub ({name}): is the stack up? "
            "`cutscenes local up --detach`"
        )
    return f"{name}: {exc}"


def main(argv: list[str] | None = None) -> int:
    from shared.core import log

    args = parser().parse_args(argv)
    if args.command != "local":
        log.to_stderr()  # stdout carries only the command's answer
        _load_local_env()
    try:
        if args.command != "local":
            args.check(args)  # arguments that only make sense together
            if args.needs_backend:
                require_backend(state_file(), pubsub=args.command in PUBLISHES)
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"cutscenes {args.command}: error: {exc}", file=sys.stderr)
        return exc.code
    except Exception as exc:  # noqa: BLE001 - a CLI answers with a message, not a trace
        if os.environ.get("CUTSCENES_DEBUG"):
            raise
        print(f"cutscenes {args.command}: error: {one_line(_error_line(exc))}", file=sys.stderr)
        return 1
    finally:
        log.to_stderr(False)


if __name__ == "__main__":
    sys.exit(main())
