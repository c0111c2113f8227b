"""What the tests share, in one place: callers and requests (api), the money world (money),
the invariants, the local stack over HTTP (local_stack), races on real threads (races), the
browser (browser) and the catalog (catalog)."""
