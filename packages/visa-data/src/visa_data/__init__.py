"""visa-data: components registered with the `visa` plugin system."""
