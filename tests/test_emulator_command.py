"""`rxstream emulator` as a user runs it: its options, default pacing, key and seed, errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from emulated import HEADERS, body

from rxstream.emulator import serve


def test_every_option_is_on_the_command_lines_help() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "rxstream", "emulator", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    options = ("--host", "--port", "--ttft", "--tps", "--ping-interval", "--no-api-key",
               "--api-key-env", "--lenient", "--rpm", "--itpm", "--otpm", "--seed")  # fmt: skip
    for option in options:
        assert option in shown
    assert "0: unpaced" in shown


def first_and_last(client: httpx.Client, **headers: str) -> tuple[float, float]:
    """Seconds from sending to the first content block, and to the end of the stream."""
    started = time.monotonic()
    first = 0.0
    with client.stream("POST", "/v1/messages", json=body("Count to 30", stream=True),
                       headers=headers) as response:  # fmt: skip
        for line in response.iter_lines():
            if line == "event: content_block_start" and not first:
                first = time.monotonic() - started
    return first, time.monotonic() - started


def test_the_command_streams_visibly_by_default_and_tps_0_is_unpaced() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "rxstream", "emulator", "--port", str(port)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        process.stdout.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=HEADERS) as client:
            paced_first, paced_last = first_and_last(client)
            assert paced_first >= 0.45  # 0.5 s to the first token
            assert paced_last - paced_first >= 0.4  # 30 numbers at 60 tokens per second
            unpaced = first_and_last(client, **{"x-emulator-tps": "0", "x-emulator-ttft": "0"})
            assert unpaced[1] < paced_first  # all of it before the paced reply's first token
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=5)


def test_the_command_takes_its_key_from_the_environment_and_a_seed() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "rxstream", "emulator", "--port", str(port), "--tps", "0",
               "--api-key-env", "EMULATOR_KEY", "--seed", "fixed", "--rpm", "2"]  # fmt: skip
    environment = {**os.environ, "EMULATOR_KEY": "sk-from-env"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)
    try:
        assert process.stdout is not None
        process.stdout.readline()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            wrong = client.post("/v1/messages", json=body(), headers={**HEADERS, "x-api-key": "no"})
            right = [
                client.post(
                    "/v1/messages", json=body(), headers={**HEADERS, "x-api-key": "sk-from-env"}
                )
                for _ in range(3)
            ]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=5)
    assert wrong.status_code == 401
    assert [r.status_code for r in right] == [200, 200, 429]
    with serve(seed="fixed") as same:
        assert right[0].headers["anthropic-organization-id"] == same.settings.organization_id
    assert "sk-from-env" not in output
    assert f"-> 200 {right[0].headers['request-id']}" in output


@pytest.mark.parametrize(
    ("argument", "complaint"),
    [
        (["--tps", "fast"], "argument --tps: must be a number, 0 or more, got 'fast'"),
        (["--ttft", "-1"], "argument --ttft: must be a number, 0 or more, got '-1'"),
        (["--rpm", "1.5"], "argument --rpm: must be a whole number, 0 or more, got '1.5'"),
    ],
)
def test_the_command_names_a_bad_option(argument: list[str], complaint: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rxstream", "emulator", *argument],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == f"rxstream emulator: error: {complaint} (see rxstream emulator --help)\n"
