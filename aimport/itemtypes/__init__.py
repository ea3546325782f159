"""Declarative item types: one definition per import type, one generic engine."""

from aimport.itemtypes.catalog import CATALOG, Catalog
from aimport.itemtypes.schema import Field, ItemType

__all__ = ["CATALOG", "Catalog", "Field", "ItemType"]
