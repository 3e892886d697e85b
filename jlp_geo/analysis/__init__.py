"""Analyses: one module per question; each returns result objects and never writes files or HTML."""
