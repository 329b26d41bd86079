"""The test configuration itself: network blocked, warnings are errors."""

from __future__ import annotations

import socket
import warnings

import pytest
from pytest_socket import SocketBlockedError


def test_network_is_blocked() -> None:
    # pytest-socket warns before raising; with warnings as errors the warning surfaces first
    with pytest.raises((SocketBlockedError, UserWarning), match="tried to use socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_warnings_are_errors() -> None:
    with pytest.raises(UserWarning):
        warnings.warn("any warning fails a test", UserWarning, stacklevel=1)
