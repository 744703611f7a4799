"""Render the static status site: HTML (Jinja2, autoescaped), Statuspage JSON, Atom, SVG badges,
in every locale of `site.locales`, each page's folder self-contained (see `links` for the layout).

`render_site` reads a snapshot from the store and writes the site; `render_snapshot` is the pure
part (snapshot in, files out). Every file is built in memory first, then written only when its
bytes differ from what is on disk, through a temporary file in the same directory and
`os.replace`, so a reader (a static host, the live server) never sees a half-written file and an
unchanged site costs no writes at all. Links are relative, so the site works under any base path
and straight from the file system.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jinja2
from markupsafe import Markup

from statuspage.config import Config, subscription_endpoint
from statuspage.site import badges, bounds, icons
from statuspage.site.calendar import maintenances_ics
from statuspage.site.embed import embed_context
from statuspage.site.i18n import Translator
from statuspage.site.links import Links, locale_dir, page_root, site_root
from statuspage.site.sla_page import sla_context
from statuspage.site.snapshot import ComponentView, LatencyCache, PageView, Snapshot, take_snapshot
from statuspage.site.statuspage_api import page_documents
from statuspage.site.support_view import support_documents
from statuspage.site.view import View
from statuspage.store import Store

__all__ = ["STATIC_SUFFIXES", "RenderResult", "build_files", "environment", "render_site", "render_snapshot"]

log = logging.getLogger(__name__)

STATIC_SUFFIXES: Final = frozenset({".css", ".svg", ".ico", ".png", ".woff2"})
"""Files of `statuspage.static` copied to `<out>/static/` (the public pages need no scripts)."""
UPTIME_WINDOWS: Final = ("24h", "7d", "30d", "90d")

_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class RenderResult:
    """What a render did: files written, files left as they were, stale files removed, time taken."""

    written: int
    unchanged: int
    seconds: float
    removed: int = 0
    snapshot: Snapshot | None = None
    """The snapshot rendered (so a caller can feed /metrics from the same instant)."""


# --- Jinja2 ------------------------------------------------------------------------------------------


def _finalize(value: Any) -> Any:
    """Drop characters that XML (Atom, SVG) and HTML cannot carry from every printed value."""
    if isinstance(value, str):
        # Every character `_NOT_XML` drops is unprintable (control, surrogate or non-character), so a
        # printable string is kept as it is: one C call instead of a regex pass over tens of
        # thousands of values per render; a clean text with newlines is kept without a copy.
        if value.isprintable() or _NOT_XML.search(value) is None:
            return value
        if isinstance(value, Markup):
            return Markup(_NOT_XML.sub("", str(value)))
        return _NOT_XML.sub("", value)
    return "" if value is None else value


@lru_cache(maxsize=4)
def environment(templates: str | None = None) -> jinja2.Environment:
    """The Jinja2 environment (autoescape on for html/xml/svg/atom); cached, as compiling costs ~50 ms.

    `templates` is a directory of templates; by default the `statuspage.templates` package.
    """
    folder = templates or str(resources.files("statuspage.templates"))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "svg", "atom"), default_for_string=True, default=True,
        ),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["tojson_text"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env


# --- building the files ------------------------------------------------------------------------------


def _json_bytes(data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")


@lru_cache(maxsize=1024)
def _badge_files(badge: badges.Badge) -> tuple[bytes, bytes]:
    """A badge's SVG and shields.io endpoint JSON. Kept between renders (the render worker lives on):
    most badges say what they said a minute ago, and laying out their text was a tenth of a steady
    render's CPU. Bounded: ~2 KB an entry."""
    return badges.render_svg(badge).encode("utf-8"), _json_bytes(badges.endpoint_json(badge))


