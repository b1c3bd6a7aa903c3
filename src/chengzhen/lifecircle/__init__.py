"""Life circles (生活圈): who reaches what within 5, 10, 15 and 30 minutes on the real road network,
and where to build.

A pure library — no Django imports — usable from a notebook: ``from chengzhen.lifecircle import lib
as lc`` gives the small API (``read_network``, ``read_facilities``, ``read_homes``, ``read_sites``,
``measure``, ``cover``, ``site``, each returning a (Geo)DataFrame). Underneath: coordinate systems
(``crs``), the facility-type catalogue (``catalogue``), standards as presets (``presets``), the road
network as a graph with points snapped onto it (``network``), the measurement by one multi-source
shortest-path pass per facility type (``measure``), coverage (``coverage``), siting (``siting``) and
studies region by region (``regions``)."""
