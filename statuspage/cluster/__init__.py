"""Several `statuspage run` instances on one PostgreSQL database: who probes what, and who acts.

The protocol (SQL in store/pg_cluster.py, loops in node.py, the leader's work in duties.py):

1. Membership. Every `renew_every` seconds an instance upserts its row in `cluster_instances`
   (`seen_at` = the database's clock) and counts the instances seen within `lease_ttl`: N.
2. Monitors by shard. A monitor belongs to shard `crc32(key) % shards`. Each instance wants
   ceil(shards / N) shards. In one transaction it renews its own leases (`expires_at` = now +
   `lease_ttl`) and claims free or expired ones (`FOR UPDATE SKIP LOCKED`) up to what it wants.
   Holding more than it wants (an instance joined), it first stops probing the extra shards' monitors
   and flushes their rows, then releases them: the other instance picks them up at its next renewal.
   An instance that dies stops renewing; its leases expire after `lease_ttl` and the others claim
   them within one more `renew_every`. A new owner loads each monitor's confirmation state and run
   tail from the database, and checks it at the same phase of its interval as the old owner did.
   Those hand-overs (seconds for tens of thousands of monitors) run in order on a task of their own:
   renewal never waits for them, so a slow hand-over never costs a lease.
   An instance cut off from the database keeps probing (nobody else can claim while the database
   is down for everyone); on reconnection it learns which shards it lost and stops those. Its late
   rows are facts (results keyed by monitor and time) or guarded (a confirmation state only replaces
   an older one), so nothing is written twice or overwritten by older data.
3. Leadership. An instance becomes the leader by taking a session-level advisory lock on a dedicated
   connection, then incrementing `cluster_leader.epoch` (the fencing token). The lock lives as long as
   that connection: a killed leader frees it at once, a vanished one within ~12 s (TCP keepalives).
   The leader pings its connection every `poll_every` and stops acting the moment it fails. Every
   leader write runs inside `store.fenced(epoch)`, which checks the epoch in the same transaction
   (`FOR SHARE`): a deposed leader's write is refused, never applied.
4. What only the leader does: it re-reads every monitor's confirmation state (every `poll_every`, or
   at once when an instance announces a confirmed change) and opens, joins, moves to monitoring and
   resolves automatic incidents; it claims outbox rows for its epoch (`FOR UPDATE SKIP LOCKED`; rows
   claimed under an older epoch are claimed again) and delivers them; it writes `site.output_dir`.
   Any instance serves the site (rendered into a private folder while it follows), takes heartbeats
   (buffered into `push_heartbeats`, read by the monitor's owner) and admin writes (written at once;
   their notifications go to the outbox, which the leader delivers), and announces changes with
   NOTIFY so every instance re-renders within a second or two.

With SQLite none of this runs: one instance probes every monitor and is always the leader.
A location dimension (issue: probe locations) fits in `shard_leases.location`: one set of leases per
location, each instance claiming only its own location's shards.
"""
