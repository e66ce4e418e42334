"""JSON read as it arrives, for answers too big to hold twice.

At 100,000 actions the ``spreadsheets.get`` answer is 62 MB of JSON. ``json.loads``
needs all of it as one text, and the text stays alive beside the tree it decodes:
that pair was the google backend's peak memory. ``load`` walks the objects and
arrays along one path of keys by hand and leaves each element of the array at its
end to json's own decoder (``raw_decode``), handing it to ``each`` as soon as it
is decoded. Held at once: the text not yet decoded (about one chunk), the element
being decoded and what ``each`` has made of the ones before.

Everything off the path is decoded whole, as ``json.loads`` would decode it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

ObjectHook = Callable[[dict[str, Any]], Any]  # as json.loads's object_hook
_SPACE = re.compile(r"[ \t\n\r]*")
NUMBER_GOES_ON = frozenset("0123456789.eE+-")


def unchanged(element: Any) -> Any:
    """The default ``each``: every element as decoded."""
    return element


class JsonStream:
    """A JSON text arriving in pieces, read a token or a whole value at a time."""

    def __init__(self, chunks: Iterable[str], object_hook: ObjectHook | None = None) -> None:
        self.chunks = iter(chunks)
        self.text = ""
        self.at = 0  # how far self.text has been read
        self.decoder = json.JSONDecoder(object_hook=object_hook)

    def more(self, wanted: int = 1) -> bool:
        """Append at least ``wanted`` more characters, or what is left; False at the end.

        A value that did not fit asks for as much again as it already has, so that a
        big one is tried a few times over, not once per chunk.
        """
        pieces, got = [self.text[self.at:]], 0
        for chunk in self.chunks:
            pieces.append(chunk)
            got += len(chunk)
            if got >= wanted:
                break
        self.text, self.at = "".join(pieces), 0
        return got > 0

    def peek(self) -> str:
        """The next character that is not white space (not read)."""
        while True:
            self.at = _SPACE.match(self.text, self.at).end()  # type: ignore[union-attr]
            if self.at < len(self.text):
                return self.text[self.at]
            if not self.more():
                raise json.JSONDecodeError("the JSON ends too soon", self.text, self.at)

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise json.JSONDecodeError(f"expecting {char!r}", self.text, self.at)
        self.at += 1

    def value(self) -> Any:
        """The next whole value, decoded by json's own decoder (with the object hook)."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.at)
            except json.JSONDecodeError:
                if not self.more(len(self.text) - self.at):
                    raise
                continue
            # a number may go on in the next chunk ("1" of "1e+16"): valid JSON has none
            # of these characters right after a complete value
            if (end < len(self.text) and self.text[end] not in NUMBER_GOES_ON
                    ) or not self.more():
                self.at = end
                return value

    def members(self) -> Iterator[str]:
        """An object's keys, each read up to its colon: the caller reads each value."""
        self.take("{")
        if self.peek() == "}":
            self.at += 1
            return
        while True:
            if self.peek() != '"':
                raise json.JSONDecodeError("expecting a key", self.text, self.at)
            key = self.value()
            self.take(":")
            yield key
            if self.peek() != ",":
                self.take("}")
                return
            self.at += 1

    def elements(self) -> Iterator[None]:
        """Once per element of an array: the caller reads each element."""
        self.take("[")
        if self.peek() == "]":
            self.at += 1
            return
        while True:
            yield
            if self.peek() != ",":
                self.take("]")
                return
            self.at += 1

    def end(self) -> None:
        """Nothing but white space may follow the value, as for json.loads."""
        try:
            self.peek()
        except json.JSONDecodeError:
            return
        raise json.JSONDecodeError("Extra data", self.text, self.at)


def load(
    chunks: Iterable[str],
    object_hook: ObjectHook | None = None,
    path: tuple[str, ...] = (),
    each: Callable[[Any], Any] = unchanged,
) -> Any:
    """What ``json.loads`` of the joined chunks gives, except that each element of
    the arrays reached by ``path`` (a key per level; arrays of objects in between are
    walked element by element) becomes ``each(element)`` as soon as it is decoded.

    ``load(chunks, path=("sheets", "data", "rowData"), each=row)`` decodes a
    ``spreadsheets.get`` answer one row at a time. A text cut short raises
    ``json.JSONDecodeError``, as ``json.loads`` does.
    """
    stream = JsonStream(chunks, object_hook)

    def walk(depth: int) -> Any:
        if stream.peek() != "{":
            return stream.value()
        decoded = {}
        for key in stream.members():
            decoded[key] = array(depth + 1) if key == path[depth] else stream.value()
        return object_hook(decoded) if object_hook else decoded

    def array(depth: int) -> Any:
        if stream.peek() != "[":
            return stream.value()
        elements = []
        for _ in stream.elements():
            elements.append(each(stream.value()) if depth == len(path) else walk(depth))
        return elements

    decoded = walk(0) if path else stream.value()
    stream.end()
    return decoded
