"""An index that accepts connections and never answers: what ``--timeout`` must bound."""

from __future__ import annotations

import socket


class Silent:
    """A port where the kernel accepts connections and nobody ever reads or answers them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def connections(self) -> int:
        """How many connections were made (each is then closed)."""
        self.sock.setblocking(False)
        count = 0
        while True:
            try:
                self.sock.accept()[0].close()
            except BlockingIOError:
                return count
            count += 1

    def close(self) -> None:
        self.sock.close()
