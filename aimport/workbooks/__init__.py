"""Workbooks aimport writes: templates, filled examples and the Configuration export."""