class _Builder:
    """Renders every file of the site, handing each to `emit(path, bytes)` as soon as it is built.

    The layout (see `links`): the overview root, then each page's self-contained folder, each in
    every locale of `site.locales`."""

    def __init__(self, config: Config, snapshot: Snapshot, env: jinja2.Environment,
                 emit: Callable[[str, bytes], None]) -> None:
        self.config = config
        self.snapshot = snapshot
        self.env = env
        self.emit = emit
        self.translators: dict[str, Translator] = {
            loc: Translator(loc, config.site.timezone) for loc in config.site.locales}
        self.views: dict[str, View] = {loc: View(t, snapshot.target) for loc, t in self.translators.items()}
        self.default = config.site.locale
        self._templates: dict[str, jinja2.Template] = {}

    def common(self, links: Links, status: str) -> dict[str, Any]:
        t, now = self.translators[links.locale], self.snapshot.now
        return {
            "subscribe": subscribe_form(self.config),
            "t": t,
            "v": self.views[links.locale],
            "site": self.config.site,
            "sla": self.config.sla,
            "snapshot": self.snapshot,
            "pages": self.snapshot.pages,
            "now": now,
            "root": links.top(),
            "urls": links,
            "status": status,
            "logo": icons.logo(status),
            "favicon": links.static(icons.favicon_name(status)),
            "generated": t.datetime(now),
            "tz_note": t("times_in", tz=t.tz_name, offset=t.utc_offset(now)),
            "windows": UPTIME_WINDOWS,
        }

    def template(self, name: str) -> jinja2.Template:
        # Looked up once per render: Jinja2 checks the file's mtime on every get_template.
        found = self._templates.get(name)
        if found is None:
            found = self._templates[name] = self.env.get_template(name)
        return found

    def html(self, links: Links, template: str, *, status: str, active: str = "", **context: Any) -> None:
        text = self.template(template).render(**self.common(links, status), active=active, **context)
        self.emit(links.here, text.encode("utf-8"))

    def json(self, path: str, data: Any) -> None:
        self.emit(path, _json_bytes(data))

    def badge(self, path: str, badge: badges.Badge) -> None:
        svg, endpoint = _badge_files(badge)
        self.emit(f"{path}.svg", svg)
        self.emit(f"{path}.json", endpoint)

    def build(self) -> None:
        overall = self.snapshot.banner
        for locale in self.config.site.locales:
            t = self.translators[locale]
            self.html(Links(self.config, locale, "index.html"), "index.html", status=overall,
                      active="overview")
            self.html(Links(self.config, locale, "sla.html"), "sla.html", status=overall, active="sla",
                      **sla_context(self.config, self.snapshot, t))
            for page in self.snapshot.pages:
                self.page(page, locale)
        # The same document in every locale's folder (its keys and figures don't change with the
        # language), so each copy of sla.html and each self-contained page folder links to its own.
        support = support_documents(self.config, self.snapshot)
        for locale in self.config.site.locales:
            for path, doc in support.items():
                slug, _, rest = path.partition("/api/v2/")
                target = (f"{site_root(self.config, locale)}{path}" if not rest
                          else f"{page_root(self.config, slug, locale)}api/v2/{rest}")
                self.json(target, doc)
        # Served by the live server for any missing path, so its links start at the host's root.
        self.html(Links(self.config, self.default, "404.html", from_root=True), "404.html", status=overall)
        for name, data in _static_files():
            self.emit(f"static/{name}", data)
        for page in self.snapshot.pages:
            for name, data in _static_files():
                self.emit(f"{page.slug}/static/{name}", data)

    def page(self, page: PageView, locale: str) -> None:
        slug, status, t = page.slug, page.banner, self.translators[locale]

        def links(rest: str) -> Links:
            return Links(self.config, locale, rest, slug)

        root = page_root(self.config, slug, locale)
        # Every public document is bounded (site/bounds.py): the page, the history's pages, the feed.
        shown, more_open = bounds.status_page(page)
        self.html(links("index.html"), "page.html", status=status, active=slug, page=shown,
                  more_open=more_open)
        for part in bounds.history_pages(page):
            self.html(links(part.path), "history.html", status=status, active=slug, page=page, pager=part,
                      months=_by_month(replace(page, incidents=part.incidents), t))
        self.html(links("embed.html"), "embed.html", status=status, active=slug, page=page,
                  **embed_context(self.config, page, t, UPTIME_WINDOWS, _page_url(self.config, page, locale)))
        self.html(links("sla.html"), "sla.html", status=status, active="sla",
                  **sla_context(self.config, self.snapshot, t))
        if locale == self.default:
            self.html(Links(self.config, locale, "404.html", slug, from_root=True), "404.html", status=status)
        for incident in page.incidents:
            try:
                self.html(links(f"incidents/{incident.id}.html"), "incident.html", status=status,
                          active=slug, page=page, incident=incident)
            except Exception:
                # One incident that cannot be rendered must not stop the rest of the site.
                log.exception("incident page not rendered page=%s id=%d", slug, incident.id)
        feed = self.template("feed.atom.xml").render(
            **self.common(links("feed.atom"), status), page=bounds.feed_page(page),
            feed=_feed_urls(self.config, page, locale_dir(self.config, locale)))
        self.emit(f"{root}feed.atom", feed.encode("utf-8"))
        api = page_documents(self.snapshot, page, self.config.site.base_url, locale,
                             _page_url(self.config, page, locale))
        for name, doc in api.items():
            self.json(f"{root}api/v2/{name}", doc)
        self.badges(page, root, locale)
        self.emit(f"{root}maintenances.ics", maintenances_ics(
            self.config, slug, page.calendar, name=f"{page.name} — {t('calendar.name')}",
            page_url=_page_url(self.config, page, locale),
            words={"components": t("calendar.components"), "all": t("calendar.all")}))

    def badges(self, page: PageView, root: str, locale: str) -> None:
        t, v = self.translators[locale], self.views[locale]
        banner = page.banner
        self.badge(f"{root}badges/status", badges.Badge(
            page.name, t(f"badge.banner.{banner}"), _banner_color(banner)))
        for window in UPTIME_WINDOWS:
            w = page.uptime.windows[window]
            self.badge(f"{root}badges/uptime-{window}", badges.Badge(
                t("badge.uptime", window=window), v.badge_message(w), v.badge_color(w)))
        for comp in page.components:
            self.component_badges(comp, root, locale)

    def component_badges(self, comp: ComponentView, root: str, locale: str) -> None:
        t, v = self.translators[locale], self.views[locale]
        base = f"{root}badges/{comp.slug}"
        key = comp.status or "no_data"
        self.badge(f"{base}/status", badges.Badge(comp.name, t(f"badge.status.{key}"),
                                                  badges.status_color(comp.status)))
        for window in UPTIME_WINDOWS:
            w = comp.uptime.windows[window]
            self.badge(f"{base}/uptime-{window}", badges.Badge(
                f"{comp.name} {t('badge.uptime', window=window)}", v.badge_message(w),
                v.badge_color(w)))


