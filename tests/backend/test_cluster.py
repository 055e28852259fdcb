"""`python -m promptlink cluster`'s pieces: the HAProxy configuration it renders from deploy/, the
secrets every process shares, and each process's environment (one set of secrets, every backend
competing for the singletons on the cluster's intake address, Rasa on the PostgreSQL tracker store
and Redis lock store)."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from promptlink.cluster import DEPLOY, Layout, cluster_children, cluster_secrets, render_haproxy


def test_secrets_are_made_once_and_kept_private(tmp_path: Path) -> None:
    first = cluster_secrets(tmp_path)
    assert len(first) == 6 and all(len(v) >= 32 for v in first.values())
    assert len(set(first.values())) == 6
    assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600
    assert cluster_secrets(tmp_path) == first  # a restart keeps them: tokens already given stay valid


def test_haproxy_configuration_points_at_the_layout(tmp_path: Path) -> None:
    layout = Layout(backends=[("127.0.0.11", 9001), ("127.0.0.12", 9002), ("127.0.0.13", 9003)], var_dir=tmp_path)
    text = render_haproxy(layout)
    assert "server backend-3 127.0.0.13:9003 check cookie backend-3" in text
    assert text.count("\n    server ") == 3
    assert "bind 127.0.0.1:8088" in text and "bind 127.0.0.1:8404" in text
    assert f"stats socket {tmp_path / 'run' / 'haproxy.sock'}" in text
    assert "127.0.0.11:8000" not in text  # deploy/'s own addresses replaced
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed")
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(text)
    result = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_process_shares_the_secrets_and_every_backend_competes_for_the_singletons(tmp_path: Path) -> None:
    layout = Layout(var_dir=tmp_path)
    layout.run_dir.mkdir(parents=True)
    shared = cluster_secrets(tmp_path)
    children = {c.name: c for c in cluster_children(layout, tmp_path / "model.tar.gz", shared)}
    assert sorted(children) == ["actions", "backend-1", "backend-2", "haproxy", "rasa-1", "rasa-2"]
    for name in ("backend-1", "backend-2"):
        env = children[name].env
        assert {k: env[k] for k in shared} == shared
        assert env["PROMPTLINK_RASA_URLS"] == "http://127.0.0.21:5005,http://127.0.0.22:5005"
        assert env["PROMPTLINK_REDIS_URL"] == "redis://127.0.0.1:6379/0"
        assert env["PROMPTLINK_DATABASE_URL"].endswith("@127.0.0.1:5432/promptlink_cluster")
        assert env["PROMPTLINK_PUBLIC_URL"] == "http://127.0.0.1:8088"
    assert children["backend-1"].env["PROMPTLINK_HOST"] == "127.0.0.11"
    assert children["backend-2"].env["PROMPTLINK_HOST"] == "127.0.0.12"
    for name in ("backend-1", "backend-2"):  # the lease holder binds the intakes' floating address
        env = children[name].env
        assert "PROMPTLINK_SMTP_INTAKE_ENABLED" not in env and "PROMPTLINK_SNMP_ENABLED" not in env
        assert (env["PROMPTLINK_SMTP_INTAKE_HOST"], env["PROMPTLINK_SMTP_INTAKE_PORT"]) == ("127.0.0.10", "2525")
        assert (env["PROMPTLINK_SNMP_HOST"], env["PROMPTLINK_SNMP_PORT"]) == ("127.0.0.10", "1162")
    for k, name in enumerate(("rasa-1", "rasa-2")):
        rasa = children[name]
        argv = rasa.command()
        assert argv[argv.index("--endpoints") + 1] == str(DEPLOY / "rasa" / "endpoints.yml")
        assert argv[argv.index("--interface") + 1] == f"127.0.0.2{k + 1}"
        assert rasa.env["PROMPTLINK_RASA_TOKEN"] == shared["PROMPTLINK_RASA_TOKEN"]
        assert rasa.env["PROMPTLINK_RASA_PG_DB"] == "promptlink_cluster_rasa"
        assert rasa.env["PROMPTLINK_RASA_REDIS_HOST"] == "127.0.0.1"
        assert "PROMPTLINK_RASA_TRACKER_DB" not in rasa.env
    assert children["actions"].env["PROMPTLINK_BACKEND_URL"] == "http://127.0.0.1:8088"
    assert children["actions"].env["PROMPTLINK_SERVICE_TOKEN"] == shared["PROMPTLINK_SERVICE_TOKEN"]
    # Secrets travel in environments, never on a command line (`ps` shows those).
    for child in children.values():
        assert not any(value in " ".join(child.command()) for value in shared.values())
