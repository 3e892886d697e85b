"""HTML reports rendered from Jinja2 templates (outputs: consume analysis result objects only)."""
