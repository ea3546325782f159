"""aimport: automatic file-drop import service for contact-center administration."""

__version__ = "0.1.0"
