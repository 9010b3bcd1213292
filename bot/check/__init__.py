"""Live check (package init is filled in last)."""
