"""Exports of every list (GeoJSON, CSV, KML) and bulk imports through the one write path."""
