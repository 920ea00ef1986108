"""The errors every operation can answer, added to the OpenAPI schema in one place.

drf-spectacular documents each view's success; the answers DRF gives before a view runs
(401 for a bad or missing credential, 403 for a key's scopes or a role, 404 for a tenant
the caller is not in, 400 for a body it cannot read, 429 for a throttle or a lockout)
apply across the API, so they are added here rather than on every view. An operation
keeps any answer its view documents itself.
"""

from __future__ import annotations

from typing import Any

ERROR = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "`detail` says what went wrong; a field's errors are listed under its name.",
    "properties": {"detail": {}},
    "additionalProperties": True,
}
DESCRIPTIONS = {
    "400": "The request could not be read or is invalid.",
    "401": "No valid credential (a bad, expired, revoked or logged-out token or key).",
    "403": "The credential does not allow this (a key's scopes, a role in the tenant).",
    "404": "No such object, or not one the caller may see.",
    "415": "The body is not in a format the operation reads.",
    "429": "Too many attempts; try again later.",
}
UNSAFE = ("post", "put", "patch", "delete")


def _error(code: str) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}},
    }


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """POSTPROCESSING_HOOK: the shared error answers, on every operation they apply to."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = ["429"]
            if operation.get("security"):
                codes += ["401", "403"]
            elif "requestBody" in operation:
                codes.append("401")  # a login's wrong password, a refresh's bad token
            if "{" in path:
                codes.append("404")
            if method in UNSAFE and "requestBody" in operation:
                codes += ["400", "415"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, _error(code))
    return result
