"""The `visa` entry point of visa-eval: registers its built-in components."""
