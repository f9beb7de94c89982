"""GCP implementations of the five concerns. Import `components.gcp.kit` for the classes."""
