"""store: every table the package keeps, and the only place SQL is written.

sqlite.py      the scan store (``OUTDIR/csei.sqlite``): runs, documents, passages, failures, candidates
catalog.py     the review app's read queries over the scan store (keyset paging, facets, overview)
appdb.py       the review app's own tables (users, decisions, queue, events, settings), SQLite or PostgreSQL
queue.py       the annotation queue's queries and transactions
embeddings.py  the embedding cache's vectors table
jobs.py        a discovery job's state (inputs, shards, runs, snapshots, changes)
wal.py         how a SQLite file is opened (WAL, safe when several processes open it at once)

Keeping state in one place means one opener, one set of locking rules, and one
folder to read when a schema changes.
"""
