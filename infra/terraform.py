"""terraform/ read without providers: python-hcl2 parses the configuration
and a small evaluator follows the expressions the checks read (locals,
each.key/each.value, merge). For-expressions it does not follow are evaluated
by `terraform console` (evaluated_locals): that needs the terraform binary,
not a provider or a project.

Used by the static checks (tests/unit/test_terraform.py) and by the local
stack's IAM (infra/iam/grants.py), which reads the grants from here.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

MODULE = "modules/media-pipeline"

_OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)


# ---- the parsed tree ----------------------------------------------------------


@dataclass
class Module:
    """One directory of .tf files, merged."""

    path: str
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: list[dict[str, Any]] = field(default_factory=list)

    def each(self, rtype: str) -> Iterator[tuple[str, dict[str, Any]]]:
        yield from self.resources.get(rtype, {}).items()


Config = dict[str, Module]


@functools.cache
def _parsed(text: str) -> dict[str, Any]:
    """Parsing is most of this file's time (python-hcl2 is slow): a broken copy
    changes one file, and every other file's text parses as it did before."""
    return hcl2.loads(text, serialization_options=_OPTIONS)


def load_config(root: Path) -> Config:
    config: Config = {}
    for tf in sorted(root.rglob("*.tf")):
        if ".terraform" in tf.parts:
            continue
        rel = tf.parent.relative_to(root).as_posix()
        module = config.setdefault(rel, Module(rel))
        parsed = copy.deepcopy(_parsed(tf.read_text()))
        module.raw.append(parsed)
        for block in parsed.get("resource", []):
            for rtype, named in block.items():
                module.resources.setdefault(rtype, {}).update(named)
        for block in parsed.get("locals", []):
            module.locals.update(block)
        for block in parsed.get("variable", []):
            module.variables.update(block)
    return config


def first(value: Any) -> Any:
    """A nested block parses as a list of one body."""
    if isinstance(value, list):
        return value[0] if value else {}
    return value if value is not None else {}


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, path)
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


# ---- a small evaluator for the expressions these checks read ----------------


class Unresolved(str):
    """An expression the evaluator does not follow (a var, a function call...)."""


@dataclass
class Partial:
    """An object some of whose keys are only known at plan time."""

    known: dict[str, Any]
    unknown: list[str]


_ACCESSOR = re.compile(r'\.([A-Za-z_][\w-]*)|\[\s*("(?:[^"\\]|\\.)*"|each\.key|\d+)\s*\]')


def _split_args(text: str) -> list[str]:
    args, depth, start, quoted = [], 0, 0, False
    for i, char in enumerate(text):
        if char == '"' and text[i - 1] != "\\":
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            args.append(text[start:i].strip())
            start = i + 1
    args.append(text[start:].strip())
    return [a for a in args if a]


