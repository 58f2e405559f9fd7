"""The old name of `llama_cpp_python_server` (llama-cpp-python's Python server, started for
tests and benchmarks), kept so that existing imports work."""

from syncse.synthesis.backends.llama_cpp_python_server import free_port
from syncse.synthesis.backends.llama_cpp_python_server import python_server as llama_server

__all__ = ["free_port", "llama_server"]
