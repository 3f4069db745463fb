"""Stage-1 constraint families: one module each, each with a stable human name."""
