"""The built site in a real browser: Playwright for Python driving Debian's chromium.

Runs in its own stage of ``./dev test`` after the site is built (``./dev browser`` runs
it alone); pytest collects it only with ``--browser-site DIR``. The site is served on
127.0.0.1 under its ``site_url`` path by a server this module starts. Every request the
browser makes is recorded; one to another host is a failure and cannot leave (chromium
resolves no name but the loopback).
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright import async_api as playwright_api

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing leaves: no name but the loopback resolves (requests are recorded, not routed) ...
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    # ... and no proxy from the environment (a proxy resolves names itself): every address
    # but the loopback goes to a proxy that is not there.
    "--proxy-server=http://127.0.0.1:9",
]
TABS_IN_PARALLEL = 4
SEARCH_READY_MS = 120_000  # the worker builds a 1.7 MB index; slow on a busy 2-core machine
CHAPTER_PAGE = "d2l/ch4/4-1-mlp/"
OTHER_TABBED_PAGE = "d2l/ch6/6-1-conv-layer/"

# In the page: what the per-page checks read from the rendered DOM.
PAGE_FACTS_JS = """() => {
  const content = document.querySelector('.md-content') || document.body;
  const prose = content.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, textarea, .katex')
       .forEach(e => e.remove());
  const text = prose.textContent;
  const blocks = [...content.querySelectorAll('pre')]
                   .filter(p => p.querySelector('code'));
  return {
    raw: ['\\\\(', '\\\\[', '$$'].filter(d => text.includes(d)),
    arithmatex: content.querySelectorAll('.arithmatex').length,
    unrendered: [...content.querySelectorAll('.arithmatex')]
                  .filter(e => !e.querySelector('.katex')).length,
    katexErrors: content.querySelectorAll('.katex-error').length,
    figures: [...content.querySelectorAll('.companion-figure')].map(f => {
      const r = f.getBoundingClientRect();
      const img = f.querySelector('img');
      return r.width * r.height > 0 && (!img || img.naturalWidth > 0);
    }),
    codeBlocks: blocks.length,
    withoutCopy: blocks.filter(p => !p.querySelector('[data-md-type="copy"]')).length,
  };
}"""


def site_path() -> str:
    """The path part of mkdocs.yml's ``site_url`` (``/dl-companion/``): served there."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    match = re.search(r"^site_url:\s*(\S+)", text, re.MULTILINE)
    path = urlsplit(match.group(1)).path if match else "/"
    return path if path.endswith("/") else path + "/"


