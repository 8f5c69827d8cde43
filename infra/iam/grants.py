"""The IAM grants in terraform/, read from terraform/ itself.

Every *_iam_member resource, per for_each instance, with its member (a
function's service account, or one of AIDM's principals), its resource (the
project, the media bucket or a prefix of it by IAM condition, a topic, a
service account) and its role, expanded to permissions from roles.tf (custom
roles) or infra/iam/roles.py (predefined ones). Resources are named as in
infra/iam/needs.py.

tests/unit/test_iam_needs.py checks these grants against the code's needs;
the local stack enforces them (infra/iam/enforce.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra.iam import needs as needs_table
from infra.iam.roles import PREDEFINED
from infra.terraform import (
    MODULE,
    Config,
    Module,
    Scope,
    Unresolved,
    evaluated_locals,
    first,
    load_config,
)

IAM_MEMBERS = (
    "google_project_iam_member",
    "google_storage_bucket_iam_member",
    "google_pubsub_topic_iam_member",
    "google_service_account_iam_member",
    "google_pubsub_subscription_iam_member",
    "google_cloud_run_service_iam_member",
)
# Principals from `var.aidm`, by field: the identities of infra/iam/needs.py.
AIDM_FIELDS = {
    "backends": "aidm",
    "request_publishers": "aidm_publisher",
    "event_subscribers": "aidm_subscriber",
    "charge_subscribers": "aidm_charges",
}


@dataclass(frozen=True)
class Grant:
    identity: str
    role: str
    permissions: frozenset[str]
    complete: bool
    resource: str
    address: str


def grants_of(root: Path) -> list[Grant]:
    config = load_config(root)
    config[MODULE].locals.update(evaluated_locals(root))
    return grants(config)


def _digest(root: Path) -> str:
    """Of everything the grants are read from: the .tf files and the tables."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    sources = [here / "grants.py", here / "roles.py", here.parent / "terraform.py"]
    tfs = sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)
    for path in [*sources, *tfs]:
        h.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:24]


def load(root: Path, cache_dir: Path) -> list[Grant]:
    """grants_of(root), remembered in cache_dir by the content it was read from:
    parsing and `terraform console` take seconds, and every function of a local
    stack reads the same tree when it starts."""
    cached = cache_dir / f"grants-{_digest(root)}.json"
    if cached.exists():
        rows = json.loads(cached.read_text())
        return [Grant(**{**row, "permissions": frozenset(row["permissions"])}) for row in rows]
    found = grants_of(root)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{id(found)}.tmp")
    rows = [{**asdict(g), "permissions": sorted(g.permissions)} for g in found]
    partial.write_text(json.dumps(rows))
    partial.replace(cached)  # atomic: a function starting alongside reads all or nothing
    return found


def _expr(raw: Any) -> str:
    """The expression inside "${...}" (or the text itself)."""
    text = str(raw)
    whole = re.fullmatch(r"\$\{(.*)\}", text, re.S)
    return whole.group(1).strip() if whole else text


def _instances(module: Module, body: dict[str, Any]) -> list[tuple[Scope, set[str]]]:
    """One scope per for_each instance, with the AIDM identities the instance's
    `each.key` stands for when the for_each is a set of var.aidm principals."""
    if "for_each" not in body:
        return [(Scope(module), set())]
    text = _expr(body["for_each"])
    aidm = {AIDM_FIELDS[f] for f in re.findall(r"var\.aidm\.(\w+)", text) if f in AIDM_FIELDS}
    if aidm:
        return [(Scope(module, "each.key", None), aidm)]
    inner = re.fullmatch(r"toset\((.*)\)", text, re.S)
    keys: Any = Scope(module).expr(inner.group(1) if inner else text)
    if isinstance(keys, Unresolved):
        try:  # a literal list: toset(["a", "b"])
            keys = json.loads(inner.group(1) if inner else text)
        except ValueError:
            pass
    if isinstance(keys, dict):
        return [(Scope(module, k, v), set()) for k, v in keys.items()]
    if isinstance(keys, list):
        return [(Scope(module, str(k), k), set()) for k in keys]
    return [(Scope(module), set())]


def _concrete(scope: Scope, raw: Any) -> str:
    """The expression with `[each.key]` / `[each.value.x]` indexes made literal."""

    def index(match: re.Match[str]) -> str:
        value = scope.expr(match.group(1))
        if isinstance(value, str) and not isinstance(value, Unresolved):
            return f'["{value}"]'
        return match.group(0)

    text = _expr(raw)
    if re.fullmatch(r"(each|local)\.[\w.]+", text):
        value = scope.expr(text)
        if isinstance(value, str) and not isinstance(value, Unresolved):
            return value
    return re.sub(r"\[\s*(each\.[\w.]+)\s*\]", index, text)


