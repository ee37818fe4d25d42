"""The provider's HTTP surface: thin FastAPI routes that parse, call one function, and respond."""
