"""Migration examples, run as tests: a program written for python-etcd3 / python-etcd runs
unchanged after ``install()``, then the same work moves, piece by piece, to etcdmap's API
(``client.etcdmap``), both halves in one program and one state."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from urllib.parse import urlsplit

LEGACY_ETCD3 = '''
import etcdmap.compat.etcd3
etcdmap.compat.etcd3.install()        # the one line added: the rest is python-etcd3 code

import etcd3
from etcd3.exceptions import WatchTimedOut

client = etcd3.client(host=HOST, port=PORT, timeout=5)
client.delete_prefix("/migrate3/")
lease = client.lease(30)
client.put("/migrate3/service/a", "10.0.0.1", lease=lease)
assert client.put_if_not_exists("/migrate3/leader", "a")
assert not client.put_if_not_exists("/migrate3/leader", "b")
services = {meta.key.decode(): value.decode()
            for value, meta in client.get_prefix("/migrate3/service/")}
try:
    client.watch_once("/migrate3/nothing", timeout=0.2)
except WatchTimedOut:
    pass

# step 2: new code uses etcdmap's v3 client, old code keeps running beside it
core = client.etcdmap
core.kv.put("/migrate3/service/b", "10.0.0.2", lease=lease.id)
assert {kv.key_text for kv in core.kv.range("/migrate3/service/", prefix=True).kvs} == {
    "/migrate3/service/a", "/migrate3/service/b"}
assert sorted(core.lease.time_to_live(lease.id, keys=True).keys) == sorted(
    lease.keys)                       # etcd lists a lease's keys in no set order
lease.revoke()
assert list(client.get_prefix("/migrate3/service/")) == []
client.delete_prefix("/migrate3/")
print(sorted(services.items()))
'''

LEGACY_ETCD = '''
import etcdmap.compat.etcd
etcdmap.compat.etcd.install()         # the one line added: the rest is python-etcd code

import etcd

client = etcd.Client(host=HOST, port=PORT)
try:
    client.delete("/migrate2", recursive=True)
except etcd.EtcdKeyNotFound:
    pass
client.write("/migrate2/config/db", "postgres://db")
client.write("/migrate2/queue", "job-1", append=True)
client.write("/migrate2/queue", "job-2", append=True)
jobs = [r.value for r in client.read("/migrate2/queue", recursive=True, sorted=True).leaves]
lock = etcd.Lock(client, "migrate2")
with lock:
    assert lock.is_acquired

# step 2: the same directory as a dict-like EtcdMap on the etcdmap client underneath
import etcdmap
config = etcdmap.EtcdMap(client.etcdmap, "/migrate2/config")
assert dict(config) == {"db": "postgres://db"}
config["cache"] = "redis://cache"
assert client.read("/migrate2/config/cache").value == "redis://cache"
client.delete("/migrate2", recursive=True)
print(jobs)
'''


def _run(script: str, url: str) -> str:
    parts = urlsplit(url)
    prelude = f"HOST, PORT = {parts.hostname!r}, {parts.port!r}\n"
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_python_etcd3_program_then_etcdmap_v3(etcd_url: str) -> None:
    assert _run(LEGACY_ETCD3, etcd_url) == "[('/migrate3/service/a', '10.0.0.1')]"


def test_python_etcd_program_then_etcdmap(etcd_url: str) -> None:
    assert _run(LEGACY_ETCD, etcd_url) == "['job-1', 'job-2']"
