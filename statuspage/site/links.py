"""Where every file of the site lives, and the link from one file to another (pure).

Layout (the default locale is the first of `site.locales`; another locale `L` is under its folder
`l` = the tag in lower case, e.g. `en`, `pt-br`):

    index.html, sla.html, 404.html, static/            the overview root, default locale
    l/index.html, l/sla.html                             the overview root in locale L
    <page>/                                              a page's own root, default locale:
        index.html history.html sla.html 404.html          pages
        incidents/<id>.html feed.atom api/v2/… badges/…
        static/                                            its own copy of the assets
    <page>/l/…                                           the same page in locale L (no static/)

Each page folder is a site of its own: its files link to its own static assets and to each other
with relative links, so the folder can be uploaded alone to a static host and serve the page at `/`
of its domain (`pages[].domains`). From the folder of a page that has domains, links that leave the
folder (the overview, the other products) are absolute when their address is known (the other page's
domain, `site.base_url`) and left out otherwise; everywhere else they are relative.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Final

from statuspage.config import Config, Page

__all__ = ["Alternate", "Links", "locale_dir", "page_root", "site_root"]

_LANGUAGE_NAMES: Final = {"pt-BR": "Português", "en": "English"}


def locale_dir(config: Config, locale: str) -> str:
    """The folder of a locale: "" for the default one, else its tag in lower case."""
    return "" if locale == config.site.locale else locale.lower()


def _join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


def site_root(config: Config, locale: str) -> str:
    """The overview root of a locale, "" or "en/"."""
    folder = locale_dir(config, locale)
    return f"{folder}/" if folder else ""


def page_root(config: Config, slug: str, locale: str) -> str:
    """A page's root in a locale, "nps/" or "nps/en/"."""
    folder = locale_dir(config, locale)
    return f"{slug}/{folder}/" if folder else f"{slug}/"


@dataclass(frozen=True, slots=True)
class Alternate:
    """The same document in one locale: for the language switch and `<link rel=alternate hreflang>`."""

    locale: str
    name: str
    """The language's own name ("English", "Português")."""
    href: str
    """A link from the current document (relative, or absolute when it leaves a standalone page folder)."""
    url: str
    """The absolute URL when the site's address is known, else the same as `href`."""
    current: bool


class Links:
    """Links from one file of the site: `rest` (its path under its locale root) in `locale`, in the
    folder of `page` (a page slug) or at the overview root (`page` None).

    With `from_root` (404 pages, served for any missing path) links are absolute paths from the
    root of the host serving them: the site, or the page's own domain."""

    def __init__(self, config: Config, locale: str, rest: str, page: str | None = None, *,
                 from_root: bool = False) -> None:
        """Describe the file `rest` of `page`'s folder (or of the overview) in `locale`."""
        self.config = config
        self.locale = locale
        self.rest = rest
        self.page = page
        self.from_root = from_root
        conf = config.page(page) if page is not None else None
        self.standalone: bool = bool(conf and conf.domains)
        """This page is published on its own domain: its folder must work alone."""
        self.here = self.root(page, locale) + rest
        self._dir = [p for p in posixpath.dirname(self.here).split("/") if p]
        self._base = config.site.base_url.rstrip("/")

    def root(self, page: str | None, locale: str) -> str:
        """The locale root of a page (or of the overview)."""
        return page_root(self.config, page, locale) if page is not None else site_root(self.config, locale)

    def rel(self, target: str) -> str:
        """A link to a file of the combined tree (`nps/history.html`) from this file."""
        if self.from_root:
            folder = f"{self.page}/" if self.standalone and self.page else ""
            return "/" + (target[len(folder):] if folder and target.startswith(folder) else target)
        # Both are paths of the same tree: drop the folders they share, climb out of the rest. (Not
        # posixpath.relpath, which asks the OS for the working directory on every call.)
        parts = target.split("/")
        shared = 0
        while shared < len(self._dir) and shared < len(parts) - 1 and self._dir[shared] == parts[shared]:
            shared += 1
        return "../" * (len(self._dir) - shared) + "/".join(parts[shared:])

    def top(self) -> str:
        """The relative path up to the top of the combined tree ("", "../", "../../"; "/" from root)."""
        return "/" if self.from_root else "../" * len(self._dir)

    # --- inside the current root -------------------------------------------------------------------

    def static(self, name: str) -> str:
        """An asset: the page folder's own copy, or the overview's."""
        return self.rel(f"{self.page}/static/{name}" if self.page else f"static/{name}")

    def page_file(self, name: str) -> str:
        """A file of the current page in the current locale (`feed.atom`, `api/v2/summary.json`)."""
        assert self.page is not None, "page_file is for the files of a page"
        return self.rel(self.root(self.page, self.locale) + name)

    def sla(self) -> str:
        """The SLA page: the page folder's own copy, or the overview's."""
        return self.rel(self.root(self.page, self.locale) + "sla.html")

    # --- across roots ------------------------------------------------------------------------------

    def _absolute_page(self, target: Page, name: str) -> str | None:
        folder = locale_dir(self.config, self.locale)
        index = name == "index.html"
        if target.domains:
            path = _join(folder, "" if index else name)
            return f"https://{target.domains[0]}/{path}" + ("/" if index and folder else "")
        if self._base:
            path = _join(target.slug, folder, "" if index else name)
            return f"{self._base}/{path}" + ("/" if index else "")
        return None

    def page_link(self, slug: str, name: str = "index.html") -> str | None:
        """A file of a page (in this locale); None when a standalone folder cannot know its address."""
        if self.page is None or slug == self.page or not self.standalone:
            return self.rel(self.root(slug, self.locale) + name)
        target = self.config.page(slug)
        return None if target is None else self._absolute_page(target, name)

    def overview(self) -> str | None:
        """The overview of every product; None from a standalone folder without `site.base_url`."""
        if self.page is None or not self.standalone:
            return self.rel(self.root(None, self.locale) + "index.html")
        if not self._base:
            return None
        folder = locale_dir(self.config, self.locale)
        return f"{self._base}/{folder + '/' if folder else ''}"

    def home(self) -> str:
        """Where the header's brand leads: a standalone page's own index, else the overview."""
        if self.page is not None and self.standalone:
            return self.rel(self.root(self.page, self.locale) + "index.html")
        return self.rel(self.root(None, self.locale) + "index.html")

    # --- languages ---------------------------------------------------------------------------------

    def url(self, locale: str) -> str:
        """The absolute URL of this document in `locale` when the address is known, else a link."""
        folder = locale_dir(self.config, locale)
        rest = "" if self.rest == "index.html" else self.rest
        if self.page is not None:
            conf = self.config.page(self.page)
            if conf is not None and conf.domains:
                slash = "/" if folder and not rest else ""
                return f"https://{conf.domains[0]}/{_join(folder, rest)}{slash}"
            if self._base:
                return f"{self._base}/{_join(self.page, folder, rest)}" + ("/" if not rest else "")
        elif self._base:
            return f"{self._base}/{_join(folder, rest)}" + ("/" if folder and not rest else "")
        return self.rel(self.root(self.page, locale) + self.rest)

    def alternates(self) -> list[Alternate]:
        """This document in every locale of the site, the default first."""
        return [
            Alternate(loc, _LANGUAGE_NAMES.get(loc, loc), self.rel(self.root(self.page, loc) + self.rest),
                      self.url(loc), loc == self.locale)
            for loc in self.config.site.locales
        ]
