"""The site's MkDocs hooks on small inputs, without building the site.

The build tests see only what today's notebooks contain; these pin the cases they do
not (two headings with one id, a heading with markup, nbconvert markup that changed).
"""

from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from .conftest import ROOT

HOOKS = ROOT / "docs" / "assets" / "hooks"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"day25_site_{name}", HOOKS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notebook_pages = load("notebook_pages")
expand_nav = load("expand_nav")

LOADER = """<script type="module">
  document.addEventListener("DOMContentLoaded", async () => {
    const diagrams = document.querySelectorAll(".jp-Mermaid > pre.mermaid");
    const mermaid = (await import("https://cdnjs.cloudflare.com/ajax/libs/mermaid.mjs")).default;
  });
</script>
<style>
  .jp-Mermaid:not(.jp-RenderedMermaid) {
    display: none;
  }
</style>"""


def page(src_uri: str = "lessons/01_x.ipynb", title: str = "Day 25 · 1. X") -> Any:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri), title=title, toc=None)


def run(html: str, target: Any = None) -> tuple[str, Any]:
    target = target or page()
    from mkdocs.structure.files import Files

    return notebook_pages.on_page_content(html, page=target, config={}, files=Files([])), target


def test_a_lessons_links_point_at_the_sites_pages(caplog: pytest.LogCaptureFixture) -> None:
    """Lesson 13 links ``../exercises/<id>.ipynb`` (right in JupyterLab); on the site that
    is the page ``exercises/<id>.md``. A link that names no page is a warning, which the
    strict build turns into a failure."""
    from mkdocs.structure.files import File, Files
    from mkdocs_jupyter.plugin import NotebookFile  # what makes a notebook a page

    def file(uri: str) -> File:
        plain = File(uri, "docs", "site", use_directory_urls=True)
        return NotebookFile(plain, True, "site") if uri.endswith(".ipynb") else plain

    site = Files([file(uri) for uri in (
        "lessons/13_practice.ipynb", "lessons/01_x.ipynb", "exercises/once_semantics.md")])
    lesson = site.get_file_from_path("lessons/13_practice.ipynb")
    target = SimpleNamespace(file=lesson, url=lesson.url, title="13. Practice", toc=None)
    html = ('<p><a href="../exercises/once_semantics.ipynb">once</a> '
            '<a class="x" href="01_x.ipynb#2-on">lesson 1</a> <a href="#top">top</a> '
            '<a href="https://nexios.dev/x.ipynb">out</a> <a href="../nowhere.ipynb">gone</a></p>')
    with caplog.at_level(logging.WARNING):
        out = notebook_pages.on_page_content(html, page=target, config={}, files=site)
    assert '<a href="../../exercises/once_semantics/">once</a>' in out
    assert '<a class="x" href="../01_x/#2-on">lesson 1</a>' in out
    assert '<a href="#top">' in out and '<a href="https://nexios.dev/x.ipynb">' in out
    assert '<a href="../nowhere.ipynb">gone</a>' in out
    assert [r.getMessage() for r in caplog.records] == [
        "lessons/13_practice.ipynb: a link to ../nowhere.ipynb, which is no page of the site"]


def contents(toc: Any) -> list[tuple[int, str, str, list[Any]]]:
    return [(a.level, a.id, a.title, contents(a.children)) for a in toc]


def test_diagram_is_handed_to_material_and_the_cdn_loader_is_gone() -> None:
    html = (LOADER + '<script type="module">import "./local.js"</script><style>p{}</style>'
            '<p>First the flow:</p><div class="jp-Mermaid"><pre class="mermaid">\n'
            "flowchart LR\n  A --&gt; B\n</pre></div>")
    out, _ = run(html)
    assert '<pre class="mermaid">\nflowchart LR\n  A --&gt; B\n</pre>' in out
    assert "jp-Mermaid" not in out and "cdnjs" not in out
    assert 'import "./local.js"' in out and "<style>p{}</style>" in out  # others kept


def test_changed_nbconvert_mermaid_markup_is_a_build_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.day25.notebook_pages"):
        run('<div class="jp-Mermaid jp-Mermaid-v2"><pre class="mermaid">A</pre></div>')
    assert "lessons/01_x.ipynb" in caplog.text and "mermaid" in caplog.text


def test_contents_come_from_the_headings_on_the_page() -> None:
    html = ('<h1 id="day-25-1-x">Day 25 · 1. X<a class="anchor-link" href="#day-25-1-x">¶</a></h1>'
            '<h2 id="1-await-emit">1. <code>await emit(...)</code>'
            '<a class="anchor-link" href="#1-await-emit">¶</a></h2>'
            '<h3 id="a-b">a &lt; <em>b</em></h3>'
            '<h2 id="2-off">2. <code>off</code> and <code>MEDIUM</code></h2>')
    out, target = run(html)
    assert contents(target.toc) == [(1, "day-25-1-x", "1. X", [
        (2, "1-await-emit", "1. await emit(...)", [(3, "a-b", "a &lt; b", [])]),
        (2, "2-off", "2. off and MEDIUM", []),
    ])]
    assert target.title == "1. X"
    assert '<h1 id="day-25-1-x">1. X<a class="anchor-link"' in out  # prefix gone, id kept


