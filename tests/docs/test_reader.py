"""What a reader sees, page by page, in Debian's chromium at 1280x900.

Every page of the built site is opened once (``readings``); each test then checks one
thing about all of them: diagrams drawn and visible, in-page links that land, a
sidebar that fits the screen, printed tables that fit their column, tab stops only
where something scrolls, no console error or outside request, and an axe-core audit
(light and dark scheme) with no violation of any impact.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .axe_audit import COLOURS, violations
from .conftest import Reader, open_reader, page_file

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

MIN_DIAGRAM_SCALE = 0.7  # mermaid draws 16px labels: 0.7 keeps them at 11px or more

LOOK = """() => {
  const visible = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const here = location.href.split("#")[0];
  const unresolved = [];
  for (const a of document.querySelectorAll("a[href]")) {
    const url = new URL(a.getAttribute("href"), location.href);
    if (url.href.split("#")[0] !== here || url.hash.length < 2) continue;
    const id = decodeURIComponent(url.hash.slice(1));
    const count = document.querySelectorAll(`[id="${CSS.escape(id)}"]`).length;
    if (count !== 1) unresolved.push(`${a.getAttribute("href")} (${count} elements)`);
  }
  const diagrams = [...document.querySelectorAll("article div.mermaid")].map(host => {
    const svg = host.shadowRoot && host.shadowRoot.querySelector("svg");
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const viewBox = svg && svg.viewBox && svg.viewBox.baseVal;
    return {
      visible: visible(host) && !!svg && visible(svg),
      width: box.width, height: box.height,
      scale: viewBox && viewBox.width ? box.width / viewBox.width : 0,
      text: svg ? [...svg.querySelectorAll("text, foreignObject")]  // labels, not its <style>
        .map(e => e.textContent).join(" ").replace(/\\s+/g, " ").trim() : "",
    };
  });
  const wrap = document.querySelector(".md-sidebar--primary .md-sidebar__scrollwrap");
  const natively = "a[href], button, input, select, textarea, summary, [contenteditable], " +
    "[role=button], [role=link], [role=tab], [role=checkbox], [role=switch], [role=menuitem]";
  const stops = [...document.querySelectorAll("article [tabindex]")]
    .filter(el => el.tabIndex >= 0 && !el.matches(natively) && visible(el))
    .filter(el => !(el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1))
    .map(el => el.outerHTML.slice(0, 100));
  const outputs = [...document.querySelectorAll("article .jp-OutputArea table")].map(t => {
    const box = t.closest(".md-typeset__scrollwrap") || t.parentElement;
    return [t.rows[0] ? t.rows[0].innerText.replace(/\\s+/g, " ").slice(0, 60) : "",
            t.scrollWidth, box.clientWidth];
  });
  return {
    unresolved, diagrams, stops, outputs,
    unrendered: document.querySelectorAll("article pre.mermaid").length,
    sidebar: wrap && visible(wrap) ? [wrap.scrollHeight, wrap.clientHeight] : null,
    tabs: [...document.querySelectorAll(".md-tabs__link")].filter(visible)
      .map(a => a.textContent.trim()),
  };
}"""


# Material sizes the sidebar (an inline height on its scroll box) in an animation frame
# after the page loaded; until then the box has its CSS height. On a busy machine a read
# right after "load" can come first: a full run once read the cheatsheet's sidebar as
# [188, 180] (its CSS state) where a reader sees [726, 726]. What a reader sees is the
# page once Material sized it and the sizes held for three frames.
LAID_OUT = """async () => {
  const frame = () => new Promise(done => requestAnimationFrame(() => done()));
  const wrap = () => document.querySelector(".md-sidebar--primary .md-sidebar__scrollwrap");
  const sized = () => { const w = wrap(); return !w || !w.checkVisibility() || w.style.height; };
  const sizes = () => [document.documentElement.scrollHeight, wrap() && wrap().scrollHeight,
                       wrap() && wrap().clientHeight].join();
  await document.fonts.ready;
  let last = sizes();
  for (let same = 0, frames = 0; (same < 3 || !sized()) && frames < 600; frames++) {
    await frame();
    const now = sizes();
    same = now === last ? same + 1 : 0;
    last = now;
  }
}"""


@dataclass
class Reading:
    page: str
    sources: int  # mermaid blocks in the HTML mkdocs wrote
    look: dict[str, Any] = field(default_factory=dict)
    axe: dict[str, list[str]] = field(default_factory=dict)  # scheme -> axe findings
    problems: list[str] = field(default_factory=list)


def open_page(reader: Reader, path: str) -> Any:
    """Open ``path`` as a first-time reader whose system is in light mode, and wait
    until its diagrams are drawn (one never drawn stays a ``<pre>`` and fails below)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = reader.go(path, wait_until="load")
    page.wait_for_function("document.body.dataset.mdColorScheme === 'default'")
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function("!document.querySelector('article pre.mermaid')", timeout=10_000)
    page.evaluate(LAID_OUT)
    return page


