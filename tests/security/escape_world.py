"""What an escape attempt could reach: shared by the escape suite and its fixtures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class World:
    """Everything an escape attempt could reach, plus what the test server has seen."""

    workspace: Path
    home: Path
    outside: Path
    port: int
    victim_pid: int
    socket_path: Path
    udp_port: int = 0
    requests: list[str] = field(default_factory=list)
    socket_connections: list[str] = field(default_factory=list)
    datagrams: list[bytes] = field(default_factory=list)
