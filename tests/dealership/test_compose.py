"""The container files (Dockerfile, docker-compose.yml, .env.example) agree with the project.

No Docker engine is needed: these tests read the files and check that every
command, module, file and environment variable they name exists here.
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from celery import Celery
from django.core.management import get_commands

from tests.conftest import missing

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS = ROOT / "dealership" / "settings.py"

REQUIRED_SERVICES = {"web", "worker", "beat", "postgres", "redis", "mailpit"}
HEALTHCHECKED_SERVICES = {"web", "worker", "postgres", "redis"}
BACKING_SERVICES = {"postgres", "redis"}

# env("NAME", ...), env.bool("NAME", ...), env.db("NAME", ...) and so on.
SETTINGS_ENV_CALL = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def app_services() -> dict[str, dict]:
    """Services that run the project's own image (built from the Dockerfile)."""
    return {name: service for name, service in services().items() if "build" in service}


def environment_names(service: dict) -> set[str]:
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return set(environment)
    return {entry.split("=", 1)[0] for entry in environment}


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {key: str(value) for key, value in env.items()}
    return dict(entry.split("=", 1) for entry in env)


def argv(command: str | list) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def healthcheck_argv(service: dict) -> list[str]:
    test = service["healthcheck"]["test"]
    if isinstance(test, str):
        return shlex.split(test)
    if test[0] == "CMD-SHELL":
        return shlex.split(test[1])
    assert test[0] == "CMD", f"unexpected healthcheck form {test[0]!r}"
    return [str(part) for part in test[1:]]


def settings_env_vars() -> set[str]:
    return set(SETTINGS_ENV_CALL.findall(SETTINGS.read_text()))


