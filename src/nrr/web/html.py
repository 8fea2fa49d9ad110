"""A tiny, escaping HTML builder: every value is escaped unless it is already ``Html``."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any


class Html(str):
    """Markup that is already safe to emit."""

    __slots__ = ()


def esc(value: Any) -> Html:
    if isinstance(value, Html):
        return value
    return Html(escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Any]) -> Html:
    return Html("".join(esc(p) for p in parts))


_VOID = frozenset({"input", "meta", "link", "br", "img"})


def tag(element: str, /, *children: Any, **attrs: Any) -> Html:
    """``tag("a", "text", href="/x", class_="c")``; True attrs are bare, None/False dropped."""
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        rendered.append(f" {key}" if value is True else f' {key}="{esc(value)}"')
    opening = f"<{element}{''.join(rendered)}>"
    if element in _VOID:
        return Html(opening)
    return Html(f"{opening}{join(children)}</{element}>")


def json_block(element_id: str, payload: bytes) -> Html:
    """Data for the page's script, in a block the browser never executes.

    ``<`` only occurs inside JSON strings, where ``\\u003c`` means the same: so nothing in the data
    can close the block early.
    """
    text = payload.decode().replace("<", "\\u003c")
    return Html(f'<script type="application/json" id="{esc(element_id)}">{text}</script>')
