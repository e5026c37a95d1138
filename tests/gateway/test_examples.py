"""The sample knowledge base under examples/ has what ingestion and the demo rely on."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "riverland-revenue"


def test_every_sample_has_front_matter_and_the_set_is_varied() -> None:
    documents = sorted(EXAMPLES.glob("*.md"))
    assert 6 <= len(documents) <= 10
    seen = []
    for path in documents:
        text = path.read_text(encoding="utf-8")
        match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
        assert match, f"{path.name} has no front matter"
        front = yaml.safe_load(match.group(1))
        assert {"title", "source_url", "language", "classification"} <= set(front), path.name
        assert front["source_url"].startswith("https://"), path.name
        assert front["classification"] in {"public", "internal", "restricted"}, path.name
        assert re.search(r"^## ", text, re.MULTILINE), f"{path.name} has no sections"
        seen.append((front["language"], front["classification"]))
    assert ("es", "public") in seen
    assert any(classification == "internal" for _, classification in seen)
