"""Reading and validating the governed catalog (dataset YAML files)."""
