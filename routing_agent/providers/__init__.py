"""providers.

Importing this package registers the ``simulated_profiles`` check with the config loader.
"""

from routing_agent.providers import config_checks as _config_checks  # noqa: F401  (registers the check)
