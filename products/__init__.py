"""Product templates for the on-call tools: config, builders, build and versioning."""