def test_two_headings_with_one_id_get_two_ids() -> None:
    html = ('<h2 id="try-it">Try it<a class="anchor-link" href="#try-it">¶</a></h2>'
            '<h2 id="try-it">Try it<a class="anchor-link" href="#try-it">¶</a></h2>')
    out, target = run(html)
    assert [a.id for a in target.toc] == ["try-it", "try-it_1"]
    assert '<h2 id="try-it_1">Try it<a class="anchor-link" href="#try-it_1">' in out


def test_cells_are_not_tab_stops_but_other_elements_keep_theirs() -> None:
    html = ('<div class="jp-Cell-inputWrapper" tabindex="0"><p>text</p></div>'
            '<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="text/plain" '
            'tabindex="0"><pre>out</pre></div><div class="widget" tabindex="0"></div>')
    out, _ = run(html)
    assert out.count('tabindex="0"') == 1 and '<div class="widget" tabindex="0">' in out


def test_markdown_pages_are_left_alone() -> None:
    html = '<div class="jp-Mermaid"><pre class="mermaid">A</pre></div><h2 id="x">X</h2>'
    target = page("reference/event-flow.md", "Event flow")
    out, target = run(html, target)
    assert out == html and target.toc is None and target.title == "Event flow"


def test_nav_lists_folders_with_readme_first_and_exercises_named_one_way(
    tmp_path: Path,
) -> None:
    lessons, exercises = tmp_path / "lessons", tmp_path / "exercises"
    lessons.mkdir()
    exercises.mkdir()
    (lessons / "README.md").write_text("# Day 25 lessons\n")
    (lessons / "10_b.md").write_text("# Day 25 · 10. Ten\n")
    (lessons / "02_a.md").write_text("# Day 25 · 2. Two\n")
    (exercises / "index.md").write_text("# Exercises\n")
    (exercises / "zeta.md").write_text("# Exercise 1 — zeta (25 points)\n")
    (exercises / "alpha.md").write_text("# Exercise 2: alpha (25 points)\n")
    catalogue = {  # what the hook reads of a catalogue entry: its order and title
        "zeta": SimpleNamespace(order=1, title="Zeta first: a thing"),
        "alpha": SimpleNamespace(order=2, title="Alpha second"),
    }
    nav = expand_nav._walk([{"Lessons": "lessons/"}, {"Exercises": "exercises/"},
                            {"Home": "index.md"}], tmp_path, catalogue)
    assert nav == [
        {"Lessons": [{"Day 25 lessons": "lessons/README.md"}, {"2. Two": "lessons/02_a.md"},
                     {"10. Ten": "lessons/10_b.md"}]},
        {"Exercises": [{"Exercises": "exercises/index.md"},
                       {"Exercise 1: Zeta first": "exercises/zeta.md"},
                       {"Exercise 2: Alpha second": "exercises/alpha.md"}]},
        {"Home": "index.md"},
    ]



def test_the_real_catalogues_exercises_get_distinct_nav_titles() -> None:
    """The catalogue's titles read "Exercise 1: priority_ordering": the nav must not
    turn that into "Exercise 1: Exercise 1", a sidebar where four entries look alike."""
    from day25.course.catalogue import load_catalogue

    exercises = load_catalogue(ROOT).exercises
    titles = [expand_nav._exercise_title(ex) for ex in exercises]
    assert titles == [f"Exercise {ex.order}: {ex.id}" for ex in exercises], titles
    assert expand_nav._exercise_title(SimpleNamespace(order=3, title="Exercise 3: Chat: rooms")) \
        == "Exercise 3: Chat"


