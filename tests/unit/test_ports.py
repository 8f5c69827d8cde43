"""Choosing the local stack's ports, and telling a port held by someone else.

CI once failed every integration test at once: the probe of one part met a
JVM's gRPC port ("Unexpected HTTP/1.x request: GET /"), opened on the port the
kernel had just handed the stack for that part.
"""

from __future__ import annotations

import socket
import threading

import pytest

from infra.local import procs, readiness


def test_ports_are_distinct_free_and_never_ones_the_kernel_hands_out():
    low, _high = procs.ephemeral_range()
    ports = procs.free_ports(40)
    assert len(set(ports)) == 40
    assert all(procs.LISTEN_FLOOR <= p < low for p in ports)
    for port in ports:  # each can be bound by the part it is meant for
        with socket.socket() as s:
            s.bind((procs.HOST, port))


def test_a_port_in_use_is_never_chosen():
    held = [socket.socket() for _ in range(300)]
    taken = set()
    try:
        for s, port in zip(held, procs.free_ports(300), strict=True):
            s.bind((procs.HOST, port))
            s.listen()
            taken.add(port)
        assert not taken & set(procs.free_ports(300))
    finally:
        for s in held:
            s.close()


def _serve_once(reply: bytes | None) -> tuple[int, threading.Thread]:
    """A listener that answers the first connection with `reply` (None: closes
    without a word, as a server still starting may)."""
    srv = socket.socket()
    srv.bind((procs.HOST, 0))
    srv.listen()
    port = srv.getsockname()[1]

    def run() -> None:
        srv.settimeout(5)
        try:
            conn, _ = srv.accept()
            with conn:
                conn.recv(1024)
                if reply is not None:
                    conn.sendall(reply)
        finally:
            srv.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return port, t


def test_a_probe_answered_in_another_protocol_says_the_port_is_taken():
    # What grpc-java's Netty server writes to an HTTP/1 request: an HTTP/2
    # GOAWAY frame with its message.
    goaway = b"\x00\x00\x30\x07\x00\x00\x00\x00\x00" + b"Unexpected HTTP/1.x request: GET /"
    port, t = _serve_once(goaway)
    with pytest.raises(procs.PortTaken, match="answered by another server"):
        procs.wait_http(f"http://{procs.HOST}:{port}/", timeout=5)
    t.join()


def test_a_connection_closed_without_an_answer_is_waited_on():
    port, t = _serve_once(None)
    with pytest.raises(TimeoutError):
        procs.wait_http(f"http://{procs.HOST}:{port}/", timeout=0.5)
    t.join()


def test_the_start_retries_a_taken_port_and_nothing_else():
    assert readiness.port_was_taken(procs.PortTaken("x"))
    assert readiness.port_was_taken(
        procs.ProcessDied("gcs: listen tcp: bind: address already in use")
    )
    assert not readiness.port_was_taken(procs.ProcessDied("gcs exited with code 1"))
    assert not readiness.port_was_taken(TimeoutError("not ready"))
