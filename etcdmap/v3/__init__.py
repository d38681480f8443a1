"""etcd's v3 API over its HTTP/JSON gateway."""
