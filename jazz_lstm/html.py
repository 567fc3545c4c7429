"""Self-contained HTML pages: the shared page shell, cards and tables.

Every page is one file that needs nothing else: the CSS and any script are
inline, pictures are inline SVG, audio is a data URL or a relative link,
fonts are the reader's own system fonts.  Nothing on a page points at the
network, and the text depends only on the arguments, so the same input
gives the same page, byte for byte.  A ``fragment`` is the same content to
put inside another page (a notebook's output): one element whose styles
reach nothing outside it.
"""
from __future__ import annotations

import html
import json

BASE_CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #64748b; --line: #e2e8f0;
  --paper: #f7f7f2; --card: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 16px; margin: 0 0 12px; color: var(--muted); font-weight: 600;
  text-transform: uppercase; letter-spacing: 0.06em; }
.subtitle { color: var(--muted); margin: 0 0 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin: 0 0 18px; box-shadow: 0 1px 2px rgba(15, 23, 42, 0.04); }
table { border-collapse: collapse; font-size: 14px; }
th, td { text-align: left; padding: 5px 14px 5px 0; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 500; white-space: nowrap; }
td { font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 13px; }
"""

def page(title: str, body: str, css: str = "", script: str = "") -> str:
    """A whole HTML document: ``body`` is trusted markup, ``title`` plain text."""
    script_tag = f"<script>{script}</script>\n" if script else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{BASE_CSS}{css}</style>\n</head>\n"
            f"<body>\n<main>\n{body}</main>\n{script_tag}</body>\n</html>\n")


def fragment(element_id: str, body: str, css: str = "", script: str = "") -> str:
    """``body`` (trusted markup) in one div with id ``element_id``, the page styles
    scoped to it (``scoped_css``) and ``script`` after it."""
    script_tag = f"<script>{script}</script>\n" if script else ""
    return (f'<div id="{html.escape(element_id)}" class="jazz-lstm">\n'
            f"<style>{scoped_css(BASE_CSS + css, '#' + element_id)}</style>\n"
            f"{body}{script_tag}</div>\n")


def scoped_css(css: str, scope: str) -> str:
    """``css`` with every selector limited to the element ``scope`` selects: ":root",
    "html" and "body" become that element, any other selector one inside it.
    (Plain rules only: no @media or other nested blocks.)"""
    rules = []
    for rule in css.split("}"):
        selectors, _, declarations = rule.partition("{")
        if not selectors.strip():
            continue
        scoped = [scope if selector.strip() in (":root", "html", "body")
                  else f"{scope} {selector.strip()}" for selector in selectors.split(",")]
        rules.append(f"{', '.join(scoped)} {{{declarations}}}")
    return "\n".join(rules) + "\n"


def section(heading: str, content: str, css_class: str = "") -> str:
    """A card with a heading; ``content`` is trusted markup."""
    class_attribute = f' class="{css_class}"' if css_class else ""
    return f"<section{class_attribute}>\n<h2>{html.escape(heading)}</h2>\n{content}\n</section>\n"


def table(rows) -> str:
    """A two-column table of (name, value) rows, both shown as plain text."""
    lines = [f"<tr><th>{html.escape(str(name))}</th><td>{html.escape(plain_value(value))}</td></tr>"
             for name, value in rows]
    return "<table>\n" + "\n".join(lines) + "\n</table>"


def plain_value(value) -> str:
    """A setting as short text: None as "default", floats to 6 significant
    digits, lists and dicts as JSON with sorted keys."""
    if value is None:
        return "default"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)
