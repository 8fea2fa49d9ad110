"""Errors a client can act on: every one becomes a 4xx JSON body ``{"error": message}``."""

from __future__ import annotations


class ApiError(Exception):
    """A request the app refuses, with the status and a message naming what to fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)
