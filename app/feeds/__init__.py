"""External feeds in: CAP messages that others publish over Atom or RSS (weather warnings,
national alerts, neighbouring crisis centres), polled and ingested through the CAP ingest."""
