"""The `visa` entry point of visa-propagate: registers its built-in components."""
