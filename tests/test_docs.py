"""The documentation: every relative link and #anchor exists, and the figures it
gives of the code are the code's."""
import re
from pathlib import Path

import pytest

from jazz_lstm.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "data" / "README.md",
         ROOT / "benchmarks" / "README.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set:
    """GitHub's anchor for every heading of a Markdown page."""
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"#+ (.*)", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            found.add(slug)
    return found


def broken_links(page: Path) -> list:
    """The relative link targets of a page that name a missing file or heading."""
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue                      # web addresses are not checked here
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve(page):
    assert broken_links(page) == [], f"{page.name} links to what is not there"


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("## Some Heading, here\n")
    page.write_text("# Title\n[ok](#title) [gone](missing.md) [bad anchor](#nowhere) "
                    "[there](other.md#some-heading-here) [not there](other.md#elsewhere) [web](https://x.y/z)\n")
    assert broken_links(page) == ["missing.md", "#nowhere", "other.md#elsewhere"]


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250


def preset_rows() -> dict:
    """docs/commands.md's presets table: preset name -> its cells."""
    rows = {}
    for line in (ROOT / "docs" / "commands.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `([a-z-]+)` \|(.*)\|$", line)
        if match and match.group(1) in PRESETS:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_the_presets_table_names_every_preset_with_its_settings():
    rows = preset_rows()
    assert set(rows) == set(PRESETS)
    for name, (model, _, optimizer, epochs, batch, temperature, patience) in rows.items():
        config = PRESETS[name]
        assert f"of {config.hidden_size}" in model, name
        assert (f"dropout {config.dropout:g}" in model) == (config.dropout > 0), name
        assert ("batch normalization" in model) == config.batch_norm, name
        assert ("every step" in model) == (config.head == "every_step"), name
        assert f"lr {config.lr:g}" in optimizer and config.optimizer in optimizer.lower(), name
        assert (int(epochs), int(batch), float(temperature), int(patience)) == \
            (config.epochs, config.batch_size, config.temperature, config.patience), name
