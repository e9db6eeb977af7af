"""docs/deck-repo-ci.yml: valid against the GitHub Actions workflow schema, and its commands work.

The commands are run as the workflow runs them, on a sample deck repository with two shards: every
`run:` step of the lint, verify (shard 1 and 2) and merge jobs, in bash with the job's environment,
`${{ }}` expressions filled in as on a push. The `uses:` steps GitHub provides are stood in for
(checkout, setup-python: nothing; cache restore/save and artifact upload/download: copying files), and
the install steps are left out (they need the network; quizzer here is this checkout). What is left
out is named in `SKIPPED_STEPS`, so a new step cannot slip through unrun.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "docs" / "deck-repo-ci.yml"
SKIPPED_STEPS = {
    "Install quizzer",
    "Install torch (CPU wheel), then quizzer",
}
STOOD_IN = {
    "actions/checkout@v4",
    "actions/setup-python@v5",
    "actions/cache/restore@v4",
    "actions/cache/save@v4",
    "actions/upload-artifact@v4",
    "actions/download-artifact@v4",
}

VERIFIERS = "from quizzer.verifier import Result\n\n\ndef four():\n    r = Result()\n    r.value = 4\n    return r\n"


def workflow() -> dict:
    return yaml.safe_load(TEMPLATE.read_text())


def test_the_template_is_a_valid_github_workflow():
    jsonschema = pytest.importorskip("jsonschema")
    vendor = pytest.importorskip("check_jsonschema.builtin_schemas.vendor")
    from importlib.resources import files

    schema = json.loads(files(vendor).joinpath("github-workflows.json").read_text())
    data = workflow()
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    jsonschema.validate(data, schema)


def test_the_template_installs_quizzer_from_its_repository_not_pypi():
    env = workflow()["env"]
    assert env["QUIZZER"].startswith("quizzer @ git+https://")  # PyPI's "quizzer" is another project


def test_every_install_takes_the_cpu_torch_wheel_before_quizzer():
    """quizzer depends on torch: a bare `pip install "$QUIZZER"` pulls the CUDA build (GBs) from PyPI."""
    for name, job in workflow()["jobs"].items():
        installs = [step["run"] for step in job["steps"] if step.get("name") in SKIPPED_STEPS]
        assert installs, f"job {name} installs nothing"
        for script in installs:
            torch = script.find('pip install "$TORCH" --index-url "$TORCH_INDEX"')
            assert 0 <= torch < script.find('pip install "$QUIZZER"'), f"job {name}: {script!r}"


def test_every_step_is_run_or_stood_in_for():
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            assert step.get("uses") in STOOD_IN or step["name"] in SKIPPED_STEPS or "run" in step, step


def _expand(text: str, values: dict[str, str]) -> str:
    """`${{ expression }}` filled in from `values` (the expressions the template uses, as on a push)."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda match: values[match[1].strip()], text)


def _run_job(name: str, repo: Path, store: Path, *, shard: int | None = None, total: int = 2) -> list[str]:
    """Run one job's steps in `repo`; returns the names of the steps that failed."""
    flow = workflow()
    job = flow["jobs"][name]
    values = {
        "matrix.shard": str(shard or ""),
        "strategy.job-total": str(total),
        "github.workspace": str(repo),
        "github.sha": "0" * 40,
        "github.event_name == 'schedule' && '--no-cache' || ''": "",
    }
    env = {**os.environ, **{key: str(value) for key, value in flow["env"].items()}}
    for key, value in job.get("env", {}).items():
        env[key] = _expand(str(value), values)
    env.pop("QUIZZER_DB", None)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    values |= {f"env.{key}": value for key, value in env.items()}
    failed = []
    for step in job["steps"]:
        uses, title = step.get("uses"), _expand(step.get("name", step.get("uses")), values)
        arguments = {key: _expand(str(value), values) for key, value in step.get("with", {}).items()}
        if "run" in step and title not in SKIPPED_STEPS:
            script = _expand(step["run"], values)
            result = subprocess.run(
                ["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=600
            )
            if result.returncode:
                failed.append(title)
                print(f"--- {name}: {title} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        elif uses == "actions/cache/restore@v4" and (store / "cache").exists():
            (repo / arguments["path"]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(store / "cache", repo / arguments["path"])
        elif uses == "actions/cache/save@v4":
            shutil.copy(repo / arguments["path"], store / "cache")
        elif uses == "actions/upload-artifact@v4":
            for line in arguments["path"].split():
                if (repo / line).exists():
                    (store / "artifacts" / arguments["name"] / line).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy(repo / line, store / "artifacts" / arguments["name"] / line)
        elif uses == "actions/download-artifact@v4":
            for folder in sorted((store / "artifacts").glob(arguments["pattern"])):
                shutil.copytree(folder, repo / arguments["path"] / folder.name)
    return failed


def _sample_repository(root: Path, *, broken: bool) -> Path:
    (root / "decks").mkdir(parents=True)
    (root / "verifiers").mkdir()
    (root / "verifiers" / "cheap.py").write_text(VERIFIERS)
    value = 5 if broken else 4
    cards = "".join(
        f'\n[[cards]]\nid = "c{i}"\nprompt = "2 + 2?"\nexplanation = "Arithmetic."\nverifier = "cheap.py::four"\n'
        f'answer = {{ kind = "numeric", value = {value if i == 2 else 4} }}\n'
        for i in range(5)
    )
    (root / "decks" / "sample.toml").write_text('id = "sample"\ntitle = "Sample"\n' + cards)
    return root


@pytest.mark.parametrize("broken", [False, True])
def test_the_templates_commands_pass_on_a_deck_repository_sharded_in_two_and_merged(tmp_path, broken):
    store = tmp_path / "github"
    store.mkdir()
    for run in (1, 2):  # the second run starts from the cache the first one saved
        checkout = tmp_path / f"run{run}"  # every job runs in a fresh checkout, as on GitHub

        def fresh(job: str, checkout: Path = checkout) -> Path:
            return _sample_repository(checkout / job, broken=broken)

        assert _run_job("lint", fresh("lint"), store) == []
        shard_failures = [_run_job("verify", fresh(f"verify-{shard}"), store, shard=shard) for shard in (1, 2)]
        merge_failures = _run_job("merge", fresh("merge"), store)
        if broken:  # the wrong card fails its own shard and the merge
            assert sorted(sum(shard_failures, [])) in (["Verify shard 1"], ["Verify shard 2"])
            assert merge_failures == ["Merge the shards"]
        else:
            assert shard_failures == [[], []] and merge_failures == []
        report = json.loads((checkout / "merge" / "verify-report.json").read_text())
        assert sorted(row["card"] for row in report) == [f"c{i}" for i in range(5)]
        assert {row["cached"] for row in report} == ({False} if run == 1 else {True})
        assert (checkout / "merge" / "junit.xml").exists()
        shutil.rmtree(store / "artifacts")  # artifacts belong to one workflow run
