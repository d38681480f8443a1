"""Cluster administration with the client layer: members, health, versions, stats, and auth.

The read-only part runs against ``$ETCDMAP_ENDPOINTS`` when it is set (or a throwaway local
etcd). The auth part changes cluster-wide settings, so it **always** starts its own throwaway
etcd and never touches a shared server:

1. create the ``root`` user (etcd requires it before auth can be enabled);
2. create an ``app`` role that may read and write ``/app/*``, and a user holding it;
3. take the default ``guest`` role's access away, so anonymous requests are refused;
4. enable auth, show who may do what, then disable it again.
"""

from __future__ import annotations

from etcdmap.errors import Unauthorized
from etcdmap.models import Permission
from etcdmap.testing import EtcdServer, local_endpoints
from etcdmap.v2.client import Client


def show_cluster(client: Client) -> None:
    """Print what an operator looks at first."""
    versions = client.version()
    print(f"etcd server {versions.server}, cluster version {versions.cluster}")
    leader = client.members.leader()
    for member in client.members.list():
        mark = " (leader)" if member.id == leader.id else ""
        print(f"member {member.id} {member.name}{mark}: clients {', '.join(member.client_urls)}")
    health = client.health()
    print("healthy" if health.healthy else f"UNHEALTHY: {health.reason}")
    me = client.stats.self()
    print(f"answering member: {me.name}, state {me.state}, leader {me.leader}")
    store = client.stats.store()
    print(f"store: {store.sets_success} sets, {store.gets_success} gets, {store.watchers} watchers")


def auth_walkthrough() -> None:
    """Set up users and roles and enable auth, on a server of our own."""
    with EtcdServer() as server, Client(server.client_url) as admin:
        admin.users.add("root", "root-secret")
        admin.roles.add("app")
        admin.roles.grant_kv("app", ["/app/*"], Permission.READ_WRITE)
        admin.users.add("svc", "svc-secret")
        admin.users.grant("svc", ["app"])
        admin.auth.enable()
        print("auth enabled:", admin.auth.enabled())

        with Client(server.client_url, username="root", password="root-secret") as root:
            # With auth on, anonymous requests get the "guest" role, which may do anything
            # until its permissions are taken away.
            root.roles.revoke_kv("guest", ["/*"], Permission.READ_WRITE)
            print("users:", root.users.list(), "roles:", root.roles.list())
            print("svc:", root.users.get("svc"))
            print("app:", root.roles.get("app"))

            with Client(server.client_url, username="svc", password="svc-secret") as svc:
                svc.keys.set("/app/feature", "on")
                print("svc wrote /app/feature")
                try:
                    svc.keys.set("/other", "x")
                except Unauthorized as exc:
                    print("svc may not write /other:", exc)
            try:
                admin.keys.get("/app/feature")  # no credentials
            except Unauthorized as exc:
                print("anonymous read refused:", exc)

            root.auth.disable()
            print("auth enabled:", admin.auth.enabled())


def main() -> None:
    with local_endpoints(announce=False) as endpoints, Client(endpoints) as client:
        show_cluster(client)
    auth_walkthrough()


if __name__ == "__main__":
    main()
