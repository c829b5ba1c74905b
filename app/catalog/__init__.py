"""Articles: what each brand sells, with unit price and VAT rate."""
