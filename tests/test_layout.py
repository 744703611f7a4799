"""The package layout: imports run downhill (import-linter contracts) and a built wheel is complete."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_import_contracts_are_kept() -> None:
    """cli → runner → web → site → cluster → incidents | sla | probe → store → config → models | durations."""
    done = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (found,) = out.glob("statuspage-*.whl")
    return found


def test_wheel_ships_every_module_template_and_asset(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"statuspage/{p.relative_to(REPO / 'statuspage').as_posix()}"
                for p in (REPO / "statuspage").rglob("*") if p.suffix in (".py", ".yaml")}
    expected |= {f"statuspage/templates/{p.relative_to(REPO / 'templates').as_posix()}"
                 for p in (REPO / "templates").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    expected |= {f"statuspage/static/{p.name}" for p in (REPO / "static").iterdir()
                 if p.is_file() and p.suffix != ".pyc"}
    assert expected - names == set()


def test_unpacked_wheel_runs_and_finds_its_templates(wheel: Path, tmp_path: Path) -> None:
    """Outside the repository, the installed package (not the source tree) serves `python -m statuspage`
    and finds its templates, static files and OpenAPI document as package resources."""
    target = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(target)
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = (
        "import statuspage, importlib.resources as r; "
        "print(statuspage.__file__); "
        "print(r.files('statuspage.templates').joinpath('page.html').is_file(), "
        "r.files('statuspage.static').joinpath('style.css').is_file(), "
        "r.files('statuspage.web').joinpath('openapi.yaml').is_file())"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    where, found = done.stdout.splitlines()
    assert where.startswith(str(target))
    assert found == "True True True"
    done = subprocess.run([sys.executable, "-m", "statuspage", "--help"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for command in ("run", "demo", "check", "validate", "render", "report", "incident", "maintenance"):
        assert f"  {command}" in done.stdout
