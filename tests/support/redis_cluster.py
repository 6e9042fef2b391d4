"""A real 3-primary Redis Cluster on loopback ports, started with redis-server and ``redis-cli --cluster``."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

import redis

from tests.support.redis_server import redis_server_binary


def _cluster_port() -> int:
    """A free port ≤ 55535 whose cluster-bus port (port + 10000) is free too."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(20000, 55000)
        try:
            for p in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class RedisCluster3:
    """Three cluster-enabled redis-server processes joined into one cluster (no replicas)."""

    def __init__(self) -> None:
        self.ports = [_cluster_port() for _ in range(3)]
        self.dir = Path(tempfile.mkdtemp(prefix="ra-cluster-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self, timeout_s: float = 30.0) -> RedisCluster3:
        """Start the nodes and join them; on any failure every node started is killed again."""
        try:
            return self._start(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout_s: float) -> RedisCluster3:
        for port in self.ports:
            node_dir = self.dir / str(port)
            node_dir.mkdir()
            args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no",
                    "--dir", str(node_dir)]  # fmt: skip
            log = (node_dir / "redis.log").open("ab")
            self._logs.append(log)
            self.procs.append(subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout_s
        for port in self.ports:
            self._wait(lambda p=port: self._ping(p), deadline)
        redis_cli = shutil.which("redis-cli")
        if redis_cli is None:
            raise RuntimeError("redis-cli is not on PATH (Debian's redis-tools, installed with redis-server)")
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        create = [redis_cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"]
        subprocess.run(create, check=True, capture_output=True, timeout=timeout_s)
        for port in self.ports:
            self._wait(lambda p=port: b"cluster_state:ok" in self._info(p), deadline)
        return self

    @staticmethod
    def _ping(port: int) -> bool:
        client = redis.Redis(port=port, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()

    @staticmethod
    def _info(port: int) -> bytes:
        client = redis.Redis(port=port, socket_timeout=0.5)
        try:
            return bytes(client.execute_command("CLUSTER", "INFO"))
        finally:
            client.close()

    def _wait(self, check: object, deadline: float) -> None:
        while True:
            try:
                if check():  # type: ignore[operator]
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"Redis Cluster did not come up; logs in {self.dir}")
            time.sleep(0.05)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        self.procs = []
        for log in self._logs:
            log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
