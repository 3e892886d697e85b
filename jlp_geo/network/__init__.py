"""Walk network: OSM ways and nodes -> compact arrays with terrain-aware travel times.

The network is built at *segment* level: every pair of consecutive OSM nodes of
a pedestrian-accessible way becomes one edge, in both directions (unless the
way carries ``oneway:foot``).  Ways are therefore split at every shared node
(junction), and each segment gets its own grade when a DEM is given.  All
lengths are measured in a metric analysis CRS (EPSG:4544 by default), never in
degrees or Web Mercator.

Walking speed
-------------
The default base speed is **60 m/min (3.6 km/h)**, read off the walking radii
of GB 50180-2018 (城市居住区规划设计标准): the 5-minute life circle's 300 m
gives 300/5 = 60 m/min; the 15-minute circle's 800-1000 m gives 53-67 m/min
(60 m/min sits in the middle); the 10-minute circle's 500 m gives 50 m/min
(the standard's radii are straight-line planning radii, so they do not pin the
speed down exactly).  Pass ``speed_m_per_min`` to use another value.

Hills (DEM)
-----------
With a DEM, each *directed* edge gets the grade ``g = dz / horizontal length``
and the speed::

    speed(g) = base * tobler(g) / tobler(0),   tobler(g) = 6 exp(-3.5 |g + 0.05|) km/h

i.e. Tobler's hiking function normalised so that flat ground gives exactly the
base speed (Tobler's own flat speed, 5.04 km/h, is not used).  Uphill and
downhill differ (anisotropic), so ``u -> v`` and ``v -> u`` carry different
``time_s``; home -> service times therefore need the reversed graph, which
:mod:`jlp_geo.analysis.coverage` takes care of.

Structures (the DEM describes the ground, not the deck):

* bridges (``bridge=*`` other than ``no``) and tunnels (``tunnel=*`` other
  than ``no``): the DEM beneath the segment is ignored.  The grade of every
  segment of such a way is the way's *overall* grade between its first and last
  node, ``(z_last - z_first) / way length``, when both end nodes also belong to
  a non-structure way (they touch the ground, so the DEM is right there);
  otherwise (e.g. a bridge split into several ways) the grade is 0.
* elevators (``highway=elevator``, or a way with ``elevator=yes``): grade 0,
  i.e. the horizontal length at the base speed (no waiting time is added).
* steps (``highway=steps``): ``speed = base * min(steps_factor, tobler(g)/tobler(0))``
  with ``steps_factor = 0.5`` by default.  On a flight the DEM does not resolve
  (flat), steps are half as fast as level walking; where the terrain grade is so
  steep that Tobler is already slower, Tobler alone governs -- multiplying the
  two would count the climb twice.  0.5 is a working assumption (measured
  stair speeds are roughly half of level walking speeds), configurable.

Where a node's elevation is unknown (outside the DEM or nodata) its segments
are treated as flat; :attr:`WalkNetwork.meta` counts them.

Which ways are walkable
-----------------------
After OSMnx's ``walk`` network type (``osmnx._overpass._get_network_filter``):
a way needs ``highway``; it is dropped when ``highway`` matches
``abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|raceway|razed|rest_area|services``
(the same regular expression, searched as Overpass does), ``area=yes``,
``access=private``, ``foot=no``, ``service=private`` or any of
``sidewalk[:both|:left|:right]=separate`` (the sidewalk is mapped as its own
way, which is kept).  Tag values are compared exactly (split on ``;``), not as
unanchored regular expressions, so that e.g. ``foot=unknown`` is not read as
``foot=no``.  One addition for Chinese cities: ``highway=trunk`` /
``trunk_link`` (快速路, usually closed to pedestrians) is dropped unless it has a
sidewalk tag (``yes|both|left|right``) or ``foot=yes|designated|permissive``.
Walk ways are two-way, as in OSMnx; only ``oneway:foot`` is honoured.

Drive network (haul trucks): :func:`drive_network_from_osm` builds the same
arrays with the filter of :func:`drive_exclusion_reason`, one-way streets and a
flat :data:`DEFAULT_TRUCK_SPEED_KMH`.

Modules: :mod:`.filters` (which ways), :mod:`.segments` (ways -> segments),
:mod:`.terrain` (speed and DEM), :mod:`.graph` (the :class:`WalkNetwork`
container), :mod:`.walk` and :mod:`.drive` (the two builders).
"""

from __future__ import annotations

from .drive import DEFAULT_TRUCK_SPEED_KMH, drive_network_from_osm
from .filters import drive_exclusion_reason, walk_exclusion_reason
from .graph import OSM_SOURCE, WalkNetwork
from .terrain import DEFAULT_SPEED_M_PER_MIN, DEFAULT_STEPS_FACTOR, sample_dem, tobler_factor, tobler_speed_kmh
from .walk import walk_network_from_osm

__all__ = [
    "DEFAULT_SPEED_M_PER_MIN",
    "DEFAULT_STEPS_FACTOR",
    "DEFAULT_TRUCK_SPEED_KMH",
    "OSM_SOURCE",
    "WalkNetwork",
    "drive_exclusion_reason",
    "drive_network_from_osm",
    "sample_dem",
    "tobler_factor",
    "tobler_speed_kmh",
    "walk_exclusion_reason",
    "walk_network_from_osm",
]
