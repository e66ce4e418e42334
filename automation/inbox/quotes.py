"""Where the quoted mail starts in a reply, and the partner's own text before it: in plain
text (``own_text``) and in HTML (``html_text``), for automation/inbox/reading.py.

Pure. The cut is our own; reading.py's docstring says which libraries were checked and
why none is used. The signature is kept: the first lines decide
(automation/core/commands.py), and the secretariat sees the reply as written.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_HEADER_FROM = re.compile(r"^\s*\*?\s*(?:fra|from|von|de)\s*:\s*\*?", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*\*?\s*(?:sendt|sent|dato|date|gesendet|til|to|emne|subject)\s*:", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:oprindelig meddelelse|oprindelig besked|original message"
    r"|videresendt meddelelse"
    r"|videresendt besked|forwarded message|ursprüngliche nachricht)\s*-{2,}\s*$"
    r"|^\s*(?:begin forwarded message|start på videresendt (?:besked|meddelelse))\s*:\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{8,}\s*$")
# an attribution names a date: "On Monday I wrote the following:" is the writer's own text
_ATTRIBUTION = re.compile(
    r"^\s*(?:den|on|am|le)\s[^\d]{0,100}\d.{0,300}?\b(?:skrev|wrote|schrieb|a écrit)\b"
    r".{0,300}:\s*$"
    r"|^.{0,120}\d.{0,200}\b(?:skrev|wrote)\b[^:]{0,200}<[^<>\s]+@[^<>\s]+>\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\s*(?:den|on)\s+\S", re.IGNORECASE)
_INVISIBLE = str.maketrans({"\u00a0": " ", "\u200b": None, "\ufeff": None, "\u200e": None,
                            "\u200f": None, "\u202f": " ", "\x00": None})


def normalised(text: str) -> str:
    """\\n newlines, no non-breaking or zero-width spaces, no trailing spaces on a line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def own_text(text: str) -> str:
    """The writer's own text of a plain-text reply: everything before the first quoted
    line (">"), attribution line ("Den … skrev …:", "On … wrote:", also wrapped over two
    lines), Outlook header block ("Fra:" then "Sendt:"/"Dato:" within a few lines, or the
    English one), separator ("-----Oprindelig meddelelse-----", a line of underscores,
    "---------- Videresendt meddelelse ----------"). Signature kept; outer blank lines
    dropped."""
    lines = normalised(text).split("\n")
    return "\n".join(lines[:_quote_start(lines)]).strip("\n").strip()


def _quote_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">") or _SEPARATOR.match(line) or _UNDERSCORES.match(line):
            return index
        if _ATTRIBUTION.match(line):
            return index
        if _ATTRIBUTION_START.match(line) and index + 1 < len(lines) \
                and _ATTRIBUTION.match(f"{stripped} {lines[index + 1].strip()}"):
            return index
        if _HEADER_FROM.match(line) and any(
                _HEADER_SENT.match(following) for following in lines[index + 1:index + 5]):
            return index
    return len(lines)


# --- HTML -----------------------------------------------------------------------------------

_BLOCKS = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5",
           "h6", "pre", "hr", "dd", "dt", "section", "article", "header", "footer"}
_HIDDEN = {"head", "style", "script", "title", "xml", "template"}
_QUOTE_CLASSES = {"gmail_quote", "gmail_quote_container", "moz-cite-prefix", "yahoo_quoted",
                  "ms-outlook-mobile-reference-message"}
_QUOTE_IDS = {"divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container"}


class _TextOfHtml(HTMLParser):
    """Text of an HTML reply up to where the quoted mail starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.quoted = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.quoted:
            return
        if tag in _HIDDEN:
            self.hidden += 1
            return
        attributes = {name: (value or "") for name, value in attrs}
        classes = set(attributes.get("class", "").lower().split())
        if tag in ("blockquote", "hr") or classes & _QUOTE_CLASSES \
                or attributes.get("id", "").lower() in _QUOTE_IDS:
            self.quoted = True
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self._line_break()

    def _line_break(self) -> None:
        """One line break where a block starts or ends, however many blocks meet there
        (``<div>a</div><div>b</div>`` is two lines, not three)."""
        while self.parts and not self.parts[-1].strip(" ") and "\n" not in self.parts[-1]:
            self.parts.pop()
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _HIDDEN:
            self.hidden -= 1

    def handle_endtag(self, tag: str) -> None:
        if self.quoted:
            return
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS and tag != "br":
            self._line_break()

    def handle_data(self, data: str) -> None:
        if not self.quoted and not self.hidden:
            self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))


_PIECE = 16_384


def html_text(html: str) -> str:
    """An HTML reply as plain text: blocks become lines, entities decoded, and everything
    from the first quote on (``<blockquote>``, Gmail's ``gmail_quote``, Outlook's
    ``divRplyFwdMsg`` and the ``<hr>`` before it) dropped. Blank lines collapse to one."""
    parser = _TextOfHtml()
    try:
        # in pieces, so a long thread below the reply is not parsed only to be dropped
        for start in range(0, len(html), _PIECE):
            parser.feed(html[start:start + _PIECE])
            if parser.quoted:
                break
        parser.close()
    except Exception:  # html.parser is lenient; anything left is a bug there
        pass
    lines = [line.strip() for line in normalised("".join(parser.parts)).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
