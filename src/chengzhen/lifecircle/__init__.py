"""Life circles (生活圈): who reaches what within 5, 10, 15 and 30 minutes on the real road network.

A pure library — no Django imports — usable from a notebook: coordinate systems (``crs``), the
facility-type catalogue (``catalogue``), standards as presets (``presets``), the road network as a
graph with points snapped onto it (``network``) and the measurement by one multi-source
shortest-path pass per facility type (``measure``)."""
