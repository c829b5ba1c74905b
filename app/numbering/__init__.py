"""Sequential, gapless document numbers per brand × document type × year."""
