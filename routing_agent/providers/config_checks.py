"""The ``simulated_profiles`` section checked at load time (a dry run of what ``RoutingNode`` registers).

Importing ``routing_agent.providers`` registers ``profile_problems`` with the config loader
(``routing_agent.config.checks``); the profile registry itself is imported only when a config has profiles.
"""

from __future__ import annotations

__all__ = ["profile_problems"]

from collections.abc import Mapping
from typing import Any

from routing_agent.config.checks import register_profiles_check
from routing_agent.errors import ConfigIssue


def profile_problems(profiles: Mapping[str, Mapping[str, Any]]) -> list[ConfigIssue]:
    """The problems registering ``profiles`` as simulated profiles would raise."""
    from routing_agent.providers.profiles import profiles as registry

    return registry.check(profiles)


register_profiles_check("simulated_profiles", profile_problems)
