"""Who may see what: the viewer and its scope (DOMAIN.md, "Who may see what")."""
