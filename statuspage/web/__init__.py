"""The live server: the site, push heartbeats, the admin API and page, /metrics and /healthz."""