def test_a_copy_of_a_site_page_is_built_once_and_links_to_it_land_on_the_original(
    tmp_path: Path,
) -> None:
    """``notebooks/cheatsheet.md`` is a copy of ``docs/cheatsheet.md`` for JupyterLab
    users; ``docs/lessons`` links the notebooks in, so the site once had the cheat
    sheet twice, the lessons' README linking the second one."""
    from mkdocs.structure.files import File, Files

    (tmp_path / "lessons").mkdir()
    for name, text in {"cheatsheet.md": "# Cheat\n", "lessons/cheatsheet.md": "# Cheat\n",
                       "index.md": "# Home\n", "lessons/index.md": "# Lessons\n",
                       "lessons/README.md": "# Day 25 lessons\n"}.items():
        (tmp_path / name).write_text(text)
    files = Files([File(uri, str(tmp_path), str(tmp_path / "site"), use_directory_urls=True)
                   for uri in ("cheatsheet.md", "lessons/cheatsheet.md", "index.md",
                               "lessons/index.md", "lessons/README.md")])
    kept = expand_nav.on_files(files, config={"docs_dir": str(tmp_path)})
    assert sorted(f.src_uri for f in kept) == [  # a different page of one name stays
        "cheatsheet.md", "index.md", "lessons/README.md", "lessons/index.md"]

    readme = ("Keep the [cheat sheet](cheatsheet.md) open, [its mistakes](cheatsheet.md#common)"
              ' and [the same](<cheatsheet.md> "title"); [home](../index.md),'
              " [out](https://x.org/cheatsheet.md).\n\n[ref]: cheatsheet.md\n")
    out = expand_nav.on_page_markdown(readme, page=page("lessons/README.md"))
    assert out == readme.replace("(cheatsheet.md", "(../cheatsheet.md").replace(
        "(<cheatsheet.md>", "(<../cheatsheet.md>").replace(": cheatsheet.md", ": ../cheatsheet.md")
    assert expand_nav.on_page_markdown("[c](cheatsheet.md)", page=page("index.md")) \
        == "[c](cheatsheet.md)"  # the original itself


answers = load("answers")

ANSWERED = (
    '<div class="highlight-ipynb hl-python"><pre><span></span>'
    '<span class="k">def</span> <span class="nf">f</span><span class="p">():</span>\n'
    '    <span class="c1">### BEGIN SOLUTION</span>\n'
    '    <span class="k">return</span> <span class="mi">42</span>\n'
    '    <span class="c1">### END SOLUTION</span>\n'
    '</pre></div>\n'
    '<div class="clipboard-copy-txt" id="cell-3">def f():\n'
    '    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION\n</div>'
)


def test_an_answer_is_folded_under_the_student_version() -> None:
    out = answers.on_page_content(ANSWERED, page=page())
    code, rest = out.split("</pre></div>", 1)
    assert "# YOUR CODE HERE" in code and '<span class="o">...</span>' in code
    assert "42" not in code, "the answer is still in the visible code"
    folded = re.search(r'<details class="day25-answer tip"><summary>Show answer</summary>(.*?)'
                       r"</details>", rest, re.S)
    assert folded and '<span class="mi">42</span>' in folded.group(1)
    assert "open" not in rest.split("<summary>")[0], "the answer must start collapsed"
    copy_text = rest.split('<div class="clipboard-copy-txt" id="cell-3">')[1]
    assert "# YOUR CODE HERE\n    ..." in copy_text and "return 42" not in copy_text
    assert "SOLUTION" not in out


def test_an_answer_on_the_first_line_of_a_cell_is_folded() -> None:
    first = ('<div class="highlight-ipynb hl-python"><pre><span></span>'
             '<span class="c1">### BEGIN SOLUTION</span>\n<span class="n">x</span>\n'
             '<span class="c1">### END SOLUTION</span>\n</pre></div>')
    out = answers.on_page_content(first, page=page())
    assert out.startswith('<div class="highlight-ipynb hl-python"><pre><span></span>'
                          '<span class="c1"># YOUR CODE HERE</span>')
    assert "SOLUTION" not in out


def test_an_unclosed_answer_is_a_build_warning(caplog: pytest.LogCaptureFixture) -> None:
    broken = ANSWERED.replace('    <span class="c1">### END SOLUTION</span>\n', "")
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.day25.answers"):
        answers.on_page_content(broken, page=page())
    assert "without" in caplog.text


def test_pages_without_answers_and_markdown_pages_are_left_alone() -> None:
    plain = '<div class="highlight-ipynb hl-python"><pre>x = 1\n</pre></div>'
    assert answers.on_page_content(plain, page=page()) == plain
    assert answers.on_page_content(ANSWERED, page=page("guides/x.md")) == ANSWERED


MATHJAX = ('<script data-mkdocs-jupyter-mathjax="{&quot;url&quot;: &quot;https://cdn.jsdelivr.net/'
           'npm/mathjax@4.1.3/tex-mml-chtml.js&quot;, &quot;version&quot;: 4}">\n'
           "/* Shared by full pages and Material's instant navigation. */\n"
           "(() => { document.head.appendChild(document.createElement('script')); })();\n"
           "</script>\n")


def test_mkdocs_jupyter_mathjax_loader_is_dropped_from_every_page() -> None:
    """mkdocs-jupyter 0.27 (pip's choice on Python 3.12+) adds it to every page; the
    lessons hold no math, and it fetches MathJax from a CDN."""
    page = '<p>text</p>\n<script src="assets/javascripts/bundle.js"></script>\n'
    out = notebook_pages.on_post_page(page.replace("</p>\n", "</p>\n" + MATHJAX) + "</body>",
                                      page=SimpleNamespace())
    assert out == page + "</body>"
    assert notebook_pages.on_post_page(page, page=SimpleNamespace()) == page