def option_value(args: list[str], *names: str) -> str:
    for index, arg in enumerate(args):
        if arg in names:
            return args[index + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(f"{name}="):
                return arg.split("=", 1)[1]
    raise AssertionError(f"{' '.join(args)!r} has none of {names}")


def check_refers_to_project(args: list[str]) -> None:
    """Fail unless the command runs something that exists in this project."""
    assert args, "empty command"
    program = Path(args[0]).name
    if program == "gunicorn":
        target = next(arg for arg in args[1:] if not arg.startswith("-") and ":" in arg)
        module_name, attribute = target.split(":", 1)
        assert (ROOT / Path(*module_name.split("."))).with_suffix(".py").is_file(), f"{module_name} is not a module"
        module = importlib.import_module(module_name)
        assert callable(getattr(module, attribute, None)), f"{module_name} defines no {attribute}"
    elif program == "celery":
        package = option_value(args, "-A", "--app")
        # `celery -A dealership` finds the app in dealership/celery.py.
        assert (ROOT / package / "celery.py").is_file(), f"{package}/celery.py does not exist"
        module = importlib.import_module(f"{package}.celery")
        assert isinstance(getattr(module, "app", None), Celery), f"{package}.celery defines no Celery `app`"
        assert {"worker", "beat", "inspect"} & set(args), f"{' '.join(args)!r} runs no known celery subcommand"
    elif program.startswith("python"):
        assert args[1] == "manage.py", f"unexpected python command {args!r}"
        assert (ROOT / "manage.py").is_file()
        assert args[2] in get_commands(), f"{args[2]!r} is not a Django management command"
    else:
        pytest.fail(f"{' '.join(args)!r} runs {program!r}, which nothing in the project provides")


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_the_compose_file_parses_and_defines_every_service_of_the_stack():
    assert set(services()) >= REQUIRED_SERVICES
    assert {"web", "worker", "beat"} <= set(app_services())


def test_web_worker_postgres_and_redis_have_healthchecks():
    for name in HEALTHCHECKED_SERVICES:
        assert healthcheck_argv(services()[name]), f"{name} has no healthcheck"
    assert healthcheck_argv(services()["postgres"])[0] == "pg_isready"
    assert healthcheck_argv(services()["redis"]) == ["redis-cli", "ping"]
    web_check = " ".join(healthcheck_argv(services()["web"]))
    assert "urllib" in web_check
    assert "http://127.0.0.1:8000/healthz" in web_check
    worker_check = healthcheck_argv(services()["worker"])
    assert worker_check[:5] == ["celery", "-A", "dealership", "inspect", "ping"]


def test_the_web_healthcheck_host_is_an_allowed_host():
    web = services()["web"]
    url = re.search(r"https?://[^'\"\s]+", " ".join(healthcheck_argv(web))).group(0)
    allowed = environment(web)["ALLOWED_HOSTS"].split(",")
    assert urlparse(url).hostname in allowed


def test_app_services_start_only_once_postgres_and_redis_are_healthy():
    for name, service in app_services().items():
        depends_on = service.get("depends_on") or {}
        for backing in BACKING_SERVICES:
            assert depends_on.get(backing, {}).get("condition") == "service_healthy", f"{name} -> {backing}"


def test_the_schema_is_migrated_before_web_and_workers_start():
    migrations = [
        name for name, service in app_services().items() if argv(service.get("command", []))[2:3] == ["migrate"]
    ]
    assert migrations, "no service runs `python manage.py migrate`"
    for name in ("web", "worker", "beat"):
        conditions = {dependency: spec.get("condition") for dependency, spec in services()[name]["depends_on"].items()}
        assert "service_completed_successfully" in {conditions.get(migrate) for migrate in migrations}, name


def test_every_service_command_refers_to_something_in_the_project():
    checked = 0
    for service in app_services().values():
        if "command" in service:
            check_refers_to_project(argv(service["command"]))
            checked += 1
        if "healthcheck" in service:
            check = healthcheck_argv(service)
            if Path(check[0]).name in {"celery", "gunicorn"} or check[:2] == ["python", "manage.py"]:
                check_refers_to_project(check)
                checked += 1
    assert checked >= 4


def test_the_dockerfile_steps_refer_to_files_and_commands_that_exist():
    instructions = dockerfile_instructions()
    assert instructions[0][0] == "FROM"
    assert instructions[0][1].startswith("python:3.11-slim")
    for keyword, arguments in instructions:
        if keyword == "COPY":
            for source in shlex.split(arguments)[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: not in the project"
        elif keyword == "RUN":
            for requirements in re.findall(r"-r\s+(\S+)", arguments):
                assert (ROOT / requirements).is_file(), f"{requirements} does not exist"
            for command in re.findall(r"manage\.py\s+(\S+)", arguments):
                assert (ROOT / "manage.py").is_file()
                assert command in get_commands(), f"{command!r} is not a Django management command"
    cmd = [arguments for keyword, arguments in instructions if keyword == "CMD"][-1]
    check_refers_to_project(json.loads(cmd))


def test_the_image_collects_static_files_with_production_settings_and_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    collect = next(arguments for keyword, arguments in instructions if "collectstatic" in arguments)
    assert "SECRET_KEY=" in collect
    assert "DEBUG=0" in collect
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    assert ("EXPOSE", "8000") in instructions


def test_the_docker_build_context_leaves_out_local_state():
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".venv", "db.sqlite3", "media", "staticfiles", ".git", ".env"} <= ignored
    assert "__pycache__" in ignored or "**/__pycache__" in ignored


def test_every_env_var_compose_sets_for_app_services_is_read_by_settings():
    read = settings_env_vars()
    for name, service in app_services().items():
        unknown = environment_names(service) - read
        assert not unknown, f"{name} sets {sorted(unknown)}, which dealership/settings.py never reads"


def test_app_services_store_uploads_on_the_named_media_volume():
    volumes = compose()["volumes"]
    assert "media" in volumes
    for name, service in app_services().items():
        media_root = environment(service)["MEDIA_ROOT"]
        assert f"media:{media_root}" in service.get("volumes", []), name


def test_every_env_var_settings_reads_is_documented_in_env_example():
    read = settings_env_vars()
    assert {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= read
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert read <= documented, f"missing from .env.example: {sorted(read - documented)}"


# --- The reverse proxy (deploy/nginx.conf) ------------------------------------

NGINX_CONF = ROOT / "deploy" / "nginx.conf"


def proxy() -> dict:
    (service,) = [service for service in services().values() if str(service.get("image", "")).startswith("nginx")]
    return service


def compose_default(value: str) -> str:
    """The default of a `${NAME:-default}` compose value, or the value itself."""
    match = re.fullmatch(r"\$\{\w+:-([^}]*)\}", value)
    return match.group(1) if match else value


def mounted(service: dict, target: str) -> str:
    """The host path or volume a service mounts at `target`."""
    for volume in service.get("volumes", []):
        source, _, rest = volume.partition(":")
        if rest.split(":")[0] == target:
            return source
    raise AssertionError(f"nothing is mounted at {target}")


def test_a_proxy_in_front_of_web_is_the_only_published_entrance_to_the_portal():
    service = proxy()
    assert service["depends_on"]["web"]["condition"] == "service_healthy"
    assert "127.0.0.1:8000:80" in service["ports"]
    assert "ports" not in services()["web"], "web replicas stay behind the proxy (and can be scaled)"
    assert healthcheck_argv(service)


def test_the_proxy_config_file_exists_and_proxies_to_web_with_the_clients_address():
    template = mounted(proxy(), "/etc/nginx/templates/default.conf.template")
    assert (ROOT / template).resolve() == NGINX_CONF
    conf = NGINX_CONF.read_text()
    assert re.search(r"proxy_pass\s+\$portal;", conf)
    assert re.search(r"set\s+\$portal\s+http://web:8000;", conf)
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;", conf)
    assert re.search(r"proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;", conf)
    # One proxy in front: the portal must read the client address through it.
    for name, service in app_services().items():
        assert environment(service)["TRUSTED_PROXY_COUNT"] == "1", name


def test_the_proxy_caps_the_request_size_at_the_same_limit_as_django():
    from django.conf import settings

    conf = NGINX_CONF.read_text()
    assert re.search(r"client_max_body_size\s+\$\{MAX_UPLOAD_MB\}m;", conf)
    proxy_env = environment(proxy())
    assert proxy_env["NGINX_ENVSUBST_FILTER"].strip("$^") == "MAX_UPLOAD_MB"
    web_env = environment(services()["web"])
    assert proxy_env["MAX_UPLOAD_MB"] == web_env["MAX_UPLOAD_MB"]
    # The compose default matches Django's own default cap.
    assert int(compose_default(proxy_env["MAX_UPLOAD_MB"])) * 1024 * 1024 == settings.MAX_REQUEST_BYTES
    page = mounted(proxy(), "/usr/share/nginx/html/413.html")
    assert (ROOT / page).is_file()
    assert "error_page 413 /413.html;" in conf


def test_the_proxy_serves_static_files_that_collectstatic_put_in_the_shared_volume():
    conf = NGINX_CONF.read_text()
    alias = re.search(r"location /static/\s*\{[^}]*alias\s+(\S+);", conf).group(1)
    volume = mounted(proxy(), alias.rstrip("/"))
    assert volume in compose()["volumes"]
    collectors = [
        service for service in app_services().values() if argv(service.get("command", []))[2:3] == ["collectstatic"]
    ]
    assert collectors, "no service refreshes the static volume"
    for service in collectors:
        static_root = environment(service).get("STATIC_ROOT", "/app/staticfiles")
        assert mounted(service, static_root) == volume
    assert proxy()["depends_on"]["collectstatic"]["condition"] == "service_completed_successfully"


# --- Scaling out (`docker compose up --scale web=3 --scale worker=2`) ---------------------------------------------


def test_web_and_worker_can_be_scaled_because_nothing_pins_a_replica():
    for name in ("web", "worker"):
        service = services()[name]
        # A fixed container name or a published host port allows one replica only.
        assert "container_name" not in service, name
        assert "ports" not in service, name
        assert (service.get("deploy") or {}).get("replicas", 1) == 1, f"{name}: scale with --scale, not in the file"


def test_the_proxy_finds_every_web_replica_through_dockers_dns_at_request_time():
    conf = NGINX_CONF.read_text()
    # Docker's embedded DNS, re-asked every few seconds: replicas added or
    # restarted after the proxy started are found. A name in a plain
    # `upstream` block would be resolved once, when nginx starts.
    resolver = re.search(r"^resolver\s+127\.0\.0\.11\b([^;]*);", conf, flags=re.MULTILINE)
    assert resolver, "no resolver pointing at Docker's DNS"
    valid = re.search(r"valid=(\d+)s", resolver.group(1))
    assert valid and int(valid.group(1)) <= 30
    assert not re.search(r"^\s*upstream\b", conf, flags=re.MULTILINE)
    # The name the proxy asks for is the web service's, on the port gunicorn binds.
    web_command = argv(services()["web"]["command"])
    assert option_value(web_command, "--bind", "-b") == "0.0.0.0:8000"
    assert "web" in services()


def test_exactly_one_beat_enqueues_the_periodic_tasks():
    beats = [name for name, service in app_services().items() if "beat" in argv(service.get("command", []))]
    assert beats == ["beat"]
    beat = services()["beat"]
    assert "ports" not in beat
    assert (beat.get("deploy") or {}).get("replicas", 1) == 1
    # The web replicas and workers never run beat themselves (celery worker -B).
    for name in ("web", "worker"):
        command = argv(services()[name]["command"])
        assert "-B" not in command and "--beat" not in command, name


def test_the_proxy_config_is_valid_for_nginx(tmp_path):
    """Rendered as the nginx image does (envsubst of MAX_UPLOAD_MB), then `nginx -t`."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        missing("nginx is not installed (Debian package `nginx`, installed by .ci/run)")
    rendered = NGINX_CONF.read_text().replace(
        "${MAX_UPLOAD_MB}", compose_default(environment(proxy())["MAX_UPLOAD_MB"])
    )
    assert "${" not in rendered
    (tmp_path / "default.conf").write_text(rendered)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(f"events {{}}\nhttp {{\n  include {tmp_path / 'default.conf'};\n}}\n")
    checked = subprocess.run(
        [
            nginx,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-g",
            f"pid {tmp_path / 'nginx.pid'}; error_log {tmp_path / 'error.log'};",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr
