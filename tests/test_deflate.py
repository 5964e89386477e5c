"""permessage-deflate (RFC 7692): negotiation, compression, the size limit, and interop.

The interop half runs the websockets library's own permessage-deflate against ours: its
factories negotiate with our headers both ways, and what one side compresses the other
decompresses, across several messages so that context takeover is exercised.
"""

from __future__ import annotations

import itertools
import random
import tracemalloc
import zlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import NegotiationError
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate as WsPerMessageDeflate,
)
from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode as WsOpcode
from websockets.headers import build_extension, parse_extension

from wslearn import deflate
from wslearn.deflate import (
    EMPTY_BLOCK_TAIL,
    OUTPUT_CHUNK,
    DeflateOffer,
    DeflateParameters,
    ExtensionOffer,
    PerMessageDeflate,
    ServerDeflateConfig,
    accept,
    check_response,
    offer,
    parse_extensions,
)
from wslearn.errors import HandshakeError, ProtocolError
from wslearn.frames import Frame, Opcode

P = DeflateParameters
WINDOW_BITS = range(8, 16)

# --- The header (RFC 6455 §9.1) -------------------------------------------------------


def test_parse_extensions_keeps_order_across_headers() -> None:
    parsed = parse_extensions(
        [
            'permessage-deflate; client_max_window_bits; server_max_window_bits="10" , x-foo',
            ",permessage-deflate;server_no_context_takeover,",
        ]
    )
    assert parsed == [
        ExtensionOffer(
            "permessage-deflate", (("client_max_window_bits", None), ("server_max_window_bits", "10"))
        ),
        ExtensionOffer("x-foo"),
        ExtensionOffer("permessage-deflate", (("server_no_context_takeover", None),)),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "permessage-deflate;",
        "permessage-deflate; =10",
        "permessage-deflate; server_max_window_bits=",
        "permessage-deflate server_no_context_takeover",
        'permessage-deflate; server_max_window_bits="1 0"',  # the unquoted value must be a token
        'permessage-deflate; server_max_window_bits="10',
        "permessage-deflate; a=b=c",
        "permessage deflate",
    ],
)
def test_malformed_header(header: str) -> None:
    with pytest.raises(ValueError):
        parse_extensions([header])
    with pytest.raises(HandshakeError) as server_side:
        accept([header])
    assert server_side.value.status == 400
    with pytest.raises(HandshakeError, match="malformed"):
        check_response([header])


def test_offer_headers() -> None:
    assert offer() == "permessage-deflate; client_max_window_bits"
    assert (
        offer(DeflateOffer(True, True, 10, 12), DeflateOffer(client_max_window_bits=None))
        == "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        " server_max_window_bits=10; client_max_window_bits=12, permessage-deflate"
    )
    with pytest.raises(ValueError):
        DeflateOffer(server_max_window_bits=16)
    with pytest.raises(ValueError):
        ServerDeflateConfig(client_max_window_bits=7)


# --- The server's side of the negotiation (RFC 7692 §5, §7) ------------------------------