@dataclass
class Scope:
    module: Module
    key: str | None = None
    value: Any = None

    def resolve(self, raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        whole = re.fullmatch(r"\$\{(.*)\}", raw, re.S)
        if whole and "${" not in whole.group(1):
            return self.expr(whole.group(1).strip())
        return self.template(raw)

    def template(self, raw: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            value = self.expr(match.group(1).strip())
            return (
                value
                if isinstance(value, str) and not isinstance(value, Unresolved)
                else match.group(0)
            )

        return re.sub(r"\$\{([^{}]*)\}", substitute, raw)

    def expr(self, text: str) -> Any:
        call = re.fullmatch(r"merge\((.*)\)", text, re.S)
        if call:
            return self.merge([self.expr(arg) for arg in _split_args(call.group(1))])
        head = re.match(r"(local|each)\.([A-Za-z_][\w-]*)", text)
        if not head:
            return self.reference(text)
        if head.group(1) == "each":
            if head.group(2) == "key":
                return self.key if self.key is not None else Unresolved(text)
            if head.group(2) != "value":
                return Unresolved(text)
            value = self.value
        else:
            if head.group(2) not in self.module.locals:
                return Unresolved(text)
            value = self.resolve(self.module.locals[head.group(2)])
        rest = text[head.end() :]
        while rest:
            step = _ACCESSOR.match(rest)
            if not step or isinstance(value, Unresolved):
                return Unresolved(text)
            rest = rest[step.end() :]
            if step.group(1):
                index: Any = step.group(1)
            elif step.group(2) == "each.key":
                index = self.key
            elif step.group(2).startswith('"'):
                index = json.loads(step.group(2))
            else:
                index = int(step.group(2))
            try:
                value = self.resolve(value[index])
            except (KeyError, IndexError, TypeError):
                return Unresolved(text)
        return value

    def reference(self, text: str) -> Any:
        """A resource reference, with each.key made concrete: `type.name["key"].attr`."""
        if self.key is not None:
            text = text.replace("[each.key]", f'["{self.key}"]')
        return Unresolved(text)

    @staticmethod
    def merge(parts: list[Any]) -> Any:
        known: dict[str, Any] = {}
        unknown: list[str] = []
        for part in parts:
            if isinstance(part, dict):
                known.update(part)
            elif isinstance(part, Partial):
                known.update(part.known)
                unknown.extend(part.unknown)
            else:
                unknown.append(str(part))
        return Partial(known, unknown) if unknown else known


def instances(module: Module, body: dict[str, Any]) -> Iterator[Scope]:
    """One scope per instance of a resource: per for_each key, or a single one."""
    if "for_each" not in body:
        yield Scope(module)
        return
    keys = Scope(module).resolve(body["for_each"])
    if isinstance(keys, dict):
        for key, value in keys.items():
            yield Scope(module, key, value)
    elif isinstance(keys, list):
        for key in keys:
            yield Scope(module, str(key), key)
    else:
        yield Scope(module, None, None)


# Locals that depend on variables only: terraform console evaluates them
# (evaluated_locals), the Python evaluator does not follow for-expressions.
PURE_LOCALS = {
    "main.tf": [
        "functions",
        "sizing",
        "event_functions",
        "browser_origins",
        "optional_env",
        "topics",
        "dead_letter_topics",
    ],
    "iam.tf": [
        "function_vertex",
        "function_docs",
        "function_objects",
        "function_lists_objects",
        "function_publishes",
        "docs_grants",
        "object_grants",
        "publish_grants",
    ],
    "roles.tf": ["custom_roles"],
    "monitoring.tf": ["terminal_log_filter"],
    "firestore.tf": ["firestore_database", "firestore_indexes"],
}


def local_definition(source: str, name: str) -> str:
    """The text of `  name = ...` in a locals block, up to its end."""
    match = re.search(rf"\n  {name}\s*=", source)
    assert match, f"local {name} not found"
    depth, end = 0, match.end()
    while depth or source[end] != "\n":
        depth += {"{": 1, "[": 1, "(": 1, "}": -1, "]": -1, ")": -1}.get(source[end], 0)
        end += 1
    return source[match.start() + 1 : end]


class TerraformError(RuntimeError):
    pass


def evaluated_locals(root: Path) -> dict[str, Any]:
    """The module's variable-free locals (PURE_LOCALS), as terraform itself
    evaluates them: the grant maps are for-expressions the Python evaluator
    does not follow. `terraform console` needs no provider."""
    terraform = shutil.which("terraform")
    if terraform is None:
        raise TerraformError("terraform is not installed: reading grants needs it")
    names = [name for group in PURE_LOCALS.values() for name in group]
    definitions = [
        local_definition((root / MODULE / file).read_text(), name)
        for file, group in PURE_LOCALS.items()
        for name in group
    ]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        shutil.copy(root / MODULE / "variables.tf", work / "variables.tf")
        (work / "main.tf").write_text("locals {\n" + "\n".join(definitions) + "\n}\n")
        (work / "bundle.zip").write_bytes(b"")
        (work / "t.tfvars").write_text(
            'project_id = "my-aidm-project"\nbundle_path = "bundle.zip"\n'
        )
        for args, stdin in (
            (["init", "-input=false", "-no-color"], None),
            (
                ["console", "-var-file=t.tfvars"],
                "jsonencode({" + ", ".join(f"{n} = local.{n}" for n in names) + "})\n",
            ),
        ):
            result = subprocess.run(
                [terraform, *args],
                cwd=work,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if result.returncode != 0:
                raise TerraformError(f"terraform {args[0]}: {result.stdout}{result.stderr}")
    # console prints the JSON text as an HCL string literal.
    return dict(json.loads(json.loads(result.stdout.strip())))


def load_file(root: Path, name: str) -> Module:
    """One file of the module (parsing the whole tree takes seconds; a
    command that needs one file's locals or resources reads only it)."""
    module = Module(MODULE)
    parsed = copy.deepcopy(_parsed((root / MODULE / name).read_text()))
    for block in parsed.get("resource", []):
        for rtype, named in block.items():
            module.resources.setdefault(rtype, {}).update(named)
    for block in parsed.get("locals", []):
        module.locals.update(block)
    return module
