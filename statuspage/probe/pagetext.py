"""The text a browser shows for a response body: `body_contains` is judged against it.

Decoding follows the order of the WHATWG Encoding and HTML standards: a byte-order mark wins, then
the HTTP `charset`, then (HTML) a `<meta charset>` / `http-equiv` in the first 1024 bytes or (XML)
the `<?xml encoding=…?>` declaration; JSON is UTF-8 (RFC 8259); with no declaration at all, UTF-8
when the bytes are valid UTF-8, else charset-normalizer's best guess (windows-1252, the browsers'
fallback, when it is as good as any). Labels are read as browsers read them: `iso-8859-1`,
`latin1` and `ascii` mean windows-1252, `gb2312` means GB18030, and so on.

A keyword is found when it is in the decoded text as sent, or in the visible text of an HTML page:
character references decoded (`&eacute;`, `&#233;` → é), tags, scripts and styles left out, runs of
white space collapsed to one space, as a browser renders them.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

__all__ = ["contains_text", "decode_body", "visible_text"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)

# WHATWG Encoding Standard labels whose meaning differs from Python's codec of the same name.
_WHATWG: dict[str, str] = {
    **dict.fromkeys(("ascii", "us-ascii", "iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1",
                     "iso_8859-1:1987", "latin1", "l1", "cp819", "ibm819", "csisolatin1",
                     "iso-ir-100", "ansi_x3.4-1968", "windows-1252", "x-cp1252", "cp1252"), "cp1252"),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "iso88599", "iso_8859-9", "latin5", "l5",
                     "windows-1254", "x-cp1254"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "iso8859-11", "dos-874", "windows-874"), "cp874"),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "chinese", "csgb2312", "gb_2312", "gb_2312-80",
                     "iso-ir-58", "gb18030"), "gb18030"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601",
                     "korean", "windows-949", "cseuckr", "csksc56011987", "iso-ir-149"), "cp949"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "ms932", "ms_kanji", "windows-31j",
                     "x-sjis", "csshiftjis"), "cp932"),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(("utf-16", "utf-16le"), "utf-16-le"),
    "utf-16be": "utf-16-be",
    **dict.fromkeys(("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf8", "x-unicode20utf8"),
                    "utf-8"),
    "iso-8859-8-i": "iso-8859-8",
}
# Labels a browser refuses (they would let a page smuggle text past filters).
_REFUSED = frozenset(("utf-7", "utf7", "unicode-1-1-utf-7", "csunicode11utf7", "utf-32", "utf-32le",
                      "utf-32be"))

_META = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)["']""")
_LOOKS_HTML = re.compile(rb"<(!doctype\s+html|html|head|body|meta|title|div|p|span|h[1-6]|table)\b",
                         re.IGNORECASE)


def encoding_for(label: str | None) -> str | None:
    """The Python codec a browser would use for an encoding label, or None for an unknown label."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _REFUSED:
        return None
    if name in _WHATWG:
        return _WHATWG[name]
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _sniff(body: bytes) -> str:
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A prefix cut inside a multi-byte character is still UTF-8.
        if exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a declared dependency
        return "cp1252"
    results = from_bytes(body[:16384])
    best = results.best()
    if best is None:
        return "cp1252"
    # Single-byte Latin guesses often tie; browsers fall back to windows-1252, so it wins a tie.
    if any(r.encoding == "cp1252" and r.chaos <= best.chaos for r in results):
        return "cp1252"
    return encoding_for(best.encoding) or "cp1252"


def _content_type(header: str | None) -> tuple[str, str | None]:
    if not header:
        return "", None
    mime, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    return mime.strip().lower(), charset


def decode_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """Decode `body` as a browser would; return (text, whether it is HTML)."""
    mime, charset = _content_type(content_type)
    is_xml = mime.endswith("/xml") or mime.endswith("+xml") or (not mime and body.startswith(b"<?xml"))
    is_html = mime in ("text/html", "application/xhtml+xml") or (
        not mime and bool(_LOOKS_HTML.search(body[:1024])))
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(bom_codec, errors="replace"), is_html
    codec = encoding_for(charset)
    if codec is None and is_html:
        m = _META.search(body[:1024])
        codec = encoding_for(m.group(1).decode("ascii")) if m else None
        if codec in ("utf-16-le", "utf-16-be"):
            codec = "utf-8"  # a meta tag readable as ASCII cannot be right about UTF-16 (HTML standard)
    if codec is None and is_xml:
        m = _XML_DECL.match(body)
        codec = encoding_for(m.group(1).decode("ascii")) if m else None
    if codec is None and (mime == "application/json" or mime.endswith("+json")):
        codec = "utf-8"
    if codec is None:
        codec = _sniff(body)
    return body.decode(codec, errors="replace"), is_html


# Elements whose content a browser does not show as page text.
_HIDDEN_ELEMENTS = frozenset(("script", "style", "template", "title", "noscript"))
# Elements that start a new line (or cell) when rendered: their text never runs into a neighbour's.
_BLOCKS = frozenset((
    "address", "article", "aside", "blockquote", "br", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul", "option", "button", "label", "input", "select", "textarea", "img",
))
_SPACES = re.compile(r"\s+")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_ELEMENTS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text of an HTML document as rendered: references decoded, markup dropped, spaces collapsed."""
    parser = _TextParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but a page must never fail the prober
        pass
    return _SPACES.sub(" ", "".join(parser.parts)).strip()


def contains_text(body: bytes, content_type: str | None, needle: str) -> bool:
    """True when `needle` is in the body's text as a browser decodes or shows it."""
    text, is_html = decode_body(body, content_type)
    if needle in text:
        return True
    if not is_html:
        return False  # plain text and JSON are shown as sent
    return _SPACES.sub(" ", needle).strip() in visible_text(text)
