"""HTML reports rendered from Jinja2 templates (outputs: consume analysis result objects only).

* :mod:`~jlp_geo.reports.indicators` -- the plan-indicator report ``report.html`` and its tables;
* :mod:`~jlp_geo.reports.indicator_sections` -- what each indicator section of it shows;
* :mod:`~jlp_geo.reports.waste` -- the construction-waste brief ``waste_report.html``;
* :mod:`~jlp_geo.reports.charts` -- the inline SVG charts both reports use;
* :mod:`~jlp_geo.reports.format` -- how numbers, gaps and sources are written;
* :mod:`~jlp_geo.reports.templating` -- the Jinja2 environment (``templates/``) and its escaping.
"""
