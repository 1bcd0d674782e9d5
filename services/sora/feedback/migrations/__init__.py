"""Schema migrations, ``NNN_name.sql``, applied in order by ``sora.feedback.schema_migrations``."""