@dataclass(frozen=True, slots=True)
class SubscribeForm:
    """The pages' subscribe form: where it posts (the live server), whether components are offered."""

    action: str
    components: bool


def subscribe_form(config: Config) -> SubscribeForm | None:
    """The form when `subscriptions:` is configured, else None (the section then lists the feeds only)."""
    if config.subscriptions is None:
        return None
    return SubscribeForm(f"{subscription_endpoint(config)}/api/subscriptions",
                         config.subscriptions.components)


def _banner_color(banner: str) -> badges.BadgeColor:
    return {
        "operational": "brightgreen", "monitoring": "green", "maintenance": "blue", "degraded": "yellow",
        "minor": "yellow", "partial": "orange", "major": "red",
    }.get(banner, "lightgrey")  # type: ignore[return-value]


def _page_url(config: Config, page: PageView, locale: str) -> str:
    """The public address of a page in a locale: its domain, else under `site.base_url`, else a path."""
    folder = locale_dir(config, locale)
    tail = f"{folder}/" if folder else ""
    conf = config.page(page.slug)
    if conf is not None and conf.domains:
        return f"https://{conf.domains[0]}/{tail}"
    base = config.site.base_url.rstrip("/")
    return f"{base}/{page.slug}/{tail}"


def _by_month(page: PageView, t: Translator) -> list[tuple[str, list[Any]]]:
    """Incidents grouped under month headings, newest first (as Statuspage's history)."""
    months: dict[tuple[int, int], list[Any]] = {}
    for view in page.incidents:
        d = t.local(view.incident.started_at)
        months.setdefault((d.year, d.month), []).append(view)
    return [(t.month(y, m), views) for (y, m), views in months.items()]


