"""Navigator's shared package: domain rules, data store and API plumbing."""
