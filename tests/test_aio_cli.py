"""``python -m wslearn connect``, run in a subprocess against a server in the test's loop."""

from __future__ import annotations

import asyncio
import sys

from conftest import echo, run

from wslearn.aio import WebSocket, serve
from wslearn.errors import ConnectionClosed


async def start_cli(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wslearn",
        "connect",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 10)
    return line.decode().rstrip("\n")


async def finish(process: asyncio.subprocess.Process, data: bytes = b"") -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(data), 15)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_lines_are_sent_and_replies_printed_then_close_1000_and_exit_0() -> None:
    closes: list[ConnectionClosed] = []

    async def handler(ws: WebSocket) -> None:
        try:
            await echo(ws)
        finally:
            await ws.wait_closed()
            assert ws.closed is not None
            closes.append(ws.closed)

    async def main() -> None:
        async with await serve(handler) as server:
            cli = await start_cli(server.url + "/ws")
            assert cli.stdin is not None
            cli.stdin.write(b"hello\n")
            assert await read_line(cli) == "< hello"
            cli.stdin.write("wörld ✓\n".encode())
            assert await read_line(cli) == "< wörld ✓"
            code, out, err = await finish(cli)  # end of input
            assert code == 0
            assert out == ""
            assert "closed: 1000" in err
            while not closes:
                await asyncio.sleep(0.01)

    run(main())
    assert (closes[0].code, closes[0].by) == (1000, "remote")


def test_subprotocol_and_headers_reach_the_server() -> None:
    async def handler(ws: WebSocket) -> None:
        assert ws.request is not None
        await ws.send(f"subprotocol={ws.subprotocol} x-user={ws.request.headers.get('X-User')}")
        await ws.send(b"\x00\x01")
        await echo(ws)

    async def main() -> None:
        async with await serve(handler, subprotocols=["superchat"]) as server:
            cli = await start_cli(
                server.url, "--subprotocol", "chat", "--subprotocol", "superchat", "--header", "X-User: ada"
            )
            assert await read_line(cli) == "< subprotocol=superchat x-user=ada"
            assert await read_line(cli) == "< (binary, 2 bytes) 00 01"
            code, _, err = await finish(cli)
            assert code == 0
            assert "subprotocol: superchat" in err

    run(main())


def test_trace_shows_the_handshake_and_each_frame_as_hex() -> None:
    async def main() -> None:
        async with await serve(echo) as server:
            # secrets long enough that a random mask in a hexdump's text column cannot spell them
            cli = await start_cli(
                server.url.replace("//", "//ada:pw-s3cr3t-4f1c@") + "/ws?token=hidden-7a2e9b", "--trace"
            )
            assert cli.stdin is not None
            cli.stdin.write(b"hello\n")
            assert await read_line(cli) == "< hello"
            code, _, err = await finish(cli)
            assert code == 0
            assert "GET /ws?token=[redacted] HTTP/1.1" in err  # the request, redacted
            assert "HTTP/1.1 101 Switching Protocols" in err
            assert "0000  81 85" in err  # client TEXT frame: FIN + opcode 1, MASK + length 5
            assert "0000  81 05 68 65 6c 6c 6f" in err  # server's answer, unmasked "hello"
            assert "0000  88 82" in err  # our Close frame (masked, 2 bytes: 1000)
            assert "hidden-7a2e9b" not in err and "pw-s3cr3t-4f1c" not in err
            assert "Authorization: [redacted]" in err

    run(main())


def test_wait_keeps_printing_after_end_of_input() -> None:
    async def handler(ws: WebSocket) -> None:
        await ws.recv()
        await asyncio.sleep(0.3)
        await ws.send("late reply")
        await echo(ws)

    async def main() -> None:
        async with await serve(handler) as server:
            cli = await start_cli(server.url, "--wait", "3")
            code, out, _ = await finish(cli, b"first\n")
            assert code == 0
            assert "< late reply" in out

    run(main())


def test_server_closing_with_an_error_code_exits_1() -> None:
    async def handler(ws: WebSocket) -> None:
        await ws.recv()
        raise RuntimeError("handler bug")

    async def main() -> None:
        async with await serve(handler) as server:
            cli = await start_cli(server.url)
            assert cli.stdin is not None
            cli.stdin.write(b"trigger\n")
            # stdin stays open: the client must notice by itself that the server closed.
            code = await asyncio.wait_for(cli.wait(), 15)
            assert code == 1
            _, _, err = await finish(cli)
            assert "1011" in err

    run(main())


def test_refused_handshake_and_unreachable_server_exit_1() -> None:
    async def main() -> None:
        async with await serve(echo, origin_allowed=lambda origin: False) as server:
            cli = await start_cli(server.url)
            code, _, err = await finish(cli)
            assert code == 1
            assert "handshake refused: 403" in err
        cli = await start_cli(server.url)  # the server is gone now
        code, _, err = await finish(cli)
        assert code == 1
        assert "cannot connect" in err

    run(main())


def test_bad_header_argument_is_a_usage_error() -> None:
    async def main() -> None:
        cli = await start_cli("ws://127.0.0.1:1/", "--header", "no colon here")
        code, _, err = await finish(cli)
        assert code == 2
        assert "Name: value" in err

    run(main())


def test_piped_lines_all_get_their_answers_before_the_close() -> None:
    # `printf 'a\nb\n' | python -m wslearn connect URL`: the input ends at once, but the
    # client waits a moment (--wait, 0.5 s by default) for the answers before closing.
    async def main() -> None:
        async with await serve(echo) as server:
            cli = await start_cli(server.url + "/ws")
            code, out, _ = await finish(cli, b"Hello, WebSocket!\nsecond line\n")
            assert code == 0
            assert out.splitlines() == ["< Hello, WebSocket!", "< second line"]

    run(main())
