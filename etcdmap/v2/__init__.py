"""etcd's v2 API: the client and its keys, watcher, members, auth, stats, sync, discovery and wire code."""
