"""Vendor-neutral machinery. Nothing in this package names a vendor."""
