"""A real redis-server for the tests: on a free loopback port, in a temporary directory, no
persistence; installed by `scripts/setup-system.sh` (Debian's package) when missing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def redis_server_binary() -> str:
    """The path of `redis-server`, installing it first when it is missing."""
    found = shutil.which("redis-server")
    if found is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "setup-system.sh")], check=True)
        found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("redis-server is missing and scripts/setup-system.sh did not install it")
    return found


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process; `restart()` kills it and starts an empty one on the same port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL, database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers PING."""
        command = [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--dir", str(self.directory), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError as exc:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise RuntimeError(f"redis-server did not start on {self.port}") from exc
                    time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """Kill it at once (SIGKILL) and wait for it to exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """Kill it and start an empty server on the same port."""
        self.kill()
        self.start()

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
