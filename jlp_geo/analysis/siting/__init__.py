"""Where to add facilities (补短板): coverage-maximising siting with existing facilities fixed.

=====================  ==========================================================================
module                 question
=====================  ==========================================================================
:mod:`.sets`           which candidate reaches which demand node (sparse, bounded searches)
:mod:`.models`         MCLP: exact (HiGHS) and lazy greedy; demand merging, dominance
:mod:`.fewest`         LSCP and the fewest sites for a target share: exact and greedy
:mod:`.pmedian`        truncated p-median (least total walk): exact and lazy greedy
:mod:`.median`         p-median siting of one category
:mod:`.candidates`     where a new facility could go, and why (planner's file or candidate land)
:mod:`.parameters`     defaults and candidate land from ``layers/siting.yml``
:mod:`.analyse`        per category on top of a coverage analysis (:func:`analyse_siting`)
:mod:`.result`         the result objects (:class:`SitingResult`)
=====================  ==========================================================================
"""

from .analyse import analyse_siting, existing_nodes
from .candidates import (
    candidate_land_from_osm,
    candidates_from_file,
    candidates_from_land,
)
from .fewest import lscp_exact, min_sites_exact
from .models import CoverProblem, Solution, cover_problem, mclp_exact, mclp_greedy
from .parameters import SitingParameters, load_siting_parameters
from .pmedian import pmedian_exact, pmedian_greedy
from .result import CategorySiting, SitingResult
from .sets import CoverageSets, coverage_sets, covered_nodes

__all__ = [
    "CategorySiting",
    "CoverProblem",
    "CoverageSets",
    "SitingParameters",
    "SitingResult",
    "Solution",
    "analyse_siting",
    "candidate_land_from_osm",
    "candidates_from_file",
    "candidates_from_land",
    "cover_problem",
    "coverage_sets",
    "covered_nodes",
    "existing_nodes",
    "load_siting_parameters",
    "lscp_exact",
    "mclp_exact",
    "mclp_greedy",
    "min_sites_exact",
    "pmedian_exact",
    "pmedian_greedy",
]
