"""Assign the change feed's sequence number at commit, by a deferred trigger

The first design took the one-row counter lock inside the writer's transaction, so the lock was
held across client round trips and the application's own scheduling until commit; under load
writers queued behind it (about 70 writes/s on the reference machine). A deferred constraint
trigger runs during commit itself: the counter lock is held only for the commit record's flush,
numbers stay gap-free and in commit order, and `at` becomes the commit time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE changes DROP CONSTRAINT changes_pkey")
    op.execute("ALTER TABLE changes ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
    op.execute("ALTER TABLE changes ALTER COLUMN seq DROP NOT NULL")
    op.execute("CREATE UNIQUE INDEX ux_changes_seq ON changes (seq)")
    op.execute(
        """
        CREATE FUNCTION changes_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            n bigint;
        BEGIN
            UPDATE feed_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq INTO n;
            UPDATE changes SET seq = n, at = clock_timestamp() WHERE id = NEW.id;
            PERFORM pg_notify('sitcen_changes', n::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER changes_seq_at_commit
        AFTER INSERT ON changes DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION changes_assign_seq()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER changes_seq_at_commit ON changes")
    op.execute("DROP FUNCTION changes_assign_seq()")
    op.execute("DROP INDEX ux_changes_seq")
    op.execute("ALTER TABLE changes DROP CONSTRAINT changes_pkey")
    op.execute("ALTER TABLE changes DROP COLUMN id")
    op.execute("ALTER TABLE changes ALTER COLUMN seq SET NOT NULL")
    op.execute("ALTER TABLE changes ADD PRIMARY KEY (seq)")
