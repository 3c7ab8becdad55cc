"""A Python guest that tries the network behind the SDK's back: the registry accepts the
wasi:sockets imports every componentize-py guest carries, so the host must refuse every socket.
plugins/tests/examples.rs runs it; each attempt goes to loopback only, so a broken seal would
still reach nothing outside this machine."""

import socket

import hotline
from hotline import Call, Outcome


def attempt(what: str, fn) -> str:
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - report whatever the runtime raises
        return f"{what}: refused ({type(err).__name__})"
    return f"{what}: ALLOWED"


def connect():
    # Hosts as bytes: CPython would otherwise look up the idna codec, which is not bundled.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect((b"127.0.0.1", 9))


def resolve():
    socket.getaddrinfo(b"localhost", 80)


def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((b"127.0.0.1", 0))
    s.listen(1)


def datagram():
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", (b"127.0.0.1", 9))


@hotline.ivr
def handle(call: Call):
    results = [attempt("connect", connect), attempt("resolve", resolve),
               attempt("listen", listen), attempt("udp", datagram)]
    call.set_var("sockets", "; ".join(results))
    return Outcome.self_served()
