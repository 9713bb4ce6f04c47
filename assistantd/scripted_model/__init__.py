"""A deterministic, scriptable OpenAI-compatible model server for tests, benchmarks and demos."""

from assistantd.scripted_model.app import create_app
from assistantd.scripted_model.options import ScriptedModelOptions
from assistantd.scripted_model.script import Step
from assistantd.scripted_model.server import run

__all__ = ["ScriptedModelOptions", "Step", "create_app", "run"]
