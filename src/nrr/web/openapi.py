"""The OpenAPI 3 document, from the endpoint declarations, so it cannot drift from the routes."""

from __future__ import annotations

from typing import Any

from nrr.web.endpoints import COMMON, ENDPOINTS, FORMAT, Endpoint, Param

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}


def _param(param: Param) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": param.where,
        "required": param.required or param.where == "path",
        "description": param.description,
        "schema": param.schema,
    }


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    params = [*COMMON, *endpoint.params, *((FORMAT,) if endpoint.table else ())]
    content: dict[str, Any] = {"application/json": {"schema": endpoint.response}}
    if endpoint.table:
        content["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": content},
        "400": _error("A parameter is not valid; the message names it and says what to write."),
        "401": _error("A token is required (the server listens beyond loopback)."),
        "503": _error("The workspace has no published data yet."),
    }
    if any(p.where == "path" for p in endpoint.params):
        responses["404"] = _error("No such customer.")
    return {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "parameters": [_param(p) for p in params],
        "responses": responses,
    }


def _recompute() -> dict[str, Any]:
    return {
        "post": {
            "operationId": "recompute",
            "summary": "Reopen the latest published snapshot and drop every cached figure. "
            "Needs the X-CSRF-Token header from the page's csrf-token meta.",
            "parameters": [{
                "name": "X-CSRF-Token", "in": "header", "required": True,
                "schema": {"type": "string"}, "description": "The app's CSRF token.",
            }],  # fmt: skip
            "responses": {
                "200": {"description": "Reloaded",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                "401": _error("A token is required."),
                "403": _error("Missing or wrong CSRF token."),
                "503": _error("The workspace has no published data yet."),
            },  # fmt: skip
        }
    }


def spec(version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {e.path: {"get": _operation(e)} for e in ENDPOINTS}
    paths["/api/recompute"] = _recompute()
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "nrr dashboard API",
            "version": version,
            "description": "Every dashboard page's figures as JSON; tables also as CSV "
            "(format=csv). Money is integer minor units of the reporting currency.",
        },
        "paths": paths,
    }
