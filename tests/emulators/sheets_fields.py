"""Google's partial-response ``fields`` parameter: ``a,b.c,sheets(properties(title))``."""

from __future__ import annotations

from typing import Any

Mask = dict[str, "Mask"]


def parse_fields(text: str) -> Mask:
    """Parse a fields expression into a tree; an empty subtree selects the whole value."""
    mask, _ = _parse(text.replace(" ", ""), 0)
    return mask


def _parse(text: str, i: int) -> tuple[Mask, int]:
    mask: Mask = {}
    while i < len(text):
        j = i
        while j < len(text) and text[j] not in ",()":
            j += 1
        path = [p for p in text[i:j].replace("/", ".").split(".") if p]
        node = mask
        for key in path:
            node = node.setdefault(key, {})
        i = j
        if i < len(text) and text[i] == "(":
            sub, i = _parse(text, i + 1)
            node.update(sub)
            i += 1  # the closing parenthesis
        if i < len(text) and text[i] == ")":
            return mask, i
        if i < len(text) and text[i] == ",":
            i += 1
    return mask, i


def select(value: Any, mask: Mask) -> Any:
    """Keep only the masked parts of a JSON value (lists are masked item by item)."""
    if not mask:
        return value
    if isinstance(value, list):
        return [select(item, mask) for item in value]
    if isinstance(value, dict):
        return {k: select(value[k], sub) for k, sub in mask.items() if k in value}
    return value
