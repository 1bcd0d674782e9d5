"""What every part of the platform must agree on, in one place.

The services, the operator's builders, the local gateway and ``sora up`` all
derive from this package, and it imports neither of them (``make lint``
checks it): the route table (``routes``), the services image's ports, paths
and user (``layout``), reading the environment and the shared settings
(``settings``), the JSON log format (``logs``) and the alert rules and
dashboard (``monitoring``).
"""
