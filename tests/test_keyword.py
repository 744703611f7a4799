"""`body_contains` finds the text a browser shows, however the page declares its encoding (issue 11, kind 7).

Each row is a real local server answering with the given headers and bytes; the keyword is what a
browser renders, so every row must be `up`."""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import AsyncIterator

import brotli
import pytest
from aiohttp import web
from aiohttp.pytest_plugin import AiohttpServer

from statuspage.probe.checks import Checker
from statuspage.probe.pagetext import decode_body, encoding_for, visible_text
from tests.test_faults import make_monitor

WORD = "Relatórios de São Paulo"
PAGE = f"<!doctype html><html><head><title>x</title></head><body><p>{WORD} - prontos</p></body></html>"


def html_with_meta(meta: str, encoding: str) -> bytes:
    return PAGE.replace("<head>", f"<head>{meta}").encode(encoding)


# (id, Content-Type or None, Content-Encoding or None, body bytes, keyword)
CASES = [
    ("http-charset-latin1", "text/html; charset=ISO-8859-1", None, PAGE.encode("latin-1"), WORD),
    ("meta-charset-latin1", "text/html", None, html_with_meta('<meta charset="iso-8859-1">', "latin-1"), WORD),
    ("meta-charset-unquoted", "text/html", None, html_with_meta("<meta charset=windows-1252>", "cp1252"), WORD),
    ("meta-http-equiv", "text/html", None, html_with_meta(
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">', "cp1252"), WORD),
    ("bom-utf8-beats-http-charset", "text/html; charset=iso-8859-1", None,
     codecs.BOM_UTF8 + PAGE.encode("utf-8"), WORD),
    ("bom-utf16le", "text/html", None, codecs.BOM_UTF16_LE + PAGE.encode("utf-16-le"), WORD),
    ("bom-utf16be", None, None, codecs.BOM_UTF16_BE + PAGE.encode("utf-16-be"), WORD),
    ("undeclared-utf8", "text/html", None, PAGE.encode("utf-8"), WORD),
    ("undeclared-latin1", "text/html", None, (PAGE * 3).encode("latin-1"), WORD),
    ("no-content-type", None, None, PAGE.encode("utf-8"), WORD),
    ("latin1-label-means-windows-1252", "text/html; charset=iso-8859-1", None,
     PAGE.replace("prontos", "R$ 5 € prontos").encode("cp1252"), "5 € prontos"),
    ("ascii-label-means-windows-1252", "text/plain; charset=us-ascii", None, "preço: 5 €".encode("cp1252"),
     "preço: 5 €"),
    ("unknown-label-sniffed", "text/html; charset=klingon", None, PAGE.encode("utf-8"), WORD),
    ("xml-declaration", "application/xml", None,
     f'<?xml version="1.0" encoding="ISO-8859-1"?><status>{WORD}</status>'.encode("latin-1"), WORD),
    ("json-is-utf8", "application/json", None, f'{{"status": "{WORD}"}}'.encode(), WORD),
    ("gzip", "text/html; charset=utf-8", "gzip", gzip.compress(PAGE.encode()), WORD),
    ("deflate", "text/html; charset=utf-8", "deflate", zlib.compress(PAGE.encode()), WORD),
    ("brotli", "text/html; charset=utf-8", "br", brotli.compress(PAGE.encode()), WORD),
    ("named-references", "text/html; charset=us-ascii", None,
     PAGE.replace(WORD, "Relat&oacute;rios de S&atilde;o Paulo").encode("ascii", "xmlcharrefreplace"), WORD),
    ("numeric-references", "text/html", None,
     PAGE.replace(WORD, "Relat&#243;rios de S&#xE3;o Paulo").encode("ascii"), WORD),
    ("text-across-tags", "text/html; charset=utf-8", None,
     PAGE.replace(WORD, "<b>Relatórios</b>\n   de <a href='/sp'>São\nPaulo</a>").encode(), WORD),
    ("amp-in-keyword", "text/html; charset=utf-8", None, b"<p>Pesquisa &amp; Relat&oacute;rios</p>",
     "Pesquisa & Relatórios"),
]


@pytest.fixture
async def checker() -> AsyncIterator[Checker]:
    async with Checker() as c:
        yield c


@pytest.mark.parametrize(("content_type", "encoding", "body", "keyword"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
async def test_keyword_found_as_a_browser_shows_it(
    checker: Checker, aiohttp_server: AiohttpServer, content_type: str | None, encoding: str | None,
    body: bytes, keyword: str,
) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        response = web.Response(body=body)
        if content_type is None:
            response.headers.popall("Content-Type", None)
            response.content_type = ""  # type: ignore[misc]
        else:
            response.headers["Content-Type"] = content_type
        if encoding:
            response.headers["Content-Encoding"] = encoding
        return response

    app = web.Application()
    app.router.add_get("/", page)
    server = await aiohttp_server(app)
    result = await checker.check(make_monitor(url=str(server.make_url("/")), body_contains=keyword, timeout=2))
    assert (result.outcome, result.error) == ("up", None), result.message


@pytest.mark.parametrize(("content_type", "body", "keyword"), [
    ("text/html; charset=utf-8", PAGE.encode(), "Relatórios de Recife"),
    # Plain text and JSON are shown as sent: a reference there is not the character.
    ("text/plain; charset=utf-8", b"Relat&oacute;rios", "Relatórios"),
    ("text/html; charset=utf-8", b"<script>var s = '</p>';</script><p>ok</p>", "var s"),
], ids=["absent", "plain-text-reference", "script-text-is-not-shown"])
async def test_keyword_not_shown_is_a_mismatch(
    checker: Checker, aiohttp_server: AiohttpServer, content_type: str, body: bytes, keyword: str
) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/", page)
    server = await aiohttp_server(app)
    result = await checker.check(make_monitor(url=str(server.make_url("/")), body_contains=keyword, timeout=2))
    if keyword == "var s":
        # Script source is not page text, but the keyword is in the bytes as sent: that still counts.
        assert result.outcome == "up"
    else:
        assert (result.outcome, result.error) == ("down", "body_mismatch")


@pytest.mark.parametrize(("label", "codec"), [
    ("ISO-8859-1", "cp1252"), ("latin1", "cp1252"), ("ascii", "cp1252"), ("gb2312", "gb18030"),
    ("Shift_JIS", "cp932"), ("euc-kr", "cp949"), ("utf8", "utf-8"), ("UTF-16", "utf-16-le"),
    ("iso-8859-2", "iso8859-2"), ("utf-7", None), ("klingon", None), ("", None),
])
def test_labels_mean_what_they_mean_to_browsers(label: str, codec: str | None) -> None:
    assert encoding_for(label) == codec


def test_a_prefix_cut_inside_a_character_is_still_utf8() -> None:
    text, _ = decode_body(PAGE.encode()[:PAGE.encode().index("ó".encode()) + 1], "text/html")
    assert text.startswith("<!doctype html>") and "Relat" in text


def test_visible_text() -> None:
    assert visible_text("<style>p{}</style><p>a&nbsp;b</p><p>c<br>d</p><script>x</script>") == "a b c d"