ACCEPTED = [
    # (offers as received, server config, response header, agreed parameters)
    ("permessage-deflate", ServerDeflateConfig(), "permessage-deflate", P()),
    ("permessage-deflate; client_max_window_bits", ServerDeflateConfig(), "permessage-deflate", P()),
    (
        "permessage-deflate; client_max_window_bits",
        ServerDeflateConfig(client_max_window_bits=10),
        "permessage-deflate; client_max_window_bits=10",
        P(client_max_window_bits=10),
    ),
    # the client did not offer client_max_window_bits: its window cannot be capped (§7.1.2.2)
    ("permessage-deflate", ServerDeflateConfig(client_max_window_bits=10), "permessage-deflate", P()),
    (
        "permessage-deflate; client_max_window_bits=12",
        ServerDeflateConfig(),
        "permessage-deflate; client_max_window_bits=12",
        P(client_max_window_bits=12),
    ),
    (
        "permessage-deflate; client_max_window_bits=12",
        ServerDeflateConfig(client_max_window_bits=9),
        "permessage-deflate; client_max_window_bits=9",
        P(client_max_window_bits=9),
    ),
    (
        "permessage-deflate; server_max_window_bits=10",
        ServerDeflateConfig(),
        "permessage-deflate; server_max_window_bits=10",
        P(server_max_window_bits=10),
    ),
    (
        "permessage-deflate; server_max_window_bits=10",
        ServerDeflateConfig(server_max_window_bits=12),
        "permessage-deflate; server_max_window_bits=10",
        P(server_max_window_bits=10),
    ),
    (
        "permessage-deflate",
        ServerDeflateConfig(server_max_window_bits=12),
        "permessage-deflate; server_max_window_bits=12",
        P(server_max_window_bits=12),
    ),
    # 8 is honoured: zlib compresses with 9, whose distances fit in 256 bytes
    (
        "permessage-deflate; server_max_window_bits=8",
        ServerDeflateConfig(),
        "permessage-deflate; server_max_window_bits=8",
        P(server_max_window_bits=8),
    ),
    (
        'permessage-deflate; server_max_window_bits="9"',
        ServerDeflateConfig(),
        "permessage-deflate; server_max_window_bits=9",
        P(server_max_window_bits=9),
    ),
    (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ServerDeflateConfig(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        P(server_no_context_takeover=True, client_no_context_takeover=True),
    ),
    (
        "permessage-deflate",
        ServerDeflateConfig(server_no_context_takeover=True, client_no_context_takeover=True),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        P(server_no_context_takeover=True, client_no_context_takeover=True),
    ),
    # other extensions are skipped; the first acceptable offer wins (§5)
    ("x-webkit-deflate-frame, permessage-deflate", ServerDeflateConfig(), "permessage-deflate", P()),
    (
        "permessage-deflate; server_max_window_bits=12, permessage-deflate",
        ServerDeflateConfig(),
        "permessage-deflate; server_max_window_bits=12",
        P(server_max_window_bits=12),
    ),
    (
        "permessage-deflate; x-unknown, permessage-deflate; server_max_window_bits=11",
        ServerDeflateConfig(),
        "permessage-deflate; server_max_window_bits=11",
        P(server_max_window_bits=11),
    ),
]


@pytest.mark.parametrize(("offers", "config", "response", "agreed"), ACCEPTED)
def test_server_accepts(offers: str, config: ServerDeflateConfig, response: str, agreed: P) -> None:
    assert accept([offers], config) == (response, agreed)
    # the client reading that response agrees with the server
    sent = [_as_offer(one) for one in parse_extensions([offers]) if one.name == "permessage-deflate"]
    valid = [one for one in sent if one is not None]
    assert check_response([response], valid) == agreed


def _as_offer(extension: ExtensionOffer) -> DeflateOffer | None:
    """The DeflateOffer a header element stands for, or None when it is not a valid one."""
    if accept([str(extension)]) is None:
        return None
    params = dict(extension.params)
    client = params.get("client_max_window_bits", "absent")
    server = params.get("server_max_window_bits")
    return DeflateOffer(
        "server_no_context_takeover" in params,
        "client_no_context_takeover" in params,
        None if server is None else int(server),
        None if client == "absent" else True if client is None else int(client),
    )


def test_offers_across_several_headers() -> None:
    headers = [
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; client_no_context_takeover",
    ]
    assert accept(headers) == (
        "permessage-deflate; client_no_context_takeover",
        P(client_no_context_takeover=True),
    )


REFUSED = [
    "x-webkit-deflate-frame",
    "permessage-deflate; x-unknown",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; client_no_context_takeover=true",
    "permessage-deflate; server_max_window_bits",  # needs a value in an offer too
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=09",  # "without leading zeroes" (§7.1.2.1)
    "permessage-deflate; server_max_window_bits=+9",
    "permessage-deflate; client_max_window_bits=ten",
    "permessage-deflate; client_max_window_bits=16",
    "permessage-deflate; client_max_window_bits=0",
]


@pytest.mark.parametrize("offers", REFUSED)
def test_server_declines(offers: str) -> None:
    assert accept([offers]) is None
    assert accept([offers, "permessage-deflate"]) == ("permessage-deflate", P())  # the next offer


def test_no_header_no_compression() -> None:
    assert accept([]) is None
    assert check_response([]) is None


# --- The client's side: responses it must fail (RFC 7692 §7) -----------------------------

CLIENT_ACCEPTS = [
    # (our offers, the response, what we agree on)
    ((DeflateOffer(),), "permessage-deflate", P()),
    ((DeflateOffer(),), "permessage-deflate; server_no_context_takeover", P(server_no_context_takeover=True)),
    ((DeflateOffer(),), "permessage-deflate; client_no_context_takeover", P(client_no_context_takeover=True)),
    ((DeflateOffer(),), "permessage-deflate; server_max_window_bits=9", P(server_max_window_bits=9)),
    ((DeflateOffer(),), "permessage-deflate; client_max_window_bits=8", P(client_max_window_bits=8)),
    ((DeflateOffer(),), 'permessage-deflate; client_max_window_bits="11"', P(client_max_window_bits=11)),
    ((DeflateOffer(client_max_window_bits=12),), "permessage-deflate", P(client_max_window_bits=12)),
    (
        (DeflateOffer(client_max_window_bits=12),),
        "permessage-deflate; client_max_window_bits=10",
        P(client_max_window_bits=10),
    ),
    (
        (DeflateOffer(server_max_window_bits=10),),
        "permessage-deflate; server_max_window_bits=10",
        P(server_max_window_bits=10),
    ),
    (
        (DeflateOffer(server_max_window_bits=10),),
        "permessage-deflate; server_max_window_bits=8",
        P(server_max_window_bits=8),
    ),
    # our hint client_no_context_takeover holds even when the server leaves it out (§7.1.1.2)
    (
        (DeflateOffer(client_no_context_takeover=True),),
        "permessage-deflate",
        P(client_no_context_takeover=True),
    ),
    # several offers: the response fits the second one
    (
        (DeflateOffer(server_max_window_bits=10), DeflateOffer()),
        "permessage-deflate",
        P(),
    ),
]


@pytest.mark.parametrize(("offers", "response", "agreed"), CLIENT_ACCEPTS)
def test_client_accepts(offers: tuple[DeflateOffer, ...], response: str, agreed: P) -> None:
    assert check_response([response], offers) == agreed


CLIENT_FAILS = [
    ((DeflateOffer(),), "x-foo", "did not offer"),
    ((DeflateOffer(),), "permessage-deflate, x-foo", "did not offer"),
    ((DeflateOffer(),), "permessage-deflate, permessage-deflate", "more than once"),
    ((DeflateOffer(),), "permessage-deflate; x-unknown", "not a parameter"),
    ((DeflateOffer(),), "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10", "twice"),
    ((DeflateOffer(),), "permessage-deflate; server_no_context_takeover=yes", "takes no value"),
    ((DeflateOffer(),), "permessage-deflate; client_max_window_bits", "needs a value"),
    ((DeflateOffer(),), "permessage-deflate; server_max_window_bits", "needs a value"),
    ((DeflateOffer(),), "permessage-deflate; server_max_window_bits=7", "from 8 to 15"),
    ((DeflateOffer(),), "permessage-deflate; client_max_window_bits=16", "from 8 to 15"),
    ((DeflateOffer(),), "permessage-deflate; client_max_window_bits=010", "from 8 to 15"),
    (
        (DeflateOffer(client_max_window_bits=None),),
        "permessage-deflate; client_max_window_bits=10",
        "not offer",
    ),
    (
        (DeflateOffer(client_max_window_bits=10),),
        "permessage-deflate; client_max_window_bits=11",
        "more than",
    ),
    ((DeflateOffer(server_max_window_bits=10),), "permessage-deflate", "no answer"),
    (
        (DeflateOffer(server_max_window_bits=10),),
        "permessage-deflate; server_max_window_bits=11",
        "more than",
    ),
    ((DeflateOffer(server_no_context_takeover=True),), "permessage-deflate", "lacks it"),
    (
        (DeflateOffer(server_max_window_bits=9), DeflateOffer(server_no_context_takeover=True)),
        "permessage-deflate",
        "lacks it",
    ),
    ((DeflateOffer(),), "permessage-deflate; ", "malformed"),
]


@pytest.mark.parametrize(("offers", "response", "why"), CLIENT_FAILS)
def test_client_fails(offers: tuple[DeflateOffer, ...], response: str, why: str) -> None:
    with pytest.raises(HandshakeError, match=why):
        check_response([response], offers)


# --- Compression round trips (RFC 7692 §7.2) ----------------------------------------------

params_strategy = st.builds(
    DeflateParameters,
    st.booleans(),
    st.booleans(),
    st.sampled_from(WINDOW_BITS),
    st.sampled_from(WINDOW_BITS),
)
# Messages that compress (repeated words) and messages that do not (random bytes).
words = st.lists(st.binary(min_size=1, max_size=20), min_size=1, max_size=8)
compressible = st.tuples(words, st.lists(st.integers(0, 7), max_size=400)).map(
    lambda pair: b"".join(pair[0][i % len(pair[0])] for i in pair[1])
)
message_strategy = st.one_of(compressible, st.binary(max_size=2000))


TEXT = b"".join(b'{"user": "ada", "text": "hello, room %d"} ' % i for i in range(20))


def pair(params: P) -> tuple[PerMessageDeflate, PerMessageDeflate]:
    return PerMessageDeflate(params, "client", max_size=None), PerMessageDeflate(
        params, "server", max_size=None
    )


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` split at the given positions (taken modulo its length)."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)] or [b""]


def frames_of(payload: bytes, rsv1: bool, cuts: list[int], opcode: Opcode = Opcode.BINARY) -> list[Frame]:
    """A message's payload as frames: RSV1 on the first only (§6.1)."""
    pieces = cut(payload, cuts)
    return [
        Frame(
            opcode if i == 0 else Opcode.CONTINUATION, piece, fin=i == len(pieces) - 1, rsv1=rsv1 and i == 0
        )
        for i, piece in enumerate(pieces)
    ]


@settings(max_examples=60, deadline=None)
@given(
    params_strategy,
    st.booleans(),
    st.lists(st.tuples(message_strategy, st.lists(st.integers(0, 5000), max_size=4)), min_size=1, max_size=5),
)
def test_round_trip_across_frames(
    params: P, client_sends: bool, messages: list[tuple[bytes, list[int]]]
) -> None:
    client, server = pair(params)
    sender, receiver = (client, server) if client_sends else (server, client)
    for message, cuts in messages:
        payload, rsv1 = sender.encode(message)
        assert rsv1
        assert not payload.endswith(EMPTY_BLOCK_TAIL) or len(payload) < 4 or message == b""
        decoded = [receiver.decode(frame) for frame in frames_of(payload, rsv1, cuts)]
        assert b"".join(frame.payload for frame in decoded) == message
        assert not any(frame.rsv1 for frame in decoded)


@settings(max_examples=60, deadline=None)
@given(
    params_strategy,
    st.lists(st.tuples(message_strategy, st.lists(st.integers(0, 5000), max_size=6)), min_size=1, max_size=5),
    st.booleans(),
)
def test_decoder_fed_in_any_pieces(params: P, messages: list[tuple[bytes, list[int]]], final: bool) -> None:
    # The decoder does not care where a frame's payload is cut: byte by byte works too.
    # The tail comes back with finish(), or with final=True on the last piece.
    client, server = pair(params)
    for message, cuts in messages:
        payload, _ = client.encode(message)
        decoder = server.message_decoder()
        *pieces, last = cut(payload, cuts)
        out = b"".join(decoder.decode(piece) for piece in pieces)
        out += decoder.decode(last, final=True) if final else decoder.decode(last) + decoder.finish()
        assert out == message
        assert decoder.size == len(message)


@settings(max_examples=60, deadline=None)
@given(
    params_strategy,
    st.lists(st.tuples(message_strategy, st.lists(st.integers(0, 5000), max_size=4)), min_size=1, max_size=4),
)
def test_fragmented_send(params: P, messages: list[tuple[bytes, list[int]]]) -> None:
    # A message sent in fragments: each fragment compressed and flushed on its own.
    client, server = pair(params)
    for message, cuts in messages:
        fragments = cut(message, cuts)
        encoder = server.message_encoder()
        payloads = [encoder.encode(f, fin=i == len(fragments) - 1) for i, f in enumerate(fragments)]
        frames = [
            Frame(Opcode.TEXT if i == 0 else Opcode.CONTINUATION, p, fin=i == len(payloads) - 1, rsv1=i == 0)
            for i, p in enumerate(payloads)
        ]
        assert b"".join(client.decode(frame).payload for frame in frames) == message


def test_a_large_message_in_one_piece() -> None:
    # 2 MB that compress to a few KB: zlib hands the output out in many full chunks, and
    # the last ones come after all the input is consumed.
    message = TEXT * 2500
    client, server = pair(P())
    payload, _ = client.encode(message)
    assert len(payload) < len(message) // 100
    assert server.decode(Frame(Opcode.BINARY, payload, rsv1=True)).payload == message
    # and a payload larger than the slices zlib is fed (random bytes hardly compress)
    message = random.Random(5).randbytes(3 * deflate.INPUT_CHUNK)
    payload, _ = client.encode(message)
    assert len(payload) > 2 * deflate.INPUT_CHUNK
    assert server.decode(Frame(Opcode.BINARY, payload, rsv1=True)).payload == message


@pytest.mark.parametrize("output_chunk", [1, 5, 300])
def test_each_piece_gives_all_its_output(monkeypatch: pytest.MonkeyPatch, output_chunk: int) -> None:
    # zlib hands out at most one chunk per call and may keep output back after taking all
    # the input (halfway through a match): the decoder keeps asking, so each piece gives
    # everything it can, as much as zlib without a limit would.
    monkeypatch.setattr(deflate, "OUTPUT_CHUNK", output_chunk)
    client, server = pair(P())
    reference = zlib.decompressobj(wbits=-15)
    for message in (TEXT, bytes(5000), TEXT):
        payload, _ = client.encode(message)
        decoder = server.message_decoder()
        for i in range(0, len(payload), 3):
            assert decoder.decode(payload[i : i + 3]) == reference.decompress(payload[i : i + 3])
        assert decoder.finish() == reference.decompress(EMPTY_BLOCK_TAIL)
        assert decoder.size == len(message)


def test_byte_by_byte_with_the_smallest_window() -> None:
    # zlib cannot compress raw DEFLATE with an 8-bit window and compresses with 9 instead;
    # a 256-byte window must still decode it. Fed byte by byte, the decoder's window is
    # all it has: a distance beyond 256 bytes would fail.
    rnd = random.Random(7)
    vocabulary = [rnd.randbytes(rnd.randint(3, 40)) for _ in range(30)]
    message = b"".join(rnd.choice(vocabulary) for _ in range(3000))
    client, server = pair(P(server_max_window_bits=8, client_max_window_bits=8))
    payload, _ = server.encode(message)
    decoder = client.message_decoder()
    assert (
        b"".join(decoder.decode(payload[i : i + 1]) for i in range(len(payload))) + decoder.finish()
        == message
    )


def test_a_window_larger_than_agreed_fails() -> None:
    # The counter-check of the test above: a peer that compresses with 10 bits when 8 were
    # agreed produces distances the 8-bit decoder cannot follow.
    rnd = random.Random(7)
    vocabulary = [rnd.randbytes(rnd.randint(3, 40)) for _ in range(30)]
    message = b"".join(rnd.choice(vocabulary) for _ in range(3000))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -10)
    payload = compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH)
    client = PerMessageDeflate(P(server_max_window_bits=8), "client")
    decoder = client.message_decoder()
    with pytest.raises(ProtocolError) as error:
        for i in range(len(payload)):
            decoder.decode(payload[i : i + 1])
    assert error.value.close_code == 1002


@pytest.mark.parametrize("no_context_takeover", [False, True])
def test_context_takeover(no_context_takeover: bool) -> None:
    # With context takeover the second copy of a message refers back to the first and
    # shrinks to a few bytes; without it, every message is compressed alone (§7.1.1).
    params = P(server_no_context_takeover=no_context_takeover, client_no_context_takeover=no_context_takeover)
    client, server = pair(params)
    sizes = []
    for _ in range(3):
        payload, _ = client.encode(TEXT)
        sizes.append(len(payload))
        assert server.decode(Frame(Opcode.TEXT, payload, rsv1=True)).payload == TEXT
    if no_context_takeover:
        assert sizes[0] == sizes[1] == sizes[2]
    else:
        assert sizes[1] < 20 < sizes[0]


def test_context_is_kept_per_direction() -> None:
    # Each direction has its own window: the server's takeover does not depend on the client's.
    client, server = pair(P(client_no_context_takeover=True))
    up = [len(client.encode(TEXT)[0]) for _ in range(2)]
    down = [len(server.encode(TEXT)[0]) for _ in range(2)]
    assert up[0] == up[1]
    assert down[1] < down[0]


def test_rfc_example_hello() -> None:
    # RFC 7692 §7.2.3.1 and §7.2.3.2: "Hello" twice with context takeover.
    client, server = pair(P())
    assert server.encode(b"Hello") == (bytes.fromhex("f248cdc9c90700"), True)
    assert server.encode(b"Hello") == (bytes.fromhex("f200110000"), True)
    for payload in ("f248cdc9c90700", "f200110000"):
        assert client.decode(Frame(Opcode.TEXT, bytes.fromhex(payload), rsv1=True)).payload == b"Hello"


@pytest.mark.parametrize(
    "payload",
    [
        "000500faff48656c6c6f00",  # §7.2.3.3: a stored block, no compression
        "f348cdc9c9070000",  # §7.2.3.4: a block with BFINAL set
        "f24805000000ffffcac9c90700",  # §7.2.3.5: two blocks in one message
    ],
)
def test_rfc_examples_other_blocks(payload: str) -> None:
    client = PerMessageDeflate(P(), "client")
    for _ in range(2):  # after a BFINAL block, the next message starts a new stream
        assert client.decode(Frame(Opcode.TEXT, bytes.fromhex(payload), rsv1=True)).payload == b"Hello"


# --- RSV1 (RFC 7692 §6) -------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [Opcode.PING, Opcode.PONG, Opcode.CLOSE])
def test_rsv1_on_a_control_frame(opcode: Opcode) -> None:
    client = PerMessageDeflate(P(), "client")
    ping = Frame(opcode, b"\x03\xe8")
    assert client.decode(ping) is ping
    with pytest.raises(ProtocolError, match="control frames are never compressed") as error:
        client.decode(Frame(opcode, b"\x03\xe8", rsv1=True))
    assert error.value.close_code == 1002


@pytest.mark.parametrize("first_compressed", [False, True])
def test_rsv1_on_a_continuation_frame(first_compressed: bool) -> None:
    client, server = pair(P())
    payload, _ = server.encode(b"hello")
    client.decode(
        Frame(Opcode.TEXT, payload if first_compressed else b"hel", fin=False, rsv1=first_compressed)
    )
    with pytest.raises(ProtocolError, match="continuation") as error:
        client.decode(Frame(Opcode.CONTINUATION, b"lo", rsv1=True))
    assert error.value.close_code == 1002


def test_uncompressed_messages_pass_and_keep_the_context() -> None:
    # RSV1 clear: a message sent as it is (§6.1). It does not disturb the window either.
    client, server = pair(P())
    first, _ = server.encode(TEXT)
    assert client.decode(Frame(Opcode.TEXT, first, rsv1=True)).payload == TEXT
    plain = Frame(Opcode.BINARY, b"\x00\xff raw", fin=False)
    assert client.decode(plain) is plain
    assert client.decode(Frame(Opcode.CONTINUATION, b"more")).payload == b"more"
    second, _ = server.encode(TEXT)
    assert client.decode(Frame(Opcode.TEXT, second, rsv1=True)).payload == TEXT


def test_compress_min_size() -> None:
    sender = PerMessageDeflate(P(), "server", compress_min_size=16)
    assert sender.encode(b"short") == (b"short", False)
    payload, rsv1 = sender.encode(TEXT)
    assert rsv1
    assert len(payload) < len(TEXT)


def test_encoder_is_used_once() -> None:
    encoder = PerMessageDeflate(P(), "client").message_encoder()
    encoder.encode(b"a", fin=True)
    with pytest.raises(RuntimeError):
        encoder.encode(b"b", fin=True)


def test_corrupt_data_is_a_protocol_error() -> None:
    client = PerMessageDeflate(P(), "client")
    with pytest.raises(ProtocolError, match="not valid DEFLATE") as error:
        client.decode(Frame(Opcode.BINARY, b"\xff\xff\xff\xff", rsv1=True))
    assert error.value.close_code == 1002


# --- The size limit applies to the decompressed message (RFC 6455 §10.4, RFC 7692 §8) ------


def test_limit_exact_and_one_more() -> None:
    server = PerMessageDeflate(P(), "server")
    limit = 1000
    client = PerMessageDeflate(P(), "client", max_size=limit)
    payload, _ = server.encode(b"a" * limit)
    assert client.decode(Frame(Opcode.BINARY, payload, rsv1=True)).payload == b"a" * limit
    payload, _ = server.encode(b"a" * (limit + 1))
    with pytest.raises(ProtocolError, match="limit of 1000 bytes") as error:
        client.decode(Frame(Opcode.BINARY, payload, rsv1=True))
    assert error.value.close_code == 1009


def test_limit_counts_the_whole_message_across_frames() -> None:
    server = PerMessageDeflate(P(), "server")
    client = PerMessageDeflate(P(), "client", max_size=1000)
    encoder = server.message_encoder()
    first = client.decode(Frame(Opcode.TEXT, encoder.encode(b"x" * 600, fin=False), fin=False, rsv1=True))
    assert first.payload == b"x" * 600
    with pytest.raises(ProtocolError) as error:
        client.decode(Frame(Opcode.CONTINUATION, encoder.encode(b"x" * 600, fin=True)))
    assert error.value.close_code == 1009


def bomb(gib: int = 1) -> bytes:
    """Raw DEFLATE that inflates to ``gib`` GiB of zeros, about 1 MB per GiB.

    One MiB of zeros is compressed once and closed with a full flush, which leaves the
    block byte-aligned and independent of what came before: repeated 1024 times per GiB,
    it is a valid stream.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(2**20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return (block * 1024 * gib)[: -len(EMPTY_BLOCK_TAIL)]


def test_the_bomb_is_real() -> None:
    # The same construction, 8 MiB of it, does inflate to what it claims.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(2**20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert zlib.decompressobj(wbits=-15).decompress(block * 8) == bytes(8 * 2**20)


def test_decompression_bomb_is_refused_early() -> None:
    payload = bomb()
    assert len(payload) < 1_100_000  # about 1 MB that claims to be 1 GiB
    limit = 2**20
    client = PerMessageDeflate(P(), "client", max_size=limit)
    decoder = client.message_decoder()
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError) as error:
            decoder.decode(payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.value.close_code == 1009
    assert limit < decoder.size <= limit + 1  # it stopped right after the limit
    # Held at the peak: the output so far (the limit) plus one chunk, zlib's window
    # (32 KiB) and state, a slice of input. Far from the 1 GiB inflating it all would take.
    assert peak < limit + OUTPUT_CHUNK + 512 * 1024, peak


def test_decompression_bomb_through_frames() -> None:
    # The same bomb as the Protocol will see it: one frame, RSV1 set.
    client = PerMessageDeflate(P(), "client", max_size=2**16)
    with pytest.raises(ProtocolError) as error:
        client.decode(Frame(Opcode.BINARY, bomb(), rsv1=True))
    assert error.value.close_code == 1009


# --- Interop with the websockets library --------------------------------------------------

OPTIONAL_BITS: list[int | None] = [None, *WINDOW_BITS]


def ws_headers(factory_params: list[tuple[str, str | None]]) -> str:
    return build_extension([("permessage-deflate", factory_params)])  # type: ignore[list-item]


def ws_params(header: str) -> list[tuple[str, str | None]]:
    (name, params), *rest = parse_extension(header)
    assert name == "permessage-deflate"
    assert not rest
    return list(params)


def ws_agrees(ext: WsPerMessageDeflate, agreed: P, our_role: str) -> None:
    """The websockets extension (the other endpoint) runs the configuration we agreed on."""
    if our_role == "server":  # websockets is the client: local means client
        local = (agreed.client_no_context_takeover, agreed.client_max_window_bits)
        remote = (agreed.server_no_context_takeover, agreed.server_max_window_bits)
    else:
        local = (agreed.server_no_context_takeover, agreed.server_max_window_bits)
        remote = (agreed.client_no_context_takeover, agreed.client_max_window_bits)
    assert (ext.local_no_context_takeover, ext.local_max_window_bits) == local
    assert (ext.remote_no_context_takeover, ext.remote_max_window_bits) == remote


FLAGS = list(itertools.product([False, True], repeat=2))
# Every combination of each side's parameters...
WS_CLIENTS = [
    ClientPerMessageDeflateFactory(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb in OPTIONAL_BITS
    for cmwb in [None, True, *range(9, 16)]  # websockets' client does not offer 8
]
OUR_CONFIGS = [
    ServerDeflateConfig(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb in OPTIONAL_BITS
    for cmwb in OPTIONAL_BITS
]
OUR_OFFERS = [
    DeflateOffer(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb in OPTIONAL_BITS
    for cmwb in [None, True, *WINDOW_BITS]
]
WS_SERVERS = [
    ServerPerMessageDeflateFactory(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb in [None, *range(9, 16)]  # websockets' server does not compress with 8
    for cmwb in OPTIONAL_BITS
]
# ... each met by a spread of the other side's: all flags, window bits absent, bare,
# smallest, largest and in between.
WINDOW_SAMPLES: list[tuple[int | None, int | None]] = [
    (None, None),
    (8, 8),
    (9, None),
    (None, 9),
    (12, 10),
    (15, 15),
]
SOME_CONFIGS = [
    ServerDeflateConfig(snct, cnct, smwb, cmwb) for snct, cnct in FLAGS for smwb, cmwb in WINDOW_SAMPLES
]
SOME_WS_SERVERS = [
    ServerPerMessageDeflateFactory(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb, cmwb in [(9 if s == 8 else s, c) for s, c in WINDOW_SAMPLES]
]
SOME_WS_CLIENTS = [
    ClientPerMessageDeflateFactory(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb, cmwb in [(None, True), (8, 9), (None, None), (10, True), (15, 12)]
]
SOME_OFFERS = [
    DeflateOffer(snct, cnct, smwb, cmwb)
    for snct, cnct in FLAGS
    for smwb, cmwb in [(None, True), (8, 8), (None, None), (10, True), (15, 12)]
]


def test_the_tables_cover_every_combination() -> None:
    # 2 x 2 flags, 9 choices for each window (absent or 8..15), one more for a bare
    # client_max_window_bits in an offer; websockets leaves out 8 where zlib cannot compress.
    assert len({str(one) for one in OUR_OFFERS}) == 2 * 2 * 9 * 10
    assert len(set(OUR_CONFIGS)) == 2 * 2 * 9 * 9
    assert len({ws_headers(list(f.get_request_params())) for f in WS_CLIENTS}) == 2 * 2 * 9 * 9
    assert (
        len(
            {
                (
                    f.server_max_window_bits,
                    f.client_max_window_bits,
                    f.server_no_context_takeover,
                    f.client_no_context_takeover,
                )
                for f in WS_SERVERS
            }
        )
        == 2 * 2 * 8 * 9
    )


def websockets_client_meets_our_server(
    factory: ClientPerMessageDeflateFactory, config: ServerDeflateConfig, *, messages: Sequence[bytes] = ()
) -> None:
    answer = accept([ws_headers(list(factory.get_request_params()))], config)
    assert answer is not None  # every offer websockets makes can be honoured
    response, agreed = answer
    if agreed.client_max_window_bits == 8:
        # websockets' client cannot compress with 8 bits and fails such a response;
        # ours compresses with 9 (see test_byte_by_byte_with_the_smallest_window).
        with pytest.raises(NegotiationError, match="client_max_window_bits = 8"):
            factory.process_response_params(ws_params(response), [])
        return
    ext = factory.process_response_params(ws_params(response), [])
    ws_agrees(ext, agreed, "server")
    if messages:
        exchange(PerMessageDeflate(agreed, "server", max_size=None), ext, messages)


def our_client_meets_websockets_server(
    sent: DeflateOffer, factory: ServerPerMessageDeflateFactory, *, messages: Sequence[bytes] = ()
) -> None:
    try:
        response_params, ext = factory.process_request_params(ws_params(offer(sent)), [])
    except NegotiationError:
        # websockets' server declines to compress with 8 bits; ours accepts (9 is safe)
        assert sent.server_max_window_bits == 8
        assert accept([offer(sent)]) is not None
        return
    agreed = check_response([ws_headers(list(response_params))], [sent])
    assert agreed is not None
    ws_agrees(ext, agreed, "client")
    if messages:
        exchange(PerMessageDeflate(agreed, "client", max_size=None), ext, messages)


@pytest.mark.parametrize("config", SOME_CONFIGS, ids=str)
def test_every_websockets_client_offer_to_our_server(config: ServerDeflateConfig) -> None:
    for factory in WS_CLIENTS:
        websockets_client_meets_our_server(factory, config)


@pytest.mark.parametrize("factory", SOME_WS_CLIENTS, ids=lambda f: ws_headers(list(f.get_request_params())))
def test_websockets_client_to_every_server_config_of_ours(factory: ClientPerMessageDeflateFactory) -> None:
    for config in OUR_CONFIGS:
        websockets_client_meets_our_server(factory, config)


@pytest.mark.parametrize("index", range(len(SOME_WS_SERVERS)))
def test_every_offer_of_ours_to_websockets_server(index: int) -> None:
    for sent in OUR_OFFERS:
        our_client_meets_websockets_server(sent, SOME_WS_SERVERS[index])


@pytest.mark.parametrize("sent", SOME_OFFERS, ids=str)
def test_our_offer_to_every_websockets_server_config(sent: DeflateOffer) -> None:
    for factory in WS_SERVERS:
        our_client_meets_websockets_server(sent, factory)


@pytest.mark.parametrize("factory", SOME_WS_CLIENTS, ids=lambda f: ws_headers(list(f.get_request_params())))
def test_negotiated_then_exchanged_websockets_client(factory: ClientPerMessageDeflateFactory) -> None:
    # Negotiation and compression together: what the two sides agreed on carries messages.
    for config in SOME_CONFIGS:
        websockets_client_meets_our_server(factory, config, messages=INTEROP_MESSAGES)


@pytest.mark.parametrize("sent", SOME_OFFERS, ids=str)
def test_negotiated_then_exchanged_websockets_server(sent: DeflateOffer) -> None:
    for factory in SOME_WS_SERVERS:
        our_client_meets_websockets_server(sent, factory, messages=INTEROP_MESSAGES)


def exchange(ours: PerMessageDeflate, theirs: WsPerMessageDeflate, messages: Sequence[bytes]) -> None:
    """Messages both ways, some in fragments: each side decodes what the other encoded."""
    for n, message in enumerate(messages):
        fragments = cut(message, [len(message) // 3, len(message) // 2]) if n % 2 else [message]
        # theirs -> ours
        frames = [
            theirs.encode(WsFrame(WsOpcode.TEXT if i == 0 else WsOpcode.CONT, f, fin=i == len(fragments) - 1))
            for i, f in enumerate(fragments)
        ]
        assert [frame.rsv1 for frame in frames] == [True] + [False] * (len(frames) - 1)
        decoded = [
            ours.decode(Frame(Opcode(frame.opcode.value), bytes(frame.data), fin=frame.fin, rsv1=frame.rsv1))
            for frame in frames
        ]
        assert b"".join(frame.payload for frame in decoded) == message
        # ours -> theirs
        encoder = ours.message_encoder()
        out = [
            WsFrame(
                WsOpcode.TEXT if i == 0 else WsOpcode.CONT,
                encoder.encode(f, fin=i == len(fragments) - 1),
                fin=i == len(fragments) - 1,
                rsv1=i == 0,
            )
            for i, f in enumerate(fragments)
        ]
        assert b"".join(bytes(theirs.decode(frame).data) for frame in out) == message


INTEROP_MESSAGES = [TEXT, b"Hello", TEXT[::-1], b"", TEXT + bytes(range(256)) * 40, TEXT]


@pytest.mark.parametrize(("snct", "cnct"), list(itertools.product([False, True], repeat=2)))
def test_cross_decoding_with_websockets(snct: bool, cnct: bool) -> None:
    for server_bits, client_bits in itertools.product(range(9, 16), repeat=2):
        agreed = P(snct, cnct, server_bits, client_bits)
        # we are the client, websockets the server; then the other way round
        ws_server = WsPerMessageDeflate(cnct, snct, client_bits, server_bits)
        exchange(PerMessageDeflate(agreed, "client", max_size=None), ws_server, INTEROP_MESSAGES)
        ws_client = WsPerMessageDeflate(snct, cnct, server_bits, client_bits)
        exchange(PerMessageDeflate(agreed, "server", max_size=None), ws_client, INTEROP_MESSAGES)


@pytest.mark.parametrize("role", ["client", "server"])
def test_our_8_bit_window_decodes_in_websockets(role: str) -> None:
    # We compress with an 8-bit window (zlib's 9); websockets decodes with wbits=8.
    rnd = random.Random(3)
    vocabulary = [rnd.randbytes(rnd.randint(3, 40)) for _ in range(30)]
    messages = [b"".join(rnd.choice(vocabulary) for _ in range(2000)) for _ in range(3)]
    agreed = P(server_max_window_bits=8, client_max_window_bits=8)
    ours = PerMessageDeflate(agreed, role, max_size=None)  # type: ignore[arg-type]
    theirs = WsPerMessageDeflate(False, False, 8, 9)  # remote (our) window 8; its own 9
    for message in messages:
        payload, rsv1 = ours.encode(message)
        data = b""
        for i in range(0, len(payload), 5):  # in small frames, so its window is all it has
            piece = payload[i : i + 5]
            frame = WsFrame(
                WsOpcode.BINARY if i == 0 else WsOpcode.CONT, piece, fin=i + 5 >= len(payload), rsv1=i == 0
            )
            data += bytes(theirs.decode(frame).data)
        assert rsv1
        assert data == message
