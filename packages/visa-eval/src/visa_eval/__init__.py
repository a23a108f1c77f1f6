"""visa-eval: components registered with the `visa` plugin system."""
