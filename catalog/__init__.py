"""The bottom layer every package may import: the config, the build manifest, the errors and
the CLI context. It imports nothing of products/, portfolio/ or localcloud/ (.importlinter)."""
