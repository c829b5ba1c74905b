"""Background work on PgQueuer: jobs enqueued in the API's transactions, run by `chargecars worker`."""
