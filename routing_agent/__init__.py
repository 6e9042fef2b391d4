"""routing-agent: A/B-test LLM releases inside LangGraph multi-agent workflows on production traffic.

::

    from routing_agent import RoutingNode, RoutingState, instrument, load_experiments, routed_model

    experiments = load_experiments("configs/support.yaml")
    graph.add_node("route", RoutingNode(experiments, store="redis://localhost:6379/0"))
    def drafter(state, config):
        llm = routed_model(state, config)      # the unit's variant for this agent
    instrument(config=experiments, observations="redis://localhost:6379/0")

Everything public is listed in ``__all__`` (one line per name in ``__init__.pyi``) and imported lazily on
first use (PEP 562), so a worker that only routes never loads the statistics, report or CLI libraries.
Sub-packages hold the details (``routing_agent.stats``, ``routing_agent.scoring``, ``routing_agent.control``,
``routing_agent.stores``, …) and ``routing_agent.testing`` the test doubles.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)

__version__ = "0.1.0"
