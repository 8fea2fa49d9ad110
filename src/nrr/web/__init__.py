"""The web dashboard and its JSON API (Starlette). See docs/dashboard.md."""

from nrr.web.app import create_app

__all__ = ["create_app"]
