"""Azure implementations of the five concerns. Import `components.azure.kit` for the classes."""
