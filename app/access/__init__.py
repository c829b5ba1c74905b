"""Who may see what: the viewer and the one visibility policy (docs/design.md, "Visibility")."""
