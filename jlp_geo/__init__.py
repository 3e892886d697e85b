"""jlp_geo — GIS toolkit for the spatial planning of Jiulongpo District (九龙坡区), Chongqing."""

from .config import Profile, load_profile
from .errors import CRSError, InputDataError, JlpGeoError, MissingInputError, OutputError, ProfileError

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "InputDataError",
    "JlpGeoError",
    "MissingInputError",
    "OutputError",
    "Profile",
    "ProfileError",
    "load_profile",
]
