"""The example experiment configs, installed as ``routing_agent.configs`` (read with ``importlib.resources``)."""
