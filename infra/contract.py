"""The machine-readable contract, generated from the code's own models.

    python -m infra.contract           # (re)write the files below (also: make contract)
    python -m infra.contract --check   # exit 1 if a committed file differs

- docs/schema/media.request.v1.json: JSON Schema 2020-12 of the request
  message, from shared.domain.request.MediaRequest (with the schema twins of
  its validators: reserved ids, blank text, the per-kind requirements);
- docs/schema/media.charge.v1.json: the charge message, from
  shared.domain.charge.Charge;
- docs/openapi.yaml: OpenAPI 3.1 of media_api, from shared/api/openapi.py;
- clients/node/schema/media.request.v1.json: the Node client's own copy of the
  request schema (the package validates with it before publishing);
- clients/node/test/requests.json: requests on both sides of every rule with
  the pipeline's verdict on each (infra/contract_samples.py), which the Node
  tests check the package's validator against; and
  clients/node/test/asset_ids.json: asset ids of sample request ids, which the
  package's port of shared.domain.ids.asset_id_for must give too.

A new request field needs nothing here: change the model and run this.
tests/unit/test_contract.py runs the check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from infra.contract_samples import asset_ids, judged
from shared.api.openapi import COMMON_ERRORS, OWNER_ERROR, PATH_PARAMS, ROUTES, ErrorBody
from shared.api.owners import OWNER_ROUTES
from shared.domain.charge import CHARGE_SCHEMA, Charge
from shared.domain.ids import RESERVED_ID_RE, SCOPE_ID_RE
from shared.domain.request import SCHEMA as REQUEST_SCHEMA
from shared.domain.request import MediaRequest

REPO_ROOT = Path(__file__).resolve().parents[1]
DRAFT = "https://json-schema.org/draft/2020-12/schema"
# No public address is promised: the schemas are named by URN.
BASE_ID = "urn:aidm-cutscenes:"
VERSION = "1.2"


def _json_schema(model: type[BaseModel], name: str, description: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": DRAFT, "$id": BASE_ID + name, "description": description} | {
        k: v for k, v in schema.items() if k != "description"
    }


def request_schema() -> dict[str, Any]:
    return _json_schema(
        MediaRequest,
        REQUEST_SCHEMA,
        "A request for media, published to the Pub/Sub topic media-requests "
        "(docs/interface.md section 1). Unknown fields are ignored. Reference "
        "images must also be in the deployment's bucket under the request's own "
        "campaign, which the pipeline checks.",
    )


def charge_schema() -> dict[str, Any]:
    return _json_schema(
        Charge,
        CHARGE_SCHEMA,
        "One settled charge, published to the Pub/Sub topic media-charges. "
        "De-duplicate on charge_id.",
    )


def _component(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """`model`'s schema registered under components, its $defs hoisted."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


# Errors in the words every route shares are listed once, under components.
_SHARED_ERRORS = {f"Error{code}": text for code, text in COMMON_ERRORS.items()} | {
    "Error403Owner": OWNER_ERROR
}


def _error_ref(code: int, text: str) -> dict[str, Any]:
    for name, shared in _SHARED_ERRORS.items():
        if shared == text and name[5:8] == str(code):
            return {"$ref": f"#/components/responses/{name}"}
    return _error(text)


def _operation(name: str, schemas: dict[str, Any]) -> dict[str, Any]:
    doc = ROUTES[name]
    params = [
        {
            "name": key,
            "in": "path",
            "required": True,
            "description": PATH_PARAMS[key][1],
            "schema": PATH_PARAMS[key][0],
        }
        for key in re.findall(r"\{(\w+)\}", doc.path)
    ]
    params += [
        {"name": p.name, "in": "query", "required": p.required, "description": p.description}
        | {"schema": p.schema}
        for p in doc.query
    ]
    ok: dict[str, Any] = {"description": doc.summary}
    if doc.answer is not None:
        ok["content"] = {doc.media_type: {"schema": _component(doc.answer, schemas)}}
    elif doc.media_type != "application/json":
        ok["content"] = {doc.media_type: {"schema": {"type": "string"}}}
    if doc.status == 302:
        ok["headers"] = {"Location": {"schema": {"type": "string"}, "description": "signed URL"}}
    errors = {code: text for code, text in COMMON_ERRORS.items()} | doc.reworded
    if name in OWNER_ROUTES:
        errors[403] = OWNER_ERROR
    for code, text in doc.errors.items():
        errors[code] = f"{errors[code]}; {text}" if code in errors else text
    responses = {str(doc.status): ok} | {str(c): _error_ref(c, errors[c]) for c in sorted(errors)}
    op: dict[str, Any] = {
        "operationId": name,
        "summary": doc.summary,
        "parameters": params,
        "responses": responses,
    }
    if name in OWNER_ROUTES:
        op["x-owner-only"] = True
    if doc.body is not None:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": _component(doc.body, schemas)}},
        }
    return op