def switch_to_dark(page: Any) -> None:
    """Press the header's "Switch to dark mode" toggle, as a reader would."""
    page.locator("form[data-md-component=palette] label[title='Switch to dark mode']").click()
    page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")


@pytest.fixture(scope="module")
def readings(browser: Any, site_url: str, site: Path, pages: list[str]) -> Iterator[list[Reading]]:
    context, reader = open_reader(browser, site_url)
    # a first-time reader on every page: Material keeps the palette chosen with the
    # toggle in localStorage, which would carry the dark scheme to the next page
    context.add_init_script("localStorage.clear()")
    reader.page.emulate_media(color_scheme="light")
    found: list[Reading] = []
    for path in pages:
        html = page_file(site, path).read_text(encoding="utf-8")
        reading = Reading(path or "home", html.count('class="mermaid"'))
        reader.problems.clear()
        page = open_page(reader, path)
        reading.look = page.evaluate(LOOK)
        reading.axe["light"] = violations(page)
        switch_to_dark(page)  # the dark scheme changes colours only: audit what they decide
        reading.axe["dark"] = violations(page, COLOURS)
        reading.problems = list(reader.problems)
        found.append(reading)
    context.close()
    yield found


def test_every_diagram_is_drawn_visible_and_readable(readings: list[Reading]) -> None:
    failures: list[str] = []
    drawn = {"lessons": 0, "pages": 0}
    for r in readings:
        boxes = r.look["diagrams"]
        if len(boxes) != r.sources or r.look["unrendered"]:
            failures.append(f"{r.page}: {r.sources} diagram(s) in the HTML, {len(boxes)} drawn, "
                            f"{r.look['unrendered']} left as source")
        for i, box in enumerate(boxes, 1):
            where = f"{r.page} diagram {i}"
            if not box["visible"] or box["width"] < 1 or box["height"] < 1:
                failures.append(f"{where}: not visible ({box})")
            elif not box["text"] or "Syntax error" in box["text"]:
                failures.append(f"{where}: drew no labels or an error: {box['text'][:80]!r}")
            elif box["scale"] < MIN_DIAGRAM_SCALE:
                failures.append(f"{where}: shrunk to {box['scale']:.2f}x, labels unreadable")
            else:
                drawn["lessons" if r.page.startswith("lessons/") else "pages"] += 1
    assert failures == [], "\n".join(failures)
    # the lessons and the reference both have diagrams: a pass must have seen some
    assert drawn["lessons"] >= 1 and drawn["pages"] >= 1, drawn


def test_every_in_page_link_resolves(readings: list[Reading]) -> None:
    broken = {r.page: r.look["unresolved"] for r in readings if r.look["unresolved"]}
    assert broken == {}, broken


def test_the_course_fits_a_laptop_screen(readings: list[Reading]) -> None:
    """At 1280x900 the navigation of each part needs no scrolling, and the parts are
    top tabs on every page."""
    tall = {r.page: r.look["sidebar"] for r in readings
            if r.look["sidebar"] and r.look["sidebar"][0] > r.look["sidebar"][1]}
    assert tall == {}, f"sidebar [content height, visible height] that must scroll: {tall}"
    tabs = {r.page: r.look["tabs"] for r in readings}
    home = tabs["home"]
    assert len(home) >= 4 and "Lessons" in home, home
    assert all(t == home for t in tabs.values()), tabs


