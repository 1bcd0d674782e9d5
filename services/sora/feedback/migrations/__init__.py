"""Schema migrations, ``NNN_name.sql``, applied in order by :mod:`sora.feedback.schema`."""
