"""Field operations: quotes, visits, work orders, documents, installer performance."""
