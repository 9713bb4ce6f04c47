"""A deterministic, scriptable OpenAI-compatible model server for tests, benchmarks and demos.

Each model name may speak a real backend's dialect of the chat-completions stream (Ollama, vLLM,
llama.cpp, LM Studio, TGI, Anthropic, Gemini, Groq, OpenRouter, Azure, OpenAI's reasoning
models): ``POST /_script`` with ``{"model": ..., "dialect": "ollama", "responses": [...]}``
sets it for that name from then on, ``--dialect`` for every name (default ``openai``). See
``dialects.py`` for what each one changes.
"""

from assistantd.scripted_model.app import create_app
from assistantd.scripted_model.options import ScriptedModelOptions
from assistantd.scripted_model.script import Step
from assistantd.scripted_model.server import run

__all__ = ["ScriptedModelOptions", "Step", "create_app", "run"]
