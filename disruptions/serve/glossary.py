"""The mart column glossary in docs/for-performance-leads.md, generated from the dbt YAML.

Column meanings are written once, in dbt_project/models/marts/*.yml (where dbt docs and
the contracts read them too). This renders them as markdown between two markers in the
guide. Run it after changing the YAML; a test fails while the guide is out of date:

    python -m disruptions.serve.glossary          # rewrite the section
    python -m disruptions.serve.glossary --check  # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from disruptions.config import DBT_PROJECT_DIR, PROJECT_ROOT, PUBLIC_MARTS

MARTS_YAML_DIR = DBT_PROJECT_DIR / "models" / "marts"
GUIDE_PATH = PROJECT_ROOT / "docs" / "for-performance-leads.md"
BEGIN = "<!-- BEGIN GENERATED: mart columns (python -m disruptions.serve.glossary) -->"
END = "<!-- END GENERATED: mart columns -->"

# The order a performance lead meets the marts in; any other mart follows alphabetically.
PREFERRED_ORDER = PUBLIC_MARTS


def _one_line(text: object) -> str:
    return " ".join(str(text or "").split())


def _cell(text: object) -> str:
    return _one_line(text).replace("|", "\\|")


def contract_type(declared: object) -> str:
    """A contract column's data_type as the embedded engine types it: the per-engine type
    vars (`{{ var('type_double') }}`) at the project's defaults in dbt_project.yml."""
    text = str(declared or "")
    if "{{" not in text:
        return text
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    for name, value in (project.get("vars") or {}).items():
        text = text.replace("{{ var('" + name + "') }}", str(value))
    return text


def load_models(yaml_dir: Path = MARTS_YAML_DIR) -> list[dict]:
    models = []
    for path in sorted(yaml_dir.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        models.extend(document.get("models", []))

    def order(model: dict) -> tuple[int, str]:
        name = model["name"]
        rank = PREFERRED_ORDER.index(name) if name in PREFERRED_ORDER else len(PREFERRED_ORDER)
        return rank, name

    return sorted(models, key=order)


def render_glossary(yaml_dir: Path = MARTS_YAML_DIR) -> str:
    """Markdown for every mart: its definition, then one row per column."""
    lines = [
        "_Generated from `dbt_project/models/marts/*.yml` by "
        "`python -m disruptions.serve.glossary`; edit the YAML, not this section._",
        "",
    ]
    for model in load_models(yaml_dir):
        lines += [f"### `marts.{model['name']}`", "", _one_line(model.get("description")), ""]
        lines += ["| column | type | meaning |", "|---|---|---|"]
        for column in model.get("columns", []):
            lines.append(
                f"| `{column['name']}` | {_cell(contract_type(column.get('data_type')))} "
                f"| {_cell(column.get('description', ''))} |"
            )
        lines.append("")
    return "\n".join(lines)


def regenerate(guide_text: str, glossary: str) -> str:
    """The guide with the text between the markers replaced by `glossary`."""
    if BEGIN not in guide_text or END not in guide_text:
        raise ValueError(f"the guide lacks the markers {BEGIN!r} and {END!r}")
    head, rest = guide_text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{glossary}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the guide is stale")
    parser.add_argument("--guide", type=Path, default=GUIDE_PATH)
    args = parser.parse_args(argv)
    current = args.guide.read_text(encoding="utf-8")
    wanted = regenerate(current, render_glossary())
    if args.check:
        if wanted != current:
            print(
                f"{args.guide}: the column glossary is out of date with the dbt YAML; "
                "run `python -m disruptions.serve.glossary`",
                file=sys.stderr,
            )
            return 1
        return 0
    if wanted != current:
        args.guide.write_text(wanted, encoding="utf-8")
        print(f"updated {args.guide}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
