"""Every failure of the `rxstream` command: one line on stderr, a documented exit code."""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import rxstream
from rxstream._cli import EXIT_CODES, _parser, main
from rxstream._cli import _run as _run_command
from rxstream.emulator import serve

_ERROR_EVENT = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
    b'"model":"m","content":[],"stop_reason":null,"stop_sequence":null,'
    b'"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    b"event: error\n"
    b'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
    b'"request_id":"req_011CUexample"}\n\n'
)
_OVERLOADED_LINE = (
    "rxstream replay: error: OverloadedError: overloaded_error: Overloaded "
    "(request id req_011CUexample)\n"
)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run the command in-process: its exit code and its whole stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse: usage errors, --version
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def _rxstream(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    return subprocess.run(
        [sys.executable, "-m", "rxstream", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=60,
        check=False,
    )


def test_a_missing_file_to_replay_is_one_line_and_exit_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run(capsys, "replay", "nope.sse")
    assert (code, err) == (
        3,
        "rxstream replay: error: FileNotFoundError: No such file or directory: nope.sse\n",
    )


def test_a_directory_to_replay_is_one_line_and_exit_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = _run(capsys, "replay", str(tmp_path))
    assert (code, err) == (
        3,
        f"rxstream replay: error: IsADirectoryError: Is a directory: {tmp_path}\n",
    )


def test_a_file_that_is_not_a_stream_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("this is not a stream\n")
    code, err = _run(capsys, "replay", str(junk), "--plain")
    assert (code, err) == (
        1,
        "rxstream replay: error: IncompleteStreamError: the stream ended before "
        "message_start, without message_stop\n",
    )


def test_a_truncated_recording_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    recording = tmp_path / "whole.sse"
    assert main(["record", str(recording)]) == 0
    cut = tmp_path / "cut.sse"
    cut.write_bytes(recording.read_bytes()[:1500])
    capsys.readouterr()
    code, err = _run(capsys, "replay", str(cut), "--instant", "--plain")
    assert (code, err) == (
        1,
        "rxstream replay: error: IncompleteStreamError: the stream ended early, without "
        "message_stop\n",
    )


def test_an_in_stream_error_names_its_class_and_request_id_with_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    recording = tmp_path / "overloaded.sse"
    recording.write_bytes(_ERROR_EVENT)
    code, err = _run(capsys, "replay", str(recording), "--plain")
    assert (code, err) == (
        1,
        _OVERLOADED_LINE,
    )


def test_debug_shows_the_traceback_then_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    recording = tmp_path / "overloaded.sse"
    recording.write_bytes(_ERROR_EVENT)
    code, err = _run(capsys, "replay", str(recording), "--plain", "--debug")
    assert code == 1
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith(_OVERLOADED_LINE)


def test_recording_into_a_missing_directory_fails_before_any_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run(capsys, "record", "/no/such/dir/x.sse")
    assert (code, err) == (
        3,
        "rxstream record: error: FileNotFoundError: No such directory: /no/such/dir\n",
    )


def test_a_bad_option_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "replay", "x.sse", "--speed", "fast")
    assert (code, err) == (
        2,
        "rxstream replay: error: argument --speed: not a number: 'fast' "
        "(see rxstream replay --help)\n",
    )
    code, err = _run(capsys, "replay", "x.sse", "--speed", "0")
    assert code == 2
    assert err.count("\n") == 1


def test_an_unknown_command_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "play")
    assert code == 2
    assert err.startswith("rxstream: error: argument COMMAND: invalid choice: 'play'")
    assert err.count("\n") == 1


def test_live_without_an_api_key_is_one_line_and_exit_3() -> None:
    done = _rxstream("demo", "--live")
    assert (done.returncode, done.stderr) == (
        3,
        "rxstream demo: error: --live needs ANTHROPIC_API_KEY in the environment\n",
    )


def test_the_server_down_is_one_line_and_exit_1() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"}
    done = _rxstream("demo", "--live", env=env)
    assert done.returncode == 1
    assert done.stderr.startswith("rxstream demo: error: APIConnectionError: ")
    assert done.stderr.count("\n") == 1, done.stderr


def test_the_emulator_on_a_port_in_use_is_one_line_and_exit_3() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _rxstream("emulator", "--port", str(port))
    assert done.returncode == 3
    assert done.stderr.startswith("rxstream emulator: error: OSError: ")
    assert "address already in use" in done.stderr.lower()
    assert done.stderr.count("\n") == 1, done.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"rxstream {rxstream.__version__}\n"


def test_every_option_and_argument_has_help_showing_its_default() -> None:
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"demo", "replay", "record", "emulator", "serve"}
    for name, command in commands.choices.items():
        shown = command.format_help()
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"{name} {action.dest} has no help"
            if action.default is None and action.option_strings:
                assert "default: " in action.help, f"{name} {action.dest}: what is the default?"
            elif action.option_strings and action.default not in (argparse.SUPPRESS, False):
                assert f"(default: {action.default})" in " ".join(shown.split()), (name, action)


def test_the_exit_codes_are_documented_in_the_help() -> None:
    shown = _parser().format_help()
    for code, meaning in EXIT_CODES.items():
        assert f"{code:<4} {meaning}" in shown


def test_the_readme_documents_every_exit_code() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for code in EXIT_CODES:
        assert f"\n| {code} | " in readme


def test_a_rejected_key_names_the_status_error_and_its_request_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(api_key="the-right-key") as emulator:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", emulator.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "a-wrong-key")
        code, err = _run(capsys, "demo", "--live", "--plain")
    assert code == 1
    assert re.fullmatch(
        r"rxstream demo: error: AuthenticationError: .+ \(request id req_\w+\)\n", err
    ), err
    assert "a-wrong-key" not in err


def test_demo_with_options_it_sets_itself_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = _run(capsys, "record", str(tmp_path / "x.sse"), "--demo", "--thinking")
    assert (code, err) == (
        2,
        "rxstream record: error: --demo sets the tools, thinking and max tokens itself\n",
    )
    assert not (tmp_path / "x.sse").exists()


def test_a_command_that_exits_with_a_message_is_one_line_and_exit_3(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def refuses(_: argparse.Namespace) -> int:
        raise SystemExit("--api-key-env KEY: that variable is not set")

    args = argparse.Namespace(command="emulator", debug=False, run=refuses)
    assert _run_command(args) == 3
    assert capsys.readouterr().err == (
        "rxstream emulator: error: --api-key-env KEY: that variable is not set\n"
    )