def test_a_table_a_lesson_printed_fits_its_column(readings: list[Reading]) -> None:
    """A Recorder's seven columns once took 941 px of a 540 px column (Material gives
    every cell 5rem and wide padding): the outcome, the point of the cell, was out of
    sight behind a sideways scroll."""
    wide = {r.page: [t for t in r.look["outputs"] if t[1] > t[2]] for r in readings}
    assert sum(len(r.look["outputs"]) for r in readings) >= 10  # the lessons print tables
    assert {page: tables for page, tables in wide.items() if tables} == {}


def test_only_regions_that_scroll_are_tab_stops(readings: list[Reading]) -> None:
    """nbconvert made every notebook cell a tab stop; a keyboard reader should stop
    only on links, controls and boxes that scroll."""
    extra = {r.page: r.look["stops"][:3] for r in readings if r.look["stops"]}
    assert extra == {}, extra


def test_pages_load_without_errors_or_outside_requests(readings: list[Reading]) -> None:
    troubled = {r.page: r.problems for r in readings if r.problems}
    assert troubled == {}, troubled


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_finds_nothing(readings: list[Reading], color_scheme: str) -> None:
    found = {r.page: r.axe[color_scheme] for r in readings if r.axe[color_scheme]}
    assert found == {}, "\n".join(f"{page}:\n  " + "\n  ".join(v) for page, v in found.items())


def test_home_search_and_event_flow(reader: Reader, site: Path, pages: list[str]) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    home = reader.go("")
    expect(home.locator("article h1")).to_contain_text("Day 25: Nexios Event System")
    expect(home.locator("article code", has_text="pip install -e . && day25 start")).to_be_visible()
    expect(home.locator("img[src$='serve.png']")).to_be_visible()
    assert home.locator("img[src$='serve.png']").evaluate("i => i.naturalWidth") > 0

    box = home.locator("input.md-search__input")
    box.click()
    results = home.locator(".md-search-result__item a")
    for _ in range(20):  # the search index loads in a worker: retype until it answers
        box.fill("")
        box.press_sequentially("once")
        try:
            results.first.wait_for(state="visible", timeout=1000)
            break
        except PlaywrightTimeout:
            continue
    expect(results.first).to_be_visible()
    hrefs = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    once = [p for p in pages if p.startswith("lessons/")
            and "one-time" in page_file(site, p).read_text(encoding="utf-8").split("</title>")[0]
            .lower()]
    assert once, "no lesson titled 'One-time listeners' on the site"
    assert any(once[0] in href for href in hrefs), (once, hrefs)

    flow = reader.go("reference/event-flow/")
    svgs = flow.locator("article div.mermaid svg")
    expect(svgs.first).to_be_visible()
    texts = svgs.evaluate_all("s => s.map(svg => svg.textContent)")
    assert any("MEDIUM: store + deliver" in t for t in texts)


def test_a_lesson_answer_stays_folded_until_asked_for(reader: Reader) -> None:
    """The reader meets the exercise as the student does: the placeholder is visible,
    the answer is not, until "Show answer" is clicked."""
    page = reader.go("lessons/04_one_time_listeners/")
    answer = page.locator("details.day25-answer").first
    code = answer.locator("pre")
    assert answer.get_attribute("open") is None
    assert not code.is_visible(), "the answer shows before anyone asked for it"
    cell = page.locator(".jp-CodeCell", has=answer).first
    assert "# YOUR CODE HERE" in cell.locator(".highlight-ipynb pre").first.inner_text()
    answer.locator("summary").click()
    assert code.is_visible() and "off" in code.inner_text()


def test_code_cells_use_a_phone_s_width(reader: Reader) -> None:
    """At 375 px the "In [n]:" prompts once took 76 px of a 271 px cell, leaving code
    195 px for lines of 80 characters; below 600 px they go."""
    reader.page.set_viewport_size({"width": 375, "height": 800})
    page = reader.go("lessons/01_overview_and_basic_usage/")
    widths = page.evaluate("""() => [...document.querySelectorAll(".jp-CodeCell")].map(cell => {
      const width = selector => cell.querySelector(selector).getBoundingClientRect().width;
      return [Math.round(width(".jp-InputArea-editor")), Math.round(width(".jp-InputArea"))];
    })""")
    assert len(widths) > 5
    assert all(code >= area - 2 for code, area in widths), widths
