"""Who is changing the metadata: recorded with every change of what is live, every alert mute
and every model event. Its own module because the table modules all need it and it needs none
of them."""

from __future__ import annotations

import getpass
import os
import socket

ACTOR_LENGTH = 200
"""Longest actor recorded (the columns' width)."""


def current_actor() -> str:
    """``user@host`` of this process: who changed what, when the caller says no more."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user with no name
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"[:ACTOR_LENGTH]
