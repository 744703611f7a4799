"""The public site: one snapshot of the store turned into HTML, Statuspage JSON, Atom, badges and
the snapshot metrics, written atomically, in a worker process when `statuspage run` renders."""
