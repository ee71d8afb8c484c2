"""A small JSON Schema checker for the subset the bridge contract uses (contract/status.schema.json): $ref to
#/$defs/…, anyOf, type (one or a list), enum, required, properties, additionalProperties (a schema or a bool), items.
Any other keyword in the schema is an error here, so the checker never silently ignores a rule."""

from __future__ import annotations

from typing import Any

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}
_KNOWN = {"$schema", "$id", "$ref", "$defs", "title", "description", "type", "enum", "required", "properties", "additionalProperties", "items", "anyOf"}


def errors(value: Any, schema: dict, root: dict | None = None, path: str = "$") -> list[str]:
    """Every violation of `schema` by `value`, as 'path: what'."""
    root = root if root is not None else schema
    unknown = set(schema) - _KNOWN
    if unknown:
        raise ValueError(f"schemacheck does not support {sorted(unknown)} (at {path})")
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        return errors(value, root["$defs"][ref[len("#/$defs/"):]], root, path)
    if "anyOf" in schema:
        tried = [errors(value, branch, root, path) for branch in schema["anyOf"]]
        if all(tried):
            return [f"{path}: matches none of anyOf: " + " | ".join("; ".join(e) for e in tried)]
    out: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return [f"{path}: {type(value).__name__} {value!r:.60} is not {' or '.join(types)}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                out.append(f"{path}: missing required {name!r}")
        props = schema.get("properties", {})
        for name, item in value.items():
            if name in props:
                out += errors(item, props[name], root, f"{path}.{name}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += errors(item, schema["additionalProperties"], root, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}: unexpected property {name!r}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += errors(item, schema["items"], root, f"{path}[{i}]")
    return out
