"""The `rxstream` command: the demo a newcomer runs, record and replay, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rxstream._cli import main
from rxstream.emulator import Emulator


def _rxstream(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    return subprocess.Popen(
        [sys.executable, "-m", "rxstream", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_demo_streams_a_conversation_with_thinking_and_a_tool_call_then_exits_0() -> None:
    process = _rxstream("demo")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "[thinking]" in out
    assert '[tool call] get_weather {"location": "Paris"' in out
    assert 'get_weather returned {"location": "Paris", "temperature_c": 14' in out  # JSON
    assert out.count("time to first token") == 2  # one line per turn
    assert "\x1b[" not in out  # not a terminal: plain text


def test_ctrl_c_stops_the_demo_cleanly() -> None:
    process = _rxstream("demo")
    assert process.stdout is not None
    first = process.stdout.readline()  # the banner: the demo is running
    assert "rxstream demo" in first
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert err == "rxstream demo: interrupted: the connection was closed\n"


@pytest.mark.parametrize("command", ["replay", "record"])
def test_ctrl_c_stops_replay_and_record_with_one_line(command: str, tmp_path: Path) -> None:
    recording = tmp_path / "demo.sse"
    assert main(["record", "--demo", str(recording)]) == 0
    args = ["replay", str(recording), "--plain"] if command == "replay" else ["record", "--demo"]
    process = _rxstream(*args, *([str(tmp_path / "again.sse")] if command == "record" else []))
    assert process.stdout is not None
    if command == "replay":
        assert process.stdout.readline()  # the replay is under way (paced: 4 s in all)
    else:
        time.sleep(1.5)  # the request is streaming (the demo's reply takes 4 s)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert err == f"rxstream {command}: interrupted: the connection was closed\n"


def test_record_then_replay_renders_the_recorded_reply(
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # --live reads ANTHROPIC_BASE_URL: here, the loopback emulator stands for the API.
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    recording = tmp_path / "haiku.sse"
    assert main(["record", str(recording), "--live", "--prompt", "Write a haiku about rivers"]) == 0
    # The bytes as received, each event after the SSE comment that gives its arrival time.
    assert re.match(rb": rxstream-at \d+\.\d{4}\nevent: message_start\n", recording.read_bytes())
    capsys.readouterr()
    assert main(["replay", str(recording), "--plain"]) == 0
    shown = capsys.readouterr().out
    assert "time to first token" in shown
    assert len(shown.strip().splitlines()[0]) > 10  # the haiku's first line


_SLOW_IMPORT = """
import sys, time

class SlowCommandImport:
    # Holds the import of rxstream._cli for seconds, so the signal surely lands inside it.
    def find_spec(self, name, path=None, target=None):
        if name == "rxstream._cli":
            print("importing", flush=True)
            time.sleep(30)
        return None

sys.meta_path.insert(0, SlowCommandImport())
import _rxstream_cli
sys.argv = ["rxstream", "demo"]
_rxstream_cli.run()
"""


def test_ctrl_c_while_the_command_is_still_importing_is_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_IMPORT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "importing\n"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (130, "", "rxstream: interrupted\n")


def test_record_asks_for_tools_thinking_and_a_system_prompt(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    recording = tmp_path / "oslo.sse"
    argv = ["record", str(recording), "--live", "--tools", "--thinking", "--system", "Be brief"]
    assert main([*argv, "--prompt", "What's the weather in Oslo?"]) == 0
    data = recording.read_bytes()
    assert b'"content_block":{"type":"thinking"' in data
    assert b'"name":"get_weather"' in data
    assert b'"stop_reason":"tool_use"' in data


def test_record_demo_records_the_demos_request_at_its_pace(tmp_path: Path) -> None:
    recording = tmp_path / "demo.sse"
    assert main(["record", "--demo", str(recording)]) == 0
    data = recording.read_bytes()
    assert b'"name":"get_weather"' in data
    assert b'"content_block":{"type":"thinking"' in data
    times = [float(t) for t in re.findall(rb"^: rxstream-at (\S+)$", data, flags=re.M)]
    assert times == sorted(times)
    assert times[-1] > 2.0  # paced like a model, not all at once
