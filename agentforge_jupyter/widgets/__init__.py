"""Notebook displays of runs and registries, built on the event stream."""
