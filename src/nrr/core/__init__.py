"""The pure core: settings and relations in, SQL and figures out. No I/O, clock or environment."""
