"""A saved map's text as its reader sees it: folium writes the text of its GeoJSON layers \\u-escaped."""
from __future__ import annotations

import re
from pathlib import Path


def map_text(page_or_map) -> str:
    """The page (a saved file, or a folium map rendered) with each \\uXXXX escape written as its character:
    tooltips, names and colours searchable."""
    if hasattr(page_or_map, "get_root"):
        page = page_or_map.get_root().render()
    else:
        page = Path(page_or_map).read_text(encoding="utf-8")
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)), page)


def layer_features(fmap, name: str) -> list[dict]:
    """The point features (each with properties tip and style) the map's layer `name` draws."""
    import folium

    layer = next(child for child in fmap._children.values()
                 if isinstance(child, folium.FeatureGroup) and child.layer_name == name)
    return [feature for child in layer._children.values() if isinstance(child, folium.GeoJson)
            for feature in child.data["features"]]
