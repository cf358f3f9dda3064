"""Pages of the support desk, one module per part: items (list, form, page, panel) and requests."""
