"""Check responses against the OpenAPI document: which operation a URL is, and whether a body has
exactly the documented shape."""

import re
from typing import Any

import jsonschema
from django.urls import resolve


def operation_key(method: str, url: str) -> tuple[str, str]:
    """("GET", "/api/v1/insatser/{code}/") for ("get", "/api/v1/insatser/jonsbo/?x=1")."""
    route = resolve(url.split("?")[0]).route
    return method.upper(), "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def schema_operations(schema: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in schema["paths"].items() for method in item}


def _strict(node: Any) -> Any:
    """OpenAPI 3.0 schema → JSON Schema (draft 4): `nullable` as a null type, and no properties
    beyond the documented ones, so that an undocumented key fails as surely as a missing one."""
    if isinstance(node, list):
        return [_strict(child) for child in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict(value) for key, value in node.items()}
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if node.pop("nullable", False):
        if "type" in node and "enum" not in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def assert_matches_schema(schema: dict, method: str, path: str, status: int, body: Any) -> None:
    """The body is what the schema documents for this operation and status."""
    responses = schema["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} does not document status {status}"
    content = responses[str(status)].get("content")
    if content is None:
        assert body in (None, b"", ""), f"{method} {path} {status} documents no body"
        return
    document = _strict({"allOf": [content["application/json"]["schema"]], "components": schema["components"]})
    jsonschema.Draft4Validator(document).validate(body)
