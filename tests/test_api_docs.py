"""docs/api.md, the API reference in the repository, names every public name of autograd, nn
and viz (each package's ``__all__``), and the README links it. A name added to a package
without a word in the reference fails here, by name."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.md"


def documented_names() -> set[str]:
    """Every identifier inside code in the reference: `inline` spans and fenced blocks."""
    text = API.read_text(encoding="utf-8")
    code = re.findall(r"```.*?```", text, re.S)
    code += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return {name for piece in code for name in re.findall(r"[A-Za-z_]\w*", piece)}


@pytest.mark.parametrize("package", ["autograd", "nn", "viz"])
def test_every_public_name_is_in_the_reference(package):
    public = importlib.import_module(package).__all__
    missing = sorted(set(public) - documented_names())
    assert not missing, f"docs/api.md does not document {package}: {', '.join(missing)}"


def test_the_readme_links_the_reference_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/api.md)" in readme
    assert "shared/API.md" not in readme  # outside the repository: broken in a clone
