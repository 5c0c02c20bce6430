"""The wheel carries the templates and the runtime: build, install in a fresh venv, run."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from moosegen.output import existing_files

from tests.helpers import REPO


@pytest.mark.slow
def test_wheel_builds_the_example_project(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(dist.glob("moosegen-*.whl"))
    env_dir = tmp_path / "venv"
    # Dependencies come from the site-packages of the interpreter running the tests (a
    # venv's own, not its base interpreter's); the package itself only from the wheel,
    # so templates found at run time prove the wheel ships them. A path in a .pth file
    # is added without processing that folder's own .pth files, so an editable install
    # of moosegen there stays invisible.
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    env_site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (Path(env_site) / "test-deps.pth").write_text("".join(p + "\n" for p in ours))
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
        env=clean_env,
    )
    where = subprocess.run(
        [python, "-c", "import moosegen; print(moosegen.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env,
    ).stdout
    assert str(env_dir) in where
    out = tmp_path / "generated"
    result = subprocess.run(
        [env_dir / "bin" / "moosegen", "build", str(REPO / "specs"), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env=clean_env,
    )
    assert result.returncode == 0, result.stderr
    expected = REPO / "generated"
    assert sorted(existing_files(out)) == sorted(existing_files(expected))
    for rel in existing_files(expected):
        assert (out / rel).read_bytes() == (expected / rel).read_bytes(), rel