def _custom_roles(module: Module) -> dict[str, frozenset[str]]:
    """address ("google_project_iam_custom_role.this[\"key\"]") -> permissions."""
    roles: dict[str, frozenset[str]] = {}
    for name, body in module.each("google_project_iam_custom_role"):
        for scope, _ in _instances(module, body):
            address = f"google_project_iam_custom_role.{name}"
            if scope.key is not None:
                address += f'["{scope.key}"]'
            permissions = scope.resolve(body.get("permissions"))
            roles[address] = frozenset(permissions if isinstance(permissions, list) else [])
    return roles


def _role(scope: Scope, raw: Any, custom: dict[str, frozenset[str]]) -> tuple[str, Any, bool]:
    """(role name, permissions or None if unknown, complete)."""
    text = _concrete(scope, raw)
    if text.startswith("roles/"):
        known = PREDEFINED.get(text)
        return text, (known.permissions if known else None), bool(known and known.complete)
    ref = re.fullmatch(
        r"(google_project_iam_custom_role\.\w+(?:\[\"[^\"]*\"\])?)\.(?:id|name)", text
    )
    if ref and ref.group(1) in custom:
        return ref.group(1), custom[ref.group(1)], True
    return text, None, False


def _member(scope: Scope, raw: Any, aidm: set[str]) -> set[str]:
    text = _concrete(scope, raw)
    if aidm and text == "each.key":
        return aidm
    fn = re.fullmatch(r'google_service_account\.function\["([^"]+)"\]\.member', text)
    return {fn.group(1) if fn else text}


def _resource(rtype: str, scope: Scope, body: dict[str, Any]) -> str:
    if rtype == "google_project_iam_member":
        return needs_table.PROJECT
    if rtype == "google_storage_bucket_iam_member":
        bucket = _concrete(scope, body.get("bucket"))
        if bucket != "google_storage_bucket.media.name":
            return f"other bucket {bucket}"
        condition = first(body.get("condition"))
        if not condition:
            return needs_table.BUCKET
        expression = str(scope.template(str(condition.get("expression", ""))))
        prefix = re.fullmatch(
            r'resource\.name\.startsWith\("projects/_/buckets/[^/]+/objects/([^"]*)"\)', expression
        )
        return f"objects:{prefix.group(1)}" if prefix else f"condition {expression}"
    if rtype == "google_pubsub_topic_iam_member":
        topic = re.fullmatch(
            r'google_pubsub_topic\.pipeline\["([^"]+)"\]\.(?:name|id)',
            _concrete(scope, body.get("topic")),
        )
        return needs_table.topic(topic.group(1)) if topic else f"topic {body.get('topic')}"
    if rtype == "google_service_account_iam_member":
        text = _concrete(scope, body.get("service_account_id"))
        account = re.fullmatch(
            r'google_service_account\.(\w+)(?:\["([^"]+)"\])?\.(?:name|id)', text
        )
        if account:
            key = f"/{account.group(2)}" if account.group(2) else ""
            return needs_table.service_account(account.group(1) + key)
        return f"service account {text}"
    if rtype == "google_pubsub_subscription_iam_member":
        text = _concrete(scope, body.get("subscription"))
        sub = re.fullmatch(r"google_pubsub_subscription\.(\w+)\.(?:name|id)", text)
        return needs_table.subscription(sub.group(1)) if sub else f"subscription {text}"
    return f"{rtype} {_concrete(scope, body.get('subscription') or body.get('service'))}"


def grants(config: Config) -> list[Grant]:
    found = []
    for module in config.values():
        custom = _custom_roles(module)
        for rtype in IAM_MEMBERS:
            for name, body in module.each(rtype):
                for scope, aidm in _instances(module, body):
                    role, permissions, complete = _role(scope, body.get("role"), custom)
                    resource = _resource(rtype, scope, body)
                    address = f"{module.path}:{rtype}.{name}"
                    if scope.key is not None and not aidm:
                        address += f'["{scope.key}"]'
                    for identity in _member(scope, body.get("member"), aidm):
                        found.append(
                            Grant(
                                identity,
                                role,
                                frozenset(permissions or ()),
                                complete and permissions is not None,
                                resource,
                                address,
                            )
                        )
    return found


def covers(granted: str, needed: str) -> bool:
    """Whether a grant on `granted` reaches `needed` (IAM inherits downwards)."""
    if granted in (needed, needs_table.PROJECT):
        return True
    if granted == needs_table.BUCKET:
        return needed.startswith("objects:")
    return (
        granted.startswith("objects:")
        and needed.startswith("objects:")
        and needed.startswith(granted)
    )
