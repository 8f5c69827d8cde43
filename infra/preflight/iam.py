"""Every function's service account holds every permission its code uses.

What the code uses is infra/iam/needs.py (each call, as the permission Google
checks). On the local stack, what the accounts hold is what terraform/ grants
them (infra/iam/grants.py, the reader the local stack enforces with, so
MEDIA_LOCAL_TERRAFORM_DIR is honoured). On a real project it is asked of
Google: Policy Troubleshooter (iam:troubleshoot) answers whether a principal
has a permission on a resource, from the project's real policies, without
acting as that principal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.iam import needs as needs_table
from infra.iam.needs import Need
from infra.preflight.rows import Row, failed, passed

# The functions, by entry point; AIDM's principals are the host's to grant.
FUNCTIONS = ("render_still", "animate_still", "finish_clip", "janitor", "media_api")

# (identity, need) -> None when held, else why not.
Holds = Callable[[str, Need], str | None]

FIX = (
    "grant it in terraform/modules/media-pipeline/iam.tf (docs/permissions.md says which "
    "call needs what) and `terraform apply`"
)


def rows(holds: Holds, identities: tuple[str, ...] = FUNCTIONS) -> list[Row]:
    out = []
    for identity in identities:
        unique = {(n.permission, n.resource): n for n in needs_table.NEEDS[identity]}
        lacking = []
        for key in sorted(unique):
            why = holds(identity, unique[key])
            if why is not None:
                lacking.append(f"{key[0]} on {key[1]} ({why})")
        check = f"{identity}'s service account"
        if lacking:
            out.append(failed("iam", check, "lacks " + "; ".join(lacking), FIX))
        else:
            out.append(passed("iam", check, f"holds all {len(unique)} permissions its code uses"))
    return out


def terraform_holds(root: Path) -> Holds:
    """What terraform/ at `root` grants (the local stack's own IAM)."""
    from infra.iam.grants import covers, load
    from infra.iam.policy import cache_dir

    found = load(root, cache_dir())

    def holds(identity: str, need: Need) -> str | None:
        mine = [g for g in found if g.identity == identity]
        if any(
            need.permission in g.permissions and covers(g.resource, need.resource) for g in mine
        ):
            return None
        return f"not granted in {root}"

    return holds


# ---- a real project ------------------------------------------------------------


def account_email(name: str, project: str, services: dict[str, str]) -> str:
    """A service account as needs.py names it (`function/<entry point>`,
    `player_tokens`) as its email: account_id is `fn-<service name>` for a
    function, `player-tokens` for the signer (iam.tf)."""
    if name.startswith("function/"):
        return f"fn-{services[name.split('/', 1)[1]]}@{project}.iam.gserviceaccount.com"
    return f"{name.replace('_', '-')}@{project}.iam.gserviceaccount.com"


def full_resource(
    resource: str, project: str, bucket: str, topics: dict[str, str], services: dict[str, str]
) -> str:
    """needs.py's resource as IAM's full resource name."""
    if resource == needs_table.PROJECT:
        return f"//cloudresourcemanager.googleapis.com/projects/{project}"
    if resource == needs_table.BUCKET:
        return f"//storage.googleapis.com/projects/_/buckets/{bucket}"
    kind, _, name = resource.partition(":")
    if kind == "objects":
        # An object under the prefix stands for all of them (the grants'
        # conditions are on resource.name prefixes).
        return f"//storage.googleapis.com/projects/_/buckets/{bucket}/objects/{name}preflight"
    if kind == "topic":
        return f"//pubsub.googleapis.com/projects/{project}/topics/{topics[name]}"
    if kind == "subscription":
        sub = {"charges_host": f"{topics['charges']}-host"}.get(name, name)
        return f"//pubsub.googleapis.com/projects/{project}/subscriptions/{sub}"
    if kind == "service_account":
        email = account_email(name, project, services)
        return f"//iam.googleapis.com/projects/{project}/serviceAccounts/{email}"
    raise ValueError(f"unknown resource {resource!r}")


def function_names(root: Path) -> dict[str, str]:
    """Entry point -> Cloud Run service name (local.functions[*].name)."""
    from infra.terraform import load_file

    functions = load_file(root, "main.tf").locals["functions"]
    return {key: str(value["name"]) for key, value in functions.items()}


def troubleshooter_holds(project: str, bucket: str, topics: dict[str, str], root: Path) -> Holds:
    """Policy Troubleshooter v3 (https://cloud.google.com/policy-intelligence/docs/
    reference/policytroubleshooter/rest/v3/iam/troubleshoot): CAN_ACCESS or not,
    for the function's account, one permission on one resource."""
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    session = AuthorizedSession(credentials)
    names = function_names(root)
    url = "https://policytroubleshooter.googleapis.com/v3/iam:troubleshoot"

    def holds(identity: str, need: Need) -> str | None:
        principal = account_email(f"function/{identity}", project, names)
        target = full_resource(need.resource, project, bucket, topics, names)
        access: dict[str, Any] = {
            "principal": principal,
            "fullResourceName": target,
            "permission": need.permission,
        }
        if target.startswith("//storage.googleapis.com/") and "/objects/" in target:
            name = target.removeprefix("//storage.googleapis.com/")
            access["conditionContext"] = {
                "resource": {
                    "name": name,
                    "service": "storage.googleapis.com",
                    "type": "storage.googleapis.com/Object",
                }
            }
        answer = session.post(url, json={"accessTuple": access}, timeout=30)
        if answer.status_code != 200:
            return f"troubleshoot answered {answer.status_code}: {answer.text[:200]}"
        state = answer.json().get("overallAccessState", "")
        return None if state == "CAN_ACCESS" else state or "no answer"

    return holds
