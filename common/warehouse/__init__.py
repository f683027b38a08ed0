"""Warehouse backends behind one protocol; see `base` for the contract."""
