"""Authentication (bearer tokens to a ``Principal``) and the one permission check."""

from .authenticate import Authenticator
from .permissions import require
from .principal import Principal
from .tokens import DEV_ISSUER, mint_development_token

__all__ = ["DEV_ISSUER", "Authenticator", "Principal", "mint_development_token", "require"]
