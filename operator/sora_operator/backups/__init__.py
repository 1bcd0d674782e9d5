"""Backups and restores as the operator sees them. Pure functions decide; ``observe``
(reads) and ``Reconciler`` (writes) act.

- ``jobs``: what a finished Job and its pods say (result, termination messages);
- ``health``: the backup Jobs into ``status.lastBackup`` and the ``BackupHealthy``
  condition;
- ``restore``: the restore sequence, one step per reconcile;
- ``view``: the one read of the cluster per reconcile, and the status it adds;
- ``events``: the Events a status write announces;
- ``metrics``: the per-SoraDeployment backup gauges.

Backups: the CronJob's finished Jobs carry each step's JSON outcome in their
pod's termination messages (builders/backup.py). The newest finished Job
becomes ``status.lastBackup``; the newest success is remembered in
``lastBackup.lastSuccessTime`` (the Job history is short). ``BackupHealthy``
is False when the newest backup failed, or when none succeeded within twice
the schedule's interval.

Restore, a small state machine kept in ``status.restore`` so that it survives
an operator restart, one step per reconcile:

``ScalingDown``  the feedback API is held at 0 replicas; once no pod holds the
                 database volume, the restore Job is created -> ``Restoring``
``Restoring``    held at 0 until the Job finishes (either way) -> ``ScalingUp``
``ScalingUp``    the spec's replicas again; once the feedback API is available,
                 ``status.lastRestore`` records the result and ``restore`` goes.

A failed restore Job leaves the database as it was (the CLI verifies first and
swaps atomically), so the service comes back on the old data, with the reason
in ``lastRestore.message``.
"""
