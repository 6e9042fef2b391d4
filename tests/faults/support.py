"""Helpers of the fault tests: the variant the hash gives a unit, a TCP proxy that delays or holds bytes, a
server that accepts connections and never answers (a hung collector or model endpoint), and a store wrapper
counting the calls a routing node makes (how a back-off is checked without timing anything)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from routing_agent.assignment.hashing import bucket_ranges, choose_variation, hash_v2


def hashed_variant(unit_id: str, experiment: str = "exp", weights: tuple[float, float] = (0.5, 0.5)) -> str:
    """The variant the deterministic hash gives ``unit_id`` in the two-arm test config (control first)."""
    return ["control", "candidate"][choose_variation(hash_v2(experiment, unit_id), bucket_ranges(weights))]


class CountingStore:
    """A real store, counting the calls made on it: a back-off shows as few calls, on any machine speed."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.calls = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls += 1
            return attr(*args, **kwargs)

        return counted


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


class SlowProxy:
    """A TCP proxy on loopback in front of ``target_port``.

    ``delay_s`` is slept before each chunk is forwarded (either direction), so a Redis behind it answers late;
    ``hold()`` keeps every byte from the client until ``release()`` (the server never sees the command).
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.delay_s = 0.0
        self._open = threading.Event()
        self._open.set()
        self._server = _listener()
        self.port = int(self._server.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, name="slow-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while not self._open.wait(0.05):
                    if self._closed:
                        return
                if self.delay_s:
                    time.sleep(self.delay_s)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed = True
        self._open.set()
        with contextlib.suppress(OSError):
            self._server.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()


class SilentServer:
    """Accepts TCP connections, reads whatever arrives, and never answers (until closed)."""

    def __init__(self) -> None:
        self._server = _listener()
        self.port = int(self._server.getsockname()[1])
        self.connections = 0
        self.received = 0
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, name="silent-server", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            self._sockets.append(conn)
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := conn.recv(65536):
                self.received += len(data)

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def graph_with(node: Any) -> Any:
    """The three-agent echo graph of the routing-node tests, with ``node`` as its routing node."""
    from langgraph.graph import END, START, StateGraph

    from tests.graph.conftest import AGENTS, State, echo_catalog, make_agent

    models = echo_catalog()
    g = StateGraph(State)
    g.add_node("route", node)
    g.add_edge(START, "route")
    previous = "route"
    for name in AGENTS:
        g.add_node(name, make_agent(name, models))
        g.add_edge(previous, name)
        previous = name
    g.add_edge(previous, END)
    return g.compile()
