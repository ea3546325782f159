"""Readers turn a file into sheets of raw rows, streaming, whatever wrote it."""

from aimport.readers.base import RawSheet, ReadError, Workbook
from aimport.readers.choose import open_workbook

__all__ = ["RawSheet", "ReadError", "Workbook", "open_workbook"]
