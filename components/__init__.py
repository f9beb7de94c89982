"""The environment template: reusable ComponentResource classes, one folder per target."""
