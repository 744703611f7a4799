"""Probe locations with quorum: one vantage point's trouble is never a public outage.

Each location (`statuspage run --location NAME`, `probe.location`) probes its monitors and confirms
them as one location always did (confirm_down / confirm_up, backdating: probe/states.py), recording
its confirmation state and state runs under the monitor's *location key* `page/comp/mon@location`.
The leader combines the locations' runs into the monitor's own runs and state (quorum.py): what
uptime, incidents, badges and the page read, unchanged. Why both are stored: the monitor's runs are
a pure function of the locations' runs, so any leader (after a failover or a restart) recomputes
them from the database without having seen a single transition, and the locations' runs are what
engineers look at when locations disagree.

With one location (the default `local`) none of this runs: results, states and runs are the
monitor's own, exactly as before. A location's own health (canaries, failure pattern) lives in
health.py: an unhealthy location records no failures, so it stops counting after its last results
go stale and is left out of the quorum; with one location that time is no data.
"""
