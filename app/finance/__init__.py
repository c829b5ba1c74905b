"""Finance: invoices and credit notes billed from order lines (docs/finance.md)."""
