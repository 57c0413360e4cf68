"""The GitHub workflows parse and validate against the GitHub workflow schema, and run what the
README says."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_exist():
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "pages.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path):
    exe = Path(sys.executable).parent / "check-jsonschema"
    run = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: ./dev "
        "test\n"
    )
    exe = Path(sys.executable).parent / "check-jsonschema"
    run = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0 and "runs-on" in run.stdout


def _steps(path):
    doc = yaml.safe_load(path.read_text())
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


def test_ci_runs_the_readme_test_command():
    runs = [s.get("run", "") for s in _steps(ROOT / ".github" / "workflows" / "ci.yml")]
    assert any("./dev test" in r for r in runs)
    assert "./dev test" in (ROOT / "README.md").read_text()
    assert "./dev test" in (ROOT / ".ci" / "run").read_text()


def test_pages_workflow_builds_strictly_and_deploys_from_main():
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    trigger = doc.get("on", doc.get(True))
    assert trigger["push"]["branches"] == ["main"]
    steps = _steps(ROOT / ".github" / "workflows" / "pages.yml")
    assert any(
        "mkdocs build --strict" in s.get("run", "") or "./dev build" in s.get("run", "")
        for s in steps
    )
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps)


def test_pages_workflow_pushes_the_notebooks_where_colab_links_point():
    from hooks.notebooks import NOTEBOOKS_BRANCH

    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    job = doc["jobs"]["notebooks"]
    assert job["permissions"] == {"contents": "write"}
    push = job["steps"][-1]["run"]
    assert f"git init -q -b {NOTEBOOKS_BRANCH}" in push and push.rstrip().endswith(NOTEBOOKS_BRANCH)
    collect = " ".join(s.get("run", "") for s in doc["jobs"]["build"]["steps"])
    assert "--include='*.ipynb'" in collect
