"""One module per tool type; each defines a products.spec.Product subclass."""
