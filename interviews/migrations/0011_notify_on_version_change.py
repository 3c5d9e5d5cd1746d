"""On PostgreSQL, a change of a session's version sends the stream hubs their NOTIFY from a
trigger, in the UPDATE that makes it, instead of a statement of its own after every write.

The channel and the payload ("<id> <version>", then " <page>" when a page made the change) are
what interviews.stream's listener reads. SQLite has no NOTIFY: its hubs read the versions."""

from django.db import migrations

CREATE = """
CREATE FUNCTION interviews_session_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'spar_session',
        NEW.id::text || ' ' || NEW.version::text
            || CASE WHEN NEW.echo_page = '' THEN '' ELSE ' ' || NEW.echo_page END
    );
    RETURN NULL;
END
$$;
CREATE TRIGGER interviews_session_notify
    AFTER UPDATE OF version ON interviews_session
    FOR EACH ROW WHEN (NEW.version IS DISTINCT FROM OLD.version)
    EXECUTE FUNCTION interviews_session_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS interviews_session_notify ON interviews_session;
DROP FUNCTION IF EXISTS interviews_session_notify();
"""


def _on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("interviews", "0010_notes_rendered"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
