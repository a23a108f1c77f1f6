"""The `visa` entry point of visa-frame-select: registers its built-in components."""
