"""docker-compose.yml and Dockerfile (no Docker engine runs here, so they are checked, not started)."""

from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parent.parent


def test_compose_file_defines_the_deployment():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "pgdata" in compose["volumes"]
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "crm", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "crm", "beat"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= set(env), name
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_dockerfile_builds_static_files_from_npm():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert "npm ci" in dockerfile
    assert "collectstatic" in dockerfile
    assert "USER crm" in dockerfile


def test_no_cdn_links_in_templates():
    for template in BASE_DIR.glob("**/templates/**/*.html"):
        if ".venv" in template.parts or "node_modules" in template.parts:
            continue
        text = template.read_text()
        for cdn in ("cdn.", "unpkg.com", "jsdelivr"):
            assert cdn not in text, template
