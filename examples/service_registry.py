"""Service discovery and leader election on etcd: TTL keys, keep-alives, create and CAS.

Three coordination patterns, each a few lines on :class:`etcdmap.mapping.EtcdMap`:

**Registration** -- each instance writes ``/services/<service>/<instance>`` with a short TTL
and keeps it alive from a background thread (``keep_alive``). A clean shutdown deletes the key
(compare-and-delete, so it never removes someone else's entry); a crashed instance simply stops
refreshing and etcd expires the key after the TTL. Clients discover the live instances by
listing the directory, and can watch it to learn about changes.

**Leader election** -- candidates race to *create* ``/election/leader`` (``prevExist=false``):
etcd lets exactly one win. The winner keeps the key alive while it leads and resigns with a
compare-and-delete; the others watch the key and campaign again when it goes away (deleted, or
expired because the leader died).

**Optimistic concurrency** -- every new leader bumps an ``epoch`` counter with
compare-and-swap in a read-modify-write loop, so each term gets a unique, increasing fencing
token even when writers race.

Run it with ``ETCDMAP_ENDPOINTS`` set, or without to use a throwaway local etcd.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from types import TracebackType

from etcdmap.errors import NodeExists
from etcdmap.mapping.emap import EtcdMap
from etcdmap.mapping.keepalive import KeepAlive
from etcdmap.testing import local_endpoints
from etcdmap.v2.client import Client

TTL = 10  # seconds: how long an entry outlives its instance
SHORT_TTL = 1  # for the instance this example crashes, so that it finishes quickly


# --------------------------------------------------------------------------- registration


class Registration:
    """One service instance's entry in the registry, kept alive while the instance runs."""

    def __init__(self, registry: EtcdMap, instance: str, address: str, ttl: int = TTL) -> None:
        self.registry = registry
        self.instance = instance
        self.value = json.dumps({"address": address})
        self.ttl = ttl
        self._keep_alive: KeepAlive | None = None

    def __enter__(self) -> Registration:
        self.registry.create(self.instance, self.value, ttl=self.ttl)
        self._keep_alive = self.registry.keep_alive(self.instance, self.ttl)
        self._keep_alive.start()
        return self

    def crash(self) -> None:
        """Stop refreshing without deregistering, as a killed process would."""
        if self._keep_alive is not None:
            self._keep_alive.stop()
            self._keep_alive = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._keep_alive is None:
            return  # crashed: etcd expires the entry
        self._keep_alive.stop()
        # Delete only our own entry, never a newer one registered under the same name.
        with contextlib.suppress(KeyError):
            self.registry.compare_and_delete(self.instance, prev_value=self.value)


def discover(registry: EtcdMap) -> dict[str, str]:
    """The live instances of a service: instance name -> address."""
    return {name: json.loads(value)["address"] for name, value in registry.items()}


def wait_for_expiry(client: Client, key: str, after_index: int, timeout: float) -> str:
    """Watch ``key`` until etcd removes it; returns the action (``expire`` for a crash)."""
    watcher = client.keys.watcher(key, after_index=after_index)
    deadline = time.monotonic() + timeout
    while True:
        event = watcher.next(timeout=max(deadline - time.monotonic(), 0.1))
        if event.action in ("expire", "delete", "compareAndDelete"):
            return event.action


# --------------------------------------------------------------------------- election


def bump_epoch(election: EtcdMap) -> int:
    """Increment the shared epoch with compare-and-swap; retries when another writer raced."""
    while True:
        current = election.setdefault("epoch", "0")
        new = int(current) + 1
        if election.compare_and_swap("epoch", str(new), prev_value=current):
            return new


def candidate(client: Client, election: EtcdMap, name: str, terms: list[tuple[str, int]]) -> None:
    """Campaign until elected once, lead briefly, then resign."""
    leader_key = f"{election.path}/leader"
    while True:
        try:
            election.create("leader", name, ttl=TTL)
        except NodeExists as exc:
            # Someone leads: wait until the key is deleted or expires, then campaign again.
            watcher = client.keys.watcher(leader_key, after_index=exc.index)
            while watcher.next(timeout=10).action not in ("delete", "compareAndDelete", "expire"):
                pass
            continue
        with election.keep_alive("leader", TTL):
            terms.append((name, bump_epoch(election)))
            time.sleep(0.1)  # "lead": do the leader's work
        election.compare_and_delete("leader", prev_value=name)  # resign (only if still ours)
        return


def main() -> None:
    base = f"/example-registry-{uuid.uuid4().hex[:8]}"
    with local_endpoints(announce=False) as endpoints, Client(endpoints) as client:
        try:
            web = EtcdMap(client, f"{base}/services/web")
            with Registration(web, "web-1", "10.0.0.1:8080"), Registration(
                web, "web-2", "10.0.0.2:8080", ttl=SHORT_TTL
            ) as second:
                print("registered:", discover(web))
                assert discover(web) == {"web-1": "10.0.0.1:8080", "web-2": "10.0.0.2:8080"}
                # web-2 dies without deregistering; its entry expires after the TTL.
                index = client.keys.get(web.path).index
                second.crash()
                action = wait_for_expiry(client, f"{web.path}/web-2", index, timeout=10)
                print(f"web-2 removed by etcd ({action}); live:", discover(web))
                assert discover(web) == {"web-1": "10.0.0.1:8080"}
            assert discover(web) == {}  # web-1 deregistered on a clean exit

            election = EtcdMap(client, f"{base}/election")
            terms: list[tuple[str, int]] = []
            threads = [
                threading.Thread(target=candidate, args=(client, election, name, terms))
                for name in ("node-a", "node-b", "node-c")
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=30)
            print("leadership terms (leader, epoch):", terms)
            assert sorted(name for name, _ in terms) == ["node-a", "node-b", "node-c"]
            assert [epoch for _, epoch in terms] == [1, 2, 3]  # one term at a time
        finally:
            client.keys.delete(base, recursive=True)


if __name__ == "__main__":
    main()
