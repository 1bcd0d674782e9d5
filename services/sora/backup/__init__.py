"""``sora-backup``: consistent online backups of the feedback database to S3."""
