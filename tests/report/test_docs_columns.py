"""The performance leads' column glossary is generated from the dbt YAML, never retyped."""

from __future__ import annotations

import pytest
import yaml

from disruptions.serve.glossary import (
    BEGIN,
    END,
    GUIDE_PATH,
    MARTS_YAML_DIR,
    main,
    regenerate,
    render_glossary,
)


def test_committed_guide_is_up_to_date_with_the_mart_yaml():
    current = GUIDE_PATH.read_text(encoding="utf-8")
    assert regenerate(current, render_glossary()) == current, (
        "docs/for-performance-leads.md is stale: run `python -m disruptions.serve.glossary`"
    )
    assert main(["--check"]) == 0


def test_every_mart_column_in_the_yaml_appears_with_its_description():
    glossary = render_glossary()
    for path in MARTS_YAML_DIR.glob("*.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            assert f"### `marts.{model['name']}`" in glossary
            for column in model["columns"]:
                description = " ".join(str(column.get("description", "")).split())
                assert f"| `{column['name']}` |" in glossary
                assert description.replace("|", "\\|") in glossary


def test_a_changed_yaml_description_makes_the_check_fail(tmp_path):
    yaml_dir = tmp_path / "marts"
    yaml_dir.mkdir()
    (yaml_dir / "m.yml").write_text(
        "version: 2\nmodels:\n  - name: m\n    description: A mart.\n"
        "    columns:\n      - name: a\n        data_type: bigint\n"
        "        description: Apples | pears.\n"
    )
    guide = tmp_path / "guide.md"
    guide.write_text(f"# Guide\n\n{BEGIN}\nold text\n{END}\n\nAfter.\n")
    stale = guide.read_text()
    fresh = regenerate(stale, render_glossary(yaml_dir))
    assert fresh != stale
    assert "| `a` | bigint | Apples \\| pears. |" in fresh
    assert fresh.endswith(f"{END}\n\nAfter.\n") and "old text" not in fresh
    assert main(["--check", "--guide", str(guide)]) == 1  # the real YAML differs too


def test_a_guide_without_markers_is_an_error():
    with pytest.raises(ValueError, match="markers"):
        regenerate("# no markers here\n", "glossary")
