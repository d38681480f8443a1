"""The HTTP layer: the requests session a client uses, etcdmap's fast adapter, TLS, redirects, cURL debug."""
