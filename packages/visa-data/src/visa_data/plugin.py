"""The `visa` entry point of visa-data: registers its built-in components."""
