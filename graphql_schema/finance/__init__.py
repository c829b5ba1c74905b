"""Finance in the API: invoices, credit notes, the order's billing state."""