def _feed_urls(config: Config, page: PageView, folder: str = "") -> dict[str, str]:
    """Ids and links of a page's feed in one locale folder ("" for the default locale).

    Ids stay what they were before pages had domains and locales (`<base_url>/<page>/…` for the
    default locale), so readers never see old entries again as new; links point at the page's
    public address (its domain when it has one)."""
    base = config.site.base_url.rstrip("/")
    sub = f"{folder}/" if folder else ""
    conf = config.page(page.slug)
    home = f"https://{conf.domains[0]}/{sub}" if conf is not None and conf.domains else (
        f"{base}/{page.slug}/{sub}" if base else "")
    if base or home:
        ids = f"{base}/{page.slug}/{sub}" if base else home
        return {"id": f"{ids}feed.atom", "self": f"{home}feed.atom", "alternate": f"{home}index.html",
                "base": home, "entry_prefix": f"{home}incidents/", "entry_id": f"{ids}incidents/"}
    # Without a public URL, ids must still be stable absolute IRIs; links stay relative to the feed.
    lang = f":{folder}" if folder else ""
    return {"id": f"urn:statuspage:{page.slug}{lang}:feed", "self": "feed.atom", "alternate": "index.html",
            "base": "", "entry_prefix": "incidents/",
            "entry_id": f"urn:statuspage:{page.slug}{lang}:incident:"}


@lru_cache(maxsize=1)
def _static_files() -> tuple[tuple[str, bytes], ...]:
    """The package's assets and one favicon per status (each page links the one of its status)."""
    folder = resources.files("statuspage.static")
    out: list[tuple[str, bytes]] = list(icons.favicon_files())
    for entry in folder.iterdir():
        if entry.is_file() and Path(entry.name).suffix in STATIC_SUFFIXES:
            out.append((entry.name, entry.read_bytes()))
    return tuple(sorted(out))


def build_files(
    config: Config, snapshot: Snapshot, env: jinja2.Environment | None = None
) -> dict[str, bytes]:
    """Every file of the site as bytes, keyed by its path relative to the output directory."""
    files: dict[str, bytes] = {}
    _Builder(config, snapshot, env or environment(), files.__setitem__).build()
    return files


# --- writing -----------------------------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it already holds exactly that; True when written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    # A dotfile in the same directory: same file system (so the rename is atomic), and the live
    # server never serves dotfiles.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a static host must be able to read the file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return True


class _Writer:
    """Writes each file as it is built (the site is never whole in memory: 200,000 badge files at
    20,000 components), counting what changed and remembering every name for pruning."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.names: set[str] = set()
        self.written = self.unchanged = 0

    def __call__(self, rel: str, data: bytes) -> None:
        self.names.add(rel)
        if _write_atomic(self.out_dir / rel, data):
            self.written += 1
        else:
            self.unchanged += 1

    def prune(self, folders: Iterable[str], pattern: str = "*.html") -> int:
        """Remove files matching `pattern` in `folders` that this render did not write; return how many."""
        removed = 0
        for folder in folders:
            directory = self.out_dir / folder
            if not directory.is_dir():
                continue
            for stale in directory.glob(pattern):
                if f"{folder}/{stale.name}" not in self.names:
                    with contextlib.suppress(FileNotFoundError):
                        stale.unlink()
                        removed += 1
        return removed


def render_snapshot(
    config: Config, snapshot: Snapshot, out_dir: str | Path, env: jinja2.Environment | None = None
) -> RenderResult:
    """Render `snapshot` into `out_dir`, rewriting only the files whose bytes changed."""
    started = time.perf_counter()
    writer = _Writer(Path(out_dir))
    _Builder(config, snapshot, env or environment(), writer).build()
    # Pages of deleted incidents, and history pages beyond the last one, in every locale's folder.
    roots = [page_root(config, p.slug, loc).rstrip("/")
             for p in snapshot.pages for loc in config.site.locales]
    removed = writer.prune(f"{root}/incidents" for root in roots)
    removed += writer.prune(roots, pattern="history-*.html")
    return RenderResult(writer.written, writer.unchanged, time.perf_counter() - started, removed, snapshot)


async def render_site(
    config: Config, store: Store, out_dir: str | Path | None = None, now: float | None = None,
    latency_cache: LatencyCache | None = None,
) -> RenderResult:
    """Snapshot the store at `now` (default: the current time) and write the site to `out_dir`
    (default: `site.output_dir`). CPU-bound: `statuspage run` calls it through its render worker."""
    started = time.perf_counter()
    at = time.time() if now is None else now
    snapshot = await take_snapshot(config, store, at, latency_cache)
    target = Path(out_dir if out_dir is not None else config.site.output_dir)
    result = render_snapshot(config, snapshot, target)
    elapsed = time.perf_counter() - started
    log.debug("rendered site=%s written=%d unchanged=%d removed=%d seconds=%.3f", target, result.written,
             result.unchanged, result.removed, elapsed)
    return replace(result, seconds=elapsed)
