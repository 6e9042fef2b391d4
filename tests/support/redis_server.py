"""Start and stop real ``redis-server`` processes on free loopback ports (tests only; no mocks)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """Path of redis-server; a missing binary is a test failure, never a skip."""
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError(
            "redis-server is not on PATH. Run the suite through ./scripts/test.sh, which installs "
            "Debian's redis-server, or set REDIS_URL to a running server."
        )
    return path


class RedisServer:
    """One private redis-server process; ``kill`` and ``start`` again on the same port for outage tests."""

    def __init__(self, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.extra_args = extra_args
        self.dir = Path(tempfile.mkdtemp(prefix="ra-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> RedisServer:
        args = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
            *self.extra_args,
        ]  # fmt: skip
        with (self.dir / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return self
                except redis.RedisError:
                    if self.proc.poll() is not None:
                        break
                    time.sleep(0.05)
        finally:
            client.close()
        log = self.log()
        self.kill()  # never leave a server running that nobody will stop
        raise RuntimeError(f"redis-server on port {self.port} did not start: {log}")

    def log(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the server (an outage, not a clean shutdown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def redis_url_answers(url: str) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def shared_redis_url() -> tuple[str, RedisServer | None]:
    """``$REDIS_URL`` when it answers, else a server started here (returned so it can be stopped)."""
    url = os.environ.get("REDIS_URL")
    if url and redis_url_answers(url):
        return url, None
    server = RedisServer().start()
    return server.url, server
