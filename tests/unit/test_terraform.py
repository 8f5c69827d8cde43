"""Static checks of terraform/: formatting, and the pipeline's invariants.

Providers cannot be downloaded here, so `terraform validate` cannot run; instead
python-hcl2 parses the configuration and each check below takes the parsed
tree and returns a list of violations (empty when the invariant holds). Each
check runs on the real tree, and on a deliberately broken copy to show that it
can fail.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The parsed tree and its evaluator live in infra/terraform.py (the local
# stack's IAM reads grants with them too); re-exported for the checks here.
from infra.terraform import (  # noqa: F401
    MODULE,
    PURE_LOCALS,
    Config,
    Module,
    Partial,
    Scope,
    Unresolved,
    first,
    instances,
    load_config,
    local_definition,
    strings,
)

REPO = Path(__file__).resolve().parents[2]
TERRAFORM = REPO / "terraform"
EXPECTED_FUNCTIONS = {"render_still", "animate_still", "finish_clip", "media_api", "janitor"}

BASIC_ROLE = re.compile(r"\broles/(owner|editor|viewer)(?![\w.])")
PUBLIC_MEMBERS = {"allUsers", "allAuthenticatedUsers"}

# Settings that exist only for the local stack and tests: never in the cloud.
# (MEDIA_SIGNING_KEY_FILE signs URLs for the Storage emulator; the cloud signs
# through IAM signBlob, without key files.)
EMULATOR_ONLY = {
    "GENAI_EMULATOR_URL",
    "FIRESTORE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "MEDIA_API_URL",
    "MEDIA_CRASH_AFTER",
    "MEDIA_SIGNING_KEY_FILE",
}
# Settings that must match what Terraform creates, whatever their default
# (plus every *_TOPIC, and anything without a default or with a demo- default).
INFRA_BOUND = {"GOOGLE_CLOUD_PROJECT", "VERTEX_LOCATION", "MEDIA_BUCKET", "MEDIA_DEADLINE_S"}
# Settings one function reads that must match its deployment: the signer is its
# own service account, CORS follows the front end, and the polling budget and
# event-stream length must end before the function's timeout does; the
# open streams are capped by the concurrency the instance is given.
PER_FUNCTION = {
    "media_api": {
        "MEDIA_SIGNING_SA",
        "MEDIA_API_CORS_ORIGINS",
        "MEDIA_API_SSE_MAX_S",
        "MEDIA_API_CONCURRENCY",
    },
}


@dataclass
class Function:
    address: str
    entry_point: str
    scope: Scope
    body: dict[str, Any]


def deployed_functions(config: Config) -> list[Function]:
    found = []
    for module in config.values():
        for name, body in module.each("google_cloudfunctions2_function"):
            for scope in instances(module, body):
                entry = scope.resolve(first(body.get("build_config")).get("entry_point"))
                address = f"{module.path}:google_cloudfunctions2_function.{name}"
                if scope.key is not None:
                    address += f'["{scope.key}"]'
                found.append(Function(address, str(entry), scope, body))
    return found


# ---- settings the functions read ----------------------------------------------


@dataclass
class SettingsField:
    name: str
    has_default: bool
    default: Any


SETTINGS_PY = REPO / "shared" / "core" / "settings.py"


def settings_fields(path: Path = SETTINGS_PY) -> dict[str, SettingsField]:
    tree = ast.parse(path.read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
    fields: dict[str, SettingsField] = {}
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        value = node.value
        if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "Field":
            default_node = (
                value.args[0]
                if value.args
                else next((k.value for k in value.keywords if k.arg == "default"), None)
            )
            has_default = default_node is not None and not (
                isinstance(default_node, ast.Constant) and default_node.value is Ellipsis
            )
            if not has_default and any(k.arg == "default_factory" for k in value.keywords):
                has_default = True
            value = default_node
        else:
            has_default = value is not None
        default = value.value if isinstance(value, ast.Constant) else None
        fields[node.target.id] = SettingsField(node.target.id, has_default, default)
    return fields


def required_env(fields: dict[str, SettingsField], function: str) -> set[str]:
    """Settings a deployed function must be given: no default, a demo default, or
    a value that has to match the infrastructure."""
    required = {n for n in INFRA_BOUND if n in fields}
    required |= {n for n in fields if n.endswith("_TOPIC")}
    required |= {f.name for f in fields.values() if not f.has_default}
    required |= {
        f.name
        for f in fields.values()
        if isinstance(f.default, str) and f.default.startswith("demo-")
    }
    required |= PER_FUNCTION.get(function, set())
    return required - emulator_only(fields)


def emulator_only(fields: dict[str, SettingsField]) -> set[str]:
    return EMULATOR_ONLY | {n for n in fields if "_EMULATOR_" in n}


# ---- the invariants -------------------------------------------------------------


def check_function_service_accounts(config: Config) -> list[str]:
    """Every function runs as its own service account, one that no other function uses."""
    violations = []
    owners: dict[str, list[str]] = {}
    for fn in deployed_functions(config):
        email = fn.scope.resolve(first(fn.body.get("service_config")).get("service_account_email"))
        if not email:
            violations.append(f"{fn.address} runs as the default compute service account")
            continue
        ref = re.fullmatch(r'(google_service_account\.[\w-]+)(\["[^"]*"\])?\.email', str(email))
        if not ref:
            violations.append(
                f"{fn.address}: service account {email} is not a "
                "google_service_account of this configuration"
            )
            continue
        owners.setdefault(
            _account_identity(fn.scope.module, ref.group(1), ref.group(2)), []
        ).append(fn.entry_point)
    for identity, users in owners.items():
        if len(users) > 1:
            violations.append(f"functions {sorted(users)} share the service account {identity}")
    return violations


def _account_identity(module: Module, address: str, index: str | None) -> str:
    """The account_id a service-account reference ends up as, when it can be known."""
    name = address.split(".", 1)[1]
    body = module.resources.get("google_service_account", {}).get(name)
    if body is None:
        return address + (index or "")
    key = json.loads(index[1:-1]) if index else None
    for scope in instances(module, body):
        if scope.key == key:
            account = scope.resolve(body.get("account_id"))
            if isinstance(account, str) and "${" not in account:
                return f"account_id {account}"
    return address + (index or "")


def check_no_basic_roles(config: Config) -> list[str]:
    """No roles/owner, roles/editor or roles/viewer anywhere."""
    return [
        f"{module.path}{path}: basic role in {text!r}"
        for module in config.values()
        for parsed in module.raw
        for path, text in strings(parsed)
        if BASIC_ROLE.search(text)
    ]


def check_buckets_private(config: Config) -> list[str]:
    """Buckets enforce public access prevention and uniform access; no public grants."""
    violations = []
    for module in config.values():
        for name, body in module.each("google_storage_bucket"):
            where = f"{module.path}:google_storage_bucket.{name}"
            if body.get("public_access_prevention") != "enforced":
                violations.append(
                    f"{where}: public_access_prevention is "
                    f"{body.get('public_access_prevention')!r}, not 'enforced'"
                )
            if body.get("uniform_bucket_level_access") is not True:
                violations.append(f"{where}: uniform_bucket_level_access is not true")
        for rtype in ("google_storage_bucket_iam_member", "google_storage_bucket_iam_binding"):
            for name, body in module.each(rtype):
                members = body.get("members", [body.get("member")])
                if any(m in PUBLIC_MEMBERS for m in members if isinstance(m, str)):
                    violations.append(f"{module.path}:{rtype}.{name} makes a bucket public")
    return violations


# Pull subscriptions a host consumes (never a function): no dead-letter policy.
HOST_PULLS = frozenset({"charges_host"})


def check_dead_letters(config: Config) -> list[str]:
    """Every subscription that feeds a function dead-letters, the janitor's push of
    dead letters included (else a dead letter it cannot close is pushed for the
    whole retention); Eventarc triggers (whose subscriptions we cannot configure)
    are not used. Pull subscriptions on a dead-letter topic are the exception:
    they keep dead letters for an operator, and nothing consumes them; so is a
    pull subscription the host drains (charges_host): it feeds no function,
    and what the host has not acknowledged must wait for it."""
    violations = []
    for module in config.values():
        subscriptions = module.resources.get("google_pubsub_subscription", {})
        dead_letter_topics = {
            _resource_address(str(first(body.get("dead_letter_policy")).get("dead_letter_topic")))
            for body in subscriptions.values()
            if body.get("dead_letter_policy")
        } - {None}
        for name, body in subscriptions.items():
            where = f"{module.path}:google_pubsub_subscription.{name}"
            policy = first(body.get("dead_letter_policy"))
            if policy.get("dead_letter_topic"):
                if not str(policy.get("max_delivery_attempts", "")):
                    violations.append(f"{where}: dead_letter_policy without max_delivery_attempts")
                continue
            on_dead_letters = _resource_address(str(body.get("topic"))) in dead_letter_topics
            if on_dead_letters and not body.get("push_config"):
                continue
            if name in HOST_PULLS and not body.get("push_config"):
                continue
            violations.append(f"{where} has no dead_letter_policy")
        for name, body in module.each("google_cloudfunctions2_function"):
            if body.get("event_trigger"):
                violations.append(
                    f"{module.path}:google_cloudfunctions2_function.{name} uses an "
                    "event_trigger, whose Eventarc subscription cannot dead-letter"
                )
        for name, _ in module.each("google_eventarc_trigger"):
            violations.append(
                f"{module.path}:google_eventarc_trigger.{name}: its subscription cannot dead-letter"
            )
    return violations


def _resource_address(expression: str) -> str | None:
    match = re.search(r"(google_pubsub_topic\.[\w-]+)", expression)
    return match.group(1) if match else None


def check_every_function_deployed(
    config: Config, entry_points: set[str] | None = None
) -> list[str]:
    """Every functions/<name>/main.py is deployed with entry point <name>."""
    if entry_points is None:
        entry_points = {p.parent.name for p in (REPO / "functions").glob("*/main.py")}
    deployed = {fn.entry_point for fn in deployed_functions(config)}
    return [
        f"functions/{name}/main.py is not deployed by any google_cloudfunctions2_function"
        for name in sorted(entry_points - deployed)
    ]


def check_environment(config: Config, fields: dict[str, SettingsField] | None = None) -> list[str]:
    """Each function gets every setting it needs, nothing emulator-only, no unknown names."""
    if fields is None:
        fields = settings_fields()
    emulator = emulator_only(fields)
    violations = []
    for fn in deployed_functions(config):
        env = fn.scope.resolve(first(fn.body.get("service_config")).get("environment_variables"))
        known = env.known if isinstance(env, Partial) else env if isinstance(env, dict) else {}
        unknown = (
            env.unknown if isinstance(env, Partial) else [] if isinstance(env, dict) else [str(env)]
        )
        for name in sorted(required_env(fields, fn.entry_point) - set(known)):
            violations.append(f"{fn.address}: {name} is not set")
        for name in sorted(set(known) & emulator):
            violations.append(f"{fn.address}: emulator-only {name} is set")
        for name in sorted(set(known) - set(fields)):
            violations.append(f"{fn.address}: {name} is not a Settings field (typo?)")
        for text in unknown:
            for name in sorted(n for n in emulator if n in text):
                violations.append(f"{fn.address}: emulator-only {name} may be set by {text}")
    return violations


def check_variables_documented(config: Config) -> list[str]:
    """Every input variable has a description and a type."""
    return [
        f"{module.path}: variable {name} has no {attr}"
        for module in config.values()
        for name, body in module.variables.items()
        for attr in ("description", "type")
        if not body.get(attr)
    ]


CHECKS: list[Callable[[Config], list[str]]] = [
    check_function_service_accounts,
    check_no_basic_roles,
    check_buckets_private,
    check_dead_letters,
    check_every_function_deployed,
    check_environment,
    check_variables_documented,
]


# ---- tests on the real tree ----------------------------------------------------


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(TERRAFORM)


def test_terraform_fmt() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.fail("terraform is not installed: the static checks need it")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_real_tree_has_no_violations(config: Config, check: Callable[[Config], list[str]]) -> None:
    assert check(config) == []


def test_every_function_is_deployed(config: Config) -> None:
    deployed = {fn.entry_point for fn in deployed_functions(config)}
    assert deployed == EXPECTED_FUNCTIONS


def test_the_evaluator_sees_what_the_checks_rely_on(config: Config) -> None:
    """Guards against checks passing because they saw nothing."""
    functions = deployed_functions(config)
    assert len(functions) == 5
    media_api = next(f for f in functions if f.entry_point == "media_api")
    env = media_api.scope.resolve(
        first(media_api.body.get("service_config")).get("environment_variables")
    )
    assert isinstance(env, Partial)
    assert {"MEDIA_BUCKET", "MEDIA_SIGNING_SA", "GOOGLE_CLOUD_PROJECT"} <= set(env.known)
    assert len(settings_fields()) >= 13
    assert config[MODULE].resources["google_pubsub_subscription"]


def test_required_variables_are_validated(config: Config) -> None:
    """Inputs that can be wrong carry a validation block."""
    variables = config[MODULE].variables
    for name in (
        "project_id",
        "region",
        "vertex_location",
        "bundle_path",
        "bucket",
        "media",
        "delivery",
        "functions",
        "janitor",
        "monitoring",
        "labels",
        "aidm",
        "browser_origins",
        "oidc_issuers",
        "firestore",
    ):
        assert variables[name].get("validation"), f"variable {name} has no validation"


def test_outputs_for_aidm(config: Config) -> None:
    outputs: set[str] = set()
    for parsed in config["envs/prod"].raw:
        for block in parsed.get("output", []):
            outputs |= set(block)
    assert {"requests_topic", "events_topic", "bucket", "media_api_url"} <= outputs


# ---- variable validations, evaluated by terraform itself ---------------------------
#
# A configuration without resources needs no provider, so `terraform plan` runs
# offline on: the environment's variables.tf, its module block, and the module's
# variables.tf. That checks the wiring, the example tfvars and every validation.


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.fail("terraform is not installed: the static checks need it")
    root = tmp_path_factory.mktemp("harness")
    (root / "m").mkdir()
    shutil.copy(TERRAFORM / MODULE / "variables.tf", root / "m" / "variables.tf")
    shutil.copy(TERRAFORM / "envs/prod/variables.tf", root / "variables.tf")
    env_main = (TERRAFORM / "envs/prod/main.tf").read_text()
    start = env_main.index('module "media_pipeline" {')
    block = env_main[start : env_main.index("\n}\n", start) + 3]
    block = re.sub(r'source\s*=\s*"[^"]*"', 'source = "./m"', block, count=1)
    (root / "main.tf").write_text(block)
    (root / "cutscenes-0123456789abcdef.zip").write_bytes(b"")
    shutil.copy(TERRAFORM / "envs/prod/terraform.tfvars.example", root / "example.tfvars")
    init = subprocess.run(
        [terraform, "init", "-input=false", "-no-color"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    return root


def plan(root: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    args = [
        "terraform",
        "plan",
        "-input=false",
        "-no-color",
        "-var-file=example.tfvars",
        "-var",
        f"bundle_path={root / 'cutscenes-0123456789abcdef.zip'}",
    ]
    for override in overrides:
        args += ["-var", override]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)


def test_example_tfvars_pass_every_validation(harness: Path) -> None:
    result = plan(harness)
    assert result.returncode == 0, result.stdout + result.stderr


def test_defaults_pass_every_validation(harness: Path) -> None:
    (harness / "minimal.tfvars").write_text('project_id = "my-aidm-project"\n')
    result = subprocess.run(
        [
            "terraform",
            "plan",
            "-input=false",
            "-no-color",
            "-var-file=minimal.tfvars",
            "-var",
            f"bundle_path={harness / 'cutscenes-0123456789abcdef.zip'}",
        ],
        cwd=harness,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_openid_issuer_passes(harness: Path) -> None:
    result = plan(
        harness,
        'oidc_issuers=[{issuer="https://clerk.play.example.com",'
        'jwks_uri="https://clerk.play.example.com/.well-known/jwks.json",audience="aidm"}]',
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "override",
    [
        "project_id=My_Project",
        "region=uscentral",
        "vertex_location=mars",
        "bundle_path=build/cutscenes.tar.gz",
        'labels={"Bad Key"="x"}',
        'bucket={name="goog-media"}',
        'bucket={name="Media_Bucket"}',
        "bucket={media_retention_days=0}",
        'browser_origins=["https://play.example.com/game"]',
        'oidc_issuers=[{issuer="http://clerk.example.com",jwks_uri="https://clerk.example.com/jwks",audience="a"}]',
        'oidc_issuers=[{issuer="https://clerk.example.com",jwks_uri="http://127.0.0.1/jwks",audience="a"}]',
        'oidc_issuers=[{issuer="https://clerk.example.com",jwks_uri="https://clerk.example.com/j",audience=""}]',
        'oidc_issuers=[{issuer="https://securetoken.google.com/p",jwks_uri="https://x.example/j",audience="p"}]',
        'oidc_issuers=[{issuer="https://a.example",jwks_uri="https://a.example/j",audience="x"},{issuer="https://a.example",jwks_uri="https://b.example/j",audience="y"}]',
        "media={deadline_s=30}",
        "media={daily_cap_usd=-1}",
        "media={image_block_retries=9}",
        "media={signed_url_ttl_s=3600}",
        'media={model_quotas={"veo-3.1-lite-generate-001"=2.5}}',
        'media={model_quotas={"Veo 3"=20}}',
        "delivery={max_delivery_attempts=3}",
        'delivery={minimum_backoff="10m"}',
        'delivery={minimum_backoff="300s",maximum_backoff="60s"}',
        'delivery={message_retention="60s"}',
        'functions={thumbnail={memory="1Gi"}}',
        "functions={render_still={timeout_seconds=900}}",
        'functions={media_api={memory="1GB"}}',
        "functions={janitor={max_instances=0}}",
        'janitor={schedule="every 5 minutes"}',
        'janitor={time_zone="Central European"}',
        'firestore={location_id="moon1"}',
        'firestore={rules_path="firestore.json"}',
        'monitoring={notification_channels=["12345"]}',
        "monitoring={daily_spend_alert_usd=-5}",
        "monitoring={failure_ratio=1.5}",
        'aidm={request_publishers=["aidm@example.com"]}',
    ],
)
def test_bad_input_is_refused(harness: Path, override: str) -> None:
    result = plan(harness, override)
    assert result.returncode != 0, f"{override} was accepted"
    assert "Invalid value for variable" in result.stderr, result.stderr


def test_pure_locals_evaluate(tmp_path: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.fail("terraform is not installed: the static checks need it")
    shutil.copy(TERRAFORM / MODULE / "variables.tf", tmp_path / "variables.tf")
    definitions = [
        local_definition((TERRAFORM / MODULE / file).read_text(), name)
        for file, names in PURE_LOCALS.items()
        for name in names
    ]
    outputs = "".join(
        f'output "{name}" {{\n  value = local.{name}\n}}\n'
        for names in PURE_LOCALS.values()
        for name in names
    )
    (tmp_path / "main.tf").write_text("locals {\n" + "\n".join(definitions) + "\n}\n" + outputs)
    (tmp_path / "bundle.zip").write_bytes(b"")
    (tmp_path / "test.tfvars").write_text(
        'project_id = "my-aidm-project"\nregion = "europe-west4"\nbundle_path = "bundle.zip"\n'
        'firestore = { rules_path = "firestore.rules" }\n'
        "functions = { animate_still = { timeout_seconds = 300 } }\n"
        "media = { daily_cap_usd = 12.5 }\n"
    )

    def tf(*args: str) -> str:
        result = subprocess.run(
            [terraform, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    tf("init", "-input=false", "-no-color")
    tf("plan", "-input=false", "-no-color", "-var-file=test.tfvars", "-out=plan")
    shown = tf("show", "-json", "plan")
    values = {k: v["after"] for k, v in json.loads(shown)["output_changes"].items()}
    assert set(values["event_functions"]) == {"render_still", "animate_still", "finish_clip"}
    assert values["sizing"]["animate_still"]["timeout_seconds"] == 300
    assert values["sizing"]["animate_still"]["memory"] == "512Mi"
    assert values["sizing"]["render_still"]["timeout_seconds"] == 540
    assert values["optional_env"] == {"MEDIA_DAILY_CAP_USD": "12.5"}
    assert values["browser_origins"] == ["*"]
    assert {g["role"] for g in values["docs_grants"].values()} == {
        "docs_read_write",
        "docs_query",
        "auth_user_lookup",
    }
    assert values["object_grants"]["media_api media/ objects_delete"] == {
        "fn": "media_api",
        "prefix": "media/",
        "role": "objects_delete",
    }
    assert {g["role"] for g in values["object_grants"].values()} <= set(values["custom_roles"])
    assert "asset_terminal" in values["terminal_log_filter"]


# ---- the same checks on deliberately broken copies -------------------------------


def broken(tmp_path: Path, file: str, old: str, new: str, count: int = 1) -> Config:
    """A copy of terraform/ with one edit; the edit must apply exactly as written."""
    copy = tmp_path / "terraform"
    shutil.copytree(TERRAFORM, copy, ignore=shutil.ignore_patterns(".terraform"))
    target = copy / MODULE / file
    text = target.read_text()
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in {file}"
    target.write_text(text.replace(old, new))
    return load_config(copy)


def remove_block(tmp_path: Path, file: str, opening: str) -> Config:
    """A copy of terraform/ without the block whose first line is `opening`."""
    text = (TERRAFORM / MODULE / file).read_text()
    start = text.index(opening)
    indent = opening[: len(opening) - len(opening.lstrip())]
    end = text.index(f"\n{indent}}}\n", start) + len(indent) + 3
    return broken(tmp_path, file, text[start:end], "")


SWEEP_ENV = "      MEDIA_SWEEP_EVERY_S      = tostring(var.janitor.sweep_every_s)\n"

BROKEN = {
    "shared_service_account": (
        check_function_service_accounts,
        lambda p: broken(
            p,
            "functions.tf",
            "google_service_account.function[each.key].email",
            'google_service_account.function["render_still"].email',
        ),
        "share the service account",
    ),
    "same_account_id": (
        check_function_service_accounts,
        lambda p: broken(
            p, "iam.tf", 'account_id   = "fn-${each.value.name}"', 'account_id   = "fn-shared"'
        ),
        "share the service account",
    ),
    "default_compute_account": (
        check_function_service_accounts,
        lambda p: broken(
            p,
            "functions.tf",
            "service_account_email            = google_service_account.function[each.key].email\n",
            "",
        ),
        "default compute service account",
    ),
    "editor_binding": (
        check_no_basic_roles,
        lambda p: broken(
            p,
            "iam.tf",
            'for_each = toset(["roles/logging.logWriter",',
            'for_each = toset(["roles/editor", "roles/logging.logWriter",',
        ),
        "roles/editor",
    ),
    "public_access_inherited": (
        check_buckets_private,
        lambda p: broken(
            p,
            "bucket.tf",
            'public_access_prevention    = "enforced"',
            'public_access_prevention    = "inherited"',
            count=2,
        ),
        "'inherited'",
    ),
    "fine_grained_acls": (
        check_buckets_private,
        lambda p: broken(
            p,
            "bucket.tf",
            "uniform_bucket_level_access = true",
            "uniform_bucket_level_access = false",
            count=2,
        ),
        "uniform_bucket_level_access",
    ),
    "subscription_without_dead_letter": (
        check_dead_letters,
        lambda p: remove_block(p, "pubsub.tf", "  dead_letter_policy {"),
        "google_pubsub_subscription.push has no dead_letter_policy",
    ),
    "janitor_push_without_dead_letter": (
        check_dead_letters,
        lambda p: broken(
            p,
            "pubsub.tf",
            "  dead_letter_policy {\n"
            "    dead_letter_topic     = google_pubsub_topic.janitor_dead_letter.id\n"
            "    max_delivery_attempts = var.delivery.max_delivery_attempts\n"
            "  }\n",
            "",
        ),
        "google_pubsub_subscription.dead_letter_janitor has no dead_letter_policy",
    ),
    "eventarc_trigger": (
        check_dead_letters,
        lambda p: broken(
            p,
            "functions.tf",
            "  service_config {\n",
            '  event_trigger {\n    event_type = "google.cloud.pubsub.topic.v1.'
            'messagePublished"\n    retry_policy = "RETRY_POLICY_RETRY"\n  }\n\n'
            "  service_config {\n",
        ),
        "event_trigger",
    ),
    "function_not_deployed": (
        check_every_function_deployed,
        lambda p: remove_block(p, "main.tf", "    janitor = {\n      name "),
        "functions/janitor/main.py is not deployed",
    ),
    "env_var_missing": (
        check_environment,
        lambda p: broken(
            p, "main.tf", "    MEDIA_BUCKET         = google_storage_bucket.media.name\n", ""
        ),
        "MEDIA_BUCKET is not set",
    ),
    "signing_sa_missing": (
        check_environment,
        lambda p: broken(
            p,
            "main.tf",
            '      MEDIA_SIGNING_SA       = google_service_account.function["media_api"].email\n',
            "",
        ),
        "MEDIA_SIGNING_SA is not set",
    ),
    "emulator_var_set": (
        check_environment,
        lambda p: broken(
            p,
            "main.tf",
            SWEEP_ENV,
            SWEEP_ENV + '      FIRESTORE_EMULATOR_HOST = "127.0.0.1:8080"\n',
        ),
        "emulator-only FIRESTORE_EMULATOR_HOST is set",
    ),
    "emulator_var_in_computed_env": (
        check_environment,
        lambda p: broken(
            p,
            "main.tf",
            "      MEDIA_PRICING_FILE  = var.media.pricing_file\n",
            "      MEDIA_PRICING_FILE  = var.media.pricing_file\n"
            "      MEDIA_CRASH_AFTER   = var.media.pricing_file\n",
        ),
        "emulator-only MEDIA_CRASH_AFTER may be set",
    ),
    "misspelt_env_var": (
        check_environment,
        lambda p: broken(
            p, "main.tf", "MEDIA_DEADLINE_S     = tostring", "MEDIA_DEADLINE_SECS  = tostring"
        ),
        "MEDIA_DEADLINE_SECS is not a Settings field",
    ),
    "undocumented_variable": (
        check_variables_documented,
        lambda p: broken(
            p, "variables.tf", '  description = "Project that hosts the whole pipeline."\n', ""
        ),
        "variable project_id has no description",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_reports_broken_copy(tmp_path: Path, case: str) -> None:
    check, make, expected = BROKEN[case]
    violations = check(make(tmp_path))
    assert any(expected in v for v in violations), violations


def test_every_check_is_exercised_by_a_broken_copy() -> None:
    assert {check for check, _, _ in BROKEN.values()} == set(CHECKS)


def test_deployed_check_follows_the_functions_directory(config: Config) -> None:
    """A new functions/<name>/ without Terraform is reported; the check reads whatever exists."""
    violations = check_every_function_deployed(config, {*EXPECTED_FUNCTIONS, "thumbnail"})
    assert violations == [
        "functions/thumbnail/main.py is not deployed by any google_cloudfunctions2_function"
    ]


def test_required_env_follows_settings(config: Config, tmp_path: Path) -> None:
    """A new Settings field without a default must be set on every function."""
    settings = tmp_path / "settings.py"
    source = (REPO / "shared" / "core" / "settings.py").read_text()
    settings.write_text(
        source.replace(
            "class Settings(BaseSettings):\n",
            "class Settings(BaseSettings):\n    MEDIA_NEW_KNOB: str\n",
        )
    )
    violations = check_environment(config, settings_fields(settings))
    assert len([v for v in violations if "MEDIA_NEW_KNOB is not set" in v]) == 5


def test_veo_output_notifies_finish_clip() -> None:
    """The bucket's finalize events on veo-out/ reach finish_clip's topic, which
    Cloud Storage's service agent may publish to (no function waits on Veo)."""
    module = REPO / "terraform" / MODULE
    text = (module / "bucket.tf").read_text()
    block = text[text.index('resource "google_storage_notification" "veo_output"') :]
    block = block[: block.index("\n}\n")]
    assert 'topic              = google_pubsub_topic.pipeline["clips"].id' in block
    assert 'object_name_prefix = "veo-out/"' in block
    assert 'event_types        = ["OBJECT_FINALIZE"]' in block
    assert "google_storage_project_service_account.gcs.email_address" in text
    assert 'clips    = "media-clips-dead"' in (module / "main.tf").read_text()
