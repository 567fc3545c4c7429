"""jazz_lstm.html: the page shell, the scoped fragment, cards and tables; plain text
is escaped, markup is not, and nothing points at the network."""
import re

import pytest

from jazz_lstm.html import fragment, page, plain_value, scoped_css, section, table


def test_a_page_is_one_document_with_its_title_escaped_and_its_body_kept():
    document = page("Solo <1> & co", "<p>body</p>\n", css=".x { color: red; }", script="go();")
    assert document.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert document.endswith("</html>\n")
    assert "<title>Solo &lt;1&gt; &amp; co</title>" in document
    assert "<main>\n<p>body</p>\n</main>" in document
    assert ".x { color: red; }</style>" in document
    assert document.count("<script>") == 1 and "<script>go();</script>" in document
    assert "<script>" not in page("t", "")
    assert not re.search(r"(src|href)=\"?(https?:)?//", document)


def test_a_fragment_is_one_element_with_its_styles_inside_it():
    piece = fragment("solo-1", "<p>roll</p>\n", css="p { margin: 0; }", script="play();")
    assert piece.startswith('<div id="solo-1" class="jazz-lstm">\n<style>')
    assert piece.endswith("<p>roll</p>\n<script>play();</script>\n</div>\n")
    assert "#solo-1 p { margin: 0; }" in piece
    assert "<!DOCTYPE" not in piece and "<body" not in piece


@pytest.mark.parametrize("css, scoped", [
    (":root { --a: 1; }\nbody, h2 { margin: 0; }", "#s { --a: 1; }\n#s, #s h2 { margin: 0; }\n"),
    ("* { box-sizing: border-box; }\n.roll svg { display: block; }",
     "#s * { box-sizing: border-box; }\n#s .roll svg { display: block; }\n"),
    ("html { color: red; }\n\n", "#s { color: red; }\n"),
])
def test_scoped_css_by_hand(css, scoped):
    assert scoped_css(css, "#s") == scoped


def test_a_section_escapes_its_heading_but_not_its_content():
    assert section("A < B", "<b>x</b>", "wide") == (
        '<section class="wide">\n<h2>A &lt; B</h2>\n<b>x</b>\n</section>\n')
    assert section("H", "c").startswith("<section>\n")


def test_a_table_shows_names_and_values_as_plain_text():
    assert table([("<k>", "a&b"), ("n", None)]) == (
        "<table>\n<tr><th>&lt;k&gt;</th><td>a&amp;b</td></tr>\n"
        "<tr><th>n</th><td>default</td></tr>\n</table>")


@pytest.mark.parametrize("value, shown", [
    (None, "default"), (0.1 + 0.2, "0.3"), (1234567.0, "1.23457e+06"), (3, "3"), (True, "True"),
    ([1, 2], "[1, 2]"), ((4, 4), "[4, 4]"), ({"b": 1, "a": [2]}, '{"a": [2], "b": 1}'),
    ("Dm7 | G7", "Dm7 | G7")])
def test_plain_values(value, shown):
    assert plain_value(value) == shown