def openapi() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "ScopeId": {
            "type": "string",
            "pattern": SCOPE_ID_RE.pattern,
            "not": {"pattern": RESERVED_ID_RE.pattern},
        }
    }
    _component(ErrorBody, schemas)
    paths: dict[str, dict[str, Any]] = {}
    for name, doc in ROUTES.items():
        paths.setdefault(doc.path, {})[doc.method.lower()] = _operation(name, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "media_api",
            "version": VERSION,
            "description": "The HTTP API of aidm-cutscenes (docs/interface.md section 5). "
            "Every route takes `Authorization: Bearer <ID token>`; errors are "
            '`{"error": {"code", "message"}}`.',
        },
        "security": [{"bearer": []}],
        "paths": {p: paths[p] for p in sorted(paths)},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {name: _error(text) for name, text in _SHARED_ERRORS.items()},
            "schemas": {k: schemas[k] for k in sorted(schemas)},
        },
    }


_PLAIN_KEY = re.compile(r"^[A-Za-z_$/][A-Za-z0-9_$/{}.-]*$")


def _key(key: str) -> str:
    # YAML reads these as strings as they are; anything else is quoted.
    return (
        key if _PLAIN_KEY.match(key) and key not in ("true", "false", "null") else json.dumps(key)
    )


def _is_block(value: Any) -> bool:
    """A non-empty mapping, or a list holding one: written as YAML blocks."""
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block YAML of JSON data: every string JSON-quoted (a JSON string is a
    valid YAML double-quoted scalar) and lists of scalars written as JSON (a
    valid YAML flow sequence), so no YAML library is needed to write it and any
    YAML reader gets exactly `value` back."""
    pad = "  " * indent
    if isinstance(value, dict) and value:
        lines = []
        for k, v in value.items():
            if _is_block(v):
                lines.append(f"{pad}{_key(str(k))}:\n{to_yaml(v, indent + 1)}")
            else:
                lines.append(f"{pad}{_key(str(k))}: {to_yaml(v)}")
        return "\n".join(lines)
    if _is_block(value):
        lines = []
        for item in value:
            if _is_block(item):
                body = to_yaml(item, indent + 1)
                lines.append(f"{pad}- {body.lstrip()}")
            else:
                lines.append(f"{pad}- {to_yaml(item)}")
        return "\n".join(lines)
    # Scalars, and lists of scalars as a flow sequence (JSON's is valid YAML).
    return json.dumps(value, ensure_ascii=False)


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _json_lines(items: list[Any]) -> str:
    """A JSON array with one item per line: short, and diffs read per item."""
    lines = ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)
    return f"[\n{lines}\n]\n"


def _yaml_text(data: Any) -> str:
    return (
        "# Generated by `python -m infra.contract` from shared/api/openapi.py: do not edit.\n"
        + (to_yaml(data) + "\n")
    )


FILES: dict[str, Callable[[], str]] = {
    "docs/schema/media.request.v1.json": lambda: _json_text(request_schema()),
    "docs/schema/media.charge.v1.json": lambda: _json_text(charge_schema()),
    "docs/openapi.yaml": lambda: _yaml_text(openapi()),
    "clients/node/schema/media.request.v1.json": lambda: _json_text(request_schema()),
    "clients/node/test/requests.json": lambda: _json_lines(judged()),
    "clients/node/test/asset_ids.json": lambda: _json_text(asset_ids()),
}


def drifted(root: Path = REPO_ROOT) -> list[str]:
    """The files whose committed text differs from what the code generates."""
    out = []
    for rel, make in FILES.items():
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != make():
            out.append(rel)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.contract",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--check", action="store_true", help="fail if a file differs")
    args = parser.parse_args(argv)
    if args.check:
        stale = drifted()
        for rel in stale:
            print(f"{rel} differs from the code: run python -m infra.contract", file=sys.stderr)
        return 1 if stale else 0
    for rel, make in FILES.items():
        path = REPO_ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make(), encoding="utf-8")
        print(f"wrote {rel}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
