"""A lesson page driven by Tab alone: every tab stop shows where the keyboard is.

axe-core cannot see a focus ring (it audits a page at rest). mkdocs-jupyter's inline
stylesheet once removed the ring from every control in a notebook ("Show answer", the
copy buttons), so this presses Tab through a lesson and checks each stop.
"""

from __future__ import annotations

import pytest

from .conftest import Reader

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

# the control itself draws an outline or a shadow, or (Material's palette toggle, an
# invisible radio button) the label that follows it does
SHOWS_FOCUS = """() => {
  const el = document.activeElement;
  const drawn = (e) => { const s = getComputedStyle(e);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
    return outline || s.boxShadow !== "none"; };
  const next = el.nextElementSibling;
  const label = next && next.tagName === "LABEL" ? next : null;
  return drawn(el) || (label !== null && drawn(label))
    || el.matches(".md-search__input");  /* the search box widens and changes colour */
}"""
DESCRIBE = """() => { const el = document.activeElement;
  const what = `${el.tagName.toLowerCase()}.${String(el.className).split(" ")[0]}`;
  return `${what} "${el.textContent.trim().slice(0, 30)}"`; }"""
#: where Tab landed: None at the page's end (the body), else what it is and if it shows
STOP = f"""() => {{ const el = document.activeElement;
  if (el === document.body) return null;
  return {{summary: el.tagName === "SUMMARY", shows: ({SHOWS_FOCUS})(), what: ({DESCRIBE})()}};
}}"""


def test_every_tab_stop_of_a_lesson_shows_its_focus(reader: Reader) -> None:
    page = reader.go("lessons/02_subscription_and_removal/")
    unseen: list[str] = []
    summaries = 0
    for _ in range(400):
        page.keyboard.press("Tab")
        at = page.evaluate(STOP)  # one round trip per press: a lesson has hundreds of stops
        if at is None:
            break
        summaries += at["summary"]
        if not at["shows"]:
            unseen.append(at["what"])
    assert summaries, "no 'Show answer' was reached by Tab"
    assert unseen == [], f"{len(unseen)} tab stops with no visible focus: {sorted(set(unseen))}"


def test_space_on_the_light_dark_toggle_switches_it(reader: Reader) -> None:
    """The toggle is a radio button to a screen reader, and Space is how one is pressed."""
    page = reader.go("")
    scheme = "document.body.dataset.mdColorScheme"
    assert page.evaluate(scheme) == "default"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('[data-md-component=palette] input')"):
            break
    else:
        pytest.fail("10 presses of Tab never reached the light/dark toggle")
    page.keyboard.press("Space")
    page.wait_for_function(f"{scheme} === 'slate'", timeout=5_000)
    page.keyboard.press("Space")
    page.wait_for_function(f"{scheme} === 'default'", timeout=5_000)


def test_a_search_result_reached_by_arrow_keys_shows_its_focus(reader: Reader) -> None:
    """Material moves the focus into the results with ArrowDown; its own sign of focus
    was a 10% tint of the background."""
    page = reader.go("lessons/02_subscription_and_removal/")
    page.keyboard.press("/")
    page.keyboard.type("listener")
    page.locator(".md-search-result__item").first.wait_for()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.matches('.md-search-result__link')")
    assert page.evaluate(SHOWS_FOCUS), "the focused search result looks like the others"
