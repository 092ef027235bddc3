"""The build step that ships the project's own files inside the package.

`pip install .` (not editable) would otherwise install only the Python code, and an
installed `disruptions` could not find its dbt project, suites, seeds, saved queries or
DAG. This copies them into disruptions/_project in the built package, where
config.PROJECT_FILES finds them; a source checkout uses them where they are.
Everything else about the package is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PROJECT_FILE_FOLDERS = ("dbt_project", "expectations", "seeds", "queries", "dags")
# What dbt and Python leave in those folders when run from a checkout.
NOT_SHIPPED = shutil.ignore_patterns(
    "target", "logs", "dbt_packages", "__pycache__", "*.pyc", ".user.yml", "package-lock.yml"
)


class BuildWithProjectFiles(build_py):
    def run(self) -> None:
        super().run()
        bundled = Path(self.build_lib) / "disruptions" / "_project"
        for folder in PROJECT_FILE_FOLDERS:
            shutil.copytree(ROOT / folder, bundled / folder, ignore=NOT_SHIPPED, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithProjectFiles})
