"""AWS implementations of the five concerns. Import `components.aws.kit` for the classes."""
