"""Packaging: the wheel claims no generic top-level names, and the image builds without a compiler at the end."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                        str(REPO)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    (whl,) = out.glob("seilearn-*.whl")
    with zipfile.ZipFile(whl) as z:
        return z.namelist()


def test_wheel_has_no_generic_top_level_packages(wheel_names):
    tops = {n.split("/", 1)[0] for n in wheel_names if not n.split("/", 1)[0].endswith((".dist-info", ".data"))}
    assert tops == {"seilearn"}, tops
    assert "seilearn/workflows/spec.py" in wheel_names and "seilearn/launchers/local.py" in wheel_names
    assert any(n.startswith("seilearn/launchers/templates/qadapter_slurm") for n in wheel_names)
    assert any(n.startswith("seilearn/workflows/examples/") and n.endswith(".yaml") for n in wheel_names)
    assert "seilearn/web/templates/seilearn/campaign.html" in wheel_names
    assert any(n.startswith("seilearn/mtp/_kernel") and n.endswith(".so") for n in wheel_names)


def test_dockerfile_layers():
    text = (REPO / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2, "a build stage and a final stage"
    build, final = stages
    assert "build-essential" in build and "build-essential" not in final and "apt-get" not in final
    # dependencies are installed before the sources are copied, so a code edit keeps that layer
    assert build.index("pip install -r") < build.index("COPY seilearn")
    assert "COPY --from=build /opt/venv" in final and "USER seilearn" in final
