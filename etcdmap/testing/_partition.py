"""Cut one member of a loopback cluster off from its peers with nftables (root only).

:class:`Partition` adds a table of its own (``inet``, named by the caller) whose output chain
drops the peer traffic of the isolated member only: clients still reach every member, exactly
as when a member loses its network to the rest of the cluster but not to its clients.
:meth:`Partition.heal` deletes the table (idempotent; always call it, e.g. from a fixture
finalizer).

What it drops: packets to the isolated member's address and peer port, packets from that
port, and both directions of the connections its process opens to the other members' peer
ports (marked through conntrack when it sends on them). The last needs the
isolated member to run as a user of its own (``EtcdServer(user="nobody")``), matched with
``meta skuid``: on loopback every outgoing connection leaves from 127.0.0.1 whatever address
the member listens on, so addresses alone cannot tell its connections apart. The members need
addresses of their own too (``EtcdCluster(3, hosts=["127.0.0.1", "127.0.0.2",
"127.0.0.3"])``).

Thread-safety: drive one object from one thread.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence

from etcdmap._closing import Closing
from etcdmap.testing._server import EtcdServer

__all__ = ["Partition", "nft_unavailable"]

_MARK = "0x45544344"
"""The conntrack mark of the isolated member's own peer connections (both directions drop)."""


def nft_unavailable() -> str | None:
    """Why nftables cannot be used here (``None``: it can): not root, no ``nft``, or the
    kernel refuses (e.g. an unprivileged container)."""
    if os.geteuid() != 0:
        return "not root: nftables rules need root"
    nft = shutil.which("nft")
    if nft is None:
        return "the nft command is not installed (apt-get install nftables)"
    probe = subprocess.run([nft, "list", "tables"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"nft cannot list tables here: {probe.stderr.strip()}"
    return None


class Partition(Closing):
    """Drop the peer traffic between ``isolated`` and ``others`` (see the module docstring).

    :param table: the name of the nftables table (letters, digits, ``_``), unique to the test.
    :param isolated: the member cut off.
    :param others: the rest of the cluster.
    :raises ValueError: a bad table name, or members sharing the isolated member's address.
    """

    def __init__(self, table: str, isolated: EtcdServer, others: Sequence[EtcdServer]) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,60}", table):
            raise ValueError(f"not a usable nftables table name: {table!r}")
        if any(m.host == isolated.host for m in others):
            raise ValueError("the isolated member needs an address of its own (hosts=...)")
        if isolated.user is None:
            raise ValueError("the isolated member needs a user of its own (user=...)")
        self.table = table
        self.isolated = isolated
        self.others = list(others)
        self.active = False

    def rules(self) -> str:
        """The nft script that creates the table."""
        iso, iso_port, uid = self.isolated.host, self.isolated.peer_port, self._uid()
        hosts = ", ".join(sorted({m.host for m in self.others}))
        ports = ", ".join(str(m.peer_port) for m in self.others)
        return (
            f"table inet {self.table} {{\n"
            "  chain output {\n"
            "    type filter hook output priority 0; policy accept;\n"
            f"    meta skuid {uid} ip daddr {{ {hosts} }} tcp dport {{ {ports} }} "
            f"ct mark set {_MARK}\n"
            f"    ct mark {_MARK} drop\n"
            f"    ip daddr {iso} tcp dport {iso_port} drop\n"
            f"    ip saddr {iso} tcp sport {iso_port} drop\n"
            "  }\n"
            "}\n"
        )

    def _uid(self) -> int:
        import pwd  # noqa: PLC0415 - POSIX only

        user = self.isolated.user
        return user if isinstance(user, int) else pwd.getpwnam(str(user)).pw_uid

    def cut(self) -> Partition:
        """Install the rules. :returns: ``self``.

        :raises RuntimeError: ``nft`` refused them.
        """
        self._nft(["-f", "-"], self.rules())
        self.active = True
        return self

    def heal(self) -> None:
        """Delete the table (idempotent)."""
        if self.active:
            self.active = False
            self._nft(["delete", "table", "inet", self.table])

    def close(self) -> None:
        """:meth:`heal`."""
        self.heal()

    @staticmethod
    def _nft(args: list[str], script: str | None = None) -> None:
        nft = shutil.which("nft") or "nft"
        done = subprocess.run([nft, *args], input=script, capture_output=True, text=True,
                              check=False, timeout=10)
        if done.returncode != 0:
            raise RuntimeError(f"nft {' '.join(args)} failed: {done.stderr.strip()}")
