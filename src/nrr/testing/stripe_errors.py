"""Stripe's error responses: the status, the `{"error": {...}}` body and the retry advice header."""

from __future__ import annotations

import json

_DOCS = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An API error, raised anywhere in request handling and rendered as Stripe renders it."""

    def __init__(self, status: int, message: str, *, kind: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None,
                 should_retry: bool | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.code = code
        self.param = param
        self.should_retry = should_retry

    def body(self) -> bytes:
        error: dict[str, str] = {}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = _DOCS + self.code.replace("_", "-")
        error["message"] = self.message
        if self.param is not None:
            error["param"] = self.param
        error["type"] = self.kind
        return json.dumps({"error": error}, indent=2).encode()

    def headers(self) -> dict[str, str]:
        if self.should_retry is None:
            return {}
        return {"Stripe-Should-Retry": "true" if self.should_retry else "false"}


def missing(object_name: str, object_id: str, param: str = "id") -> StripeError:
    label = object_name.replace("_", " ")
    return StripeError(404, f"No such {label}: '{object_id}'", code="resource_missing",
                       param=param)


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, message, code=code, param=param)


def unknown_parameter(name: str) -> StripeError:
    return invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")


def unrecognized(method: str, path: str) -> StripeError:
    return StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see "
                            "https://stripe.com/docs or we can help at https://support.stripe.com/.")


def masked(key: str) -> str:
    """A key as Stripe quotes it back: its prefix and last four characters, the rest starred."""
    prefix = "_".join(key.split("_")[:2]) + "_" if key.count("_") >= 2 else ""
    return prefix + "*" * max(0, len(key) - len(prefix) - 4) + key[-4:]


def unauthenticated(key: str | None) -> StripeError:
    # Stripe answers 401 with type invalid_request_error; SDKs map the status to their
    # AuthenticationError.
    if not key:
        return StripeError(401, "You did not provide an API key. You need to provide your API key "
                                "in the Authorization header, using Bearer auth (e.g. "
                                "'Authorization: Bearer YOUR_SECRET_KEY').")
    return StripeError(401, f"Invalid API Key provided: {masked(key)}", code="api_key_invalid")


def forbidden(key: str, permission: str) -> StripeError:
    return StripeError(403, f"The provided key '{masked(key)}' does not have the required "
                            "permissions for this endpoint on account 'acct_1NrrSynthetic00'. "
                            f"Having the '{permission}' permission would allow this request to "
                            "continue.")


def rate_limited(should_retry: bool | None) -> StripeError:
    return StripeError(429, "Too many requests hit the API too quickly. We recommend an "
                            "exponential backoff of your requests.", code="rate_limit",
                       should_retry=should_retry)


def server_error() -> StripeError:
    return StripeError(500, "An unknown error occurred", kind="api_error", should_retry=True)
