"""Course modules (Markdown lessons) and the catalogue that lists them. Pure Python."""
