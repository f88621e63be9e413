"""Checks every API request passes before its body is read: route, key, version, content type."""

from __future__ import annotations

from aiohttp import web

from ._models import find_model

SUPPORTED_VERSIONS = ("2023-01-01", "2023-06-01", "2026-10-21")
_ROUTES = {
    "/v1/messages": "POST",
    "/v1/messages/count_tokens": "POST",
    "/v1/models": "GET",
}


class Rejection(Exception):
    """A request the API refuses: its status, error type, message and extra headers."""

    def __init__(
        self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message
        self.headers = headers or {}


def route(request: web.BaseRequest) -> str:
    """The endpoint a request is for (`/v1/models/{id}` for one model), or a 404 / 405."""
    path = request.path.rstrip("/") or "/"
    endpoint = "/v1/models/{id}" if path.startswith("/v1/models/") else path
    method = "GET" if endpoint == "/v1/models/{id}" else _ROUTES.get(endpoint)
    if method is None:
        raise Rejection(404, "not_found_error", "Not Found")
    if request.method != method:
        raise Rejection(405, "invalid_request_error", "Method Not Allowed", {"allow": method})
    return endpoint


def check_key(request: web.BaseRequest, required: bool, expected: str | None) -> None:
    """401 unless the request carries an API key (`x-api-key` or a bearer token) that fits."""
    key = request.headers.get("x-api-key")
    bearer = request.headers.get("authorization", "")
    if key is None and bearer[:7].lower() == "bearer ":
        key = bearer[7:].strip()
    if required and not key:
        raise Rejection(401, "authentication_error", "x-api-key header is required")
    if expected is not None and key != expected:
        raise Rejection(401, "authentication_error", "invalid x-api-key")


def check_version(request: web.BaseRequest) -> None:
    """400 without an `anthropic-version` header the API supports."""
    version = request.headers.get("anthropic-version")
    if version is None:
        raise Rejection(400, "invalid_request_error", "anthropic-version: header is required")
    if version not in SUPPORTED_VERSIONS:
        raise Rejection(
            400,
            "invalid_request_error",
            f"anthropic-version: '{version}' is not a supported version. Supported versions: "
            + ", ".join(SUPPORTED_VERSIONS),
        )


def check_content_type(request: web.BaseRequest) -> None:
    """400 unless a request with a body says it is JSON."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        shown = kind or "(none)"
        raise Rejection(
            400,
            "invalid_request_error",
            f"Invalid content type {shown}: the request body must be JSON "
            "(content-type: application/json)",
        )


def model_info(model_id: str) -> dict[str, object]:
    """`GET /v1/models/{id}`: the model (an alias resolves to its dated id), or a 404."""
    model = find_model(model_id)
    if model is None:
        raise Rejection(404, "not_found_error", f"model: {model_id}")
    return model.info()
