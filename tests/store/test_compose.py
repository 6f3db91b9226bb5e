"""docker-compose.yml: no Docker engine here, so the file is parsed and checked, and validated with
Debian's docker-compose client when it is installed (it exits 1 on an unknown key without an engine)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_services_and_security():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"mongo", "webgui", "worker"} <= set(services)
    mongo = services["mongo"]
    assert mongo["image"].startswith("mongo:7")
    assert "--auth" in mongo["command"]
    assert any(v.startswith("mongo-data:") for v in mongo["volumes"]) and "mongo-data" in spec["volumes"]
    assert "healthcheck" in mongo
    for name in ("mongo", "webgui"):
        for port in services[name].get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
    for name in ("webgui", "worker"):
        env = services[name]["environment"]
        assert env["SEILEARN_MONGODB_URI"].startswith("mongodb://${SEILEARN_MONGO_USER")
        assert "@mongo:27017" in env["SEILEARN_MONGODB_URI"]
        assert services[name]["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert "SEILEARN_WEBGUI_PASSWORD" in services["webgui"]["environment"]
    assert services["worker"]["command"][:2] == ["seilearn", "rlaunch"]  # our atomic LaunchPad, not stock rlaunch
    assert "password" not in COMPOSE.read_text().lower().replace("_password", "")


def test_docker_compose_config_validates():
    exe = shutil.which("docker-compose")
    if exe is None:
        import pytest

        pytest.skip("docker-compose client not installed; parsed checks above ran. Run the tests as "
                    "`SEILEARN_TEST_SYSTEM_PACKAGES=1 bash scripts/test.sh` (as root) to install it")
    env = {**os.environ, "SEILEARN_MONGO_USER": "u", "SEILEARN_MONGO_PASSWORD": "p",
           "SEILEARN_WEBGUI_USER": "w", "SEILEARN_WEBGUI_PASSWORD": "q"}
    r = subprocess.run([exe, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    missing = {k: v for k, v in env.items() if k != "SEILEARN_MONGO_USER"}
    r = subprocess.run([exe, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if not k.startswith("SEILEARN_")} | missing, timeout=60)
    assert r.returncode != 0 and "SEILEARN_MONGO_USER" in r.stderr
