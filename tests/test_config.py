"""The test configuration itself: network blocked, warnings are errors."""

from __future__ import annotations

import socket
import warnings

import pytest
from pytest_socket import SocketBlockedError, SocketConnectBlockedError


def test_network_is_blocked() -> None:
    # only the local PostgreSQL (127.0.0.1) is reachable; any other host is refused
    # (pytest-socket may warn before raising; with warnings as errors the warning surfaces first)
    blocked = (SocketBlockedError, SocketConnectBlockedError, UserWarning)
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(blocked, match="tried to use socket"),
    ):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1, never routed


def test_warnings_are_errors() -> None:
    with pytest.raises(UserWarning):
        warnings.warn("any warning fails a test", UserWarning, stacklevel=1)
