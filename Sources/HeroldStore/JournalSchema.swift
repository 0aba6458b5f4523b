import GRDB

/// The journal's schema, one migration per change; later versions append migrations,
/// never edit a shipped one.
enum JournalSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events-deliveries-attempts") { db in
            // Times are REAL seconds since 1970 (UTC): compared and ordered as numbers.
            try db.execute(sql: """
                CREATE TABLE events (
                    source TEXT NOT NULL,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    subject TEXT,
                    "time" TEXT,
                    received_at REAL NOT NULL,
                    body TEXT NOT NULL,
                    PRIMARY KEY (source, id)
                );
                CREATE TABLE deliveries (
                    id TEXT PRIMARY KEY NOT NULL,
                    event_source TEXT NOT NULL,
                    event_id TEXT NOT NULL,
                    rule TEXT NOT NULL,
                    action INTEGER NOT NULL,
                    channel TEXT NOT NULL,
                    recipient TEXT NOT NULL,
                    not_before REAL NOT NULL,
                    state TEXT NOT NULL,
                    payload TEXT,
                    reason TEXT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    last_attempt_at REAL,
                    sent_at REAL,
                    FOREIGN KEY (event_source, event_id) REFERENCES events (source, id)
                );
                CREATE INDEX deliveries_state_not_before ON deliveries (state, not_before);
                CREATE INDEX deliveries_event ON deliveries (event_source, event_id);
                CREATE TABLE attempts (
                    delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'failed', 'deferred')),
                    code TEXT,
                    message TEXT
                );
                CREATE INDEX attempts_delivery ON attempts (delivery_id, at);
                """)
        }
        migrator.registerMigration("v2-expiry") { db in
            // expires_at: the moment after which a delivery must not be sent (NULL: none).
            // first_attempt_at: when it was first tried since queued or requeued; its retry
            // lifetime counts from there (not_before moves with each deferral).
            try db.execute(sql: """
                ALTER TABLE deliveries ADD COLUMN expires_at REAL;
                ALTER TABLE deliveries ADD COLUMN first_attempt_at REAL;
                """)
        }
        migrator.registerMigration("v3-lanes") { db in
            // destination: the lane a delivery waits in (`smtp`, `webhook:NAME`), so each
            // lane claims its own due deliveries by index. lanes: a destination's health
            // (backing off, paused), so a restart keeps it.
            try db.execute(sql: """
                ALTER TABLE deliveries ADD COLUMN destination TEXT NOT NULL DEFAULT '';
                UPDATE deliveries SET destination = CASE channel WHEN 'email' THEN 'smtp' ELSE 'webhook:' || recipient END;
                CREATE INDEX deliveries_destination_due ON deliveries (destination, state, not_before);
                CREATE TABLE lanes (
                    destination TEXT PRIMARY KEY NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('open', 'backing-off', 'probing', 'paused')),
                    until REAL,
                    failures INTEGER NOT NULL DEFAULT 0,
                    reason TEXT,
                    updated_at REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4-retention") { db in
            // content_erased_at: when retention or `forget` erased the delivery's message,
            // reasons and replies (NULL: content kept). The partial indexes let each
            // retention batch find its next rows without scanning what is already done.
            try db.execute(sql: """
                ALTER TABLE deliveries ADD COLUMN content_erased_at REAL;
                CREATE INDEX deliveries_content_due ON deliveries (updated_at)
                    WHERE content_erased_at IS NULL AND state IN ('failed', 'sent');
                CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state IN ('failed', 'sent');
                CREATE INDEX deliveries_recipient ON deliveries (recipient COLLATE NOCASE);
                CREATE INDEX events_content_due ON events (received_at) WHERE body <> '';
                CREATE INDEX events_received ON events (received_at);
                """)
        }
        migrator.registerMigration("v4-admin-notices") { db in
            // The admin's summaries (notify:): when the last went out, and what each told —
            // a delivery id (or lane:DESTINATION) with its updated_at then.
            try db.execute(sql: """
                CREATE TABLE admin_summaries (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    sent_at REAL NOT NULL,
                    covered INTEGER NOT NULL
                );
                CREATE TABLE admin_notices (
                    subject TEXT NOT NULL,
                    changed_at REAL NOT NULL,
                    PRIMARY KEY (subject, changed_at)
                );
                """)
        }
        return migrator
    }
}