def page_urls(site: Path) -> list[str]:
    """Every HTML page of the built site, as the path a reader opens (``dir/``)."""
    urls = []
    for html in sorted(site.rglob("*.html")):
        rel = html.relative_to(site).as_posix()
        urls.append(rel.removesuffix("index.html"))
    return urls


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    prefix = "/"

    def translate_path(self, path: str) -> str:
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "\0missing")
        return super().translate_path("/" + path.removeprefix(self.prefix))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silent: failures are reported by the checks."""


@contextmanager
def serve(directory: Path, prefix: str) -> Iterator[str]:
    """Serve ``directory`` at ``http://127.0.0.1:PORT{prefix}``; yields that URL."""
    handler = type("Handler", (_QuietHandler,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def chromium_executable() -> str:
    """The browser ./dev found (``COMPANION_CHROMIUM``), else Debian's; CI fails without."""
    for candidate in (os.environ.get("COMPANION_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    why = "no chromium (apt-get install chromium, or set COMPANION_CHROMIUM=PATH)"
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


class Browser:
    """One chromium and the event loop that drives it, shared by the module's tests."""

    def __init__(self, executable: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.playwright = self.run(playwright_api.async_playwright().start())
        self.browser = self.run(
            self.playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        )

    def run(self, coroutine):  # noqa: ANN001, ANN201
        """Run one coroutine to its end on this browser's loop."""
        return self.loop.run_until_complete(coroutine)

    async def context(self, **options: object):  # noqa: ANN201
        """A fresh context (own storage) with service workers blocked."""
        return await self.browser.new_context(service_workers="block", **options)

    def close(self) -> None:
        """Close the browser, Playwright and the loop."""
        self.run(self.browser.close())
        self.run(self.playwright.stop())
        self.loop.close()


class Recorder:
    """What went wrong with one page: requests to other hosts, errors, failed loads."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))
        self.problems: list[str] = []

    def is_own(self, url: str) -> bool:
        """True for a URL of the site's own host (and port)."""
        return url.startswith(self.origin + "/")

    def on_request(self, request) -> None:  # noqa: ANN001
        """A request to another host is a problem (it cannot leave: chromium
        resolves no name but the loopback, CHROMIUM_ARGS). Not routed: routing would turn the
        browser's cache off, and every page would fetch and compile the theme again."""
        if not self.is_own(request.url):
            self.problems.append(f"request to another host: {request.url}")

    def on_console(self, message) -> None:  # noqa: ANN001
        """Record a console error."""
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def on_failed(self, request) -> None:  # noqa: ANN001
        """Record a failed request of the site's own (others fail on purpose)."""
        if self.is_own(request.url):
            self.problems.append(f"failed request: {request.url} ({request.failure})")

    def on_response(self, response) -> None:  # noqa: ANN001
        """Record an HTTP error status, and a response from another host (it got out)."""
        if not self.is_own(response.url):
            self.problems.append(f"a request to another host got a response: {response.url}")
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    async def attach(self, page) -> None:  # noqa: ANN001
        """Listen to everything this page does."""
        page.on("request", self.on_request)
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self.on_failed)
        page.on("response", self.on_response)


def content_problems(facts: dict) -> list[str]:
    """What the rendered content of one page gets wrong (math, figures, copy buttons)."""
    problems = [f"raw math delimiter {d!r} in the visible text" for d in facts["raw"]]
    if facts["unrendered"]:
        problems.append(f"{facts['unrendered']} of {facts['arithmatex']} math not rendered")
    if facts["katexErrors"]:
        problems.append(f"{facts['katexErrors']} KaTeX errors")
    hidden = facts["figures"].count(False)
    if hidden:
        problems.append(f"{hidden} of {len(facts['figures'])} figures not visible")
    if facts["withoutCopy"]:
        problems.append(f"{facts['withoutCopy']} of {facts['codeBlocks']} code blocks lack copy")
    return problems


async def settled(page, url: str) -> None:  # noqa: ANN001
    """Open ``url`` and wait for the load event, the theme's scripts and a quiet network."""
    await page.goto(url, wait_until="load")
    await page.wait_for_function("() => document.readyState === 'complete'")
    await page.wait_for_load_state("networkidle")


async def check_page(context, base: str, url: str) -> list[str]:  # noqa: ANN001
    """Open one page in ``context``; everything wrong with it, ``url: problem`` each.
    Read-only (no clicks): the pages share ``context``, so state one set would reach others."""
    recorder = Recorder(base)
    page = await context.new_page()
    await recorder.attach(page)
    try:
        await settled(page, base + url)
        if not url.endswith("404.html"):  # the 404 page is served with status 404
            recorder.problems += content_problems(await page.evaluate(PAGE_FACTS_JS))
        else:
            recorder.problems = [p for p in recorder.problems if not p.startswith("HTTP 404")]
    finally:
        await page.close()
    return [f"{url or '/'}: {problem}" for problem in recorder.problems]


async def check_pages(browser: Browser, base: str, urls: list[str]) -> list[str]:
    """Every page, a few tabs at a time in one context (one cache); all problems found."""
    limit = asyncio.Semaphore(TABS_IN_PARALLEL)
    context = await browser.context()

    async def one(url: str) -> list[str]:
        async with limit:
            return await check_page(context, base, url)

    try:
        results = await asyncio.gather(*(one(url) for url in urls))
    finally:
        await context.close()
    return [problem for problems in results for problem in problems]


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest) -> Path:
    """The built site given with ``--browser-site``."""
    path = Path(request.config.getoption("--browser-site"))
    assert (path / "index.html").is_file(), f"{path} holds no built site (run mkdocs build)"
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium for the whole module."""
    shared = Browser(chromium_executable())
    yield shared
    shared.close()


@pytest.fixture(scope="module")
def base(site: Path) -> Iterator[str]:
    """The base URL of the built site, served on 127.0.0.1 for the module's tests."""
    with serve(site, site_path()) as url:
        yield url


def test_every_page_loads_offline_and_renders(browser: Browser, site: Path, base: str) -> None:
    urls = page_urls(site)
    assert len(urls) > 10 and "" in urls, urls
    problems = browser.run(check_pages(browser, base, urls))
    assert not problems, "\n".join(problems)


def bad_copy_of_home(site: Path, directory: Path) -> None:
    """A copy of the site whose home page requests two other hosts and has each defect."""
    for entry in site.iterdir():
        if entry.name != "index.html":
            (directory / entry.name).symlink_to(entry.resolve())
    html = (site / "index.html").read_text(encoding="utf-8")
    defects = """
      <img src="https://example.org/x.png">
      <img src="http://93.184.216.34/ip-literal.png">
      <script>fetch("https://example.net/data.json").catch(() => {});</script>
      <script>console.error("probe: broken");</script>
      <img src="missing-probe.png">
      <p>raw \\( unclosed</p>
      <figure class="companion-figure" style="display:none"><img src="x"></figure>
      <script>addEventListener("load", () => document.querySelector("article")
        .insertAdjacentHTML("beforeend", "<pre><code>late</code></pre>"));</script>
    """
    (directory / "index.html").write_text(
        html.replace("</article>", defects + "</article>", 1), encoding="utf-8"
    )


def test_checker_reports_other_hosts_and_each_defect(
    browser: Browser, site: Path, tmp_path: Path
) -> None:
    bad_copy_of_home(site, tmp_path)
    with serve(tmp_path, site_path()) as bad_base:
        problems = "\n".join(browser.run(check_pages(browser, bad_base, [""])))
    for expected in (
        "request to another host: https://example.org/x.png",
        "request to another host: https://example.net/data.json",
        "request to another host: http://93.184.216.34/ip-literal.png",
        "console error: probe: broken",
        "missing-probe.png",
        "raw math delimiter '\\\\('",
        "figures not visible",
        "code blocks lack copy",
    ):
        assert expected in problems, f"{expected!r} not reported in:\n{problems}"


async def selected_tab(page) -> str:  # noqa: ANN001
    """The label of the selected tab of the page's first tabbed set."""
    return await page.evaluate(
        """() => {
          const set = document.querySelector('.tabbed-set');
          const picked = [...set.querySelectorAll(':scope > input')].findIndex(i => i.checked);
          return set.querySelectorAll(':scope > .tabbed-labels > label')[picked]
                    .textContent.trim();
        }"""
    )


async def tab_choice_persists(browser: Browser, base: str) -> tuple[str, str, str]:
    """The first tab shown, then the tab shown on another page after picking PyTorch."""
    context = await browser.context()
    page = await context.new_page()
    await settled(page, base + CHAPTER_PAGE)
    before = await selected_tab(page)
    await page.locator(".tabbed-labels > label", has_text="PyTorch").first.click()
    here = await selected_tab(page)
    await settled(page, base + OTHER_TABBED_PAGE)
    there = await selected_tab(page)
    await context.close()
    return before, here, there


def test_framework_tab_choice_persists_across_pages(browser: Browser, base: str) -> None:
    before, here, there = browser.run(tab_choice_persists(browser, base))
    assert (before, here, there) == ("MXNet", "PyTorch", "PyTorch")


async def search_results(browser: Browser, base: str, word: str) -> int:
    """How many results the site's own search lists for ``word`` (offline: routed)."""
    context = await browser.context()
    page = await context.new_page()
    recorder = Recorder(base)
    await recorder.attach(page)
    await settled(page, base)
    query = page.locator("input[data-md-component=search-query]")
    await query.click()
    await query.fill(word)
    # The theme shows "Initializing search" until its worker has built the index, then "No
    # matching documents" or "N matching documents" for the query. Waiting for that line, not
    # for a first result within a fixed time, keeps a slow index build from reading as 0.
    await page.wait_for_function(
        "() => /matching document/.test("
        "document.querySelector('.md-search-result__meta').textContent)",
        timeout=SEARCH_READY_MS,
    )
    count = await page.locator(".md-search-result__item").count()
    await context.close()
    assert not recorder.problems, recorder.problems
    return count


def test_search_returns_results_offline(browser: Browser, base: str) -> None:
    assert browser.run(search_results(browser, base, "dropout")) > 0
    assert browser.run(search_results(browser, base, "zqxjkvw")) == 0


async def color_schemes(browser: Browser, base: str) -> list[str]:
    """The colour scheme at first, after the toggle, and on the next page opened."""
    context = await browser.context(color_scheme="light")
    page = await context.new_page()
    scheme = "() => document.body.getAttribute('data-md-color-scheme')"
    await settled(page, base)
    seen = [await page.evaluate(scheme)]
    await page.locator("label[title='Switch to dark mode']:visible").click()
    seen.append(await page.evaluate(scheme))
    await settled(page, base + CHAPTER_PAGE)
    seen.append(await page.evaluate(scheme))
    await context.close()
    return seen


def test_dark_mode_toggles_and_stays(browser: Browser, base: str) -> None:
    assert browser.run(color_schemes(browser, base)) == ["default", "slate", "slate"]


async def take_screenshots(browser: Browser, base: str, out: Path) -> list[Path]:
    """Home, a chapter page in light and dark, and the chapter page 390 px wide."""
    shots = [
        ("home", "", "light", 1280),
        ("chapter-light", CHAPTER_PAGE, "light", 1280),
        ("chapter-dark", CHAPTER_PAGE, "dark", 1280),
        ("chapter-390px", CHAPTER_PAGE, "light", 390),
    ]
    written = []
    for name, url, scheme, width in shots:
        context = await browser.context(
            color_scheme=scheme, viewport={"width": width, "height": 1600}
        )
        page = await context.new_page()
        await settled(page, base + url)
        written.append(out / f"{name}.png")
        await page.screenshot(path=written[-1])
        await context.close()
    return written


def test_screenshots(
    browser: Browser, base: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    out = Path(request.config.getoption("--browser-screenshots") or tmp_path)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for shot in browser.run(take_screenshots(browser, base, out)):
        assert shot.stat().st_size > 10_000, shot
